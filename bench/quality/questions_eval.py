"""Suites ``defined``, ``uses``, ``implementations``, ``implemented``, ``overrides``, ``callees`` and
``tested``: a sentence asking for a name's definition, its uses, the types implementing it (or a
member of it), what it calls or its tests.

An editor's user or an agent asks in words what an IDE does with a key. Both suites are drawn
from the docs corpora's indexes, like ``symbols``:

- ``defined``: the names of the ``symbols`` suite (each defined in one file, the most used
  first), asked in a sentence ("where is Deque defined", "definition of Deque", "which file
  defines Deque", "where is the Deque struct declared", with the kind its definition chunk
  has) or as a name and its kind ("Deque struct", "struct Deque", "def parse"). The answer is
  that file, scored as ``symbols`` is.
- ``uses``: a name that one file defines (a function, method, type; 5 characters at least) and
  that 1 to 10 other chunks of the code use, asked as "who calls X", "callers of X", "where
  is X used", "usages of X", "find references to X". The answers are the chunks whose code
  holds the name as a word on a line that is no comment or import (the engine's own rule of
  what starts one: the answers are what the engine calls a use, so the suite checks that the
  sentence is read and those chunks ranked first; test, example and documentation files left
  out, the defining chunks too), scored by semble's NDCG@10 rule with one target per chunk.
- ``undefined``: a name the code uses but defines nowhere (a dependency's or the platform's
  class, constant or function, an environment variable: `EAGAIN`, `ByteBuffer`,
  `PY_SSIZE_T_CLEAN`), written as no English word is (a hump, two capitals in a row, or an
  underscore inside or in front; 5 characters at least), asked bare. No chunk of the code is
  named after it in any case, no file either (with or without its underscores), and none
  declares or re-exports it by the engine's own reading of a declaration (the names the engine
  thinks defined are the ``symbols`` suites'). The answers are the 1 to 10 chunks using it, as
  in ``uses``.
- ``implementations``: a type one file defines that 2 to 10 types of the code implement or
  extend, asked as "implementations of X", "which types implement X", "classes that extend X",
  "subclasses of X", "who implements X", "types implementing X". The answers are the type
  chunks whose declaration names it as a supertype, read here with each language's own syntax
  (``extends`` / ``implements`` / ``with``, ``: X`` after a type's name, Python's ``class
  Foo(X):``, Ruby's ``class Foo < X``, Rust's ``impl X for``, Haskell's ``instance X``), not
  with the engine's rule (the text after a type's name up to its body); scored like ``uses``.
- ``implemented``: "where is X implemented", which asks for a function's definition but for an
  interface's implementations. Up to 50 of the ``implementations`` suite's types that are
  abstract (an interface or trait by their chunk's kind, else a class declared ``abstract``, a
  Python ABC or Protocol or a class with an ``@abstractmethod``, a Haskell type class, read here
  with patterns of its own), answered by their implementations; and up to 50 functions and
  methods of the ``symbols`` suite, answered by their file.
- ``overrides``: a public method of a type of the ``implementations`` suite that its implementers
  define too (as their own member chunks, or inside their chunk), asked as "implementations of
  X.m", "overrides of X.m", "who overrides X.m"; the answers are those definitions.
- ``callees``: a function or method one file defines whose body calls 2 to 8 names that one
  definition each has (a function, method or class of the code, outside tests), asked as "what
  does X call", "callees of X", "functions called by X", "what is called by X". The answers
  are those definitions (their first piece where one is cut in several), scored like ``uses``.
- ``tested`` (the ``titles`` code bases, which hold their tests): a function, method or class the
  code defines in one file that 1 to 10 test chunks use, asked as "tests for X", "where is X
  tested", "which tests cover X", "X tests", "unit tests for X", "how is X tested". The
  answers are those test chunks (a test file's or a test block's), scored like ``uses``.

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
from lapce_ai.search.definitions import declares, reexports
from lapce_ai.search.engine import load_corpus
from lapce_ai.search.method_sets import TYPE_KINDS
from lapce_ai.search.name_questions import IMPORT_OR_COMMENT_LINE
from lapce_ai.search.path_priors import PROSE_LANGUAGES, path_penalized, stem_forms
from lapce_ai.search.tokenize import symbol_path_segments, symbol_segment

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
    "{name} {kind}",
    "{declares} {name}",
)
USES_FORMS = (
    "who calls {name}",
    "callers of {name}",
    "where is {name} used",
    "usages of {name}",
    "find references to {name}",
    "where is {name} called",
)
IMPLEMENTATIONS_FORMS = (
    "implementations of {name}",
    "which types implement {name}",
    "classes that extend {name}",
    "subclasses of {name}",
    "who implements {name}",
    "types implementing {name}",
)
MIN_IMPLEMENTATIONS = 2
OVERRIDES_FORMS = ("implementations of {name}", "overrides of {name}", "who overrides {name}")
IMPLEMENTED_PER_SIDE = 50
CALLEES_FORMS = ("what does {name} call", "callees of {name}", "functions called by {name}", "what is called by {name}")
MIN_CALLEES, MAX_CALLEES = 2, 8
TESTS_FORMS = (
    "tests for {name}",
    "where is {name} tested",
    "which tests cover {name}",
    "{name} tests",
    "unit tests for {name}",
    "how is {name} tested",
)
CALLABLE_KINDS = frozenset({"function", "method", "class"})
_CALL = re.compile(r"(?<![\w$])([A-Za-z_$][\w$]*)\s*\(")
_MODIFIERS = (
    r"(?:(?:public|private|protected|internal|open|abstract|final|sealed|data|static|partial|export|default|"
    r"inline|value|case|annotation|inner|fileprivate|indirect|readonly|ref|unsafe|pub(?:\([^)]*\))?)\s+)*"
)
# Each language's syntax for "this type implements / extends X" ({x}: the name).
_SUPERTYPE_SYNTAX = (
    # ... and Scala's and Dart's ``with`` after them; in a type's declaration (`? extends X` is a
    # wildcard)
    r"\b(?:class|interface|enum|record|object|trait|mixin)\s+[\w.]+[^{{;]*?\b(?:extends|implements)\s+[^{{;]*?"
    r"(?<![\w$]){x}(?![\w$])",
    r"^\s*" + _MODIFIERS + r"(?:class|struct|enum|interface|object|record|extension|actor|protocol|trait)\s+[\w.]+"
    r"(?:<[^>{{]*>)?\s*(?:\([^)]*\))?\s*:\s*[^{{;=]*?(?<![\w$]){x}(?![\w$])",
    r"^\s*class\s+\w+\s*\([^)]*(?<![\w$]){x}(?![\w$])[^)]*\)\s*:",
    r"^\s*class\s+[\w:]+\s*<\s*(?:[\w:]*::)?{x}(?![\w$])",
    r"^\s*(?:unsafe\s+)?impl\b[^{{]*?(?<![\w$]){x}(?![\w$])[^{{]*?\bfor\b",
    r"^\s*instance\s+(?:[^=]*=>\s*)?\(?{x}(?![\w$])",
    r"^\s*defimpl\s+{x}\b",
)
PYTHON_BASES = 2  # the place of Python's ``class Foo(Base):`` in _SUPERTYPE_SYNTAX
_CALL_ARGUMENTS = re.compile(r"(?<=[\w\]>])\([^()]*\)")
_KIND_WORDS = {"function": "function", "method": "method", "class": "class", "struct": "struct", "trait": "trait"}
# How a kind is declared, for "{declares} {name}" ("class Deque", "fn parse"): a word of each
# language's own where the kind has one, else the kind's name.
_DECLARES = {("function", "python"): "def", ("function", "rust"): "fn", ("function", "go"): "func"}
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
    languages: dict[str, str] = {}
    for symbol, kind, path, language in zip(corpus.symbols, corpus.kinds, corpus.paths, corpus.languages, strict=True):
        languages[path] = language
        if symbol:
            kinds.setdefault((symbol_segment(symbol), path), kind)
    out = []
    for i, q in enumerate(symbols_eval.queries(index)):
        form = DEFINITION_FORMS[i % len(DEFINITION_FORMS)]
        kind = _KIND_WORDS.get(kinds.get((q.query, q.path), ""), "type")
        declares = _DECLARES.get((kind, languages.get(q.path, "")), kind)
        out.append(docs_eval.DocQuery(form.format(name=q.query, kind=kind, declares=declares), q.path))
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
        # chunks named like it, in its own case: a `Dispose` method using `dispose` is a use
        same_name = {i for i in chunks_with.get(name, ()) if symbol_segment(corpus.symbols[i]) == name}
        users = [
            i
            for i in chunks_with.get(name, ())
            if i not in defining[name] and i not in same_name and _used_in_code(corpus.contents[i], name)
        ]
        if 1 <= len(users) <= MAX_USES:
            found.append(UsesQuery(name, tuple(_target(corpus, i) for i in users)))
    random.Random(SEED).shuffle(found)
    picked = sorted(found[:PER_LANGUAGE], key=lambda q: q.query)
    return _asked(USES_FORMS, picked)


# A name written as no English word is: a hump, two capitals in a row, an underscore inside or in front.
_CODE_SPELLING = re.compile(r"[a-z0-9][A-Z]|[A-Z]{2}|[A-Za-z0-9]_[A-Za-z0-9]|^_+[A-Za-z0-9]")


def undefined_queries(index: Path) -> list[UsesQuery]:
    corpus: Any = load_corpus(IndexStore.open(index))
    skipped = [
        path_penalized(p) or lang in PROSE_LANGUAGES for p, lang in zip(corpus.paths, corpus.languages, strict=True)
    ]
    chunks_with: dict[str, list[int]] = defaultdict(list)
    for i, content in enumerate(corpus.contents):
        for word in set(_WORD.findall(content)):
            chunks_with[word].append(i)
    named = {symbol_segment(symbol).lower() for symbol in corpus.symbols if symbol}
    found: list[UsesQuery] = []
    for name in sorted(chunks_with):
        held = chunks_with[name]
        if len(name) < MIN_NAME or not _CODE_SPELLING.search(name) or name.lower() in named or "$" in name:
            continue
        # A file's name (lodash's `_baseGetTag`, required by its users) is answered by the file; so
        # is a name spelled as a file's without its underscores (`JSON_POINTER`, `JsonPointer.java`).
        if any(corpus.by_stem.get(form) for form in stem_forms(name)):
            continue
        users = [i for i in held if not skipped[i] and _used_in_code(corpus.contents[i], name)]
        if not 1 <= len(users) <= MAX_USES:
            continue
        if any(declares(corpus.contents[i], name) or reexports(corpus.contents[i], name) for i in held):
            continue
        found.append(UsesQuery(name, tuple(_target(corpus, i) for i in users)))
    random.Random(SEED).shuffle(found)
    return sorted(found[:PER_LANGUAGE], key=lambda q: q.query)


def _asked(forms: tuple[str, ...], picked: list[UsesQuery]) -> list[UsesQuery]:
    """Each picked name (its query) asked in the forms in turn, its answers kept."""
    return [UsesQuery(forms[i % len(forms)].format(name=q.query), q.targets) for i, q in enumerate(picked)]


def _target(corpus: Any, i: int) -> tuple[str, int, int]:
    return corpus.paths[i], int(corpus.start_lines[i]), int(corpus.end_lines[i])


def _used_in_code(content: str, name: str) -> bool:
    word = re.compile(r"(?<![\w$])" + re.escape(name) + r"(?![\w$])")
    return any(word.search(line) and not IMPORT_OR_COMMENT_LINE.match(line) for line in content.splitlines())


def implementations_queries(index: Path) -> list[UsesQuery]:
    return _asked(IMPLEMENTATIONS_FORMS, _implemented_types(load_corpus(IndexStore.open(index))))


def implemented_queries(index: Path) -> list[Any]:
    """ "where is X implemented": of an abstract type (an interface or trait, a class declared
    ``abstract`` or an ABC / Protocol, read here with its own rule), answered by its
    implementations; of a function or method the ``defined`` suite asks for, by its file."""
    corpus: Any = load_corpus(IndexStore.open(index))
    abstract = [q for q in _implemented_types(corpus) if _abstract_here(corpus, q.query)]
    kinds = {(symbol_segment(s), p): k for s, k, p in zip(corpus.symbols, corpus.kinds, corpus.paths, strict=True) if s}
    functions = [q for q in symbols_eval.queries(index) if kinds.get((q.query, q.path)) in {"function", "method"}]
    form = "where is {name} implemented"
    return [UsesQuery(form.format(name=q.query), q.targets) for q in abstract[:IMPLEMENTED_PER_SIDE]] + [
        docs_eval.DocQuery(form.format(name=q.query), q.path) for q in functions[:IMPLEMENTED_PER_SIDE]
    ]


def _abstract_here(corpus: Any, name: str) -> bool:
    x = re.escape(name)
    declared = re.compile(
        rf"\babstract\b[^\n{{]*\bclass\s+{x}\b|^\s*class\s+{x}\s*\([^)]*\b(?:ABC|ABCMeta|Protocol)\b", re.MULTILINE
    )
    type_class = re.compile(rf"^class\s+(?:[^=\n]*=>\s*)?{x}\b", re.MULTILINE)  # Haskell's
    abstract_method = re.compile(r"^\s*@(?:abc\.)?abstract(?:method|property)\b", re.MULTILINE)  # Python's
    for symbol, kind, content, language in zip(
        corpus.symbols, corpus.kinds, corpus.contents, corpus.languages, strict=True
    ):
        segments = symbol_path_segments(symbol)
        if not segments or name not in segments[-2:]:
            continue
        own = segments[-1] == name and kind in TYPE_KINDS  # the type's chunk, else one of its members'
        header = type_class if language == "haskell" else declared
        if own and (kind in {"interface", "trait"} or header.search(content)):
            return True
        if language == "python" and (own or segments[-2:-1] == [name]) and abstract_method.search(content):
            return True
    return False


def _implemented_types(corpus: Any) -> list[UsesQuery]:
    """Up to ``PER_LANGUAGE`` types with 2 to 10 implementers, each asked by its bare name."""
    return [UsesQuery(name, tuple(_target(corpus, i) for i in chunks)) for name, chunks in _implementers(corpus)]


def _implementers(corpus: Any) -> list[tuple[str, list[int]]]:
    """Up to ``PER_LANGUAGE`` types with 2 to 10 implementers (read with each language's
    supertype syntax), with the chunks declaring them, by name."""
    defined_in: dict[str, set[str]] = defaultdict(set)
    types: set[str] = set()
    for symbol, kind, path in zip(corpus.symbols, corpus.kinds, corpus.paths, strict=True):
        if symbol:
            name = symbol_segment(symbol)
            defined_in[name].add(path)
            if kind in TYPE_KINDS - {"impl"} and not path_penalized(path):
                types.add(name)
    candidates = [
        i
        for i, kind in enumerate(corpus.kinds)
        if kind in TYPE_KINDS and not path_penalized(corpus.paths[i]) and corpus.languages[i] not in PROSE_LANGUAGES
    ]
    found: list[tuple[str, list[int]]] = []
    for name in sorted(types):
        if len(name) < 4 or not _WORD.fullmatch(name) or len(defined_in[name]) != 1:
            continue
        syntax = [re.compile(f.format(x=re.escape(name))) for f in _SUPERTYPE_SYNTAX]
        implementing = [
            i
            for i in candidates
            if name in corpus.contents[i]
            and symbol_segment(corpus.symbols[i]) != name
            and _declares_supertype(corpus.contents[i], syntax)
        ]
        if MIN_IMPLEMENTATIONS <= len(implementing) <= MAX_USES:
            found.append((name, implementing))
    random.Random(SEED).shuffle(found)
    return sorted(found[:PER_LANGUAGE])


def overrides_queries(index: Path) -> list[UsesQuery]:
    """A public method of a type of the ``implementations`` suite that its implementers define
    too, asked as "implementations of X.m", "overrides of X.m", "who overrides X.m"; the
    answers are their definitions of it (their member chunks, or the implementer's own chunk
    where it holds ``m(`` and was not cut into members)."""
    corpus: Any = load_corpus(IndexStore.open(index))
    members: dict[tuple[str, str], list[int]] = defaultdict(list)  # (owner, method) -> its chunks
    for i, symbol in enumerate(corpus.symbols):
        segments = symbol_path_segments(symbol)
        if len(segments) > 1 and corpus.kinds[i] not in TYPE_KINDS:
            members[(segments[-2], segments[-1])].append(i)
    declared: dict[str, set[str]] = defaultdict(set)
    for owner, method in members:
        declared[owner].add(method)
    found: list[UsesQuery] = []
    for name, implementing in _implementers(corpus):
        for method in sorted(declared.get(name, ())):
            if method.startswith("_") or method == name or not _WORD.fullmatch(method):
                continue
            call = re.compile(r"(?<![\w$])" + re.escape(method) + r"\s*\(")
            answers: list[int] = []
            for i in implementing:
                own = members.get((symbol_segment(corpus.symbols[i]), method))
                answers.extend(own or ([i] if call.search(corpus.contents[i]) else []))
            if answers:
                found.append(UsesQuery(f"{name}.{method}", tuple(_target(corpus, i) for i in answers)))
    random.Random(SEED).shuffle(found)
    picked = sorted(found[:PER_LANGUAGE], key=lambda q: q.query)
    return _asked(OVERRIDES_FORMS, picked)


def _continues(text: str) -> bool:
    """Whether a declaration goes on on the next line: a parenthesis is open, or its body (``{``),
    end (``;``) or Python's colon has not come yet."""
    return text.count("(") > text.count(")") or not re.search(r"[{;=]|:\s*$", text)


def _declares_supertype(content: str, syntax: list[re.Pattern[str]]) -> bool:
    """Whether a declaration in ``content`` names the type as a supertype: read from a line that
    is no comment, with the lines after it while it goes on (a wrapped declaration)."""
    lines = content.splitlines()
    for n, line in enumerate(lines):
        if IMPORT_OR_COMMENT_LINE.match(line):
            continue
        text, more = line, iter(lines[n + 1 : n + 8])
        while _continues(text) and (following := next(more, None)) is not None and following.strip():
            text += " " + following
        # A call's arguments (`extends Delegate[Buffer](ArrayBuffer)`, `: Table(name)`) name no
        # supertype; Python's bases are read before they go.
        called = _CALL_ARGUMENTS.sub("()", text)
        if syntax[PYTHON_BASES].search(text) or any(form.search(called) for form in syntax):
            return True
    return False


def callees_queries(index: Path) -> list[UsesQuery]:
    corpus: Any = load_corpus(IndexStore.open(index))
    pieces: dict[str, dict[tuple[str, str], int]] = defaultdict(dict)  # name -> (path, symbol) -> first chunk
    every_piece: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, symbol in enumerate(corpus.symbols):
        if symbol and corpus.kinds[i] in CALLABLE_KINDS | {"test"}:
            key = (corpus.paths[i], symbol)
            every_piece[key].append(i)
            first = pieces[symbol_segment(symbol)].get(key)
            if first is None or corpus.start_lines[i] < corpus.start_lines[first]:
                pieces[symbol_segment(symbol)][key] = i
    found: list[UsesQuery] = []
    for name in sorted(pieces):
        if len(pieces[name]) != 1 or len(name) < MIN_NAME or not _WORD.fullmatch(name):
            continue
        (key, caller), *_ = pieces[name].items()
        if corpus.kinds[caller] == "class" or path_penalized(corpus.paths[caller]):
            continue
        # every piece of it, its declaration's own line left out
        body = "\n".join(corpus.contents[i] for i in sorted(every_piece[key])).split("\n", 1)[-1]
        called = {
            m.group(1)
            for line in body.splitlines()
            if not IMPORT_OR_COMMENT_LINE.match(line)
            for m in _CALL.finditer(line)
        }
        targets = [
            _target(corpus, next(iter(pieces[c].values())))
            for c in sorted(called - {name})
            if len(pieces.get(c, {})) == 1
            and not path_penalized(next(iter(pieces[c]))[0])
            and corpus.kinds[next(iter(pieces[c].values()))] != "test"
        ]
        if MIN_CALLEES <= len(targets) <= MAX_CALLEES:
            found.append(UsesQuery(name, tuple(targets)))
    random.Random(SEED).shuffle(found)
    picked = sorted(found[:PER_LANGUAGE], key=lambda q: q.query)
    return _asked(CALLEES_FORMS, picked)


def tests_queries(index: Path) -> list[UsesQuery]:
    corpus: Any = load_corpus(IndexStore.open(index))
    is_test = [path_penalized(p) or k == "test" for p, k in zip(corpus.paths, corpus.kinds, strict=True)]
    defined_in: dict[str, set[str]] = defaultdict(set)
    for i, symbol in enumerate(corpus.symbols):
        if symbol and corpus.kinds[i] in CALLABLE_KINDS | {"test"}:
            defined_in[symbol_segment(symbol)].add(corpus.paths[i])
    chunks_with: dict[str, list[int]] = defaultdict(list)
    for i, content in enumerate(corpus.contents):
        if is_test[i]:
            for word in set(_WORD.findall(content)):
                chunks_with[word].append(i)
    found: list[UsesQuery] = []
    for name in sorted(defined_in):
        paths = defined_in[name]
        if len(name) < MIN_NAME or not _WORD.fullmatch(name) or len(paths) != 1 or path_penalized(next(iter(paths))):
            continue
        tests = [i for i in chunks_with.get(name, ()) if _used_in_code(corpus.contents[i], name)]
        if 1 <= len(tests) <= MAX_USES:
            found.append(UsesQuery(name, tuple(_target(corpus, i) for i in tests)))
    random.Random(SEED).shuffle(found)
    picked = sorted(found[:PER_LANGUAGE], key=lambda q: q.query)
    return _asked(TESTS_FORMS, picked)
