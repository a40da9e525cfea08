#!/usr/bin/env bash
# Performance profile: drive search load for a while, report QPS and latency, profile the service.
#
# Usage: perf_profile.sh [--duration 60s] [--concurrency N] [--url URL] [--out DIR] [--no-load]
#   --duration D     how long: 60s, 5m, ... (default 60s; at most 1h)
#   --concurrency N  parallel clients (default 4)
#   --no-load        only observe (production traffic), send no requests
# Reports client-side QPS and p50/p95/p99 (bench/load.py), the server-side latency histogram over
# the window (semantic_search_latency_seconds), CPU and RSS of the service, and with py-spy
# installed a flame graph of the service ($LAPCE_AI_REPORT_DIR/perf-*.svg).
source "$(dirname "$0")/_common.sh"
handle_help "$@"

duration=60s concurrency=4 out="$LAPCE_AI_REPORT_DIR" load=1
while [[ $# -gt 0 ]]; do
    case "$1" in
        --duration) duration="$2"; shift 2 ;;
        --concurrency) concurrency="$2"; shift 2 ;;
        --url) LAPCE_AI_URL="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        --no-load) load=0; shift ;;
        *) die "unknown argument $1 (see --help)" ;;
    esac
done
seconds="$(duration_seconds "$duration")"
[[ "$seconds" =~ ^[0-9]+$ && "$seconds" -ge 1 && "$seconds" -le 3600 ]] || die "--duration must be 1s..1h"
[[ "$(http_status /ready)" == 200 ]] || die "service not ready at $LAPCE_AI_URL"
mkdir -p "$out"
pid="$(service_pid)"
before="$(api /metrics)"
cpu_before="$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)"
profiler=""
if [[ -n "$pid" ]] && command -v py-spy >/dev/null 2>&1; then
    flame="$out/perf-$(stamp_time).svg"
    py-spy record --pid "$pid" --duration "$seconds" --output "$flame" --nonblocking >/dev/null 2>&1 &
    profiler=$!
fi
echo "profiling $LAPCE_AI_URL for ${seconds}s (concurrency $concurrency)"
if [[ "$load" == 1 ]]; then
    auth=()
    [[ -n "$LAPCE_AI_TOKEN" ]] && auth=(--token "$LAPCE_AI_TOKEN")
    "$PY" "$REPO_DIR/bench/load.py" client --url "$LAPCE_AI_URL" --duration "$seconds" --concurrency "$concurrency" "${auth[@]}"
else
    sleep "$seconds"
fi
after="$(api /metrics)"
cpu_after="$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)"
"$PY" - "$before" "$after" "$seconds" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
def hist(text):
    out = {}
    for f in text_string_to_metric_families(text):
        if f.name == "semantic_search_latency_seconds":
            for s in f.samples:
                if s.name.endswith("_bucket"):
                    out[float(s.labels["le"])] = s.value
                elif s.name.endswith("_sum"):
                    out["sum"] = s.value
    return out
a, b, secs = hist(sys.argv[1]), hist(sys.argv[2]), float(sys.argv[3])
buckets = sorted(k for k in b if k != "sum")
count = b.get(float("inf"), 0) - a.get(float("inf"), 0)
print(f"server side: {count:.0f} searches, {count / secs:.1f}/s", end="")
if count:
    print(f", mean {1000 * (b['sum'] - a.get('sum', 0)) / count:.1f} ms")
    for q in (0.5, 0.95, 0.99):
        bound = next(k for k in buckets if b[k] - a.get(k, 0) >= q * count)
        print(f"  p{int(q * 100)} <= {bound * 1000:.0f} ms (histogram bucket)")
else:
    print()
PY
hz="$(getconf CLK_TCK)"
echo "service CPU: $(awk -v a="$cpu_before" -v b="$cpu_after" -v hz="$hz" -v s="$seconds" 'BEGIN { printf "%.0f%% of one core", 100 * (b - a) / hz / s }')  RSS: $(human_bytes "$(metric_sum semantic_search_memory_rss_bytes <<<"$after")")"
if [[ -n "$profiler" ]]; then wait "$profiler" || true; echo "flame graph: $flame"; else echo "(install py-spy for a flame graph)"; fi
