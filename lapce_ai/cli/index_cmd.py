"""``lapce-index``: index, search and maintain an index from the command line (SPEC §4)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lapce_ai.cli.common import Opened, fail, index_path, load_settings, open_index, run
from lapce_ai.config import Settings
from lapce_ai.observability.build import version_line

if TYPE_CHECKING:
    from lapce_ai.discovery.walker import DiscoveryReport


EMBEDDERS = ["default", "static", "transformer", "two-stage", "titan"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lapce-index", description="Semantic code search index")
    parser.add_argument("--version", action="version", version=version_line(parser.prog))
    parser.add_argument("--config", help="config file (default: $LAPCE_AI_CONFIG, /etc/lapce-ai/config.toml)")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--config", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        p.add_argument("--index", help="index directory (default: [paths] index_dir)")
        return p

    p = add("index", "index (incrementally) a workspace")
    p.add_argument("path", help="workspace root")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--embedder", choices=EMBEDDERS)
    p.add_argument("--no-progress", action="store_true")
    add_refine_flag(p)

    p = add("refine", "two-stage index: give every row its second-stage (transformer) vector; resumable")
    p.add_argument("--embedder", choices=EMBEDDERS)
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--no-progress", action="store_true")

    p = add("search", "search an index")
    p.add_argument("query")
    p.add_argument("-k", type=int, default=10)
    p.add_argument("--path", help="path prefix or glob, relative to the workspace root")
    p.add_argument("--language", help="a language or an alias: python / py, javascript / js, go / golang, cpp / c++")
    p.add_argument("--kind", help="function, method, class, struct, interface, enum, impl, type, module, test ...")
    p.add_argument("--mode", choices=["hybrid", "lexical", "dense"], default="hybrid")
    p.add_argument("--embedder", choices=EMBEDDERS)
    p.add_argument("--json", action="store_true")

    p = add("mcp", "serve search to AI coding agents over MCP (stdio); the index stays loaded")
    p.add_argument("--embedder", choices=EMBEDDERS)

    p = add("stats", "files, chunks, languages, parsers, version, size")
    p.add_argument("--json", action="store_true")

    p = add("validate", "check an index; exit 0 when valid")
    p.add_argument("--detailed", action="store_true")
    p.add_argument("--json", action="store_true")

    p = add("migrate", "upgrade an index's schema")
    p.add_argument("--to", default="latest")
    p.add_argument("--dry-run", action="store_true")

    p = add("backup", "write a verified backup archive of an index")
    p.add_argument("--out", help="archive path (default: ./indices-YYYYmmdd-HHMMSS.tar.gz)")

    p = add("restore", "restore an index from a backup archive (atomic swap)")
    p.add_argument("--backup", required=True, help="archive written by `lapce-index backup`")

    p = add("rebuild", "rebuild an index from source into a new directory, then swap it in")
    p.add_argument("--from-source", required=True, dest="source")
    p.add_argument("--embedder", choices=EMBEDDERS)
    p.add_argument("--json", action="store_true")
    p.add_argument("--no-progress", action="store_true")
    add_refine_flag(p)

    p = add("outline", "print a file's symbols (kind, name, lines)")
    p.add_argument("file")
    p.add_argument("--json", action="store_true")
    return parser


def add_refine_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--refine",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="two-stage index: refine every row before exiting, so the index the command leaves is the "
        "precise one (default; it is searchable once the first stage is written, and Ctrl-C stops "
        "safely). --no-refine stops after the first stage: `lapce-index refine` or a running "
        "lapce-ai-indexer refines later",
    )


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    run(lambda: dispatch(args))


def dispatch(args: argparse.Namespace) -> int:
    settings = load_settings(args.config, getattr(args, "embedder", None))
    if args.command == "index":
        return cmd_index(args, settings)
    if args.command == "search":
        return cmd_search(args, settings)
    if args.command == "mcp":
        return cmd_mcp(args, settings)
    if args.command == "refine":
        return cmd_refine(args, settings)
    # Maintenance commands live apart so `index` and `search` do not import what they never use.
    from lapce_ai.cli import maintenance

    handler = getattr(maintenance, f"cmd_{args.command}")
    code: int = handler(args, settings)
    return code


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    root = Path(args.path)
    if not root.is_dir():
        fail(f"not a directory: {root}")
    from lapce_ai.index.snapshot import confirm_unchanged

    index_dir = index_path(args.index, settings)
    # An unchanged tree is confirmed from the manifest snapshot without opening LanceDB.
    quick, walked = confirm_unchanged(root, index_dir, settings)
    refine = args.refine and refines(index_dir, settings, unchanged=quick is not None)
    opened = open_index(index_dir, settings, create=True) if refine else None
    if quick is not None:
        summary = quick.to_json()
    else:
        summary = run_index(root, index_dir, settings, show_progress=not args.no_progress, walked=walked, opened=opened)
    refined = refine_indexed(opened, summary, show_progress=not args.no_progress) if opened else None
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print_summary(summary)
        if refined is not None:
            print_refine(refined)
    if refined is not None and refined["interrupted"]:
        return 130
    return 1 if summary["files_failed"] and not summary["files_indexed"] and summary["files_seen"] else 0


def refine_indexed(opened: Opened, summary: dict[str, Any], show_progress: bool) -> dict[str, Any]:
    """Refine what an ``index`` run left pending; the refine summary goes into ``summary``."""
    if summary.get("refine_pending") and show_progress and sys.stderr.isatty():
        print(
            f"searchable now; refining {summary['refine_pending']} chunks with the precise model "
            "(Ctrl-C stops safely, `lapce-index refine` resumes)",
            file=sys.stderr,
        )
    refined = run_refine(opened, show_progress=show_progress)
    summary["refine"] = refined
    if "refine_pending" in summary:
        summary["refine_pending"] = refined["total"] - refined["done"]
    return refined


def refines(index_dir: Path, settings: Settings, unchanged: bool) -> bool:
    """Whether ``index`` should refine: the index is (or will be) two-stage, and it is not an
    unchanged tree that the snapshot says is refined already (that run never opens LanceDB)."""
    from lapce_ai.embedding.registry import resolve_provider
    from lapce_ai.index.snapshot import fully_refined

    if resolve_provider(settings.embedder.provider, index_dir) != "two-stage":
        return False
    return not (unchanged and fully_refined(index_dir))


def run_index(
    root: Path,
    index_dir: Path,
    settings: Settings,
    show_progress: bool = True,
    walked: DiscoveryReport | None = None,
    opened: Opened | None = None,
) -> dict[str, Any]:
    from lapce_ai.cache import build_cache
    from lapce_ai.index.indexer import Indexer
    from lapce_ai.parsing.router import ParserRouter

    opened = opened or open_index(index_dir, settings, create=True)
    router = ParserRouter(settings.features, settings.performance, cache=build_cache(settings))
    indexer = Indexer(settings, opened.store, opened.embedder, router)
    if show_progress and sys.stderr.isatty():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        with Progress(
            TextColumn("indexing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), transient=True
        ) as bar:
            task = bar.add_task("files", total=None)
            summary = indexer.index(
                root, progress=lambda done, total: bar.update(task, completed=done, total=total), walked=walked
            )
    else:
        summary = indexer.index(root, walked=walked)
    out = summary.to_json()
    if opened.store.meta.two_stage:
        refined, total = opened.store.refine_counts()
        out["refine_pending"] = total - refined
    return out


def print_summary(s: dict[str, Any]) -> None:
    skipped = ", ".join(f"{k} {v}" for k, v in sorted(s["skipped"].items())) or "none"
    print(
        f"files: {s['files_seen']} seen, {s['files_indexed']} indexed, {s['files_unchanged']} unchanged, "
        f"{s['files_deleted']} deleted, {s['files_failed']} failed; skipped: {skipped}"
    )
    print(
        f"chunks: {s['chunks_total']} ({s['chunks_added']} added, {s['chunks_modified']} modified, "
        f"{s['chunks_unchanged']} unchanged, {s['chunks_deleted']} deleted)"
    )
    print(f"embeddings: {s['embeddings_computed']} computed, {s['embeddings_reused']} reused")
    print(f"time: {s['seconds']:.2f}s")
    pending = s.get("refine_pending", 0)
    if pending:
        print(
            f"refine: {pending} chunks still search with the fast first-stage vectors; "
            "`lapce-index refine` (or a running lapce-ai-indexer) gives them the precise ones"
        )
    for path, reason in list(s["failed"].items())[:20]:
        print(f"  failed: {path}: {reason}", file=sys.stderr)


def cmd_refine(args: argparse.Namespace, settings: Settings) -> int:
    summary = run_refine(open_index(index_path(args.index, settings), settings), show_progress=not args.no_progress)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print_refine(summary)
    return 130 if summary["interrupted"] else 0


def run_refine(opened: Opened, show_progress: bool = True) -> dict[str, Any]:
    """Refine a two-stage index to the end. SIGINT/SIGTERM stop it after committing what is
    embedded (a second signal aborts at once); the next run resumes. A single-stage index has
    nothing to refine: the summary says so."""
    import signal
    import threading

    from lapce_ai.embedding.two_stage import refiner_of
    from lapce_ai.index.refine import Refiner, RefineSummary
    from lapce_ai.index.snapshot import latest_table_version, record_refine_pending

    store, refiner = opened.store, refiner_of(opened.embedder)
    if refiner is None or not store.meta.two_stage:
        refined, total = store.refine_counts()
        return {**RefineSummary(done=refined, total=total).to_json(), "two_stage": False}
    stop = threading.Event()
    files_version = latest_table_version(Path(store.path), "files")

    def on_signal(sig: int, _frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        print(f"{signal.Signals(sig).name}: committing what is embedded, then stopping", file=sys.stderr)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        worker = Refiner(store, refiner, reuse=opened.settings.features.embedding_reuse)
        if show_progress and sys.stderr.isatty():
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            with Progress(
                TextColumn("refining"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), transient=True
            ) as bar:
                done, total = worker.counts()
                task = bar.add_task("chunks", total=total, completed=done)
                summary = worker.run(stop.is_set, progress=lambda d, t: bar.update(task, completed=d, total=t))
        else:
            summary = worker.run(stop.is_set)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    pending = summary.total - summary.done + summary.summaries_pending
    record_refine_pending(Path(store.path), pending, files_version)
    return {**summary.to_json(), "two_stage": True}


def print_refine(s: dict[str, Any]) -> None:
    if not s["two_stage"]:
        print("refine: single-stage index, nothing to refine")
        return
    share = s["done"] / s["total"] * 100 if s["total"] else 100.0
    print(
        f"refined: {s['refined']} rows ({s['computed']} embedded, {s['reused']} reused) in {s['seconds']:.1f}s"
        f" ({s['chunks_per_second']:.0f} chunks/s); index {s['done']}/{s['total']} refined ({share:.1f} %)"
    )
    if s["interrupted"]:
        print("interrupted: run `lapce-index refine` again to resume", file=sys.stderr)


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    from lapce_ai.search.engine import SearchEngine
    from lapce_ai.search.filters import FilterError, SearchFilters

    if args.k < 1 or args.k > settings.service.max_k:
        fail(f"-k must be between 1 and {settings.service.max_k}")
    opened = open_index(index_path(args.index, settings), settings)
    engine = SearchEngine(opened.store, opened.embedder, mode=args.mode)
    try:
        answer = engine.answer(args.query, args.k, SearchFilters(args.path, args.language, args.kind))
    except FilterError as exc:
        fail(str(exc))
    results = answer.results
    if args.json:
        print(json.dumps([r.to_json() for r in results], indent=2))
        return 0
    if answer.corrected_query is not None:
        print(f"showing results for: {answer.corrected_query}")
    if not results:
        print("no results")
    for i, r in enumerate(results, 1):
        label = f"{r.kind} {r.symbol}".strip()
        print(f"{i:2}. {r.path}:{r.start_line}-{r.end_line}  {label}  ({r.language}, {r.score:.4f})")
        preview = [line for line in r.content.splitlines() if line.strip()][:3]
        for line in preview:
            print(f"      {line[:110]}")
    return 0


def cmd_mcp(args: argparse.Namespace, settings: Settings) -> int:
    """An MCP server on stdin/stdout until the client closes it; the corpus follows index updates."""
    from lapce_ai.search.engine import SearchEngine, load_corpus
    from lapce_ai.service.mcp_server import stdio_server

    opened = open_index(index_path(args.index, settings), settings)
    engine = SearchEngine(opened.store, opened.embedder, mode="hybrid", background_reload=True)
    load_corpus(opened.store)  # load before the first call, not during it
    stdio_server(engine, settings.service.max_k).run("stdio")
    return 0


if __name__ == "__main__":
    main()
