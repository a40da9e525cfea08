"""The second stage of a two-stage index: fill in the ``refined`` vectors of rows written without.

A two-stage index is searchable as soon as its chunks are written with the fast static model;
the refiner then embeds the same rows with the transformer, in the background (the indexer
daemon, when its change queue is idle) or on demand (``lapce-index refine``; ``lapce-index index``
refines what it wrote unless given ``--no-refine``). The file summaries come last (one short
text per file; until every one is refined, search compares them in the first model's space).

Each step takes up to ``commit_chunks`` unrefined rows, reuses second-stage vectors by content
hash (the ``refined_embeddings`` cache; many chunks repeat), embeds the rest a few at a time —
checking ``should_stop`` between groups, so a file change waits at most one group — and commits
what it has: the cache first, then the chunk rows, each one atomic LanceDB commit. The chunk
update only applies where the row still holds the content that was embedded, so an edit made
meanwhile is never given a stale vector. Killed at any point, the index stays valid: rows are
either refined or not, and the next run starts with the cached vectors it finds.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lapce_ai.embedding.base import Embedder, Vectors
from lapce_ai.index.store import IndexStore, StoredSummary
from lapce_ai.observability import metrics

log = logging.getLogger(__name__)

COMMIT_CHUNKS = 1024  # rows per commit: few LanceDB versions (and search reloads)...
COMMIT_SECONDS = 30.0  # ... and at most this much embedding lost to a crash
EMBED_GROUP = 8  # texts embedded between two ``should_stop`` checks (~0.3 s on 2 cores)

ProgressFn = Callable[[int, int], None]  # (rows refined, rows in the index)


@dataclass
class RefineSummary:
    refined: int = 0  # rows given a second-stage vector by this run
    computed: int = 0  # vectors embedded
    reused: int = 0  # rows whose vector came from the cache (or from a twin row of the same step)
    commits: int = 0  # chunk-table commits
    seconds: float = 0.0
    embed_seconds: float = 0.0
    done: int = 0  # rows refined in the index, after the run
    total: int = 0
    interrupted: bool = False
    summaries_refined: int = 0  # file summaries given a second-stage vector
    summaries_pending: int = 0  # ... and still without one, after the run

    @property
    def chunks_per_second(self) -> float:
        return self.computed / self.embed_seconds if self.embed_seconds > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["seconds"] = round(self.seconds, 3)
        out["embed_seconds"] = round(self.embed_seconds, 3)
        out["chunks_per_second"] = round(self.chunks_per_second, 1)
        out["pending"] = self.total - self.done
        return out


class Refiner:
    def __init__(
        self,
        store: IndexStore,
        embedder: Embedder,
        reuse: bool = True,
        commit_chunks: int = COMMIT_CHUNKS,
        commit_seconds: float = COMMIT_SECONDS,
    ):
        meta = store.meta
        if not meta.two_stage:
            raise ValueError(f"index at {store.path} has no second stage")
        if (embedder.model_id, embedder.dim) != (meta.refine_model_id, meta.refine_dim):
            raise ValueError(f"refiner {embedder.model_id!r} does not match the index ({meta.describe()})")
        self.store = store
        self.embedder = embedder
        self.reuse = reuse
        self.commit_chunks = max(1, commit_chunks)
        self.commit_seconds = commit_seconds

    def counts(self) -> tuple[int, int]:
        return self.store.refine_counts()

    def run(
        self,
        should_stop: Callable[[], bool] = lambda: False,
        progress: ProgressFn | None = None,
        max_steps: int | None = None,
    ) -> RefineSummary:
        """Refine until every row is refined, ``should_stop`` says so, or ``max_steps`` commits."""
        started = time.perf_counter()
        summary = RefineSummary()
        steps = 0
        while max_steps is None or steps < max_steps:
            if should_stop():
                summary.interrupted = True
                break
            wrote, finished = self._step(should_stop, summary)
            steps += 1
            if progress is not None:
                progress(*self.counts())
            # Done; or nothing could be written (every row changed under us, or vanished): the
            # next run looks again rather than spinning here.
            if finished or not wrote:
                break
        summary.done, summary.total = self.counts()
        summary.summaries_pending = self.store.unrefined_summary_count()
        summary.seconds = time.perf_counter() - started
        return summary

    def _step(self, should_stop: Callable[[], bool], summary: RefineSummary) -> tuple[bool, bool]:
        """One commit's worth. Returns (wrote something, nothing left to refine)."""
        rows = self.store.unrefined(self.commit_chunks)
        if not rows.num_rows:
            pending = self.store.unrefined_summaries(self.commit_chunks)
            if not pending:
                return False, True
            return self._summaries_step(pending, should_stop, summary), False
        hashes: list[str] = rows.column("content_hash").to_pylist()
        contents: list[str] = rows.column("content").to_pylist()
        texts = dict(zip(hashes, contents, strict=True))
        unique = list(texts)
        vectors: dict[str, Vectors] = self.store.cached_vectors(unique, refined=True) if self.reuse else {}
        missing = [h for h in unique if h not in vectors]
        new_vectors: dict[str, Vectors] = {}
        deadline = time.monotonic() + self.commit_seconds
        embed_started = time.perf_counter()
        for i in range(0, len(missing), EMBED_GROUP):
            # At least one group per step, so a busy queue slows refinement down but never stops it.
            if new_vectors and (should_stop() or time.monotonic() >= deadline):
                break
            group = missing[i : i + EMBED_GROUP]
            for h, vec in zip(group, self.embedder.embed_documents([texts[h] for h in group]), strict=True):
                new_vectors[h] = vec
        summary.embed_seconds += time.perf_counter() - embed_started
        vectors.update(new_vectors)
        if not vectors:
            return False, False
        updated = self.store.write_refined(rows, vectors, new_vectors)
        self.store.finish(True)  # compacts once fragments pile up (each commit adds one)
        summary.commits += 1
        summary.refined += updated
        summary.computed += len(new_vectors)
        summary.reused += max(sum(1 for h in hashes if h in vectors) - len(new_vectors), 0)
        metrics.EMBEDDINGS_COMPUTED.inc(len(new_vectors))
        metrics.CHUNKS_REFINED.inc(updated)
        log.debug("refined %d rows (%d embedded)", updated, len(new_vectors))
        return updated > 0 or bool(new_vectors), False

    def _summaries_step(
        self, pending: list[StoredSummary], should_stop: Callable[[], bool], summary: RefineSummary
    ) -> bool:
        """Second-stage vectors for file summaries (not counted as chunk embeddings)."""
        done: list[StoredSummary] = []
        deadline = time.monotonic() + self.commit_seconds
        for i in range(0, len(pending), EMBED_GROUP):
            if done and (should_stop() or time.monotonic() >= deadline):
                break
            group = pending[i : i + EMBED_GROUP]
            vectors = self.embedder.embed_documents([s.text for s in group])
            done.extend(dataclasses.replace(s, refined=v) for s, v in zip(group, vectors, strict=True))
        updated = self.store.write_refined_summaries(done)
        self.store.finish(True)
        summary.commits += 1
        summary.summaries_refined += updated
        return bool(done)
