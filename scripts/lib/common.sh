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
  # From /: the postgres user may not be allowed into the current directory (a checkout under /root), and pg_ctl and
  # initdb would warn "could not change directory" on every call.
  if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

# pg_cluster_dir STATE PG_BIN  prints the directory that holds the stack's PostgreSQL cluster (data/, its log and
# socket), created and usable by the server's user. Normally STATE/pg. As root the server runs as the 'postgres' user
# (initdb refuses root), which cannot enter a checkout under a directory closed to others (/root is mode 700, and so is
# a mktemp -d folder): then the cluster lives in /var/tmp/gateway-pg-<hash of STATE's path>, owned by postgres, and
# STATE/pg is a symlink to it. The hash keeps two checkouts (and two LOCAL_DIRs of one) apart; not the port, so a stack
# restarted on another port keeps its data, as it does inside STATE. The symlink is the pointer: deleting STATE still
# means a fresh cluster next time.
pg_cluster_dir() {
  local state="$1" pg_bin="$2" key dir
  if [ "$(id -u)" -ne 0 ] || { [ ! -L "$state/pg" ] && runuser -u postgres -- test -x "$state" 2>/dev/null; }; then
    mkdir -p "$state/pg"
    [ "$(id -u)" -eq 0 ] && chown postgres "$state/pg"
    echo "$state/pg"; return 0
  fi
  key="$(cd "$state" && pwd -P | sha256sum | cut -c1-16)"
  dir="/var/tmp/gateway-pg-$key"
  if [ "$(readlink "$state/pg" 2>/dev/null)" != "$dir" ]; then
    # No pointer to this directory: whatever it holds is left from a STATE that was deleted. Stop a server still running
    # there (a kill -9'd run), then start clean.
    [ -f "$dir/data/postmaster.pid" ] && runuser -u postgres -- "$pg_bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir" "$state/pg"
    ln -s "$dir" "$state/pg"
  fi
  [ -d "$dir" ] || install -d -o postgres -g postgres -m 700 "$dir"
  # /var/tmp is writable by everyone: use the directory only if it is the one made here.
  [ ! -L "$dir" ] && [ "$(stat -c %U "$dir")" = postgres ] || die "$dir is not a directory owned by postgres; remove it and retry"
  echo "$dir"
}

# One hosting environment under both of .NET's names, exported (default Development). .NET reads ASPNETCORE_ENVIRONMENT
# and DOTNET_ENVIRONMENT, and WebApplicationBuilder lets DOTNET_ENVIRONMENT win: ASPNETCORE_ENVIRONMENT=Production beside
# a default DOTNET_ENVIRONMENT=Development ran the services as Development, on the repository's secrets. Either one set
# chooses for both; both set must agree (the services refuse to start on a pair that does not, too).
resolve_environment() {
  local aspnet="${ASPNETCORE_ENVIRONMENT:-}" dotnet="${DOTNET_ENVIRONMENT:-}"
  if [ -n "$aspnet" ] && [ -n "$dotnet" ] && [ "${aspnet,,}" != "${dotnet,,}" ]; then
    die "ASPNETCORE_ENVIRONMENT is '$aspnet' but DOTNET_ENVIRONMENT is '$dotnet': set only one of them, or both to the same value"
  fi
  local name="${aspnet:-${dotnet:-Development}}"
  export ASPNETCORE_ENVIRONMENT="$name" DOTNET_ENVIRONMENT="$name"
}
