# shellcheck shell=bash disable=SC2034
# Shared helpers for the operator scripts (sourced by every scripts/*.sh; not run on its own).
#
# Environment (defaults follow the operator runbook):
#   LAPCE_AI_URL          service base URL                     http://localhost:8080
#   LAPCE_AI_TOKEN        bearer token, when [service] auth_token is set
#   LAPCE_AI_INDEX        index directory                      /var/lib/lapce-ai/indices
#   LAPCE_AI_CACHE        cache directory                      /var/lib/lapce-ai/cache
#   LAPCE_AI_DATA         data directory                       /var/lib/lapce-ai
#   LAPCE_AI_CONFIG       config file                          /etc/lapce-ai/config.toml
#   LAPCE_AI_ENV_FILE     environment file (AWS keys, flags)   /etc/default/lapce-ai
#   LAPCE_AI_BACKUP_DIR   where backups go                     /backups
#   LAPCE_AI_BIN_DIR      installed programs                   /opt/lapce-ai
#   LAPCE_AI_REPORT_DIR   reports and diagnostics              $LAPCE_AI_DATA/reports
#   LAPCE_AI_PID          the service's pid (else systemd's MainPID, else pgrep)
#   LAPCE_AI_SYSTEMCTL    systemctl command                    systemctl
#   LAPCE_INDEX_BIN       lapce-index program (else the repo's .venv, else PATH)

set -euo pipefail

SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$SCRIPTS_DIR/.." && pwd)"

: "${LAPCE_AI_URL:=http://localhost:8080}"
: "${LAPCE_AI_TOKEN:=}"
: "${LAPCE_AI_DATA:=/var/lib/lapce-ai}"
: "${LAPCE_AI_INDEX:=$LAPCE_AI_DATA/indices}"
: "${LAPCE_AI_CACHE:=$LAPCE_AI_DATA/cache}"
: "${LAPCE_AI_CONFIG:=/etc/lapce-ai/config.toml}"
: "${LAPCE_AI_ENV_FILE:=/etc/default/lapce-ai}"
: "${LAPCE_AI_BACKUP_DIR:=/backups}"
: "${LAPCE_AI_BIN_DIR:=/opt/lapce-ai}"
: "${LAPCE_AI_REPORT_DIR:=$LAPCE_AI_DATA/reports}"
: "${LAPCE_AI_SYSTEMCTL:=systemctl}"
: "${LAPCE_AI_SERVICE_UNIT:=lapce-ai-service}"
: "${LAPCE_AI_INDEXER_UNIT:=lapce-ai-indexer}"
: "${LAPCE_AI_TIMEOUT:=10}"
DRY_RUN="${DRY_RUN:-0}"
export LAPCE_AI_CONFIG

# The runbook's metric names, and the per-tier hit counter (cst_cache_hits_total and
# cst_cache_misses_total carry no labels, so the runbook's hit-rate expression pairs them as typed).
RUNBOOK_METRICS="cst_cache_hits_total cst_cache_misses_total cst_cache_get_duration_seconds cst_cache_tier_size
cst_cache_evictions_total semantic_search_errors_total semantic_search_memory_rss_bytes index_operations_total
aws_titan_request_latency_seconds cst_cache_tier_hits_total"

_tool() {  # _tool NAME ENVVAR: $ENVVAR, else a checkout's .venv/bin/NAME, else a release's NAME, else PATH's
    local name="$1" override="${2:-}" dir
    if [[ -n "$override" ]]; then echo "$override"; return; fi
    for dir in "$REPO_DIR/.venv/bin" "$LAPCE_AI_BIN_DIR/.venv/bin" "$REPO_DIR" "$LAPCE_AI_BIN_DIR"; do
        # a release (make release) has no .venv: its NAME is the binary or a link to it
        if [[ -x "$dir/$name" && ! -d "$dir/$name" ]]; then echo "$dir/$name"; return; fi
    done
    command -v "$name" || echo "$name"
}
LAPCE_INDEX="$(_tool lapce-index "${LAPCE_INDEX_BIN:-}")"
LAPCE_SERVICE="$(_tool lapce-ai-service "${LAPCE_SERVICE_BIN:-}")"
PY="$(_tool python "${LAPCE_AI_PYTHON:-}")"
command -v "$PY" >/dev/null 2>&1 || PY=python3

usage() {  # the script's header comment, without the leading "# "
    awk 'NR == 1 || /^# shellcheck/ { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"
}

handle_help() {
    for arg in "$@"; do
        if [[ "$arg" == "-h" || "$arg" == "--help" ]]; then usage; exit 0; fi
    done
}

