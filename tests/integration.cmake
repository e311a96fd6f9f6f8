# Integration: the engine with the real Graph runners against the simulated tenant on loopback,
# one binary per file of integration/containment/:
# - containment: the walkthrough; scenarios: the remaining end-to-end scenarios of the issues
#   (persistence, non-CAE tokens, a compromised break-glass account, an apostrophe in a UPN,
#   seeded faults);
# - verification: issue 10's scenarios (a)-(f), the real verification runner against the
#   simulated tenant's realistic logs (ingestion delays, token lifetimes, CAE, legacy clients,
#   paths the block misses); seeds printed, CONTAIND_VERIFY_SEED replays one;
# - ways_forward: issue 11 (partial containment, checks on time, accounts added, release from any
#   state after the block, recovery in the audit trail).
if(TARGET containd_sim AND TARGET containd_runners)
  foreach(t containment scenarios verification ways_forward)
    set(_name containment_${t}_test)
    if(t STREQUAL "containment")
      set(_name containment_test)
    endif()
    containd_add_test(${_name}
      SOURCES integration/containment/${t}_test.cpp
      DEPS containd::runners containd::graph containd::sim
      LABEL integration)
    target_compile_definitions(${_name} PRIVATE CONTAIND_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  endforeach()
endif()

# Graph contract of the client: every request body of the full walkthrough containment against
# Microsoft's v1.0 CSDL (the checker library is declared in sim.cmake).
if(TARGET containd_sim AND TARGET containd_runners AND TARGET containd_csdl_contract)
  containd_add_test(containment_contract_test
    SOURCES integration/containment/contract_test.cpp
    DEPS containd::runners containd::graph containd::sim containd_csdl_contract
    LABEL integration)
  target_compile_definitions(containment_contract_test PRIVATE
    CONTAIND_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    CONTAIND_GRAPH_CSDL="${CONTAIND_GRAPH_CSDL}")
endif()

# Integration: storage faults (a SQLite VFS failing writes and syncs) under the real store,
# engine and API: no 2xx for what did not commit, 503 and not ready while the disk fails,
# recovery without a restart once it works.
containd_add_test(storage_fault_test
  SOURCES integration/storage/storage_fault_test.cpp
  DEPS containd::api containd::engine containd::store containd::test_support SQLite::SQLite3
  LABEL integration)
