#!/usr/bin/env bash
# Checks deploy/containd.service and deploy/containd.sysusers.conf:
#   1. systemd-analyze verify on the unit;
#   2. systemd-analyze security --offline=yes: prints the exposure score and fails above 3.0;
#   3. systemd-sysusers creates the containd user from the sysusers file (in a scratch root);
#   4. the unit agrees with the daemon and deploy/README.md: Type=notify (containd calls
#      sd_notify), UMask=0077, ConfigurationDirectoryMode as the README installs /etc/containd,
#      and the binary links libsystemd (else it would never say READY=1).
#
#   tests/deploy/check-unit.sh [path/to/containd]
#
# `verify` fails when ExecStart's binary does not exist, and the unit names the installed path
# (/usr/local/bin/containd). So it is checked on a temporary copy whose ExecStart points at an
# existing binary: the built containd when given as $1, else /bin/true. Nothing else changes.
# Exits 77 (CTest: skipped) when systemd-analyze is not installed (deploy/setup.sh installs systemd).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
unit="$here/../../deploy/containd.service"
sysusers="$here/../../deploy/containd.sysusers.conf"
max_exposure=3.0
binary="${1:-/bin/true}"

if ! command -v systemd-analyze >/dev/null; then
  echo "check-unit.sh: systemd-analyze is not installed (the systemd package); skipping" >&2
  exit 77
fi
if [ ! -x "$binary" ]; then
  echo "check-unit.sh: $binary is not executable" >&2
  exit 1
fi
binary="$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
grep -q '^ExecStart=/usr/local/bin/containd ' "$unit" ||
  { echo "check-unit.sh: ExecStart is not /usr/local/bin/containd ..." >&2; exit 1; }
sed "s|^ExecStart=/usr/local/bin/containd |ExecStart=$binary |" "$unit" >"$work/containd.service"

echo "== systemd-analyze verify containd.service (ExecStart=$binary)"
# verify prints warnings without failing for some of them: any output is a failure here.
if ! systemd-analyze verify --man=no "$work/containd.service" >"$work/verify.log" 2>&1 || [ -s "$work/verify.log" ]; then
  cat "$work/verify.log" >&2
  echo "check-unit.sh: systemd-analyze verify reported problems" >&2
  exit 1
fi
echo "ok"

echo "== systemd-analyze security --offline=yes containd.service"
if systemd-analyze security --help 2>&1 | grep -q -- '--offline'; then
  systemd-analyze security --offline=yes --no-pager "$work/containd.service" >"$work/security.log" 2>&1 || true
  # The table lists each setting; the last line is the score: "→ Overall exposure level for …: 1.2 OK".
  grep -E '^✗' "$work/security.log" || true
  score="$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9.]*\).*/\1/p' "$work/security.log" | tail -1)"
  if [ -z "$score" ]; then
    cat "$work/security.log" >&2
    echo "check-unit.sh: no exposure score in the output of systemd-analyze security" >&2
    exit 1
  fi
  echo "exposure: $score (at most $max_exposure)"
  if ! awk -v s="$score" -v m="$max_exposure" 'BEGIN { exit !(s <= m) }'; then
    echo "check-unit.sh: the exposure $score is above $max_exposure" >&2
    exit 1
  fi
else
  echo "this systemd-analyze has no --offline; exposure not measured"
fi

echo "== systemd-sysusers containd.sysusers.conf (scratch root)"
if command -v systemd-sysusers >/dev/null; then
  mkdir -p "$work/root/etc"
  systemd-sysusers --root="$work/root" "$(cd "$(dirname "$sysusers")" && pwd)/$(basename "$sysusers")" >"$work/sysusers.log" 2>&1 ||
    { cat "$work/sysusers.log" >&2; echo "check-unit.sh: systemd-sysusers failed" >&2; exit 1; }
  entry="$(grep '^containd:' "$work/root/etc/passwd" || true)"
  case "$entry" in
    containd:x:*:*:*:/var/lib/containd:/usr/sbin/nologin) echo "ok: $entry" ;;
    *) echo "check-unit.sh: unexpected passwd entry '$entry'" >&2; exit 1 ;;
  esac
else
  echo "systemd-sysusers not installed; sysusers file not checked"
fi

echo "== the unit against the daemon and deploy/README.md"
readme="$here/../../deploy/README.md"
setting() { sed -n "s/^$1=//p" "$unit" | tail -1; }
[ "$(setting Type)" = notify ] || { echo "check-unit.sh: Type is '$(setting Type)', not notify" >&2; exit 1; }
[ "$(setting UMask)" = 0077 ] || { echo "check-unit.sh: UMask is '$(setting UMask)', not 0077" >&2; exit 1; }
# README: "sudo install -d -o root -g containd -m 0750 /etc/containd"
readme_mode="$(sed -n 's|.*install -d .*-m \([0-7]*\) /etc/containd$|\1|p' "$readme" | head -1)"
if [ -z "$readme_mode" ] || [ "$(setting ConfigurationDirectoryMode)" != "$readme_mode" ]; then
  echo "check-unit.sh: ConfigurationDirectoryMode '$(setting ConfigurationDirectoryMode)' is not the README's /etc/containd mode '$readme_mode'" >&2
  exit 1
fi
if [ "$binary" != /bin/true ] && command -v ldd >/dev/null; then
  ldd "$binary" | grep -q 'libsystemd\.so' ||
    { echo "check-unit.sh: $binary does not link libsystemd: Type=notify would time out" >&2; exit 1; }
fi
echo "ok: Type=notify, UMask=0077, ConfigurationDirectoryMode=$readme_mode"
