"""Types that implement an interface by having its methods, naming it nowhere.

A Go type implements every interface whose methods it has; a Python class matches a
``typing.Protocol`` the same way. No declaration says so, so an implementations question
("implementations of Render") compares method sets. What a language writes is data
(``languages.toml``): the declaration of such an interface (``structural_declaration``), a
method declared inside a type's body (``method_line``) and Go's methods declared on a receiver
outside it (``method_receiver``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from lapce_ai.parsing.languages import LanguageSpec, all_languages
from lapce_ai.search.corpus import Corpus
from lapce_ai.search.tokenize import symbol_path_segments

# Kinds of chunk that declare a type (what can implement or extend another).
TYPE_KINDS = frozenset({"class", "struct", "interface", "impl", "trait", "enum", "type"})
# A line that is no code: what precedes a receiver or a method (comments, decorators).
_NOT_CODE = re.compile(r"^\s*(?:#|//|/\*|\*|@|$)")


@dataclass(frozen=True)
class _MethodSets:
    interfaces: frozenset[str]  # types declared as interfaces implemented by their methods
    methods: dict[str, set[str]]  # type -> the methods it has
    stands_for: dict[str, int]  # type -> its declaration's chunk, else its first member's


def having_the_methods(interface: str, corpus: Corpus) -> list[int]:
    """The chunks standing for the types that have every public method of ``interface``, where
    ``interface`` is declared as implemented by its methods (Go's interfaces, Python's
    ``Protocol`` classes). An embedded or inherited interface's methods are not followed."""
    found: dict[int, None] = {}
    languages = {corpus.languages[i] for i in corpus.by_symbol.get(interface.lower(), ())}
    for language in sorted(languages):
        spec = all_languages().get(language)
        if spec is None or spec.structural_declaration is None or spec.method_line is None:
            continue
        sets = corpus.derived(f"method_sets:{language}", functools.partial(_method_sets, spec=spec))
        wanted = {m for m in sets.methods.get(interface, ()) if not m.startswith("_")}
        if interface not in sets.interfaces or not wanted:
            continue
        for name, has in sets.methods.items():
            if name != interface and wanted <= has and name in sets.stands_for:
                found[sets.stands_for[name]] = None
    return list(found)


def _method_sets(corpus: Corpus, spec: LanguageSpec) -> _MethodSets:
    interfaces: set[str] = set()
    methods: dict[str, set[str]] = {}
    declared: dict[str, int] = {}
    first_member: dict[str, int] = {}
    for i, language in enumerate(corpus.languages):
        symbol = corpus.symbols[i]
        if language != spec.name or not symbol:
            continue
        segments = symbol_path_segments(symbol)
        lines = corpus.contents[i].splitlines()
        if spec.structural_declaration is not None:
            interfaces.update(m.group("name") for line in lines if (m := spec.structural_declaration.match(line)))
        if corpus.kinds[i] in TYPE_KINDS:
            name = segments[-1]
            declared.setdefault(name, i)
            if spec.method_line is not None:  # methods declared in its body (an interface's, a small class's)
                body = [m.group("name") for line in lines[1:] if (m := spec.method_line.match(line))]
                methods.setdefault(name, set()).update(body)
            continue
        owner = segments[-2] if len(segments) > 1 else _receiver(lines, spec)
        if owner is not None:
            methods.setdefault(owner, set()).add(segments[-1])
            first_member.setdefault(owner, i)
    return _MethodSets(frozenset(interfaces), methods, first_member | declared)


def _receiver(lines: list[str], spec: LanguageSpec) -> str | None:
    """The type a method is declared on outside its body (Go's ``func (c *Context) Abort()``)."""
    if spec.method_receiver is None:
        return None
    first = next((line for line in lines if not _NOT_CODE.match(line)), "")
    m = spec.method_receiver.match(first)
    return m.group("type") if m is not None else None
