"""The LanceDB index on disk: chunks, file manifest, embedding cache, and the index's identity.

Three tables: ``chunks`` (searchable rows with vectors), ``files`` (per-file state for change
detection) and ``embeddings`` (vectors by content hash, kept across deletions so a branch switch
or a moved file costs no embedding). ``meta.json`` records schema version, embedder model id and
dimension; opening with another embedder is refused.

Crash safety: each table write is one atomic LanceDB commit, written in the order embeddings →
chunks → files. A run killed between them leaves the files table stale, so the next run simply
processes those files again; the chunk write for a batch replaces that batch's files' chunks in
one commit (merge-insert), so nothing is duplicated or half-written.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("LANCE_LOG", "error")  # lance's Rust warnings would garble CLI output

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

from lapce_ai.chunking.model import Chunk
from lapce_ai.embedding.base import Vectors
from lapce_ai.index.lancedb_import import lancedb
from lapce_ai.search.tokenize import document_text

SCHEMA_VERSION = 1
META_FILE = "meta.json"
CHUNKS, FILES, EMBEDDINGS = "chunks", "files", "embeddings"
KEEP_VERSIONS_FOR = timedelta(seconds=10)  # readers pin a version briefly; older ones are deleted
COMPACT_AFTER_FRAGMENTS = 24  # each write adds a fragment; compact (and clean versions) past this
MAX_PATHS_IN_FILTER = 512  # more paths than this: read the root's whole manifest instead
FTS_COLUMN = "search_text"  # pre-tokenized code-aware text; search builds its BM25 from it


class IndexError_(Exception):
    """The index cannot be used as asked (wrong embedder, corrupt, missing)."""


class EmbedderMismatch(IndexError_):
    pass


@dataclass(frozen=True)
class IndexMeta:
    schema_version: int
    model_id: str
    dim: int
    created_at: float

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "model_id": self.model_id,
            "dim": self.dim,
            "created_at": self.created_at,
        }


@dataclass(frozen=True)
class FileState:
    root: str
    path: str
    size: int
    mtime_ns: int
    file_hash: str
    language: str
    route: str  # where the router sent it: cst | legacy
    parser: str  # what produced its chunks
    status: str  # "indexed" or "failed: <reason>"
    chunk_ids: tuple[str, ...]
    chunk_hashes: tuple[str, ...]


def chunk_schema(dim: int) -> pa.Schema:
    return pa.schema(
        [
            ("id", pa.string()),
            ("root", pa.string()),
            ("path", pa.string()),
            ("language", pa.string()),
            ("kind", pa.string()),
            ("symbol", pa.string()),
            ("start_line", pa.int32()),
            ("end_line", pa.int32()),
            ("parser", pa.string()),
            ("content", pa.string()),
            ("content_hash", pa.string()),
            (FTS_COLUMN, pa.string()),
            ("vector", pa.list_(pa.float32(), dim)),
        ]
    )


FILE_SCHEMA = pa.schema(
    [
        ("key", pa.string()),  # root + "\0" + path: the merge key
        ("root", pa.string()),
        ("path", pa.string()),
        ("size", pa.int64()),
        ("mtime_ns", pa.int64()),
        ("file_hash", pa.string()),
        ("language", pa.string()),
        ("route", pa.string()),
        ("parser", pa.string()),
        ("status", pa.string()),
        ("chunk_ids", pa.list_(pa.string())),
        ("chunk_hashes", pa.list_(pa.string())),
    ]
)


def embedding_schema(dim: int) -> pa.Schema:
    return pa.schema([("content_hash", pa.string()), ("vector", pa.list_(pa.float32(), dim))])


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _in_list(values: Iterable[str]) -> str:
    return "(" + ", ".join(_sql_str(v) for v in values) + ")"


class IndexStore:
    def __init__(self, path: Path, meta: IndexMeta, db: Any):
        self.path = path
        self.meta = meta
        self.db = db
        self._tables: dict[str, Any] = {}
        self.keep_versions_for = KEEP_VERSIONS_FOR
        self.compact_after_fragments = COMPACT_AFTER_FRAGMENTS

    # -- opening --------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path, model_id: str | None = None, dim: int | None = None, create: bool = False) -> IndexStore:
        """Open (or with ``create``, create) the index. ``model_id``/``dim`` must match if given."""
        path = Path(path)
        meta = read_meta(path)
        if meta is None:
            if not create:
                raise IndexError_(f"no index at {path} (run `lapce-index index PATH --index {path}` first)")
            if model_id is None or dim is None:
                raise IndexError_("creating an index needs the embedder's model id and dimension")
            path.mkdir(parents=True, exist_ok=True)
            meta = IndexMeta(SCHEMA_VERSION, model_id, dim, time.time())
            write_meta(path, meta)
        if meta.schema_version > SCHEMA_VERSION:
            raise IndexError_(
                f"index schema v{meta.schema_version} is newer than this program (v{SCHEMA_VERSION}); upgrade lapce-ai"
            )
        if model_id is not None and (meta.model_id != model_id or (dim is not None and meta.dim != dim)):
            raise EmbedderMismatch(
                f"index at {path} was built with embedder {meta.model_id!r} (dim {meta.dim}), "
                f"not {model_id!r} (dim {dim}); switch back, or rebuild it: "
                f"`lapce-index rebuild --from-source PATH --index {path}`"
            )
        db = lancedb.connect(str(path), read_consistency_interval=timedelta(0))
        store = cls(path, meta, db)
        store._ensure_tables()
        return store

    def _ensure_tables(self) -> None:
        existing = set(self.db.list_tables().tables)
        wanted = {
            CHUNKS: chunk_schema(self.meta.dim),
            FILES: FILE_SCHEMA,
            EMBEDDINGS: embedding_schema(self.meta.dim),
        }
        for name, schema in wanted.items():
            if name in existing:
                self._tables[name] = self.db.open_table(name)
            else:
                self._tables[name] = self.db.create_table(name, schema=schema, exist_ok=True)

    def table(self, name: str) -> Any:
        return self._tables[name]

    # -- file manifest --------------------------------------------------------------------

    def file_states(self, root: str, paths: Sequence[str] | None = None) -> dict[str, FileState]:
        """The manifest of ``root``; with ``paths``, of those files only (a save reads one row,
        not the whole workspace's)."""
        tbl = self.table(FILES)
        where = f"root = {_sql_str(root)}"
        if paths is not None and len(paths) <= MAX_PATHS_IN_FILTER:
            if not paths:
                return {}
            where += f" AND path IN {_in_list(paths)}"
        data = tbl.search().where(where).limit(None).to_arrow() if tbl.count_rows() else None
        out: dict[str, FileState] = {}
        if data is None:
            return out
        for row in data.to_pylist():
            out[row["path"]] = FileState(
                root=row["root"],
                path=row["path"],
                size=row["size"],
                mtime_ns=row["mtime_ns"],
                file_hash=row["file_hash"],
                language=row["language"],
                route=row["route"],
                parser=row["parser"],
                status=row["status"],
                chunk_ids=tuple(row["chunk_ids"] or ()),
                chunk_hashes=tuple(row["chunk_hashes"] or ()),
            )
        return out

    # -- embedding cache ------------------------------------------------------------------

    def cached_vectors(self, hashes: Sequence[str]) -> dict[str, Vectors]:
        if not hashes:
            return {}
        tbl = self.table(EMBEDDINGS)
        if not tbl.count_rows():
            return {}
        wanted = list(dict.fromkeys(hashes))
        if len(wanted) <= 256:
            data = tbl.search().where(f"content_hash IN {_in_list(wanted)}").limit(None).to_arrow()
        else:
            data = tbl.to_arrow()
            data = data.filter(pc.is_in(data.column("content_hash"), value_set=pa.array(wanted)))
        if not data.num_rows:
            return {}
        vectors = np.asarray(data.column("vector").combine_chunks().flatten(), dtype=np.float32).reshape(
            data.num_rows, self.meta.dim
        )
        return dict(zip(data.column("content_hash").to_pylist(), vectors, strict=True))

    # -- writes ---------------------------------------------------------------------------

    def write_batch(
        self,
        root: str,
        chunks: Sequence[Chunk],
        vectors: dict[str, Vectors],
        new_vectors: dict[str, Vectors],
        files: Sequence[FileState],
        removed_paths: Sequence[str] = (),
        search_texts: Sequence[str] | None = None,
    ) -> None:
        """Replace the chunks of ``files``' paths (and ``removed_paths``) in one commit per table."""
        if new_vectors:
            self.table(EMBEDDINGS).add(
                pa.table(
                    {
                        "content_hash": list(new_vectors),
                        "vector": _vector_array(list(new_vectors.values()), self.meta.dim),
                    },
                    schema=embedding_schema(self.meta.dim),
                )
            )
        touched = [f.path for f in files] + list(removed_paths)
        if touched:
            scope = f"root = {_sql_str(root)} AND path IN {_in_list(touched)}"
            rows = self._chunk_table(root, chunks, vectors, search_texts)
            tbl = self.table(CHUNKS)
            if rows.num_rows:
                (
                    tbl.merge_insert("id")
                    .when_matched_update_all()
                    .when_not_matched_insert_all()
                    .when_not_matched_by_source_delete(scope)
                    .execute(rows)
                )
            else:
                tbl.delete(scope)
        if files:
            self.update_file_states(files)
        if removed_paths:
            self.table(FILES).delete(f"root = {_sql_str(root)} AND path IN {_in_list(removed_paths)}")

    def update_file_states(self, files: Sequence[FileState]) -> None:
        self.table(FILES).merge_insert("key").when_matched_update_all().when_not_matched_insert_all().execute(
            _file_table(files)
        )

    def _chunk_table(
        self, root: str, chunks: Sequence[Chunk], vectors: dict[str, Vectors], search_texts: Sequence[str] | None
    ) -> pa.Table:
        if search_texts is None or len(search_texts) != len(chunks):
            search_texts = [document_text(c.path, c.symbol, c.content) for c in chunks]
        cols: dict[str, list[Any]] = {name: [] for name in chunk_schema(self.meta.dim).names if name != "vector"}
        prefix = _root_prefix(root)
        for c, text in zip(chunks, search_texts, strict=True):
            cols["id"].append(prefix + c.id)
            cols["root"].append(root)
            cols["path"].append(c.path)
            cols["language"].append(c.language)
            cols["kind"].append(c.kind)
            cols["symbol"].append(c.symbol)
            cols["start_line"].append(c.start_line)
            cols["end_line"].append(c.end_line)
            cols["parser"].append(c.parser)
            cols["content"].append(c.content)
            cols["content_hash"].append(c.content_hash)
            cols[FTS_COLUMN].append(text)
        vecs = _vector_array([vectors[c.content_hash] for c in chunks], self.meta.dim)
        return pa.table({**cols, "vector": vecs}, schema=chunk_schema(self.meta.dim))

    def finish(self, changed: bool) -> None:
        """After a run that wrote: compact a table once its fragments pile up, dropping old versions.

        Compaction rewrites a table's small fragments, which for a one-line edit would mean
        rewriting the whole table (1.6 s on the standard library); so it waits until a table has
        ``compact_after_fragments`` of them. That bounds fragments and versions alike.
        """
        if not changed:
            return
        for name in (CHUNKS, FILES, EMBEDDINGS):
            tbl = self.table(name)
            fragments = int(tbl.stats()["fragment_stats"]["num_fragments"])
            if fragments > self.compact_after_fragments:
                tbl.optimize(cleanup_older_than=self.keep_versions_for)

    def has_fts_index(self) -> bool:
        """Whether LanceDB's own full-text index exists (search uses its in-memory BM25 instead)."""
        return any(FTS_COLUMN in idx.columns for idx in self.table(CHUNKS).list_indices())

    # -- reading --------------------------------------------------------------------------

    def size_on_disk(self) -> int:
        total = 0
        for dirpath, _dirs, files in os.walk(self.path):
            for name in files:
                with contextlib.suppress(OSError):
                    total += os.path.getsize(os.path.join(dirpath, name))
        return total

    def versions(self) -> dict[str, int]:
        return {name: int(self.table(name).version) for name in (CHUNKS, FILES, EMBEDDINGS)}


def _root_prefix(root: str) -> str:
    # Chunk IDs are per workspace; one index may hold several workspaces.
    return xxhash.xxh3_64_hexdigest(root.encode("utf-8", "surrogatepass")) + ":"


def _vector_array(vectors: Sequence[Vectors], dim: int) -> pa.FixedSizeListArray:
    flat = np.asarray(vectors, dtype=np.float32).reshape(-1) if len(vectors) else np.zeros(0, dtype=np.float32)
    return pa.FixedSizeListArray.from_arrays(pa.array(flat, type=pa.float32()), dim)


def _file_table(files: Sequence[FileState]) -> pa.Table:
    return pa.table(
        {
            "key": [f"{f.root}\x00{f.path}" for f in files],
            "root": [f.root for f in files],
            "path": [f.path for f in files],
            "size": [f.size for f in files],
            "mtime_ns": [f.mtime_ns for f in files],
            "file_hash": [f.file_hash for f in files],
            "language": [f.language for f in files],
            "route": [f.route for f in files],
            "parser": [f.parser for f in files],
            "status": [f.status for f in files],
            "chunk_ids": [list(f.chunk_ids) for f in files],
            "chunk_hashes": [list(f.chunk_hashes) for f in files],
        },
        schema=FILE_SCHEMA,
    )


def read_meta(path: Path) -> IndexMeta | None:
    try:
        raw = json.loads((Path(path) / META_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise IndexError_(f"index metadata at {path / META_FILE} is unreadable: {exc}") from exc
    try:
        return IndexMeta(int(raw["schema_version"]), str(raw["model_id"]), int(raw["dim"]), float(raw["created_at"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise IndexError_(f"index metadata at {path / META_FILE} is invalid: {exc}") from exc


def write_meta(path: Path, meta: IndexMeta) -> None:
    tmp = Path(path) / (META_FILE + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(meta.to_json(), fh, indent=2)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, Path(path) / META_FILE)
