"""Where a definition split into several chunks begins.

A definition too large for one chunk is cut along its children. When it holds other definitions
(a class's methods, a ``describe`` block's tests), it opens like a namespace: its first lines,
when small, join the chunk of its first member, so no chunk may be named after it alone (its
closing ``}``, ``})`` or ``end`` is no chunk), or only one that answers nothing, like a closing
brace after a comment. What a query means by the definition is where it begins.
"""

from __future__ import annotations

import re

from lapce_ai.search.corpus import Corpus

_CONTENT_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]+")
HOLLOW_CHARS = 200  # a longer chunk of one word is a rule of asterisks: rare, and left alone


def is_hollow(text: str) -> bool:
    """A chunk of one word or none (a split class's closing ``}`` or ``end``, a rule of
    asterisks, a package's one-word docstring): nothing in it answers a question. Asked of the
    few chunks a name is found through, not tabled for the whole corpus."""
    return len(text) <= HOLLOW_CHARS and len(set(_CONTENT_WORD.findall(text))) <= 1


def block_start(corpus: Corpus, chunk: int, name: str | None = None) -> int:
    """The earliest live chunk of ``chunk``'s file named after its definition (or ``name``, a
    definition holding it) or inside it: where that definition begins (``chunk`` itself when none
    begins earlier)."""
    name = corpus.symbols[chunk] if name is None else name
    if not name:
        return chunk
    offsets, members = corpus.file_members()
    f = int(corpus.file_of[chunk])
    first = chunk
    for j in members[offsets[f] : offsets[f + 1]].tolist():
        earlier = corpus.start_lines[j] < corpus.start_lines[first]
        if earlier and _inside(corpus.symbols[j], name) and (corpus.alive is None or corpus.alive[j]):
            first = j
    return first


def _inside(symbol: str, name: str) -> bool:
    return symbol == name or symbol.startswith(name + ".")
