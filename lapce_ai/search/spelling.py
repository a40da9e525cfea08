"""How a query spells a name: one letter off one the code has, typed in part, or as words.

A name typed from memory is often a letter off (``OrderdDict``, ``ThreadPoolExecuter``, "where
is prpoerty defined"). Such a name has no posting: lexical search, the definition signal and
every name question lose it, and only the dense side is left. Here a word of a name (5 letters or
more) that no chunk holds is replaced by the corpus word closest to it, as a search box's
"showing results for" does:

- within one edit (a letter left out, added, replaced, or two neighbours swapped; two edits from
  12 letters on), its first character kept: people get it right, and it narrows the look-up to
  one bucket of the vocabulary;
- a name the code defines (or whose members it defines) or a file stem, else a word at least
  ``MIN_WORD_CHUNKS`` chunks hold: a rare word one letter off is as likely another word the user
  did not mean ("edited" is not "exited");
- the fewest edits first, then the name or word most chunks hold; it is spelled as the code
  spells it, closest to the typed case (``STRINB`` -> ``STRING``, ``Strinb`` -> ``String``
  where both are defined), so the definition signal finds the very name meant.

The words of a name are the name a question asks about, a query that is one name, and the words
of a sentence that look like code, stand in backticks or are capitalised after its first word.
A sentence's other words are English, which the code's words do not spell ("callees of X" is no
typo of "callers"), and the dense side reads their typos well enough (CoSQA's "case insensistive
key": correcting them too moved its MRR by +0.000). Only short queries are read (a typed query,
not a pasted log), and at most a few words of them.

A query that is one name, unknown to the code, which begins names it defines is a name typed so
far, as a search box that searches while one types sees it (``ThreadPoolExe``): it is read as the
name it begins that most chunks hold. That comes before a typo's correction (``Parame`` would
otherwise be ``Param`` one letter off, not ``Parameter``).

Such a name typed by its humps, as an editor's "go to symbol" box takes it, is read as the name
whose consecutive parts the humps begin: its initials (``TPE``), the first letters of each part
(``ThPoEx``, ``StIO``) or its last parts (``PoolExecutor``), all ``ThreadPoolExecutor`` /
``StringIO``. That comes last: a typo one letter off a name is the likelier reading of a long
word, and a name it begins the likelier of a word typed so far. The name a question asks about
is read the same way ("where is ThreadPoolExe defined", "who calls TPE"); a sentence's other
words only for typos.

A name typed as words, by one who does not know its case ("thread pool executor", "read file"),
is likewise read as the name they spell where the code defines it or names a file so, joined as
one word or with underscores: the whole query, 2 to 4 words and nothing else, or 2 to 4 words
where a question asks for a name ("where is thread pool executor defined", "who calls read
file"). Elsewhere in a sentence words stay words: appending the names that any 2 to 4 of them
spell measured worse (CoSQA MRR 0.516 -> 0.511, semble-dev 0.873 either way).
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections import defaultdict
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import OSA

from lapce_ai.search.corpus import Corpus
from lapce_ai.search.method_sets import TYPE_KINDS
from lapce_ai.search.name_questions import KIND_WORDS, asked_name_span, code_shaped, name_question
from lapce_ai.search.tokenize import (
    MAX_TOKEN_CHARS,
    QUERY_STOPWORDS,
    STEM_PREFIX,
    identifier_parts,
    symbol_path_segments,
    symbol_segment,
    written_stem,
)

MIN_TYPO_CHARS = 5  # shorter words have too many neighbours one edit away
TWO_EDITS_FROM = 12  # a word this long may be two edits off
MIN_WORD_CHUNKS = 5
MAX_QUERY_WORDS = 12  # longer queries are pasted text, not typed
MAX_CORRECTIONS = 3
MAX_SPELLINGS = 64  # definitions read for how the code spells a name
MAX_COMPLETIONS = 1000  # names a prefix is compared with (a short one begins many)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BACKTICKED = re.compile(r"`([^`]{1,80})`")
_SPACED = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[ \t]+[A-Za-z][A-Za-z0-9]*){1,3}")  # 2 to 4 words, nothing else
_PLAIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_SPACE_SEPARATED = re.compile(r"\S+")
_TYPED_HUMP = re.compile(r"[A-Z][a-z]*|[a-z]+|[0-9]+")  # the humps of ``TPE``, ``ThPoEx``, ``re_fi``
MIN_HUMPS_CHARS = 3
_KIND_OF_WORD = {"func": "function", "fn": "function", "const": "constant", "var": "variable"}  # as chunks say


@dataclass(frozen=True)
class Vocabulary:
    """The corpus's words bucketed by (first letter, length): a look-up scans one bucket or three."""

    buckets: dict[tuple[str, int], list[str]]

    @classmethod
    def of(cls, corpus: Corpus) -> Vocabulary:
        buckets: dict[tuple[str, int], list[str]] = defaultdict(list)
        for term in corpus.bm25.terms():
            if len(term) >= MIN_TYPO_CHARS - 1 and not term.startswith(STEM_PREFIX) and not term[0].isdigit():
                buckets[(term[0], len(term))].append(term)
        return cls(dict(buckets))

    def near(self, word: str, edits: int) -> list[tuple[str, int]]:
        """Words within ``edits`` of ``word`` (lower-case, first letter equal), with their distance."""
        found: list[tuple[str, int]] = []
        for length in range(len(word) - edits, len(word) + edits + 1):
            bucket = self.buckets.get((word[0], length))
            if bucket:
                hits = process.extract(word, bucket, scorer=OSA.distance, score_cutoff=edits, limit=None)
                found.extend((term, int(distance)) for term, distance, _ in hits)
        return found


