#!/usr/bin/env bash
# semble-dev through the real CLI, scored by semble's own harness, one run per mode.
#   bench/quality/cli_semble.sh [embedder=default] [repos=all] [out_dir=/tmp/lapce-quality/cli]
# Indexes once per repo (the first mode), then reuses the index for the other modes.
# embedder "default" runs the very commands shared/eval/semble-dev/README.md gives (no --embedder:
# the two-stage default, which `index` refines before it exits); any other name adds --embedder.
# MODES="hybrid lexical dense" (default order: the headline first) picks the modes; the
# modes run so far are printed side by side at the end (cli_table.py).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo_root="$(cd "$here/../.." && pwd)"
V="${V:-$repo_root/.venv}"
embedder="${1:-default}"
all_repos=gin,axum,trpc,rack,commons-lang,nlohmann-json,phoenix,exposed
repos="${2:-all}"
[ "$repos" = all ] && repos="$all_repos"
out="${3:-/tmp/lapce-quality/cli}"
data="${SEMBLE_DEV_DATA:-$repo_root/../shared/eval/semble-dev}"
export SEMBLE_DEV_CORPORA="${SEMBLE_DEV_CORPORA:-/work/corpora}"
mkdir -p "$out/index-$embedder"
choose=""
[ "$embedder" = default ] || choose=" --embedder $embedder"
for mode in ${MODES:-hybrid lexical dense}; do
  echo "== mode $mode (embedder $embedder)"
  python3 "$data/semble_bench.py" --data "$data" --repos "$repos" --index-root "$out/index-$embedder" \
    --index-cmd "$V/bin/lapce-index index {repo_dir} --index {index}$choose --json" \
    --search-cmd "$V/bin/lapce-index search {query} --index {index} -k {k}$choose --mode $mode --json" \
    --out "$out/semble-$embedder-$mode.json" | tee "$out/semble-$embedder-$mode.txt"
done
echo "== side by side (embedder $embedder)"
python3 "$here/cli_table.py" "$out" "$embedder" lexical dense hybrid
