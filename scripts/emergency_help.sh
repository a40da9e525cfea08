#!/usr/bin/env bash
# Emergency help: the escalation path, the state of the service right now, and a diagnostics bundle.
#
# Usage: emergency_help.sh [--url URL] [--no-bundle]
#   --no-bundle  skip writing the diagnostics bundle (diagnose.sh output) to $LAPCE_AI_REPORT_DIR
source "$(dirname "$0")/_common.sh"
handle_help "$@"

bundle=1
while [[ $# -gt 0 ]]; do
    case "$1" in
        --url) LAPCE_AI_URL="$2"; shift 2 ;;
        --no-bundle) bundle=0; shift ;;
        *) die "unknown argument $1 (see --help)" ;;
    esac
done
cat <<'TEXT'
=== lapce-ai EMERGENCY ===
Escalation:
  1. On-call engineer: #oncall-platform, PagerDuty
  2. Engineering lead: @eng-lead (after 15 min)
  3. Director: @director-eng (after 1 hour)
  4. CTO: @cto (customer impact)
Escalate immediately: service down > 5 min, data corruption.

First moves:
  service down/hanging      systemctl restart lapce-ai-service   (force: systemctl kill -s SIGKILL lapce-ai-service)
  bad config                ./lapce-ai-service --check-config    then fix /etc/lapce-ai/config.toml
  CST errors / bad results  ./scripts/rollback_cst.sh --type flag
  bad deploy                ./scripts/rollback_cst.sh --type binary --version previous
  corrupt index             ./scripts/restore_from_backup.sh --date YYYYMMDD  or  ./scripts/rebuild_index.sh --from-source PATH
  memory                    ./scripts/check_memory_leak.sh ; ./scripts/capture_heap_dump.sh
TEXT
echo
echo "=== state now ($LAPCE_AI_URL)"
echo "alive: $(http_status /alive)  ready: $(http_status /ready)"
if health="$(api /health 2>/dev/null)"; then echo "health: $health"; else echo "health: UNREACHABLE"; fi
if [[ "$bundle" == 1 ]]; then
    mkdir -p "$LAPCE_AI_REPORT_DIR"
    out="$LAPCE_AI_REPORT_DIR/emergency-$(stamp_time).txt"
    "$SCRIPTS_DIR/diagnose.sh" > "$out" 2>&1 || true
    echo "diagnostics bundle: $out (attach it to the incident)"
fi
