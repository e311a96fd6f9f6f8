# Simulated tenant: pure parts (unit) and loopback HTTPS tests driven by a plain Beast client
# (integration). Paths are relative to this file so a partial build tree can include it too.
set(_sim_tests ${CMAKE_CURRENT_LIST_DIR})

containd_add_test(sim_unit_test
  SOURCES ${_sim_tests}/unit/sim/odata_test.cpp ${_sim_tests}/unit/sim/redaction_test.cpp
  DEPS containd::sim
  LABEL unit)

containd_add_test(sim_integration_test
  SOURCES ${_sim_tests}/integration/sim/server_token_test.cpp
          ${_sim_tests}/integration/sim/graph_endpoints_test.cpp
          ${_sim_tests}/integration/sim/logs_attacker_test.cpp
          ${_sim_tests}/integration/sim/batch_faults_test.cpp
          ${_sim_tests}/integration/sim/own_app_test.cpp
  DEPS containd::sim containd::test_support
  LABEL integration)
target_compile_definitions(sim_integration_test PRIVATE
  CONTAIND_SIM_SCENARIO="${_sim_tests}/../config/scenarios/bec-walkthrough.json")

if(TARGET containd-sim)
  containd_add_test(sim_exe_test
    SOURCES ${_sim_tests}/integration/sim/exe_test.cpp
    DEPS containd::test_support
    LABEL integration)
  target_compile_definitions(sim_exe_test PRIVATE
    CONTAIND_SIM_EXE="$<TARGET_FILE:containd-sim>"
    CONTAIND_SIM_SCENARIO="${_sim_tests}/../config/scenarios/bec-walkthrough.json")
  add_dependencies(sim_exe_test containd-sim)
endif()

# Graph contract: Microsoft's v1.0 CSDL ($metadata) as a checker (tests/support/csdl_contract), its
# own unit tests and every answer of the simulated tenant in the walkthrough scenario. When the
# CSDL file is absent the tests skip loudly (CONTAIND_GRAPH_CSDL in the top CMakeLists.txt).
find_package(pugixml QUIET)
if(TARGET pugixml::pugixml)
  set(_containd_pugixml pugixml::pugixml)
elseif(TARGET pugixml)
  set(_containd_pugixml pugixml)
else()
  find_package(PkgConfig QUIET)
  if(PkgConfig_FOUND)
    pkg_check_modules(containd_pugixml_pc IMPORTED_TARGET pugixml)
    if(containd_pugixml_pc_FOUND)
      set(_containd_pugixml PkgConfig::containd_pugixml_pc)
    endif()
  endif()
endif()
if(_containd_pugixml)
  add_library(containd_csdl_contract STATIC ${_sim_tests}/support/csdl_contract.cpp)
  target_compile_features(containd_csdl_contract PUBLIC cxx_std_20)
  target_include_directories(containd_csdl_contract PUBLIC ${_sim_tests})
  target_link_libraries(containd_csdl_contract PUBLIC nlohmann_json::nlohmann_json PRIVATE ${_containd_pugixml})
  containd_set_warnings(containd_csdl_contract)

  containd_add_test(sim_contract_test
    SOURCES ${_sim_tests}/integration/sim/contract_test.cpp
    DEPS containd::sim containd::test_support containd_csdl_contract
    LABEL integration)
  target_compile_definitions(sim_contract_test PRIVATE
    CONTAIND_GRAPH_CSDL="${CONTAIND_GRAPH_CSDL}"
    CONTAIND_SIM_SCENARIO="${_sim_tests}/../config/scenarios/bec-walkthrough.json")
else()
  message(WARNING "pugixml not found: the Graph contract tests (sim_contract_test, containment_contract_test) are not built")
endif()
