"""A type's own file, for languages that extend a type in files of their own.

Swift's ``Deque+Codable.swift`` extends the type that ``Deque.swift`` declares
(``languages.toml``: ``extension_files = "+"``); ranking scores the type's own file with the
files extending it.
"""

from __future__ import annotations

import functools

import numpy as np

from lapce_ai.parsing.languages import all_languages, language_for_path
from lapce_ai.search.corpus import BoolArray, Corpus, IntArray
from lapce_ai.search.named_files import files_named
from lapce_ai.search.tokenize import file_stem, symbol_name


def type_homes(corpus: Corpus) -> IntArray:
    """Per file, the file of the type it extends, else -1: for a language with
    ``extension_files`` ("+"), ``Deque+Codable.swift`` -> ``Deque.swift`` in the same folder, or
    the only file of that name under the same root."""
    homes = np.full(len(corpus.files), -1, dtype=np.int64)
    joiners = _extension_joiners()
    for f, (root, path) in enumerate(corpus.files):
        folder, _, name = path.rpartition("/")
        base, dot, ext = name.rpartition(".")
        if not dot or not any(j in base for j in joiners):  # most files: no language lookup
            continue
        spec = language_for_path(path)
        joiner = spec.extension_files if spec is not None else None
        if joiner is None or joiner not in base:
            continue
        home_name = f"{base.split(joiner, 1)[0]}.{ext}"
        if home_name.startswith("."):
            continue
        same_name = [h for h in files_named(home_name, corpus) if corpus.files[h][0] == root]
        beside = [h for h in same_name if corpus.files[h][1].rpartition("/")[0] == folder]
        found = beside or (same_name if len(same_name) == 1 else [])
        if found and found[0] != f:
            homes[f] = found[0]
    return homes


@functools.cache
def _extension_joiners() -> frozenset[str]:
    return frozenset(spec.extension_files for spec in all_languages().values() if spec.extension_files)


def home_chunk(corpus: Corpus, file: int, allowed: BoolArray | None) -> int | None:
    """The allowed chunk of a type's own file that declares the type (named after the file),
    else its first allowed chunk; None if the filters allow none."""
    offsets, members = corpus.file_members()
    own = members[offsets[file] : offsets[file + 1]]
    if allowed is not None:
        own = own[allowed[own]]
    if not own.size:
        return None
    own = own[np.argsort(corpus.position[own], kind="stable")]
    type_name = file_stem(corpus.files[file][1])
    for i in own.tolist():
        if symbol_name(corpus.symbols[i]) == type_name:
            return int(i)
    return int(own[0])
