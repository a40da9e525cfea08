"""A fourth evaluation: bare-identifier queries in the 12 docs languages ("where is X defined?").

semble-dev's symbol queries (`Router`, `ResultRow`, `fetchRequestHandler`) cover its 8 languages
only; the docs corpora hold none. Here each query is a name that exactly one file of a docs
corpus defines, and the answer is that file, scored like the docs evaluation (NDCG@10 of one
whole-file target). The names are read from the index itself: a definition chunk's symbol (its
last segment), counted over every chunk of the corpus, kept when it names chunks of one file
only (a file that is itself a type, Zig's ``Allocator.zig``, defines its name too). So the set
checks ranking (the definition signal, the declaration scan, file names), not naming: a name
the chunker garbles never becomes a query. Methods, macros, namespaces and impl
blocks are left out (an `impl`/`extension`/`instance` is named after a type defined elsewhere),
as are test files, names under 4 characters and names that are not identifiers (Zig's test
strings). Like semble's (a repository's central types), the names taken are the most used: the
``PER_LANGUAGE`` that the most chunks mention, so most answers compete with many files that use
the name (`Deque` is named in 150 chunks of swift-collections, defined in one file).
"""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docs_eval
import paths_eval

from lapce_ai.index.store import IndexStore
from lapce_ai.parsing.languages import language_for_path
from lapce_ai.search.engine import load_corpus
from lapce_ai.search.named_files import module_segments
from lapce_ai.search.path_priors import path_penalized
from lapce_ai.search.tokenize import symbol_path_segments, symbol_segment

PER_LANGUAGE = 100
SKIPPED_KINDS = frozenset({"method", "macro", "namespace", "impl"})
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{3,}")
_MODULE_SEGMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
SEED = 3


def _named(corpus: Any) -> Iterator[tuple[str, str, str]]:
    """(name, kind, path) of every named chunk, and of every file that is itself a type named
    after it (``file_is_type``: Zig's ``Allocator.zig``), as kind ``file``."""
    for symbol, kind, path in zip(corpus.symbols, corpus.kinds, corpus.paths, strict=True):
        if symbol:
            yield symbol_segment(symbol), kind, path
    for _root, path in corpus.files:
        spec = language_for_path(path)
        if spec is not None and spec.file_is_type:
            yield path.rpartition("/")[2].split(".", 1)[0], "file", path


def queries(index: Path) -> list[docs_eval.DocQuery]:
    corpus: Any = load_corpus(IndexStore.open(index))
    files_of: dict[str, set[str]] = defaultdict(set)  # every chunk's name -> the files naming one
    defined: dict[str, str] = {}  # name -> a file with a definition chunk of a kept kind
    for name, kind, path in _named(corpus):
        files_of[name].add(path)
        if kind not in SKIPPED_KINDS and _IDENTIFIER.fullmatch(name) and not path_penalized(path):
            defined[name] = path
    unique = [n for n, p in defined.items() if files_of[n] == {p}]
    used = {n: corpus.bm25.doc_freq(n.lower()) for n in unique}
    unique.sort(key=lambda n: (-used[n], n))
    return [docs_eval.DocQuery(n, defined[n]) for n in unique[:PER_LANGUAGE]]


def qualified_queries(index: Path) -> list[docs_eval.DocQuery]:
    """Suite ``qualified``: a name that several files define, qualified by the module of one of
    them (``routing.Router``, ``Map.Internal.Tip``): the shortest module suffix that names only
    that file, its segments identifiers, in the path's own case. The answer is that file. At
    most ``PER_LANGUAGE`` a language, a fixed-seed sample."""
    corpus: Any = load_corpus(IndexStore.open(index))
    modules = {path: module_segments(root, path) for root, path in corpus.files}
    counts = Counter("/".join(m[-n:]).lower() for m in modules.values() for n in range(1, len(m) + 1))
    found: list[docs_eval.DocQuery] = []
    for name, path in _defined_in_several(corpus):
        qualifier = _unique_module_suffix(modules[path], counts)
        if qualifier is not None:
            found.append(docs_eval.DocQuery(f"{qualifier}.{name}", path))
    return _sample(found)


