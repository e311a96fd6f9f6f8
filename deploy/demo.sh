#!/usr/bin/env bash
# The README's demo command: containd against its built-in simulated tenant (the seeds'
# walkthrough scenario), the seeds' incident submitted through the REST API, live progress through
# every phase and the +15/+30/+60 checks (the real schedule on a clock running 60x), one
# credential revealed as an operator would, the emergency block released, and the final report.
#
# Everything lives in build/demo/ (recreated on each run): config, database, vault key, logs.
# The API tokens and the tenant's client secret are random per run and exist only in that folder.
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

token() { openssl rand -hex 24; }
sha256() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
soc_token="$(token)"
operator_token="$(token)"
umask 077
openssl rand -hex 32 >client.secret
printf '%s\n' "$soc_token" >soc.token
printf '%s\n' "$operator_token" >operator.token

cat >containd.json <<EOF
{
  "database": "containd.db",
  "vault_key_file": "vault.key",
  "log": { "file": "containd.log", "level": "info" },
  "api": {
    "bind_address": "127.0.0.1",
    "port": 0,
    "tokens": [
      { "name": "sentinel-playbook", "role": "submitter", "sha256": "$(sha256 "$soc_token")" },
      { "name": "ir-lead", "role": "operator", "sha256": "$(sha256 "$operator_token")" }
    ]
  },
  "simulator": { "scenario": "$root/config/scenarios/bec-walkthrough.json", "time_scale": $scale },
  "tenants": [
    {
      "name": "contoso",
      "directory_tenant": "contoso.onmicrosoft.com",
      "client_id": "0d6c4b8a-2e1f-4a3b-9c5d-7e8f9a0b1c2d",
      "client_secret_file": "client.secret",
      "emergency_policy_id": "5e8a3c1f-0d2b-4f6e-9a7c-3b1d2e4f5a60",
      "ir_named_locations": ["6d1f0a2b-3c4d-4e5f-8a9b-0c1d2e3f4a51"],
      "break_glass_accounts": ["breakglass1@contoso.com", "breakglass2@contoso.com"],
      "verification_schedule_s": [900, 1800, 3600]
    }
  ]
}
EOF

"$build/daemon/containd" --config containd.json >ready.json 2>stderr.log &
daemon_pid=$!
trap 'kill -TERM "$daemon_pid" 2>/dev/null || true; wait "$daemon_pid" 2>/dev/null || true' EXIT

for _ in $(seq 100); do
  [ -s ready.json ] && break
  kill -0 "$daemon_pid" 2>/dev/null || { cat stderr.log >&2; exit 1; }
  sleep 0.1
done
url="$(sed -n 's/.*"listening":"\([^"]*\)".*/\1/p' ready.json)"
[ -n "$url" ] || { echo "demo: containd did not report where it listens" >&2; cat stderr.log >&2; exit 1; }

ctl() { "$build/daemon/containctl" --url "$url" "$@"; }
echo "== containd is up at $url, with the simulated Contoso tenant (clock x$scale)"
echo "== the SOC submits the seeds' incident: $root/config/demo/incident.json"
CONTAIND_TOKEN="$soc_token" ctl submit --dry-run "$root/config/demo/incident.json" | sed -n 1,40p
echo "   ... (dry run above: nothing was sent to the tenant)"
id="$(CONTAIND_TOKEN="$soc_token" ctl --output json submit "$root/config/demo/incident.json" |
  sed -n 's/^{"id":"\([^"]*\)".*/\1/p; s/.*"id": *"\([0-9a-f-]*\)".*/\1/p' | head -n 1)"
[ -n "$id" ] || { echo "demo: submission failed" >&2; exit 1; }
echo "== accepted: incident $id; live progress (every phase, then the +15/+30/+60 checks)"
status=0
CONTAIND_TOKEN="$operator_token" ctl watch "$id" || status=$?

echo "== the IR lead reveals the finance director's temporary credential (once; a second reveal is refused)"
CONTAIND_TOKEN="$operator_token" ctl reveal "$id" finance.director@contoso.com
CONTAIND_TOKEN="$operator_token" ctl reveal "$id" finance.director@contoso.com || echo "   (refused, as it should be)"

if [ "$status" -eq 0 ]; then
  echo "== every user has a new credential and verification passed: the IR lead releases the block"
  CONTAIND_TOKEN="$operator_token" ctl release "$id"
  CONTAIND_TOKEN="$operator_token" ctl watch "$id" || status=$?
fi

echo "== the final report"
CONTAIND_TOKEN="$operator_token" ctl report "$id" --format md
echo "== files: $work (containd.log, containd.db); the daemon stops now"
exit "$status"
