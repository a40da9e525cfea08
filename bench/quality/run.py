"""Search quality: CoSQA dev (MRR, R@1, R@10), semble-dev (NDCG@10), the docs evaluation and
its symbol queries (NDCG@10), side by side per mode.

    .venv/bin/python bench/quality/run.py
        [--suite cosqa,semble,docs,symbols,qualified,mentioned,members,nodes,paths,messages,concatenated,truncated,
                 lines,frames,stale,defined,uses,undefined,implementations,implemented,overrides,callees,misspelled,spaced,prefixes,humps,endings,
                 titles,testframes,tested]
        [--embedder transformer] [--modes lexical,dense,hybrid] [--ablate [--signals definition,usage]]
        [--repos gin,axum] [--out results.json]

Indexes are built once per (corpus, embedder) with the real indexing pipeline and cached under
``$LAPCE_BENCH_DIR``; queries run in-process through ``SearchEngine.search`` (the code the CLI
and the service call), so one run can compare modes and ranking ablations in minutes.
``cli_semble.sh`` runs the same semble suite through the ``lapce-index`` CLI with semble's own
harness (``semble_bench.py --index-cmd/--search-cmd``), for the record.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import docs_eval
import docs_fetched
import docs_registry
import frames_eval
import lines_eval
import messages_eval
import paths_eval
import questions_eval
import symbols_eval
import titles_eval
import typos_eval
from common import (
    CORPORA,
    COSQA_DATA,
    SEMBLE_DATA,
    WORK,
    build_index,
    ensure_summaries,
    make_embedder,
    mean,
    open_engine,
    semble_module,
)

from lapce_ai.search.ranking import NO_SIGNALS, RankConfig

# Suites whose queries are drawn from the docs corpora's indexes: bare names, qualified names,
# file names.
DERIVED_SUITES: dict[str, Callable[[Path], list[Any]]] = {
    "symbols": symbols_eval.queries,
    "qualified": symbols_eval.qualified_queries,
    "mentioned": symbols_eval.mentioned_queries,
    "members": symbols_eval.member_queries,
    "nodes": symbols_eval.node_queries,
    "paths": paths_eval.queries,
    "messages": messages_eval.queries,
    "concatenated": messages_eval.concatenated_queries,
    "truncated": messages_eval.truncated_queries,
    "lines": lines_eval.queries,
    "frames": frames_eval.queries,
    "stale": frames_eval.stale_queries,
    "defined": questions_eval.defined_queries,
    "uses": questions_eval.uses_queries,
    "undefined": questions_eval.undefined_queries,
    "implementations": questions_eval.implementations_queries,
    "implemented": questions_eval.implemented_queries,
    "overrides": questions_eval.overrides_queries,
    "callees": questions_eval.callees_queries,
    "misspelled": typos_eval.misspelled_queries,
    "spaced": typos_eval.spaced_queries,
    "prefixes": typos_eval.prefix_queries,
    "humps": typos_eval.hump_queries,
    "endings": typos_eval.ending_queries,
}
# Suites with corpora of their own (code bases with their tests).
OWN_SUITES = ("titles", "testframes", "tested")
SUITES = (*DERIVED_SUITES, *OWN_SUITES)

ABLATIONS = [
    "definition",
    "undefined_uses",
    "named_file",
    "mentioned_file",
    "verbatim",
    "location",
    "test_title",
    "usage",
    "module_scope",
    "member_scope",
    "path_match",
    "name_cover",
    "test_penalty",
    "prose_penalty",
    "coherence",
    "coherence_scope",
    "file_similarity",
    "file_summary",
    "summary_pull",
    "type_home",
    "saturation",
    "dedupe",
    "query_type",
    "spelling",
    "rrf",
    "adaptive",
]

SearchFn = Callable[[str, int], list[Any]]


# -- CoSQA ---------------------------------------------------------------------------------


def cosqa_source() -> Path:
    """The CoSQA corpus as a code base: each function in ``<code_id>.py``."""
    src = WORK / "cosqa" / "src"
    if not (src / "_complete").exists():
        src.mkdir(parents=True, exist_ok=True)
        with open(COSQA_DATA / "corpus.jsonl", encoding="utf-8") as fh:
            for line in fh:
                item = json.loads(line)
                (src / f"{item['code_id']}.py").write_text(item["code"] + "\n", encoding="utf-8")
        (src / "_complete").write_text("")
    return src


def cosqa_prepare(provider: str, embedder: Any) -> Path:
    src = cosqa_source()
    index = WORK / "cosqa" / f"index-{provider}"
    if not (index / "_complete").exists():
        summary = build_index(src, index, provider, embedder, fresh=True)
        print(f"  cosqa indexed: {summary['chunks_total']} chunks in {summary['wall']:.0f}s", file=sys.stderr)
        (index / "_complete").write_text(json.dumps(summary))
    ensure_summaries(index, embedder)
    return index


def cosqa_queries() -> list[tuple[str, str, str]]:
    qrels: dict[str, str] = {}
    with open(COSQA_DATA / "qrels_dev.tsv", encoding="utf-8") as fh:
        next(fh)
        for line in fh:
            qid, cid, _rel = line.rstrip("\n").split("\t")
            qrels[qid] = cid
    out = []
    with open(COSQA_DATA / "queries_dev.jsonl", encoding="utf-8") as fh:
        for line in fh:
            item = json.loads(line)
            out.append((item["query_id"], item["query"], qrels[item["query_id"]]))
    return out


def cosqa_eval(search: SearchFn, queries: list[tuple[str, str, str]]) -> dict[str, float]:
    rr, r1, r10 = [], [], []
    for _qid, query, cid in queries:
        hits = search(query, 10)
        rank = next((i for i, h in enumerate(hits, 1) if h.path == f"{cid}.py"), None)
        rr.append(1.0 / rank if rank else 0.0)
        r1.append(1.0 if rank == 1 else 0.0)
        r10.append(1.0 if rank else 0.0)
    return {"mrr": mean(rr), "r1": mean(r1), "r10": mean(r10)}


# -- semble-dev ----------------------------------------------------------------------------


def semble_prepare(
    provider: str, embedder: Any, repos: list[str], index_root: Path | None = None
) -> dict[str, tuple[Path, list[Any]]]:
    sb = semble_module()
    specs = sb.load_repo_specs(str(SEMBLE_DATA))
    out: dict[str, tuple[Path, list[Any]]] = {}
    for repo in repos:
        src = Path(sb.benchmark_dir(str(CORPORA), specs[repo]))
        if not src.is_dir():
            print(f"  semble {repo}: no corpus at {src}, skipped", file=sys.stderr)
            continue
        index = WORK / "semble" / f"{repo}-{provider}"
        if index_root is not None and (index_root / repo / "meta.json").exists():
            index = index_root / repo  # e.g. the indexes cli_semble.sh built through the CLI
        elif not (index / "_complete").exists():
            summary = build_index(src, index, provider, embedder, fresh=True)
            print(f"  semble {repo}: {summary['chunks_total']} chunks in {summary['wall']:.0f}s", file=sys.stderr)
            (index / "_complete").write_text(json.dumps(summary))
        ensure_summaries(index, embedder)
        out[repo] = (index, sb.load_tasks(str(SEMBLE_DATA), repo))
    return out


def semble_eval(search_for: Callable[[str], SearchFn], repos: dict[str, tuple[Path, list[Any]]]) -> dict[str, Any]:
    sb = sys.modules["semble_bench"]
    per_repo: dict[str, float] = {}
    per_cat: dict[str, list[float]] = {}
    for repo, (_index, tasks) in repos.items():
        search = search_for(repo)
        vals = []
        for task in tasks:
            hits = search(task.query, 10)
            s = sb.score([(h.path, h.start_line, h.end_line) for h in hits], task)
            vals.append(s["ndcg10"])
            per_cat.setdefault(task.category, []).append(s["ndcg10"])
        per_repo[repo] = mean(vals)
    return {
        "repos": per_repo,
        "mean": mean(list(per_repo.values())),
        "categories": {c: mean(v) for c, v in per_cat.items()},
    }


# -- docs: "which file is about X?" from real code on this machine ----------------------------


def docs_prepare(provider: str, embedder: Any) -> dict[str, tuple[Path, list[docs_eval.DocQuery]]]:
    out: dict[str, tuple[Path, list[docs_eval.DocQuery]]] = {}
    for lang, (files, doc_of) in {**docs_eval.LANGUAGES, **docs_registry.LANGUAGES, **docs_fetched.LANGUAGES}.items():
        base = WORK / "docs" / lang
        src, queries_file = base / "src", base / "queries.json"
        if not queries_file.exists():
            queries = docs_eval.build(src, files(), doc_of)
            if not queries:
                print(f"  docs {lang}: no source on this machine, skipped", file=sys.stderr)
                continue
            queries_file.write_text(json.dumps([q.__dict__ for q in queries]))
        queries = [docs_eval.DocQuery(**q) for q in json.loads(queries_file.read_text())]
        index = base / f"index-{provider}"
        if not (index / "_complete").exists():
            summary = build_index(src, index, provider, embedder, fresh=True)
            print(f"  docs {lang}: {summary['chunks_total']} chunks in {summary['wall']:.0f}s", file=sys.stderr)
            (index / "_complete").write_text(json.dumps(summary))
        ensure_summaries(index, embedder)
        out[lang] = (index, queries)
    return out


def titles_prepare(provider: str, embedder: Any) -> dict[str, tuple[Path, list[docs_eval.DocQuery]]]:
    out: dict[str, tuple[Path, list[docs_eval.DocQuery]]] = {}
    for name, src in titles_eval.corpora().items():
        index = WORK / "titles" / name / f"index-{provider}"
        if not (index / "_complete").exists():
            summary = build_index(src, index, provider, embedder, fresh=True)
            print(f"  titles {name}: {summary['chunks_total']} chunks in {summary['wall']:.0f}s", file=sys.stderr)
            (index / "_complete").write_text(json.dumps(summary))
        ensure_summaries(index, embedder)
        out[name] = (index, titles_eval.queries(index))
    if not out:
        print("  titles: no corpus on this machine (titles_eval.py --export), skipped", file=sys.stderr)
    return out


def searcher_for(engines: dict[str, Any]) -> Callable[[str], SearchFn]:
    return lambda lang: lambda q, k: engines[lang].search(q, k)


def docs_run(search_for: Callable[[str], SearchFn], prepared: dict[str, tuple[Path, list[Any]]]) -> dict[str, Any]:
    per_lang: dict[str, float] = {}
    rr: list[float] = []
    for lang, (_index, queries) in prepared.items():
        vals = []
        search = search_for(lang)
        for q in queries:
            hits = search(q.query, 10)
            rank = next((i for i, h in enumerate(hits, 1) if q.answered_by(h.path, h.start_line, h.end_line)), None)
            if isinstance(q, questions_eval.UsesQuery):  # several answers: semble's rule
                vals.append(q.ndcg([(h.path, h.start_line, h.end_line) for h in hits]))
            else:
                vals.append(docs_eval.ndcg_single(rank))
            rr.append(1.0 / rank if rank else 0.0)
        per_lang[lang] = mean(vals)
    return {"langs": per_lang, "mean": mean(list(per_lang.values())), "mrr": mean(rr)}


# -- driver --------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--suite", default="cosqa,semble,docs," + ",".join(SUITES))
    ap.add_argument("--embedder", default="transformer", help="static | transformer | null (lexical only)")
    ap.add_argument("--modes", default="lexical,dense,hybrid")
    ap.add_argument("--repos", default="gin,axum,trpc,rack,commons-lang,nlohmann-json,phoenix,exposed")
    ap.add_argument("--ablate", action="store_true", help="also run each ranking signal switched off")
    ap.add_argument("--ablate-mode", default="hybrid")
    ap.add_argument("--signals", help="with --ablate: only these signals, comma-separated (default: every one)")
    ap.add_argument("--out")
    ap.add_argument("--index-root", help="reuse semble indexes at <root>/<repo> (e.g. built by cli_semble.sh)")
    ap.add_argument(
        "--queries-from",
        help="another $LAPCE_BENCH_DIR whose indexes the derived suites draw their queries from (they sample the "
        "index's rows, so a chunker change redraws them; this keeps the same queries for a before/after)",
    )
    args = ap.parse_args()

    provider = args.embedder
    embedder = make_embedder(provider)
    suites = args.suite.split(",")
    modes = [m for m in args.modes.split(",") if m]
    if provider == "null":
        modes = [m for m in modes if m == "lexical"]
    cos_index = cosqa_prepare(provider, embedder) if "cosqa" in suites else None
    cos_q = cosqa_queries() if cos_index else []
    repos = (
        semble_prepare(provider, embedder, args.repos.split(","), Path(args.index_root) if args.index_root else None)
        if "semble" in suites
        else {}
    )
    docs = docs_prepare(provider, embedder) if {"docs", *DERIVED_SUITES} & set(suites) else {}

    def drawn(ix: Path) -> Path:  # the index the derived suites' queries are drawn from
        return Path(args.queries_from) / ix.relative_to(WORK) if args.queries_from else ix

    derived = {  # a language may have no queries for a suite
        suite: {lang: (ix, qs) for lang, (ix, _q) in docs.items() if (qs := make(drawn(ix)))}
        for suite, make in DERIVED_SUITES.items()
        if suite in suites
    }
    if {"titles", "testframes", "tested"} & set(suites):
        prepared = titles_prepare(provider, embedder)
        if args.queries_from:
            prepared = {name: (ix, titles_eval.queries(drawn(ix))) for name, (ix, _qs) in prepared.items()}
        if "titles" in suites:
            derived["titles"] = prepared
        if "testframes" in suites:
            frames = titles_eval.frame_queries
            derived["testframes"] = {name: (ix, frames(drawn(ix), qs)) for name, (ix, qs) in prepared.items()}
        if "tested" in suites:
            derived["tested"] = {
                name: (ix, questions_eval.tests_queries(drawn(ix))) for name, (ix, _qs) in prepared.items()
            }
    if "docs" not in suites:
        docs = {}

    def run(mode: str, config: RankConfig) -> dict[str, Any]:
        res: dict[str, Any] = {}
        started = time.perf_counter()
        if cos_index is not None:
            eng = open_engine(cos_index, embedder, mode, config)
            res["cosqa"] = cosqa_eval(lambda q, k: eng.search(q, k), cos_q)
        if repos:
            engines = {r: open_engine(ix, embedder, mode, config) for r, (ix, _t) in repos.items()}
            res["semble"] = semble_eval(lambda r: lambda q, k: engines[r].search(q, k), repos)
        if docs:
            doc_engines = {lang: open_engine(ix, embedder, mode, config) for lang, (ix, _q) in docs.items()}
            res["docs"] = docs_run(searcher_for(doc_engines), docs)
        for suite, prepared in derived.items():
            on = {lang: open_engine(ix, embedder, mode, config) for lang, (ix, _q) in prepared.items()}
            res[suite] = docs_run(searcher_for(on), prepared)
        res["seconds"] = time.perf_counter() - started
        return res

    results: dict[str, Any] = {"embedder": provider, "modes": {}, "ablation": {}}
    for mode in modes:
        results["modes"][mode] = run(mode, RankConfig())
        print_row(mode, results["modes"][mode])
    print_table(results["modes"], list(repos))
    if args.ablate:
        mode = args.ablate_mode if args.ablate_mode in modes else modes[-1]
        full = results["modes"].get(mode) or run(mode, RankConfig())
        results["ablation"]["full"] = full
        signals = args.signals.split(",") if args.signals else ABLATIONS
        variants: dict[str, RankConfig] = {f"-{s}": RankConfig().without(s) for s in signals}
        if not args.signals:
            variants["no signals (fusion only)"] = NO_SIGNALS
        for name, cfg in variants.items():
            results["ablation"][name] = run(mode, cfg)
            print_row(name, results["ablation"][name])
        print_ablation(mode, results["ablation"], list(repos))
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2))


def print_row(name: str, r: dict[str, Any]) -> None:
    parts = [f"{name:28}"]
    if "cosqa" in r:
        parts.append(f"cosqa MRR {r['cosqa']['mrr']:.3f}")
    if "semble" in r:
        parts.append(f"semble {r['semble']['mean']:.3f}")
    if "docs" in r:
        parts.append(f"docs {r['docs']['mean']:.3f}")
    for suite in SUITES:
        if suite in r:
            parts.append(f"{suite} {r[suite]['mean']:.3f}")
    parts.append(f"({r['seconds']:.0f}s)")
    print("  ".join(parts), file=sys.stderr, flush=True)


def print_table(modes: dict[str, Any], repos: list[str]) -> None:
    names = list(modes)
    print("\n| metric | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    if names and "cosqa" in modes[names[0]]:
        for key, label in (("mrr", "CoSQA MRR"), ("r1", "CoSQA R@1"), ("r10", "CoSQA R@10")):
            print(f"| {label} | " + " | ".join(f"{modes[m]['cosqa'][key]:.3f}" for m in names) + " |")
    if names and "semble" in modes[names[0]]:
        for repo in repos:
            print(f"| semble {repo} | " + " | ".join(f"{modes[m]['semble']['repos'][repo]:.3f}" for m in names) + " |")
        print("| **semble mean** | " + " | ".join(f"**{modes[m]['semble']['mean']:.3f}**" for m in names) + " |")
        for cat in ("architecture", "semantic", "symbol"):
            print(
                f"| semble {cat} | "
                + " | ".join(f"{modes[m]['semble']['categories'].get(cat, 0):.3f}" for m in names)
                + " |"
            )
    if names and "docs" in modes[names[0]]:
        for lang in modes[names[0]]["docs"]["langs"]:
            print(f"| docs {lang} | " + " | ".join(f"{modes[m]['docs']['langs'][lang]:.3f}" for m in names) + " |")
        print("| **docs mean** | " + " | ".join(f"**{modes[m]['docs']['mean']:.3f}**" for m in names) + " |")
    for suite in SUITES:
        if names and suite in modes[names[0]]:
            for lang in modes[names[0]][suite]["langs"]:
                cells = [f"{modes[m][suite]['langs'][lang]:.3f}" for m in names]
                print(f"| {suite} {lang} | " + " | ".join(cells) + " |")
            print(f"| **{suite} mean** | " + " | ".join(f"**{modes[m][suite]['mean']:.3f}**" for m in names) + " |")


def print_ablation(mode: str, ab: dict[str, Any], repos: list[str]) -> None:
    full = ab["full"]
    print(f"\nAblation ({mode}): each row switches one signal off; Δ = variant - full (negative: signal helps)")
    has_docs = "docs" in full
    extra = [suite for suite in SUITES if suite in full]

    def cell(value: float, base: float, name: str, with_value: bool = True) -> str:
        if name == "full":
            return f"{value:.3f}"
        return f"{value:.3f} ({value - base:+.3f})" if with_value else f"{value - base:+.3f}"

    cols = ["CoSQA MRR", "semble mean", *repos, *(["docs mean"] if has_docs else [])]
    cols += [f"{suite} mean" for suite in extra]
    print("| variant | " + " | ".join(cols) + " |")
    print("|---|" + "---:|" * len(cols))
    for name, r in ab.items():
        cells = [cell(r["cosqa"]["mrr"], full["cosqa"]["mrr"], name) if "cosqa" in r else "-"]
        if "semble" in r:
            cells.append(cell(r["semble"]["mean"], full["semble"]["mean"], name))
            for repo in repos:
                cells.append(cell(r["semble"]["repos"][repo], full["semble"]["repos"][repo], name, False))
        else:
            cells.append("-")
        if has_docs:
            cells.append(cell(r["docs"]["mean"], full["docs"]["mean"], name))
        for suite in extra:
            cells.append(cell(r[suite]["mean"], full[suite]["mean"], name))
        print(f"| {name} | " + " | ".join(cells) + " |")
    if has_docs:
        langs = list(full["docs"]["langs"])
        print(f"\nAblation ({mode}), docs by language:")
        print("| variant | " + " | ".join(langs) + " |")
        print("|---|" + "---:|" * len(langs))
        for name, r in ab.items():
            got, base = r["docs"]["langs"], full["docs"]["langs"]
            print(f"| {name} | " + " | ".join(cell(got[lg], base[lg], name, False) for lg in langs) + " |")


if __name__ == "__main__":
    main()
