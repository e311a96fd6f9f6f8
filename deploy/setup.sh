#!/usr/bin/env bash
# Installs everything containd needs to build, test and run its demo on Debian 12.
# Idempotent: packages already present are skipped without touching the network.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libboost1.81-dev libssl-dev nlohmann-json3-dev libsqlite3-dev libspdlog-dev
  libgtest-dev libgmock-dev libcli11-dev libpugixml-dev
  sqlite3 curl ca-certificates openssl
  # tests/fuzz: clang with libFuzzer and the sanitizer runtimes; llvm-symbolizer for readable reports
  clang-14 libclang-rt-14-dev llvm-14
  # tests/system/timers_test.cpp: the daemon's wall clock moved and stepped (LD_PRELOAD)
  libfaketime
  systemd
)
# Test tools, not for an image without tests either: tinyproxy, a real HTTP CONNECT proxy for
# tests/integration/graph/proxy_test.cpp; promtool (check rules, check metrics: tests/deploy,
# notify_system_test), which Debian ships only in the prometheus package (~19 MB download; its
# server is not started here).
[ -n "${CONTAIND_SETUP_NO_BROWSER:-}" ] || packages+=(tinyproxy prometheus)
# tests/ui: the dashboard end to end in Debian's chromium (playwright-core drives it; no browser
# download), fonts so that screenshots have text. Not for an image build without tests
# (deploy/Containerfile sets CONTAIND_SETUP_NO_BROWSER=1).
[ -n "${CONTAIND_SETUP_NO_BROWSER:-}" ] || packages+=(chromium fonts-dejavu-core)
# node and npm run the OpenAPI lint (tests/openapi). A NodeSource nodejs already bundles npm and
# conflicts with Debian's npm package, so these are only added when npm is not there yet.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all packages present"
fi
