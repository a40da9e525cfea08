#!/usr/bin/env bash
# shellcheck disable=SC2034  # DRY_RUN is read by run() in _common.sh
# Restore an index from a backup archive (atomic swap; the old index stays until the new one validates).
#
# Usage: restore_index.sh --backup FILE [--index DIR] [--dry-run]
#   --backup FILE  archive written by backup_index.sh / lapce-index backup
#   --index DIR    index to replace (default: $LAPCE_AI_INDEX, /var/lib/lapce-ai/indices)
# Checks FILE.sha256 when present, restores, then validates. A running lapce-ai-service notices
# the new index by itself within a second; restarting it (systemctl restart) is also fine.
source "$(dirname "$0")/_common.sh"
handle_help "$@"

backup="" index="$LAPCE_AI_INDEX"
while [[ $# -gt 0 ]]; do
    case "$1" in
        --backup) backup="$2"; shift 2 ;;
        --index) index="$2"; shift 2 ;;
        --dry-run) DRY_RUN=1; shift ;;  # read by run() in _common.sh
        *) die "unknown argument $1 (see --help)" ;;
    esac
done
[[ -n "$backup" ]] || die "--backup FILE is required (see --help)"
[[ -f "$backup" ]] || die "no such backup: $backup"
if [[ -f "$backup.sha256" ]]; then
    (cd "$(dirname "$backup")" && sha256sum --quiet -c "$(basename "$backup").sha256") \
        || die "checksum mismatch: $backup"
    log "checksum OK"
fi
run "$LAPCE_INDEX" restore --index "$index" --backup "$backup"
run "$LAPCE_INDEX" validate --index "$index"
log "restored $backup into $index"
