# System tests: the real containd and containd-sim binaries on loopback (processes, signals,
# SIGKILL and restart), all on one fixture (tests/support/system_fixture.hpp).
# - daemon: the seeds' incident through the REST API, the crash loop, SIGTERM.
# - api_abuse, secret_hygiene, chaos_soak: the API under abuse, secrets, the upstream chaos soak.
# - storage_faults, crash_points, timers: the fault suites (RELIABILITY.md: I/O errors, crash
#   points, timers). storage_fault_shim is an LD_PRELOAD library for the daemon only: storage
#   faults switched on and off at run time, and SIGKILL at the Nth sync, on the database's files.
# - safe_defaults: umask, file permissions, plaintext binds, TLS suites, token reload (issue 15).
# - verification: issue 10's verdict scenarios (a)-(f), each through containd and its built-in
#   simulated tenant on a 240x clock.
# - ways_forward: issue 11's ways forward (unknown UPN, failing cleanup, release, added accounts,
#   external_ref conflicts, the break-glass guard and its override), on the same built-in tenant.
# - tap: issue 11's TAP workflow (issued at reveal, valid at +70; TAP mode never reveals a password).
# - notify, tenant_health: webhooks across a SIGKILL (lib/notify) and tenant health
#   (daemon/health.hpp), with a real HTTPS webhook receiver in the test.
if(TARGET containd AND TARGET containd-sim)
  add_library(storage_fault_shim MODULE system/storage_fault_shim.cpp)
  target_compile_features(storage_fault_shim PRIVATE cxx_std_20)
  target_link_libraries(storage_fault_shim PRIVATE ${CMAKE_DL_LIBS})
  containd_set_warnings(storage_fault_shim)

  # notify and tenant_health also hold a real HTTPS webhook receiver (lib/notify).
  foreach(suite daemon api_abuse secret_hygiene chaos_soak storage_faults crash_points timers safe_defaults verification
                ways_forward tap notify tenant_health)
    set(_deps containd::graph containd::store containd::core containd::test_support)
    if(suite STREQUAL "notify" OR suite STREQUAL "tenant_health")
      list(PREPEND _deps containd::notify)
    endif()
    containd_add_test(${suite}_system_test
      SOURCES system/${suite}_test.cpp
      DEPS ${_deps}
      LABEL system)
    target_compile_definitions(${suite}_system_test PRIVATE
      CONTAIND_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
      CONTAIND_EXE="$<TARGET_FILE:containd>"
      CONTAIND_SIM_EXE="$<TARGET_FILE:containd-sim>"
      CONTAIND_FAULT_SHIM="$<TARGET_FILE:storage_fault_shim>")
    add_dependencies(${suite}_system_test containd containd-sim storage_fault_shim)
  endforeach()
endif()
