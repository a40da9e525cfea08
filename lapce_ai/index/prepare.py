"""Per-file work before embedding: read, hash, route, parse, chunk, tokenize for full-text search.

This is pure CPU work in Python and tree-sitter, so large runs spread it over worker processes
(threads would share one GIL); small runs — the watcher's few files, a one-line edit — do it in
threads of the calling process, where the CST cache lives.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field

import xxhash

from lapce_ai.chunking.model import PARSER_CST, PARSER_LEGACY
from lapce_ai.config.settings import Settings
from lapce_ai.discovery.walker import DiscoveredFile
from lapce_ai.index.orphans import exit_with_parent
from lapce_ai.index.store import FileState
from lapce_ai.parsing.router import ParseOutcome, ParserRouter
from lapce_ai.search.tokenize import document_text

PROCESS_POOL_MIN_FILES = 200  # below this, worker start-up (~0.5 s) costs more than it saves


@dataclass
class Prepared:
    file: DiscoveredFile
    file_hash: str
    route: str
    outcome: ParseOutcome | None  # None: content unchanged, only the manifest row is refreshed
    search_texts: list[str] = field(default_factory=list)  # aligned with outcome.chunks


def route_of(router: ParserRouter, relpath: str) -> str:
    return PARSER_CST if router.uses_cst(relpath) else PARSER_LEGACY


def prepare_file(router: ParserRouter, incremental: bool, f: DiscoveredFile, state: FileState | None) -> Prepared:
    route = route_of(router, f.relpath)
    try:
        data = f.abspath.read_bytes()
    except OSError as exc:
        outcome = ParseOutcome([], "", route, failed=f"unreadable: {exc.strerror or exc}")
        return Prepared(f, "", route, outcome)
    file_hash = xxhash.xxh3_128_hexdigest(data)
    if (
        incremental
        and state is not None
        and state.file_hash == file_hash
        and state.route == route
        and state.status == "indexed"
    ):
        return Prepared(f, file_hash, route, None)
    outcome = router.process(f.relpath, data, file_hash)
    texts = [document_text(c.path, c.symbol, c.content) for c in outcome.chunks]
    return Prepared(f, file_hash, route, outcome, texts)


# -- worker processes ---------------------------------------------------------------------

_worker_router: ParserRouter | None = None
_worker_incremental = True


def _init_worker(settings: Settings, parent_pid: int) -> None:
    global _worker_router, _worker_incremental
    exit_with_parent(parent_pid)
    _worker_router = ParserRouter(settings.features, settings.performance)
    _worker_incremental = settings.features.incremental_indexing


def _prepare_in_worker(item: tuple[DiscoveredFile, FileState | None]) -> Prepared:
    assert _worker_router is not None, "worker not initialised"
    return prepare_file(_worker_router, _worker_incremental, *item)


def prepare_all(
    settings: Settings,
    router: ParserRouter,
    items: list[tuple[DiscoveredFile, FileState | None]],
) -> Iterator[Prepared]:
    """Prepare files in order, a bounded window ahead of the consumer (which embeds and writes)."""
    workers = max(1, min(settings.performance.max_concurrent_parses, os.cpu_count() or 1))
    incremental = settings.features.incremental_indexing
    if len(items) >= PROCESS_POOL_MIN_FILES and workers > 1:
        # spawn, not fork: the parent holds LanceDB's runtime threads, whose locks must not be copied.
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            workers, mp_context=ctx, initializer=_init_worker, initargs=(settings, os.getpid())
        ) as pool:
            yield from _windowed(pool, _prepare_in_worker, items, window=workers * 64)
    else:
        threads = settings.performance.max_concurrent_parses
        with ThreadPoolExecutor(threads) as pool:
            yield from _windowed(pool, lambda item: prepare_file(router, incremental, *item), items, window=threads * 4)


def _windowed(
    pool: Executor,
    fn: Callable[[tuple[DiscoveredFile, FileState | None]], Prepared],
    items: Iterable[tuple[DiscoveredFile, FileState | None]],
    window: int,
) -> Iterator[Prepared]:
    pending: deque[Future[Prepared]] = deque()
    for item in items:
        pending.append(pool.submit(fn, item))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()
