"""Fusion and code-aware re-ranking.

1. Query analysis: a bare identifier (``HTTPException``, ``Rack::Response``, ``add_route``, or a
   lower-case word this code base defines) is a *symbol query*; anything else is a
   *natural-language query*.
2. Fusion: min-max normalised BM25 and cosine scores of the two candidate pools, blended with a
   dense weight. Symbol queries lean lexical; for questions the weight follows how much of the
   query (by IDF) the best lexical hit contains: all of it -> lexical leads, none -> dense leads.
   RRF is kept as an option for comparison.
3. Code-aware signals, each switchable in ``RankConfig`` and measured in ``bench/quality``
   (ablation table in the bench README): definition of the queried symbol (found even outside
   the pools, tiered up when the file is named after it), query words in the file name or
   folder, test/example/vendored path penalty, documentation/config penalty, file coherence (a
   file with several strong chunks lifts its best one), per-file saturation decay (diversity)
   and overlap de-duplication. Signals that measured no gain were removed (definitions of
   identifiers embedded in questions; pulling files named after a query word into the pool).
   Ties break on (root, path, start_line): stable.
"""

from __future__ import annotations

import functools
import heapq
import re
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from lapce_ai.search.corpus import BoolArray, Corpus, FloatArray, IntArray, top_indices, top_similar
from lapce_ai.search.tokenize import QUERY_STOPWORDS, code_tokens, identifier_parts, stem_key


@dataclass(frozen=True)
class RankConfig:
    fusion: str = "blend"  # blend | rrf
    adaptive: bool = True  # dense weight follows how much of the query the best lexical hit covers
    alpha_full: float = 0.3  # dense weight when the top lexical hit has every query word
    alpha_none: float = 0.9  # ... and when it has none of them
    alpha_nl: float = 0.5  # weight of the dense score for natural-language queries
    alpha_symbol: float = 0.3  # ... and for symbol queries
    pool: int = 100  # candidates taken from each retriever
    rrf_k: float = 60.0
    definition: float = 2.0  # + max score for a chunk defining the queried symbol (symbol queries)
    path_match: float = 1.0  # + max score x share of query keywords in the file name / folder
    test_penalty: float = 0.3  # x for tests, examples, fixtures, vendored copies (1 = off)
    prose_penalty: float = 0.5  # x for documentation and config text (markdown, yaml, ...) (1 = off)
    coherence: float = 0.5  # + max score x file's share of the candidate score, to its best chunk
    saturation_decay: float = 0.5  # x per extra chunk already taken from the same file (1 = off)
    saturation_free: int = 1  # chunks per file before the decay starts
    dedupe: bool = True  # drop chunks overlapping one already returned (same file)

    def without(self, signal: str) -> RankConfig:
        """The config with one signal switched off (for ablations)."""
        table: dict[str, dict[str, Any]] = {
            "definition": {"definition": 0.0},
            "path_match": {"path_match": 0.0},
            "test_penalty": {"test_penalty": 1.0},
            "prose_penalty": {"prose_penalty": 1.0},
            "coherence": {"coherence": 0.0},
            "saturation": {"saturation_decay": 1.0},
            "dedupe": {"dedupe": False},
            "query_type": {"alpha_symbol": self.alpha_nl},
            "rrf": {"fusion": "rrf"},
            "adaptive": {"adaptive": False},
        }
        return replace(self, **table[signal])


NO_SIGNALS = RankConfig(
    definition=0.0,
    path_match=0.0,
    test_penalty=1.0,
    prose_penalty=1.0,
    coherence=0.0,
    saturation_decay=1.0,
    dedupe=False,
)

# -- query analysis -------------------------------------------------------------------------

_QUALIFIED = r"[A-Za-z_$][A-Za-z0-9_$]*(?:(?:::|\\|->|\.|#)[A-Za-z_$][A-Za-z0-9_$]*)+"
_SYMBOL_QUERY = re.compile(
    r"^(?:" + _QUALIFIED + r"|_[A-Za-z0-9_]*|[A-Za-z][A-Za-z0-9]*[A-Z_][A-Za-z0-9_]*|[A-Z][A-Za-z0-9]*)(?:\(\))?$"
)
_EMBEDDED = re.compile(
    r"`([^`]{1,80})`"
    r"|\b(" + _QUALIFIED + r")"
    r"|\b([A-Z][a-z0-9]+[A-Z][A-Za-z0-9]*|[a-z][a-z0-9]*[A-Z][A-Za-z0-9]*|[A-Za-z][A-Za-z0-9]*_[A-Za-z0-9_]+)\b"
)
_SEPARATORS = ("::", "\\", "->", ".", "#")


@dataclass(frozen=True)
class QueryInfo:
    text: str
    is_symbol: bool
    symbols: tuple[str, ...]  # identifiers the user named (last segment, original case)
    keywords: tuple[str, ...]  # lower-case content words for file-name matching


