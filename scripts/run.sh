#!/usr/bin/env bash
# Runs the whole stack locally: PostgreSQL (127.0.0.1:5433), Redis (127.0.0.1:6380), the backend (:8090)
# and the gateway (:8080), all state under .local/. Ctrl-C stops everything it started.
#
#   scripts/run.sh                 one gateway
#   scripts/run.sh --gateways 3    three gateways on 8080, 8081, 8082 sharing one Redis
#
# Each gateway's operator listener (/metrics, /gateway/*) is on 127.0.0.1 at GATEWAY_ADMIN_PORT + i (default
# GATEWAY_PORT + 1000: 9080, 9081, ...); the public ports answer 404 there.
# Ports are overridable: GATEWAY_PORT, GATEWAY_ADMIN_PORT, BACKEND_PORT, BACKEND_H2C_PORT (default BACKEND_PORT + 1: the
# backend's HTTP/2 listener the gateway proxies to), REDIS_PORT, POSTGRES_PORT; the state folder with
# LOCAL_DIR (default .local); the route-class file with ROUTE_CLASSES (default config/route-classes.json).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
# LOCAL_DIR and ROUTE_CLASSES given relative mean relative to where the caller stands, not to the checkout.
absolute() { case "$1" in /*) printf '%s' "$1" ;; *) printf '%s/%s' "$PWD" "$1" ;; esac; }
[ -z "${LOCAL_DIR:-}" ] || LOCAL_DIR="$(absolute "$LOCAL_DIR")"
[ -z "${ROUTE_CLASSES:-}" ] || ROUTE_CLASSES="$(absolute "$ROUTE_CLASSES")"
cd "$REPO_ROOT"

GATEWAYS=1
while [ $# -gt 0 ]; do
  case "$1" in
    --gateways) GATEWAYS="${2:?--gateways needs a number}"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
[[ "$GATEWAYS" =~ ^[1-9][0-9]?$ ]] || die "--gateways takes a number from 1 to 99"
resolve_environment   # one name in both variables, before anything slow (scripts/lib/common.sh says why)

GATEWAY_PORT="${GATEWAY_PORT:-8080}"
GATEWAY_ADMIN_PORT="${GATEWAY_ADMIN_PORT:-$((GATEWAY_PORT + 1000))}"
BACKEND_PORT="${BACKEND_PORT:-8090}"
BACKEND_H2C_PORT="${BACKEND_H2C_PORT:-$((BACKEND_PORT + 1))}"
REDIS_PORT="${REDIS_PORT:-6380}"
POSTGRES_PORT="${POSTGRES_PORT:-5433}"
STATE="${LOCAL_DIR:-$REPO_ROOT/.local}"
ROUTE_CLASSES="${ROUTE_CLASSES:-$REPO_ROOT/config/route-classes.json}"
PIDS="$STATE/pids"
mkdir -p "$STATE" "$PIDS" "$STATE/logs" "$STATE/redis"

ensure_packages redis-server:redis-server initdb:postgresql libsodium.so.23:libsodium23 curl:curl
PG_BIN="$(pg_bin_dir)"
# .local/pg, or (as root, when the postgres user cannot enter this checkout) a directory under /var/tmp it points to.
PG_DIR="$(pg_cluster_dir "$STATE" "$PG_BIN")"

# --- recovery: stop whatever a previous run (crashed or kill -9'd) left behind --------------------------
stop_pidfile() {
  local f="$1" pid command
  [ -f "$f" ] || return 0
  pid="$(cat "$f" 2>/dev/null || true)"
  # Only a process of ours: after a reboot or a long pause the number may belong to something else by now. (Read into
  # a variable: "| grep -q" under pipefail reads as a failure when grep's early exit SIGPIPEs the writer.)
  command="$( { [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null || true)"
  # This checkout's services, or a redis-server on this stack's port (it renames itself "redis-server HOST:PORT"): any
  # dotnet process matched before, and a recycled number could be a build server's or an editor's.
  if [[ "$command" == *"$REPO_ROOT/gateway/bin/"* || "$command" == *"$REPO_ROOT/backend/bin/"* \
        || ( "$command" == *redis-server* && "$command" == *":$REDIS_PORT"* ) ]]; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}
stop_postgres() {
  [ -f "$PG_DIR/data/postmaster.pid" ] || return 0
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
  # A postmaster.pid whose process is gone is stale: pg_ctl start copes, but say what happened.
  [ -f "$PG_DIR/data/postmaster.pid" ] && log "removing stale postmaster.pid" && rm -f "$PG_DIR/data/postmaster.pid"
  return 0
}
stop_all() {
  for f in "$PIDS"/*.pid; do [ -e "$f" ] && stop_pidfile "$f"; done
  stop_postgres
}
stop_all

STOPPING=0
on_exit() {
  [ "$STOPPING" -eq 1 ] && return; STOPPING=1
  echo; log "stopping the stack"
  stop_all
  log "stopped; logs are in .local/logs"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Every port must be free now that our own leftovers are stopped: a process already listening would answer the readiness
# checks below in place of the one that failed to bind, and the stack would look up while it is not.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
busy=()
for port in "$POSTGRES_PORT" "$REDIS_PORT" "$BACKEND_PORT" "$BACKEND_H2C_PORT" \
  $(seq "$GATEWAY_PORT" $((GATEWAY_PORT + GATEWAYS - 1))) $(seq "$GATEWAY_ADMIN_PORT" $((GATEWAY_ADMIN_PORT + GATEWAYS - 1))); do
  port_in_use "$port" && busy+=("$port")
done
[ ${#busy[@]} -eq 0 ] || die "port(s) ${busy[*]} already in use on 127.0.0.1 by another process (see: ss -ltnp | grep -E ':($(IFS='|'; echo "${busy[*]}")) '). Stop it, or choose other ports: GATEWAY_PORT, GATEWAY_ADMIN_PORT, BACKEND_PORT, BACKEND_H2C_PORT, REDIS_PORT, POSTGRES_PORT."

# --- PostgreSQL ------------------------------------------------------------------------------------------
if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
  log "creating the PostgreSQL cluster in $PG_DIR"
  rm -rf "$PG_DIR/data"
  as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U app -E UTF8 >"$STATE/logs/initdb.log"
  echo "include_if_exists = '$PG_DIR/postgres.conf'" | as_pg tee -a "$PG_DIR/data/postgresql.conf" >/dev/null
fi
# A copy beside the cluster, refreshed each start: the server's user may not be able to read the checkout.
install -m 644 "$REPO_ROOT/config/postgres.conf" "$PG_DIR/postgres.conf"
log "starting PostgreSQL on 127.0.0.1:$POSTGRES_PORT"
# TCP only (-k ''): pg_ctl hands -o to a shell, so a socket directory under a checkout path with a space split into two
# arguments, and a deep checkout path exceeds the 107 bytes a Unix socket path may have. Everything connects by TCP.
as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -o "-p $POSTGRES_PORT -k ''" -l "$PG_DIR/postgres.log" -w -t 60 start >/dev/null \
  || die "PostgreSQL did not start; see $STATE/pg/postgres.log"
if ! "$PG_BIN/psql" -h 127.0.0.1 -p "$POSTGRES_PORT" -U app -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='auth'" | grep -q 1; then
  "$PG_BIN/psql" -h 127.0.0.1 -p "$POSTGRES_PORT" -U app -d postgres -qc "CREATE DATABASE auth" >/dev/null
fi

# --- Redis -----------------------------------------------------------------------------------------------
log "starting Redis on 127.0.0.1:$REDIS_PORT"
redis-server "$REPO_ROOT/config/redis.conf" --port "$REDIS_PORT" --dir "$STATE/redis" >"$STATE/logs/redis.log" 2>&1 &
echo $! >"$PIDS/redis.pid"
for _ in $(seq 1 100); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 || die "Redis did not start; see .local/logs/redis.log"

# --- backend and gateway ---------------------------------------------------------------------------------
log "building backend and gateway (Release)"
# The compiler's errors are shown when a build fails (quiet otherwise).
for project in gateway/Gateway.csproj backend/Backend.csproj; do
  build_output="$(dotnet build "$REPO_ROOT/$project" -c Release -nologo -clp:ErrorsOnly -v q 2>&1)" \
    || { printf '%s\n' "$build_output" >&2; die "building $project failed (the compiler's output is above)"; }
done

# Outside Development both services refuse the repository's secrets (appsettings.json, all 'local-dev-only-...'). The
# stack then gets its own: generated once into $STATE/secrets.env (mode 600, kept across runs so sessions and the
# benchmark's signed requests stay valid) and passed as environment variables. A variable already set wins. Clusters
# other than 'backend' in a custom ROUTE_CLASSES file need Signing__Clusters__<id>__Keys__0__Id/__Secret set by hand
# (the gateway names them if missing).
if [ "$ASPNETCORE_ENVIRONMENT" != "Development" ]; then
  SECRETS="$STATE/secrets.env"
  if [ ! -s "$SECRETS" ]; then
    log "$ASPNETCORE_ENVIRONMENT environment: generating the internal secret and the signing key into $SECRETS"
    random_hex() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
    signing="$(random_hex)"
    ( umask 077; cat >"$SECRETS" <<SECRETS_ENV
Trust__InternalSecret=$(random_hex)
Signing__Clusters__backend__Keys__0__Id=local-1
Signing__Clusters__backend__Keys__0__Secret=$signing
Trust__SigningKeys__0__Id=local-1
Trust__SigningKeys__0__Secret=$signing
SECRETS_ENV
    )
  fi
  while IFS='=' read -r name value; do
    [ -n "$name" ] && [ -z "${!name:-}" ] && export "$name=$value"
  done <"$SECRETS"
fi
export Redis__Configuration="127.0.0.1:$REDIS_PORT,abortConnect=false,connectTimeout=2000,syncTimeout=1000"
export Postgres__ConnectionString="Host=127.0.0.1;Port=$POSTGRES_PORT;Username=app;Database=auth;Minimum Pool Size=50;Maximum Pool Size=64;Max Auto Prepare=64;Auto Prepare Min Usages=2;No Reset On Close=true"
export Backend__BaseUrl="http://127.0.0.1:$BACKEND_PORT"
# The gateway proxies to the backend over HTTP/2 on a port of its own (h2c): its concurrent requests then share
# connections and system calls, 0.68-0.71x the gateway's CPU per proxied request and 0.44-0.45x the backend's (docs/performance.md,
# "Thirteenth pass"). The HTTP/1.1 port stays for introspection, probes and anyone calling the backend directly.
export Backend__H2cUrl="http://127.0.0.1:$BACKEND_H2C_PORT"

log "starting the backend on http://127.0.0.1:$BACKEND_PORT (HTTP/2 for the gateway on $BACKEND_H2C_PORT)"
dotnet "$REPO_ROOT/backend/bin/Release/net10.0/backend.dll" --urls "http://127.0.0.1:$BACKEND_PORT" \
  --Backend:H2cUrls="http://127.0.0.1:$BACKEND_H2C_PORT" \
  >"$STATE/logs/backend.log" 2>&1 &
echo $! >"$PIDS/backend.pid"

# The gateway ships workstation GC (memory under 200 MB at 1,024 connections on 2 cores; docs/decisions.md). On more than
# four cores one GC thread becomes the limit, so the stack switches it to Server GC there unless the caller chose.
if [ -z "${DOTNET_gcServer:-}" ] && [ "$(nproc)" -gt 4 ]; then
  log "$(nproc) cores: starting the gateway with Server GC (DOTNET_gcServer=1; set DOTNET_gcServer=0 to keep workstation GC)"
  GATEWAY_RUNTIME=(env DOTNET_gcServer=1)
else
  GATEWAY_RUNTIME=(env)
fi
# A new gateway under full load costs 2-3x per request until tiered compilation has optimised its hot path: ~16 s with
# the runtime's default 100 ms call-counting delay, ~8 s without it, for 0.3-0.6 s more start-up and the same steady
# state (docs/performance.md, "Eleventh pass"). The runtime reads this only from the environment.
[ -n "${DOTNET_TC_CallCountingDelayMs:-}" ] || GATEWAY_RUNTIME+=(DOTNET_TC_CallCountingDelayMs=0)
# InstanceCount: with Redis down each instance limits locally at limit / InstanceCount, so N instances at 1 would admit
# N x every limit between them (docs/scale-out.md).
for i in $(seq 0 $((GATEWAYS - 1))); do
  port=$((GATEWAY_PORT + i))
  admin_port=$((GATEWAY_ADMIN_PORT + i))
  log "starting gateway $((i + 1))/$GATEWAYS on http://127.0.0.1:$port (operator listener http://127.0.0.1:$admin_port)"
  "${GATEWAY_RUNTIME[@]}" dotnet "$REPO_ROOT/gateway/bin/Release/net10.0/gateway.dll" --urls "http://127.0.0.1:$port" \
    --Admin:Url="http://127.0.0.1:$admin_port" --RouteClasses:Path="$ROUTE_CLASSES" \
    --RateLimiting:InstanceCount="${RateLimiting__InstanceCount:-$GATEWAYS}" >"$STATE/logs/gateway-$port.log" 2>&1 &
  echo $! >"$PIDS/gateway-$port.pid"
done

# A process that stops during start-up says why on its last lines (the gateway lists every route-class error, both
# services every invalid setting): show them here rather than send the operator to the log.
exited_during_start_up() {
  local name="$1" logfile="$STATE/logs/$1.log"
  if [ -s "$logfile" ]; then
    printf '\n--- last lines of %s ---\n' "$logfile" >&2
    tail -n 40 "$logfile" >&2
    printf -- '---\n' >&2
  fi
  die "$name exited during start-up (its output is above; the full log: $logfile)"
}
wait_ready() {
  local url="$1" name="$2"
  for _ in $(seq 1 600); do
    curl -fsS "$url" >/dev/null 2>&1 && return 0
    for f in "$PIDS"/*.pid; do
      kill -0 "$(cat "$f")" 2>/dev/null || exited_during_start_up "$(basename "$f" .pid)"
    done
    sleep 0.1
  done
  die "$name did not become ready within 60 s; see .local/logs"
}
for i in $(seq 0 $((GATEWAYS - 1))); do wait_ready "http://127.0.0.1:$((GATEWAY_PORT + i))/ready" "gateway"; done

G="http://127.0.0.1:$GATEWAY_PORT"
# One line per gateway: with --gateways 3 an operator needs each public and operator address, not just the first.
GATEWAY_LINES=""
for i in $(seq 0 $((GATEWAYS - 1))); do
  g="http://127.0.0.1:$((GATEWAY_PORT + i))" a="http://127.0.0.1:$((GATEWAY_ADMIN_PORT + i))"
  label="gateway"; [ "$GATEWAYS" -gt 1 ] && label="gateway $((i + 1))"
  GATEWAY_LINES+="$(printf '    %-10s %s   (health: %s/health, ready: %s/ready)' "$label" "$g" "$g" "$g")"$'\n'
  GATEWAY_LINES+="$(printf '    %-10s %s   (loopback only; dashboard: %s/gateway/dashboard, status: %s/gateway/status, metrics: %s/metrics)' "operator" "$a" "$a" "$a" "$a")"$'\n'
done
cat <<MSG

  The stack is up.
${GATEWAY_LINES}               (the public ports answer 404 for /metrics and /gateway/*)
    backend    http://127.0.0.1:$BACKEND_PORT   (OpenAPI: http://127.0.0.1:$BACKEND_PORT/openapi/v1.json)
               (the gateway proxies to it over HTTP/2, h2c, on http://127.0.0.1:$BACKEND_H2C_PORT)
    redis      127.0.0.1:$REDIS_PORT      postgres  127.0.0.1:$POSTGRES_PORT (user app, db auth)
    logs       .local/logs/

  Walkthrough (copy-paste into another shell):

    G=$G
    curl -sS -X POST \$G/auth/register -H 'content-type: application/json' -w ' (register: HTTP %{http_code})\n' \\
      -d '{"email":"ada@example.com","password":"correct horse battery","name":"Ada"}'
    LOGIN=\$(curl -sS -X POST \$G/auth/login -H 'content-type: application/json' \\
      -d '{"email":"ada@example.com","password":"correct horse battery"}')
    TOKEN=\$(printf '%s' "\$LOGIN" | sed -nE 's/.*"token":"([^"]+)".*/\1/p')
    if [ -z "\$TOKEN" ]; then echo "login failed, so the walkthrough stops here. The gateway answered: \${LOGIN:-nothing}"; else
    curl -s \$G/auth/me -H "authorization: Bearer \$TOKEN" -i | grep -iE '^(HTTP|x-cache|x-route-class|x-db-queries)'
    ORG=\$(curl -s -X POST \$G/orgs -H "authorization: Bearer \$TOKEN" -H 'content-type: application/json' \\
      -d '{"name":"Acme"}' | sed -E 's/.*"id":"([^"]+)".*/\1/')
    curl -s "\$G/authz/check?org=\$ORG&permission=members:write" -H "authorization: Bearer \$TOKEN"; echo
    curl -s \$G/users/me/sessions -H "authorization: Bearer \$TOKEN"; echo
    curl -s -X POST \$G/auth/logout -H "authorization: Bearer \$TOKEN" -o /dev/null -w 'logout: %{http_code}\n'
    curl -s \$G/auth/me -H "authorization: Bearer \$TOKEN" -o /dev/null -w 'me after logout: %{http_code}\n'
    fi

  Press Ctrl-C to stop everything.
MSG

# Exit (and clean up) as soon as any process of the stack dies, or on Ctrl-C.
wait -n
log "a process of the stack exited; see .local/logs"
exit 1
