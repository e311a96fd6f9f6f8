# Graph client tests. The HTTPS test support (throwaway CA + fake HTTPS server) is a small
# library other suites may link too.
add_library(containd_test_https STATIC
  ${CMAKE_CURRENT_LIST_DIR}/support/test_tls.cpp
  ${CMAKE_CURRENT_LIST_DIR}/support/fake_https_server.cpp)
target_include_directories(containd_test_https PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_compile_features(containd_test_https PUBLIC cxx_std_20)
target_link_libraries(containd_test_https PUBLIC containd::asio nlohmann_json::nlohmann_json OpenSSL::SSL OpenSSL::Crypto)
containd_set_warnings(containd_test_https)

containd_add_test(graph_test
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/unit/graph/secret_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/unit/graph/odata_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/unit/graph/result_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/unit/graph/jwt_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/unit/graph/pacer_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/unit/graph/batch_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/unit/graph/requests_test.cpp
  DEPS containd::graph containd_test_https OpenSSL::Crypto)

containd_add_test(graph_integration_test
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/integration/graph/https_client_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/integration/graph/token_source_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/integration/graph/client_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/integration/graph/api_test.cpp
  DEPS containd::graph containd_test_https
  LABEL integration)

# The HTTPS client through a real CONNECT proxy (tinyproxy, installed by deploy/setup.sh).
containd_add_test(graph_proxy_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/integration/graph/proxy_test.cpp
  DEPS containd::graph containd_test_https
  LABEL integration)
