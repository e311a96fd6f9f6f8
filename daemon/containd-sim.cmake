# containd-sim: the simulated Microsoft tenant as a standalone process (demo, manual testing, the
# daemon's end-to-end runs). A thin main() over containd::sim.
find_package(CLI11 CONFIG REQUIRED)

containd_add_executable(containd-sim
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/containd-sim.cpp
  DEPS containd::sim containd::core CLI11::CLI11 Threads::Threads)
target_compile_definitions(containd-sim PRIVATE CONTAIND_VERSION="${PROJECT_VERSION}")
