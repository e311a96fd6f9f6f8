#!/usr/bin/env bash
# Lints schema/openapi.yaml with the pinned Redocly CLI (recommended ruleset, see redocly.yaml)
# and, given the containd binary, compares its route table (--print-routes) with the
# description's operations and their x-containd-role.
#
#   tests/openapi/check.sh [path/to/containd]
#
# The pinned packages are installed with `npm ci` into tests/openapi/node_modules (git-ignored)
# and reused while package-lock.json is unchanged. Exits 77 (CTest: skipped) without node/npm.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
spec="$here/../../schema/openapi.yaml"
binary="${1:-}"
if [ -n "$binary" ] && [ "${binary#/}" = "$binary" ]; then binary="$PWD/$binary"; fi  # before the cd
cd "$here"  # redocly.yaml and .redocly.lint-ignore.yaml are read from the working directory

for tool in node npm npx; do
  if ! command -v "$tool" >/dev/null; then
    echo "check.sh: $tool is not installed (deploy/setup.sh installs nodejs and npm); skipping" >&2
    exit 77
  fi
done

# No telemetry, no update checks: a test must not phone home.
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true

. "$here/../support/npm_ci_once.sh"
npm_ci_once node_modules/.bin/redocly

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "== redocly lint schema/openapi.yaml"
npx --no-install redocly lint "$spec" --format=stylish

npx --no-install redocly bundle "$spec" --ext json -o "$work/openapi.json" >"$work/bundle.log" 2>&1 ||
  { cat "$work/bundle.log" >&2; exit 1; }

echo "== routes"
if [ -n "$binary" ]; then
  if [ ! -x "$binary" ]; then
    echo "check.sh: $binary is not an executable containd" >&2
    exit 1
  fi
  "$binary" --print-routes >"$work/routes.txt"
  node compare-routes.js "$work/openapi.json" "$work/routes.txt"
else
  node compare-routes.js "$work/openapi.json"
fi
