#!/usr/bin/env bash
# Runs every test of the solution against real Redis and PostgreSQL (started by the tests' own fixtures
# on free ports in temp dirs) and ends with one line: "N passed, N failed".
set -uo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$REPO_ROOT"

# In a subshell: ensure_packages dies on a missing package it cannot install, and CI reads the last line, which must
# still be the summary.
( ensure_packages redis-server:redis-server initdb:postgresql libsodium.so.23:libsodium23 \
  chromium:chromium prometheus:prometheus node:nodejs wrk:wrk openssl:openssl curl:curl nginx:nginx-light ) \
  || { echo "0 passed, 1 failed"; exit 1; }

results="$REPO_ROOT/TestResults"
rm -rf "$results"; mkdir -p "$results"

# Servers a crashed run's fixtures left: redis-server and postgres work in their fixture's temp dir (gwtest-*), whose
# 'owner' file names the test process that started them. Stopped only when that process is gone: a run still going
# elsewhere on the machine (another checkout, a second terminal) keeps its servers. (Matching command lines missed
# Redis, which rewrites its process title, and stopped every other run's PostgreSQL.)
cleanup_leftovers() {
  local proc cwd owner
  for proc in /proc/[0-9]*; do
    cwd=$(readlink "$proc/cwd" 2>/dev/null) || continue
    [[ "$cwd" =~ ^(.*/gwtest-(redis|pg|pgstandby)-[^/]+) ]] || continue
    owner=$(cat "${BASH_REMATCH[1]}/owner" 2>/dev/null) || owner=""
    [ -n "$owner" ] && kill -0 "$owner" 2>/dev/null && continue
    kill "${proc#/proc/}" 2>/dev/null || true
  done
}
cleanup_leftovers
trap cleanup_leftovers EXIT

log "building"
dotnet build Gateway.sln -c Release -nologo -clp:ErrorsOnly || { echo "0 passed, 1 failed"; exit 1; }

log "running tests"
# -m:1: one test assembly at a time; each starts its own Redis/PostgreSQL, and fault tests on 2 cores are calmer alone.
dotnet test Gateway.sln -c Release --no-build -nologo -m:1 \
  --logger "trx" --logger "console;verbosity=normal" --results-directory "$results" \
  --blame-hang-timeout 10m -- "$@" 2>&1 | tee "$results/console.log"
status=${PIPESTATUS[0]}

# Per assembly, the console logger ends with "Total tests: N" then "     Passed: N" / "     Failed: N".
passed=$(awk '/^ +Passed: +[0-9]+ *$/ { n += $2 } END { print n + 0 }' "$results/console.log")
failed=$(awk '/^ +Failed: +[0-9]+ *$/ { n += $2 } END { print n + 0 }' "$results/console.log")
# A run that crashed before reporting must not look green.
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
# CI keeps only the tail of the output: repeat each failure (name, message, top of the stack) just above the summary.
if [ "$failed" -gt 0 ]; then
  echo "---- failed tests ----"
  awk '/^  Failed [^ ]/ { n = 14 } n > 0 { print; n-- }' "$results/console.log" | cut -c1-400
  echo "----------------------"
fi
echo "$passed passed, $failed failed"
exit "$status"
