#!/usr/bin/env bash
# Check the service for a memory leak: sample semantic_search_memory_rss_bytes while it works.
#
# Usage: check_memory_leak.sh [--samples N] [--interval SECONDS] [--threshold-mb MB] [--load N]
#   --samples N        RSS samples to take (default 10)
#   --interval S       seconds between samples (default 6: one minute in all)
#   --threshold-mb MB  growth that counts as a leak when RSS also rose steadily (default 50)
#   --load N           send N search requests between samples, to exercise it (default 20)
# Exit 0: no leak seen. Exit 1: RSS grew by more than the threshold and rose at (almost) every
# sample. Then: systemctl restart lapce-ai-service, and ./scripts/capture_heap_dump.sh.
source "$(dirname "$0")/_common.sh"
handle_help "$@"

samples=10 interval=6 threshold=50 load=20
while [[ $# -gt 0 ]]; do
    case "$1" in
        --samples) samples="$2"; shift 2 ;;
        --interval) interval="$2"; shift 2 ;;
        --threshold-mb) threshold="$2"; shift 2 ;;
        --load) load="$2"; shift 2 ;;
        *) die "unknown argument $1 (see --help)" ;;
    esac
done
[[ "$samples" -ge 2 ]] || die "--samples must be at least 2"
queries=(router parser "config reload" cache error handler search index)
values=()
for ((i = 1; i <= samples; i++)); do
    rss="$(api /metrics | metric_sum semantic_search_memory_rss_bytes)" || die "cannot read $LAPCE_AI_URL/metrics"
    values+=("$rss")
    printf 'sample %2d/%d  rss %s\n' "$i" "$samples" "$(human_bytes "$rss")"
    if [[ "$i" -lt "$samples" ]]; then
        for ((j = 0; j < load; j++)); do
            api "/search?k=10&q=${queries[$((j % ${#queries[@]}))]// /%20}" >/dev/null 2>&1 || true
        done
        sleep "$interval"
    fi
done
printf '%s\n' "${values[@]}" | awk -v t="$threshold" '
    { v[NR] = $1 } END {
        rises = 0
        for (i = 2; i <= NR; i++) if (v[i] > v[i-1]) rises++
        growth = (v[NR] - v[1]) / 1048576
        printf "growth %.1f MB over %d samples (%d of %d intervals rising)\n", growth, NR, rises, NR - 1
        if (growth > t && rises >= (NR - 1) * 0.8) { print "POSSIBLE LEAK: restart the service and capture a heap dump (capture_heap_dump.sh)"; exit 1 }
        print "no leak detected"
    }'
