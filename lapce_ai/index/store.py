"""The LanceDB index on disk: chunks, file manifest, embedding cache, and the index's identity.

Four tables: ``chunks`` (searchable rows with vectors), ``files`` (per-file state for change
detection), ``embeddings`` (vectors by content hash, kept across deletions so a branch switch
or a moved file costs no embedding) and ``file_summaries`` (one vector per file, of its path
words and defined names: ``lapce_ai.index.file_summaries``). ``meta.json`` records schema version, embedder model id and
dimension; opening with another embedder is refused.

A two-stage index (``[embedder] provider = "two-stage"``) also records its second model
(``refine_model_id``, ``refine_dim``): ``chunks`` gains a nullable ``refined`` vector column,
filled in after the rows were written (``lapce_ai.index.refine``), and ``refined_embeddings``
caches those vectors by content hash the way ``embeddings`` caches the first stage's.

Crash safety: each table write is one atomic LanceDB commit, written in the order embeddings →
file summaries → chunks → files (a search that sees a file's chunks sees its summary). A run
killed between them leaves the files table stale, so the next run simply processes those files
again; the chunk write for a batch replaces that batch's files' chunks in one commit
(merge-insert), so nothing is duplicated or half-written.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("LANCE_LOG", "error")  # lance's Rust warnings would garble CLI output

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

from lapce_ai.chunking.model import Chunk
from lapce_ai.embedding.base import Embedder, Vectors
from lapce_ai.embedding.two_stage import refiner_of
from lapce_ai.index.lancedb_import import lancedb
from lapce_ai.search.corpus import vector_matrix
from lapce_ai.search.tokenize import document_text

SCHEMA_VERSION = 1
META_FILE = "meta.json"
CHUNKS, FILES, EMBEDDINGS = "chunks", "files", "embeddings"
REFINED_EMBEDDINGS = "refined_embeddings"  # second-stage vectors by content hash (two-stage indexes)
REFINED = "refined"  # the chunks column holding them (null until refined)
FILE_SUMMARIES = "file_summaries"  # one vector per file (and its refined one): a file-level signal
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
    refine_model_id: str | None = None  # the second stage of a two-stage index
    refine_dim: int | None = None

    @property
    def two_stage(self) -> bool:
        return self.refine_model_id is not None

    def describe(self) -> str:
        text = f"{self.model_id!r} (dim {self.dim})"
        if self.refine_model_id is not None:
            text += f" refined by {self.refine_model_id!r} (dim {self.refine_dim})"
        return text

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "schema_version": self.schema_version,
            "model_id": self.model_id,
            "dim": self.dim,
            "created_at": self.created_at,
        }
        if self.refine_model_id is not None:
            out.update(refine_model_id=self.refine_model_id, refine_dim=self.refine_dim)
        return out


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


@dataclass(frozen=True)
class StoredSummary:
    """A row of ``file_summaries``: a file's summary text and its vectors."""

    root: str
    path: str
    text: str
    text_hash: str
    vector: Vectors
    refined: Vectors | None = None  # the second stage's (two-stage indexes; None until refined)


def chunk_schema(dim: int, refine_dim: int | None = None) -> pa.Schema:
    refined = [(REFINED, pa.list_(pa.float32(), refine_dim))] if refine_dim is not None else []
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
            *refined,
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


def summary_schema(dim: int, refine_dim: int | None = None) -> pa.Schema:
    refined = [(REFINED, pa.list_(pa.float32(), refine_dim))] if refine_dim is not None else []
    return pa.schema(
        [
            ("key", pa.string()),  # root + "\0" + path: the merge key
            ("root", pa.string()),
            ("path", pa.string()),
            ("text", pa.string()),
            ("text_hash", pa.string()),
            ("vector", pa.list_(pa.float32(), dim)),
            *refined,
        ]
    )


def embedding_schema(dim: int) -> pa.Schema:
    return pa.schema([("content_hash", pa.string()), ("vector", pa.list_(pa.float32(), dim))])


def sql_string(value: str) -> str:
    """``value`` as a quoted SQL string literal for a LanceDB filter."""
    return "'" + value.replace("'", "''") + "'"


