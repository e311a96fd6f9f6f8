#!/usr/bin/env bash
# API benchmark (the issue's "API throughput" item): throughput and p50/p99 latency of
# `GET /v1/incidents/{id}` on loopback while 100 incidents run, next to nginx serving a static file
# of the same size on the same machine in the same run.
#
# Target: at least 5,000 requests/s and p99 under 10 ms. The script prints MET / NOT MET and the
# containd/nginx throughput ratio, and exits 0 either way: it is a benchmark, not a test (a shared
# machine makes timed tests flaky).
#
#   tests/bench/api_bench.sh
#
# Environment:
#   CONTAIND_BUILD_DIR   where containd was built (default: <repo>/build)
#   BENCH_DURATION       wrk duration per target (default: 10s)
#   BENCH_THREADS        wrk threads (default: 2)
#   BENCH_CONNECTIONS    wrk connections (default: 32)
#   BENCH_INCIDENTS      incidents submitted before measuring (default: 100)
#   BENCH_TIME_SCALE     the simulator's clock factor (default: 60, as deploy/demo.sh)
#   BENCH_KEEP=1         keep the temp work dir (config, database, logs) for inspection
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${CONTAIND_BUILD_DIR:-$root/build}"
containd="$build/daemon/containd"
duration="${BENCH_DURATION:-10s}"
threads="${BENCH_THREADS:-2}"
connections="${BENCH_CONNECTIONS:-32}"
incidents="${BENCH_INCIDENTS:-100}"
scale="${BENCH_TIME_SCALE:-60}"

say() { printf '== %s\n' "$*"; }
die() { printf 'api_bench: %s\n' "$*" >&2; exit 1; }

[ -x "$containd" ] || die "no containd at $containd (build it first, or set CONTAIND_BUILD_DIR)"

# --- 1. Tools: wrk and nginx (Debian 12 packages), installed non-interactively if missing. ------
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
need=()
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v jq >/dev/null 2>&1 || need+=(jq)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
if [ "${#need[@]}" -gt 0 ]; then
  say "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get install -y -q "${need[@]}" >/dev/null ||
    { "${sudo_cmd[@]}" apt-get update -q >/dev/null && "${sudo_cmd[@]}" apt-get install -y -q "${need[@]}" >/dev/null; }
fi
nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"

# --- 2. A throwaway containd: config as deploy/demo.sh writes it, random tokens, port 0. ---------
work="$(mktemp -d "${TMPDIR:-/tmp}/containd-api-bench.XXXXXX")"
chmod 700 "$work"
daemon_pid=""
nginx_pid=""
cleanup() {
  # SIGTERM lets containd shut down cleanly (it stops its engine and closes the database).
  if [ -n "$daemon_pid" ]; then
    kill -TERM "$daemon_pid" 2>/dev/null || true
    wait "$daemon_pid" 2>/dev/null || true
  fi
  if [ -n "$nginx_pid" ]; then
    kill -TERM "$nginx_pid" 2>/dev/null || true
    wait "$nginx_pid" 2>/dev/null || true
  fi
  if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "api_bench: work dir kept: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
cd "$work"

. "$root/deploy/lib/demo-daemon.sh"
write_demo_config "$root" "$scale"
start_containd "$containd" || die "containd did not start (its stderr is above)"
say "containd $url (simulated tenant, clock x$scale), work dir $work"

# --- 3. 100 incidents, submitted concurrently-running: the seeds' body, a distinct external_ref each.
say "submitting $incidents incidents"
id=""
for n in $(seq "$incidents"); do
  jq -c --arg ref "BENCH-API-$n" '.external_ref = $ref' "$root/config/demo/incident.json" >body.json
  code="$(curl -sS -o resp.json -w '%{http_code}' -X POST "$url/v1/incidents" \
    -H "Authorization: Bearer $submitter_token" -H 'Content-Type: application/json' --data-binary @body.json)"
  [ "$code" = 201 ] || { cat resp.json >&2; die "submission $n: HTTP $code, expected 201"; }
  # The first one is measured: it has been in flight the longest, so its document is the largest.
  [ -n "$id" ] || id="$(jq -r .id resp.json)"
done
[ -n "$id" ] && [ "$id" != null ] || die "no incident id in the 201 response"

# In flight = running or verifying (at x60 containment takes seconds, then the +15/+30/+60 min
# checks are 15/30/60 s of real time away, so most incidents are 'verifying' while we measure).
count_status() {
  curl -sS -H "Authorization: Bearer $operator_token" "$url/v1/incidents?status=$1&limit=200" |
    jq '.incidents | length'
}
in_flight() {
  local r v w a c
  r="$(count_status running)"; v="$(count_status verifying)"; w="$(count_status waiting_approval)"
  a="$(count_status needs_attention)"; c="$(count_status contained)"
  printf 'running %s + verifying %s = in flight %s of %s (waiting_approval %s, needs_attention %s, contained %s)' \
    "$r" "$v" "$((r + v))" "$incidents" "$w" "$a" "$c"
}
# From /metrics (no token): the engine's step attempts so far, and the API's own time spent on
# GET /v1/incidents/{id} (sum and count of its latency histogram, until the response is ready).
metric() {
  curl -sS "$url/metrics" | awk -v m="$1" 'index($0, m) == 1 { print $NF; found = 1 } END { if (!found) print 0 }' |
    head -n 1
}
steps_attempted() { metric 'containd_engine_step_attempts_total'; }
get_seconds() { metric 'containd_api_request_duration_seconds_sum{route="/v1/incidents/{id}"}'; }
get_count() { metric 'containd_api_request_duration_seconds_count{route="/v1/incidents/{id}"}'; }

# --- 4. The same bytes from nginx: a static file as large as the incident document. -------------
curl -sS -o incident.body -H "Authorization: Bearer $operator_token" "$url/v1/incidents/$id"
size="$(wc -c <incident.body)"
mkdir -p nginx/www nginx/logs nginx/tmp
head -c "$size" /dev/zero | tr '\0' 'x' >nginx/www/incident.json
# A free loopback port: ask the kernel for one (bind to port 0), then hand it to nginx.
nginx_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
  echo $((20000 + RANDOM % 20000)))"
