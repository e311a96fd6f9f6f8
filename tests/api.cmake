# The REST API in process: real store, real engine with scripted runners, the server on loopback.
containd_add_test(api_test
  SOURCES integration/api/api_test.cpp integration/api/router_test.cpp support/api_client.cpp
          support/test_tls.cpp
  DEPS containd::api containd::engine containd::store containd::asio OpenSSL::SSL OpenSSL::Crypto
  LABEL integration)
