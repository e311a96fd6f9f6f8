# Sourced by deploy/demo.sh and tests/bench/api_bench.sh: a throwaway containd with its built-in
# simulated Contoso tenant (the seeds' walkthrough), in the current directory.
#
#   write_demo_config ROOT SCALE   writes containd.json and client.secret (0600) and sets
#                                  viewer_token, submitter_token and operator_token: random per
#                                  run, only their SHA-256 in the config
#   start_containd CONTAIND        starts it on a free loopback port, waits for the line it prints
#                                  once it listens, sets daemon_pid and url; returns 1 (stderr.log
#                                  printed) when it exits or stays silent

write_demo_config() {
  local root="$1" scale="$2"
  token() { openssl rand -hex 24; }
  sha256() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
  viewer_token="$(token)"
  submitter_token="$(token)"
  operator_token="$(token)"
  (
    umask 077
    openssl rand -hex 32 >client.secret
    cat >containd.json <<JSON
{
  "database": "containd.db",
  "vault_key_file": "vault.key",
  "log": { "file": "containd.log", "level": "info" },
  "api": {
    "bind_address": "127.0.0.1",
    "port": 0,
    "tokens": [
      { "name": "dashboard-viewer", "role": "viewer", "sha256": "$(sha256 "$viewer_token")" },
      { "name": "sentinel-playbook", "role": "submitter", "sha256": "$(sha256 "$submitter_token")" },
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
JSON
  )
}

start_containd() {
  local containd="$1"
  "$containd" --config containd.json >ready.json 2>stderr.log &
  daemon_pid=$!
  for _ in $(seq 150); do
    [ -s ready.json ] && break
    kill -0 "$daemon_pid" 2>/dev/null || { cat stderr.log >&2; return 1; }
    sleep 0.1
  done
  url="$(sed -n 's/.*"listening":"\([^"]*\)".*/\1/p' ready.json | head -n 1)"
  [ -n "$url" ] || { cat stderr.log >&2; return 1; }
}