def owners(corpus: Corpus) -> dict[str, str]:
    """Names that own members (``SearchEngine`` of ``SearchEngine.search``), lower-case -> as
    written: a class cut into its members has no chunk named after it, yet the code defines it."""
    found: dict[str, str] = {}
    alive = corpus.alive
    for i, symbol in enumerate(corpus.symbols):
        if symbol and (alive is None or alive[i]):
            for segment in symbol_path_segments(symbol)[:-1]:
                found.setdefault(segment.lower(), segment)
    return found


def _defined(key: str, corpus: Corpus) -> bool:
    """Whether the code defines a name or names a file so (``key`` lower-case)."""
    return bool(corpus.by_symbol.get(key) or corpus.by_stem.get(key)) or key in corpus.derived("owners", owners)


def corrected(query: str, corpus: Corpus) -> str:
    """``query`` as the name its words spell, or with the unknown words of its names replaced by
    the corpus words they are typos of."""
    spaced = _spaced_name(query, corpus)
    if spaced is not None:
        return spaced
    if len(_WORD.findall(query)) > MAX_QUERY_WORDS:
        return query
    if _WORD.fullmatch(query) and _unknown(query, corpus):  # one name, maybe typed in part
        return _name_meant(query, corpus) or query
    asked = asked_name_span(query)
    if asked is not None and _WORD.fullmatch(query, *asked) and _unknown(query[asked[0] : asked[1]], corpus):
        meant = _name_meant(query[asked[0] : asked[1]], corpus)  # "where is ThreadPoolExe defined"
        return query[: asked[0]] + meant + query[asked[1] :] if meant is not None else query
    out: list[str] = []
    last = fixes = 0
    for start, end in _name_spans(query, asked):
        for m in _WORD.finditer(query, start, end):
            word = m.group()
            fix = _correction(word, corpus) if fixes < MAX_CORRECTIONS and _checkable(word, corpus) else None
            if fix is not None:
                out.append(query[last : m.start()] + fix)
                last = m.end()
                fixes += 1
    return "".join(out) + query[last:] if out else query


def _name_meant(word: str, corpus: Corpus) -> str | None:
    """The name one word no chunk holds stands for: the name it begins, the one it is a typo
    of, or the one its humps begin, in that order; else None."""
    if len(word) >= MIN_TYPO_CHARS:
        fix = _completion(word, corpus) or _correction(word, corpus)
        if fix is not None:
            return fix
    return _by_humps(word, corpus)


def _spaced_name(query: str, corpus: Corpus) -> str | None:
    """The query with the name its words spell: the whole query of 2 to 4 words ("thread pool
    executor": ``ThreadPoolExecutor``, "read file": ``read_file``, "router group":
    ``routergroup.go``), or the name a question asks about ("where is thread pool executor
    defined"), where the code defines it or names a file so, as the code spells it; else None."""
    whole = _joined(query.split(), corpus) if _SPACED.fullmatch(query) else None
    if whole is not None:
        return whole
    words = list(_SPACE_SEPARATED.finditer(query))
    if len(words) > MAX_QUERY_WORDS:
        return None
    asks_already: bool | None = None  # read once a window spells a name: rarely, and analyze reads it again
    for n in (4, 3, 2):
        for i in range(len(words) - n + 1):
            first, last = words[i], words[i + n - 1]
            name = _joined([m.group() for m in words[i : i + n]], corpus)
            if name is None:
                continue
            if asks_already is None:
                asks_already = name_question(query, corpus) is not None
            if asks_already and not _kind_fits(last.group(), name, corpus):
                continue
            asked = query[: first.start()] + name + query[last.end() :]
            if asked_name_span(asked) == (first.start(), first.start() + len(name)):
                return asked
    return None