log() { printf '%s %s\n' "$(date '+%H:%M:%S')" "$*"; }
warn() { printf 'WARN: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 is required but not installed"; }

run() {  # run CMD...: echo it under --dry-run, else run it
    if [[ "$DRY_RUN" == 1 ]]; then printf '[dry-run] %s\n' "$*"; else "$@"; fi
}

api() {  # api PATH [curl args...]: GET (or as given) the service, body on stdout; non-zero on HTTP error
    local path="$1"; shift
    local auth=()
    [[ -n "$LAPCE_AI_TOKEN" ]] && auth=(-H "Authorization: Bearer $LAPCE_AI_TOKEN")
    curl -fsS --max-time "$LAPCE_AI_TIMEOUT" "${auth[@]}" "$@" "${LAPCE_AI_URL%/}$path"
}

http_status() {  # http_status PATH: the HTTP status code (000 when unreachable)
    local auth=()
    [[ -n "$LAPCE_AI_TOKEN" ]] && auth=(-H "Authorization: Bearer $LAPCE_AI_TOKEN")
    curl -s -o /dev/null -w '%{http_code}' --max-time "$LAPCE_AI_TIMEOUT" "${auth[@]}" "${LAPCE_AI_URL%/}$1" || true
}

json_get() {  # json_get KEY.PATH < json: print one value (dicts/lists as JSON); empty if missing
    "$PY" -c '
import json, sys
value = json.load(sys.stdin)
for part in sys.argv[1].split(".") if sys.argv[1] else []:
    if isinstance(value, list) and part.isdigit():
        value = value[int(part)] if int(part) < len(value) else None
    elif isinstance(value, dict):
        value = value.get(part)
    else:
        value = None
print("" if value is None else json.dumps(value) if isinstance(value, (dict, list)) else str(value).lower() if isinstance(value, bool) else value)
' "$1"
}

metric_sum() {  # metric_sum NAME < metrics-text: sum of every sample of NAME (any labels)
    awk -v n="$1" '$1 == n || index($1, n "{") == 1 { s += $NF; found = 1 } END { if (found) printf "%.6g\n", s; else print "" }'
}

service_pid() {
    if [[ -n "${LAPCE_AI_PID:-}" ]]; then echo "$LAPCE_AI_PID"; return; fi
    local pid=""
    if command -v "$LAPCE_AI_SYSTEMCTL" >/dev/null 2>&1; then
        pid="$("$LAPCE_AI_SYSTEMCTL" show -p MainPID --value "$LAPCE_AI_SERVICE_UNIT" 2>/dev/null || true)"
    fi
    if [[ -z "$pid" || "$pid" == 0 ]]; then
        pid="$(pgrep -o -f 'lapce-ai-service' 2>/dev/null || true)"
    fi
    echo "$pid"
}

has_unit() {  # has_unit UNIT: systemd knows the unit
    command -v "$LAPCE_AI_SYSTEMCTL" >/dev/null 2>&1 && "$LAPCE_AI_SYSTEMCTL" cat "$1" >/dev/null 2>&1
}

reload_service() {  # systemctl reload, or SIGHUP to the service's pid
    if has_unit "$LAPCE_AI_SERVICE_UNIT"; then
        run "$LAPCE_AI_SYSTEMCTL" reload "$LAPCE_AI_SERVICE_UNIT"
        return
    fi
    local pid; pid="$(service_pid)"
    [[ -n "$pid" ]] || die "cannot find the service to reload (set LAPCE_AI_PID)"
    run kill -HUP "$pid"
}

stamp() { date +%Y%m%d; }
stamp_time() { date +%Y%m%d-%H%M%S; }

is_release_binary() {  # is_release_binary FILE: a release's lapce-ai-service (a zipapp), not a checkout's wrapper script
    "$PY" -c 'import sys, zipfile; sys.exit(0 if zipfile.is_zipfile(sys.argv[1]) else 1)' "$1" 2>/dev/null
}

duration_seconds() {  # 60s, 5m, 1h, 90 -> seconds
    local d="$1"
    case "$d" in
        *s) echo "${d%s}" ;;
        *m) echo $(( ${d%m} * 60 )) ;;
        *h) echo $(( ${d%h} * 3600 )) ;;
        *) echo "$d" ;;
    esac
}

human_bytes() { awk -v b="${1:-0}" 'BEGIN { split("B KB MB GB TB", u); i = 1; while (b >= 1024 && i < 5) { b /= 1024; i++ } printf "%.1f %s\n", b, u[i] }'; }

check() {  # check STATUS NAME DETAIL: one aligned line; counts failures/warnings
    local status="$1" name="$2" detail="${3:-}"
    printf '%-5s %-28s %s\n' "$status" "$name" "$detail"
    case "$status" in
        FAIL) CHECK_FAILS=$(( ${CHECK_FAILS:-0} + 1 )) ;;
        WARN) CHECK_WARNS=$(( ${CHECK_WARNS:-0} + 1 )) ;;
    esac
    return 0
}

toml_set() {  # toml_set FILE SECTION KEY VALUE: set one key in place (comments and layout kept)
    "$PY" - "$@" <<'PY'
import re, sys
path, section, key, value = sys.argv[1:5]
lines = open(path, encoding="utf-8").read().splitlines()
current, header_at, done = None, None, False
for i, line in enumerate(lines):
    m = re.match(r"\s*\[([^\]]+)\]\s*(#.*)?$", line)
    if m:
        current = m.group(1).strip()
        if current == section:
            header_at = i
        continue
    if current == section and re.match(rf"\s*{re.escape(key)}\s*=", line):
        lines[i] = f"{key} = {value}"
        done = True
        break
if not done:
    if header_at is None:
        lines += ["", f"[{section}]", f"{key} = {value}"]
    else:
        lines.insert(header_at + 1, f"{key} = {value}")
open(path, "w", encoding="utf-8").write("\n".join(lines) + "\n")
PY
}

env_get() {  # env_get FILE KEY: a KEY=VALUE file's value (quotes removed)
    [[ -f "$1" ]] || return 0
    sed -n "s/^[[:space:]]*$2=//p" "$1" | tail -1 | sed "s/^[\"']//; s/[\"']\$//"
}

env_set() {  # env_set FILE KEY VALUE: replace KEY's line (or append it)
    local file="$1" key="$2" value="$3" tmp
    tmp="$(mktemp "$file.XXXXXX")"
    if grep -q "^[[:space:]]*$key=" "$file"; then
        sed "s|^[[:space:]]*$key=.*|$key=$value|" "$file" > "$tmp"
    else
        cat "$file" > "$tmp"; echo "$key=$value" >> "$tmp"
    fi
    chmod --reference="$file" "$tmp" 2>/dev/null || true
    mv "$tmp" "$file"
}
