"""Hybrid search: code-aware BM25 + dense vectors, fused and re-ranked.

One engine answers the CLI, HTTP and MCP. The chunks table is loaded once per table version
into an in-memory ``Corpus`` (shared by every engine on the same index in the process); each
query then scores all chunks lexically (BM25 over ``search_text``) and densely (cosine), takes
a candidate pool from each, fuses them and re-ranks with code-aware signals (``ranking``).
Filters restrict both retrievers *before* the pools are taken, so a filtered query returns as
many results as a filtered corpus can give.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lapce_ai.embedding.base import Embedder
from lapce_ai.embedding.registry import provider_of_model
from lapce_ai.embedding.two_stage import refiner_of
from lapce_ai.index.store import CHUNKS, IndexStore
from lapce_ai.observability import metrics
from lapce_ai.search import two_stage
from lapce_ai.search.corpus import BoolArray, Corpus, FloatArray, IntArray
from lapce_ai.search.filters import SearchFilters
from lapce_ai.search.layers import advance, read_table
from lapce_ai.search.query_analysis import analyze
from lapce_ai.search.query_vectors import QUERY_VECTOR_CACHE, QueryVectors
from lapce_ai.search.ranking import RankConfig, rank
from lapce_ai.search.spelling import corrected
from lapce_ai.search.summaries import SummaryScorer, load_summaries
from lapce_ai.search.tokenize import STEM_PREFIX, query_tokens

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 2000
SEARCH_CACHE_DIR = "search-cache"  # BM25 postings + IVF lists of large indexes, by content fingerprint
MODES = ("hybrid", "lexical", "dense")
# A stem-key match ("~rout" for routes/router) is weaker evidence than the exact word: CoSQA MRR
# 0.306 at 1.0, 0.323 at 0.5 (bench/quality).
STEM_QUERY_WEIGHT = 0.5


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


@dataclass(frozen=True)
class Answer:
    results: list[SearchResult]
    # The query as searched where it was not the one typed: a misspelled, part-typed or abbreviated
    # name, or words, read as the name the code has ("OrderdDict", "ordered dict", "OrDi" ->
    # "OrderedDict"; ``search.spelling``), for a "showing results for".
    corrected_query: str | None = None
    # Nothing searched yet: the query was corrected, and the vector given is the typed one's (a
    # search worker has no model); the caller embeds ``corrected_query`` and searches for it.
    respell: bool = False


Stamp = tuple[int, int, bytes]  # (version folder inode, its mtime, latest-version hint)
_CACHE: dict[str, tuple[Stamp | None, Corpus]] = {}  # index path -> (stamp, corpus)
_CACHE_LOCK = threading.Lock()


def _manifest_stamp(store: IndexStore) -> Stamp | None:
    """The chunks table's change stamp (``IndexStore.table_stamp``): its inode tells a table
    created anew, whose row addresses start over."""
    return store.table_stamp(CHUNKS)


BACKGROUND_RELOAD_MIN_CHUNKS = 20_000
_REFRESHING: set[str] = set()  # index paths with a background reload under way
_REFRESH_LOCK = threading.Lock()  # not _CACHE_LOCK: that one is held for a whole load


def load_corpus(store: IndexStore, background: bool = False) -> Corpus:
    """The corpus of ``store``'s current chunks version (cached per index path and version).

    With ``background``, a changed index is reloaded in a thread while the previous corpus keeps
    answering (stale for the few seconds a large index takes to load, never blocking a request);
    without a previous corpus, or with ``background`` off, the caller waits for the load."""
    key = store.cache_key
    stamp = _manifest_stamp(store)
    cached = _CACHE.get(key)
    if cached is not None and stamp is not None and cached[0] == stamp:
        return cached[1]
    # Small corpora reload in well under a second: fresher to wait than to answer stale.
    if background and cached is not None and cached[1].n >= BACKGROUND_RELOAD_MIN_CHUNKS:
        with _REFRESH_LOCK:
            start = key not in _REFRESHING
            _REFRESHING.add(key)
        if start:
            threading.Thread(target=_refresh, args=(store, key), name="search-corpus-reload", daemon=True).start()
        return cached[1]
    return _load(store, key, stamp)


def _refresh(store: IndexStore, key: str) -> None:
    try:
        _load(store, key, _manifest_stamp(store))
    except Exception:  # the next search retries (synchronously, if the cache was dropped)
        log.exception("search corpus reload failed")
    finally:
        with _REFRESH_LOCK:
            _REFRESHING.discard(key)


def _load(store: IndexStore, key: str, stamp: Stamp | None) -> Corpus:
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is not None and stamp is not None and cached[0] == stamp:
            return cached[1]  # another thread loaded it meanwhile
        table = store.table(CHUNKS)
        version = int(table.version)
        if cached is not None and stamp is None and cached[1].version == version:
            return cached[1]
        same_table = cached is not None and stamp is not None and cached[0] is not None and cached[0][0] == stamp[0]
        corpus = _advance(cached[1], table, version) if cached is not None and same_table else None
        rebuilt = corpus is None
        if corpus is None:
            corpus = Corpus.from_table(read_table(table), version, cache_dir=Path(store.path) / SEARCH_CACHE_DIR)
        _CACHE[key] = (stamp, corpus)
    if rebuilt:
        _release_free_memory()
    return corpus


def _advance(corpus: Corpus, table: Any, version: int) -> Corpus | None:
    """The changes since ``corpus`` on top of it (milliseconds), or None: rebuild (seconds)."""
    try:
        return advance(corpus, table, version)
    except Exception:  # a layout this code does not know: a full rebuild is always right
        log.exception("applying index changes to the search corpus failed; rebuilding it")
        return None


def _release_free_memory() -> None:
    """Hand the corpus build's freed temporaries back to the OS (glibc keeps them otherwise:
    ~500 MB of RSS after loading a 113k-chunk corpus). A no-op where there is no glibc."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def forget_corpus(store: IndexStore) -> None:
    """Drop the cached corpus of ``store``'s index (after a restore or rebuild swapped it)."""
    with _CACHE_LOCK:
        _CACHE.pop(store.cache_key, None)