def _kind_fits(word: str, name: str, corpus: Corpus) -> bool:
    """Whether joining a question's last word ``word`` into ``name`` keeps its sense: a kind word
    joins only into a name defined as that kind ("where is output interface defined":
    ``OutputInterface``, an interface; "where is the Array class declared": the class ``Array``,
    not the method ``arrayClass``)."""
    said = word.lower()
    if said not in KIND_WORDS:
        return True
    kinds = TYPE_KINDS if said == "type" else {_KIND_OF_WORD.get(said, said)}
    return any(corpus.kinds[i] in kinds for i in corpus.by_symbol.get(name.lower(), ()))


def _joined(words: list[str], corpus: Corpus) -> str | None:
    """The name ``words`` spell joined as one word or with underscores (a leading underscore
    allowed: Swift's ``_HashLevel``), as the code spells it, where the code defines it or names
    a file so."""
    if not all(_PLAIN_WORD.fullmatch(w) for w in words):
        return None
    for joined in ("".join(words), "_".join(words)):
        for name in (joined, "_" + joined):
            key = name.lower()
            if _defined(key, corpus):
                return _as_typed(name, key, corpus)
    return None


def _name_spans(query: str, asked: tuple[int, int] | None) -> list[tuple[int, int]]:
    """Where ``query`` names code: the name a question asks about (``asked``), a query that is one
    name, else the words of a sentence that look like code, stand in backticks or are capitalised
    (but the first). A sentence's other words are English, which the code's words do not spell:
    "callees" is no typo of "callers"."""
    if asked is not None:
        return [asked]
    if not any(ch.isspace() for ch in query):
        return [(0, len(query))]
    spans = [m.span(1) for m in _BACKTICKED.finditer(query)]
    for n, m in enumerate(_WORD.finditer(query)):
        word = m.group()
        if code_shaped(word) or (n > 0 and word[0].isupper()):  # "how does Tokenzier split words"
            spans.append(m.span())
    return sorted(set(spans))


def _checkable(word: str, corpus: Corpus) -> bool:
    return len(word) >= MIN_TYPO_CHARS and _unknown(word, corpus)


def _unknown(word: str, corpus: Corpus) -> bool:
    low = word.lower()
    return len(word) <= MAX_TOKEN_CHARS and low not in QUERY_STOPWORDS and corpus.bm25.doc_freq(low) == 0


def _correction(word: str, corpus: Corpus) -> str | None:
    low = word.lower()
    edits = 2 if len(low) >= TWO_EDITS_FROM else 1
    vocabulary = corpus.derived("spelling_vocabulary", Vocabulary.of)
    best: tuple[int, int, int, str] | None = None  # (distance, not a name, -chunks, word): least first
    for term, distance in vocabulary.near(low, edits):
        named = _defined(term, corpus)
        chunks = corpus.bm25.doc_freq(term)
        if chunks == 0 or (not named and chunks < MIN_WORD_CHUNKS):
            continue
        key = (distance, 0 if named else 1, -chunks, term)
        if best is None or key < best:
            best = key
    if best is None:
        return None
    return _as_typed(word, best[3], corpus)


def defined_names(corpus: Corpus) -> list[str]:
    """Every name the code defines (or whose members it defines) and every file stem, lower-case,
    sorted: the names a prefix completes to."""
    names = {key for key in corpus.by_symbol if key}
    names.update(key for key in corpus.by_stem if not key.startswith(STEM_PREFIX))
    names.update(corpus.derived("owners", owners))
    return sorted(names)


def _completion(word: str, corpus: Corpus) -> str | None:
    """The name a query typed so far begins (``ThreadPoolExe`` -> ``ThreadPoolExecutor``): of the
    defined names it begins, the one most chunks hold (then the shortest), as the code spells it."""
    low = word.lower()
    names = corpus.derived("defined_names", defined_names)
    start = bisect.bisect_left(names, low)
    best: tuple[int, int, str] | None = None  # (-chunks, length, name): least first
    for name in itertools.islice(names, start, start + MAX_COMPLETIONS):
        if not name.startswith(low):
            break
        key = (-corpus.bm25.doc_freq(name), len(name), name)
        if best is None or key < best:
            best = key
    return _as_typed(word, best[2], corpus) if best is not None else None


