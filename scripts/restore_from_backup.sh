#!/usr/bin/env bash
# Disaster recovery: restore the index (and optionally the configuration) from a dated backup.
#
# Usage: restore_from_backup.sh --date YYYYMMDD [--with-config] [--index DIR] [--dry-run]
#   --date YYYYMMDD  restore $LAPCE_AI_BACKUP_DIR/indices-YYYYMMDD*.tar.gz (the newest of that day)
#   --with-config    also extract config-backup-YYYYMMDD.tar.gz over / (config and env file)
#   --index DIR      index to replace (default: $LAPCE_AI_INDEX)
# Then validate: ./lapce-index validate --index DIR, and start the services.
source "$(dirname "$0")/_common.sh"
handle_help "$@"

date_arg="" with_config=0 index="$LAPCE_AI_INDEX"
while [[ $# -gt 0 ]]; do
    case "$1" in
        --date) date_arg="$2"; shift 2 ;;
        --with-config) with_config=1; shift ;;
        --index) index="$2"; shift 2 ;;
        --dry-run) DRY_RUN=1; shift ;;
        *) die "unknown argument $1 (see --help)" ;;
    esac
done
[[ "$date_arg" =~ ^[0-9]{8}$ ]] || die "--date YYYYMMDD is required (see --help)"
# shellcheck disable=SC2012
archive="$(ls -1t "$LAPCE_AI_BACKUP_DIR"/indices-"$date_arg"*.tar.gz 2>/dev/null | head -1 || true)"
[[ -n "$archive" ]] || die "no index backup for $date_arg in $LAPCE_AI_BACKUP_DIR"
log "restoring $archive"
args=(--backup "$archive" --index "$index")
[[ "$DRY_RUN" == 1 ]] && args+=(--dry-run)
"$SCRIPTS_DIR/restore_index.sh" "${args[@]}"
if [[ "$with_config" == 1 ]]; then
    config_archive="$LAPCE_AI_BACKUP_DIR/config-backup-$date_arg.tar.gz"
    [[ -f "$config_archive" ]] || die "no configuration backup: $config_archive"
    run tar xzf "$config_archive" -C /
    log "configuration restored from $config_archive"
fi
log "done; next: systemctl start $LAPCE_AI_SERVICE_UNIT $LAPCE_AI_INDEXER_UNIT"
