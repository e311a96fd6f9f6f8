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
