# Graph client tests (the throwaway CA and the fake HTTPS server: containd::test_support).
containd_add_test(graph_test
  SOURCES unit/graph/secret_test.cpp unit/graph/odata_test.cpp unit/graph/result_test.cpp unit/graph/jwt_test.cpp
          unit/graph/pacer_test.cpp unit/graph/batch_test.cpp unit/graph/requests_test.cpp
  DEPS containd::graph containd::test_support OpenSSL::Crypto)

containd_add_test(graph_integration_test
  SOURCES integration/graph/https_client_test.cpp integration/graph/token_source_test.cpp
          integration/graph/client_test.cpp integration/graph/api_test.cpp
  DEPS containd::graph containd::test_support
  LABEL integration)

# The HTTPS client through a real CONNECT proxy (tinyproxy, installed by deploy/setup.sh).
containd_add_test(graph_proxy_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/integration/graph/proxy_test.cpp
  DEPS containd::graph containd_test_https
  LABEL integration)
