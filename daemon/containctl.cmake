# containctl: the REST API's command-line client. Its pure parts (URLs, SSE parsing, progress,
# tables, exit codes) live in containd_ctl so ctl_test can test them without a daemon.
find_package(CLI11 CONFIG REQUIRED)

add_library(containd_ctl STATIC ${CMAKE_CURRENT_LIST_DIR}/ctl/ctl.cpp)
target_include_directories(containd_ctl PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_compile_features(containd_ctl PUBLIC cxx_std_20)
target_link_libraries(containd_ctl PUBLIC nlohmann_json::nlohmann_json)
containd_set_warnings(containd_ctl)

containd_add_executable(containctl
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/containctl.cpp ${CMAKE_CURRENT_LIST_DIR}/ctl/http.cpp
  DEPS containd_ctl containd::core containd::asio CLI11::CLI11)
target_compile_definitions(containctl PRIVATE CONTAIND_VERSION="${PROJECT_VERSION}")

if(CONTAIND_BUILD_TESTS)
  find_package(GTest REQUIRED)
  include(GoogleTest)
  enable_testing()  # the top level enables it only after daemon/ is processed
  containd_add_test(ctl_test
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/ctl/ctl_test.cpp
    DEPS containd_ctl
    LABEL unit)
endif()