# worker_processes 1: containd serves its API (sockets, parsing, cached views) from one network
# thread, so nginx gets one worker too.
# As root, nginx would hand its worker to an unprivileged user that cannot enter the 0700 work
# dir: keep the worker as the current user (the directive is only allowed, and needed, as root).
user_line=""
[ "$(id -u)" -ne 0 ] || user_line="user $(id -un) $(id -gn);"
cat >nginx/nginx.conf <<EOF
$user_line
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_timeout 65;
  keepalive_requests 1000000;
  client_body_temp_path $work/nginx/tmp/body;
  proxy_temp_path $work/nginx/tmp/proxy;
  fastcgi_temp_path $work/nginx/tmp/fastcgi;
  uwsgi_temp_path $work/nginx/tmp/uwsgi;
  scgi_temp_path $work/nginx/tmp/scgi;
  default_type application/json;
  server {
    listen 127.0.0.1:$nginx_port;
    root $work/nginx/www;
  }
}
EOF
# Run as the current user, in the foreground of its own background job (no root, no daemonising).
"$nginx_bin" -c "$work/nginx/nginx.conf" -p "$work/nginx" -g 'daemon off;' 2>nginx/logs/stderr.log &
nginx_pid=$!
nginx_url="http://127.0.0.1:$nginx_port/incident.json"
for _ in $(seq 50); do
  curl -sf -o /dev/null "$nginx_url" && break
  kill -0 "$nginx_pid" 2>/dev/null || { cat nginx/logs/stderr.log nginx/logs/error.log >&2; die "nginx did not start"; }
  sleep 0.1
done
[ "$(curl -sS "$nginx_url" | wc -c)" = "$size" ] || die "nginx does not serve the $size-byte file"

