#!/usr/bin/env bash
# Back up an index: a verified archive (lapce-index backup) plus its sha256.
#
# Usage: backup_index.sh [INDEX_DIR] [--dest DIR] [--keep N] [--dry-run]
#   INDEX_DIR   index to back up (default: $LAPCE_AI_INDEX, /var/lib/lapce-ai/indices)
#   --dest DIR  where the archive goes (default: $LAPCE_AI_BACKUP_DIR, /backups)
#   --keep N    afterwards keep only the newest N index backups there (default: keep all)
# Writes DIR/indices-YYYYMMDD.tar.gz (with -HHMMSS when that exists) and prints its path last.
# The index is validated first; an invalid index is not backed up (exit 1).
source "$(dirname "$0")/_common.sh"
handle_help "$@"

index="$LAPCE_AI_INDEX" dest="$LAPCE_AI_BACKUP_DIR" keep=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --dest) dest="$2"; shift 2 ;;
        --keep) keep="$2"; shift 2 ;;
        --dry-run) DRY_RUN=1; shift ;;
        -*) die "unknown option $1 (see --help)" ;;
        *) index="$1"; shift ;;
    esac
done
[[ -d "$index" ]] || die "no index directory: $index"
run mkdir -p "$dest"
out="$dest/indices-$(stamp).tar.gz"
[[ -e "$out" ]] && out="$dest/indices-$(stamp_time).tar.gz"
run "$LAPCE_INDEX" backup --index "$index" --out "$out"
if [[ "$DRY_RUN" != 1 ]]; then
    (cd "$dest" && sha256sum "$(basename "$out")" > "$(basename "$out").sha256")
    chmod 640 "$out" "$out.sha256" 2>/dev/null || true
fi
if [[ "$keep" -gt 0 ]]; then
    # shellcheck disable=SC2012
    ls -1t "$dest"/indices-*.tar.gz 2>/dev/null | tail -n +"$((keep + 1))" | while read -r old; do
        log "pruning old backup $old"
        run rm -f -- "$old" "$old.sha256"
    done
fi
echo "$out"
