#!/usr/bin/env bash
# Monthly maintenance: validate the index, check migrations and config, back up, prune, capacity.
#
# Usage: monthly_maintenance.sh [--keep-days N] [--dry-run]
#   --keep-days N  delete backups older than N days from $LAPCE_AI_BACKUP_DIR (default 90)
#   --dry-run      report only: no backup, nothing deleted
# Steps: lapce-index validate --detailed, migrate --dry-run, lapce-ai-service --check-config,
# backup_state.sh, prune old backups, capacity numbers (index size, chunks, RSS, disk).
# Exit 1 when validation or the config check fails.
source "$(dirname "$0")/_common.sh"
handle_help "$@"

keep_days=90
while [[ $# -gt 0 ]]; do
    case "$1" in
        --keep-days) keep_days="$2"; shift 2 ;;
        --dry-run) DRY_RUN=1; shift ;;
        *) die "unknown argument $1 (see --help)" ;;
    esac
done
CHECK_FAILS=0
echo "== 1. index validation"
if "$LAPCE_INDEX" validate --index "$LAPCE_AI_INDEX" --detailed; then check PASS validate "$LAPCE_AI_INDEX"
else check FAIL validate "run ./scripts/rebuild_index.sh or restore_from_backup.sh"; fi
echo "== 2. schema migrations"
"$LAPCE_INDEX" migrate --index "$LAPCE_AI_INDEX" --to latest --dry-run || check WARN migrate "see above"
echo "== 3. configuration"
if [[ -f "$LAPCE_AI_CONFIG" ]]; then
    "$LAPCE_SERVICE" --config "$LAPCE_AI_CONFIG" --check-config && check PASS config "$LAPCE_AI_CONFIG" \
        || check FAIL config "$LAPCE_AI_CONFIG is invalid"
else
    check WARN config "no $LAPCE_AI_CONFIG: built-in defaults"
fi
echo "== 4. backup"
if [[ "$DRY_RUN" == 1 ]]; then "$SCRIPTS_DIR/backup_state.sh" --dry-run; else "$SCRIPTS_DIR/backup_state.sh"; fi
echo "== 5. prune backups older than $keep_days days"
if [[ -d "$LAPCE_AI_BACKUP_DIR" ]]; then
    find "$LAPCE_AI_BACKUP_DIR" -maxdepth 1 -type f \( -name 'indices-*' -o -name 'config-backup-*' -o -name 'cache-backup-*' -o -name 'state-*' \) -mtime +"$keep_days" -print \
        | while read -r old; do run rm -f -- "$old"; done
fi
echo "== 6. capacity"
"$LAPCE_INDEX" stats --index "$LAPCE_AI_INDEX" || true
if metrics="$(api /metrics 2>/dev/null)"; then
    echo "service RSS: $(human_bytes "$(metric_sum semantic_search_memory_rss_bytes <<<"$metrics")")"
fi
for dir in "$LAPCE_AI_INDEX" "$LAPCE_AI_CACHE"; do
    [[ -d "$dir" ]] && echo "$dir: $(du -sh "$dir" | cut -f1), filesystem $(df -P "$dir" | awk 'NR == 2 { print $5 }') full"
done
echo "monthly maintenance done: $CHECK_FAILS failed"
[[ "$CHECK_FAILS" -eq 0 ]]
