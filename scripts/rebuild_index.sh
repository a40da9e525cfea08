#!/usr/bin/env bash
# shellcheck disable=SC2034  # DRY_RUN is read by run() in _common.sh
# Rebuild an index from source code into a new directory, then swap it in (lapce-index rebuild).
#
# Usage: rebuild_index.sh --from-source PATH [--index DIR] [--embedder NAME] [--dry-run]
#   --from-source PATH  the workspace to index
#   --index DIR         index to replace (default: $LAPCE_AI_INDEX, /var/lib/lapce-ai/indices)
#   --embedder NAME     default | static | transformer | two-stage | titan (default: the index's own)
# Search keeps using the old index until the swap; the result is validated afterwards.
source "$(dirname "$0")/_common.sh"
handle_help "$@"

source_dir="" index="$LAPCE_AI_INDEX" embedder=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --from-source) source_dir="$2"; shift 2 ;;
        --index) index="$2"; shift 2 ;;
        --embedder) embedder=(--embedder "$2"); shift 2 ;;
        --dry-run) DRY_RUN=1; shift ;;  # read by run() in _common.sh
        *) die "unknown argument $1 (see --help)" ;;
    esac
done
[[ -n "$source_dir" ]] || die "--from-source PATH is required (see --help)"
[[ -d "$source_dir" ]] || die "not a directory: $source_dir"
run "$LAPCE_INDEX" rebuild --from-source "$source_dir" --index "$index" "${embedder[@]}"
run "$LAPCE_INDEX" validate --index "$index"
log "rebuilt $index from $source_dir"
