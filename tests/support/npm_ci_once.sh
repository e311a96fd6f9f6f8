# Sourced by the node-based checks (tests/openapi/check.sh, tests/ui/run.sh):
#
#   npm_ci_once MARKER    in the current directory, runs `npm ci` unless MARKER (a path under
#                         node_modules) exists and node_modules was installed from this very
#                         package-lock.json; prints npm's output only when it fails (returns 1)
npm_ci_once() {
  local marker="$1" stamp=node_modules/.containd-lock.sha256 want log
  export NO_UPDATE_NOTIFIER=1 npm_config_update_notifier=false
  want="$(sha256sum package-lock.json | cut -d' ' -f1)"
  if [ ! -e "$marker" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log="$(mktemp)"
    if ! npm ci --no-audit --no-fund --loglevel=error >"$log" 2>&1; then
      cat "$log" >&2
      rm -f "$log"
      echo "npm ci failed in $PWD" >&2
      return 1
    fi
    rm -f "$log"
    echo "$want" >"$stamp"
  fi
}
