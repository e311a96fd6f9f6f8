# The daemon: containd (thin main) over a small wiring library the system tests link too.
if(NOT TARGET containd_api)
  return()  # lib/api is not part of this tree yet
endif()
find_package(CLI11 CONFIG REQUIRED)
add_library(containd_daemon STATIC ${CMAKE_CURRENT_LIST_DIR}/app.cpp ${CMAKE_CURRENT_LIST_DIR}/tenants.cpp
                            ${CMAKE_CURRENT_LIST_DIR}/health.cpp)
target_compile_features(containd_daemon PUBLIC cxx_std_20)
target_include_directories(containd_daemon PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(containd_daemon PUBLIC containd::api containd::config containd::runners containd::graph
                                             containd::sim containd::engine containd::store containd::notify containd::asio)
containd_set_warnings(containd_daemon)
target_compile_definitions(containd_daemon PRIVATE CONTAIND_VERSION="${PROJECT_VERSION}")

containd_add_executable(containd SOURCES ${CMAKE_CURRENT_LIST_DIR}/containd.cpp DEPS containd_daemon CLI11::CLI11)
target_compile_definitions(containd PRIVATE CONTAIND_VERSION="${PROJECT_VERSION}")
# sd_notify for the unit's Type=notify (libsystemd-dev, deploy/setup.sh). Without it containd
# still builds and runs; the unit then needs Type=exec.
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(containd_libsystemd IMPORTED_TARGET libsystemd)
endif()
if(containd_libsystemd_FOUND)
  target_link_libraries(containd PRIVATE PkgConfig::containd_libsystemd)
  target_compile_definitions(containd PRIVATE CONTAIND_HAVE_SYSTEMD)
else()
  message(WARNING "libsystemd not found: containd will not notify systemd (deploy/containd.service has Type=notify)")
endif()

if(CONTAIND_BUILD_TESTS)
  find_package(GTest REQUIRED)
  include(GoogleTest)
  enable_testing()  # the top level enables it only after daemon/ is processed
  containd_add_test(daemon_tenants_test
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/tenants_test.cpp ${CMAKE_CURRENT_LIST_DIR}/health_test.cpp
    DEPS containd_daemon
    LABEL unit)
endif()
