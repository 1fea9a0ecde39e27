#!/usr/bin/env bash
# Two builds (or settings) of one proxy compared under the same load at the same time (docs/performance.md,
# "Nineteenth pass"). On a shared 2-core host, consecutive 3 s rounds of one gateway differ by up to ±15 % in CPU per
# request, more than most changes move it; loading A and B at once, each with half the connections, puts every slow
# spell on both, so the ratio of their CPU per request is steady to a few percent.
#
#   bench/profile/ab.sh ROUNDS URL_A PID_A URL_B PID_B [-- wrk options...]
#   e.g. bench/profile/ab.sh 8 http://127.0.0.1:18082/bench/anonymous/health "$(cat a.pid)" \
#                              http://127.0.0.1:18083/bench/anonymous/health "$(cat b.pid)"
#
# Each round: wrk -t1 -c32 -d5s against each URL at once. Prints per round each side's req/s and CPU µs per request
# (utime + stime from /proc/PID/stat over its requests) and the ratio B/A, then the geometric mean of the ratios with a
# 90 % interval (t over the rounds). With ADMIN_A / ADMIN_B set to the gateways' operator URLs, also the bytes each
# allocated per request (dotnet_gc_heap_total_allocated_bytes_total from /metrics; the scrapes' own are negligible).
set -euo pipefail
ROUNDS="${1:?rounds}"; URL_A="${2:?URL of A}"; PID_A="${3:?PID of A}"; URL_B="${4:?URL of B}"; PID_B="${5:?PID of B}"
shift 5; [ "${1:-}" = "--" ] && shift
for p in "$PID_A" "$PID_B"; do kill -0 "$p" 2>/dev/null || { echo "no process $p" >&2; exit 1; }; done
command -v wrk >/dev/null || { echo "wrk is missing (Debian: apt-get install wrk)" >&2; exit 1; }
OUT="$(mktemp -d)"; trap 'rm -rf "$OUT"' EXIT

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
allocated() { [ -n "${1:-}" ] && curl -fsS "$1/metrics" | awk '/^dotnet_gc_heap_total_allocated_bytes_total/ {printf "%.0f", $2}' || echo 0; }
requests() { awk '/requests in/ {print $1}' "$1"; }
TICK="$(getconf CLK_TCK)"

# Warm-up: tiered compilation reaches optimized code under load.
wrk -t1 -c32 -d10s "$@" "$URL_A" >/dev/null & wrk -t1 -c32 -d10s "$@" "$URL_B" >/dev/null; wait

printf '%-6s %10s %10s %10s %10s %8s %9s %9s\n' round "A req/s" "B req/s" "A µs/req" "B µs/req" "B/A" "A B/req" "B B/req"
: >"$OUT/ratios"
for r in $(seq 1 "$ROUNDS"); do
  a0="$(ticks "$PID_A")"; b0="$(ticks "$PID_B")"; ma0="$(allocated "${ADMIN_A:-}")"; mb0="$(allocated "${ADMIN_B:-}")"
  wrk -t1 -c32 -d5s "$@" "$URL_A" >"$OUT/a" & wrk -t1 -c32 -d5s "$@" "$URL_B" >"$OUT/b"; wait
  a1="$(ticks "$PID_A")"; b1="$(ticks "$PID_B")"; ma1="$(allocated "${ADMIN_A:-}")"; mb1="$(allocated "${ADMIN_B:-}")"
  na="$(requests "$OUT/a")"; nb="$(requests "$OUT/b")"
  awk -v r="$r" -v na="$na" -v nb="$nb" -v a="$((a1 - a0))" -v b="$((b1 - b0))" -v t="$TICK" \
      -v ma="$((ma1 - ma0))" -v mb="$((mb1 - mb0))" 'BEGIN {
    ca = a / t * 1e6 / na; cb = b / t * 1e6 / nb
    printf "%-6d %10.0f %10.0f %10.1f %10.1f %8.3f %9.0f %9.0f\n", r, na / 5, nb / 5, ca, cb, cb / ca, ma / na, mb / nb
    print cb / ca >> "'"$OUT/ratios"'" }'
done
python3 - "$OUT/ratios" <<'PY'
import math, statistics, sys
logs = [math.log(float(x)) for x in open(sys.argv[1]) if x.strip()]
mean = statistics.mean(logs)
# Student's t at 90 % two-sided for n-1 degrees of freedom (n up to 30; beyond, the normal's 1.645).
t = [6.314, 2.920, 2.353, 2.132, 2.015, 1.943, 1.895, 1.860, 1.833, 1.812, 1.796, 1.782, 1.771, 1.761, 1.753,
     1.746, 1.740, 1.734, 1.729, 1.725, 1.721, 1.717, 1.714, 1.711, 1.708, 1.706, 1.703, 1.701, 1.699]
half = (t[len(logs) - 2] if len(logs) - 2 < len(t) else 1.645) * statistics.stdev(logs) / math.sqrt(len(logs)) if len(logs) > 1 else 0
print("B/A CPU per request: %.3f [%.3f-%.3f] (geometric mean of %d rounds, 90 %% interval)"
      % (math.exp(mean), math.exp(mean - half), math.exp(mean + half), len(logs)))
PY