def last_segment(name: str) -> str:
    for sep in _SEPARATORS:
        if sep in name:
            name = name.rsplit(sep, 1)[-1]
    return name.strip("()")


def analyze(query: str, corpus: Corpus | None = None) -> QueryInfo:
    q = query.strip()
    is_symbol = bool(_SYMBOL_QUERY.match(q))
    if not is_symbol and corpus is not None and re.fullmatch(r"[a-z][a-z0-9]*", q) and q in corpus.by_symbol:
        is_symbol = True  # a lower-case word that names a definition in this code base
    symbols: list[str] = []
    if is_symbol:
        symbols.append(last_segment(q))
    else:
        for m in _EMBEDDED.finditer(q):
            raw = next(g for g in m.groups() if g)
            name = last_segment(raw.strip())
            if re.fullmatch(r"[A-Za-z_$][A-Za-z0-9_$]*", name) and name.lower() not in QUERY_STOPWORDS:
                symbols.append(name)
    words = re.findall(r"[A-Za-z][A-Za-z0-9]*", q)
    keywords = tuple(
        dict.fromkeys(p for w in words for p in identifier_parts(w) if len(p) > 2 and p not in QUERY_STOPWORDS)
    )
    return QueryInfo(q, is_symbol, tuple(dict.fromkeys(symbols)), keywords)


# -- path priors ----------------------------------------------------------------------------

_TEST_PATH = re.compile(
    r"(?:^|/)(?:tests?|__tests__|spec|specs|testing|testdata|fixtures?|examples?|_examples?|samples?|"
    r"benchmarks?|benches|docs?_src|vendor|third_party|node_modules|single_include)(?:/|$)"
    r"|(?:^|/)(?:test_[^/]*|[^/]*_test|[^/]*_spec|[^/]*[a-z0-9]Tests?|[^/]*Spec|[^/]*\.(?:test|spec))\.[A-Za-z0-9]+$"
    r"|\.d\.ts$"
)


PROSE_LANGUAGES = frozenset(
    {"markdown", "text", "rst", "asciidoc", "yaml", "json", "toml", "xml", "csv", "ini", "properties", ""}
)


@functools.lru_cache(maxsize=65536)
def path_penalized(path: str) -> bool:
    return _TEST_PATH.search(path) is not None


@functools.lru_cache(maxsize=65536)
def _path_words(path: str) -> frozenset[str]:
    segments = [s for s in path.split("/") if s]
    if not segments:
        return frozenset()
    stem = segments[-1].split(".", 1)[0]
    words: set[str] = set()
    for seg in [stem, *segments[-2:-1]]:
        for part in [seg.lower(), *identifier_parts(seg)]:
            if len(part) > 2:
                words.add(part)
                words.add("~" + stem_key(part))
    return frozenset(words)


def _keyword_hits(keywords: tuple[str, ...], path: str) -> int:
    words = _path_words(path)
    hits = 0
    for kw in keywords:
        if kw in words or "~" + stem_key(kw) in words:
            hits += 1
    return hits


# -- definitions ----------------------------------------------------------------------------

_DEF_KEYWORDS = (
    "class|module|defmodule|def|defp|defmacro|interface|struct|enum|trait|type|typedef|func|function|"
    "object|fn|fun|impl|namespace|protocol|record|macro_rules!|let|const|var|val"
)


@functools.lru_cache(maxsize=1024)
def _definition_pattern(name: str) -> re.Pattern[str]:
    return re.compile(
        r"(?:^|[\s(])(?:"
        + _DEF_KEYWORDS
        + r")\s+(?:[A-Za-z_][A-Za-z0-9_]*(?:\.|::))*"
        + re.escape(name)
        + r"(?=[\s<({:\[;=,]|$)",
        re.MULTILINE,
    )


def _defines(corpus: Corpus, i: int, names_lower: frozenset[str], names: tuple[str, ...]) -> bool:
    sym = corpus.symbols[i]
    if sym and sym.rsplit(".", 1)[-1].lower() in names_lower:
        return True
    content = corpus.contents[i]
    return any(n in content and _definition_pattern(n).search(content) is not None for n in names)


