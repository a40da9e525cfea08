"""``lapce-index`` maintenance commands: stats, validate, migrate, backup, restore, rebuild, outline."""

from __future__ import annotations

import argparse
import json
import shutil
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

from lapce_ai.cli.common import fail, index_path, open_index, open_index_readonly
from lapce_ai.config import Settings
from lapce_ai.index.store import CHUNKS, FILES, META_FILE, SCHEMA_VERSION, read_meta
from lapce_ai.index.validate import validate_index


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    store = open_index_readonly(index_path(args.index, settings))
    files = store.table(FILES).to_arrow().select(["root", "language", "parser", "status"]).to_pylist()
    chunks = store.table(CHUNKS).to_arrow().select(["language", "parser", "kind"]).to_pylist()
    stats: dict[str, Any] = {
        "index": str(store.path),
        "schema_version": store.meta.schema_version,
        "embedder": store.meta.model_id,
        "dim": store.meta.dim,
        "workspaces": sorted({f["root"] for f in files}),
        "files": len(files),
        "files_failed": sum(1 for f in files if f["status"] != "indexed"),
        "chunks": len(chunks),
        "languages": _count(c["language"] for c in chunks),
        "files_by_language": _count(f["language"] for f in files),
        "parsers": _count(c["parser"] for c in chunks),
        "files_by_parser": _count(f["parser"] for f in files),
        "kinds": _count(c["kind"] for c in chunks),
        "versions": store.versions(),
        "size_bytes": store.size_on_disk(),
    }
    if store.meta.two_stage:
        refined, total = store.refine_counts()
        stats.update(
            refine_embedder=store.meta.refine_model_id,
            refine_dim=store.meta.refine_dim,
            refined=refined,
            refined_share=round(refined / total, 4) if total else 1.0,
        )
    if args.json:
        print(json.dumps(stats, indent=2))
        return 0
    print(f"index:      {stats['index']} (schema v{stats['schema_version']}, versions {stats['versions']})")
    print(f"embedder:   {stats['embedder']} (dim {stats['dim']})")
    if store.meta.two_stage:
        print(
            f"refined:    {stats['refined']}/{stats['chunks']} chunks ({stats['refined_share'] * 100:.1f} %) "
            f"by {stats['refine_embedder']} (dim {stats['refine_dim']})"
        )
    print(f"workspaces: {', '.join(stats['workspaces']) or '-'}")
    print(f"files:      {stats['files']} ({stats['files_failed']} failed)")
    print(f"chunks:     {stats['chunks']}")
    print(f"parsers:    {_fmt(stats['parsers'])}")
    print(f"languages:  {_fmt(stats['languages'])}")
    print(f"size:       {stats['size_bytes'] / 1e6:.1f} MB")
    return 0


