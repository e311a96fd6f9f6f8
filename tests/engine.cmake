containd_add_test(engine_test
  SOURCES unit/engine/retry_policy_test.cpp unit/engine/engine_test.cpp
  DEPS containd::engine)