def mentioned_queries(index: Path) -> list[docs_eval.DocQuery]:
    """Suite ``mentioned``: the same names as ``qualified``, asked in a sentence that places them
    in one defining file (``where is Router in routing.py``), by the shortest path suffix that
    names only that file. The answer is that file."""
    corpus: Any = load_corpus(IndexStore.open(index))
    counts = Counter(s for _root, path in corpus.files for s in paths_eval.suffixes(path))
    found: list[docs_eval.DocQuery] = []
    for name, path in _defined_in_several(corpus):
        unique = next((s for s in paths_eval.suffixes(path) if counts[s] == 1), None)
        if unique is not None and " " not in unique:
            found.append(docs_eval.DocQuery(f"where is {name} in {path[len(path) - len(unique) :]}", path))
    return _sample(found)


def member_queries(index: Path) -> list[docs_eval.DocQuery]:
    """Suite ``members``: a member asked with its owner (``Deque.prepend``, ``Builder.use``), where
    members of other types share its name (``UniqueDeque.prepend``) and only one file defines the
    owner's. The owner and the name are the last two segments of a definition chunk's symbol
    path. The answer is that file."""
    corpus: Any = load_corpus(IndexStore.open(index))
    files_of: dict[tuple[str, str], set[str]] = defaultdict(set)
    owners: dict[str, set[str]] = defaultdict(set)
    spelled: dict[tuple[str, str], str] = {}
    for symbol, path in zip(corpus.symbols, corpus.paths, strict=True):
        segments = symbol_path_segments(symbol)
        if len(segments) < 2 or path_penalized(path):
            continue
        owner, name = segments[-2], segments[-1]
        if not (_IDENTIFIER.fullmatch(owner) and _IDENTIFIER.fullmatch(name)):
            continue
        key = (owner.lower(), name.lower())
        files_of[key].add(path)
        owners[name.lower()].add(owner.lower())
        spelled.setdefault(key, f"{owner}.{name}")
    found = [
        docs_eval.DocQuery(spelled[key], next(iter(paths)))
        for key, paths in sorted(files_of.items())
        if len(paths) == 1 and len(owners[key[1]]) > 1
    ]
    return _sample(found)


def node_queries(index: Path) -> list[docs_eval.DocQuery]:
    """Suite ``nodes`` (Python): a pytest ``FAILED`` line naming a definition by its test id,
    ``FAILED Lib/argparse.py::ArgumentParser::print_usage - AssertionError``, for the names
    several files define (the path under a ``Lib/`` folder the index does not have, as a
    project's rootdir may differ from the indexed folder). The answer is that file."""
    corpus: Any = load_corpus(IndexStore.open(index))
    owners = {
        (path, symbol_segment(symbol)): symbol_path_segments(symbol)
        for symbol, path in zip(corpus.symbols, corpus.paths, strict=True)
        if symbol
    }
    found = []
    for name, path in _defined_in_several(corpus):
        spec = language_for_path(path)
        if spec is None or spec.name != "python":
            continue
        segments = owners.get((path, name), [name])
        node = "::".join(segments[-2:])
        found.append(docs_eval.DocQuery(f"FAILED Lib/{path}::{node} - AssertionError", path))
    return _sample(found)


def _defined_in_several(corpus: Any) -> list[tuple[str, str]]:
    """(name, path) for each file defining a name that more than one file defines."""
    defined: dict[str, set[str]] = defaultdict(set)
    for name, kind, path in _named(corpus):
        if kind not in SKIPPED_KINDS and _IDENTIFIER.fullmatch(name) and not path_penalized(path):
            defined[name].add(path)
    return [(n, p) for n in sorted(defined) if len(defined[n]) > 1 for p in sorted(defined[n])]


def _sample(found: list[docs_eval.DocQuery]) -> list[docs_eval.DocQuery]:
    """At most ``PER_LANGUAGE``, a fixed-seed sample, in query order."""
    random.Random(SEED).shuffle(found)
    return sorted(found[:PER_LANGUAGE], key=lambda q: q.query)


def _unique_module_suffix(module: list[str], counts: Counter[str]) -> str | None:
    """The shortest dotted tail of ``module`` that no other file's module ends with."""
    for n in range(1, len(module) + 1):
        tail = module[-n:]
        if counts["/".join(tail).lower()] == 1 and all(_MODULE_SEGMENT.fullmatch(p) for p in tail):
            return ".".join(tail)
    return None
