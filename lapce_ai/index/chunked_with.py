"""Which chunking each workspace root of an index was last fully indexed with.

A file's chunks depend on its bytes and on how lapce-ai chunks: the chunker, grammars and
queries, the fallback rules (``parsing.router.chunking_fingerprint``). Runs skip a file whose
size and mtime are unchanged, so after an upgrade that chunks differently, the next full run
parses every file of the root once more; embeddings are reused by content hash and only files
whose chunks changed are rewritten. Then the run records the fingerprint here.

Two runs on different roots of one index may race on this file; the loser's root is simply
re-chunked again by its next run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

MARKS_FILE = "chunked_with.json"


def _read(index_dir: Path) -> dict[str, str]:
    try:
        raw = json.loads((Path(index_dir) / MARKS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}


def chunked_with(index_dir: Path, root: str) -> str | None:
    """The chunking fingerprint ``root`` was last fully indexed with (None: unknown)."""
    return _read(index_dir).get(root)


def record_chunked_with(index_dir: Path, root: str, fingerprint: str) -> None:
    marks = _read(index_dir)
    if marks.get(root) == fingerprint:
        return
    marks[root] = fingerprint
    path = Path(index_dir) / MARKS_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(marks, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)
