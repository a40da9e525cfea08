"""The 4-tier CST cache (runbook "CST Cache (4-tier)").

- hot: live tree-sitter trees with their source and chunk structure, one version per path, so
  the next edit of the file is re-parsed and re-chunked incrementally;
- warm: the chunks and symbols of a file version, as objects (enough to skip parsing);
- cold: the same, compressed, in memory;
- frozen: the same, checksummed on disk under a byte quota (``frozen.FrozenStore``).

Entries are keyed by (path, content hash). Memory holds at most one version per path: an older
version is superseded by a newer one (it stays on disk). A hit promotes to warm, the highest tier
that needs no parse (trees only come from parsing); an eviction demotes to the next tier. Every
parsed version is written through to disk, so a restart or another process finds it there.

Misses are logged a window at a time (``misses.MissLog``: ``cache_miss`` INFO lines with a count
and the first paths), never one line per miss.

Thread safety: the indexer calls the router from a thread pool, so all memory-tier state sits
behind one lock; decoding, parsing and disk I/O happen outside it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tree_sitter

import lapce_ai
from lapce_ai.cache.codec import FORMAT, CachedFile, DecodeError, pack, unpack
from lapce_ai.cache.frozen import FrozenStore
from lapce_ai.cache.incremental import Edit, Structure, Symbol, _flatten, full_structure, rechunk, reparse
from lapce_ai.cache.misses import MissLog
from lapce_ai.chunking.cst import ChunkLimits, CstChunker, _nest, chunker_fingerprint
from lapce_ai.chunking.model import Chunk
from lapce_ai.config.settings import PerformanceSettings
from lapce_ai.observability import metrics
from lapce_ai.parsing.languages import LanguageSpec, definitions, language_for_path

log = logging.getLogger(__name__)

TIERS = ("hot", "warm", "cold", "frozen")
_MEMORY_TIERS = ("hot", "warm", "cold")
_PENDING_MAX = 64  # parse→chunk→put hand-offs in flight (a failed parse never collects its own)


@dataclass
class _Hot:
    file_hash: str
    source: bytes
    tree: tree_sitter.Tree
    entry: CachedFile
    blob: bytes  # the packed entry, kept so a demotion never re-encodes on the request path
    structure: Structure | None
    size: int


@dataclass
class _Warm:
    entry: CachedFile
    blob: bytes
    size: int


@dataclass
class _Pending:
    tree: tree_sitter.Tree
    old_source: bytes
    edit: Edit
    changed: list[tree_sitter.Range]
    structure: Structure | None


class TieredCstCache:
    """Implements the router's ``ChunkCache`` protocol; see the module docstring."""

    def __init__(
        self,
        hot_size: int = 100,
        warm_size: int = 500,
        cold_size: int = 2000,
        frozen_dir: Path | None = None,
        frozen_bytes: int = 256 * 1024 * 1024,
        limits: ChunkLimits | None = None,
    ):
        self.limits = limits or ChunkLimits()
        self._caps = {"hot": hot_size, "warm": warm_size, "cold": cold_size}
        self._lock = threading.Lock()
        self._hot: OrderedDict[str, _Hot] = OrderedDict()
        self._warm: OrderedDict[tuple[str, str], _Warm] = OrderedDict()
        self._cold: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._held: dict[str, str] = {}  # path -> the one content hash memory holds for it
        self._bytes = dict.fromkeys(_MEMORY_TIERS, 0)
        self._hits = dict.fromkeys(TIERS, 0)
        self._evictions = dict.fromkeys(_MEMORY_TIERS, 0)
        self._misses = 0
        self.miss_log = MissLog(self._lookup_count)  # the ``cache_miss`` log lines
        self._parses = {"incremental": 0, "full": 0}
        self._chunkings = {"incremental": 0, "full": 0}
        self._pending: OrderedDict[tuple[str, str], _Pending] = OrderedDict()
        self._structures: OrderedDict[tuple[str, str], tuple[tree_sitter.Tree, Structure]] = OrderedDict()
        self.frozen = (
            FrozenStore(frozen_dir, frozen_bytes, fingerprint(self.limits)) if frozen_dir is not None else None
        )
        self._publish_sizes()

    # -- lookups ----------------------------------------------------------------------------

    def get_chunks(self, path: str, file_hash: str) -> list[Chunk] | None:
        entry = self.lookup(path, file_hash)
        return list(entry.chunks) if entry is not None else None

    def get_symbols(self, path: str, file_hash: str) -> list[Symbol] | None:
        entry = self.lookup(path, file_hash)
        return list(entry.symbols) if entry is not None else None

    def lookup(self, path: str, file_hash: str) -> CachedFile | None:
        started = time.perf_counter()
        try:
            return self._lookup(path, file_hash)
        finally:
            metrics.CST_CACHE_GET_DURATION.observe(time.perf_counter() - started)

    def _lookup(self, path: str, file_hash: str) -> CachedFile | None:
        key = (path, file_hash)
        with self._lock:
            hot = self._hot.get(path)
            if hot is not None and hot.file_hash == file_hash:
                self._hot.move_to_end(path)
                return self._hit("hot", hot.entry)
            warm = self._warm.get(key)
            if warm is not None:
                self._warm.move_to_end(key)
                return self._hit("warm", warm.entry)
            blob = self._cold.pop(key, None)
            if blob is not None:
                self._bytes["cold"] -= len(blob)
                del self._held[path]
        if blob is not None:
            try:
                entry = unpack(blob, path, file_hash)
            except DecodeError:  # cannot happen for our own blobs; never serve it if it does
                entry = None
            if entry is not None:
                self._promote(path, file_hash, entry, blob)
                with self._lock:
                    return self._hit("cold", entry)
        if self.frozen is not None:
            found = self.frozen.get(path, file_hash)
            if found is not None:
                entry, blob = found
                self._promote(path, file_hash, entry, blob)
                with self._lock:
                    return self._hit("frozen", entry)
        with self._lock:
            self._misses += 1
        metrics.CST_CACHE_MISSES.inc()
        self.miss_log.record(path)
        return None

    def _hit(self, tier: str, entry: CachedFile) -> CachedFile:
        self._hits[tier] += 1
        metrics.CST_CACHE_HITS.inc()
        metrics.CST_CACHE_TIER_HITS.labels(tier).inc()
        return entry

    def _lookup_count(self) -> int:
        with self._lock:
            return self._misses + sum(self._hits.values())

    def _promote(self, path: str, file_hash: str, entry: CachedFile, blob: bytes) -> None:
        with self._lock:
            held = self._held.get(path)
            if held == file_hash:  # another thread got there first
                return
            hot = self._hot.get(path)
            if hot is not None and hot.file_hash == held:
                return  # an old version read must not push out the live tree being edited
            self._forget_path(path)
            spill = self._admit_warm(path, file_hash, entry, blob)
        self._spill(spill)

    # -- the router's parse path ------------------------------------------------------------

    def parse(self, path: str, file_hash: str, source: bytes, parser: tree_sitter.Parser) -> tree_sitter.Tree:
        """Parse ``source``, incrementally from the hot tree of ``path`` when there is one."""
        with self._lock:
            hot = self._hot.get(path)
        # A tree read with macro lines as comments (parsing.recovery) is not a parse of ``source``.
        if hot is not None and hot.file_hash == file_hash and hot.source == source:
            return hot.tree.copy()  # callers may edit a tree; the hot one must stay as parsed
        if hot is not None and hot.tree.language == parser.language:
            done = reparse(parser, hot.tree, hot.source, source)
            if done is not None:
                tree, edit, changed = done
                with self._lock:
                    self._parses["incremental"] += 1
                    _bounded_put(
                        self._pending, (path, file_hash), _Pending(tree, hot.source, edit, changed, hot.structure)
                    )
                return tree
        tree = parser.parse(source)
        with self._lock:
            self._parses["full"] += 1
        return tree

    def chunk(
        self,
        path: str,
        file_hash: str,
        spec: LanguageSpec,
        source: bytes,
        tree: tree_sitter.Tree,
        chunker: CstChunker,
    ) -> list[Chunk]:
        """Chunks of ``tree`` — equal to ``chunker.chunk`` — re-deriving only what an edit touched."""
        with self._lock:
            pending = self._pending.pop((path, file_hash), None)
        structure: Structure | None = None
        if pending is not None and pending.tree is tree and pending.structure is not None:
            try:
                structure = rechunk(
                    chunker.limits,
                    path,
                    spec,
                    pending.structure,
                    pending.old_source,
                    source,
                    tree,
                    pending.edit,
                    pending.changed,
                )
            except Exception:  # a full chunking is always correct: never fail a file over the shortcut
                log.exception("incremental re-chunking failed for %s", path, extra={"error_type": "cache_rechunk"})
                structure = None
        kind = "incremental" if structure is not None else "full"
        if structure is None:
            structure = full_structure(chunker.limits, path, spec, source, tree)
        with self._lock:
            self._chunkings[kind] += 1
            _bounded_put(self._structures, (path, file_hash), (tree, structure))
        return structure.chunks

    def put_parsed(self, path: str, file_hash: str, source: bytes, tree: tree_sitter.Tree, chunks: list[Chunk]) -> None:
        with self._lock:
            kept = self._structures.pop((path, file_hash), None)
            self._pending.pop((path, file_hash), None)
        structure = kept[1] if kept is not None and kept[0] is tree else None
        if structure is not None:
            symbols = structure.symbols
        else:  # a caller that chunked by itself: derive the outline here
            spec = language_for_path(path)
            symbols = _symbols(spec, tree) if spec is not None else []
        entry = CachedFile(tuple(chunks), tuple(symbols))
        blob = pack(path, file_hash, entry)  # once per version, off the lookup path
        with self._lock:
            self._forget_path(path)
            self._held[path] = file_hash
            if self._caps["hot"] > 0:
                size = len(source) + entry.size() + len(blob)
                self._hot[path] = _Hot(file_hash, source, tree, entry, blob, structure, size)
                self._bytes["hot"] += size
                spill = self._overflow_hot()
            else:
                spill = self._admit_warm(path, file_hash, entry, blob)
        if self.frozen is not None and self.frozen.enabled:
            self.frozen.put(path, file_hash, blob)
        self._spill(spill)

    # -- tier moves (callers hold the lock, except _spill) -----------------------------------

    def _forget_path(self, path: str) -> None:
        held = self._held.pop(path, None)
        if held is None:
            return
        hot = self._hot.get(path)
        if hot is not None and hot.file_hash == held:
            del self._hot[path]
            self._bytes["hot"] -= hot.size
            return
        key = (path, held)
        warm = self._warm.pop(key, None)
        if warm is not None:
            self._bytes["warm"] -= warm.size
            return
        blob = self._cold.pop(key, None)
        if blob is not None:
            self._bytes["cold"] -= len(blob)

    def _overflow_hot(self) -> list[tuple[str, str, bytes]]:
        spill: list[tuple[str, str, bytes]] = []
        while len(self._hot) > self._caps["hot"]:
            path, hot = self._hot.popitem(last=False)
            self._bytes["hot"] -= hot.size
            self._evicted("hot")
            spill += self._admit_warm(path, hot.file_hash, hot.entry, hot.blob)
        return spill

    def _admit_warm(self, path: str, file_hash: str, entry: CachedFile, blob: bytes) -> list[tuple[str, str, bytes]]:
        self._held[path] = file_hash
        if self._caps["warm"] <= 0:
            return self._admit_cold(path, file_hash, blob)
        warm = _Warm(entry, blob, entry.size() + len(blob))
        self._warm[(path, file_hash)] = warm
        self._bytes["warm"] += warm.size
        return self._overflow_warm()

    def _overflow_warm(self) -> list[tuple[str, str, bytes]]:
        spill: list[tuple[str, str, bytes]] = []
        while len(self._warm) > self._caps["warm"]:
            (p, h), old = self._warm.popitem(last=False)
            self._bytes["warm"] -= old.size
            self._evicted("warm")
            spill += self._admit_cold(p, h, old.blob)
        return spill

    def _admit_cold(self, path: str, file_hash: str, blob: bytes) -> list[tuple[str, str, bytes]]:
        self._held[path] = file_hash
        if self._caps["cold"] <= 0:
            del self._held[path]
            return [(path, file_hash, blob)]
        self._cold[(path, file_hash)] = blob
        self._bytes["cold"] += len(blob)
        spill: list[tuple[str, str, bytes]] = []
        while len(self._cold) > self._caps["cold"]:
            (p, h), old = self._cold.popitem(last=False)
            self._bytes["cold"] -= len(old)
            del self._held[p]
            self._evicted("cold")
            spill.append((p, h, old))
        return spill

    def _evicted(self, tier: str) -> None:
        self._evictions[tier] += 1
        metrics.CST_CACHE_EVICTIONS.labels(tier).inc()

    def _spill(self, spill: list[tuple[str, str, bytes]]) -> None:
        """Entries leaving the cold tier go to disk (usually already there: written through)."""
        if self.frozen is not None and self.frozen.enabled:
            for path, file_hash, blob in spill:
                self.frozen.put(path, file_hash, blob, only_if_missing=True)
        self._publish_sizes()

    def _publish_sizes(self) -> None:
        metrics.CST_CACHE_TIER_SIZE.labels("hot").set(len(self._hot))
        metrics.CST_CACHE_TIER_SIZE.labels("warm").set(len(self._warm))
        metrics.CST_CACHE_TIER_SIZE.labels("cold").set(len(self._cold))
        frozen = self.frozen.known_entries() if self.frozen is not None else None
        if frozen is not None:
            metrics.CST_CACHE_TIER_SIZE.labels("frozen").set(frozen)

    # -- operations ---------------------------------------------------------------------------

    def resize(self, hot: int, warm: int, cold: int, frozen_bytes: int | None = None) -> None:
        """Apply new tier sizes live (config reload), demoting what no longer fits."""
        with self._lock:
            self._caps = {"hot": max(hot, 0), "warm": max(warm, 0), "cold": max(cold, 0)}
            spill = self._overflow_hot()
            spill += self._overflow_warm()
            while len(self._cold) > self._caps["cold"]:
                (p, h), blob = self._cold.popitem(last=False)
                self._bytes["cold"] -= len(blob)
                del self._held[p]
                self._evicted("cold")
                spill.append((p, h, blob))
        self._spill(spill)
        if frozen_bytes is not None and self.frozen is not None:
            self.frozen.resize(frozen_bytes)

    def reconfigure(self, performance: PerformanceSettings) -> None:
        self.resize(
            performance.cache_hot_size,
            performance.cache_warm_size,
            performance.cache_cold_size,
            performance.cache_frozen_bytes,
        )

    def clear(self, disk: bool = False) -> None:
        with self._lock:
            self._hot.clear()
            self._warm.clear()
            self._cold.clear()
            self._held.clear()
            self._pending.clear()
            self._structures.clear()
            self._bytes = dict.fromkeys(_MEMORY_TIERS, 0)
        if disk and self.frozen is not None:
            self.frozen.clear()
        self._publish_sizes()

    def stats(self) -> dict[str, Any]:
        """Per tier entries/bytes/capacity/hits/evictions and the overall hit rate (``GET /cache/stats``)."""
        frozen_entries, frozen_bytes = self.frozen.stats() if self.frozen is not None else (0, 0)
        with self._lock:
            entries = {"hot": len(self._hot), "warm": len(self._warm), "cold": len(self._cold)}
            tiers: dict[str, dict[str, Any]] = {
                t: {
                    "entries": entries[t],
                    "bytes": self._bytes[t],
                    "capacity": self._caps[t],
                    "hits": self._hits[t],
                    "evictions": self._evictions[t],
                }
                for t in _MEMORY_TIERS
            }
            hits = sum(self._hits.values())
            lookups = hits + self._misses
            out: dict[str, Any] = {
                "enabled": True,
                "tiers": tiers,
                "hits": hits,
                "misses": self._misses,
                "lookups": lookups,
                "hit_rate": hits / lookups if lookups else 0.0,
                "parses": dict(self._parses),
                "chunkings": dict(self._chunkings),
            }
        store = self.frozen
        out["tiers"]["frozen"] = {
            "entries": frozen_entries,
            "bytes": frozen_bytes,
            "capacity_bytes": store.max_bytes if store is not None else 0,
            "hits": store.hits if store is not None else 0,
            "evictions": store.evictions if store is not None else 0,
            "corrupt": store.corrupt if store is not None else 0,
            "write_errors": store.write_errors if store is not None else 0,
            "dir": str(store.root) if store is not None else None,
        }
        metrics.CST_CACHE_TIER_SIZE.labels("frozen").set(frozen_entries)
        return out


def _bounded_put(d: OrderedDict[tuple[str, str], Any], key: tuple[str, str], value: Any) -> None:
    d[key] = value
    d.move_to_end(key)
    while len(d) > _PENDING_MAX:
        d.popitem(last=False)


def _symbols(spec: LanguageSpec, tree: tree_sitter.Tree) -> list[Symbol]:
    return [s.sym for s in _flatten(_nest(definitions(spec, tree.root_node)))]


def fingerprint(limits: ChunkLimits) -> str:
    """Part of every frozen key: entries made by other code or other limits are never served."""
    return f"{FORMAT}-{lapce_ai.__version__}-{chunker_fingerprint(limits)}"
