#!/usr/bin/env bash
# Smoke test a running lapce-ai-service (after a deploy, a restart, a restore).
#
# Usage: smoke_test.sh [--url URL] [--query TEXT]
#   --url URL     service URL (default: $LAPCE_AI_URL, http://localhost:8080)
#   --query TEXT  search query to try (default: "main")
# Checks /alive, /ready, /health (and prints the running version and build: after a deploy or a
# rollback, the build that should run), /config, /metrics (runbook metric names), /cache/stats,
# /indexer/stats and a search. Exit 0 when everything passes, 1 otherwise.
source "$(dirname "$0")/_common.sh"
handle_help "$@"

query="main"
while [[ $# -gt 0 ]]; do
    case "$1" in
        --url) LAPCE_AI_URL="$2"; shift 2 ;;
        --query) query="$2"; shift 2 ;;
        *) die "unknown argument $1 (see --help)" ;;
    esac
done
CHECK_FAILS=0
echo "smoke test: $LAPCE_AI_URL"
[[ "$(http_status /alive)" == 200 ]] && check PASS alive || check FAIL alive "GET /alive did not return 200"
ready="$(http_status /ready)"
[[ "$ready" == 200 ]] && check PASS ready || check FAIL ready "GET /ready returned $ready"
if health="$(api /health 2>/dev/null)"; then
    status="$(json_get status <<<"$health")"
    case "$status" in
        healthy) check PASS health "status=$status cst_enabled=$(json_get cst_enabled <<<"$health") cache_hit_rate=$(json_get cache_hit_rate <<<"$health") version=$(json_get version <<<"$health") build=$(json_get build <<<"$health")" ;;
        degraded) check WARN health "status=degraded: $(json_get reasons <<<"$health")" ;;
        *) check FAIL health "status=${status:-unreachable}" ;;
    esac
else
    check FAIL health "GET /health failed"
fi
api /config >/dev/null 2>&1 && check PASS config || check FAIL config "GET /config failed"
if metrics="$(api /metrics 2>/dev/null)"; then
    missing=""
    for name in $RUNBOOK_METRICS; do grep -q "$name" <<<"$metrics" || missing="$missing $name"; done
    [[ -z "$missing" ]] && check PASS metrics "all runbook metric names present" || check FAIL metrics "missing:$missing"
else
    check FAIL metrics "GET /metrics failed"
fi
api /cache/stats >/dev/null 2>&1 && check PASS cache-stats || check FAIL cache-stats "GET /cache/stats failed"
if stats="$(api /indexer/stats 2>/dev/null)"; then
    check PASS indexer-stats "running=$(json_get running <<<"$stats") queue_depth=$(json_get queue_depth <<<"$stats")"
else
    check FAIL indexer-stats "GET /indexer/stats failed"
fi
if result="$(api "/search?k=3&q=$("$PY" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$query")" 2>/dev/null)"; then
    check PASS search "query=\"$query\" results=$(json_get count <<<"$result") took_ms=$(json_get took_ms <<<"$result")"
else
    check FAIL search "GET /search failed"
fi
if [[ "$CHECK_FAILS" -gt 0 ]]; then echo "smoke test FAILED ($CHECK_FAILS checks)"; exit 1; fi
echo "smoke test passed"
