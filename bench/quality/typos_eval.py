"""Suites ``misspelled``, ``spaced``, ``prefixes``, ``humps`` and ``endings``: the ``symbols``
suite's names as a user types them, with one typo, as words, half typed, by their humps or by
their end.

A name typed from memory is often a letter off (``OrderdDict``, ``ThreadPoolExecuter``,
``defaultdcit``). Each name of the ``symbols`` suite (defined in one file, the most used first)
(6 letters or more) gets one edit of the kinds people make: two neighbouring letters swapped, a letter left out,
a letter typed twice, or a letter replaced by a neighbour on a QWERTY keyboard. The first letter
is kept (it is the one people get right), and an edit that gives a word the corpus holds (another
name, a word of its comments) is skipped for the next one: the query must be a typo, not another
name. Every other name is asked bare, the rest as "where is X defined". The answer is the name's
file, scored as ``symbols`` is.

``spaced``: a name of 2 to 4 parts, all letters (``ThreadPoolExecutor``, ``read_file``), asked as
its parts in lower case ("thread pool executor", "read file"), as one types a name one does not
know the case of, every other one as "where is X defined"; the answer is its file.
"""

from __future__ import annotations

import random
import re
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docs_eval
import symbols_eval

from lapce_ai.index.store import IndexStore
from lapce_ai.search.engine import load_corpus
from lapce_ai.search.tokenize import identifier_parts

_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_NEIGHBOURS = {
    ch: "".join(
        row[j]
        for r2, row in enumerate(_ROWS)
        if abs(r2 - r) <= 1
        for j in (c - 1, c, c + 1)
        if 0 <= j < len(row) and row[j] != ch
    )
    for r, row in enumerate(_ROWS)
    for c, ch in enumerate(row)
}
QUESTION = "where is {name} defined"
MIN_NAME = 6  # a typo of a shorter name is one edit from too many others to be read back


def _swap(name: str, i: int) -> str | None:
    if i + 1 >= len(name) or name[i] == name[i + 1]:
        return None
    return name[:i] + name[i + 1] + name[i] + name[i + 2 :]


def _drop(name: str, i: int) -> str | None:
    return name[:i] + name[i + 1 :] if name[i].isalpha() else None


def _double(name: str, i: int) -> str | None:
    return name[: i + 1] + name[i:] if name[i].isalpha() else None


def _neighbour(rng: random.Random) -> Callable[[str, int], str | None]:
    def edit(name: str, i: int) -> str | None:
        near = _NEIGHBOURS.get(name[i].lower())
        if not near:
            return None
        typed = rng.choice(near)
        return name[:i] + (typed.upper() if name[i].isupper() else typed) + name[i + 1 :]

    return edit


def typos(name: str) -> Iterator[str]:
    """One-edit typos of ``name`` (its first letter kept), in a fixed order seeded by the name."""
    rng = random.Random(zlib.crc32(name.encode()))
    edits = [_swap, _drop, _double, _neighbour(rng)]
    places = list(range(1, len(name)))
    tries = [(edit, i) for edit in edits for i in places]
    rng.shuffle(tries)
    for edit, i in tries:
        typo = edit(name, i)
        if typo and typo != name:
            yield typo


def misspelled_queries(index: Path) -> list[docs_eval.DocQuery]:
    corpus: Any = load_corpus(IndexStore.open(index))
    out: list[docs_eval.DocQuery] = []
    for q in symbols_eval.queries(index):
        if len(q.query) < MIN_NAME:
            continue
        typo = next((t for t in typos(q.query) if corpus.bm25.doc_freq(t.lower()) == 0), None)
        if typo is None:
            continue
        asked = QUESTION.format(name=typo) if len(out) % 2 else typo
        out.append(docs_eval.DocQuery(asked, q.path))
    return out


def spaced_queries(index: Path) -> list[docs_eval.DocQuery]:
    out: list[docs_eval.DocQuery] = []
    for q in symbols_eval.queries(index):
        parts = identifier_parts(q.query)
        if 2 <= len(parts) <= 4 and all(p.isalpha() for p in parts):
            words = " ".join(parts)
            out.append(docs_eval.DocQuery(QUESTION.format(name=words) if len(out) % 2 else words, q.path))
    return out


PREFIX_SHARE = 0.7  # of the name typed so far
MIN_PREFIX = 5


def prefix_queries(index: Path) -> list[docs_eval.DocQuery]:
    """Suite ``prefixes``: a name of 8 letters or more typed so far (its first 70 %, 5 letters at
    least), as a search box that searches as one types sees it; only prefixes no chunk holds as a
    word (``ThreadPoolExe``; ``Thread`` is a name of its own). The answer is the name's file."""
    corpus: Any = load_corpus(IndexStore.open(index))
    out: list[docs_eval.DocQuery] = []
    for q in symbols_eval.queries(index):
        if len(q.query) < 8:
            continue
        typed = q.query[: max(MIN_PREFIX, int(len(q.query) * PREFIX_SHARE))]
        if corpus.bm25.doc_freq(typed.lower()) == 0:
            out.append(docs_eval.DocQuery(typed, q.path))
    return out


_HUMP = re.compile(r"[A-Z][a-z]*|[a-z]+")  # a camel-case name's humps, as written
HUMP_LETTERS = 2


def _humps(name: str) -> list[str] | None:
    """The humps of a camel-case name of letters only (``ThreadPoolExecutor``, ``readFile``), 2 or more."""
    if not name.isalpha():
        return None
    humps = _HUMP.findall(name)
    return humps if len(humps) >= 2 and "".join(humps) == name and all(len(h) > 1 for h in humps) else None


def hump_queries(index: Path) -> list[docs_eval.DocQuery]:
    """Suite ``humps``: a camel-case name typed as an editor's "go to symbol" box takes it, by the
    first letters of its humps: its initials where it has 3 humps or more (``TPE``), else the
    first two letters of each hump (``ThPoEx``, ``reFi``), alternately; only forms no chunk holds
    as a word. The answer is the name's file."""
    corpus: Any = load_corpus(IndexStore.open(index))
    out: list[docs_eval.DocQuery] = []
    for q in symbols_eval.queries(index):
        humps = _humps(q.query)
        if humps is None:
            continue
        letters = 1 if len(humps) >= 3 and len(out) % 2 == 0 else HUMP_LETTERS
        typed = "".join(h[:letters] for h in humps)
        if corpus.bm25.doc_freq(typed.lower()) == 0:
            out.append(docs_eval.DocQuery(typed, q.path))
    return out


def ending_queries(index: Path) -> list[docs_eval.DocQuery]:
    """Suite ``endings``: a camel-case name of 3 humps or more typed without its first
    (``PoolExecutor`` for ``ThreadPoolExecutor``), as one remembers the end of a long name; only
    endings no chunk holds as a word and that name nothing the code defines. The answer is the
    name's file."""
    corpus: Any = load_corpus(IndexStore.open(index))
    out: list[docs_eval.DocQuery] = []
    for q in symbols_eval.queries(index):
        humps = _humps(q.query)
        if humps is None or len(humps) < 3:
            continue
        typed = humps[1][0].upper() + "".join(humps[1:])[1:]
        key = typed.lower()
        if corpus.bm25.doc_freq(key) == 0 and not corpus.by_symbol.get(key) and not corpus.by_stem.get(key):
            out.append(docs_eval.DocQuery(typed, q.path))
    return out
