"""The running service's state: effective settings, embedder, index, indexer status, reloads.

Everything a request reads is a single attribute swapped whole (settings, engine), so a reload or
an index re-open never leaves a request with half of one and half of another.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lapce_ai.config import Settings
from lapce_ai.embedding.base import Embedder
from lapce_ai.embedding.two_stage import LazyEmbedder, refiner_of
from lapce_ai.index.store import CHUNKS, FILES, META_FILE, IndexError_, IndexStore
from lapce_ai.observability import metrics
from lapce_ai.observability.logging import set_level
from lapce_ai.search.engine import SearchEngine, forget_corpus, load_corpus
from lapce_ai.service import components
from lapce_ai.service.metrics_bridge import MetricsBridge
from lapce_ai.service.metrics_bridge import prime as prime_metrics
from lapce_ai.service.reload import ReloadOutcome, load_for_reload, log_reloaded
from lapce_ai.service.search_pool import IndexTarget, SearchPool, default_workers
from lapce_ai.service.status import StatusReader, is_alive

log = logging.getLogger("lapce_ai.service")

EMBEDDER_RETRY_SECONDS = 30.0


@dataclass(frozen=True)
class IndexHandle:
    store: IndexStore
    engine: SearchEngine
    identity: tuple[int, int, int]
    opened_at: float


class ServiceState:
    def __init__(
        self,
        settings: Settings,
        config_path: str | None,
        config_source: str | None,
        overrides: dict[str, dict[str, Any]] | None = None,
    ):
        self.settings = settings
        self.config_path = config_path  # as given on the command line (None: default resolution)
        self.config_source = config_source
        self.overrides = overrides or {}
        self.index_dir = Path(settings.paths.index_dir)
        self.started_at = time.time()
        self.loaded_at = self.started_at
        self.embedder: Embedder | None = None
        self.embedder_error: str | None = None
        self._embedder_next_try = 0.0
        self._provider = ""  # the provider the embedder was made for
        self.index: IndexHandle | None = None
        self.index_error: str | None = None
        self._warm_version = -1
        self.last_reload: ReloadOutcome | None = None
        self.pending_restart: list[str] = []
        self.status_reader = StatusReader(self.index_dir)
        self.bridge = MetricsBridge()
        self._bridged: tuple[int, bool] | None = None
        prime_metrics()
        workers = settings.performance.search_workers
        self.search_workers = default_workers() if workers is None else workers
        self.search_pool: SearchPool | None = None  # started by the app, after the first refresh
        self._lock = threading.Lock()
        self._reload_lock = threading.Lock()

    # -- loading --------------------------------------------------------------------------

    def refresh(self) -> None:
        """Load what is missing and follow the index on disk (called every half second)."""
        if self.embedder is None and time.monotonic() >= self._embedder_next_try:
            self._load_embedder()
        if self.embedder is not None:
            self._follow_index()
        self.indexer_status()

    def _load_embedder(self) -> None:
        try:
            embedder = components.create_embedder(self.settings, self.index_dir)
        except components.ComponentError as exc:
            self._embedder_next_try = time.monotonic() + EMBEDDER_RETRY_SECONDS
            if self.embedder_error != str(exc):
                log.error("embedder unavailable: %s", exc, extra={"error_type": "embedder_unavailable"})
                metrics.SEARCH_ERRORS.labels("embedder_unavailable").inc()
            self.embedder_error = str(exc)
            return
        self.embedder, self.embedder_error = embedder, None
        self._provider = components.resolved_provider(self.settings, self.index_dir)
        components.reconfigure_embedder(embedder, self.settings)
        log.info("embedder loaded", extra={"model_id": embedder.model_id, "dim": embedder.dim})

    def _identity(self) -> tuple[int, int, int] | None:
        try:
            st = (self.index_dir / META_FILE).stat()
        except OSError:
            return None
        return (st.st_dev, st.st_ino, st.st_mtime_ns)

    def _follow_index(self) -> None:
        identity = self._identity()
        current = self.index
        if identity is None:
            if current is not None or self.index_error is None:
                self.index = None
                self.index_error = f"no index at {self.index_dir}"
                log.warning("index not available: %s", self.index_error, extra={"error_type": "index_missing"})
            return
        if current is not None and current.identity == identity:
            self._warm(current)
            return
        self.reopen_index(identity)

    def reopen_index(self, identity: tuple[int, int, int] | None = None) -> None:
        if self.embedder is not None and components.resolved_provider(self.settings, self.index_dir) != self._provider:
            self._load_embedder()  # provider = "default" and a rebuild/restore swapped in another embedder's index
        embedder = self.embedder
        if embedder is None:
            return
        identity = identity or self._identity()
        if identity is None:
            return
        try:
            store = IndexStore.open_for(self.index_dir, embedder)
            store.has_fts_index()  # touch the tables now, not on the first request
        except Exception as exc:  # lance raises its own errors for damaged tables
            message = str(exc) if isinstance(exc, IndexError_) else f"{type(exc).__name__}: {exc}"
            if message != self.index_error:
                log.error("cannot open index: %s", message, extra={"error_type": "index_open_failed"})
                metrics.SEARCH_ERRORS.labels("index_open_failed").inc()
            self.index, self.index_error = None, message
            return
        refiner = refiner_of(embedder)
        if isinstance(refiner, LazyEmbedder) and store.meta.two_stage:
            try:
                refiner.load()  # a two-stage index: every query is embedded by both models
            except Exception as exc:  # queries will report it (503, embedder unavailable)
                log.error("second-stage model unavailable: %s", exc, extra={"error_type": "embedder_unavailable"})
        # Requests keep answering from the previous corpus while a new index version loads.
        cache = self.settings.performance.query_vector_cache
        engine = SearchEngine(store, embedder, background_reload=True, query_cache=cache)
        handle = IndexHandle(store, engine, identity, time.time())
        forget_corpus(store)  # a restored/rebuilt index may reuse the old one's version numbers
        self._warm_version = -1
        self._warm(handle)
        self.index = handle
        self.index_error = None
        log.info("index opened", extra={"index": str(self.index_dir), "versions": store.versions()})

    def _warm(self, handle: IndexHandle) -> None:
        """Load a new chunks version into the search corpus here, not in the next request
        (with search workers, they load and follow it themselves)."""
        if self.search_workers:
            return
        try:
            version = int(handle.store.table(CHUNKS).version)
            if version != self._warm_version:
                load_corpus(handle.store)
                self._warm_version = version
        except Exception as exc:
            log.warning("search corpus warm-up failed: %s", exc, extra={"error_type": type(exc).__name__})

    # -- search workers -------------------------------------------------------------------

    def search_target(self, handle: IndexHandle) -> IndexTarget:
        meta = handle.store.meta
        refine = (meta.refine_model_id, meta.refine_dim) if meta.refine_model_id and meta.refine_dim else None
        return IndexTarget(str(self.index_dir), meta.model_id, meta.dim, handle.identity, refine)

    def start_search_pool(self) -> None:
        """Start the search workers on the current index and wait until they have loaded it."""
        if not self.search_workers or self.search_pool is not None:
            return
        handle = self.index
        target = self.search_target(handle) if handle is not None else None
        pool = SearchPool(self.search_workers, target, self.settings.service.log_level)
        if not pool.wait_ready():
            log.error("some search workers failed to start; they are being replaced")
        self.search_pool = pool
        log.info("search workers ready", extra={"workers": pool.size, "pids": pool.pids()})

    def stop_search_pool(self) -> None:
        pool, self.search_pool = self.search_pool, None
        if pool is not None:
            pool.close()

    @property
    def ready(self) -> bool:
        return self.embedder is not None and self.index is not None

    def not_ready_reason(self) -> str | None:
        if self.embedder is None:
            return self.embedder_error or "embedder loading"
        if self.index is None:
            return self.index_error or "index loading"
        return None

    # -- reload ---------------------------------------------------------------------------

    def reload(self) -> ReloadOutcome:
        with self._reload_lock:
            new, outcome = load_for_reload(self.config_path, self.settings, self.overrides)
            if not outcome.ok:
                self.last_reload = outcome
                metrics.CONFIG_RELOADS.labels("failed").inc()
                metrics.SEARCH_ERRORS.labels("config_invalid").inc()
                log.error(
                    "config reload failed, keeping the running configuration: %s",
                    "; ".join(outcome.problems),
                    extra={"error_type": "config_invalid", "problems": outcome.problems},
                )
                return outcome
            with self._lock:
                self.settings = new
                self.config_source = outcome.source
                self.loaded_at = outcome.at
                self.pending_restart = outcome.pending_restart
                self.last_reload = outcome
            set_level(new.service.log_level)
            components.reconfigure_embedder(self.embedder, new)
            metrics.CONFIG_RELOADS.labels("success").inc()
            notified = self._notify_indexer()
            log_reloaded(log, outcome, indexer_notified=notified)
            if outcome.pending_restart:
                log.warning(
                    "some changes need a restart: %s",
                    ", ".join(outcome.pending_restart),
                    extra={"pending_restart": outcome.pending_restart},
                )
            return outcome

    def _notify_indexer(self) -> bool:
        """Pass the reload on to a running ``lapce-ai-indexer`` (it parses, caches and embeds)."""
        status = self.status_reader.read()
        if not status or not is_alive(status):
            return False
        pid = status.get("pid")
        if not isinstance(pid, int) or pid == os.getpid():
            return False
        try:
            os.kill(pid, signal.SIGHUP)
        except OSError as exc:
            log.warning("could not notify the indexer (pid %s): %s", pid, exc)
            return False
        return True

    # -- indexer --------------------------------------------------------------------------

    def indexer_status(self) -> tuple[dict[str, Any] | None, bool]:
        status = self.status_reader.read()
        if status is None:
            return None, False
        alive = is_alive(status)
        samples = status.get("metrics")
        key = (self.status_reader.generation, alive)
        if isinstance(samples, list) and key != self._bridged:
            self._bridged = key
            origin = (status.get("pid"), status.get("process_create_time"))
            self.bridge.apply(origin, samples, alive)
        return status, alive

    def index_facts(self) -> dict[str, Any]:
        handle = self.index
        if handle is None:
            return {"loaded": False, "path": str(self.index_dir), "error": self.index_error}
        store = handle.store
        try:
            facts: dict[str, Any] = {
                "loaded": True,
                "path": str(self.index_dir),
                "embedder": store.meta.model_id,
                "dim": store.meta.dim,
                "schema_version": store.meta.schema_version,
                "files": int(store.table(FILES).count_rows()),
                "chunks": int(store.table(CHUNKS).count_rows()),
                "versions": store.versions(),
                "opened_at": round(handle.opened_at, 3),
            }
            if store.meta.two_stage:
                facts.update(refine_embedder=store.meta.refine_model_id, refine_dim=store.meta.refine_dim)
                facts["refined"] = store.refine_counts()[0]
            return facts
        except Exception as exc:
            return {"loaded": True, "path": str(self.index_dir), "error": f"{type(exc).__name__}: {exc}"}