# --- 5. wrk against both; parse Requests/sec and the 50%/99% latency lines. ---------------------
# wrk prints latencies as e.g. 812.00us, 3.21ms, 1.02s: convert to milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v; sub(/[a-z]+$/, "", n); u = v; sub(/^[0-9.]+/, "", u)
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
    printf "%.2f", n }'
}
run_wrk() {  # $1 label, $2 url, rest: extra wrk args; sets rps, p50, p99, and keeps the raw output
  local label="$1" target="$2"
  shift 2
  # --timeout 10s: wrk drops a response slower than its 2 s default from the latency figures
  # (it only counts a "timeout" socket error), which would flatter a slow server's p99.
  wrk -t"$threads" -c"$connections" -d"$duration" --timeout 10s --latency "$@" "$target" >"wrk-$label.txt"
  rps="$(awk '/^Requests\/sec:/ {print $2}' "wrk-$label.txt")"
  p50="$(to_ms "$(awk '$1 == "50%" {print $2}' "wrk-$label.txt")")"
  p99="$(to_ms "$(awk '$1 == "99%" {print $2}' "wrk-$label.txt")")"
  # Any non-2xx/3xx response (401, 404, 5xx) would make the figures meaningless: say so.
  if grep -q 'Non-2xx or 3xx responses' "wrk-$label.txt"; then
    printf 'api_bench: WARNING: %s: %s\n' "$label" "$(grep 'Non-2xx' "wrk-$label.txt")" >&2
  fi
  if grep -q 'Socket errors' "wrk-$label.txt"; then
    printf 'api_bench: WARNING: %s: %s\n' "$label" "$(grep 'Socket errors' "wrk-$label.txt")" >&2
  fi
}

before="$(in_flight)"
steps_before="$(steps_attempted)"
sum_before="$(get_seconds)" count_before="$(get_count)"
say "incidents before the measurement: $before"
say "wrk -t$threads -c$connections -d$duration --timeout 10s --latency: containd GET /v1/incidents/$id ($size bytes)"
run_wrk containd "$url/v1/incidents/$id" -H "Authorization: Bearer $operator_token"
c_rps="$rps" c_p50="$p50" c_p99="$p99"
steps_after="$(steps_attempted)"
sum_after="$(get_seconds)" count_after="$(get_count)"
after="$(in_flight)"
say "incidents after the measurement:  $after"
# Mean time containd itself spent per GET (its histogram), i.e. the CPU cost of one response on
# its single thread: 1000 / this is the most requests/s it can serve, whatever the client does.
handler_ms="$(awk -v s0="$sum_before" -v s1="$sum_after" -v n0="$count_before" -v n1="$count_after" \
  'BEGIN { if (n1 > n0) printf "%.3f", (s1 - s0) * 1000 / (n1 - n0); else print "n/a" }')"
say "wrk -t$threads -c$connections -d$duration --timeout 10s --latency: nginx static file ($size bytes)"
run_wrk nginx "$nginx_url"
n_rps="$rps" n_p50="$p50" n_p99="$p99"

# --- 6. The table, the ratio, the verdict. -------------------------------------------------------
echo
echo "API benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores ($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)),"
echo "loopback, wrk -t$threads -c$connections -d$duration --timeout 10s, response body $size bytes, both servers on one thread"
echo "(containd serves its API from one network thread, beside the engine's; nginx runs with worker_processes 1 to match)"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews both rows)"
printf '%-36s | %12s | %8s | %8s\n' target requests/s "p50 ms" "p99 ms"
printf '%-36s-+-%12s-+-%8s-+-%8s\n' "------------------------------------" "------------" "--------" "--------"
printf '%-36s | %12s | %8s | %8s\n' "containd GET /v1/incidents/{id}" "$c_rps" "$c_p50" "$c_p99"
printf '%-36s | %12s | %8s | %8s\n' "nginx static file (same size)" "$n_rps" "$n_p50" "$n_p99"
echo
ratio="$(awk -v c="$c_rps" -v n="$n_rps" 'BEGIN { if (n > 0) printf "%.3f", c / n; else print "n/a" }')"
echo "containd/nginx throughput ratio: $ratio"
echo "containd's own mean time per GET (from /metrics): $handler_ms ms"
echo "incidents before the measurement: $before"
echo "incidents after the measurement:  $after"
echo "engine step attempts during the measurement: $((steps_after - steps_before))"
rps_ok="$(awk -v c="$c_rps" 'BEGIN { print (c >= 5000) ? "MET" : "NOT MET" }')"
p99_ok="$(awk -v p="$c_p99" 'BEGIN { print (p < 10) ? "MET" : "NOT MET" }')"
echo "target >= 5000 requests/s: $rps_ok ($c_rps)"
echo "target p99 < 10 ms:        $p99_ok ($c_p99 ms)"
if [ "$rps_ok" = MET ] && [ "$p99_ok" = MET ]; then echo "targets: MET"; else echo "targets: NOT MET"; fi
exit 0