def _count(values: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def _fmt(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items()) or "-"


def cmd_validate(args: argparse.Namespace, settings: Settings) -> int:
    report = validate_index(index_path(args.index, settings), detailed=args.detailed)
    if getattr(args, "json", False):
        print(json.dumps(report.to_json(), indent=2))
    else:
        for line in report.lines(detailed=args.detailed):
            print(line)
        print("valid" if report.ok else "INVALID")
    return 0 if report.ok else 1


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    target = _schema_target(args.to)
    path = index_path(args.index, settings)
    meta = read_meta(path)
    if meta is None:
        fail(f"no index at {path}", code=1)
    if target > SCHEMA_VERSION:
        fail(f"unknown schema version {target} (latest is {SCHEMA_VERSION})")
    if target < meta.schema_version:
        fail(f"downgrades are not supported (index is v{meta.schema_version})")
    if target == meta.schema_version:
        print(f"index at {path} is at schema v{meta.schema_version}: nothing to migrate")
        return 0
    # No released schema before v1 exists yet; a future v2 adds its step here.
    print(f"{'would migrate' if args.dry_run else 'migrating'} v{meta.schema_version} -> v{target}")
    return 0


def _schema_target(value: str) -> int:
    """``--to``: ``latest``, or a schema version (``1``, ``v1``)."""
    text = value.strip().lower()
    if text == "latest":
        return SCHEMA_VERSION
    number = text[1:] if text.startswith("v") else text
    if not number.isdigit() or int(number) < 1:
        fail(f"invalid --to {value!r}: expected 'latest' or a schema version from 1 to {SCHEMA_VERSION}")
    return int(number)


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    path = index_path(args.index, settings)
    report = validate_index(path)
    if not report.ok:
        fail("refusing to back up an invalid index: " + "; ".join(report.errors), code=1)
    out = Path(args.out or f"indices-{time.strftime('%Y%m%d-%H%M%S')}.tar.gz")
    tmp = out.with_name(out.name + ".partial")
    with tarfile.open(tmp, "w:gz") as tar:
        tar.add(path, arcname="index")
    tmp.replace(out)
    print(f"backup written: {out} ({out.stat().st_size / 1e6:.1f} MB)")
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    path = index_path(args.index, settings)
    archive = Path(args.backup)
    if not archive.is_file():
        fail(f"no such backup: {archive}", code=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=path.parent))
    try:
        with tarfile.open(archive, "r:*") as tar:
            tar.extractall(staging, filter="data")  # "data" refuses absolute paths and links out
        restored = staging / "index"
        if not (restored / META_FILE).is_file():
            fail(f"{archive} is not a lapce-index backup (no index/{META_FILE})", code=1)
        report = validate_index(restored)
        if not report.ok:
            fail("backup does not validate: " + "; ".join(report.errors), code=1)
        _swap_in(restored, path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    print(f"restored {archive} into {path}")
    return 0


def cmd_rebuild(args: argparse.Namespace, settings: Settings) -> int:
    from lapce_ai.cli.index_cmd import print_refine, print_summary, refine_indexed, refines, run_index

    path = index_path(args.index, settings)
    source = Path(args.source)
    if not source.is_dir():
        fail(f"not a directory: {source}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if settings.embedder.provider == "default":
        # A rebuild keeps the index's embedder unless --embedder (or the config) names one.
        from lapce_ai.embedding.registry import resolve_provider

        embedder = settings.embedder.model_copy(update={"provider": resolve_provider("default", path)})
        settings = settings.model_copy(update={"embedder": embedder})
    staging = Path(tempfile.mkdtemp(prefix=".rebuild-", dir=path.parent))
    refined: dict[str, Any] | None = None
    try:
        opened = open_index(staging / "index", settings, create=True)
        summary = run_index(source, staging / "index", settings, show_progress=not args.no_progress, opened=opened)
        # Refined before the swap, so the rebuilt index is never worse than the one it replaces;
        # an interrupted refine still swaps in (searchable; `lapce-index refine` resumes).
        if args.refine and refines(staging / "index", settings, unchanged=False):
            refined = refine_indexed(opened, summary, show_progress=not args.no_progress)
        _swap_in(staging / "index", path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print_summary(summary)
        if refined is not None:
            print_refine(refined)
        print(f"rebuilt {path} from {source}")
    return 130 if refined is not None and refined["interrupted"] else 0


def _swap_in(new: Path, target: Path) -> None:
    """Replace ``target`` with ``new``; the old index stays intact until the final rename."""
    old = target.with_name(target.name + f".old-{int(time.time())}")
    if target.exists():
        target.rename(old)
    new.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def cmd_outline(args: argparse.Namespace, settings: Settings) -> int:
    from lapce_ai.cache.outline import OutlineError, outline_file

    try:
        symbols = outline_file(Path(args.file), settings)
    except OutlineError as exc:
        fail(str(exc), code=1)
    if args.json:
        print(json.dumps(symbols, indent=2))
    else:
        for s in symbols:
            print(f"{s['start_line']:>5}-{s['end_line']:<5} {s['kind']:<10} {s['symbol']}")
    return 0
