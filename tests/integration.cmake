# Integration: the engine with the real Graph runners against the simulated tenant on loopback.
if(TARGET containd_sim AND TARGET containd_runners)
  containd_add_test(containment_test
    SOURCES integration/containment/containment_test.cpp
    DEPS containd::runners containd::graph containd::sim
    LABEL integration)
  target_compile_definitions(containment_test PRIVATE CONTAIND_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
endif()
