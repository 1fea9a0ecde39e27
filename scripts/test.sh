#!/usr/bin/env bash
# Runs every test of the solution against real Redis and PostgreSQL (started by the tests' own fixtures
# on free ports in temp dirs) and ends with one line: "N passed, N failed".
set -uo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$REPO_ROOT"

ensure_packages redis-server:redis-server initdb:postgresql lib:libsodium.so.23:libsodium23 \
  chromium:chromium prometheus:prometheus node:nodejs

results="$REPO_ROOT/TestResults"
rm -rf "$results"; mkdir -p "$results"

# Fixtures name their temp dirs gwtest-*; anything left by a crashed run is ours to stop.
cleanup_leftovers() { pkill -f 'gwtest-(redis|pg)-' 2>/dev/null || true; }
cleanup_leftovers
trap cleanup_leftovers EXIT

log "building"
dotnet build Gateway.sln -c Release -nologo -clp:ErrorsOnly || { echo "0 passed, 1 failed"; exit 1; }

log "running tests"
dotnet test Gateway.sln -c Release --no-build -nologo \
  --logger "trx" --logger "console;verbosity=minimal" --results-directory "$results" \
  --blame-hang-timeout 10m -- "$@"
status=$?

passed=0; failed=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  p=$(sed -E 's/.* passed="([0-9]+)".*/\1/' <<<"$counters")
  f=$(sed -E 's/.* failed="([0-9]+)".*/\1/' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
done
# A run that crashed before writing results must not look green.
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "$passed passed, $failed failed"
exit "$status"
