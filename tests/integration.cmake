# Integration: the engine with the real Graph runners against the simulated tenant on loopback.
if(TARGET containd_sim AND TARGET containd_runners)
  containd_add_test(containment_test
    SOURCES integration/containment/containment_test.cpp
    DEPS containd::runners containd::graph containd::sim
    LABEL integration)
  target_compile_definitions(containment_test PRIVATE CONTAIND_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
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

# Integration: the remaining end-to-end scenarios of the issue (persistence, non-CAE tokens, a
# compromised break-glass account, an apostrophe in a UPN, seeded faults).
if(TARGET containd_sim AND TARGET containd_runners)
  containd_add_test(containment_scenarios_test
    SOURCES integration/containment/scenarios_test.cpp
    DEPS containd::runners containd::graph containd::sim
    LABEL integration)
  target_compile_definitions(containment_scenarios_test PRIVATE CONTAIND_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
endif()

# Integration: issue 10's verification scenarios (a)-(f): the real verification runner and
# engine against the simulated tenant's realistic logs (ingestion delays, token lifetimes, CAE,
# legacy clients, paths the block misses). Seeds printed; CONTAIND_VERIFY_SEED replays one.
if(TARGET containd_sim AND TARGET containd_runners)
  containd_add_test(containment_verification_test
    SOURCES integration/containment/verification_test.cpp
    DEPS containd::runners containd::graph containd::sim
    LABEL integration)
  target_compile_definitions(containment_verification_test PRIVATE CONTAIND_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
endif()

# Integration: storage faults (a SQLite VFS failing writes and syncs) under the real store,
# engine and API: no 2xx for what did not commit, 503 and not ready while the disk fails,
# recovery without a restart once it works.
containd_add_test(storage_fault_test
  SOURCES integration/storage/storage_fault_test.cpp support/api_client.cpp
  DEPS containd::api containd::engine containd::store containd::asio SQLite::SQLite3 OpenSSL::SSL OpenSSL::Crypto
  LABEL integration)

# Integration: issue 11's ways forward (partial containment, checks on time, accounts added,
# release from any state after the block, recovery in the audit trail).
if(TARGET containd_sim AND TARGET containd_runners)
  containd_add_test(containment_ways_forward_test
    SOURCES integration/containment/ways_forward_test.cpp
    DEPS containd::runners containd::graph containd::sim
    LABEL integration)
  target_compile_definitions(containment_ways_forward_test PRIVATE CONTAIND_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
endif()
