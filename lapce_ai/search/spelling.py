"""How a query spells a name: one letter off one the code has, or as words.

A name typed from memory is often a letter off (``OrderdDict``, ``ThreadPoolExecuter``, "where
is prpoerty defined"). Such a name has no posting: lexical search, the definition signal and
every name question lose it, and only the dense side is left. Here a word of a name (5 letters or
more) that no chunk holds is replaced by the corpus word closest to it, as a search box's
"showing results for" does. Names are the name a question asks about, a query that is one name,
and the words of a sentence that look like code, stand in backticks or are capitalised after its
first word. A sentence's other words
are English, which the code's words do not spell ("callees of X" is no typo of "callers"), and
the dense side reads their typos well enough (CoSQA's "case insensistive key": correcting them
too moved its MRR by +0.000).

- within one edit (a letter left out, added, replaced, or two neighbours swapped; two edits from
  12 letters on), its first character kept: people get it right, and it narrows the look-up to
  one bucket of the vocabulary;
- a name the code defines or a file stem, else a word at least ``MIN_WORD_CHUNKS`` chunks hold:
  a rare word one letter off is as likely another word the user did not mean ("edited" is not
  "exited");
- the fewest edits first, then the name or word most chunks hold; it is spelled as the code
  spells it, closest to the typed case (``STRINB`` -> ``STRING``, ``Strinb`` -> ``String``
  where both are defined), so the definition signal finds the very name meant.

Only short queries are read (a typed query, not a pasted log), and at most a few words of them.

A name typed as words, by one who does not know its case ("thread pool executor", "read file"),
is likewise read as the name they spell where the code defines it or names a file so: the whole
query, 2 to 4 words and nothing else, joined as one word or with underscores.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import OSA

from lapce_ai.search.corpus import Corpus
from lapce_ai.search.name_questions import asked_name_span, code_shaped
from lapce_ai.search.tokenize import MAX_TOKEN_CHARS, QUERY_STOPWORDS, STEM_PREFIX, symbol_segment, written_stem

MIN_TYPO_CHARS = 5  # shorter words have too many neighbours one edit away
TWO_EDITS_FROM = 12  # a word this long may be two edits off
MIN_WORD_CHUNKS = 5
MAX_QUERY_WORDS = 12  # longer queries are pasted text, not typed
MAX_CORRECTIONS = 3
MAX_SPELLINGS = 64  # definitions read for how the code spells a name
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BACKTICKED = re.compile(r"`([^`]{1,80})`")
_SPACED = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[ \t]+[A-Za-z][A-Za-z0-9]*){1,3}")  # 2 to 4 words, nothing else


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


def corrected(query: str, corpus: Corpus) -> str:
    """``query`` as the name its words spell, or with the unknown words of its names replaced by
    the corpus words they are typos of."""
    spaced = _spaced_name(query, corpus)
    if spaced is not None:
        return spaced
    if len(_WORD.findall(query)) > MAX_QUERY_WORDS:
        return query
    out: list[str] = []
    last = fixes = 0
    for start, end in _name_spans(query):
        for m in _WORD.finditer(query, start, end):
            word = m.group()
            fix = _correction(word, corpus) if fixes < MAX_CORRECTIONS and _checkable(word, corpus) else None
            if fix is not None:
                out.append(query[last : m.start()] + fix)
                last = m.end()
                fixes += 1
    return "".join(out) + query[last:] if out else query


def _spaced_name(query: str, corpus: Corpus) -> str | None:
    """The name a query of 2 to 4 words spells, where the code defines it or names a file so
    ("thread pool executor": ``ThreadPoolExecutor``, "read file": ``read_file``, "router group":
    ``routergroup.go``), as the code spells it; else None."""
    if not _SPACED.fullmatch(query):
        return None
    words = query.split()
    for name in ("".join(words), "_".join(words)):
        key = name.lower()
        if key in corpus.by_symbol or key in corpus.by_stem:
            return _as_typed(name, key, corpus)
    return None


def _name_spans(query: str) -> list[tuple[int, int]]:
    """Where ``query`` names code: the name a question asks about, a query that is one name, else
    the words of a sentence that look like code, stand in backticks or are capitalised (but the
    first). A sentence's other words are English, which the code's words do not spell: "callees"
    is no typo of "callers"."""
    asked = asked_name_span(query)
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
    low = word.lower()
    return (
        MIN_TYPO_CHARS <= len(word) <= MAX_TOKEN_CHARS and low not in QUERY_STOPWORDS and corpus.bm25.doc_freq(low) == 0
    )


def _correction(word: str, corpus: Corpus) -> str | None:
    low = word.lower()
    edits = 2 if len(low) >= TWO_EDITS_FROM else 1
    vocabulary = corpus.derived("spelling_vocabulary", Vocabulary.of)
    best: tuple[int, int, int, str] | None = None  # (distance, not a name, -chunks, word): least first
    for term, distance in vocabulary.near(low, edits):
        named = term in corpus.by_symbol or term in corpus.by_stem
        chunks = corpus.bm25.doc_freq(term)
        if chunks == 0 or (not named and chunks < MIN_WORD_CHUNKS):
            continue
        key = (distance, 0 if named else 1, -chunks, term)
        if best is None or key < best:
            best = key
    if best is None:
        return None
    return _as_typed(word, best[3], corpus)


def _as_typed(word: str, term: str, corpus: Corpus) -> str:
    """``term`` (lower-case) spelled as the code spells it closest to how ``word`` was typed
    (``STRINB`` -> ``STRING``, ``Strinb`` -> ``String``: both defined), else in ``word``'s case
    letter by letter (``GValues`` -> ``GValue``)."""
    spellings = {symbol_segment(corpus.symbols[i]) for i in corpus.by_symbol.get(term, ())[:MAX_SPELLINGS]}
    spellings.update(written_stem(corpus.paths[i]) for i in corpus.by_stem.get(term, ())[:MAX_SPELLINGS])
    spellings = {s for s in spellings if s.lower() == term}
    if spellings:
        return min(sorted(spellings), key=lambda s: OSA.distance(word, s))
    if word.isupper():
        return term.upper()
    return "".join(c.upper() if i < len(word) and word[i].isupper() else c for i, c in enumerate(term))
