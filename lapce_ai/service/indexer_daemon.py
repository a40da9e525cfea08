"""``lapce-ai-indexer``: index the configured workspaces, then watch them and keep up.

Threads: the main one waits for signals (SIGTERM/SIGINT stop, SIGHUP reloads); a watcher per
daemon (watchfiles, native inotify) queues changed paths; a worker indexes the queue — changed
files only (``Indexer.index(root, only=...)``, parsing with ``max_concurrent_parses`` threads), or
a full incremental scan when a directory appeared, an ignore file changed, the routing changed
on reload, or every ``RESCAN_SECONDS`` as a safety net; a heartbeat thread writes the status
file the service reads (``status.py``).

A two-stage index is refined by the same worker whenever the queue is empty: one commit's worth
of rows at a time (``index.refine``), stopping within a few chunks when a file changes, so
changes always go first; their new chunks get static vectors at once and are refined later.

Every write is an atomic LanceDB commit, so SIGKILL at any point loses nothing already
indexed; the next start's full scan catches up with whatever changed meanwhile.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import psutil
import watchfiles

from lapce_ai.config import Settings
from lapce_ai.discovery.walker import IGNORE_FILES
from lapce_ai.embedding.base import Embedder
from lapce_ai.embedding.two_stage import refiner_of
from lapce_ai.index.indexer import Indexer
from lapce_ai.index.refine import Refiner, RefineSummary
from lapce_ai.index.store import FILES, META_FILE, IndexStore
from lapce_ai.index.summary import IndexSummary
from lapce_ai.observability import metrics
from lapce_ai.observability.logging import set_level
from lapce_ai.parsing.router import ParserRouter
from lapce_ai.search.filters import quote
from lapce_ai.service import components
from lapce_ai.service.heapdump import write_heap_report
from lapce_ai.service.metrics_bridge import prime as prime_metrics
from lapce_ai.service.metrics_bridge import snapshot
from lapce_ai.service.reload import ReloadOutcome, load_for_reload, log_reloaded
from lapce_ai.service.status import HEARTBEAT_SECONDS, write_status

log = logging.getLogger("lapce_ai.indexer")
logging.getLogger("watchfiles").setLevel(logging.WARNING)  # "N changes detected" on every save

RESCAN_SECONDS = 600.0  # full incremental scan: catches anything the watcher missed
RETRY_SECONDS = 5.0  # after a failed run
WATCH_DEBOUNCE_MS = 200  # at most this long to group a burst of changes
WATCH_STEP_MS = 30  # a quiet gap this long ends a burst
MAX_DELETED_PROBES = 20  # more unexplained deletions than this: just rescan
STOP_JOIN_SECONDS = 60.0
REROUTE_KEYS = (
    "features.cst_pipeline_enabled",
    "features.rollout_percentage",
    "features.legacy_fallback",
    "features.incremental_indexing",
    "discovery.",
)


REFINE_RETRY_SECONDS = 60.0  # after a refine step failed or could write nothing
COMPACT_IDLE_SECONDS = 10.0  # compact (optimize + clean old versions) after this long without writes
COMPACT_EVERY_RUNS = 50  # ... or after this many incremental runs, whichever comes first


class DaemonStore(IndexStore):
    """The index as the daemon writes it: compaction deferred from each save to a quiet moment.

    ``finish`` (optimize every table, delete old versions) costs seconds on a large index and
    rewrites nothing a search needs, so an incremental run only commits its rows; the daemon calls
    ``compact`` once the workspace has been quiet for a while (and on full scans and shutdown).
    """

    defer = False
    pending_runs = 0
    last_write = 0.0

    def finish(self, changed: bool) -> None:
        if changed:
            self.last_write = time.monotonic()
        if self.defer:
            self.pending_runs += 1 if changed else 0
            return
        super().finish(changed or self.pending_runs > 0)
        self.pending_runs = 0

    def compaction_due(self) -> bool:
        if not self.pending_runs:
            return False
        quiet = time.monotonic() - self.last_write >= COMPACT_IDLE_SECONDS
        return quiet or self.pending_runs >= COMPACT_EVERY_RUNS

    def compact(self) -> None:
        if self.pending_runs:
            super().finish(True)
            self.pending_runs = 0


class DaemonError(Exception):
    """The daemon cannot start; the message is the one line the operator sees."""


class _Stopped(Exception):
    pass


@dataclass
class _Work:
    full: set[Path] = field(default_factory=set)
    changed: dict[Path, set[str]] = field(default_factory=dict)
    deleted: dict[Path, set[str]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.full or self.changed)

    def size(self) -> int:
        return sum(len(v) for v in self.changed.values())


class IndexerDaemon:
    def __init__(
        self,
        settings: Settings,
        config_path: str | None = None,
        config_source: str | None = None,
        overrides: dict[str, dict[str, Any]] | None = None,
    ):
        self.settings = settings
        self.config_path = config_path
        self.config_source = config_source
        self.overrides = overrides or {}
        self.index_dir = Path(settings.paths.index_dir)
        self._cond = threading.Condition()  # guards _work, _reload_requested
        self._work = _Work()
        self._retry_at: dict[Path, float] = {}
        self._reload_requested = False
        self._stop = threading.Event()
        self._status_lock = threading.Lock()
        self._inflight = 0
        self._state = "starting"
        self._started_at = time.time()
        self._create_time = psutil.Process(os.getpid()).create_time()
        self._totals = {"files_indexed": 0, "files_deleted": 0, "files_failed": 0, "runs": 0}
        self._last_run: dict[str, Any] | None = None
        self._last_error: dict[str, Any] | None = None
        self._last_reload: ReloadOutcome | None = None
        self._pending_restart: list[str] = []
        self._roots: list[Path] = []
        self._watch_stop: threading.Event | None = None
        self._watcher: threading.Thread | None = None
        self._next_rescan = time.monotonic() + RESCAN_SECONDS
        self._provider = ""  # the provider the embedder was made for
        self._refiner: Embedder | None = None  # the second stage, when the index has one
        self._refine: dict[str, Any] = {"enabled": False}
        self._refine_retry_at = 0.0
        self.cache: Any = None
        self.store: DaemonStore
        self.router: ParserRouter
        self.indexer: Indexer

    # -- start ----------------------------------------------------------------------------

    def open(self) -> None:
        prime_metrics()
        self._roots = self._existing_roots(self.settings)
        if not self._roots:
            wanted = ", ".join(str(r) for r in self.settings.workspaces.roots) or "(none)"
            raise DaemonError(f"no workspace root exists ([workspaces] roots = {wanted})")
        try:
            self.embedder = components.create_embedder(self.settings, self.index_dir)
        except components.ComponentError as exc:
            raise DaemonError(str(exc)) from exc
        self._provider = components.resolved_provider(self.settings, self.index_dir)
        self._open_store()
        self.cache = components.build_cache(self.settings)
        self.router = ParserRouter(self.settings.features, self.settings.performance, cache=self.cache)
        self.indexer = Indexer(self.settings, self.store, self.embedder, self.router)

    def _open_store(self) -> None:
        try:
            store = DaemonStore.open_for(self.index_dir, self.embedder, create=True)
        except Exception as exc:
            raise DaemonError(f"cannot open index {self.index_dir}: {exc}") from exc
        assert isinstance(store, DaemonStore)
        self.store = store
        self._identity = self._meta_identity()
        self._refiner = refiner_of(self.embedder) if store.meta.two_stage else None
        self._refine = {"enabled": self._refiner is not None}
        if self._refiner is not None:
            self._refine.update(model_id=self._refiner.model_id, state="pending", chunks_per_second=None)
            self._refine["last_error"] = None
            self._count_refined()

    def _meta_identity(self) -> tuple[int, int] | None:
        try:
            st = (self.index_dir / META_FILE).stat()
        except OSError:
            return None
        return (st.st_dev, st.st_ino)

    @staticmethod
    def _existing_roots(settings: Settings) -> list[Path]:
        roots = []
        for root in settings.workspaces.roots:
            resolved = Path(root).expanduser().resolve()
            if resolved.is_dir():
                roots.append(resolved)
            else:
                log.error("workspace root is not a directory: %s", root, extra={"error_type": "workspace_missing"})
        return list(dict.fromkeys(roots))

    def run(self, once: bool = False) -> int:
        """Index, then (unless ``once``) watch until SIGTERM/SIGINT. Returns the exit code."""
        self.open()
        heartbeat = threading.Thread(target=self._heartbeat, name="status", daemon=True)
        heartbeat.start()
        if once:
            self._state = "scanning"
            ok = True
            for root in self._roots:
                ok = self._index(root, None) and ok
            if self._refiner is not None:  # like `lapce-index index`: a one-shot run leaves the precise index
                ok = self._refine_to_end() and ok
            self._state = "stopped"
            self._stop.set()
            self._flush_miss_window()
            self.write_status()
            return 0 if ok else 1
        self._install_signals()
        self._start_watcher()
        with self._cond:
            self._work.full.update(self._roots)
        worker = threading.Thread(target=self._worker, name="indexer", daemon=True)
        worker.start()
        log.info(
            "lapce-ai-indexer started",
            extra={"roots": [str(r) for r in self._roots], "index": str(self.index_dir)},
        )
        while not self._stop.wait(0.5):
            if not worker.is_alive():
                break
        self._stop_watcher()
        with self._cond:
            self._cond.notify_all()
        worker.join(STOP_JOIN_SECONDS)
        self._state = "stopped"
        self._flush_miss_window()
        self.write_status()
        log.info("lapce-ai-indexer stopped")
        return 0

    def _flush_miss_window(self) -> None:
        """Log the cache misses of a window still open now, before the last status file: that
        file carries them to the service's log, and nothing writes it after this."""
        miss_log = getattr(self.cache, "miss_log", None)
        if miss_log is not None:
            miss_log.flush()

    def _install_signals(self) -> None:
        def on_stop(sig: int, _frame: FrameType | None) -> None:
            if not self._stop.is_set():
                log.info("%s received: finishing the current batch, then exiting", signal.Signals(sig).name)
            self._stop.set()
            with self._cond:
                self._cond.notify_all()

        def on_hup(_sig: int, _frame: FrameType | None) -> None:
            with self._cond:
                self._reload_requested = True
                self._cond.notify_all()

        def on_usr1(_sig: int, _frame: FrameType | None) -> None:
            threading.Thread(target=write_heap_report, args=(self.settings.paths.cache_dir,), daemon=True).start()

        signal.signal(signal.SIGUSR1, on_usr1)
        signal.signal(signal.SIGTERM, on_stop)
        signal.signal(signal.SIGINT, on_stop)
        signal.signal(signal.SIGHUP, on_hup)

    # -- watching -------------------------------------------------------------------------

    def _start_watcher(self) -> None:
        self._watch_stop = threading.Event()
        self._watcher = threading.Thread(
            target=self._watch, args=(list(self._roots), self._watch_stop), name="watcher", daemon=True
        )
        self._watcher.start()

    def _stop_watcher(self) -> None:
        if self._watch_stop is not None:
            self._watch_stop.set()
        if self._watcher is not None:
            self._watcher.join(5.0)

    def _watch(self, roots: list[Path], stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                for changes in watchfiles.watch(
                    *roots,
                    debounce=WATCH_DEBOUNCE_MS,
                    step=WATCH_STEP_MS,
                    stop_event=stop,
                    rust_timeout=1000,
                    raise_interrupt=False,
                ):
                    self.enqueue(changes)
            except Exception as exc:
                log.error("file watcher failed: %s", exc, extra={"error_type": type(exc).__name__})
                with self._cond:
                    self._work.full.update(roots)  # whatever it missed, a scan finds
                    self._cond.notify_all()
                stop.wait(RETRY_SECONDS)

    def _root_of(self, path: Path) -> Path | None:
        best: Path | None = None
        for root in self._roots:
            if (path == root or path.is_relative_to(root)) and (best is None or len(root.parts) > len(best.parts)):
                best = root
        return best

    def enqueue(self, changes: set[tuple[watchfiles.Change, str]]) -> None:
        with self._cond:
            for change, raw in changes:
                path = Path(raw)
                root = self._root_of(path)
                if root is None or path == root:
                    continue
                rel = path.relative_to(root).as_posix()
                if path.name in IGNORE_FILES or path.is_dir():
                    self._work.full.add(root)  # new folder or new ignore rules: scan the workspace
                    continue
                self._work.changed.setdefault(root, set()).add(rel)
                if change == watchfiles.Change.deleted:
                    self._work.deleted.setdefault(root, set()).add(rel)
            self._set_queue_gauge()
            self._cond.notify_all()

    # -- working --------------------------------------------------------------------------

    def _worker(self) -> None:
        while not self._stop.is_set():
            with self._cond:
                while not (
                    self._stop.is_set()
                    or self._reload_requested
                    or self._work
                    or self._due()
                    or self.store.compaction_due()
                    or self._refine_due()
                ):
                    self._state = "watching"
                    self._cond.wait(1.0)
                if self._stop.is_set():
                    self._compact()
                    return
                reload, self._reload_requested = self._reload_requested, False
                work, self._work = self._work, _Work()
                self._inflight = work.size()
            if reload:
                work.full.update(self._reload())
            self._follow_index(work)
            work.full.update(self._take_due())
            if not work and self.store.compaction_due():
                self._compact()
                continue
            if not work and self._refine_due():
                self._refine_step()
                continue
            try:
                self._process(work)
            except _Stopped:
                return
            finally:
                self._inflight = 0
                self._state = "watching"
                self._set_queue_gauge()
                if self._refiner is not None:
                    self._count_refined()
                self.write_status()

    # -- refining (two-stage indexes) -----------------------------------------------------

    def _refine_due(self) -> bool:
        pending = self._refine.get("total", 0) - self._refine.get("refined", 0)
        pending += self._refine.get("summaries_pending", 0)
        return self._refiner is not None and pending > 0 and time.monotonic() >= self._refine_retry_at

    def _refine_interrupted(self) -> bool:
        """Anything else to do? Then the refine step commits what it has and returns."""
        return self._stop.is_set() or self._reload_requested or bool(self._work) or self._due()

    def _refine_step(self) -> None:
        """One refine commit (up to ``refine.COMMIT_CHUNKS`` rows / ``COMMIT_SECONDS``)."""
        try:
            summary = self._run_refiner(self._refine_interrupted, max_steps=1)
        finally:
            self._state = "watching"
        if summary is None:
            self._refine_retry_at = time.monotonic() + REFINE_RETRY_SECONDS
            return
        if summary.computed:
            self._refine["chunks_per_second"] = round(summary.chunks_per_second, 1)
        stuck = not summary.refined and not summary.computed and not summary.summaries_refined
        if stuck and (summary.done < summary.total or summary.summaries_pending):
            self._refine_retry_at = time.monotonic() + REFINE_RETRY_SECONDS  # look again later
        self._set_refined(summary.done, summary.total, summary.summaries_pending)
        if summary.done == summary.total and summary.refined:
            log.info("index fully refined", extra={"chunks": summary.total})
        self.write_status()

    def _refine_to_end(self) -> bool:
        """Refine every pending row (``--once``); SIGINT stops it with what was committed kept."""
        summary = self._run_refiner(self._stop.is_set)
        if summary is None:
            return False
        self._set_refined(summary.done, summary.total, summary.summaries_pending)
        return summary.done == summary.total and not summary.summaries_pending

    def _run_refiner(self, should_stop: Callable[[], bool], max_steps: int | None = None) -> RefineSummary | None:
        """Run the refiner; a failure is recorded in the status and logged (None)."""
        assert self._refiner is not None
        self._state = "refining"
        self._refine["state"] = "refining"
        self.store.defer = False  # a refine commit compacts once fragments pile up
        try:
            refiner = Refiner(self.store, self._refiner, reuse=self.settings.features.embedding_reuse)
            return refiner.run(should_stop, max_steps=max_steps)
        except Exception as exc:
            self._refine.update(state="error", last_error=f"{type(exc).__name__}: {exc}")
            log.error("refining failed: %s", exc, exc_info=exc, extra={"error_type": type(exc).__name__})
            return None

    def _count_refined(self) -> None:
        try:
            self._set_refined(*self.store.refine_counts(), self.store.unrefined_summary_count())
        except Exception as exc:
            log.warning("cannot count refined rows: %s", exc, extra={"error_type": type(exc).__name__})

    def _set_refined(self, refined: int, total: int, summaries_pending: int = 0) -> None:
        """``summaries_pending``: file summaries still without a second-stage vector."""
        state = self._refine.get("state")
        complete = refined == total and not summaries_pending
        if state != "error" or complete:
            state = "done" if complete else "pending"
        self._refine.update(
            refined=refined, total=total, pending=total - refined, summaries_pending=summaries_pending, state=state
        )
        metrics.REFINE_PENDING.set(total - refined)

    def _compact(self) -> None:
        if not self.store.pending_runs:
            return
        self._state = "compacting"
        started = time.perf_counter()
        try:
            self.store.compact()
        except Exception as exc:
            log.error("compaction failed: %s", exc, extra={"error_type": type(exc).__name__})
            return
        log.info("index compacted", extra={"latency_s": round(time.perf_counter() - started, 3)})

    def _due(self) -> bool:
        now = time.monotonic()
        return now >= self._next_rescan or any(now >= t for t in self._retry_at.values())

    def _take_due(self) -> set[Path]:
        now = time.monotonic()
        due = {root for root, t in self._retry_at.items() if now >= t}
        for root in due:
            del self._retry_at[root]
        if now >= self._next_rescan:
            self._next_rescan = now + RESCAN_SECONDS
            due.update(self._roots)
        return due

    def _follow_index(self, work: _Work) -> None:
        """The index directory was replaced (restore, rebuild): reopen it and scan everything."""
        identity = self._meta_identity()
        if identity == self._identity:
            return
        log.warning("index directory was replaced; reopening", extra={"index": str(self.index_dir)})
        provider = components.resolved_provider(self.settings, self.index_dir)
        if provider != self._provider:  # provider = "default" and the new index has another embedder
            try:
                self.embedder = components.create_embedder(self.settings, self.index_dir)
            except components.ComponentError as exc:
                raise DaemonError(str(exc)) from exc
            self._provider = provider
            log.info("embedder follows the replaced index", extra={"provider": provider})
        self._open_store()
        self.indexer = Indexer(self.settings, self.store, self.embedder, self.router)
        work.full.update(self._roots)

    def _process(self, work: _Work) -> None:
        for root in sorted(work.full):
            self._state = "scanning"
            self._index(root, None)
        for root, rels in sorted(work.changed.items()):
            if root in work.full:
                continue
            self._state = "indexing"
            summary_ok = self._index(root, sorted(rels))
            if summary_ok and self._deleted_folder(root, work.deleted.get(root, set())):
                self._state = "scanning"
                self._index(root, None)

    def _deleted_folder(self, root: Path, deleted: set[str]) -> bool:
        """Was one of the deleted paths a folder with indexed files (moved out of the workspace)?"""
        missing = [rel for rel in deleted if not (root / rel).exists()]
        if not missing:
            return False
        if len(missing) > MAX_DELETED_PROBES:
            return True
        table = self.store.table(FILES)
        for rel in missing:
            where = f"root = {quote(str(root))} AND starts_with(path, {quote(rel.rstrip('/') + '/')})"
            if table.search().where(where).limit(1).to_list():
                return True
        return False

    def _progress(self, done: int, total: int) -> None:
        with self._cond:
            self._inflight = max(total - done, 0)
            self._set_queue_gauge()
        if self._stop.is_set():
            raise _Stopped()

    def _index(self, root: Path, only: Sequence[str] | None) -> bool:
        kind = "full" if only is None else "incremental"
        started = time.time()
        if only is not None:
            self._inflight = len(only)
        self.store.defer = only is not None  # full scans compact at once; saves leave it for later
        try:
            summary = self.indexer.index(root, progress=self._progress, only=only)
        except _Stopped:
            log.info("stopping mid-run; the next start picks up the rest", extra={"root": str(root)})
            raise
        except Exception as exc:
            metrics.INDEX_OPERATIONS.labels("run", "failed").inc()
            self._last_error = {"at": round(time.time(), 3), "root": str(root), "error": f"{type(exc).__name__}: {exc}"}
            log.error("indexing %s failed: %s", root, exc, exc_info=exc, extra={"error_type": type(exc).__name__})
            self._retry_at[root] = time.monotonic() + RETRY_SECONDS
            return False
        metrics.INDEX_OPERATIONS.labels("run", "ok").inc()
        self._record(root, kind, started, summary)
        return True

    def _record(self, root: Path, kind: str, started: float, s: IndexSummary) -> None:
        self._totals["files_indexed"] += s.files_indexed
        self._totals["files_deleted"] += s.files_deleted
        self._totals["files_failed"] += s.files_failed
        self._totals["runs"] += 1
        self._last_run = {
            "root": str(root),
            "kind": kind,
            "started_at": round(started, 3),
            "finished_at": round(time.time(), 3),
            "seconds": s.seconds,
            "files_seen": s.files_seen,
            "files_indexed": s.files_indexed,
            "files_unchanged": s.files_unchanged,
            "files_deleted": s.files_deleted,
            "files_failed": s.files_failed,
            "chunks_added": s.chunks_added,
            "chunks_modified": s.chunks_modified,
            "chunks_deleted": s.chunks_deleted,
            "embeddings_computed": s.embeddings_computed,
            "embeddings_reused": s.embeddings_reused,
        }
        if s.files_indexed or s.files_deleted or s.files_failed or kind == "full":
            log.info(
                "indexed %s (%s): %d indexed, %d deleted, %d failed in %.2fs",
                root,
                kind,
                s.files_indexed,
                s.files_deleted,
                s.files_failed,
                s.seconds,
                extra={"root": str(root), "kind": kind, "files_indexed": s.files_indexed, "latency_s": s.seconds},
            )

    # -- reload ---------------------------------------------------------------------------

    def _reload(self) -> set[Path]:
        """Apply a new config; returns the roots that need a full scan (re-routing, new roots)."""
        new, outcome = load_for_reload(self.config_path, self.settings, self.overrides, check_service=False)
        self._last_reload = outcome
        if not outcome.ok:
            metrics.CONFIG_RELOADS.labels("failed").inc()
            log.error(
                "config reload failed, keeping the running configuration: %s",
                "; ".join(outcome.problems),
                extra={"error_type": "config_invalid", "problems": outcome.problems},
            )
            return set()
        old = self.settings
        self.settings = new
        self.config_source = outcome.source
        self._pending_restart = outcome.pending_restart
        set_level(new.service.log_level)
        if new.features.tiered_cache != old.features.tiered_cache:
            self.cache = components.build_cache(new)
            self.router.cache = self.cache
        else:
            components.resize_cache(self.cache, new)
        self.router.reconfigure(new.features, new.performance)
        self.indexer.settings = new
        components.reconfigure_embedder(self.embedder, new)
        metrics.CONFIG_RELOADS.labels("success").inc()
        rescan: set[Path] = set()
        if any(k.startswith(REROUTE_KEYS) for k in outcome.changed):
            rescan.update(self._roots)
        roots = self._existing_roots(new)
        if roots and roots != self._roots:
            added = set(roots) - set(self._roots)
            self._stop_watcher()
            self._roots = roots
            self._start_watcher()
            rescan.update(added)
        log_reloaded(log, outcome)
        return rescan & set(self._roots)

    # -- status ---------------------------------------------------------------------------

    def queue_depth(self) -> int:
        with self._cond:
            return self._work.size() + self._inflight

    def _set_queue_gauge(self) -> None:
        metrics.INDEXER_QUEUE_DEPTH.set(self._work.size() + self._inflight)

    def status(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "process_create_time": self._create_time,
            "started_at": round(self._started_at, 3),
            "heartbeat_at": round(time.time(), 3),
            "state": self._state,
            "queue_depth": self.queue_depth(),
            **self._totals,
            "last_run": self._last_run,
            "last_error": self._last_error,
            "refine": dict(self._refine),
            "roots": [str(r) for r in self._roots],
            "index": str(self.index_dir),
            "config": {
                "source": self.config_source,
                "last_reload": self._last_reload.to_json() if self._last_reload else None,
                "pending_restart": self._pending_restart,
                "max_concurrent_parses": self.settings.performance.max_concurrent_parses,
                "rollout_percentage": self.settings.features.rollout_percentage,
            },
            "cache": components.cache_stats(self.cache),
            "metrics": snapshot(),
        }

    def write_status(self) -> None:
        with self._status_lock:
            try:
                write_status(self.index_dir, self.status())
            except OSError as exc:
                log.warning("cannot write status file: %s", exc, extra={"error_type": "status_write_failed"})

    def _heartbeat(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            self.write_status()
