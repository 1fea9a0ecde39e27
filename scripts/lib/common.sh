# Shared helpers for scripts/*.sh. Sourced, not executed.
# shellcheck shell=bash

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

log() { printf '\033[1;34m[%s]\033[0m %s\n' "$(basename "$0")" "$*" >&2; }
die() { printf '\033[1;31m[%s] error:\033[0m %s\n' "$(basename "$0")" "$*" >&2; exit 1; }

# PostgreSQL's newest installed bin dir (Debian layout), or empty.
pg_bin_dir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/initdb" ] && { echo "$d"; return; }
  done
}

# ensure_packages CMD:PACKAGE ...  installs the Debian packages whose command (or shared library, *.so*) is missing.
# As root it runs apt-get; otherwise it prints exactly what to install and exits non-zero.
ensure_packages() {
  local missing=() pair cmd pkg
  for pair in "$@"; do
    cmd="${pair%%:*}"; pkg="${pair#*:}"
    case "$cmd" in
      initdb) [ -n "$(pg_bin_dir)" ] || missing+=("$pkg") ;;
      # Not "ldconfig -p | grep -q": under pipefail grep's early exit SIGPIPEs ldconfig and a present library reads as missing.
      *.so*) [[ "$(ldconfig -p 2>/dev/null)" == *"$cmd"* ]] || missing+=("$pkg") ;;
      *) command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/bin/$cmd" ] || missing+=("$pkg") ;;
    esac
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    die "missing system packages: ${missing[*]}. Install them with: sudo apt-get update && sudo apt-get install -y ${missing[*]}"
  fi
  log "installing missing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${missing[@]}" >/dev/null
}

# Run a command as the postgres system user when root (initdb/postgres refuse root), else as ourselves.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
