"""Types that implement an interface by having its methods, naming it nowhere.

A Go type implements every interface whose methods it has; a Python class matches a
``typing.Protocol`` the same way. No declaration says so, so an implementations question
("implementations of Render") compares method sets. What a language writes is data
(``languages.toml``): the declaration of such an interface (``structural_declaration``), a
method declared inside a type's body (``method_line``), Go's methods declared on a receiver
outside it (``method_receiver``) and the interfaces a Go interface embeds (``embedded_line``).
Everything is read from the chunks holding the names involved
(the lexical index's postings), so a question costs milliseconds on a large corpus.
"""

from __future__ import annotations

import functools
import re

import numpy as np

from lapce_ai.chunking.cst import CLASS_LIKE
from lapce_ai.parsing.languages import LanguageSpec, all_languages
from lapce_ai.search.corpus import Corpus, IntArray
from lapce_ai.search.tokenize import symbol_path_segments

# Kinds of chunk that declare a type (what can implement or extend another): the chunker's
# class-like kinds but modules and namespaces.
TYPE_KINDS = CLASS_LIKE - {"module", "namespace"}
# The first line that is code: what precedes a receiver or a method is comments and decorators.
_FIRST_CODE = re.compile(r"^(?!\s*(?:#|//|/\*|\*|@|$)).*$", re.MULTILINE)


def having_the_methods(interface: str, corpus: Corpus) -> list[int]:
    """The chunks standing for the types that have every public method of ``interface`` (their
    declaration's, else their first member's), where ``interface`` is declared as implemented by
    its methods (Go's interfaces, Python's ``Protocol`` classes). The methods of the interfaces a Go
    interface embeds count where the code declares them; a Protocol's bases are not followed."""
    found: dict[int, None] = {}
    chunks = holding(interface, corpus).tolist()  # read once: its declaration and its methods are there
    for language in sorted({corpus.languages[i] for i in chunks}):
        spec = all_languages().get(language)
        if spec is None or spec.structural_declaration is None or spec.method_line is None:
            continue
        if not _declared_structural(interface, chunks, corpus, spec):
            continue
        wanted = {m for m in _methods_of(interface, chunks, corpus, spec) if not m.startswith("_")}
        if not wanted:
            continue
        owners: set[str] | None = None
        stands_for: dict[str, int] = {}
        # The rarest first (the fewest chunks to read), in a fixed order: what stands for a type is
        # the first of its chunks seen.
        for method in sorted(wanted, key=lambda m: (corpus.bm25.doc_freq(m.lower()), m)):
            having = _owners_of(method, corpus, spec, stands_for)
            owners = having if owners is None else owners & having
            if not owners:
                break
        found.update((stands_for[t], None) for t in sorted(owners or ()) if t != interface and t in stands_for)
    return list(found)


def holding(name: str, corpus: Corpus) -> IntArray:
    """The chunks whose text holds ``name`` as a token (its code, symbol or path)."""
    token = name.lower()
    if not corpus.bm25.doc_freq(token):
        return np.zeros(0, np.int64)
    return np.flatnonzero(corpus.bm25.scores([token]) > 0)


def _declared_structural(interface: str, chunks: list[int], corpus: Corpus, spec: LanguageSpec) -> bool:
    assert spec.structural_declaration is not None
    declaration = at_line_starts(spec.structural_declaration)
    # Its declaration is in its own chunk, or in its first member's (a class cut in pieces).
    return any(
        m.group("name") == interface
        for i in chunks
        if interface in corpus.symbols[i]  # a substring test first: thousands of chunks may hold the name
        and corpus.languages[i] == spec.name
        and interface in symbol_path_segments(corpus.symbols[i])
        for m in declaration.finditer(corpus.contents[i])
    )


