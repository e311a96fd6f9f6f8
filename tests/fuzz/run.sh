#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for a bounded time.
#   tests/fuzz/run.sh                      quick tier (CI): 25 s per target
#   FUZZ_SECONDS=3600 tests/fuzz/run.sh    longer run; FUZZ_TARGETS="fuzz_odata" to pick targets
#   FUZZ_SEED=1234 ...                     replay a run's mutation sequence (printed below)
# Each run starts from the committed seeds (corpus/<name>) and the inputs of bugs fixed before
# (regressions/<name>), plus what earlier local runs found (build dir, not committed). A crash or
# a violated property fails the script and prints the command that replays the saved input.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${CONTAIND_FUZZ_BUILD_DIR:-$root/build-fuzz}"
seconds="${FUZZ_SECONDS:-25}"
seed="${FUZZ_SEED:-$(( $(date +%s) % 100000 + 1 ))}"
targets=(${FUZZ_TARGETS:-fuzz_submission fuzz_config fuzz_odata fuzz_graph_json fuzz_graph_text})
cxx="${FUZZ_CXX:-$(command -v clang++-14 || command -v clang++)}"

launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$here" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" "${launcher[@]}" >/dev/null
cmake --build "$build" -j "${FUZZ_JOBS:-$(nproc)}" --target "${targets[@]}"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
failed=()
for t in "${targets[@]}"; do
  name="${t#fuzz_}"
  work="$build/corpus/$name"
  artifacts="$build/artifacts/$name"
  mkdir -p "$work" "$artifacts/earlier"
  # Inputs saved by an earlier failed run are kept aside, so only this run's are reported.
  find "$artifacts" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) \
    -exec mv {} "$artifacts/earlier/" \;
  dirs=("$work" "$here/corpus/$name")
  [ -d "$here/regressions/$name" ] && dirs+=("$here/regressions/$name")
  args=(-max_total_time="$seconds" -seed="$seed" -timeout=10 -rss_limit_mb=2048 -max_len=8192
        -artifact_prefix="$artifacts/" -print_final_stats=1)
  case "$name" in submission|config|graph_json) args+=(-dict="$here/dict/json.dict") ;; esac
  echo "fuzz: $t for ${seconds}s, seed $seed"
  start=$(date +%s)
  if "$build/$t" "${args[@]}" "${dirs[@]}" >"$artifacts/log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$artifacts/log" | grep -o '[0-9]*$' || echo '?')
    echo "fuzz: $t ok: $runs inputs in $(( $(date +%s) - start ))s; corpus $(ls "$work" | wc -l) files"
  else
    failed+=("$t")
    echo "fuzz: $t FAILED (log $artifacts/log):"
    grep -E -A3 'PROPERTY VIOLATED|ERROR: |runtime error|SUMMARY' "$artifacts/log" | head -30 || true
    for crash in "$artifacts"/crash-* "$artifacts"/leak-* "$artifacts"/timeout-* "$artifacts"/oom-*; do
      [ -e "$crash" ] || continue
      echo "fuzz: replay: $build/$t $crash"
      echo "fuzz: keep it as a regression: cp $crash $here/regressions/$name/"
    done
    echo "fuzz: rerun: FUZZ_SEED=$seed FUZZ_SECONDS=$seconds FUZZ_TARGETS=$t $here/run.sh"
  fi
done
if ((${#failed[@]})); then
  echo "fuzz: FAILED: ${failed[*]}"
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets passed (${seconds}s each, seed $seed)"
