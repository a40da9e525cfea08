#!/usr/bin/env bash
# Quick diagnostics: is the service up, what does it say about itself, what went wrong recently.
#
# Usage: diagnose.sh [--url URL]
# Prints: process and unit state, listening port, /health and /health/detailed summary, readiness,
# indexer state and queue depth, config check, error counters, recent ERROR log lines (journald),
# memory and disk. Read-only; always exits 0 (it reports, it does not judge: see system_check.sh).
source "$(dirname "$0")/_common.sh"
handle_help "$@"
while [[ $# -gt 0 ]]; do
    case "$1" in
        --url) LAPCE_AI_URL="$2"; shift 2 ;;
        *) die "unknown argument $1 (see --help)" ;;
    esac
done
section() { printf '\n== %s\n' "$1"; }

section "process"
pid="$(service_pid)"
if [[ -n "$pid" && -d "/proc/$pid" ]]; then
    ps -o pid,user,rss,pcpu,etime,args -p "$pid" | sed 's/^/  /'
else
    echo "  lapce-ai-service process not found"
fi
if has_unit "$LAPCE_AI_SERVICE_UNIT"; then
    "$LAPCE_AI_SYSTEMCTL" is-active "$LAPCE_AI_SERVICE_UNIT" "$LAPCE_AI_INDEXER_UNIT" 2>/dev/null | paste -sd' ' | sed 's/^/  units: /' || true
fi
port="$(sed -E 's#^[a-z]+://[^:/]+:?([0-9]*).*#\1#' <<<"$LAPCE_AI_URL")"; port="${port:-80}"
section "port $port"
(ss -tlnp 2>/dev/null | awk -v p=":$port" 'NR == 1 || index($4, p) { print "  " $0 }') || echo "  ss not available"

section "health"
echo "  alive: $(http_status /alive)  ready: $(http_status /ready)"
if detailed="$(api /health/detailed 2>/dev/null)"; then
    echo "  status: $(json_get status <<<"$detailed")  reasons: $(json_get reasons <<<"$detailed")"
    echo "  cst_enabled: $(json_get cst_enabled <<<"$detailed")  rollout: $(json_get features.rollout_percentage <<<"$detailed")%  cache_hit_rate: $(json_get cache_hit_rate <<<"$detailed")"
    echo "  index: $(json_get checks.index <<<"$detailed")"
    echo "  embedder: $(json_get checks.embedder <<<"$detailed")"
    echo "  last reload: $(json_get checks.config.last_reload <<<"$detailed")"
    echo "  indexer: running=$(json_get checks.indexer.running <<<"$detailed") queue_depth=$(json_get checks.indexer.queue_depth <<<"$detailed") last_error=$(json_get checks.indexer.last_error <<<"$detailed")"
    echo "  rss: $(human_bytes "$(json_get process.rss_bytes <<<"$detailed")")"
else
    echo "  service unreachable at $LAPCE_AI_URL"
fi

section "errors (since start)"
if metrics="$(api /metrics 2>/dev/null)"; then
    grep '^semantic_search_errors_total' <<<"$metrics" | awk '$NF > 0 { print "  " $0 }' || true
    grep -E '^(cst_errors_total|legacy_errors_total|aws_titan_throttles_total)' <<<"$metrics" | sed 's/^/  /' || true
fi

section "config"
if [[ -f "$LAPCE_AI_CONFIG" ]]; then "$LAPCE_SERVICE" --config "$LAPCE_AI_CONFIG" --check-config 2>&1 | sed 's/^/  /' || true
else echo "  no $LAPCE_AI_CONFIG (built-in defaults)"; fi

section "recent errors in the journal"
if command -v journalctl >/dev/null 2>&1; then
    journalctl -u "$LAPCE_AI_SERVICE_UNIT" --since "1 hour ago" -o cat --no-pager 2>/dev/null \
        | grep '"level": "ERROR"' | tail -10 | cut -c1-300 | sed 's/^/  /' || true
else
    echo "  journalctl not available"
fi

section "disk"
for dir in "$LAPCE_AI_INDEX" "$LAPCE_AI_CACHE"; do
    [[ -d "$dir" ]] && echo "  $dir: $(du -sh "$dir" 2>/dev/null | cut -f1), filesystem $(df -P "$dir" | awk 'NR == 2 { print $5 }') full" \
        || echo "  $dir: missing"
done
exit 0
