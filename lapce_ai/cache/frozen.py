"""The frozen tier: checksummed entries on disk, LRU within a byte quota, shared between processes.

One file per (path, content hash) under ``<cache_dir>/cst/<2 hex>/<30 hex>.cst``. The indexer and
the service may share the directory, so:

- writes go to a temporary file in the same directory, then ``os.replace`` (readers see the old
  entry or the new one, never half of one);
- reads tolerate a file vanishing under them (another process evicted it): that is a miss;
- an entry whose header, length, checksum or payload is wrong is counted, deleted and never served;
- recency is the file's mtime (touched on every hit), so LRU order survives restarts and is
  shared; the in-memory index is re-synchronised from disk before evicting, at most every few
  seconds, because other processes add and remove files too.
"""

from __future__ import annotations

import contextlib
import logging
import os
import struct
import threading
import time
from collections import OrderedDict
from pathlib import Path

import xxhash

from lapce_ai.cache.codec import CachedFile, DecodeError, unpack
from lapce_ai.observability import metrics

log = logging.getLogger(__name__)

_MAGIC = b"LCST"
_VERSION = 1
_HEADER = struct.Struct("<4sHHQQ")  # magic, version, reserved, payload length, xxh3_64(payload)
_SUFFIX = ".cst"
_RESCAN_SECONDS = 5.0
_STALE_TMP_SECONDS = 3600.0
_LOW_WATER = 0.95  # evict a little below the quota so every put does not evict


