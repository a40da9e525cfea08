"""Hybrid search: lexical (LanceDB native FTS over code-aware tokens) + dense vectors, fused.

One engine answers the CLI, HTTP and MCP. Candidates from both retrievers are fused with
reciprocal-rank fusion, re-ranked with code-aware signals (``ranking``) and de-duplicated.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from lapce_ai.embedding.base import Embedder
from lapce_ai.index.store import CHUNKS, IndexStore
from lapce_ai.observability import metrics
from lapce_ai.search.filters import SearchFilters
from lapce_ai.search.ranking import Candidate, rerank
from lapce_ai.search.tokenize import query_text

RESULT_COLUMNS = ["root", "path", "start_line", "end_line", "symbol", "kind", "language", "content"]
MAX_QUERY_CHARS = 2000


@dataclass(frozen=True)
class SearchResult:
    path: str
    start_line: int
    end_line: int
    symbol: str
    kind: str
    language: str
    score: float
    content: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class SearchEngine:
    def __init__(self, store: IndexStore, embedder: Embedder, mode: str = "hybrid", candidates: int = 50):
        self.store = store
        self.embedder = embedder
        self.mode = mode  # hybrid | lexical | dense
        self.candidates = candidates

    def search(
        self, query: str, k: int = 10, filters: SearchFilters | None = None, source: str = "cli"
    ) -> list[SearchResult]:
        started = time.perf_counter()
        metrics.SEARCH_REQUESTS.labels(source).inc()
        query = query[:MAX_QUERY_CHARS].strip()
        if not query or k <= 0:
            return []
        where = (filters or SearchFilters()).to_sql()
        pool = max(self.candidates, k * 3)
        lexical = self._lexical(query, pool, where) if self.mode in ("hybrid", "lexical") else []
        dense = self._dense(query, pool, where) if self.mode in ("hybrid", "dense") else []
        ranked = rerank(query, lexical, dense, k)
        metrics.SEARCH_LATENCY.observe(time.perf_counter() - started)
        return [
            SearchResult(
                path=c.row["path"],
                start_line=int(c.row["start_line"]),
                end_line=int(c.row["end_line"]),
                symbol=c.row["symbol"],
                kind=c.row["kind"],
                language=c.row["language"],
                score=round(c.score, 6),
                content=c.row["content"],
            )
            for c in ranked
        ]

    def _lexical(self, query: str, limit: int, where: str | None) -> list[Candidate]:
        text = query_text(query)
        if not text or not self.store.has_fts_index():
            return []
        q = self.store.table(CHUNKS).search(text, query_type="fts", fts_columns="search_text")
        if where:
            q = q.where(where, prefilter=True)
        rows = q.select([*RESULT_COLUMNS, "_score"]).limit(limit).to_list()
        return [Candidate(row=r, lexical_rank=i) for i, r in enumerate(rows)]

    def _dense(self, query: str, limit: int, where: str | None) -> list[Candidate]:
        vector = self.embedder.embed_query(query)
        q = self.store.table(CHUNKS).search(vector, query_type="vector", vector_column_name="vector")
        q = q.distance_type("cosine")
        if where:
            q = q.where(where, prefilter=True)
        rows = q.select([*RESULT_COLUMNS, "_distance"]).limit(limit).to_list()
        return [Candidate(row=r, dense_rank=i) for i, r in enumerate(rows)]
