"""Fusion and code-aware re-ranking.

1. Query analysis (``search.query_analysis``): a bare identifier (``HTTPException``,
   ``Rack::Response``, ``add_route``, or a lower-case word this code base defines) is a *symbol
   query*; anything else is a *natural-language query*, either a *question* ("how are routes
   registered?") or a description ("multipart form data parsing").
2. Fusion: min-max normalised BM25 and cosine scores of the two candidate pools, blended with a
   dense weight. Symbol queries lean lexical; for the others the weight follows how much of the
   query (by IDF) the best lexical hit contains: all of it -> lexical leads, none -> dense leads.
   The static model's vectors, weaker than BM25 on their own, get a third of that weight.
   RRF is kept as an option for comparison.
3. Code-aware signals, each switchable in ``RankConfig`` and measured in ``bench/quality``
   (ablation table in the bench README; what a path says is ``search.path_priors``, where a name
   is declared ``search.definitions``): definition of the queried symbol (found even outside
   the pools, by its symbol or by the declaration in its text; only the declaring piece of a
   split definition; tiered up when the file is named after it; a file that is itself a type,
   Zig's `Allocator.zig`, defines it; an alias, `const Order = std.math.Order`, does not; for a
   name defined in a dependency, where it is re-exported or aliased), query words in the file name or
   folder, test/example/vendored path penalty, documentation/config penalty, file similarity
   (the mean similarity of all a file's chunks: the file *about* the question), file summary (the
   query's cosine to an embedding of the file's path words and defined names; the files closest
   by it join the candidates even when no chunk of theirs made a pool), file coherence (a
   file with several strong chunks lifts its best one; questions and symbol queries only), a
   type's own file ranked with the files extending it (Swift's `Deque.swift` next to
   `Deque+Codable.swift`), per-file saturation decay (diversity) and overlap de-duplication.
   Query forms narrow the definitions: a module path names files (`routing.Router`), an owner
   names members (`Deque.prepend`), a sentence can place itself in a file ("... in context.go"),
   a pytest id names its file (`tests/test_app.py::test_add`). What a run printed finds its
   line: a message or a line of code the chunk holding it as written (``search.verbatim``), a
   stack frame or `file:line` the chunk at that line (``search.locations``). A sentence asking
   for a name's definition is that name's symbol query; one asking for its uses, implementations,
   callees or tests names its answers, which rank above every other chunk
   (``search.name_questions``); so does a bare name spelled as code that nothing here defines
   or re-exports (an environment variable, a dependency's class), whose answers are its uses.
   Signals that measured no gain were removed (definitions of identifiers embedded in questions; pulling files named
   after a query word into the pool; more in the bench README).
   Ties break on (root, path, start_line): stable.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, replace
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from lapce_ai.search.corpus import BoolArray, Corpus, FloatArray, IntArray, top_indices, top_similar
from lapce_ai.search.definitions import MAX_DECLARATION_SCAN, declares, defining_chunks, member_of, reexports
from lapce_ai.search.name_questions import compound_name
from lapce_ai.search.path_priors import files_in_tests, keyword_forms, name_cover, path_hits, prose_chunks, stem_forms
from lapce_ai.search.query_analysis import QueryInfo, use_answers
from lapce_ai.search.tokenize import code_tokens, symbol_name
from lapce_ai.search.type_homes import home_chunk, type_homes
from lapce_ai.search.verbatim import verbatim_matches


@dataclass(frozen=True)
class RankConfig:
    fusion: str = "blend"  # blend | rrf
    adaptive: bool = True  # dense weight follows how much of the query the best lexical hit covers
    alpha_full: float = 0.3  # dense weight when the top lexical hit has every query word
    alpha_none: float = 0.9  # ... and when it has none of them
    # Dense weight when not adaptive, and for symbol queries (their definitions come from the
    # definition signal: 0.1 / 0.3 / 0.5 here score alike on semble-dev's 29 symbol queries).
    alpha: float = 0.5
    # x the dense weight of natural-language queries where the vectors are the static model's:
    # alone it ranks below BM25 (CoSQA MRR 0.213 vs 0.323), so fusion must trust it less.
    static_dense_scale: float = 0.33
    pool: int = 100  # candidates taken from each retriever
    rrf_k: float = 60.0
    # + max score for a chunk defining the queried symbol (symbol queries); 2.0 / 3.0 / 4.0: symbols
    # 0.981 / 0.984 / 0.984, semble and the other suites alike.
    definition: float = 3.0
    # A bare name spelled as code (search.name_questions.compound_name) that nothing here defines
    # or re-exports (an environment variable `SHIV_ROOT`, a dependency's `HTTPException`) is asked
    # for its uses: they are answers, as a "who uses X" question's are (usage), above the chunks
    # the dense side, blind to such names, would bring.
    undefined_uses: bool = True
    # + max score for the chunks of the file a file-name query names: more than the signals of a
    # description can add (~3.6), as the name leaves no doubt. Definitions do not compete: a file
    # name is no symbol query, and a module path (`Rack::Response`) counts only its files' ones.
    named_file: float = 4.0
    # + max score for the chunks of a file a sentence mentions ("how does Abort work in
    # context.go"): as much as a path match of every query word, not the whole query's answer.
    mentioned_file: float = 1.0
    # + max score for the chunk holding a line the query places in a file (a stack frame,
    # `decoder.py", line 355`, `mod.rs:42:5`): as much as a file name, as the line leaves no doubt.
    location: float = 4.0
    # + max score x the share of the query's words a chunk holds as written: a pasted message
    # (`Command "deploy" is not defined.`), or a phrase (search.verbatim). 2 / 3 / 4: concatenated
    # messages 0.832 / 0.842 / 0.842, lines 0.988 / 0.989 / 0.989, docs 0.6375 / 0.6375 / 0.6371.
    verbatim: float = 3.0
    # + max score x the share of the query's words a test block's title path holds, where the
    # query names it as a runner prints a failure (`FAIL app.test.ts > Router > adds a route`;
    # search.test_titles); tests are then what is asked for, and the test penalty is not applied.
    test_title: float = 3.0
    # + the best score after every other signal x a chunk's share, for the chunks a sentence asks
    # for by a name (search.name_questions): its uses ("who calls cleanPath"), implementations
    # ("subclasses of Base"), callees ("what does serve call"), tests ("tests for cleanPath");
    # its definition, which holds the name best of all, is not among them. Above 1, every
    # answer with a full share ranks above every other chunk: they are what is asked for.
    usage: float = 4.0
    module_scope: bool = True  # a module-qualified name (routing.Router) counts definitions in that module
    member_scope: bool = True  # a member named with its owner (Deque.prepend) counts that owner's members
    path_match: float = 1.0  # + max score x share of query keywords in the file name / folder
    name_cover: float = 0.2  # + max score x share of the file name's words in the query
    test_penalty: float = 0.3  # x for tests, examples, fixtures, vendored copies (1 = off)
    prose_penalty: float = 0.5  # x for documentation and config text (markdown, yaml, ...) (1 = off)
    coherence: float = 0.5  # + max score x file's share of the candidate score, to its best chunk
    coherence_everywhere: bool = False  # False: only for questions ("how ...?") and symbol queries
    file_similarity: float = 0.8  # + max score x the file's mean chunk similarity (min-max over candidate files)
    file_summary: float = 0.3  # + max score x the query's cosine to the file's summary (min-max, likewise)
    summary_pull: int = 50  # the n files whose summary is closest join the candidates (their best chunk)
    # A type's own file (Swift's `Deque.swift`) scores at least this share of the best chunk of
    # the files extending the type (`Deque+Codable.swift`; languages.toml: extension_files).
    type_home: float = 1.0
    saturation_decay: float = 0.5  # x per extra chunk already taken from the same file (1 = off)
    saturation_free: int = 1  # chunks per file before the decay starts
    dedupe: bool = True  # drop chunks overlapping one already returned (same file)
    query_type: bool = True  # tell symbols and questions from descriptions (False: all are descriptions)
    spelling: bool = True  # a query word no chunk holds is read as the corpus word it is a typo of

    def without(self, signal: str) -> RankConfig:
        """The config with one signal switched off (for ablations)."""
        table: dict[str, dict[str, Any]] = {
            "definition": {"definition": 0.0},
            "undefined_uses": {"undefined_uses": False},
            "named_file": {"named_file": 0.0},
            "mentioned_file": {"mentioned_file": 0.0},
            "verbatim": {"verbatim": 0.0},
            "location": {"location": 0.0},
            "test_title": {"test_title": 0.0},
            "usage": {"usage": 0.0},
            "module_scope": {"module_scope": False},
            "member_scope": {"member_scope": False},
            "path_match": {"path_match": 0.0},
            "name_cover": {"name_cover": 0.0},
            "test_penalty": {"test_penalty": 1.0},
            "prose_penalty": {"prose_penalty": 1.0},
            "coherence": {"coherence": 0.0},
            "coherence_scope": {"coherence_everywhere": True},
            "file_similarity": {"file_similarity": 0.0},
            "file_summary": {"file_summary": 0.0},
            "summary_pull": {"summary_pull": 0},
            "type_home": {"type_home": 0.0},
            "saturation": {"saturation_decay": 1.0},
            "dedupe": {"dedupe": False},
            "query_type": {"query_type": False},
            "spelling": {"spelling": False},
            "rrf": {"fusion": "rrf"},
            "adaptive": {"adaptive": False},
            "static_dense_scale": {"static_dense_scale": 1.0},
        }
        return replace(self, **table[signal])


NO_SIGNALS = RankConfig(
    definition=0.0,
    undefined_uses=False,
    named_file=0.0,
    mentioned_file=0.0,
    verbatim=0.0,
    location=0.0,
    test_title=0.0,
    usage=0.0,
    path_match=0.0,
    name_cover=0.0,
    test_penalty=1.0,
    prose_penalty=1.0,
    coherence=0.0,
    file_similarity=0.0,
    file_summary=0.0,
    summary_pull=0,
    type_home=0.0,
    saturation_decay=1.0,
    dedupe=False,
    spelling=False,
)


# -- the pipeline ---------------------------------------------------------------------------


class FileSummaryScores(Protocol):
    """The query's cosine to the summary of each file of a corpus (``files``: its file list;
    NaN: none stored; None: no file has one)."""

    def all_scores(self, files: list[tuple[str, str]]) -> npt.NDArray[np.float64] | None: ...


@dataclass
class Ranked:
    index: int
    score: float


def _minmax(values: FloatArray) -> FloatArray:
    if values.size == 0:
        return values
    lo, hi = float(values.min()), float(values.max())
    if hi - lo < 1e-9:
        return np.ones_like(values)
    return ((values - lo) / (hi - lo)).astype(np.float32)


def rank(
    corpus: Corpus,
    info: QueryInfo,
    lexical: FloatArray | None,
    dense_result: tuple[FloatArray, IntArray | None] | None,
    k: int,
    allowed: BoolArray | None,
    config: RankConfig,
    tokens: tuple[str, ...] = (),
    dense_precise: float = 1.0,
    file_scores: FileSummaryScores | None = None,
) -> list[Ranked]:
    """``dense_precise``: the share of the dense scores that come from a precise model (1: the
    transformer or Titan; 0: the static model; a two-stage index being refined: in between).
    ``file_scores``: the query's similarity to files' summaries (``search.summaries``)."""
    if not config.query_type:
        info = replace(info, is_symbol=False, is_question=False)
    pool = max(config.pool, 3 * k)
    lex_idx: IntArray = (
        top_indices(lexical, pool, allowed, corpus.position) if lexical is not None else np.zeros(0, np.int64)
    )
    dense = dense_result[0] if dense_result is not None else None
    computed = dense_result[1] if dense_result is not None else None
    den_idx: IntArray = (
        top_similar(dense, pool, allowed, corpus.position, computed) if dense is not None else np.zeros(0, np.int64)
    )
    alpha = config.alpha
    if config.adaptive and not info.is_symbol and lex_idx.size and tokens:
        plain = [t for t in tokens if not t.startswith("~")]
        cover = corpus.bm25.coverage(plain, int(lex_idx[0]))
        alpha = config.alpha_none - (config.alpha_none - config.alpha_full) * cover
    if not info.is_symbol:
        alpha *= config.static_dense_scale + (1.0 - config.static_dense_scale) * dense_precise
    if lexical is None:
        alpha = 1.0
    elif dense is None:
        alpha = 0.0
    # Candidates in first-seen order (lexical pool, then the dense pool's new ones): the float
    # sums below then run in the same order as a dict would, so ties break the same way.
    cand, in_lex, in_den = _union_in_order(lex_idx, den_idx)
    score = np.zeros(cand.size, dtype=np.float64)
    if config.fusion == "rrf":
        score[in_lex] += 2 * (1 - alpha) / (config.rrf_k + np.arange(lex_idx.size) + 1)
        score[in_den] += 2 * alpha / (config.rrf_k + np.arange(den_idx.size) + 1)
    else:
        if lex_idx.size and lexical is not None:
            score[in_lex] += (1 - alpha) * _minmax(lexical[lex_idx]).astype(np.float64)
        if den_idx.size and dense is not None:
            score[in_den] += alpha * _minmax(dense[den_idx]).astype(np.float64)
    if not cand.size and not info.symbols:
        return []
    max_score = float(score.max()) if cand.size else 1.0
    max_score = max_score or 1.0

    # Definitions of the identifiers the query names, in the pools or anywhere in the corpus.
    answers = info.answers
    weight = config.definition
    if weight > 0 and info.is_symbol and info.symbols:
        # A module path that names a file (`Io.fiber`, `Rack::Response`) is defined in that file;
        # a name qualified by a module (`starlette.routing.Router`) is defined there if it can be.
        within = frozenset(info.files) or None
        scope = (frozenset(info.scope) or None) if config.module_scope else None
        owner = info.owner if config.member_scope else ""
        cand, score, defined = _add_definitions(
            corpus, info.symbols, cand, score, allowed, weight * max_score, within, scope, owner
        )
        if not defined and config.undefined_uses and not info.files:  # a module path's answer is its file
            answers = _undefined_uses(corpus, info.symbols)
    if config.named_file > 0 and info.files:
        cand, score = _add_named_files(corpus, info.files, cand, score, allowed, config.named_file * max_score)
    if config.mentioned_file > 0 and info.mentioned:
        cand, score = _add_named_files(corpus, info.mentioned, cand, score, allowed, config.mentioned_file * max_score)
    if config.location > 0 and info.located:
        cand, score = _add_shares(info.located, cand, score, allowed, config.location * max_score)
    if config.test_title > 0 and info.tests:
        cand, score = _add_shares(info.tests, cand, score, allowed, config.test_title * max_score)
    written = False  # some candidate holds the query as written
    if config.verbatim > 0 and not info.is_symbol and not info.files:
        written = _add_verbatim(corpus, info.text, cand, score, lex_idx, config.verbatim * max_score)
    if not cand.size:
        return []
    # Files whose summary is closest to the query, with no chunk in either pool: their best chunk
    # joins the candidates at no fused score, to be judged by the file signals below.
    summary_sims = None
    if file_scores is not None and (config.file_summary > 0 or config.summary_pull > 0):
        summary_sims = file_scores.all_scores(corpus.files)
    if config.summary_pull > 0 and summary_sims is not None and dense is not None:
        cand, score = _pull_by_summary(corpus, cand, score, allowed, dense, summary_sims, config.summary_pull)
    files = corpus.file_of[cand]
    file_ids, file_of_cand = np.unique(files, return_inverse=True)

    # Query words in the file name or its folder (natural-language queries).
    if config.path_match > 0 and info.keywords and not info.is_symbol:
        n_kw = len(info.keywords)
        forms = keyword_forms(info.keywords)
        hits = path_hits(corpus, forms, file_ids)[file_of_cand]
        score += np.where(hits > 0, config.path_match * max_score * hits / n_kw, 0.0)
    # ... and the other way round: how much of the file's name the query holds.
    if config.name_cover > 0 and info.keywords and not info.is_symbol:
        name_share = name_cover(corpus, keyword_forms(info.keywords), file_ids)[file_of_cand]
        score += config.name_cover * max_score * name_share

    # File coherence: a file with several strong candidates lifts its best chunk. Questions about
    # how something works are answered by the file that implements it throughout; a description
    # or a name is answered by one definition, which a big file's many near misses would bury.
    if config.coherence > 0 and (config.coherence_everywhere or info.is_question or info.is_symbol):
        file_sum = np.bincount(file_of_cand, weights=score, minlength=file_ids.size)
        by_file = np.lexsort((corpus.position[cand], -score, file_of_cand))
        first = np.ones(by_file.size, dtype=bool)
        first[1:] = file_of_cand[by_file[1:]] != file_of_cand[by_file[:-1]]
        best = by_file[first]  # each file's best candidate, in file order
        top_file = float(file_sum.max()) or 1.0
        unit = config.coherence * float(score.max())
        score[best] += unit * file_sum[file_of_cand[best]] / top_file

    # File similarity: how close the whole file is to the query (the mean of its chunks'
    # similarities), so the file that is *about* the question outranks one stray close chunk.
    if config.file_similarity > 0 and dense is not None:
        file_sim = _file_similarity(corpus, dense, allowed, file_ids)
        score += config.file_similarity * max_score * file_sim[file_of_cand]

    # File summary: the file's name and the names it defines, embedded once per file, say what
    # the file is about even where no single chunk does (a "which file ..." question).
    if config.file_summary > 0 and summary_sims is not None:
        score += config.file_summary * max_score * _minmax_known(summary_sims[file_ids])[file_of_cand]

    # Test / example / vendored paths; documentation and config text. What the query points at
    # itself is no stray test: the line a frame places, a definition of a name it spells out
    # (`--- FAIL: TestContextReset`), and any test when it names one as a runner prints it.
    if config.test_penalty != 1.0 and not (config.test_title > 0 and info.tests):
        penalized = corpus.derived("test_paths", files_in_tests)[file_ids][file_of_cand]
        if penalized.any() and (info.located or info.symbols):
            held = np.flatnonzero(penalized)  # only the candidates in test files are read
            penalized[held[_pointed_at(corpus, info, cand[held], config)]] = False
        score = np.where(penalized, score * config.test_penalty, score)
    if config.prose_penalty != 1.0:
        prose = corpus.derived("prose_chunks", prose_chunks)[cand]
        score = np.where(prose, score * config.prose_penalty, score)
    # What a sentence asks for by a name, after every other signal and penalty, by the best
    # score so far: a tier above every other chunk, a test's use half as high.
    if config.usage > 0 and answers:
        top_now = float(score.max()) if score.size else max_score
        cand, score = _add_shares(answers, cand, score, allowed, config.usage * max(top_now, max_score))

    # A type's own file, where its declaration lives, ranks next to the files that extend it
    # (natural-language queries: a name, a file name, a file the sentence is placed in, a line
    # a frame names, a message a chunk prints and a test a runner names have their own answer).
    placed = bool(info.files or info.mentioned or info.located or info.tests or answers or written)
    if config.type_home > 0 and not info.is_symbol and not placed:
        cand, score = _credit_type_homes(corpus, cand, score, allowed, config.type_home)

    if config.usage > 0 and answers:  # every one is an answer, the second in a file as the first
        config = replace(config, saturation_decay=1.0)
    # The chunks a trace places are answers too, where several share a file: the overloads of a
    # moved frame's function, two frames in one file.
    placed_chunks = frozenset(i for i, _share in info.located) if config.location > 0 else frozenset()
    return _select(corpus, cand, score, k, config, placed_chunks)


def _pointed_at(corpus: Corpus, info: QueryInfo, cand: IntArray, config: RankConfig) -> BoolArray:
    """Which candidates the query points at: a line it places (a frame), or a definition of a
    name it spells out that only tests define (a test function; a name the code defines too is
    the code's, and a test's double of it stays a stray): a chunk named so, or one declaring it
    (a test function holding subtests opens in its first subtest's chunk)."""
    located = {i for i, _share in info.located} if config.location > 0 else set()
    tests = corpus.derived("test_paths", files_in_tests)
    names = (
        tuple(
            name
            for name in info.symbols
            if all(tests[corpus.file_of[c]] for c in corpus.by_symbol.get(name.lower(), ()))
        )
        if config.definition > 0
        else ()
    )
    lower = {name.lower() for name in names}
    return np.fromiter(
        (
            i in located
            or symbol_name(corpus.symbols[i]) in lower
            or any(declares(corpus.contents[i], name) for name in names)
            for i in cand.tolist()
        ),
        dtype=bool,
        count=cand.size,
    )


def _file_similarity(
    corpus: Corpus, sims: FloatArray, allowed: BoolArray | None, file_ids: IntArray
) -> npt.NDArray[np.float64]:
    """Per candidate file: the mean similarity of its allowed chunks that have one (not -inf:
    outside the probed IVF lists), min-max normalised over the candidate files (0 for a file
    with none). Reads only the candidate files' chunks."""
    owner, _place, idx = _chunks_of_files(corpus, file_ids)
    vals = sims[idx].astype(np.float64)
    ok = np.isfinite(vals) if allowed is None else np.isfinite(vals) & allowed[idx]
    total = np.bincount(owner[ok], weights=vals[ok], minlength=file_ids.size)
    count = np.bincount(owner[ok], minlength=file_ids.size)
    has = count > 0
    if not has.any():
        return np.zeros(file_ids.size, dtype=np.float64)
    mean = np.where(has, total / np.maximum(count, 1), 0.0)
    lo, hi = float(mean[has].min()), float(mean[has].max())
    if hi - lo < 1e-9:
        return has.astype(np.float64)
    return np.where(has, (mean - lo) / (hi - lo), 0.0)


def _chunks_of_files(corpus: Corpus, file_ids: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """Every chunk of these files at once: (which of ``file_ids`` it belongs to, its place in
    that file's list, the chunk)."""
    offsets, members = corpus.file_members()
    starts = offsets[file_ids]
    counts = offsets[file_ids + 1] - starts
    owner = np.repeat(np.arange(file_ids.size), counts)
    place = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    return owner, place, members[np.repeat(starts, counts) + place]


# Summary cosines closer than this are not told apart by the full weight of the signal.
MIN_SUMMARY_SPREAD = 0.05


def _pull_by_summary(
    corpus: Corpus,
    cand: IntArray,
    score: npt.NDArray[np.float64],
    allowed: BoolArray | None,
    dense: FloatArray,
    summary_sims: npt.NDArray[np.float64],
    n: int,
) -> tuple[IntArray, npt.NDArray[np.float64]]:
    """Add the best chunk (by dense similarity) of each of the ``n`` files with the closest
    summaries that have no candidate yet and an allowed chunk."""
    sims = np.where(np.isfinite(summary_sims), summary_sims, -np.inf)
    sims[corpus.file_of[cand]] = -np.inf
    if allowed is not None:
        has_allowed = np.bincount(corpus.file_of[allowed], minlength=len(corpus.files)) > 0
        sims[~has_allowed] = -np.inf
    take = min(n, int(np.isfinite(sims).sum()))
    if take <= 0:
        return cand, score
    top = np.argpartition(-sims, take - 1)[:take]
    top = top[np.lexsort((top, -sims[top]))]  # closest first; ties by file number
    # Each file's best allowed chunk (the first on a tie).
    owner, place, chunks = _chunks_of_files(corpus, top)
    vals = np.where(np.isfinite(dense[chunks]), dense[chunks], -1e30).astype(np.float64)
    if allowed is not None:
        vals = np.where(allowed[chunks], vals, -np.inf)
    order = np.lexsort((place, -vals, owner))
    first = np.ones(order.size, dtype=bool)
    first[1:] = owner[order[1:]] != owner[order[:-1]]
    added = chunks[order[first]]
    return (
        np.concatenate([cand, added.astype(np.int64)]),
        np.concatenate([score, np.zeros(added.size, dtype=np.float64)]),
    )


def _minmax_known(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Min-max over the finite values (over at least ``MIN_SUMMARY_SPREAD``, so near-equal
    files stay near-equal); 0 for the rest (a file without a summary gains nothing)."""
    known = np.isfinite(values)
    if not known.any():
        return np.zeros_like(values)
    lo, hi = float(values[known].min()), float(values[known].max())
    spread = max(hi - lo, MIN_SUMMARY_SPREAD)
    return np.where(known, (np.where(known, values, lo) - lo) / spread, 0.0)


def _credit_type_homes(
    corpus: Corpus,
    cand: IntArray,
    score: npt.NDArray[np.float64],
    allowed: BoolArray | None,
    share: float,
) -> tuple[IntArray, npt.NDArray[np.float64]]:
    """Give each type's own file ``share`` x the best score among the candidates of the files
    extending it, when its own best is lower: on its best candidate, or, with none, on the chunk
    declaring the type (else its first allowed chunk), which joins the candidates."""
    homes = corpus.derived("type_homes", type_homes)
    home_of = homes[corpus.file_of[cand]]
    extending = np.flatnonzero(home_of >= 0)
    if not extending.size:
        return cand, score
    target: dict[int, float] = {}
    for j in extending.tolist():
        h = int(home_of[j])
        target[h] = max(target.get(h, 0.0), share * float(score[j]))
    own_best: dict[int, int] = {}  # home file -> its best candidate's place in ``cand``
    for j in np.flatnonzero(np.isin(corpus.file_of[cand], list(target))).tolist():
        h = int(corpus.file_of[cand[j]])
        if h not in own_best or score[j] > score[own_best[h]]:
            own_best[h] = j
    score = score.copy()
    added: list[int] = []
    gains: list[float] = []
    for h in sorted(target):
        best = own_best.get(h)
        if best is not None:
            score[best] = max(score[best], target[h])
            continue
        chunk = home_chunk(corpus, h, allowed)
        if chunk is not None:
            added.append(chunk)
            gains.append(target[h])
    return _with_candidates(cand, score, added, gains)


def _with_candidates(
    cand: IntArray, score: npt.NDArray[np.float64], added: list[int], gains: list[float]
) -> tuple[IntArray, npt.NDArray[np.float64]]:
    """The candidates with ``added`` joined at ``gains``."""
    if not added:
        return cand, score
    return (
        np.concatenate([cand, np.asarray(added, dtype=np.int64)]),
        np.concatenate([score, np.asarray(gains, dtype=np.float64)]),
    )


def _union_in_order(first: IntArray, second: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """``first`` then the items of ``second`` not in it; and where each input's items landed."""
    place = {i: j for j, i in enumerate(first.tolist())}
    added: list[int] = []
    where: list[int] = []
    for i in second.tolist():
        j = place.get(i)
        if j is None:
            j = place[i] = len(place)
            added.append(i)
        where.append(j)
    cand = np.concatenate([first, np.asarray(added, dtype=np.int64)]) if added else first
    return cand, np.arange(first.size), np.asarray(where, dtype=np.int64)


def _add_definitions(
    corpus: Corpus,
    symbols: tuple[str, ...],
    cand: IntArray,
    score: npt.NDArray[np.float64],
    allowed: BoolArray | None,
    boost: float,
    within: frozenset[int] | None = None,
    scope: frozenset[int] | None = None,
    owner: str = "",
) -> tuple[IntArray, npt.NDArray[np.float64], bool]:
    """Boost candidates defining a queried symbol; add definers found outside the pools (files
    named after it are tiered up); say whether there were any. ``within``: only definitions in
    these files count; ``scope``: only those in these files, if there are any (else the name is
    re-exported there); ``owner``: only the members of that type or module, if there are any
    (`Deque.prepend`)."""
    lower = frozenset(n.lower() for n in symbols)
    extra: set[int] = set()
    for name in lower:
        named = corpus.by_symbol.get(name, [])
        if len(named) <= 25:
            extra.update(named)
        # A declaration inside a chunk named otherwise (a line window, a class header joined to
        # its first method) is found only by its text: check every chunk holding the name.
        if 0 < corpus.bm25.doc_freq(name) <= MAX_DECLARATION_SCAN:
            extra.update(np.flatnonzero(corpus.bm25.scores([name])).tolist())
        for stem in (name, name.replace("_", "")):
            in_file = corpus.by_stem.get(stem, [])
            if len(in_file) <= 200:
                extra.update(in_file)
    if allowed is not None:
        extra = {i for i in extra if allowed[i]}
    considered = sorted(set(cand.tolist()) | extra)
    definers = defining_chunks(corpus, considered, lower, symbols)
    if not definers:  # defined outside this code base: where it is re-exported is the answer
        definers = {i: True for i in considered if any(reexports(corpus.contents[i], n) for n in symbols)}
    # Where the name is defined as spelled (the class `Values`), the same word in another case
    # (`values()` methods) is not the one meant; where it is not, any case is.
    if any(definers.values()):
        definers = {i: True for i, as_queried in definers.items() if as_queried}
    if within is not None:
        definers = {i: ok for i, ok in definers.items() if int(corpus.file_of[i]) in within}
    if owner:  # the owner's members before a module's definitions: `BitSet.insert` is no `BitSet.Counted`'s
        owned = {i: ok for i, ok in definers.items() if member_of(corpus, i, owner, symbols)}
        definers = owned or definers
    if scope is not None and within is None:
        scoped = {i: ok for i, ok in definers.items() if int(corpus.file_of[i]) in scope}
        definers = scoped or definers
    tiers: dict[int, float] = {}
    for i in definers:
        stem = corpus.paths[i].rsplit("/", 1)[-1].split(".", 1)[0].lower()
        tiers[i] = boost * (1.5 if stem in lower or stem.replace("_", "") in lower else 1.0)
    return (*_credit(cand, score, tiers), bool(tiers))


def _undefined_uses(corpus: Corpus, symbols: tuple[str, ...]) -> tuple[tuple[int, float], ...]:
    """The uses of the queried names spelled as code, with their shares (as a uses question's); not
    of a file's name (`canonicalized_map`, `JSON_POINTER` of `JsonPointer.java`), which is
    answered by that file."""
    shares: dict[int, float] = {}
    for name in symbols:
        if compound_name(name) and not any(corpus.by_stem.get(form) for form in stem_forms(name)):
            for i, share in use_answers(name, corpus):
                shares[i] = max(shares.get(i, 0.0), share)
    return tuple(shares.items())


def _add_named_files(
    corpus: Corpus,
    files: tuple[int, ...],
    cand: IntArray,
    score: npt.NDArray[np.float64],
    allowed: BoolArray | None,
    boost: float,
) -> tuple[IntArray, npt.NDArray[np.float64]]:
    """Boost the candidates of the files a file-name query names; a named file with none joins
    with its first chunk (the head of the file, what opening it shows)."""
    _owner, _place, chunks = _chunks_of_files(corpus, np.asarray(files, dtype=np.int64))
    if allowed is not None:
        chunks = chunks[allowed[chunks]]
    in_file = np.isin(cand, chunks)
    score = score + np.where(in_file, boost, 0.0)
    covered = set(corpus.file_of[cand[in_file]].tolist())
    heads = []
    for f in files:
        if f not in covered:
            own = chunks[corpus.file_of[chunks] == f]
            if own.size:
                heads.append(int(own[np.argmin(corpus.position[own])]))
    return _with_candidates(cand, score, heads, [boost] * len(heads))


# A filled message is looked for in the best lexical candidates only (its fixed words put it
# among them): reading a chunk's literals costs ~25 us. The phrase is looked for in every
# candidate: a long chunk holding it may rank low by BM25 (at 50 checks, messages 0.990 -> 0.987).
MESSAGE_CHECKS = 30


def _add_verbatim(
    corpus: Corpus,
    query: str,
    cand: IntArray,
    score: npt.NDArray[np.float64],
    lexical_best: IntArray,
    boost: float,
) -> bool:
    """Boost (in place) the candidates holding the query as written (``search.verbatim``) by the
    share of its words they hold; whether any does. ``lexical_best``: the lexical pool, best
    first (all in ``cand``)."""
    matches = verbatim_matches(query, corpus, cand.tolist(), lexical_best[:MESSAGE_CHECKS].tolist())
    _credit(cand, score, {i: boost * share for i, share in matches.items()})  # all candidates: in place
    return bool(matches)


def _add_shares(
    chunks: tuple[tuple[int, float], ...],
    cand: IntArray,
    score: npt.NDArray[np.float64],
    allowed: BoolArray | None,
    boost: float,
) -> tuple[IntArray, npt.NDArray[np.float64]]:
    """Boost each chunk by its share of ``boost`` (the lines a query places in files, the tests it
    names); those outside the pools join."""
    return _credit(cand, score, {i: boost * share for i, share in chunks if allowed is None or allowed[i]})


def _credit(
    cand: IntArray, score: npt.NDArray[np.float64], gains: dict[int, float]
) -> tuple[IntArray, npt.NDArray[np.float64]]:
    """Each chunk of ``gains`` credited with its gain: added to its score (in place) when it is a
    candidate, else joining the candidates at that gain."""
    place = {i: j for j, i in enumerate(cand.tolist())}
    added = [i for i in gains if i not in place]
    for i, gain in gains.items():
        if i in place:
            score[place[i]] += gain
    return _with_candidates(cand, score, added, [gains[i] for i in added])


def _select(
    corpus: Corpus,
    cand: IntArray,
    score: npt.NDArray[np.float64],
    k: int,
    config: RankConfig,
    undecayed: frozenset[int] = frozenset(),
) -> list[Ranked]:
    """Greedy top-k with per-file saturation decay and overlap de-duplication. ``undecayed``:
    chunks the query points at, kept at their score however many of their file come before."""
    order = np.lexsort((corpus.position[cand], -score))
    ranked = cand[order]
    bases = score[order].tolist()
    files = corpus.file_of[ranked].tolist()
    starts = corpus.start_lines[ranked].tolist()
    ends = corpus.end_lines[ranked].tolist()
    positions = corpus.position[ranked].tolist()
    taken: dict[int, list[int]] = {}  # file -> places (in ``ranked``) already chosen
    chosen: list[tuple[int, float]] = []  # (place, effective score)
    best_k: list[float] = []  # min-heap of the k highest effective scores so far
    for j, base in enumerate(bases):
        if len(best_k) >= k and base <= best_k[0]:
            break  # decay only lowers scores: nothing further can enter the top k
        same = taken.setdefault(files[j], [])
        if config.dedupe and same and any(_repeats(starts[j], ends[j], starts[m], ends[m]) for m in same):
            continue
        eff = base
        extra = len(same) - config.saturation_free + 1
        if extra > 0 and config.saturation_decay != 1.0 and int(ranked[j]) not in undecayed:
            eff *= config.saturation_decay**extra
        same.append(j)
        chosen.append((j, eff))
        if len(best_k) < k:
            heapq.heappush(best_k, eff)
        elif eff > best_k[0]:
            heapq.heapreplace(best_k, eff)
    chosen.sort(key=lambda c: (-c[1], positions[c[0]]))
    return [Ranked(int(ranked[j]), eff) for j, eff in chosen[:k]]


def _repeats(start: int, end: int, shown_start: int, shown_end: int) -> bool:
    """Whether a chunk shows lines a chunk of its file already shown does: one holds the other,
    or they share more than the one line where a function cut in two parts from its neighbour
    (the line one part ends on and the next begins on)."""
    shared = min(end, shown_end) - max(start, shown_start) + 1
    if shared <= 0:
        return False
    nested = (shown_start <= start and end <= shown_end) or (start <= shown_start and shown_end <= end)
    return shared > 1 or nested


def code_query_tokens(query: str) -> list[str]:
    return code_tokens(query)
