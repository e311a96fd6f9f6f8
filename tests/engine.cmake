containd_add_test(engine_test
  SOURCES unit/engine/retry_policy_test.cpp unit/engine/engine_test.cpp
  DEPS containd::engine)

# The pure scheduler: no database, no sockets, no clock.
containd_add_test(scheduler_test
  SOURCES unit/engine/scheduler_test.cpp
  DEPS containd::scheduler)
