#!/usr/bin/env bash
# Back up everything needed to roll back a deployment: index, configuration, binary (and cache).
#
# Usage: backup_state.sh [--dest DIR] [--with-cache] [--dry-run]
#   --dest DIR      backup directory (default: $LAPCE_AI_BACKUP_DIR, /backups)
#   --with-cache    also archive $LAPCE_AI_CACHE (it can be rebuilt, so off by default)
# Writes, for today's date YYYYMMDD:
#   indices-YYYYMMDD.tar.gz         the index (backup_index.sh)
#   config-backup-YYYYMMDD.tar.gz   $(dirname $LAPCE_AI_CONFIG) and $LAPCE_AI_ENV_FILE, mode 600
#                                   (restore: tar xzf config-backup-YYYYMMDD.tar.gz -C /)
#   cache-backup-YYYYMMDD.tar.gz    with --with-cache
#   state-YYYYMMDD-HHMMSS.sha256    checksums of the above
# and copies $LAPCE_AI_BIN_DIR/lapce-ai-service to backups/lapce-ai-service.previous, which
# rollback_cst.sh --type binary --version previous puts back.
source "$(dirname "$0")/_common.sh"
handle_help "$@"

dest="$LAPCE_AI_BACKUP_DIR" with_cache=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --dest) dest="$2"; shift 2 ;;
        --with-cache) with_cache=1; shift ;;
        --dry-run) DRY_RUN=1; shift ;;
        *) die "unknown argument $1 (see --help)" ;;
    esac
done
run mkdir -p "$dest"
written=()
if [[ "$DRY_RUN" == 1 ]]; then
    "$SCRIPTS_DIR/backup_index.sh" "$LAPCE_AI_INDEX" --dest "$dest" --dry-run
else
    written+=("$("$SCRIPTS_DIR/backup_index.sh" "$LAPCE_AI_INDEX" --dest "$dest" | tail -1)")
fi

config_dir="$(dirname "$LAPCE_AI_CONFIG")"
parts=()
[[ -d "$config_dir" ]] && parts+=("${config_dir#/}")
[[ -f "$LAPCE_AI_ENV_FILE" ]] && parts+=("${LAPCE_AI_ENV_FILE#/}")
if [[ ${#parts[@]} -gt 0 ]]; then
    out="$dest/config-backup-$(stamp).tar.gz"
    (umask 077; run tar czf "$out" -C / "${parts[@]}")
    written+=("$out")
else
    warn "no configuration found ($config_dir, $LAPCE_AI_ENV_FILE)"
fi
if [[ "$with_cache" == 1 && -d "$LAPCE_AI_CACHE" ]]; then
    out="$dest/cache-backup-$(stamp).tar.gz"
    run tar czf "$out" -C / "${LAPCE_AI_CACHE#/}"
    written+=("$out")
fi
if [[ -f "$LAPCE_AI_BIN_DIR/lapce-ai-service" ]]; then
    run mkdir -p "$LAPCE_AI_BIN_DIR/backups"
    run cp -p "$LAPCE_AI_BIN_DIR/lapce-ai-service" "$LAPCE_AI_BIN_DIR/backups/lapce-ai-service.previous"
    log "binary saved as $LAPCE_AI_BIN_DIR/backups/lapce-ai-service.previous"
    is_release_binary "$LAPCE_AI_BIN_DIR/lapce-ai-service" || warn "$LAPCE_AI_BIN_DIR/lapce-ai-service is no release" \
        "binary but a script (a checkout's wrapper?): rolling back to it moves no code unless a release binary replaces it; roll a checkout back with git"
fi
if [[ "$DRY_RUN" != 1 && ${#written[@]} -gt 0 ]]; then
    manifest="$dest/state-$(stamp_time).sha256"
    (cd "$dest" && sha256sum "${written[@]##*/}") > "$manifest"
    log "state backed up:"
    printf '  %s\n' "${written[@]}" "$manifest"
fi
