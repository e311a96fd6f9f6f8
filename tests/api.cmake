# The REST API in process: real store, real engine with scripted runners, the server on loopback.
containd_add_test(api_test
  SOURCES integration/api/api_test.cpp integration/api/router_test.cpp
  DEPS containd::api containd::engine containd::store containd::test_support
  LABEL integration)
