#!/usr/bin/env bash
# The README's test command.
#
#   deploy/test.sh          what CI runs (.ci/run): set-up, lint, the main build (Release,
#                           -Werror) and every test through ctest, a clang build of the libraries
#                           and daemons (-Werror, no tests), the unit and integration tests again
#                           under ASan + UBSan, then the fuzz quick tier.
#   deploy/test.sh --quick  the development loop: the main build directory (build type
#                           $CONTAIND_BUILD_TYPE, default RelWithDebInfo) with what the unit and
#                           integration tests need, and only those tests (under 10 minutes here).
#
# Every stage prints its wall time ("== stage: ... (N s)"), so CI's log shows what each costs.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
quick=0
case "${1:-}" in
  --quick) quick=1 ;;
  "") ;;
  *) echo "usage: deploy/test.sh [--quick]" >&2; exit 2 ;;
esac

started=$(date +%s)
stage_start=$started
stage() {
  local now
  now=$(date +%s)
  [ -n "${stage_name:-}" ] && echo "== stage: $stage_name done ($((now - stage_start)) s)"
  stage_name="$1"
  stage_start=$now
  [ -n "$stage_name" ] && echo "== stage: $stage_name"
  return 0
}
build="${CONTAIND_BUILD_DIR:-$root/build}"
jobs="$(nproc)"

stage "set-up"
"$root/deploy/setup.sh"

if ((quick)); then
  stage "build (unit + integration targets)"
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="${CONTAIND_BUILD_TYPE:-RelWithDebInfo}" >/dev/null
  cmake --build "$build" -j "$jobs" --target containd_unit_integration_tests containd containd-sim containctl
  stage "unit + integration tests"
  (cd "$build" && ctest --output-on-failure -j "$jobs" --timeout 600 -L '^(unit|integration)$')
  stage ""
  echo "== quick: passed in $(($(date +%s) - started)) s (CI runs deploy/test.sh without --quick)"
  exit 0
fi

# Lint first: it is cheap and fails fast (clang-format on the files it covers, clang-tidy on a
# bounded set; deploy/lint.sh says which).
stage "lint"
"$root/deploy/lint.sh"

# The main build: Release (what users build) with -Werror; it runs every test.
stage "main build (gcc, Release, -Werror)"
CONTAIND_BUILD_TYPE=Release "$root/deploy/build.sh" -DCONTAIND_WERROR=ON
stage "all tests"
(cd "$build" && ctest --output-on-failure -j "$jobs" --timeout 600)

# clang: the libraries and the three executables compile warning-free with clang too (no tests:
# the gcc build ran them, and the fuzz targets below are clang-built). -O0 keeps it short.
stage "clang build (libraries + daemons, -Werror)"
clang_build="${CONTAIND_CLANG_BUILD_DIR:-$root/build-clang}"
clangxx="${CONTAIND_CLANG_CXX:-$(command -v clang++-14 || command -v clang++)}"
cmake -S "$root" -B "$clang_build" -G Ninja -DCMAKE_CXX_COMPILER="$clangxx" -DCMAKE_BUILD_TYPE=Debug \
  "-DCMAKE_CXX_FLAGS_DEBUG=-O0 -g0" -DCONTAIND_WERROR=ON -DCONTAIND_BUILD_TESTS=OFF -DCONTAIND_BUILD_BENCH=OFF >/dev/null
cmake --build "$clang_build" -j "$jobs" --target containd containd-sim containctl

# Sanitizers: the unit and integration tests again, built by gcc with ASan + UBSan in build-asan
# (no benchmarks, no system tests); any UBSan report aborts its test (-fno-sanitize-recover).
# Not run there: deploy_unit, deploy_prometheus and openapi_lint (shell and node checks of the
# systemd unit, the alert rules and the OpenAPI file, no C++ of ours runs in them; the main build
# above runs them).
stage "ASan + UBSan build and unit + integration tests"
asan="${CONTAIND_ASAN_BUILD_DIR:-$root/build-asan}"
# -O1 -g1 halves the compile time of the Asio/Beast-heavy units and keeps file:line in reports.
cmake -S "$root" -B "$asan" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" -DCONTAIND_SANITIZE=ON -DCONTAIND_BUILD_BENCH=OFF \
  -DCONTAIND_WERROR=ON >/dev/null
cmake --build "$asan" -j "$jobs" --target containd_unit_integration_tests
(cd "$asan" &&
  ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" \
  UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
  ctest --output-on-failure -j "$jobs" --timeout 900 -L '^(unit|integration)$' -E '^(deploy_unit|deploy_prometheus|openapi_lint)$')

# Fuzzing, quick tier: every libFuzzer target (clang, ASan + UBSan) for FUZZ_SECONDS (25) each,
# from the committed seeds and regression inputs. Longer runs: README "Fuzzing".
stage "fuzz quick tier"
"$root/tests/fuzz/run.sh"
stage ""
echo "== deploy/test.sh: passed in $(($(date +%s) - started)) s"
