containd_add_test(engine_test
  SOURCES unit/engine/retry_policy_test.cpp unit/engine/engine_test.cpp
  DEPS containd::engine)

# The pure scheduler: no database, no sockets, no clock.
containd_add_test(scheduler_test
  SOURCES unit/engine/scheduler_test.cpp
  DEPS containd::scheduler)

# The emergency policy's standing snapshot and drift (pure parts of lib/runners/policy_keeper).
if(TARGET containd_runners)
  containd_add_test(policy_keeper_test
    SOURCES unit/runners/policy_keeper_test.cpp
    DEPS containd::runners)
endif()
