#!/usr/bin/env bash
# Weekly report: traffic, latency, errors, cache effectiveness, index and indexer, disk, backups.
#
# Usage: weekly_report.sh [--email ADDR] [--out FILE] [--url URL]
#   --email ADDR  send the report to ADDR with sendmail or mail, when this host has one; without a
#                 mail transport the report is only written (and the script says so)
#   --out FILE    where to write it (default: $LAPCE_AI_REPORT_DIR/weekly-YYYYMMDD.txt)
# The report is also printed on stdout. Numbers are since the service started (Prometheus keeps
# the history: see the runbook's queries for rates over time).
source "$(dirname "$0")/_common.sh"
handle_help "$@"

email="" out=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --email) email="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        --url) LAPCE_AI_URL="$2"; shift 2 ;;
        *) die "unknown argument $1 (see --help)" ;;
    esac
done
[[ -n "$out" ]] || out="$LAPCE_AI_REPORT_DIR/weekly-$(stamp).txt"
mkdir -p "$(dirname "$out")"
metrics="$(api /metrics 2>/dev/null || true)"
health="$(api /health/detailed 2>/dev/null || echo '{}')"
cache="$(api /cache/stats 2>/dev/null || echo '{}')"
indexer="$(api /indexer/stats 2>/dev/null || echo '{}')"
{
    echo "lapce-ai weekly report — $(date '+%Y-%m-%d %H:%M %Z') — $(hostname)"
    echo "service: $LAPCE_AI_URL  status: $(json_get status <<<"$health")  uptime: $(json_get uptime_seconds <<<"$health")s"
    echo
    echo "== traffic and latency"
    "$PY" - "$metrics" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
text = sys.argv[1]
fams = {f.name: f for f in text_string_to_metric_families(text)} if text else {}
def total(name, sample):
    f = fams.get(name)
    return sum(s.value for s in f.samples if s.name == sample) if f else 0.0
requests = total("semantic_search_requests", "semantic_search_requests_total")
errors = fams.get("semantic_search_errors")
print(f"search requests: {requests:.0f}")
lat = fams.get("semantic_search_latency_seconds")
if lat:
    buckets = sorted(((float(s.labels["le"]), s.value) for s in lat.samples if s.name.endswith("_bucket")))
    count = buckets[-1][1] if buckets else 0
    for q in (0.5, 0.95, 0.99):
        bound = next((b for b, c in buckets if count and c >= q * count), float("nan"))
        print(f"p{int(q * 100)} latency <= {bound * 1000:.0f} ms" if count else f"p{int(q * 100)}: no data")
print("errors by type:")
for s in (errors.samples if errors else []):
    if s.name.endswith("_total") and s.value:
        print(f"  {s.labels.get('error_type')}: {s.value:.0f}")
for name in ("index_operations", "files_indexed", "chunks_indexed", "embeddings_computed", "embeddings_reused"):
    f = fams.get(name)
    if f:
        print(f"{name}: {sum(s.value for s in f.samples if s.name.endswith('_total')):.0f}")
PY
    echo
    echo "== cache"
    echo "hit rate: $(json_get hit_rate <<<"$cache")  hits: $(json_get hits <<<"$cache")  misses: $(json_get misses <<<"$cache")"
    echo "tier sizes: $(json_get tier_sizes <<<"$cache")  configured: $(json_get configured <<<"$cache")"
    echo "evictions: $(json_get evictions_by_tier <<<"$cache")"
    echo
    echo "== index and indexer"
    echo "chunks: $(json_get index.chunks <<<"$indexer")  files: $(json_get index.files <<<"$indexer")  embedder: $(json_get index.embedder <<<"$indexer")"
    echo "indexer running: $(json_get running <<<"$indexer")  queue_depth: $(json_get queue_depth <<<"$indexer")  files indexed: $(json_get files_indexed <<<"$indexer")"
    echo "last run: $(json_get last_run <<<"$indexer")"
    echo
    echo "== disk"
    for dir in "$LAPCE_AI_INDEX" "$LAPCE_AI_CACHE" "$LAPCE_AI_BACKUP_DIR"; do
        [[ -d "$dir" ]] && echo "$dir: $(du -sh "$dir" 2>/dev/null | cut -f1) used, filesystem $(df -P "$dir" | awk 'NR == 2 { print $5 }') full"
    done
    echo
    echo "== backups (newest 5)"
    # shellcheck disable=SC2012
    ls -1t "$LAPCE_AI_BACKUP_DIR"/indices-*.tar.gz 2>/dev/null | head -5 || true
} > "$out"
cat "$out"
echo
echo "report written to $out"
if [[ -n "$email" ]]; then
    subject="lapce-ai weekly report $(stamp) ($(hostname))"
    if command -v sendmail >/dev/null 2>&1; then
        { echo "To: $email"; echo "Subject: $subject"; echo; cat "$out"; } | sendmail -t && echo "emailed to $email"
    elif command -v mail >/dev/null 2>&1; then
        mail -s "$subject" "$email" < "$out" && echo "emailed to $email"
    else
        echo "no mail transport (sendmail or mail) on this host: not emailed to $email; send $out yourself"
    fi
fi
