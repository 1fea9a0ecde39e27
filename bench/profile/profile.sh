#!/usr/bin/env bash
# Where a proxy's CPU goes, per stage, under load (docs/performance.md, "Third pass"). Needs perf (Debian: linux-perf),
# wrk and python3; run as root or with kernel.perf_event_paranoid <= 1. The process must have been started with
# DOTNET_PerfMapEnabled=1 (JIT symbols) and DOTNET_EnableWriteXorExecute=0 (frames resolvable).
#
#   bench/profile/profile.sh PID URL [SECONDS] [-- wrk options...]
#   e.g. bench/profile/profile.sh "$(cat .local/bench/stack/pids/gateway-18080.pid)" http://127.0.0.1:18080/bench/session/health 10 -- -H "Authorization: Bearer $TOKEN"
#
# Loads the URL with wrk -t2 -c64 (a 20 s warm-up first), records 999 Hz call stacks of the machine meanwhile and keeps
# PID's, and prints µs per request by stage (bench/profile/stages.py) and by module. Files: .local/profile/.
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
# System-wide (-a), then only this process's samples: `perf record -p` follows the threads that exist when it attaches,
# and a .NET process under load keeps starting thread-pool workers: recorded side by side, -p caught 85-90 % of the
# samples -a caught for the same process (docs/performance.md, "Sixteenth pass"). The CPU the kernel counted for the
# process meanwhile is printed beside the samples, as a check.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
CPU0="$(cpu_ticks)"; T0="$(date +%s.%N)"
perf record -F 999 -e cpu-clock -g -a -o "$OUT/perf.data" -- sleep "$SECONDS_" 2>/dev/null
CPU1="$(cpu_ticks)"; T1="$(date +%s.%N)"
wait "$WRK"
# wrk's rate over its whole run, times the seconds perf recorded: the requests the samples belong to.
REQUESTS="$(awk -v s="$SECONDS_" '/^Requests\/sec/ { printf "%d", $2 * s }' "$OUT/wrk.txt")"
[ -n "$REQUESTS" ] && [ "$REQUESTS" -gt 0 ] || { echo "wrk measured nothing:" >&2; cat "$OUT/wrk.txt" >&2; exit 1; }
perf script -i "$OUT/perf.data" --pid "$PID" -F ip,sym 2>/dev/null | sed -E 's/^\s+[0-9a-f]+ //' >"$OUT/stacks.txt"
SAMPLES="$(perf script -i "$OUT/perf.data" --pid "$PID" -F tid 2>/dev/null | wc -l)"
TICK="$(getconf CLK_TCK)"
# The kernel's count covers perf's start and stop too: scaled to the seconds recorded.
awk -v s="$SAMPLES" -v r="$REQUESTS" -v c="$((CPU1 - CPU0))" -v t="$TICK" -v w="$(awk -v a="$T0" -v b="$T1" 'BEGIN { print b - a }')" -v d="$SECONDS_" 'BEGIN {
  printf "== sampled %.1f µs per request; the kernel counted %.1f µs of CPU per request for the process meanwhile\n", s * 1001 / r, c / t / w * d * 1e6 / r }'
echo "== µs per request by stage ($REQUESTS requests)"
python3 bench/profile/stages.py "$OUT/stacks.txt" "$REQUESTS"
echo "== µs per request by module"
# The module of each sample's innermost frame (the first line of each call chain).
perf script -i "$OUT/perf.data" --pid "$PID" -F ip,dso 2>/dev/null | awk -v r="$REQUESTS" '
  BEGIN { first = 1 }
  NF == 0 { first = 1; next }
  first { first = 0; m = $0; sub(/^[ \t]*[0-9a-f]+ \(/, "", m); sub(/\)$/, "", m); sub(/^\/tmp\/perf-[0-9]+\.map$/, "JIT-compiled code", m); sub(/.*\//, "", m); n[m]++ }
  END { for (m in n) printf "%7.2f µs  %s\n", n[m] * 1001 / r, m }' | sort -rn | head -15
