"""Search worker processes: searches use every core while the HTTP process stays one process.

A search is mostly Python holding the GIL, so one process answers from about one core however
many threads it has. The HTTP process keeps everything that must exist once (metrics, config
reloads, health, the embedder and its rate limits): it embeds the query, hands
(query, vector, k, filters) to an idle worker over a pipe and gets the results back as JSON.
Each worker opens the index itself, loads the search corpus before it reports ready, and
follows new index versions on its own (checked every half second), like the HTTP process did.

Workers ignore SIGINT, SIGTERM and SIGHUP: the HTTP process drains its requests first (they may
still need a worker), then closes the pipes, which ends the workers. A worker that dies or hangs
is replaced; the request it had fails with a retryable error.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import queue
import signal
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger("lapce_ai.service")

FOLLOW_SECONDS = 0.5  # how often an idle worker checks for a new index version
READY_TIMEOUT = 600.0  # a worker loading a large index without its search cache takes a while
SEARCH_TIMEOUT = 60.0  # a search that takes longer is a hung worker
STOP_TIMEOUT = 10.0


@dataclass(frozen=True)
class IndexTarget:
    """Which index a search is for; a new ``identity`` (restore, rebuild) makes workers reopen it."""

    path: str
    model_id: str
    dim: int
    identity: tuple[int, int, int]
    refine: tuple[str, int] | None = None  # a two-stage index's second model (id, dim)


@dataclass(frozen=True)
class SearchReply:
    searched: bool  # False: nothing to search (empty query, corpus or filter), as the engine says
    count: int
    results_json: bytes  # the results as a JSON array
    corrected_query: str | None = None  # as ``engine.Answer`` has it
    respell: bool = False  # likewise: embed ``corrected_query`` and search for it


class WorkerError(Exception):
    """The worker could not answer (it died, hung, or the search raised)."""

    def __init__(self, message: str, kind: str = "internal", retry: bool = False):
        super().__init__(message)
        self.kind = kind  # "filter" (the caller's fault), "lost" (retryable) or "internal"
        self.retry = retry


def default_workers(cpus: int | None = None) -> int:
    """One worker per core on a machine with several (the HTTP process mostly waits on them)."""
    cpus = cpus if cpus is not None else len(os.sched_getaffinity(0))
    return min(cpus, 8) if cpus >= 2 else 0


class _Worker:
    def __init__(self, ctx: Any, target: IndexTarget | None, log_level: str):
        self.conn, child = ctx.Pipe()
        self.process: BaseProcess = ctx.Process(
            target=worker_main, args=(child, target, log_level), name="lapce-ai-search", daemon=True
        )
        self.process.start()
        child.close()  # our copy: with it open, a dead worker's pipe would never report EOF

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.close()
        self.process.join(STOP_TIMEOUT)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(STOP_TIMEOUT)


class SearchPool:
    def __init__(self, size: int, target: IndexTarget | None, log_level: str = "info"):
        self._ctx = multiprocessing.get_context("spawn")  # a fork of a threaded server is unsafe
        self._log_level = log_level
        self._target = target
        self._idle: queue.SimpleQueue[_Worker] = queue.SimpleQueue()
        self._all: list[_Worker] = []
        self._lock = threading.Lock()
        self._closed = False
        self.size = size
        self.restarts = 0
        for _ in range(size):
            self._all.append(_Worker(self._ctx, target, log_level))

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> bool:
        """Wait until every worker has loaded the index (or found none); False if one failed."""
        deadline = time.monotonic() + timeout
        ok = True
        for worker in list(self._all):
            try:
                if not worker.conn.poll(max(0.0, deadline - time.monotonic())):
                    raise TimeoutError
                worker.conn.recv()
            except (EOFError, OSError, TimeoutError):
                log.error("search worker %s did not start", worker.process.pid, extra={"error_type": "worker_lost"})
                self._replace(worker)
                ok = False
                continue
            self._idle.put(worker)
        return ok

    def search(
        self,
        target: IndexTarget,
        query: str,
        vector: np.ndarray | None,
        k: int,
        filters: tuple[Any, ...],
        respell: bool = False,
    ) -> SearchReply:
        vec = None if vector is None else np.asarray(vector, dtype=np.float32).tobytes()
        message = ("search", target, query, vec, k, filters, respell)
        try:
            reply = self._ask(message)
        except WorkerError as exc:
            if not exc.retry:
                raise
            reply = self._ask(message)  # a search changes nothing: once more, on another worker
        if reply[0] == "ok":
            return SearchReply(reply[1], reply[2], reply[3], reply[4], reply[5])
        raise WorkerError(reply[2], reply[1])

    def _ask(self, message: tuple[Any, ...]) -> tuple[Any, ...]:
        worker = self._idle.get()
        try:
            worker.conn.send(message)
            if not worker.conn.poll(SEARCH_TIMEOUT):
                raise TimeoutError(f"search took over {SEARCH_TIMEOUT:.0f} s")
            reply: tuple[Any, ...] = worker.conn.recv()
        except (EOFError, OSError, TimeoutError) as exc:
            log.error("search worker %s lost: %r", worker.process.pid, exc, extra={"error_type": "worker_lost"})
            self._replace(worker)
            # A worker that died idle (killed, out of memory) is worth one retry; a hung search is not.
            raise WorkerError("search worker restarted; retry", "lost", not isinstance(exc, TimeoutError)) from exc
        self._idle.put(worker)
        return reply

    def _replace(self, worker: _Worker) -> None:
        worker.process.kill()
        worker.stop()
        with self._lock:
            if worker in self._all:
                self._all.remove(worker)
            if self._closed:
                return
            fresh = _Worker(self._ctx, self._target, self._log_level)
            self._all.append(fresh)
            self.restarts += 1
        # It answers once it has loaded the index; until then requests wait in its pipe.
        threading.Thread(target=self._await_ready, args=(fresh,), daemon=True).start()

    def _await_ready(self, worker: _Worker) -> None:
        try:
            if worker.conn.poll(READY_TIMEOUT):
                worker.conn.recv()
                self._idle.put(worker)
                return
        except (EOFError, OSError):
            pass
        time.sleep(1.0)  # a worker that cannot start: do not respawn it in a tight loop
        self._replace(worker)

    def retarget(self, target: IndexTarget | None) -> None:
        """The index new workers start on (existing ones follow the target of each request)."""
        self._target = target

    def pids(self) -> list[int]:
        with self._lock:
            return [w.process.pid for w in self._all if w.process.pid is not None]

    def facts(self) -> dict[str, Any]:
        """For ``/health/detailed``: the workers, their memory, how many were replaced."""
        import psutil

        rss = 0
        pids = self.pids()
        for pid in pids:
            with contextlib.suppress(psutil.Error):
                rss += psutil.Process(pid).memory_info().rss
        return {"count": len(pids), "pids": pids, "restarts": self.restarts, "rss_bytes": rss}

    def close(self) -> None:
        """Stop the workers (after the HTTP server has drained its requests)."""
        with self._lock:
            self._closed = True
            workers = list(self._all)
        for worker in workers:
            worker.stop()


# -- the worker process --------------------------------------------------------------------------


class _Searcher:
    """One worker's open index and engine; reopened when a request names another index."""

    def __init__(self) -> None:
        self.target: IndexTarget | None = None
        self.engine: Any = None
        self.lock = threading.Lock()

    def open(self, target: IndexTarget) -> Any:
        from lapce_ai.index.store import IndexStore
        from lapce_ai.search.engine import SearchEngine, forget_corpus

        with self.lock:
            if self.target != target or self.engine is None:
                store = IndexStore.open(Path(target.path), target.model_id, target.dim, refine=target.refine)
                forget_corpus(store)  # a restored/rebuilt index may reuse the old one's versions
                self.engine = SearchEngine(store, None, background_reload=True)
                self.target = target
            return self.engine

    def warm(self) -> None:
        from lapce_ai.search.engine import load_corpus

        engine = self.engine
        if engine is not None:
            load_corpus(engine.store, background=True)

    def follow(self) -> None:
        while True:
            time.sleep(FOLLOW_SECONDS)
            try:
                self.warm()
            except Exception as exc:  # the next request reopens or reports it
                log.warning("search worker: corpus refresh failed: %s", exc)

    def handle(self, message: tuple[Any, ...]) -> tuple[Any, ...]:
        from lapce_ai.search.filters import FilterError, SearchFilters

        _op, target, query, vec, k, filters, respell = message
        try:
            engine = self.open(target)
            vector = None if vec is None else np.frombuffer(vec, dtype=np.float32)
            answer = engine.search_unrecorded(query, k, SearchFilters(*filters), vector, respell)
        except FilterError as exc:
            return ("error", "filter", str(exc))
        except Exception as exc:
            log.exception("search worker: search failed")
            return ("error", "internal", f"{type(exc).__name__}: {exc}")
        items = [r.to_json() for r in answer.results] if answer is not None else []
        body = _json_bytes(items)
        if answer is None:
            return ("ok", False, 0, body, None, False)
        return ("ok", True, len(items), body, answer.corrected_query, answer.respell)


def _json_bytes(value: Any) -> bytes:
    import json

    return json.dumps(value, ensure_ascii=False).encode("utf-8", "replace")


def worker_main(conn: Connection, target: IndexTarget | None, log_level: str) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1):
        signal.signal(sig, signal.SIG_IGN)
    from lapce_ai.observability.logging import configure_logging

    configure_logging(log_level)
    searcher = _Searcher()
    if target is not None:
        try:
            searcher.open(target)
            searcher.warm()
        except Exception as exc:  # no index yet, or a damaged one: requests will say so
            log.warning("search worker: index not loaded at start: %s", exc)
    threading.Thread(target=searcher.follow, name="search-follow", daemon=True).start()
    try:
        conn.send(("ready",))
        while True:
            message = conn.recv()
            conn.send(searcher.handle(message))
    except (EOFError, OSError, KeyboardInterrupt):
        return  # the HTTP process closed the pipe: done