class SearchEngine:
    def __init__(
        self,
        store: IndexStore,
        embedder: Embedder | None,
        mode: str = "hybrid",
        candidates: int = 100,
        config: RankConfig | None = None,
        background_reload: bool = False,
        query_cache: int = QUERY_VECTOR_CACHE,
    ):
        """``background_reload``: after the index changes, keep answering from the previous
        corpus while the new one loads in a thread (for long-lived services). Without an
        ``embedder``, dense search needs the query vector passed to ``search``. ``query_cache``:
        how many queries' vectors to remember."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        self.store = store
        self.embedder = embedder
        self.mode = mode
        self.config = config or RankConfig(pool=candidates)
        self.background_reload = background_reload
        self.query_vectors = QueryVectors(query_cache)

    def search(
        self, query: str, k: int = 10, filters: SearchFilters | None = None, source: str = "cli"
    ) -> list[SearchResult]:
        return self.answer(query, k, filters, source).results

    def answer(self, query: str, k: int = 10, filters: SearchFilters | None = None, source: str = "cli") -> Answer:
        """The results and how the query was read (``search`` is its results)."""
        started = time.perf_counter()
        metrics.SEARCH_REQUESTS.labels(source).inc()
        answer = self.search_unrecorded(query, k, filters)
        if answer is None:
            return Answer([])
        metrics.SEARCH_LATENCY.observe(time.perf_counter() - started)
        return answer

    def search_unrecorded(
        self,
        query: str,
        k: int = 10,
        filters: SearchFilters | None = None,
        vector: FloatArray | None = None,
        respell: bool = False,
    ) -> Answer | None:
        """The search without metrics (a search worker process reports to the HTTP process,
        which records them); None when nothing was searched (empty query, corpus or filter).
        ``vector``: the query's embedding, if already computed; with ``respell``, a corrected
        query is not searched with it but handed back (``Answer.respell``) to be embedded."""
        if filters is not None:
            filters.validate()
        query = query[:MAX_QUERY_CHARS].strip()
        if not query or k <= 0:
            return None
        corpus = load_corpus(self.store, background=self.background_reload)
        if corpus.n == 0:
            return None
        allowed = corpus.mask(filters)
        if allowed is not None and not allowed.any():
            return None
        dense_wanted = self.mode in ("hybrid", "dense") and corpus.vectors is not None
        typed = query
        if self.config.spelling:
            query = corrected(query, corpus)
        if dense_wanted and (vector is None or (query != typed and self.embedder is not None)):
            vector = self.embed_query(query)  # of the name meant, not of a typo
        elif dense_wanted and query != typed and respell:
            return Answer([], query, respell=True)
        info = analyze(query, corpus)
        lexical = self._lexical(corpus, query) if self.mode in ("hybrid", "lexical") else None
        dense = None
        file_scores: SummaryScorer | None = None
        if dense_wanted and vector is not None:
            dense = self._dense(corpus, allowed, vector)
            file_scores = self._file_summary_scores(vector)
        tokens = tuple(dict.fromkeys(query_tokens(query)))
        precise = self._dense_precise(corpus) if dense is not None else 1.0
        ranked = rank(corpus, info, lexical, dense, k, allowed, self.config, tokens, precise, file_scores)
        out: list[SearchResult] = []
        for r in ranked:
            row = corpus.row(r.index)
            out.append(
                SearchResult(
                    path=row["path"],
                    start_line=row["start_line"],
                    end_line=row["end_line"],
                    symbol=row["symbol"],
                    kind=row["kind"],
                    language=row["language"],
                    score=round(r.score, 6),
                    content=row["content"],
                )
            )
        return Answer(out, query if query != typed else None)

    def _lexical(self, corpus: Corpus, query: str) -> FloatArray:
        tokens = list(dict.fromkeys(query_tokens(query)))
        weights = [STEM_QUERY_WEIGHT if t.startswith(STEM_PREFIX) else 1.0 for t in tokens]
        return corpus.bm25.scores(tokens, weights)

    def embed_query(self, query: str) -> FloatArray:
        """The query's vector, as ``search`` computes it (for a search done elsewhere). For a
        two-stage index: the static model's vector followed by the transformer's."""
        if self.embedder is None:
            raise ValueError("this engine has no embedder: pass the query vector")
        # One engine has one index and one embedder (a swapped-in index gets a new engine), so
        # the text alone names the vector.
        text = query[:MAX_QUERY_CHARS].strip()
        return self.query_vectors.get(text, lambda: self._embed(text))

    def _embed(self, text: str) -> FloatArray:
        assert self.embedder is not None
        vector = np.asarray(self.embedder.embed_query(text), dtype=np.float32).reshape(-1)
        refiner = refiner_of(self.embedder)
        if refiner is None or not self.store.meta.two_stage:
            return vector
        second = np.asarray(refiner.embed_query(text), dtype=np.float32).reshape(-1)
        return np.concatenate([vector, second])

    def _dense_precise(self, corpus: Corpus) -> float:
        """How much of the dense side is a precise model's (see ``rank``)."""
        meta = self.store.meta
        if meta.two_stage:
            return two_stage.refined_share(corpus)
        return 0.0 if provider_of_model(meta.model_id) == "static" else 1.0

    def _dense(
        self, corpus: Corpus, allowed: BoolArray | None, vector: FloatArray
    ) -> tuple[FloatArray, IntArray | None] | None:
        meta = self.store.meta
        if meta.two_stage and vector.shape[0] == meta.dim + (meta.refine_dim or 0):
            return two_stage.similarities(corpus, *two_stage.split_query(vector, meta.dim), allowed)
        return corpus.similarities(vector, allowed)

    def _file_summary_scores(self, vector: FloatArray) -> SummaryScorer | None:
        """How close files' summaries are to the query (``ranking``'s file summary signal and
        pull), or None when the index has no summaries or both are off."""
        if self.config.file_summary <= 0 and self.config.summary_pull <= 0:
            return None
        summaries = load_summaries(self.store)
        if summaries is None:
            return None
        meta = self.store.meta
        first, second = vector, None
        if meta.two_stage and vector.shape[0] == meta.dim + (meta.refine_dim or 0):
            first, second = two_stage.split_query(vector, meta.dim)
        return SummaryScorer(summaries, first, second)