def _methods_of(
    type_name: str, chunks: list[int], corpus: Corpus, spec: LanguageSpec, seen: set[str] | None = None
) -> set[str]:
    """The methods declared in the type's body or as its members (``Type.method`` chunks), among
    the ``chunks`` holding its name, and those of the interfaces its body embeds (Go's
    ``Reader`` in ``ReadWriter``) where the code declares them."""
    seen = seen if seen is not None else {type_name}
    methods: set[str] = set()
    embedded: set[str] = set()
    for i in chunks:
        if corpus.languages[i] != spec.name or not corpus.symbols[i]:
            continue
        segments = symbol_path_segments(corpus.symbols[i])
        if segments[-1] == type_name and corpus.kinds[i] in TYPE_KINDS:
            methods.update(_body_methods(corpus.contents[i], spec))
            embedded.update(_body_names(corpus.contents[i], spec.embedded_line))
        elif len(segments) > 1 and segments[-2] == type_name:
            methods.add(segments[-1])
    for other in sorted(embedded - seen):
        seen.add(other)
        methods |= _methods_of(other, holding(other, corpus).tolist(), corpus, spec, seen)
    return methods


def _owners_of(method: str, corpus: Corpus, spec: LanguageSpec, stands_for: dict[str, int]) -> set[str]:
    """The types having ``method``: declared in their body, as their member, or on a receiver;
    each type's standing chunk is recorded in ``stands_for`` (its declaration wins)."""
    owners: set[str] = set()
    for i in holding(method, corpus).tolist():
        if corpus.languages[i] != spec.name or not corpus.symbols[i]:
            continue
        segments = symbol_path_segments(corpus.symbols[i])
        if corpus.kinds[i] in TYPE_KINDS:
            if method in _body_methods(corpus.contents[i], spec):
                owners.add(segments[-1])
                stands_for[segments[-1]] = i
            continue
        if segments[-1] != method:
            continue
        owner = owner_of(i, corpus, spec)
        if owner is not None:
            owners.add(owner)
            stands_for.setdefault(owner, _declaration(owner, corpus, spec) or i)
    return owners


def owner_of(i: int, corpus: Corpus, spec: LanguageSpec | None) -> str | None:
    """The type a member chunk is declared on: its symbol's owner (``Router.add``), else its
    receiver (Go's ``func (c *Context) Abort()``, whose symbol names no owner)."""
    segments = symbol_path_segments(corpus.symbols[i])
    if len(segments) > 1:
        return segments[-2]
    return _receiver(corpus.contents[i], spec) if spec is not None else None


def _declaration(type_name: str, corpus: Corpus, spec: LanguageSpec) -> int | None:
    return next(
        (
            i
            for i in corpus.by_symbol.get(type_name.lower(), ())  # keyed in lower case: Go's
            if corpus.languages[i] == spec.name  # `responseWriter` is not `ResponseWriter`
            and corpus.kinds[i] in TYPE_KINDS
            and symbol_path_segments(corpus.symbols[i])[-1] == type_name
        ),
        None,
    )


def _body_methods(content: str, spec: LanguageSpec) -> set[str]:
    """The methods declared in a type chunk's body (past its first line)."""
    return _body_names(content, spec.method_line)


def _body_names(content: str, line: re.Pattern[str] | None) -> set[str]:
    """The names ``line`` reads in a type chunk's body (past its first line)."""
    if line is None or "\n" not in content:
        return set()
    return {m.group("name") for m in at_line_starts(line).finditer(content, content.find("\n") + 1)}


def _receiver(content: str, spec: LanguageSpec) -> str | None:
    """The type a method is declared on outside its body (Go's ``func (c *Context) Abort()``)."""
    if spec.method_receiver is None:
        return None
    first = _FIRST_CODE.search(content)
    m = spec.method_receiver.match(first.group(0)) if first is not None else None
    return m.group("type") if m is not None else None


@functools.cache
def at_line_starts(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """``pattern`` read at every line's start (the data's patterns describe one line)."""
    return re.compile(pattern.pattern, pattern.flags | re.MULTILINE)
