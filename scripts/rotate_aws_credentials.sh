#!/usr/bin/env bash
# Rotate the service's AWS access key (used by the Titan embedder), keeping it working throughout.
#
# Usage: rotate_aws_credentials.sh [--user IAM_USER] [--env-file FILE] [--keep-old] [--no-restart] [--dry-run]
#   --user IAM_USER  the IAM user owning the key (default: $LAPCE_AI_IAM_USER, else the key's owner
#                    as `aws iam get-access-key-last-used` reports it)
#   --env-file FILE  where the key lives (default: $LAPCE_AI_ENV_FILE, /etc/default/lapce-ai)
#   --keep-old       deactivate the old key but do not delete it
#   --no-restart     do not restart the services (they read the key only at start)
# Steps: create a new key (aws iam create-access-key), write it into FILE (old file kept as
# FILE.bak-TIMESTAMP, mode 600), check it (aws sts get-caller-identity, retried while IAM
# propagates), restart lapce-ai-service and lapce-ai-indexer, deactivate then delete the old key.
# Secrets are never printed. Needs the aws CLI with IAM permissions for the user's keys.
source "$(dirname "$0")/_common.sh"
handle_help "$@"

user="${LAPCE_AI_IAM_USER:-}" env_file="$LAPCE_AI_ENV_FILE" keep_old=0 restart=1
while [[ $# -gt 0 ]]; do
    case "$1" in
        --user) user="$2"; shift 2 ;;
        --env-file) env_file="$2"; shift 2 ;;
        --keep-old) keep_old=1; shift ;;
        --no-restart) restart=0; shift ;;
        --dry-run) DRY_RUN=1; shift ;;
        *) die "unknown argument $1 (see --help)" ;;
    esac
done
[[ -f "$env_file" ]] || die "no environment file: $env_file"
old_key="$(env_get "$env_file" AWS_ACCESS_KEY_ID)"
[[ -n "$old_key" ]] || die "$env_file has no AWS_ACCESS_KEY_ID (the service may use an instance role: nothing to rotate)"
masked="${old_key:0:4}…${old_key: -4}"
log "current key: $masked"
if [[ "$DRY_RUN" == 1 ]]; then
    echo "[dry-run] aws iam create-access-key --user-name ${user:-<owner of $masked>}"
    echo "[dry-run] write AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY into $env_file (backup $env_file.bak-TIMESTAMP, mode 600)"
    echo "[dry-run] aws sts get-caller-identity with the new key"
    [[ "$restart" == 1 ]] && echo "[dry-run] $LAPCE_AI_SYSTEMCTL restart $LAPCE_AI_SERVICE_UNIT $LAPCE_AI_INDEXER_UNIT"
    echo "[dry-run] aws iam update-access-key --access-key-id $masked --status Inactive"
    [[ "$keep_old" == 1 ]] || echo "[dry-run] aws iam delete-access-key --access-key-id $masked"
    exit 0
fi
need aws
export AWS_ACCESS_KEY_ID="$old_key"
AWS_SECRET_ACCESS_KEY="$(env_get "$env_file" AWS_SECRET_ACCESS_KEY)"; export AWS_SECRET_ACCESS_KEY
unset AWS_SESSION_TOKEN
if [[ -z "$user" ]]; then
    user="$(aws iam get-access-key-last-used --access-key-id "$old_key" --query UserName --output text)" \
        || die "cannot tell which IAM user owns $masked (use --user)"
fi
new_json="$(aws iam create-access-key --user-name "$user" --output json)" || die "create-access-key failed (a user may hold at most 2 keys)"
new_key="$(json_get AccessKey.AccessKeyId <<<"$new_json")"
new_secret="$(json_get AccessKey.SecretAccessKey <<<"$new_json")"
unset new_json
cp -p "$env_file" "$env_file.bak-$(stamp_time)"
chmod 600 "$env_file".bak-*
env_set "$env_file" AWS_ACCESS_KEY_ID "$new_key"
env_set "$env_file" AWS_SECRET_ACCESS_KEY "$new_secret"
log "new key ${new_key:0:4}…${new_key: -4} written to $env_file"
ok=0
for _ in $(seq 1 12); do
    if AWS_ACCESS_KEY_ID="$new_key" AWS_SECRET_ACCESS_KEY="$new_secret" aws sts get-caller-identity >/dev/null 2>&1; then ok=1; break; fi
    sleep 5
done
unset new_secret
[[ "$ok" == 1 ]] || die "the new key does not authenticate yet; the old key is untouched and $env_file.bak-* holds it"
log "new key verified (sts get-caller-identity)"
if [[ "$restart" == 1 ]] && has_unit "$LAPCE_AI_SERVICE_UNIT"; then
    "$LAPCE_AI_SYSTEMCTL" restart "$LAPCE_AI_SERVICE_UNIT" "$LAPCE_AI_INDEXER_UNIT"
    log "services restarted"
else
    warn "restart the services to use the new key: systemctl restart $LAPCE_AI_SERVICE_UNIT $LAPCE_AI_INDEXER_UNIT"
fi
aws iam update-access-key --user-name "$user" --access-key-id "$old_key" --status Inactive
if [[ "$keep_old" == 0 ]]; then
    aws iam delete-access-key --user-name "$user" --access-key-id "$old_key"
    log "old key $masked deleted"
else
    log "old key $masked deactivated (kept)"
fi
