#!/usr/bin/env bash
# End-to-end tests of the dashboard (/ui/): the real containd with its built-in simulated tenant,
# Debian's chromium driven by playwright-core (never downloads a browser), axe-core in the page.
#
#   tests/ui/run.sh path/to/containd [screenshot-dir]
#
# Screenshots of each view go to screenshot-dir (default: ./ui-screenshots). The pinned npm
# packages are installed with `npm ci` into tests/ui/node_modules (git-ignored) and reused while
# package-lock.json is unchanged. Exits 77 (CTest: skipped) without node, npm or chromium
# (deploy/setup.sh installs all three).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
binary="${1:?usage: run.sh path/to/containd [screenshot-dir]}"
shots="${2:-$PWD/ui-screenshots}"
case "$binary" in /*) ;; *) binary="$PWD/$binary" ;; esac
case "$shots" in /*) ;; *) shots="$PWD/$shots" ;; esac

for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is not installed (deploy/setup.sh); skipping" >&2; exit 77; }
done
chromium="${CONTAIND_CHROMIUM:-$(command -v chromium || true)}"
[ -n "$chromium" ] || { echo "run.sh: chromium is not installed (deploy/setup.sh); skipping" >&2; exit 77; }

cd "$here"
. "$here/../support/npm_ci_once.sh"
npm_ci_once node_modules/playwright-core

mkdir -p "$shots"
exec node dashboard_test.mjs --containd "$binary" --chromium "$chromium" --screenshots "$shots" \
  --scenario "$here/../../config/scenarios/bec-walkthrough.json" --incident "$here/../../config/demo/incident.json"
