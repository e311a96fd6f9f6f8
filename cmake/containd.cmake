# Project-wide helpers. Everything is target-scoped: no global flags.

# Warnings (and sanitizers, when enabled) for one of our own targets.
# -Werror only with CONTAIND_WERROR (off by default, so a newer compiler's new warning never
# breaks a user's build; CI turns it on in deploy/test.sh). Flags only GCC knows are given to GCC
# only: clang warns about unknown -Wno-* options.
function(containd_set_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
    # GCC 12 reports a false mismatched-new-delete on Asio's coroutine frames at -O2
    # (awaitable_frame_base's sized operator delete); nothing of ours allocates that way.
    $<$<CXX_COMPILER_ID:GNU>:-Wno-mismatched-new-delete>
    # ... and false maybe-uninitialized inside nlohmann::json iterators at -O2.
    $<$<CXX_COMPILER_ID:GNU>:-Wno-maybe-uninitialized>
    # ... and, at -O3 (Release), false restrict warnings inside std::string's inlined memcpy
    # (PR 105329, fixed in GCC 13): they moved from file to file with every inlining change.
    $<$<AND:$<CXX_COMPILER_ID:GNU>,$<VERSION_LESS:$<CXX_COMPILER_VERSION>,13>>:-Wno-restrict>
    $<$<BOOL:${CONTAIND_WERROR}>:-Werror>)
  if(CONTAIND_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()

# A library module: containd_<name> with alias containd::<name>.
function(containd_add_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(containd_${name} STATIC ${ARG_SOURCES})
  add_library(containd::${name} ALIAS containd_${name})
  target_include_directories(containd_${name} PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/lib>)
  target_compile_features(containd_${name} PUBLIC cxx_std_20)
  target_link_libraries(containd_${name} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  containd_set_warnings(containd_${name})
  if(CONTAIND_SANITIZE)
    target_link_options(containd_${name} INTERFACE -fsanitize=address,undefined)
  endif()
endfunction()

# An executable of ours (daemon, CLI, simulator, benchmark).
function(containd_add_executable name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_features(${name} PRIVATE cxx_std_20)
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  containd_set_warnings(${name})
endfunction()

# A GoogleTest binary: one per module keeps rebuilds small.
function(containd_add_test name)
  cmake_parse_arguments(ARG "" "LABEL" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_features(${name} PRIVATE cxx_std_20)
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  containd_set_warnings(${name})
  if(NOT ARG_LABEL)
    set(ARG_LABEL unit)
  endif()
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS ${ARG_LABEL} TIMEOUT 300)
  # `cmake --build <dir> --target containd_unit_integration_tests` builds only what the unit and
  # integration labels run (the sanitizer build of deploy/test.sh uses it).
  if(ARG_LABEL STREQUAL "unit" OR ARG_LABEL STREQUAL "integration")
    if(NOT TARGET containd_unit_integration_tests)
      add_custom_target(containd_unit_integration_tests)
    endif()
    add_dependencies(containd_unit_integration_tests ${name})
  endif()
endfunction()
