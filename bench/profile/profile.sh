#!/usr/bin/env bash
# Where a proxy's CPU goes, per stage, under load (docs/performance.md, "Third pass"). Needs perf (Debian: linux-perf),
# wrk and python3; run as root or with kernel.perf_event_paranoid <= 1. The process must have been started with
# DOTNET_PerfMapEnabled=1 (JIT symbols) and DOTNET_EnableWriteXorExecute=0 (frames resolvable).
#
#   bench/profile/profile.sh PID URL [SECONDS] [-- wrk options...]
#   e.g. bench/profile/profile.sh "$(cat .local/bench/stack/pids/gateway-18080.pid)" http://127.0.0.1:18080/bench/session/health 10 -- -H "Authorization: Bearer $TOKEN"
#
# Loads the URL with wrk -t2 -c64 (a 20 s warm-up first), records 999 Hz call stacks of PID meanwhile, and prints µs per
# request by stage (bench/profile/stages.py) and by module. Files: .local/profile/.
set -euo pipefail
cd "$(dirname "$0")/../.."
PID="${1:?PID of the process to profile}"; URL="${2:?URL to load}"; SECONDS_="${3:-10}"
shift $(( $# < 3 ? $# : 3 )); [ "${1:-}" = "--" ] && shift
command -v perf >/dev/null || { echo "perf is missing (Debian: apt-get install linux-perf)" >&2; exit 1; }
kill -0 "$PID" 2>/dev/null || { echo "no process $PID" >&2; exit 1; }
OUT=.local/profile; mkdir -p "$OUT"
# Warm-up long enough for tiered compilation to reach optimized code under load (5 s left most methods quick-jitted).
wrk -t2 -c64 -d20s "$@" "$URL" >/dev/null
wrk -t2 -c64 -d"$((SECONDS_ + 4))s" "$@" "$URL" >"$OUT/wrk.txt" &
WRK=$!
sleep 2
perf record -F 999 -e cpu-clock -g -p "$PID" -o "$OUT/perf.data" -- sleep "$SECONDS_" 2>/dev/null
wait "$WRK"
# wrk's rate over its whole run, times the seconds perf recorded: the requests the samples belong to.
REQUESTS="$(awk -v s="$SECONDS_" '/^Requests\/sec/ { printf "%d", $2 * s }' "$OUT/wrk.txt")"
[ -n "$REQUESTS" ] && [ "$REQUESTS" -gt 0 ] || { echo "wrk measured nothing:" >&2; cat "$OUT/wrk.txt" >&2; exit 1; }
perf script -i "$OUT/perf.data" -F ip,sym 2>/dev/null | sed -E 's/^\s+[0-9a-f]+ //' >"$OUT/stacks.txt"
echo "== µs per request by stage ($REQUESTS requests)"
python3 bench/profile/stages.py "$OUT/stacks.txt" "$REQUESTS"
echo "== µs per request by module"
perf report -i "$OUT/perf.data" -n --no-children --sort dso -g none 2>/dev/null | awk -v r="$REQUESTS" '!/^#/ && NF >= 3 { printf "%7.2f µs  %s\n", $2 * 1001 / r, $3 " " $4 " " $5 }' | head -15
