#!/usr/bin/env bash
# Lint, as CI runs it (deploy/test.sh) and as anyone can before a merge:
#   deploy/lint.sh                  both checks below
#   deploy/lint.sh --format         clang-format-14 --dry-run --Werror on the files and folders
#                                   deploy/format-checked.txt lists (lib/, daemon/, tests/)
#   deploy/lint.sh --tidy [FILE..]  clang-tidy-19 (.clang-tidy: STYLE.md's coroutine checks and a
#                                   few bugprone ones) on FILEs, by default every lib/ and daemon/
#                                   .cpp that holds a coroutine (~15 files, about a minute of CPU)
# Fix the format of one file: clang-format-14 -i FILE.
# clang-tidy findings are ratcheted: deploy/tidy-baseline.txt holds how many each file had per
# check when the check was introduced; more fails, fewer prints how to lower the baseline.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
clang_format="${CLANG_FORMAT:-$(command -v clang-format-14 || command -v clang-format)}"
clang_tidy="${CLANG_TIDY:-$(command -v clang-tidy-19 || command -v clang-tidy)}"
mode="${1:-all}"
[ $# -gt 0 ] && shift
status=0

check_format() {
  local files=() entry
  while IFS= read -r entry; do
    entry="${entry%%#*}"
    entry="$(echo "$entry" | xargs)"
    [ -z "$entry" ] && continue
    while IFS= read -r f; do files+=("$f"); done < <(git ls-files -- "$entry" | grep -E '\.(cpp|hpp|h|cc)$' || true)
  done <deploy/format-checked.txt
  local bad=()
  for f in "${files[@]}"; do
    [ -f "$f" ] || continue
    "$clang_format" --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
  done
  if ((${#bad[@]})); then
    echo "lint: clang-format: ${#bad[@]} of ${#files[@]} checked files are not formatted:"
    printf '  %s\n' "${bad[@]}"
    echo "lint: fix with: $clang_format -i ${bad[*]}"
    status=1
  else
    echo "lint: clang-format: ${#files[@]} files formatted"
  fi
}

# The C++ files clang-tidy looks at by default: those of lib/ and daemon/ that hold a coroutine.
coroutine_files() { git ls-files 'lib/*.cpp' 'daemon/*.cpp' | xargs grep -l -E 'co_(await|return)' || true; }

# Runs clang-tidy on the files given (raw output to $tidy_out); prints "count file check" lines.
tidy_counts() {
  # compile_commands.json from a configure-only tree (seconds; nothing is built there).
  local db="${CONTAIND_LINT_BUILD_DIR:-$root/build-lint}"
  cmake -S "$root" -B "$db" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
  printf '%s\n' "$@" | xargs -P "$(nproc)" -n 1 "$clang_tidy" -p "$db" --quiet \
    --extra-arg=-Wno-unknown-warning-option >"$tidy_out" 2>/dev/null || true
  # "path:line:col: error: message [check,-warnings-as-errors]" -> per file and check.
  grep -E '^/.*:[0-9]+:[0-9]+: (warning|error): .*\[[a-z-]+' "$tidy_out" |
    sed -E "s|^$root/||; s|^([^:]+):[0-9]+:[0-9]+: [a-z]+: .*\[([a-z0-9.-]+).*$|\1 \2|" | sort | uniq -c |
    awk '{print $1, $2, $3}' || true
}

check_tidy() {
  local files=("$@")
  ((${#files[@]})) || mapfile -t files < <(coroutine_files)
  local counts worse=0
  counts="$(tidy_counts "${files[@]}")"
  while read -r n file check; do
    [ -z "${n:-}" ] && continue
    base="$(awk -v f="$file" -v c="$check" '$2 == f && $3 == c {print $1}' deploy/tidy-baseline.txt)"
    base="${base:-0}"
    if ((n > base)); then
      echo "lint: clang-tidy: $file: $check: $n findings, baseline $base:"
      grep -E "^$root/$file:[0-9]+:[0-9]+: .*\[$check" "$tidy_out" | sed "s|^$root/||" | head -20
      worse=1
    elif ((n < base)); then
      echo "lint: clang-tidy: $file: $check: $n findings, baseline $base: lower it in deploy/tidy-baseline.txt"
    fi
  done <<<"$counts"
  if ((worse)); then
    status=1
  else
    echo "lint: clang-tidy: ${#files[@]} files, no finding beyond deploy/tidy-baseline.txt"
  fi
}

tidy_out="$(mktemp)"
trap 'rm -f "$tidy_out"' EXIT
case "$mode" in
  all) check_format; check_tidy ;;
  --format) check_format ;;
  --tidy) check_tidy "$@" ;;
  --baseline)  # the current counts in deploy/tidy-baseline.txt's format (after a deliberate change)
    files=("$@")
    ((${#files[@]})) || mapfile -t files < <(coroutine_files)
    tidy_counts "${files[@]}" ;;
  *) echo "usage: deploy/lint.sh [--format | --tidy [FILE..] | --baseline [FILE..]]" >&2; exit 2 ;;
esac
exit "$status"
