"""The indexing run: discovery → change detection → router → chunks → embeddings → LanceDB.

Incremental by default: a file whose size and mtime match the manifest is not read; one whose
content hash matches is not parsed; a chunk whose content hash has a cached vector is not
embedded. Work is written in batches, so a killed run loses at most the batch in flight.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lapce_ai.chunking.model import Chunk
from lapce_ai.config.settings import Settings
from lapce_ai.discovery.walker import DiscoveredFile, DiscoveryReport, WorkspaceWalker
from lapce_ai.embedding.base import Embedder, Vectors
from lapce_ai.index import file_summaries
from lapce_ai.index.chunked_with import chunked_with, record_chunked_with
from lapce_ai.index.file_summaries import FileSummary
from lapce_ai.index.prepare import Prepared, prepare_all, route_of
from lapce_ai.index.snapshot import Snapshot, settings_fingerprint, write_snapshot
from lapce_ai.index.store import FileState, IndexStore, StoredSummary
from lapce_ai.index.summary import IndexSummary
from lapce_ai.observability import metrics
from lapce_ai.parsing.router import ParserRouter, chunking_fingerprint

log = logging.getLogger(__name__)

BATCH_FILES = 400  # files per write: few LanceDB versions, bounded loss on a crash
BATCH_CHUNKS = 4000


ProgressFn = Callable[[int, int], None]  # (files done, files to do)
# (all needed, newly computed, second-stage vectors cached for these chunks: two-stage indexes,
# the batch's file summaries with their vectors)
_Vectors = tuple[dict[str, Vectors], dict[str, Vectors], dict[str, Vectors], list[StoredSummary]]


@dataclass
class _Batch:
    files: list[FileState] = field(default_factory=list)  # re-chunked: their chunk rows are replaced
    refreshed: list[FileState] = field(default_factory=list)  # same content, new mtime: manifest only
    chunks: list[Chunk] = field(default_factory=list)
    search_texts: list[str] = field(default_factory=list)
    summaries: list[FileSummary] = field(default_factory=list)  # of ``files`` that have chunks


def _grouped(prepared: Iterator[Prepared]) -> Iterator[list[Prepared]]:
    """Batches bounded by files and chunks: few LanceDB versions, bounded loss on a crash."""
    batch: list[Prepared] = []
    chunks = 0
    for p in prepared:
        batch.append(p)
        chunks += len(p.outcome.chunks) if p.outcome else 0
        if len(batch) >= BATCH_FILES or chunks >= BATCH_CHUNKS:
            yield batch
            batch, chunks = [], 0
    if batch:
        yield batch


class Indexer:
    def __init__(self, settings: Settings, store: IndexStore, embedder: Embedder, router: ParserRouter):
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.router = router

    def index(
        self,
        root: Path,
        progress: ProgressFn | None = None,
        only: Sequence[str] | None = None,
        walked: DiscoveryReport | None = None,
    ) -> IndexSummary:
        """Bring the index up to date with ``root``. ``only``: limit to these relative paths (watcher);
        ``walked``: a discovery of ``root`` made moments ago, reused instead of walking again."""
        started = time.perf_counter()
        root = root.resolve()
        root_key = str(root)
        summary = IndexSummary(root=root_key)
        walker = WorkspaceWalker(
            root, self.settings.discovery.max_file_bytes, include_vendored=self.settings.discovery.include_vendored
        )
        known = self.store.file_states(root_key, only)
        if only is None:

            def known_text(rel: str, size: int, mtime_ns: int) -> bool:
                state = known.get(rel)
                return state is not None and state.size == size and state.mtime_ns == mtime_ns

            report = walked if walked is not None else walker.discover(known_text)
            discovered = report.files
            summary.skipped = dict(report.skipped)
            for reason, count in report.skipped.items():
                metrics.FILES_SKIPPED.labels(reason).inc(count)
            removed = sorted(set(known) - {f.relpath for f in discovered})
        else:
            discovered, removed = [], []
            for rel in only:
                result = walker.check_file(rel)
                if isinstance(result, DiscoveredFile):
                    discovered.append(result)
                else:
                    summary.skipped[result] = summary.skipped.get(result, 0) + 1
                    if rel in known:
                        removed.append(rel)
        summary.files_seen = len(discovered)

        todo: list[DiscoveredFile] = []
        incremental = self.settings.features.incremental_indexing
        chunking = chunking_fingerprint(self.settings.features, self.settings.performance)
        # Chunked otherwise before (an upgrade, a fallback setting): parse every file once more.
        rechunk = chunked_with(self.store.path, root_key) != chunking
        for f in discovered:
            state = known.get(f.relpath)
            route = route_of(self.router, f.relpath)
            if (
                incremental
                and not rechunk
                and state is not None
                and state.size == f.size
                and state.mtime_ns == f.mtime_ns
                and state.route == route
                and state.status == "indexed"
            ):
                summary.files_unchanged += 1
                summary.chunks_unchanged += len(state.chunk_ids)
                continue
            todo.append(f)

        changed = bool(removed)
        done = 0
        if progress:
            progress(0, len(todo))
        # A file to re-chunk is prepared as if new: no shortcut on its unchanged bytes.
        items = [(f, None if rechunk else known.get(f.relpath)) for f in todo]
        # Three stages overlap: workers prepare files ahead, one thread embeds batch N+1 while
        # this thread writes batch N (the embedders release the GIL in native code).
        run_vectors: dict[str, Vectors] = {}
        with ThreadPoolExecutor(1, thread_name_prefix="embed") as embed_pool:
            in_flight: tuple[_Batch, Future[_Vectors]] | None = None
            for prepared in _grouped(prepare_all(self.settings, self.router, items)):
                batch = self._collect(root_key, prepared, known, summary)
                future = embed_pool.submit(self._vectors, batch, run_vectors, summary)
                if in_flight is not None:
                    changed |= self._store_batch(root_key, *in_flight)
                    done += len(in_flight[0].files)
                    if progress:
                        progress(done, len(todo))
                in_flight = (batch, future)
            if in_flight is not None:
                changed |= self._store_batch(root_key, *in_flight)
                if progress:
                    progress(len(todo), len(todo))
        if removed:
            for group in _batches(removed, BATCH_FILES):
                for path in group:
                    summary.chunks_deleted += len(known[path].chunk_ids)
                self.store.write_batch(root_key, [], {}, {}, [], removed_paths=group)
            summary.files_deleted = len(removed)
            metrics.INDEX_OPERATIONS.labels("delete", "ok").inc(len(removed))
        states = self.store.file_states(root_key) if only is None else {}
        if only is None:  # an index written before summaries (or a summary left behind)
            expected = {path for path, state in states.items() if state.chunk_ids}
            summary.summaries_embedded += file_summaries.backfill(self.store, self.embedder, root_key, expected)
        self.store.finish(changed)
        summary.chunks_total = summary.chunks_unchanged + summary.chunks_modified + summary.chunks_added
        if only is None:
            self._write_snapshot(root_key, summary, states)
            record_chunked_with(self.store.path, root_key, chunking)
        summary.seconds = round(time.perf_counter() - started, 3)
        summary.embed_seconds = round(summary.embed_seconds, 3)
        return summary

    def _write_snapshot(self, root: str, summary: IndexSummary, states: dict[str, FileState]) -> None:
        """Record what is now committed (``states``: the manifest of ``root`` after this run), so
        an unchanged tree can be confirmed without LanceDB."""
        from lapce_ai.index.store import FILES

        write_snapshot(
            self.store.path,
            Snapshot(
                root=root,
                files_version=int(self.store.table(FILES).version),
                fingerprint=settings_fingerprint(self.settings),
                files={p: (st.size, st.mtime_ns) for p, st in states.items() if st.status == "indexed"},
                chunks=sum(len(st.chunk_ids) for st in states.values()),
                skipped=summary.skipped,
            ),
        )

    def _collect(
        self, root: str, prepared: list[Prepared], known: dict[str, FileState], summary: IndexSummary
    ) -> _Batch:
        batch = _Batch()
        for p in prepared:
            state = known.get(p.file.relpath)
            # Unchanged bytes, or re-chunked (after an upgrade) into exactly what is stored:
            # only the manifest row is refreshed.
            if p.outcome is None or (state is not None and _same_chunks(state, p)):
                assert state is not None
                summary.files_unchanged += 1
                summary.chunks_unchanged += len(state.chunk_ids)
                batch.refreshed.append(_refresh(state, p.file))
                continue
            outcome = p.outcome
            if outcome.failed:
                summary.files_failed += 1
                summary.failed[p.file.relpath] = outcome.failed
                metrics.INDEX_OPERATIONS.labels("index_file", "failed").inc()
                log.warning(
                    "file not indexed: %s (%s)",
                    p.file.relpath,
                    outcome.failed,
                    extra={"error_type": "index_file_failed", "path": p.file.relpath},
                )
            else:
                summary.files_indexed += 1
                metrics.INDEX_OPERATIONS.labels("index_file", "ok").inc()
                metrics.FILES_INDEXED.inc()
            if state is not None and state.route != p.route and state.file_hash == p.file_hash:
                summary.files_rerouted += 1
            summary.parsers[outcome.parser] = summary.parsers.get(outcome.parser, 0) + (0 if outcome.failed else 1)
            _count_chunk_changes(state, outcome.chunks, summary)
            batch.chunks.extend(outcome.chunks)
            batch.search_texts.extend(p.search_texts)
            batch.summaries.extend(file_summaries.summaries_of(root, outcome.chunks))
            batch.files.append(
                FileState(
                    root=root,
                    path=p.file.relpath,
                    size=p.file.size,
                    mtime_ns=p.file.mtime_ns,
                    file_hash=p.file_hash,
                    language=outcome.language,
                    route=p.route,
                    parser=outcome.parser,
                    status=f"failed: {outcome.failed}" if outcome.failed else "indexed",
                    chunk_ids=tuple(c.id for c in outcome.chunks),
                    chunk_hashes=tuple(c.content_hash for c in outcome.chunks),
                )
            )
        return batch

    def _store_batch(self, root: str, batch: _Batch, vectors_future: Future[_Vectors]) -> bool:
        """Write one batch; returns whether chunk rows changed."""
        vectors, new_vectors, refined, summaries = vectors_future.result()
        if batch.files:
            self.store.write_batch(
                root,
                batch.chunks,
                vectors,
                new_vectors,
                batch.files,
                search_texts=batch.search_texts,
                refined=refined,
                summaries=summaries,
            )
            metrics.CHUNKS_INDEXED.inc(len(batch.chunks))
        if batch.refreshed:
            self.store.update_file_states(batch.refreshed)
        return bool(batch.files)

    def _vectors(self, batch: _Batch, run_vectors: dict[str, Vectors], summary: IndexSummary) -> _Vectors:
        """Vectors for the batch's chunks: reused by content hash (index cache, then this run), else
        embedded. A two-stage index also takes the second-stage vectors its cache holds (never
        computed here: the refiner fills in the rest later, so indexing runs at the first stage's
        speed). Then the batch's file summaries, embedded where their text changed."""
        chunks = batch.chunks
        hashes = list(dict.fromkeys(c.content_hash for c in chunks))
        reuse = self.settings.features.embedding_reuse
        refined = self.store.cached_vectors(hashes, refined=True) if reuse and self.store.meta.two_stage else {}
        summary.refined_reused += sum(1 for c in chunks if c.content_hash in refined)
        vectors = self.store.cached_vectors(hashes) if reuse else {}
        if reuse:
            vectors.update({h: run_vectors[h] for h in hashes if h not in vectors and h in run_vectors})
        missing = [h for h in hashes if h not in vectors]
        texts = {c.content_hash: c.content for c in chunks}
        new_vectors: dict[str, Vectors] = {}
        started = time.perf_counter()
        size = self.settings.embedder.batch_size
        for group in _batches(missing, max(size, 1)):
            embedded = self.embedder.embed_documents([texts[h] for h in group])
            for h, vec in zip(group, embedded, strict=True):
                new_vectors[h] = vec
        summary.embed_seconds += time.perf_counter() - started
        vectors.update(new_vectors)
        run_vectors.update(new_vectors)
        computed = len(new_vectors)
        reused = len(chunks) - computed
        summary.embeddings_computed += computed
        summary.embeddings_reused += max(reused, 0)
        metrics.EMBEDDINGS_COMPUTED.inc(computed)
        metrics.EMBEDDINGS_REUSED.inc(max(reused, 0))
        started = time.perf_counter()
        summaries, summarised = file_summaries.stored_summaries(self.store, self.embedder, batch.summaries, size)
        summary.embed_seconds += time.perf_counter() - started
        summary.summaries_embedded += summarised
        return vectors, new_vectors, refined, summaries


