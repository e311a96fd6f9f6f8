#!/usr/bin/env bash
# Every benchmark of the project, one after the other, into one results file and one chart:
#
#   tests/bench/run_all.sh
#
# 1. engine_bench: accept + plan + durable commit rate (vs bare SQLite commits), resume of
#    10,000 unfinished incidents and its peak RSS;
# 2. pipeline_bench: 1,000 incidents of 5 accounts through the whole pipeline, zero-latency
#    Graph, checks at +2/+4/+6 s on the real clock: total time and verification timer lateness;
# 3. containment_bench: time to containment against the simulated tenant (50 ms per request) for
#    5 to 1,000 accounts, next to the seeds' one-call-at-a-time script in the same run;
# 4. api_bench.sh: GET /v1/incidents/{id} while 100 incidents run, next to nginx.
#
# Writes tests/bench/RESULTS.md (tables, the machine, the load average before and after each
# step) and tests/bench/time_to_containment.png (gnuplot). Installs gnuplot-nox with apt when it
# is missing, and builds with deploy/build.sh first. Benchmarks, not tests: it exits 0 whatever
# the figures; the tables say MET / NOT MET against the targets.
#
# Environment: CONTAIND_BUILD_DIR (default build/), BENCH_ACCOUNTS (default 5,25,100,250,1000),
# BENCH_PIPELINE_INCIDENTS (default 1000), and api_bench.sh's own knobs.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${CONTAIND_BUILD_DIR:-$root/build}"
out_dir="$root/tests/bench"
results="$out_dir/RESULTS.md"
chart="$out_dir/time_to_containment.png"
accounts="${BENCH_ACCOUNTS:-5,25,100,250,1000}"
pipeline_incidents="${BENCH_PIPELINE_INCIDENTS:-1000}"

say() { printf '== %s\n' "$*" >&2; }

if ! command -v gnuplot >/dev/null 2>&1; then
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  say "installing gnuplot-nox (apt) for the chart"
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gnuplot-nox >/dev/null
fi
say "building (deploy/build.sh)"
CONTAIND_BUILD_DIR="$build" "$root/deploy/build.sh"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
load() { cut -d' ' -f1-3 /proc/loadavg; }

{
  echo "# Benchmark results"
  echo
  echo "Produced by \`tests/bench/run_all.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores,"
  echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), commit $(git -C "$root" rev-parse --short HEAD)."
  echo "Each section gives the load average before and after it: other work on the machine skews the"
  echo "figures (and their same-run baselines with them)."
  echo
} > "$work/results.md"

section() {  # title, command...
  local title="$1"
  shift
  say "$title"
  local before
  before="$(load)"
  local output
  output="$("$@" 2>"$work/stderr.log")" || true
  {
    echo "## $title"
    echo
    echo "\`$(printf '%s ' "$@" | sed "s|$root/||g")\` (load average before: $before, after: $(load))"
    echo
    echo "$output"
    echo
  } >> "$work/results.md"
}

section "Engine: accept rate and resume" "$build/tests/engine_bench"
section "Pipeline: $pipeline_incidents incidents x 5 accounts, zero-latency Graph" \
  "$build/tests/pipeline_bench" --incidents "$pipeline_incidents"
section "Time to containment vs the sequential script" \
  "$build/tests/containment_bench" --accounts "$accounts" --csv "$work/containment.csv"
section "API: GET /v1/incidents/{id} while 100 incidents run, vs nginx" \
  env CONTAIND_BUILD_DIR="$build" "$root/tests/bench/api_bench.sh"

if [ -s "$work/containment.csv" ]; then
  gnuplot <<EOF
set terminal pngcairo size 900,540 font ",11" noenhanced
set output "$chart"
set datafile separator ","
set key top left
set logscale x
set logscale y
set grid
set xlabel "accounts in the incident"
set ylabel "seconds to containment (block on, every session revoked)"
set title "Time to containment, simulated tenant with 50 ms per request ($(date -u +%Y-%m-%d), $(nproc) cores)"
plot "$work/containment.csv" every ::1 using 1:2 with linespoints lw 2 pt 7 title "containd", \
     "$work/containment.csv" every ::1 using 1:3 with linespoints lw 2 pt 5 dt 2 title "one call at a time (extrapolated above the measured sizes)"
EOF
  {
    echo "## Chart"
    echo
    echo "![time to containment against account count](time_to_containment.png)"
    echo
  } >> "$work/results.md"
fi

cp "$work/results.md" "$results"
say "wrote $results and $chart"
