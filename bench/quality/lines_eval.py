"""Suite ``lines``: "where is this code?" in the 12 docs languages.

A user pastes a line of code (from a stack trace, a diff, a review comment) and wants the place
it comes from. Each query is one line of an indexed chunk, stripped of its indentation: four
words or more, 20 to 120 characters, not a comment, outside tests, and the only line of the
corpus with that sequence of words (in any case, whatever the punctuation and spacing between
them: `foldLeft[B](z: B)` written alike in ten collections is no single place). The answer is
the chunk holding that line (NDCG@10 of one target, as in the docs evaluation).
``PER_LANGUAGE`` a language, a fixed-seed sample.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from pathlib import Path
from typing import Any

import docs_eval

from lapce_ai.index.store import IndexStore
from lapce_ai.search.engine import load_corpus
from lapce_ai.search.path_priors import path_penalized

PER_LANGUAGE = 100
SEED = 7
MIN_WORDS = 4
_WORD = re.compile(r"\w+")
_COMMENT_START = ("//", "#", "*", "/*", "--", "{-", ";")


def _words(line: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(line.lower()))


def queries(index: Path) -> list[docs_eval.DocQuery]:
    corpus: Any = load_corpus(IndexStore.open(index))
    seen = Counter(_words(line) for content in corpus.contents for line in content.split("\n"))
    found = []
    for path, start, content in zip(corpus.paths, corpus.start_lines.tolist(), corpus.contents, strict=True):
        if path_penalized(path):
            continue
        for offset, raw in enumerate(content.split("\n")):
            line = raw.strip()
            words = _words(line)
            if (
                len(words) >= MIN_WORDS
                and 20 <= len(line) <= 120
                and not line.startswith(_COMMENT_START)
                and seen[words] == 1
            ):
                found.append(docs_eval.DocQuery(line, path, start + offset))
    random.Random(SEED).shuffle(found)
    return sorted(found[:PER_LANGUAGE], key=lambda q: (q.path, q.line or 0))