def _refresh(state: FileState, f: DiscoveredFile) -> FileState:
    return dataclasses.replace(state, size=f.size, mtime_ns=f.mtime_ns)


def _same_chunks(state: FileState, p: Prepared) -> bool:
    """Whether parsing ``p`` gave exactly the chunks ``state`` records for the same bytes."""
    outcome = p.outcome
    return (
        outcome is not None
        and not outcome.failed
        and state.status == "indexed"
        and state.file_hash == p.file_hash
        and state.route == p.route
        and state.parser == outcome.parser
        and state.chunk_ids == tuple(c.id for c in outcome.chunks)
        and state.chunk_hashes == tuple(c.content_hash for c in outcome.chunks)
    )


def _count_chunk_changes(state: FileState | None, chunks: list[Chunk], summary: IndexSummary) -> None:
    old = dict(zip(state.chunk_ids, state.chunk_hashes, strict=False)) if state else {}
    new_ids = set()
    for c in chunks:
        new_ids.add(c.id)
        previous = old.get(c.id)
        if previous is None:
            summary.chunks_added += 1
        elif previous == c.content_hash:
            summary.chunks_unchanged += 1
        else:
            summary.chunks_modified += 1
    summary.chunks_deleted += len(set(old) - new_ids)


def _batches(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
