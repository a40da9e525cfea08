"""``lapce-index validate``: is this index whole and consistent?"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.compute as pc

from lapce_ai.index.store import (
    CHUNKS,
    EMBEDDINGS,
    FILE_SUMMARIES,
    FILES,
    REFINED,
    REFINED_EMBEDDINGS,
    SCHEMA_VERSION,
    IndexError_,
    IndexStore,
    chunk_schema,
)


@dataclass
class ValidationReport:
    path: str
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def lines(self, detailed: bool = False) -> list[str]:
        out = [f"index: {self.path}"]
        if detailed:
            out += [f"  {k}: {v}" for k, v in self.facts.items()]
        out += [f"  error: {e}" for e in self.errors]
        out += [f"  warning: {w}" for w in self.warnings]
        return out

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "valid": self.ok, "errors": self.errors, "warnings": self.warnings, **self.facts}


def validate_index(path: Path, detailed: bool = False) -> ValidationReport:
    report = ValidationReport(str(path))
    try:
        store = IndexStore.open(Path(path))
    except IndexError_ as exc:
        report.errors.append(str(exc))
        return report
    except Exception as exc:  # a damaged LanceDB directory raises whatever lance raises
        report.errors.append(f"cannot open tables: {type(exc).__name__}: {exc}")
        return report
    meta = store.meta
    report.facts.update(schema_version=meta.schema_version, embedder=meta.model_id, dim=meta.dim)
    if meta.two_stage:
        report.facts.update(refine_embedder=meta.refine_model_id, refine_dim=meta.refine_dim)
    if meta.schema_version < SCHEMA_VERSION:
        report.errors.append(
            f"schema v{meta.schema_version} is older than v{SCHEMA_VERSION}: run `lapce-index migrate --to latest`"
        )
    try:
        _check_tables(store, report, detailed)
    except Exception as exc:
        report.errors.append(f"cannot read tables: {type(exc).__name__}: {exc}")
    return report


def _check_tables(store: IndexStore, report: ValidationReport, detailed: bool) -> None:
    chunks_tbl = store.table(CHUNKS)
    expected = chunk_schema(store.meta.dim, store.meta.refine_dim)
    actual = chunks_tbl.schema
    for name in expected.names:
        if name not in actual.names:
            report.errors.append(f"chunks table lacks column {name!r}")
        elif actual.field(name).type != expected.field(name).type:
            report.errors.append(
                f"chunks.{name} has type {actual.field(name).type}, expected {expected.field(name).type}"
            )
    if report.errors:
        return
    columns = ["id", "root", "path", "start_line", "end_line", "vector"] + ([REFINED] if store.meta.two_stage else [])
    chunks = chunks_tbl.to_arrow().select(columns)
    files = store.table(FILES).to_arrow().select(["root", "path", "status", "chunk_ids"])
    report.facts.update(
        files=files.num_rows,
        chunks=chunks.num_rows,
        embeddings_cached=store.table(EMBEDDINGS).count_rows(),
        versions=store.versions(),
    )
    if store.meta.two_stage:
        # Rows without a second-stage vector are normal (not refined yet): counted, not an error.
        report.facts.update(
            refined=chunks.num_rows - chunks.column(REFINED).null_count,
            refined_embeddings_cached=store.table(REFINED_EMBEDDINGS).count_rows(),
        )
    ids = chunks.column("id")
    if pc.count_distinct(ids).as_py() != chunks.num_rows:
        report.errors.append("duplicate chunk ids")
    bad_lines = pc.sum(pc.cast(pc.less(chunks.column("end_line"), chunks.column("start_line")), "int64")).as_py()
    if bad_lines:
        report.errors.append(f"{bad_lines} chunks with end_line < start_line")
    if chunks.num_rows and pc.sum(pc.cast(pc.is_null(chunks.column("vector")), "int64")).as_py():
        report.errors.append("chunks without vectors")
    file_keys = set(zip(files.column("root").to_pylist(), files.column("path").to_pylist(), strict=True))
    chunk_keys = set(zip(chunks.column("root").to_pylist(), chunks.column("path").to_pylist(), strict=True))
    orphans = chunk_keys - file_keys
    if orphans:
        # A run killed between its chunk and manifest commits leaves these; the next run fixes them.
        report.warnings.append(f"{len(orphans)} files have chunks but no manifest row (re-run `lapce-index index`)")
    summaries = store.table(FILE_SUMMARIES).to_arrow().select(["root", "path"])
    summary_keys = set(zip(summaries.column("root").to_pylist(), summaries.column("path").to_pylist(), strict=True))
    report.facts["file_summaries"] = len(summary_keys)
    if summary_keys != chunk_keys:
        # An index written before file summaries existed, or a run killed between two writes.
        missing, stale = len(chunk_keys - summary_keys), len(summary_keys - chunk_keys)
        report.warnings.append(
            f"file summaries: {missing} files lack one, {stale} belong to no file (re-run `lapce-index index`)"
        )
    if detailed:
        expected_counts = sum(len(x or []) for x in files.column("chunk_ids").to_pylist())
        report.facts["manifest_chunks"] = expected_counts
        if expected_counts != chunks.num_rows:
            report.warnings.append(
                f"manifest lists {expected_counts} chunks, table holds {chunks.num_rows} (an interrupted run?)"
            )
        failed = [
            p
            for p, s in zip(files.column("path").to_pylist(), files.column("status").to_pylist(), strict=True)
            if s != "indexed"
        ]
        report.facts["files_failed"] = len(failed)