class FrozenStore:
    def __init__(self, root: Path, max_bytes: int, fingerprint: str):
        self.root = root
        self.max_bytes = max_bytes
        self.fingerprint = fingerprint
        self.hits = 0
        self.evictions = 0
        self.corrupt = 0
        self.write_errors = 0
        self._lock = threading.Lock()
        self._index: OrderedDict[str, int] | None = None  # relative name -> size, LRU first
        self._bytes = 0
        self._scanned_at = 0.0
        self._warned = False

    # -- keys -------------------------------------------------------------------------------

    def _name(self, path: str, file_hash: str) -> str:
        key = xxhash.xxh3_128_hexdigest(f"{self.fingerprint}\x00{path}\x00{file_hash}".encode("utf-8", "surrogatepass"))
        return f"{key[:2]}/{key[2:]}{_SUFFIX}"

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    # -- reads ------------------------------------------------------------------------------

    def get(self, path: str, file_hash: str) -> tuple[CachedFile, bytes] | None:
        """The entry and its packed form, or None (missing, or corrupt: then deleted and counted)."""
        if not self.enabled:
            return None
        name = self._name(path, file_hash)
        file = self.root / name
        try:
            data = file.read_bytes()
        except FileNotFoundError:
            self._forget(name)
            return None
        except OSError:
            return None
        try:
            blob = _payload(data)
            entry = unpack(blob, path, file_hash)
        except DecodeError as exc:
            self._drop_corrupt(file, name, str(exc))
            return None
        with contextlib.suppress(OSError):
            os.utime(file)  # recency for LRU, visible to every process sharing the directory
        with self._lock:
            self.hits += 1
            if self._index is not None:
                if name not in self._index:
                    self._bytes += len(data)
                self._index[name] = len(data)
                self._index.move_to_end(name)
        return entry, blob

    def _drop_corrupt(self, file: Path, name: str, why: str) -> None:
        metrics.CST_CACHE_CORRUPT.inc()
        log.warning("dropping corrupt CST cache entry %s: %s", file, why, extra={"error_type": "cache_corrupt"})
        with contextlib.suppress(OSError):
            file.unlink()
        with self._lock:
            self.corrupt += 1
        self._forget(name)

    def _forget(self, name: str) -> None:
        with self._lock:
            if self._index is not None:
                size = self._index.pop(name, None)
                if size is not None:
                    self._bytes -= size

    # -- writes -----------------------------------------------------------------------------

    def put(self, path: str, file_hash: str, blob: bytes, *, only_if_missing: bool = False) -> None:
        """Store a packed entry (``codec.pack``); ``only_if_missing`` just refreshes its recency."""
        if not self.enabled:
            return
        name = self._name(path, file_hash)
        file = self.root / name
        if only_if_missing:
            try:
                os.utime(file)
                with self._lock:
                    if self._index is not None and name in self._index:
                        self._index.move_to_end(name)
                return
            except FileNotFoundError:
                pass
            except OSError:
                return
        data = _HEADER.pack(_MAGIC, _VERSION, 0, len(blob), xxhash.xxh3_64_intdigest(blob)) + blob
        tmp = file.with_name(f".{file.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as fh:
                fh.write(data)
            os.replace(tmp, file)
        except OSError as exc:
            with self._lock:
                self.write_errors += 1
                warn = not self._warned
                self._warned = True
            if warn:
                log.warning(
                    "CST cache disk tier not writable (%s): %s", self.root, exc, extra={"error_type": "cache_write"}
                )
            with contextlib.suppress(OSError):
                tmp.unlink()
            return
        with self._lock:
            index = self._load()
            self._bytes += len(data) - index.pop(name, 0)
            index[name] = len(data)
            over = self._bytes > self.max_bytes
        if over:
            self._evict()

    def resize(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._evict()

    def _evict(self) -> None:
        with self._lock:
            if time.monotonic() - self._scanned_at > _RESCAN_SECONDS:
                self._scan()
            index = self._load()
            target = int(self.max_bytes * _LOW_WATER)
            if self._bytes <= self.max_bytes:
                return
            while index and self._bytes > target:
                name, size = index.popitem(last=False)
                self._bytes -= size
                self.evictions += 1
                metrics.CST_CACHE_EVICTIONS.labels("frozen").inc()
                with contextlib.suppress(OSError):
                    (self.root / name).unlink()
            metrics.CST_CACHE_TIER_SIZE.labels("frozen").set(len(index))

    # -- index ------------------------------------------------------------------------------

    def _load(self) -> OrderedDict[str, int]:
        """The index, scanned from disk on first use (callers hold the lock)."""
        if self._index is None:
            self._scan()
        assert self._index is not None
        return self._index

    def _scan(self) -> None:
        found = _listing(self.root, drop_stale_tmp=True)
        found.sort()
        self._index = OrderedDict((name, size) for _, name, size in found)
        self._bytes = sum(size for _, _, size in found)
        self._scanned_at = time.monotonic()

    def known_entries(self) -> int | None:
        """Entries in the index, without scanning the directory (None before the first scan)."""
        index = self._index
        return len(index) if index is not None else None

    def stats(self) -> tuple[int, int]:
        """(entries, bytes) on disk, as far as this process knows."""
        with self._lock:
            index = self._load()
            return len(index), self._bytes

    def clear(self) -> None:
        with self._lock:
            index = self._load()
            for name in list(index):
                with contextlib.suppress(OSError):
                    (self.root / name).unlink()
            index.clear()
            self._bytes = 0


def _listing(root: Path, drop_stale_tmp: bool = False) -> list[tuple[float, str, int]]:
    """(mtime, relative name, size) of every entry file under ``root``; ``drop_stale_tmp``
    deletes what a writer that died mid-write left behind."""
    found: list[tuple[float, str, int]] = []
    now = time.time()
    try:
        shards = list(os.scandir(root))
    except OSError:
        shards = []
    for shard in shards:
        if not shard.is_dir(follow_symlinks=False):
            continue
        try:
            entries = list(os.scandir(shard.path))
        except OSError:
            continue
        for entry in entries:
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if entry.name.endswith(".tmp"):
                if drop_stale_tmp and now - st.st_mtime > _STALE_TMP_SECONDS:
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)
                continue
            if entry.name.endswith(_SUFFIX):
                found.append((st.st_mtime, f"{shard.name}/{entry.name}", st.st_size))
    return found


_on_disk_seen: dict[Path, tuple[float, tuple[int, int]]] = {}
_on_disk_lock = threading.Lock()


def on_disk(root: Path, max_age: float = _RESCAN_SECONDS) -> tuple[int, int]:
    """(entries, bytes) of the frozen tier at ``root``, read from disk by a process that does not
    hold the cache (the service, while lapce-ai-indexer is stopped): reads only, and at most once
    every ``max_age`` seconds per directory."""
    now = time.monotonic()
    with _on_disk_lock:
        seen = _on_disk_seen.get(root)
        if seen is not None and now - seen[0] < max_age:
            return seen[1]
    found = _listing(root)
    counted = (len(found), sum(size for _, _, size in found))
    with _on_disk_lock:
        _on_disk_seen[root] = (now, counted)
    return counted


def _payload(data: bytes) -> bytes:
    if len(data) < _HEADER.size:
        raise DecodeError("truncated header")
    magic, version, _, length, checksum = _HEADER.unpack_from(data)
    if magic != _MAGIC or version != _VERSION:
        raise DecodeError("bad magic or version")
    payload = data[_HEADER.size :]
    if len(payload) != length:
        raise DecodeError(f"truncated: {len(payload)} of {length} bytes")
    if xxhash.xxh3_64_intdigest(payload) != checksum:
        raise DecodeError("checksum mismatch")
    return payload
