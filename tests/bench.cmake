# Benchmarks print their figures; they are not tests (a shared machine makes timed tests flaky).
if(CONTAIND_BUILD_BENCH)
  containd_add_executable(engine_bench SOURCES bench/engine_bench.cpp DEPS containd::engine)
  target_include_directories(engine_bench PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  # The whole pipeline on the real clock with zero-latency (scripted) Graph: engine throughput
  # and verification timer lateness.
  containd_add_executable(pipeline_bench SOURCES bench/pipeline_bench.cpp DEPS containd::engine)
  target_include_directories(pipeline_bench PRIVATE ${PROJECT_SOURCE_DIR}/tests)
endif()

# Time to containment against the simulated tenant (real clock, injected latency), next to the
# seeds' one-call-at-a-time script measured in the same run.
if(CONTAIND_BUILD_BENCH AND TARGET containd_sim AND TARGET containd_runners)
  containd_add_executable(containment_bench SOURCES bench/containment_bench.cpp
    DEPS containd::runners containd::graph containd::sim containd::engine)
  target_include_directories(containment_bench PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  target_compile_definitions(containment_bench PRIVATE CONTAIND_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
endif()