# -- the pipeline ---------------------------------------------------------------------------


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
) -> list[Ranked]:
    pool = max(config.pool, 3 * k)
    lex_idx: IntArray = (
        top_indices(lexical, pool, allowed, corpus.position) if lexical is not None else np.zeros(0, np.int64)
    )
    dense = dense_result[0] if dense_result is not None else None
    computed = dense_result[1] if dense_result is not None else None
    den_idx: IntArray = (
        top_similar(dense, pool, allowed, corpus.position, computed) if dense is not None else np.zeros(0, np.int64)
    )
    scores: dict[int, float] = {}
    alpha = config.alpha_symbol if info.is_symbol else config.alpha_nl
    if config.adaptive and not info.is_symbol and lex_idx.size and tokens:
        plain = [t for t in tokens if not t.startswith("~")]
        cover = corpus.bm25.coverage(plain, int(lex_idx[0]))
        alpha = config.alpha_none - (config.alpha_none - config.alpha_full) * cover
    if lexical is None:
        alpha = 1.0
    elif dense is None:
        alpha = 0.0
    if config.fusion == "rrf":
        for r, i in enumerate(lex_idx.tolist()):
            scores[i] = scores.get(i, 0.0) + 2 * (1 - alpha) / (config.rrf_k + r + 1)
        for r, i in enumerate(den_idx.tolist()):
            scores[i] = scores.get(i, 0.0) + 2 * alpha / (config.rrf_k + r + 1)
    else:
        if lex_idx.size and lexical is not None:
            for i, v in zip(lex_idx.tolist(), _minmax(lexical[lex_idx]).tolist(), strict=True):
                scores[i] = scores.get(i, 0.0) + (1 - alpha) * v
        if den_idx.size and dense is not None:
            for i, v in zip(den_idx.tolist(), _minmax(dense[den_idx]).tolist(), strict=True):
                scores[i] = scores.get(i, 0.0) + alpha * v
    if not scores and not info.symbols:
        return []
    max_score = max(scores.values(), default=1.0) or 1.0

    # Definitions of the identifiers the query names, in the pools or anywhere in the corpus.
    weight = config.definition
    if weight > 0 and info.is_symbol and info.symbols:
        names = info.symbols
        lower = frozenset(n.lower() for n in names)
        extra: set[int] = set()
        for name in lower:
            definers = corpus.by_symbol.get(name, [])
            if len(definers) <= 25:
                extra.update(definers)
            for stem in (name, name.replace("_", "")):
                files = corpus.by_stem.get(stem, [])
                if len(files) <= 200:
                    extra.update(files)
        if allowed is not None:
            extra = {i for i in extra if allowed[i]}
        for i in sorted(set(scores) | extra):
            if _defines(corpus, i, lower, names):
                stem = corpus.paths[i].rsplit("/", 1)[-1].split(".", 1)[0].lower()
                tier = 1.5 if stem in lower or stem.replace("_", "") in lower else 1.0
                scores[i] = scores.get(i, 0.0) + weight * max_score * tier

    # Query words in the file name or its folder (natural-language queries).
    if config.path_match > 0 and info.keywords and not info.is_symbol:
        n_kw = len(info.keywords)
        for i in list(scores):
            hits = _keyword_hits(info.keywords, corpus.paths[i])
            if hits:
                scores[i] += config.path_match * max_score * hits / n_kw

    # File coherence: a file with several strong candidates lifts its best chunk.
    if config.coherence > 0 and scores:
        file_sum: dict[int, float] = {}
        best: dict[int, int] = {}
        for i, s in scores.items():
            f = int(corpus.file_of[i])
            file_sum[f] = file_sum.get(f, 0.0) + s
            b = best.get(f)
            if b is None or s > scores[b] or (s == scores[b] and corpus.position[i] < corpus.position[b]):
                best[f] = i
        top_file = max(file_sum.values()) or 1.0
        unit = config.coherence * max(scores.values())
        for f, i in best.items():
            scores[i] += unit * file_sum[f] / top_file

    # Test / example / vendored paths; documentation and config text.
    if config.test_penalty != 1.0 or config.prose_penalty != 1.0:
        for i in scores:
            if path_penalized(corpus.paths[i]):
                scores[i] *= config.test_penalty
            if corpus.languages[i] in PROSE_LANGUAGES:
                scores[i] *= config.prose_penalty

    return _select(corpus, scores, k, config)


def _select(corpus: Corpus, scores: dict[int, float], k: int, config: RankConfig) -> list[Ranked]:
    """Greedy top-k with per-file saturation decay and overlap de-duplication."""
    pos = corpus.position
    order = sorted(scores, key=lambda i: (-scores[i], pos[i]))
    taken: dict[int, list[int]] = {}
    chosen: list[Ranked] = []
    floor = -np.inf
    for i in order:
        base = scores[i]
        if len(chosen) >= k and base <= floor:
            break
        f = int(corpus.file_of[i])
        same = taken.get(f, [])
        if config.dedupe and any(
            not (corpus.end_lines[i] < corpus.start_lines[j] or corpus.start_lines[i] > corpus.end_lines[j])
            for j in same
        ):
            continue
        eff = base
        extra = len(same) - config.saturation_free + 1
        if extra > 0 and config.saturation_decay != 1.0:
            eff *= config.saturation_decay**extra
        taken.setdefault(f, []).append(i)
        chosen.append(Ranked(i, eff))
        if len(chosen) >= k:
            floor = heapq.nlargest(k, (r.score for r in chosen))[-1]
    chosen.sort(key=lambda r: (-r.score, pos[r.index]))
    return chosen[:k]


def code_query_tokens(query: str) -> list[str]:
    return code_tokens(query)
