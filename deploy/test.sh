#!/usr/bin/env bash
# The README's test command: set-up, build, every test through ctest, then the fuzz quick tier.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/deploy/setup.sh"
"$root/deploy/build.sh"
build="${CONTAIND_BUILD_DIR:-$root/build}"
(cd "$build" && ctest --output-on-failure -j "$(nproc)" --timeout 600)

# Fuzzing, quick tier: every libFuzzer target (clang, ASan + UBSan) for FUZZ_SECONDS (25) each,
# from the committed seeds and regression inputs. Longer runs: README "Fuzzing".
"$root/tests/fuzz/run.sh"
