"""The summary of one indexing run (printed by ``lapce-index index``; ``--json`` for scripts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class IndexSummary:
    root: str = ""
    files_seen: int = 0
    files_indexed: int = 0
    files_unchanged: int = 0
    files_rerouted: int = 0
    files_deleted: int = 0
    files_failed: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    chunks_total: int = 0
    chunks_unchanged: int = 0
    chunks_modified: int = 0
    chunks_added: int = 0
    chunks_deleted: int = 0
    embeddings_computed: int = 0
    embeddings_reused: int = 0
    refined_reused: int = 0  # two-stage: rows written with a cached second-stage vector
    summaries_embedded: int = 0  # file summaries (path words + defined names) embedded
    parsers: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    embed_seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)
