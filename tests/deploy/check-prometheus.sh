#!/usr/bin/env bash
# Checks deploy/prometheus/containd-rules.yml with `promtool check rules` and that
# deploy/grafana/containd-dashboard.json is JSON whose panels only query metrics containd serves
# (their names are listed in the rules' and the metrics' HELP lines: lib/api/metrics.cpp,
# lib/notify/notifier.cpp, daemon/health.cpp, daemon/tenants.cpp).
# Exits 77 (CTest: skipped) when promtool is not installed (deploy/setup.sh installs prometheus).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../.."
if ! command -v promtool >/dev/null; then
  echo "check-prometheus.sh: promtool is not installed (the prometheus package); skipping" >&2
  exit 77
fi
promtool check rules "$root/deploy/prometheus/containd-rules.yml"

served="$(grep -rhoE '(# HELP |")containd_[a-z_]+' "$root/lib" "$root/daemon" | sed -E 's/^(# HELP |")//' | sort -u)"
python3 - "$root/deploy/grafana/containd-dashboard.json" "$root/deploy/prometheus/containd-rules.yml" "$served" <<'PY'
import json, re, sys
dashboard = json.load(open(sys.argv[1]))
rules = open(sys.argv[2]).read()
served = set(sys.argv[3].split())
exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
exprs += re.findall(r"expr: (.*)", rules)
bad = []
for e in exprs:
    for name in re.findall(r"\b(containd_[a-z_]+)", e):
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        if name not in served and base not in served:
            bad.append(name)
if bad:
    sys.exit("metrics queried but not served: " + ", ".join(sorted(set(bad))))
print(f"dashboard and rules: {len(exprs)} queries over served metrics")
PY
