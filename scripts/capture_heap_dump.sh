#!/usr/bin/env bash
# Capture a heap dump of lapce-ai-service (or the indexer) for a memory investigation.
#
# Usage: capture_heap_dump.sh [--pid PID] [--out DIR] [--core]
#   --pid PID  process to dump (default: $LAPCE_AI_PID, systemd's MainPID, or pgrep)
#   --out DIR  where the bundle goes (default: $LAPCE_AI_REPORT_DIR)
#   --core     also write a full core file with gcore (large; needs gdb)
# Sends SIGUSR1: the process writes a heap report (objects by type, GC stats, allocation sites
# when started with PYTHONTRACEMALLOC=25, every thread's stack) to $LAPCE_AI_CACHE/heapdumps/.
# The bundle adds /proc memory maps, /metrics and /health/detailed; prints the .tar.gz path last.
source "$(dirname "$0")/_common.sh"
handle_help "$@"

pid="" out="$LAPCE_AI_REPORT_DIR" core=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --pid) pid="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        --core) core=1; shift ;;
        *) die "unknown argument $1 (see --help)" ;;
    esac
done
[[ -n "$pid" ]] || pid="$(service_pid)"
[[ -n "$pid" && -d "/proc/$pid" ]] || die "no such process: ${pid:-?} (set --pid or LAPCE_AI_PID)"
dir="$out/heap-$pid-$(stamp_time)"
mkdir -p "$dir"
before="$(ls -1 "$LAPCE_AI_CACHE/heapdumps" 2>/dev/null | sort || true)"
kill -USR1 "$pid"
for _ in $(seq 1 100); do
    new="$(comm -13 <(echo "$before") <(ls -1 "$LAPCE_AI_CACHE/heapdumps" 2>/dev/null | grep -v '\.tmp$' | sort) | tail -1)"
    [[ -n "$new" ]] && break
    sleep 0.1
done
if [[ -n "${new:-}" ]]; then
    cp "$LAPCE_AI_CACHE/heapdumps/$new" "$dir/heap-report.json"
    log "heap report: $LAPCE_AI_CACHE/heapdumps/$new"
else
    warn "no heap report appeared in $LAPCE_AI_CACHE/heapdumps (is LAPCE_AI_CACHE the service's cache_dir?)"
fi
for f in status smaps_rollup limits cmdline; do cat "/proc/$pid/$f" > "$dir/proc-$f.txt" 2>/dev/null || true; done
ls /proc/"$pid"/fd 2>/dev/null | wc -l > "$dir/open-fds.txt" || true
ps -o pid,ppid,rss,vsz,pcpu,etime,args -p "$pid" > "$dir/ps.txt" 2>/dev/null || true
api /metrics > "$dir/metrics.txt" 2>/dev/null || true
api /health/detailed > "$dir/health-detailed.json" 2>/dev/null || true
if command -v py-spy >/dev/null 2>&1; then py-spy dump --pid "$pid" > "$dir/py-spy.txt" 2>&1 || true; fi
if [[ "$core" == 1 ]]; then
    need gcore
    gcore -o "$dir/core" "$pid" >/dev/null
fi
tar czf "$dir.tar.gz" -C "$out" "$(basename "$dir")"
rm -rf "$dir"
echo "$dir.tar.gz"
