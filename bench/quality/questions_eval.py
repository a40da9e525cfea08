"""Suites ``defined`` and ``uses``: a sentence asking for a name's definition or for its uses.

An editor's user or an agent asks in words what an IDE does with a key. Both suites are drawn
from the docs corpora's indexes, like ``symbols``:

- ``defined``: the names of the ``symbols`` suite (each defined in one file, the most used
  first), asked in a sentence ("where is Deque defined", "definition of Deque", "which file
  defines Deque", "where is the Deque struct declared", with the kind its definition chunk
  has). The answer is that file, scored as ``symbols`` is.
- ``uses``: a name that one file defines (a function, method, type; 5 characters at least) and
  that 1 to 10 other chunks of the code use, asked as "who calls X", "callers of X", "where
  is X used", "usages of X", "find references to X". The answers are the chunks whose code
  holds the name as a word on a line that is no comment or import (the engine's own rule of
  what starts one: the answers are what the engine calls a use, so the suite checks that the
  sentence is read and those chunks ranked first; test, example and documentation files left
  out, the defining chunks too), scored by semble's NDCG@10 rule with one target per chunk.

Both check ranking, not naming: the names come from the index's own chunks.
"""

from __future__ import annotations

import math
import random
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docs_eval
import symbols_eval

from lapce_ai.index.store import IndexStore
from lapce_ai.search.engine import load_corpus
from lapce_ai.search.name_questions import IMPORT_OR_COMMENT_LINE
from lapce_ai.search.ranking import PROSE_LANGUAGES, path_penalized
from lapce_ai.search.tokenize import symbol_name, symbol_segment

PER_LANGUAGE = 100
SEED = 5
MIN_NAME = 5
MAX_USES = 10
DEFINITION_FORMS = (
    "where is {name} defined",
    "definition of {name}",
    "which file defines {name}",
    "where is the {name} {kind} declared",
    "go to definition of {name}",
    "where is {name}?",
)
USES_FORMS = (
    "who calls {name}",
    "callers of {name}",
    "where is {name} used",
    "usages of {name}",
    "find references to {name}",
    "where is {name} called",
)
_KIND_WORDS = {"function": "function", "method": "method", "class": "class", "struct": "struct", "trait": "trait"}
_WORD = re.compile(r"[A-Za-z_$][\w$]*")


@dataclass(frozen=True)
class UsesQuery:
    query: str
    targets: tuple[tuple[str, int, int], ...]  # (path, start_line, end_line) of each using chunk

    def answered_by(self, path: str, start_line: int, end_line: int) -> bool:
        return any(self._covers(t, path, start_line, end_line) for t in self.targets)

    def ndcg(self, hits: list[tuple[str, int, int]]) -> float:
        """semble's rule: each target's rank is the first result covering it; IDCG over
        min(10, targets)."""
        found: set[int] = set()
        dcg = 0.0
        for rank, hit in enumerate(hits[:10], 1):
            new = [j for j, t in enumerate(self.targets) if j not in found and self._covers(t, *hit)]
            if new:
                found.update(new)
                dcg += 1.0 / math.log2(rank + 1)
        ideal = sum(1.0 / math.log2(r + 1) for r in range(1, min(10, len(self.targets)) + 1))
        return dcg / ideal

    @staticmethod
    def _covers(target: tuple[str, int, int], path: str, start_line: int, end_line: int) -> bool:
        return target[0] == path and not (end_line < target[1] or start_line > target[2])


def defined_queries(index: Path) -> list[docs_eval.DocQuery]:
    corpus: Any = load_corpus(IndexStore.open(index))
    kinds: dict[tuple[str, str], str] = {}
    for symbol, kind, path in zip(corpus.symbols, corpus.kinds, corpus.paths, strict=True):
        if symbol:
            kinds.setdefault((symbol_segment(symbol), path), kind)
    out = []
    for i, q in enumerate(symbols_eval.queries(index)):
        form = DEFINITION_FORMS[i % len(DEFINITION_FORMS)]
        kind = _KIND_WORDS.get(kinds.get((q.query, q.path), ""), "type")
        out.append(docs_eval.DocQuery(form.format(name=q.query, kind=kind), q.path))
    return out


def uses_queries(index: Path) -> list[UsesQuery]:
    corpus: Any = load_corpus(IndexStore.open(index))
    skipped = [
        path_penalized(p) or lang in PROSE_LANGUAGES for p, lang in zip(corpus.paths, corpus.languages, strict=True)
    ]
    chunks_with: dict[str, list[int]] = defaultdict(list)  # a word, as written -> chunks holding it
    for i, content in enumerate(corpus.contents):
        if not skipped[i]:
            for word in set(_WORD.findall(content)):
                chunks_with[word].append(i)
    defined_in: dict[str, set[str]] = defaultdict(set)
    defining: dict[str, set[int]] = defaultdict(set)
    for i, symbol in enumerate(corpus.symbols):
        if symbol and corpus.kinds[i] not in symbols_eval.SKIPPED_KINDS | {"test"}:
            name = symbol_segment(symbol)
            defined_in[name].add(corpus.paths[i])
            defining[name].add(i)
    found: list[UsesQuery] = []
    for name in sorted(defined_in):
        if len(name) < MIN_NAME or not _WORD.fullmatch(name) or len(defined_in[name]) != 1:
            continue
        if any(path_penalized(p) for p in defined_in[name]):
            continue
        same_name = {i for i in chunks_with.get(name, ()) if symbol_name(corpus.symbols[i]) == name.lower()}
        users = [
            i
            for i in chunks_with.get(name, ())
            if i not in defining[name] and i not in same_name and _used_in_code(corpus.contents[i], name)
        ]
        if 1 <= len(users) <= MAX_USES:
            targets = tuple((corpus.paths[i], int(corpus.start_lines[i]), int(corpus.end_lines[i])) for i in users)
            found.append(UsesQuery(name, targets))
    random.Random(SEED).shuffle(found)
    picked = sorted(found[:PER_LANGUAGE], key=lambda q: q.query)
    return [UsesQuery(USES_FORMS[i % len(USES_FORMS)].format(name=q.query), q.targets) for i, q in enumerate(picked)]


def _used_in_code(content: str, name: str) -> bool:
    word = re.compile(r"(?<![\w$])" + re.escape(name) + r"(?![\w$])")
    return any(word.search(line) and not IMPORT_OR_COMMENT_LINE.match(line) for line in content.splitlines())
