"""A fifth evaluation: file-name and module queries ("router.go", "routing/mod.rs",
"Map.Strict") in the 12 docs corpora.

Users and coding agents often search for a file they know by name. For each of at most
``PER_LANGUAGE`` files a language (evenly spaced in path order, test files left out) there are
two queries, each answered by that file and scored like the docs evaluation (NDCG@10 of one
whole-file target): the shortest path suffix that names only that file (its name, else
``folder/name``, up to three folders), as typed; and the shortest dotted module suffix of at
least two segments that names only it (``Map.Strict`` for ``Data/Map/Strict.hs``,
``collection.mutable.HashMap``; a package's ``__init__.py`` or ``mod.rs`` is its folder), where
every segment is an identifier.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import docs_eval

from lapce_ai.index.store import IndexStore
from lapce_ai.search.engine import load_corpus
from lapce_ai.search.named_files import module_segments
from lapce_ai.search.path_priors import path_penalized

PER_LANGUAGE = 100
MAX_FOLDERS = 3
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def suffixes(path: str) -> list[str]:
    """A path's tails, lower-case: its name, then ``folder/name``, up to ``MAX_FOLDERS`` folders."""
    parts = path.split("/")
    return ["/".join(parts[-n:]).lower() for n in range(1, min(len(parts), MAX_FOLDERS + 1) + 1)]


def _module_suffixes(module: list[str]) -> list[str]:
    """Dotted suffixes of a module path whose segments are all identifiers (a folder named
    `System.Collections.Immutable` cannot be told from three segments once dotted)."""
    tails = [module[-n:] for n in range(2, min(len(module), MAX_FOLDERS + 1) + 1)]
    return [".".join(s) for s in tails if all(_IDENTIFIER.fullmatch(p) for p in s)]


def queries(index: Path) -> list[docs_eval.DocQuery]:
    corpus: Any = load_corpus(IndexStore.open(index))
    files = sorted({(path, root) for root, path in corpus.files})
    counts = Counter(s for p, _r in files for s in suffixes(p))
    modules = {p: module_segments(r, p) for p, r in files}
    module_counts = Counter(s.lower() for m in modules.values() for s in _module_suffixes(m))
    out: list[docs_eval.DocQuery] = []
    kept = [p for p, _r in files if not path_penalized(p)]
    step = max(1, len(kept) // PER_LANGUAGE)
    for path in kept[::step][:PER_LANGUAGE]:
        unique = next((s for s in suffixes(path) if counts[s] == 1), None)
        if unique is not None:
            out.append(docs_eval.DocQuery(path[len(path) - len(unique) :], path))
        module = next((s for s in _module_suffixes(modules[path]) if module_counts[s.lower()] == 1), None)
        if module is not None:
            out.append(docs_eval.DocQuery(module, path))
    return out