@dataclass(frozen=True)
class Humps:
    """The defined names of 2 parts or more, split into their parts (``ThreadPoolExecutor``:
    thread, pool, executor), each (name, part) found by the first letters of that part and the
    next (a look-up by one letter alone reads a twentieth of the names)."""

    names: list[str]  # lower-case
    parts: list[tuple[str, ...]]
    by_initials: dict[str, list[tuple[int, int]]]  # two parts' first letters -> (name, first part) indexes

    @classmethod
    def of(cls, corpus: Corpus) -> Humps:
        names: list[str] = []
        parts: list[tuple[str, ...]] = []
        by_initials: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for key in corpus.derived("defined_names", defined_names):
            split = tuple(identifier_parts(_written(key, corpus)))
            if len(split) < 2:
                continue
            n = len(names)
            names.append(key)
            parts.append(split)
            for i in range(len(split) - 1):
                by_initials[split[i][0] + split[i + 1][0]].append((n, i))
        return cls(names, parts, dict(by_initials))

    def matching(self, humps: list[str]) -> list[tuple[str, int, int]]:
        """The names whose consecutive parts begin with ``humps`` (lower-case), each with the
        part the match starts at and how many parts it leaves out."""
        found: list[tuple[str, int, int]] = []
        for n, start in self.by_initials.get(humps[0][0] + humps[1][0], ()):
            parts = self.parts[n]
            if start + len(humps) <= len(parts) and all(
                parts[start + k].startswith(hump) for k, hump in enumerate(humps)
            ):
                found.append((self.names[n], start, len(parts) - len(humps)))
        return found


def _by_humps(word: str, corpus: Corpus) -> str | None:
    """The name a word typed by its humps means, as an editor's "go to symbol" box reads it: the
    first letters of each part (``TPE``, ``ThPoEx``: ``ThreadPoolExecutor``) or its last parts
    (``PoolExecutor``). Of the names whose consecutive parts begin with the humps: one they
    begin, then one with the fewest parts left out, then the one most chunks hold, then the
    shortest. Typed in camel case it means a name written so (``AsCa``: the class ``AsyncCache``,
    not its file ``async_cache.dart``), typed with underscores one written with them."""
    if len(word) < MIN_HUMPS_CHARS:
        return None
    table = corpus.derived("spelling_humps", Humps.of)
    snake = "_" in word
    # Each capital a hump (``TPE``), else a run of capitals one (``StIO``: ``StringIO``).
    for humps in ([h.lower() for h in _TYPED_HUMP.findall(word)], identifier_parts(word)):
        best: tuple[bool, int, bool, int, int, str] | None = None  # least first
        for name, start, left_out in table.matching(humps) if len(humps) >= 2 else ():
            other_style = ("_" in name.strip("_")) != snake
            key = (start > 0, left_out, other_style, -corpus.bm25.doc_freq(name), len(name), name)
            if best is None or key < best:
                best = key
        if best is not None:
            return _as_typed(word, best[5], corpus)
    return None


def _written(key: str, corpus: Corpus) -> str:
    """A defined name (lower-case) as the code writes it."""
    for i in corpus.by_symbol.get(key, ())[:1]:
        return symbol_segment(corpus.symbols[i])
    for i in corpus.by_stem.get(key, ())[:1]:
        return written_stem(corpus.paths[i])
    return corpus.derived("owners", owners).get(key, key)


def _as_typed(word: str, term: str, corpus: Corpus) -> str:
    """``term`` (lower-case) spelled as the code spells it closest to how ``word`` was typed
    (``STRINB`` -> ``STRING``, ``Strinb`` -> ``String``: both defined), else in ``word``'s case
    letter by letter (``GValues`` -> ``GValue``)."""
    spellings = {symbol_segment(corpus.symbols[i]) for i in corpus.by_symbol.get(term, ())[:MAX_SPELLINGS]}
    spellings.update(written_stem(corpus.paths[i]) for i in corpus.by_stem.get(term, ())[:MAX_SPELLINGS])
    owner = corpus.derived("owners", owners).get(term)
    if owner is not None:
        spellings.add(owner)
    spellings = {s for s in spellings if s.lower() == term}
    if spellings:
        return min(sorted(spellings), key=lambda s: OSA.distance(word, s))
    if word.isupper():
        return term.upper()
    return "".join(c.upper() if i < len(word) and word[i].isupper() else c for i, c in enumerate(term))
