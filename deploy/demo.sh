#!/usr/bin/env bash
# The README's demo command: containd against its built-in simulated tenant (the seeds'
# walkthrough scenario), the seeds' incident submitted through the REST API, live progress through
# every phase and the +15/+30/+60 checks (the real schedule on a clock running 60x), one
# credential revealed as an operator would, the emergency block released, and the final report.
#
# Everything lives in build/demo/ (recreated on each run): config, database, vault key, logs.
# The API tokens and the tenant's client secret are random per run and exist only in that folder.
# While it runs it prints the dashboard's address (/ui/) and a viewer token for this run only.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${CONTAIND_BUILD_DIR:-$root/build}"
scale="${CONTAIND_DEMO_TIME_SCALE:-60}"

"$root/deploy/setup.sh"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="${CONTAIND_BUILD_TYPE:-RelWithDebInfo}" >/dev/null
cmake --build "$build" -j "$(nproc)" --target containd containctl

work="$build/demo"
rm -rf "$work"
mkdir -p "$work"
chmod 700 "$work"
cd "$work"

. "$root/deploy/lib/demo-daemon.sh"
write_demo_config "$root" "$scale"
soc_token="$submitter_token"
(umask 077 && printf '%s\n' "$soc_token" >soc.token && printf '%s\n' "$operator_token" >operator.token)
daemon_pid=""
trap '[ -z "$daemon_pid" ] || { kill -TERM "$daemon_pid" 2>/dev/null || true; wait "$daemon_pid" 2>/dev/null || true; }' EXIT
start_containd "$build/daemon/containd" || { echo "demo: containd did not start" >&2; exit 1; }

ctl() { "$build/daemon/containctl" --url "$url" "$@"; }
echo "== containd is up at $url, with the simulated Contoso tenant (clock x$scale)"
echo "== dashboard: $url/ui/  (open it in a browser on this machine while the demo runs)"
echo "   viewer token, valid for this run only: $viewer_token"
echo "   operator token (approve, reveal, release): $work/operator.token"
echo "== the SOC submits the seeds' incident: $root/config/demo/incident.json"
CONTAIND_TOKEN="$soc_token" ctl submit --dry-run "$root/config/demo/incident.json" | sed -n 1,40p
echo "   ... (dry run above: nothing was sent to the tenant)"
id="$(CONTAIND_TOKEN="$soc_token" ctl --output json submit "$root/config/demo/incident.json" |
  sed -n 's/^{"id":"\([^"]*\)".*/\1/p; s/.*"id": *"\([0-9a-f-]*\)".*/\1/p' | head -n 1)"
[ -n "$id" ] || { echo "demo: submission failed" >&2; exit 1; }
echo "== accepted: incident $id; live progress (every phase, then the +15/+30/+60 checks)"
status=0
CONTAIND_TOKEN="$operator_token" ctl watch "$id" || status=$?

echo "== the IR lead has the finance director on the phone: the reveal issues a Temporary Access Pass now"
echo "   (valid 60 minutes from now, not from containment) and shows it once (a second reveal is refused)"
CONTAIND_TOKEN="$operator_token" ctl reveal "$id" finance.director@contoso.com --lifetime 60
CONTAIND_TOKEN="$operator_token" ctl reveal "$id" finance.director@contoso.com || echo "   (refused, as it should be)"

if [ "$status" -eq 0 ]; then
  echo "== every user has a new credential and verification passed: the IR lead releases the block"
  CONTAIND_TOKEN="$operator_token" ctl release "$id" --reason "credentials reset and verification passed"
  CONTAIND_TOKEN="$operator_token" ctl watch "$id" || status=$?
fi

echo "== the final report"
CONTAIND_TOKEN="$operator_token" ctl report "$id" --format md
if [ -n "${CONTAIND_DEMO_KEEP_UP:-}" ] && [ -t 0 ]; then
  echo "== the dashboard stays up at $url/ui/ (viewer token above); press Enter to stop the daemon"
  read -r _
fi
echo "== files: $work (containd.log, containd.db); the daemon stops now"
exit "$status"