def in_list(values: Iterable[str]) -> str:
    """``values`` as a parenthesised list of SQL string literals, for ``IN``."""
    return "(" + ", ".join(sql_string(v) for v in values) + ")"


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
    def open(
        cls,
        path: Path,
        model_id: str | None = None,
        dim: int | None = None,
        create: bool = False,
        refine: tuple[str, int] | None = None,
    ) -> IndexStore:
        """Open (or with ``create``, create) the index. ``model_id``/``dim`` must match if given,
        and so must ``refine`` (the second stage's model id and dim; None: a single-stage index)."""
        path = Path(path)
        meta = read_meta(path)
        if meta is None:
            if not create:
                raise IndexError_(f"no index at {path} (run `lapce-index index PATH --index {path}` first)")
            if model_id is None or dim is None:
                raise IndexError_("creating an index needs the embedder's model id and dimension")
            path.mkdir(parents=True, exist_ok=True)
            refine_id, refine_dim = refine if refine is not None else (None, None)
            meta = IndexMeta(SCHEMA_VERSION, model_id, dim, time.time(), refine_id, refine_dim)
            write_meta(path, meta)
        if meta.schema_version > SCHEMA_VERSION:
            raise IndexError_(
                f"index schema v{meta.schema_version} is newer than this program (v{SCHEMA_VERSION}); upgrade lapce-ai"
            )
        if model_id is not None:
            refine_id, refine_dim = refine if refine is not None else (None, None)
            wanted = replace(meta, model_id=model_id, dim=meta.dim if dim is None else dim)
            wanted = replace(wanted, refine_model_id=refine_id, refine_dim=refine_dim)
            if wanted != meta:
                raise EmbedderMismatch(
                    f"index at {path} was built with embedder {meta.describe()}, not {wanted.describe()}; "
                    f"switch back, or rebuild it: `lapce-index rebuild --from-source PATH --index {path}`"
                )
        db = lancedb.connect(str(path), read_consistency_interval=timedelta(0))
        store = cls(path, meta, db)
        store._ensure_tables()
        return store

    @classmethod
    def open_for(cls, path: Path, embedder: Embedder, create: bool = False) -> IndexStore:
        """Open the index for ``embedder``: both stages of a two-stage embedder must match."""
        refiner = refiner_of(embedder)
        refine = (refiner.model_id, refiner.dim) if refiner is not None else None
        return cls.open(path, embedder.model_id, embedder.dim, create=create, refine=refine)

    def _ensure_tables(self) -> None:
        existing = set(self.db.list_tables().tables)
        wanted = {
            CHUNKS: chunk_schema(self.meta.dim, self.meta.refine_dim),
            FILES: FILE_SCHEMA,
            EMBEDDINGS: embedding_schema(self.meta.dim),
            FILE_SUMMARIES: summary_schema(self.meta.dim, self.meta.refine_dim),
        }
        if self.meta.refine_dim is not None:
            wanted[REFINED_EMBEDDINGS] = embedding_schema(self.meta.refine_dim)
        for name, schema in wanted.items():
            if name in existing:
                self._tables[name] = self.db.open_table(name)
            else:
                self._tables[name] = self.db.create_table(name, schema=schema, exist_ok=True)

    def table(self, name: str) -> Any:
        return self._tables[name]

    @functools.cached_property
    def cache_key(self) -> str:
        """The index's resolved path: what per-index caches are keyed by (resolved once: a
        search asks for it on every query)."""
        return str(Path(self.path).resolve())

    def table_stamp(self, name: str) -> tuple[int, int, bytes] | None:
        """A cheap change stamp of a table: its version folder's inode and mtime (a commit adds a
        manifest; a table created anew gets a new folder) and its latest-version hint (file
        system timestamps can be coarser than two commits). Asking LanceDB for the version costs
        a round trip through its event loop (~1-20 ms); this costs microseconds. None when the
        layout is not the local one."""
        folder = Path(self.path) / f"{name}.lance" / "_versions"
        try:
            st = os.stat(folder)
        except OSError:
            return None
        try:
            hint = (folder / "latest_version_hint.json").read_bytes()[:64]
        except OSError:
            hint = b""
        return st.st_ino, st.st_mtime_ns, hint

    # -- file manifest --------------------------------------------------------------------

    def file_states(self, root: str, paths: Sequence[str] | None = None) -> dict[str, FileState]:
        """The manifest of ``root``; with ``paths``, of those files only (a save reads one row,
        not the whole workspace's)."""
        tbl = self.table(FILES)
        where = f"root = {sql_string(root)}"
        if paths is not None and len(paths) <= MAX_PATHS_IN_FILTER:
            if not paths:
                return {}
            where += f" AND path IN {in_list(paths)}"
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

    @property
    def tables(self) -> tuple[str, ...]:
        return tuple(self._tables)

    def cached_vectors(self, hashes: Sequence[str], refined: bool = False) -> dict[str, Vectors]:
        """Cached vectors by content hash: the first stage's, or with ``refined`` the second's."""
        if not hashes or (refined and not self.meta.two_stage):
            return {}
        tbl = self.table(REFINED_EMBEDDINGS if refined else EMBEDDINGS)
        dim = self.meta.refine_dim if refined and self.meta.refine_dim is not None else self.meta.dim
        if not tbl.count_rows():
            return {}
        wanted = list(dict.fromkeys(hashes))
        if len(wanted) <= 256:
            data = tbl.search().where(f"content_hash IN {in_list(wanted)}").limit(None).to_arrow()
        else:
            data = tbl.to_arrow()
            data = data.filter(pc.is_in(data.column("content_hash"), value_set=pa.array(wanted)))
        if not data.num_rows:
            return {}
        vectors = np.asarray(data.column("vector").combine_chunks().flatten(), dtype=np.float32).reshape(
            data.num_rows, dim
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
        refined: dict[str, Vectors] | None = None,
        summaries: Sequence[StoredSummary] = (),
    ) -> None:
        """Replace the chunks of ``files``' paths (and ``removed_paths``) in one commit per table.
        ``refined``: second-stage vectors already cached for some content hashes (two-stage);
        ``summaries``: the new summaries of those files (a file without one loses its row)."""
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
            scope = f"root = {sql_string(root)} AND path IN {in_list(touched)}"
            self._replace_summaries(scope, summaries)
            rows = self._chunk_table(root, chunks, vectors, search_texts, refined or {})
            tbl = self.table(CHUNKS)
            if rows.num_rows:
                (
                    tbl.merge_insert("id")
                    .when_matched_update_all()
                    .when_not_matched_insert_all()
                    .when_not_matched_by_source_delete(scope)
                    # LanceDB takes a null vector for a bad one; ``refined`` is null until refined.
                    .execute(rows, on_bad_vectors="null" if self.meta.two_stage else "error")
                )
            else:
                tbl.delete(scope)
        if files:
            self.update_file_states(files)
        if removed_paths:
            self.table(FILES).delete(f"root = {sql_string(root)} AND path IN {in_list(removed_paths)}")

    def _replace_summaries(self, scope: str, summaries: Sequence[StoredSummary]) -> None:
        """Write ``summaries`` and drop the other summaries within ``scope`` (one commit)."""
        if summaries:
            self.write_summaries(summaries, delete_others_in=scope)
        elif self.table(FILE_SUMMARIES).count_rows():
            self.table(FILE_SUMMARIES).delete(scope)

    def write_summaries(self, summaries: Sequence[StoredSummary], delete_others_in: str | None = None) -> None:
        """Insert or replace these files' summaries (one commit); with ``delete_others_in``, a
        filter, also drop the summaries it matches that are not among them."""
        if not summaries:
            return
        merge = self.table(FILE_SUMMARIES).merge_insert("key").when_matched_update_all().when_not_matched_insert_all()
        if delete_others_in is not None:
            merge = merge.when_not_matched_by_source_delete(delete_others_in)
        merge.execute(self._summary_table(summaries), on_bad_vectors=self._null_refined)

    def delete_summaries(self, keys: Sequence[tuple[str, str]]) -> None:
        """Drop the summaries of these (root, path) files (one commit)."""
        if keys:
            merge_keys = [f"{root}\x00{path}" for root, path in keys]
            self.table(FILE_SUMMARIES).delete(f"key IN {in_list(merge_keys)}")

    def summaries(
        self, root: str | None = None, paths: Sequence[str] | None = None
    ) -> dict[tuple[str, str], StoredSummary]:
        """The stored summaries (of ``root``; with ``paths``, of those files only)."""
        tbl = self.table(FILE_SUMMARIES)
        if not tbl.count_rows():
            return {}
        where = []
        if root is not None:
            where.append(f"root = {sql_string(root)}")
        if paths is not None and len(paths) <= MAX_PATHS_IN_FILTER:
            if not paths:
                return {}
            where.append(f"path IN {in_list(paths)}")
        query = tbl.search()
        if where:
            query = query.where(" AND ".join(where))
        return {(s.root, s.path): s for s in _stored_summaries(query.limit(None).to_arrow())}

    def summary_paths(self, root: str) -> set[str]:
        """The paths of ``root`` that have a summary (their vectors are not read)."""
        tbl = self.table(FILE_SUMMARIES)
        if not tbl.count_rows():
            return set()
        data = tbl.search().where(f"root = {sql_string(root)}").select(["path"]).limit(None).to_arrow()
        return set(data.column("path").to_pylist())

    def unrefined_summaries(self, limit: int) -> list[StoredSummary]:
        """Up to ``limit`` summaries without a second-stage vector (two-stage indexes)."""
        if not self.meta.two_stage:
            return []
        data = self.table(FILE_SUMMARIES).search().where(f"{REFINED} IS NULL").limit(limit).to_arrow()
        return _stored_summaries(data)

    def unrefined_summary_count(self) -> int:
        """File summaries without a second-stage vector (0 for a single-stage index)."""
        if not self.meta.two_stage:
            return 0
        return int(self.table(FILE_SUMMARIES).count_rows(f"{REFINED} IS NULL"))

    def write_refined_summaries(self, summaries: Sequence[StoredSummary]) -> int:
        """Store these summaries' second-stage vectors, where the row still holds the text that
        was embedded (an edit made meanwhile is refined again later). Returns the rows updated."""
        if not summaries:
            return 0
        result = (
            self.table(FILE_SUMMARIES)
            .merge_insert("key")
            .when_matched_update_all(where="target.text_hash = source.text_hash")
            .execute(self._summary_table(summaries))
        )
        return int(getattr(result, "num_updated_rows", len(summaries)) or 0)

    @property
    def _null_refined(self) -> str:
        # LanceDB takes a null vector for a bad one; ``refined`` is null until refined.
        return "null" if self.meta.two_stage else "error"

    def _summary_table(self, summaries: Sequence[StoredSummary]) -> pa.Table:
        schema = summary_schema(self.meta.dim, self.meta.refine_dim)
        columns: dict[str, Any] = {
            "key": [f"{s.root}\x00{s.path}" for s in summaries],
            "root": [s.root for s in summaries],
            "path": [s.path for s in summaries],
            "text": [s.text for s in summaries],
            "text_hash": [s.text_hash for s in summaries],
            "vector": _vector_array([s.vector for s in summaries], self.meta.dim),
        }
        if self.meta.refine_dim is not None:
            columns[REFINED] = _optional_vector_array([s.refined for s in summaries], self.meta.refine_dim)
        return pa.table(columns, schema=schema)

    def update_file_states(self, files: Sequence[FileState]) -> None:
        self.table(FILES).merge_insert("key").when_matched_update_all().when_not_matched_insert_all().execute(
            _file_table(files)
        )

    def _chunk_table(
        self,
        root: str,
        chunks: Sequence[Chunk],
        vectors: dict[str, Vectors],
        search_texts: Sequence[str] | None,
        refined: dict[str, Vectors],
    ) -> pa.Table:
        if search_texts is None or len(search_texts) != len(chunks):
            search_texts = [document_text(c.path, c.symbol, c.content) for c in chunks]
        schema = chunk_schema(self.meta.dim, self.meta.refine_dim)
        cols: dict[str, list[Any]] = {name: [] for name in schema.names if name not in ("vector", REFINED)}
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
        columns: dict[str, Any] = {
            **cols,
            "vector": _vector_array([vectors[c.content_hash] for c in chunks], self.meta.dim),
        }
        if self.meta.refine_dim is not None:
            # Rows whose content was refined before (any file, any run) keep their second vector.
            columns[REFINED] = _optional_vector_array(
                [refined.get(c.content_hash) for c in chunks], self.meta.refine_dim
            )
        return pa.table(columns, schema=schema)

    # -- second stage (two-stage indexes) -------------------------------------------------

    def unrefined(self, limit: int) -> pa.Table:
        """Up to ``limit`` whole chunk rows without a second-stage vector."""
        result: pa.Table = self.table(CHUNKS).search().where(f"{REFINED} IS NULL").limit(limit).to_arrow()
        return result

    def refine_counts(self) -> tuple[int, int]:
        """(rows with a second-stage vector, all rows); (0, n) for a single-stage index."""
        tbl = self.table(CHUNKS)
        total = int(tbl.count_rows())
        if not self.meta.two_stage or not total:
            return 0, total
        return int(tbl.count_rows(f"{REFINED} IS NOT NULL")), total

    def write_refined(self, rows: pa.Table, vectors: dict[str, Vectors], new_vectors: dict[str, Vectors]) -> int:
        """Give ``rows`` (as ``unrefined`` read them) their second-stage vectors, by content hash:
        one commit to the cache (``new_vectors``), then one to the chunks. A row whose content
        changed meanwhile is left alone (it is refined again later). Returns the rows updated.

        The rows are written whole: LanceDB's merge-insert of a subset of the columns reads
        the entire table to fill in the rest (0.5 s and +300 MB per commit on the stdlib's 60k
        chunks, vs 0.07 s and ~nothing for whole rows)."""
        refine_dim = self.meta.refine_dim
        if refine_dim is None:
            raise IndexError_("this index has no second stage to refine")
        if new_vectors:
            self.table(REFINED_EMBEDDINGS).add(
                pa.table(
                    {
                        "content_hash": list(new_vectors),
                        "vector": _vector_array(list(new_vectors.values()), refine_dim),
                    },
                    schema=embedding_schema(refine_dim),
                )
            )
        hashes = rows.column("content_hash").to_pylist()
        keep = [i for i, h in enumerate(hashes) if h in vectors]
        if not keep:
            return 0
        schema = chunk_schema(self.meta.dim, refine_dim)
        rows = rows.take(keep).select(schema.names)
        column = _vector_array([vectors[hashes[i]] for i in keep], refine_dim)
        rows = rows.set_column(schema.get_field_index(REFINED), schema.field(REFINED), column).cast(schema)
        result = (
            self.table(CHUNKS)
            .merge_insert("id")
            .when_matched_update_all(where="target.content_hash = source.content_hash")
            .execute(rows)
        )
        return int(getattr(result, "num_updated_rows", len(keep)) or 0)

    def finish(self, changed: bool) -> None:
        """After a run that wrote: compact a table once its fragments pile up, dropping old versions.

        Compaction rewrites a table's small fragments, which for a one-line edit would mean
        rewriting the whole table (1.6 s on the standard library); so it waits until a table has
        ``compact_after_fragments`` of them. That bounds fragments and versions alike.
        """
        if not changed:
            return
        for name in self.tables:
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
        return {name: int(self.table(name).version) for name in self.tables}


