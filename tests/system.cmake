# System tests: the real containd and containd-sim binaries on loopback (processes, signals,
# SIGKILL and restart). They need both executables.
if(TARGET containd AND TARGET containd-sim)
  containd_add_test(daemon_system_test
    SOURCES system/daemon_test.cpp support/api_client.cpp
    DEPS containd::store containd::core containd::asio OpenSSL::SSL OpenSSL::Crypto
    LABEL system)
  target_compile_definitions(daemon_system_test PRIVATE
    CONTAIND_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    CONTAIND_EXE="$<TARGET_FILE:containd>"
    CONTAIND_SIM_EXE="$<TARGET_FILE:containd-sim>")
  add_dependencies(daemon_system_test containd containd-sim)
endif()

# The API under abuse, secret hygiene and the upstream chaos soak: the real binaries again
# (tests/support/system_fixture.hpp).
if(TARGET containd AND TARGET containd-sim)
  foreach(t api_abuse secret_hygiene chaos_soak)
    containd_add_test(${t}_system_test
      SOURCES system/${t}_test.cpp support/api_client.cpp
      DEPS containd::graph containd::store containd::core containd::asio OpenSSL::SSL OpenSSL::Crypto
      LABEL system)
    target_compile_definitions(${t}_system_test PRIVATE
      CONTAIND_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
      CONTAIND_EXE="$<TARGET_FILE:containd>"
      CONTAIND_SIM_EXE="$<TARGET_FILE:containd-sim>")
    add_dependencies(${t}_system_test containd containd-sim)
  endforeach()
endif()

# The fault suites (RELIABILITY.md: crash points, I/O errors, timers) against the real binaries.
# storage_fault_shim is an LD_PRELOAD library for the daemon only: storage faults switched on
# and off at run time, and SIGKILL at the Nth sync, on the database's files alone.
if(TARGET containd AND TARGET containd-sim)
  add_library(storage_fault_shim MODULE system/storage_fault_shim.cpp)
  target_compile_features(storage_fault_shim PRIVATE cxx_std_20)
  target_link_libraries(storage_fault_shim PRIVATE ${CMAKE_DL_LIBS})
  containd_set_warnings(storage_fault_shim)

  foreach(suite storage_faults crash_points timers)
    containd_add_test(${suite}_system_test
      SOURCES system/${suite}_test.cpp support/api_client.cpp
      DEPS containd::store containd::core containd::asio OpenSSL::SSL OpenSSL::Crypto
      LABEL system)
    target_compile_definitions(${suite}_system_test PRIVATE
      CONTAIND_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
      CONTAIND_EXE="$<TARGET_FILE:containd>"
      CONTAIND_SIM_EXE="$<TARGET_FILE:containd-sim>"
      CONTAIND_FAULT_SHIM="$<TARGET_FILE:storage_fault_shim>")
    add_dependencies(${suite}_system_test containd containd-sim storage_fault_shim)
  endforeach()
endif()

# Webhooks across a SIGKILL (lib/notify) and tenant health (daemon/health.hpp): the real binaries
# and a real HTTPS receiver in the test.
if(TARGET containd AND TARGET containd-sim AND TARGET containd_notify)
  foreach(t notify tenant_health)
    containd_add_test(${t}_system_test
      SOURCES system/${t}_test.cpp support/api_client.cpp
      DEPS containd::notify containd::store containd::core containd::asio containd_test_https OpenSSL::SSL OpenSSL::Crypto
      LABEL system)
    target_compile_definitions(${t}_system_test PRIVATE
      CONTAIND_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
      CONTAIND_EXE="$<TARGET_FILE:containd>"
      CONTAIND_SIM_EXE="$<TARGET_FILE:containd-sim>")
    add_dependencies(${t}_system_test containd containd-sim)
  endforeach()
endif()
