"""A fifth evaluation: file-name queries ("router.go", "routing/mod.rs") in the 12 docs corpora.

Users and coding agents often search for a file they know by name. Each query is the shortest
path suffix that names one file of a corpus (its name, else ``folder/name``, up to three
folders), asked as typed; the answer is that file, scored like the docs evaluation (NDCG@10 of
one whole-file target). At most ``PER_LANGUAGE`` files a language, evenly spaced in path order;
test files are left out.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import docs_eval

from lapce_ai.index.store import IndexStore
from lapce_ai.search.engine import load_corpus
from lapce_ai.search.ranking import path_penalized

PER_LANGUAGE = 100
MAX_FOLDERS = 3


def _suffixes(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[-n:]).lower() for n in range(1, min(len(parts), MAX_FOLDERS + 1) + 1)]


def queries(index: Path) -> list[docs_eval.DocQuery]:
    corpus: Any = load_corpus(IndexStore.open(index))
    paths = sorted({path for _root, path in corpus.files})
    counts = Counter(s for p in paths for s in _suffixes(p))
    out: list[docs_eval.DocQuery] = []
    kept = [p for p in paths if not path_penalized(p)]
    step = max(1, len(kept) // PER_LANGUAGE)
    for path in kept[::step][:PER_LANGUAGE]:
        unique = next((s for s in _suffixes(path) if counts[s] == 1), None)
        if unique is not None:
            out.append(docs_eval.DocQuery(path[len(path) - len(unique) :], path))
    return out
