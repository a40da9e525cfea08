#!/usr/bin/env bash
# Full system check: programs, configuration, directories and permissions, resources, endpoints,
# index integrity, systemd units. PASS/WARN/FAIL per line; exit 1 when anything FAILs.
#
# Usage: system_check.sh [--verbose] [--url URL]
#   --verbose   print details under each check (config, validation, health JSON, unit status)
source "$(dirname "$0")/_common.sh"
handle_help "$@"

verbose=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --verbose|-v) verbose=1; shift ;;
        --url) LAPCE_AI_URL="$2"; shift 2 ;;
        *) die "unknown argument $1 (see --help)" ;;
    esac
done
detail() { [[ "$verbose" == 1 ]] && sed 's/^/        /' || cat >/dev/null; }
CHECK_FAILS=0 CHECK_WARNS=0

for tool in "$LAPCE_INDEX" "$LAPCE_SERVICE"; do
    if command -v "$tool" >/dev/null 2>&1; then check PASS program "$tool"; else check FAIL program "$tool not found"; fi
done
for tool in curl tar sha256sum; do
    command -v "$tool" >/dev/null 2>&1 && check PASS tool "$tool" || check FAIL tool "$tool missing"
done
pyver="$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || echo "?")"
[[ "$pyver" =~ ^3\.(1[1-9]|[2-9][0-9])$ ]] && check PASS python "$pyver ($PY)" || check FAIL python "need >= 3.11, have $pyver"

if [[ -f "$LAPCE_AI_CONFIG" ]]; then
    if out="$("$LAPCE_SERVICE" --config "$LAPCE_AI_CONFIG" --check-config 2>&1)"; then check PASS config "$LAPCE_AI_CONFIG"
    else check FAIL config "$LAPCE_AI_CONFIG invalid"; fi
    echo "$out" | detail
else
    check WARN config "no $LAPCE_AI_CONFIG (built-in defaults)"
fi
if [[ -f "$LAPCE_AI_ENV_FILE" ]]; then
    mode="$(stat -c %a "$LAPCE_AI_ENV_FILE")"
    if grep -q '^AWS_SECRET_ACCESS_KEY=' "$LAPCE_AI_ENV_FILE" && [[ "${mode: -1}" != 0 ]]; then
        check FAIL env-file "$LAPCE_AI_ENV_FILE holds AWS secrets but is world-readable (mode $mode): chmod 640"
    else
        check PASS env-file "$LAPCE_AI_ENV_FILE (mode $mode)"
    fi
fi

for dir in "$LAPCE_AI_DATA" "$LAPCE_AI_INDEX" "$LAPCE_AI_CACHE"; do
    if [[ ! -d "$dir" ]]; then check WARN directory "$dir missing"; continue; fi
    owner="$(stat -c %U "$dir")" mode="$(stat -c %a "$dir")"
    if [[ "$dir" == "$LAPCE_AI_DATA" && "${mode: -1}" != 0 ]]; then
        check WARN directory "$dir mode $mode (runbook: 750, owner lapce-ai)"
    elif id lapce-ai >/dev/null 2>&1 && [[ "$owner" != lapce-ai ]]; then
        check WARN directory "$dir owned by $owner (runbook: chown -R lapce-ai:lapce-ai $LAPCE_AI_DATA)"
    else
        check PASS directory "$dir ($owner, $mode)"
    fi
done
for dir in "$LAPCE_AI_INDEX" "$LAPCE_AI_CACHE"; do
    [[ -d "$dir" ]] || continue
    used="$(df -P "$dir" | awk 'NR == 2 { sub("%", "", $5); print $5 }')"
    if [[ "$used" -ge 90 ]]; then check FAIL disk "$dir ${used}% full"; elif [[ "$used" -ge 80 ]]; then check WARN disk "$dir ${used}% full"; else check PASS disk "$dir ${used}% full"; fi
done
mem_avail_kb="$(awk '/MemAvailable/ { print $2 }' /proc/meminfo)"
[[ "$mem_avail_kb" -gt 1048576 ]] && check PASS memory "$(human_bytes $((mem_avail_kb * 1024))) available" \
    || check WARN memory "only $(human_bytes $((mem_avail_kb * 1024))) available"
check PASS cpu "$(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

for path in /alive /ready /health; do
    code="$(http_status "$path")"
    [[ "$code" == 200 ]] && check PASS "endpoint $path" "200" || check FAIL "endpoint $path" "HTTP $code ($LAPCE_AI_URL)"
done
api /health/detailed 2>/dev/null | "$PY" -m json.tool 2>/dev/null | detail || true
if [[ -d "$LAPCE_AI_INDEX" ]]; then
    if out="$("$LAPCE_INDEX" validate --index "$LAPCE_AI_INDEX" --detailed 2>&1)"; then check PASS index "$LAPCE_AI_INDEX valid"
    else check FAIL index "$LAPCE_AI_INDEX invalid"; fi
    echo "$out" | detail
fi
for unit in "$LAPCE_AI_SERVICE_UNIT" "$LAPCE_AI_INDEXER_UNIT"; do
    if has_unit "$unit"; then
        state="$("$LAPCE_AI_SYSTEMCTL" is-active "$unit" 2>/dev/null || true)"
        [[ "$state" == active ]] && check PASS unit "$unit active" || check WARN unit "$unit $state"
        "$LAPCE_AI_SYSTEMCTL" status --no-pager "$unit" 2>/dev/null | head -5 | detail || true
    else
        check WARN unit "$unit not installed (deploy/systemd/$unit.service)"
    fi
done
echo "summary: ${CHECK_FAILS} failed, ${CHECK_WARNS} warnings"
[[ "$CHECK_FAILS" -eq 0 ]]
