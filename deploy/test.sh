#!/usr/bin/env bash
# The README's test command: set-up, build, every test through ctest, the unit and integration
# tests again under ASan + UBSan, then the fuzz quick tier.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/deploy/setup.sh"
"$root/deploy/build.sh"
build="${CONTAIND_BUILD_DIR:-$root/build}"
(cd "$build" && ctest --output-on-failure -j "$(nproc)" --timeout 600)

# Sanitizers: the unit and integration tests again, built by gcc with ASan + UBSan in build-asan
# (no benchmarks, no system tests); any UBSan report aborts its test (-fno-sanitize-recover).
# Not run there: deploy_unit, deploy_prometheus and openapi_lint (shell and node checks of the systemd unit, the alert rules and the
# OpenAPI file, no C++ of ours runs in them; the main build above runs them).
asan="${CONTAIND_ASAN_BUILD_DIR:-$root/build-asan}"
# -O1 -g1 halves the compile time of the Asio/Beast-heavy units and keeps file:line in reports.
cmake -S "$root" -B "$asan" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" -DCONTAIND_SANITIZE=ON -DCONTAIND_BUILD_BENCH=OFF >/dev/null
cmake --build "$asan" -j "$(nproc)" --target containd_unit_integration_tests
(cd "$asan" &&
  ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" \
  UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
  ctest --output-on-failure -j "$(nproc)" --timeout 900 -L '^(unit|integration)$' -E '^(deploy_unit|deploy_prometheus|openapi_lint)$')

# Fuzzing, quick tier: every libFuzzer target (clang, ASan + UBSan) for FUZZ_SECONDS (25) each,
# from the committed seeds and regression inputs. Longer runs: README "Fuzzing".
"$root/tests/fuzz/run.sh"
