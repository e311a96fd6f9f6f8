# Benchmarks print their figures; they are not tests (a shared machine makes timed tests flaky).
if(CONTAIND_BUILD_BENCH)
  containd_add_executable(engine_bench SOURCES bench/engine_bench.cpp DEPS containd::engine)
  target_include_directories(engine_bench PRIVATE ${PROJECT_SOURCE_DIR}/tests)
endif()
