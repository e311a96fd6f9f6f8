#!/usr/bin/env bash
# The README's test command: set-up, build, then every test through ctest.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/deploy/setup.sh"
"$root/deploy/build.sh"
build="${CONTAIND_BUILD_DIR:-$root/build}"
cd "$build"
ctest --output-on-failure -j "$(nproc)" --timeout 600
