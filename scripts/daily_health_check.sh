#!/usr/bin/env bash
# Daily health check: service health, error rate, memory, indexer, disk, last backup.
#
# Usage: daily_health_check.sh [--url URL] [--max-rss-gb N] [--max-backup-age-hours N]
#   --max-rss-gb N              memory alert threshold (default 3, as the runbook's alert)
#   --max-backup-age-hours N    newest backup in $LAPCE_AI_BACKUP_DIR must be younger (default 26)
# One line per check (PASS/WARN/FAIL). Exit 1 when any check FAILs.
source "$(dirname "$0")/_common.sh"
handle_help "$@"

max_rss_gb=3 max_backup_age=26
while [[ $# -gt 0 ]]; do
    case "$1" in
        --url) LAPCE_AI_URL="$2"; shift 2 ;;
        --max-rss-gb) max_rss_gb="$2"; shift 2 ;;
        --max-backup-age-hours) max_backup_age="$2"; shift 2 ;;
        *) die "unknown argument $1 (see --help)" ;;
    esac
done
CHECK_FAILS=0 CHECK_WARNS=0
echo "daily health check $(date '+%Y-%m-%d %H:%M') — $LAPCE_AI_URL"
if health="$(api /health 2>/dev/null)"; then
    status="$(json_get status <<<"$health")"
    case "$status" in
        healthy) check PASS health "cst_enabled=$(json_get cst_enabled <<<"$health") cache_hit_rate=$(json_get cache_hit_rate <<<"$health")" ;;
        degraded) check WARN health "degraded: $(json_get reasons <<<"$health")" ;;
        *) check FAIL health "$status" ;;
    esac
else
    check FAIL health "service unreachable at $LAPCE_AI_URL"
fi
[[ "$(http_status /ready)" == 200 ]] && check PASS ready || check FAIL ready "not ready"
if metrics="$(api /metrics 2>/dev/null)"; then
    errors="$(metric_sum semantic_search_errors_total <<<"$metrics")"; errors="${errors:-0}"
    requests="$(metric_sum semantic_search_requests_total <<<"$metrics")"; requests="${requests:-0}"
    rate="$(awk -v e="$errors" -v r="$requests" 'BEGIN { printf "%.2f", (r > 0 ? 100 * e / r : 0) }')"
    if awk -v x="$rate" 'BEGIN { exit !(x > 5) }'; then check FAIL error-rate "$rate% ($errors errors / $requests requests since start)"
    elif awk -v x="$rate" 'BEGIN { exit !(x > 1) }'; then check WARN error-rate "$rate% ($errors / $requests)"
    else check PASS error-rate "$rate% ($errors / $requests since start)"; fi
    rss="$(metric_sum semantic_search_memory_rss_bytes <<<"$metrics")"
    if awk -v b="${rss:-0}" -v g="$max_rss_gb" 'BEGIN { exit !(b > g * 1073741824) }'; then
        check FAIL memory "RSS $(human_bytes "$rss") > ${max_rss_gb} GB"
    else
        check PASS memory "RSS $(human_bytes "${rss:-0}")"
    fi
else
    check FAIL metrics "GET /metrics failed"
fi
if stats="$(api /indexer/stats 2>/dev/null)"; then
    running="$(json_get running <<<"$stats")" depth="$(json_get queue_depth <<<"$stats")"
    if [[ "$running" == true ]]; then check PASS indexer "running, queue_depth=$depth, files_indexed=$(json_get files_indexed <<<"$stats")"
    else check WARN indexer "lapce-ai-indexer not running (search still serves; index may go stale)"; fi
    if [[ "$(json_get refine.enabled <<<"$stats")" == true ]]; then  # two-stage index
        refined="$(json_get refine.refined <<<"$stats")/$(json_get refine.total <<<"$stats")"
        if [[ "$(json_get refine.state <<<"$stats")" == error ]]; then
            check WARN refine "$refined refined; last error: $(json_get refine.last_error <<<"$stats")"
        else check PASS refine "$refined chunks refined ($(json_get refine.state <<<"$stats"))"; fi
    fi
fi
for dir in "$LAPCE_AI_INDEX" "$LAPCE_AI_CACHE"; do
    [[ -d "$dir" ]] || { check WARN disk "$dir does not exist"; continue; }
    used="$(df -P "$dir" | awk 'NR == 2 { sub("%", "", $5); print $5 }')"
    size="$(du -sh "$dir" 2>/dev/null | cut -f1)"
    if [[ "$used" -ge 90 ]]; then check FAIL disk "$dir: filesystem ${used}% full ($size used here)"
    elif [[ "$used" -ge 80 ]]; then check WARN disk "$dir: filesystem ${used}% full ($size)"
    else check PASS disk "$dir: filesystem ${used}% full ($size)"; fi
done
# shellcheck disable=SC2012
newest="$(ls -1t "$LAPCE_AI_BACKUP_DIR"/indices-*.tar.gz 2>/dev/null | head -1 || true)"
if [[ -z "$newest" ]]; then
    check WARN backup "no backup in $LAPCE_AI_BACKUP_DIR (./scripts/backup_state.sh)"
else
    age_h=$(( ( $(date +%s) - $(stat -c %Y "$newest") ) / 3600 ))
    if [[ "$age_h" -gt "$max_backup_age" ]]; then check WARN backup "newest is ${age_h}h old: $newest"
    else check PASS backup "$(basename "$newest") (${age_h}h old)"; fi
fi
echo "summary: $CHECK_FAILS failed, $CHECK_WARNS warnings"
[[ "$CHECK_FAILS" -eq 0 ]]
