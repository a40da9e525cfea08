#!/usr/bin/env bash
# Roll back the CST pipeline: by feature flag (no restart) or to the previous binary.
#
# Usage: rollback_cst.sh --type binary|flag [--version previous|NAME] [--dry-run] [--yes]
#   --type flag     turn the CST pipeline off: [features] cst_pipeline_enabled = false in
#                   $LAPCE_AI_CONFIG (and CST_PIPELINE_ENABLED=false where $LAPCE_AI_ENV_FILE
#                   sets it), check the config, reload the service and verify that /health
#                   reports "cst_enabled": false. Files go to the legacy parser as the indexer
#                   re-routes them. The config is saved first as FILE.bak-YYYYmmdd-HHMMSS.
#   --type binary   put back $LAPCE_AI_BIN_DIR/backups/lapce-ai-service.VERSION (default
#                   "previous", saved by backup_state.sh): stop the service, keep the current
#                   binary as backups/lapce-ai-service.rollback-TIMESTAMP, install, start, smoke test.
#                   Refused when both are scripts, not release binaries (a checkout's wrapper of its
#                   .venv: copying it would roll back no code; a checkout rolls back with git).
#   --dry-run       print what would be done
source "$(dirname "$0")/_common.sh"
handle_help "$@"

type="" version="previous"
while [[ $# -gt 0 ]]; do
    case "$1" in
        --type) type="$2"; shift 2 ;;
        --version) version="$2"; shift 2 ;;
        --dry-run) DRY_RUN=1; shift ;;
        --yes|-y) shift ;;
        *) die "unknown argument $1 (see --help)" ;;
    esac
done

rollback_flag() {
    local config="$LAPCE_AI_CONFIG" backup restart=0
    [[ -f "$config" ]] || die "no config file at $config (set LAPCE_AI_CONFIG)"
    backup="$config.bak-$(stamp_time)"
    run cp -p "$config" "$backup"
    if [[ "$DRY_RUN" == 1 ]]; then
        echo "[dry-run] set [features] cst_pipeline_enabled = false in $config"
    else
        toml_set "$config" features cst_pipeline_enabled false
    fi
    if [[ -f "$LAPCE_AI_ENV_FILE" ]] && grep -Eq '^[[:space:]]*CST_PIPELINE_ENABLED=' "$LAPCE_AI_ENV_FILE"; then
        # the environment overrides the file, and a process reads it only when it starts
        if [[ "$DRY_RUN" == 1 ]]; then echo "[dry-run] set CST_PIPELINE_ENABLED=false in $LAPCE_AI_ENV_FILE"
        else cp -p "$LAPCE_AI_ENV_FILE" "$LAPCE_AI_ENV_FILE.bak-$(stamp_time)"; env_set "$LAPCE_AI_ENV_FILE" CST_PIPELINE_ENABLED false; fi
        restart=1
    fi
    if [[ "$DRY_RUN" != 1 ]] && ! "$LAPCE_SERVICE" --config "$config" --check-config; then
        cp -p "$backup" "$config"
        die "the edited config does not validate; restored $backup"
    fi
    if [[ "$restart" == 1 ]] && has_unit "$LAPCE_AI_SERVICE_UNIT"; then
        run "$LAPCE_AI_SYSTEMCTL" restart "$LAPCE_AI_SERVICE_UNIT" "$LAPCE_AI_INDEXER_UNIT"
    else
        reload_service
    fi
    [[ "$DRY_RUN" == 1 ]] && return
    for _ in $(seq 1 50); do
        if [[ "$(api /health 2>/dev/null | json_get cst_enabled)" == false ]]; then
            log "rolled back: /health reports cst_enabled=false (config saved as $backup)"
            return
        fi
        sleep 0.2
    done
    die "the service still reports cst_enabled=true (check $LAPCE_AI_ENV_FILE and the logs)"
}

rollback_binary() {
    local bin="$LAPCE_AI_BIN_DIR/lapce-ai-service" previous="$LAPCE_AI_BIN_DIR/backups/lapce-ai-service.$version"
    [[ -f "$previous" ]] || die "no binary to roll back to: $previous"
    # Two scripts (a checkout's wrapper of its .venv, saved and current): nothing to roll back. A
    # wrapper saved before a release binary was copied over it goes back to the .venv's code.
    if ! is_release_binary "$previous" && ! { [[ -f "$bin" ]] && is_release_binary "$bin"; }; then
        local why="$previous and $bin are no release binaries (make release) but scripts, such as a checkout's"
        why+=" wrapper of its .venv: copying one over the other would roll back no code. In a checkout, roll"
        why+=" back with git: git -C $LAPCE_AI_BIN_DIR checkout COMMIT (the build /health reported before), then restart"
        if [[ "$DRY_RUN" == 1 ]]; then warn "$why"; else die "$why"; fi
    fi
    has_unit "$LAPCE_AI_SERVICE_UNIT" || [[ "$DRY_RUN" == 1 ]] || die "systemd unit $LAPCE_AI_SERVICE_UNIT not found"
    run "$LAPCE_AI_SYSTEMCTL" stop "$LAPCE_AI_SERVICE_UNIT"
    [[ -f "$bin" ]] && run cp -p "$bin" "$LAPCE_AI_BIN_DIR/backups/lapce-ai-service.rollback-$(stamp_time)"
    run cp -p "$previous" "$bin"
    run chmod +x "$bin"
    run "$LAPCE_AI_SYSTEMCTL" start "$LAPCE_AI_SERVICE_UNIT"
    if [[ "$DRY_RUN" != 1 ]]; then
        for _ in $(seq 1 60); do [[ "$(http_status /ready)" == 200 ]] && break; sleep 1; done
        "$SCRIPTS_DIR/smoke_test.sh"
        log "rolled back $bin to $previous"
    else
        log "dry run: would roll back $bin to $previous (nothing was changed)"
    fi
}

case "$type" in
    flag) rollback_flag ;;
    binary) rollback_binary ;;
    *) die "--type binary|flag is required (see --help)" ;;
esac
