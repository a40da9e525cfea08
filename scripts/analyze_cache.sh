#!/usr/bin/env bash
# Analyze the 4-tier CST cache: hit rate, per-tier use and evictions, and what to tune.
#
# Usage: analyze_cache.sh [--detailed] [--url URL]
#   --detailed  also print the full /cache/stats document and every cst_cache_* metric line
#               (cst_cache_tier_hits_total{tier} holds the hits per tier)
# The cache lives in lapce-ai-indexer (it parses); the service reports its numbers. Tune with
# [performance] cache_hot_size / cache_warm_size / cache_cold_size, then systemctl reload.
source "$(dirname "$0")/_common.sh"
handle_help "$@"

detailed=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --detailed) detailed=1; shift ;;
        --url) LAPCE_AI_URL="$2"; shift 2 ;;
        *) die "unknown argument $1 (see --help)" ;;
    esac
done
stats="$(api /cache/stats)" || die "cannot read $LAPCE_AI_URL/cache/stats"
"$PY" - "$stats" <<'PY'
import json, sys
s = json.loads(sys.argv[1])
d = s.get("details") or {}
print(f"cache enabled: {s['enabled']}   indexer running: {s['indexer_running']}")
print(f"hit rate: {s['hit_rate']:.1%}   hits: {s['hits']:.0f}   misses: {s['misses']:.0f}")
if d and not s["indexer_running"]:
    print("lapce-ai-indexer is stopped: its memory tiers are gone (0 entries), the frozen tier is counted on disk;")
    print("hits and evictions per tier are from its last report")
conf = s["configured"]
tiers = d.get("tiers") or {}
print(f"{'tier':<8}{'entries':>9}{'capacity':>10}{'hits':>9}{'evictions':>11}")
for t in ("hot", "warm", "cold", "frozen"):
    info = tiers.get(t, {})
    cap = info.get("capacity", conf.get(t, info.get("capacity_bytes", "-")))
    entries = s["tier_sizes"].get(t, info.get("entries", 0))  # cst_cache_tier_size: live, indexer running or not
    hits = info.get("hits", s["hits_by_tier"].get(t, 0))
    ev = info.get("evictions", s["evictions_by_tier"].get(t, 0))
    print(f"{t:<8}{entries:>9.0f}{cap!s:>10}{hits:>9.0f}{ev:>11.0f}")
advice = []
lookups = s["hits"] + s["misses"]
if not s["enabled"]:
    advice.append("tiered_cache is off: [features] tiered_cache = true")
elif lookups < 100:
    advice.append("too few lookups to judge yet")
elif s["hit_rate"] < 0.7:
    advice.append("hit rate below 70%: raise cache_hot_size / cache_warm_size (e.g. 200 / 1000), systemctl reload lapce-ai-service")
for t in ("hot", "warm", "cold"):
    info = tiers.get(t, {})
    if info.get("capacity") and info.get("entries", 0) >= info["capacity"] and info.get("evictions", 0) > info["capacity"]:
        advice.append(f"{t} tier is full and evicting heavily: raise cache_{t}_size")
print("advice: " + ("; ".join(advice) if advice else "none — the cache is doing its job"))
PY
if [[ "$detailed" == 1 ]]; then
    echo; echo "== /cache/stats"; "$PY" -m json.tool <<<"$stats"
    echo; echo "== metrics"; api /metrics | grep -E '^cst_cache_' || true
fi