def _root_prefix(root: str) -> str:
    # Chunk IDs are per workspace; one index may hold several workspaces.
    return xxhash.xxh3_64_hexdigest(root.encode("utf-8", "surrogatepass")) + ":"


def _vector_array(vectors: Sequence[Vectors], dim: int) -> pa.FixedSizeListArray:
    flat = np.asarray(vectors, dtype=np.float32).reshape(-1) if len(vectors) else np.zeros(0, dtype=np.float32)
    return pa.FixedSizeListArray.from_arrays(pa.array(flat, type=pa.float32()), dim)


def _optional_vector_array(vectors: Sequence[Vectors | None], dim: int) -> pa.FixedSizeListArray:
    present = np.asarray([v is not None for v in vectors], dtype=bool)
    if present.all():
        return _vector_array([v for v in vectors if v is not None], dim)
    flat = np.zeros((len(vectors), dim), dtype=np.float32)
    for i, v in enumerate(vectors):
        if v is not None:
            flat[i] = v
    mask = pa.array(~present)  # True: null
    return pa.FixedSizeListArray.from_arrays(pa.array(flat.reshape(-1), type=pa.float32()), dim, mask=mask)


def _stored_summaries(data: pa.Table) -> list[StoredSummary]:
    if not data.num_rows:
        return []
    vectors = vector_matrix(data.column("vector").combine_chunks())
    refined: list[Vectors | None] = [None] * data.num_rows
    if REFINED in data.column_names:
        column = data.column(REFINED).combine_chunks()
        matrix = vector_matrix(column)
        for i in np.flatnonzero(column.is_valid().to_numpy(zero_copy_only=False)).tolist():
            refined[i] = matrix[i]
    return [
        StoredSummary(r, p, t, h, vectors[i], refined[i])
        for i, (r, p, t, h) in enumerate(
            zip(
                data.column("root").to_pylist(),
                data.column("path").to_pylist(),
                data.column("text").to_pylist(),
                data.column("text_hash").to_pylist(),
                strict=True,
            )
        )
    ]


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
        refine_id = raw.get("refine_model_id")
        refine_dim = raw.get("refine_dim")
        return IndexMeta(
            int(raw["schema_version"]),
            str(raw["model_id"]),
            int(raw["dim"]),
            float(raw["created_at"]),
            str(refine_id) if refine_id is not None else None,
            int(refine_dim) if refine_id is not None else None,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise IndexError_(f"index metadata at {path / META_FILE} is invalid: {exc}") from exc


def write_meta(path: Path, meta: IndexMeta) -> None:
    tmp = Path(path) / (META_FILE + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(meta.to_json(), fh, indent=2)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, Path(path) / META_FILE)
