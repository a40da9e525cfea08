#!/usr/bin/env bash
# Memory profile of lapce-ai-service: RSS over time, where the memory is, and (optionally) a heap dump.
#
# Usage: memory_profile.sh [--heap-dump] [--samples N] [--interval S] [--pid PID]
#   --heap-dump   also run capture_heap_dump.sh (objects by type, allocation sites, stacks)
#   --samples N   RSS samples (default 5), --interval S seconds apart (default 2)
source "$(dirname "$0")/_common.sh"
handle_help "$@"

heap=0 samples=5 interval=2 pid=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --heap-dump) heap=1; shift ;;
        --samples) samples="$2"; shift 2 ;;
        --interval) interval="$2"; shift 2 ;;
        --pid) pid="$2"; shift 2 ;;
        *) die "unknown argument $1 (see --help)" ;;
    esac
done
[[ -n "$pid" ]] || pid="$(service_pid)"
[[ -n "$pid" && -r "/proc/$pid/status" ]] || die "no such process: ${pid:-?} (set --pid or LAPCE_AI_PID)"
echo "pid $pid: $(tr '\0' ' ' < "/proc/$pid/cmdline" | cut -c1-120)"
for ((i = 1; i <= samples; i++)); do
    awk -v i="$i" '/^VmRSS|^VmHWM|^RssAnon|^RssFile|^Threads/ { printf "%s %s %s  ", $1, $2, $3 } END { print "" }' "/proc/$pid/status" | sed "s/^/sample $i: /"
    [[ "$i" -lt "$samples" ]] && sleep "$interval"
done
echo "== smaps_rollup"
sed 's/^/  /' "/proc/$pid/smaps_rollup" 2>/dev/null | head -20 || echo "  (not readable)"
if metrics="$(api /metrics 2>/dev/null)"; then
    echo "semantic_search_memory_rss_bytes: $(human_bytes "$(metric_sum semantic_search_memory_rss_bytes <<<"$metrics")")"
fi
if [[ "$heap" == 1 ]]; then
    "$SCRIPTS_DIR/capture_heap_dump.sh" --pid "$pid"
fi
