"""Query analysis: what kind of query this is, and what it names.

A bare identifier (``HTTPException``, ``Rack::Response``, ``add_route``, or a lower-case word
this code base defines) is a *symbol query*; anything else is a *natural-language query*,
either a *question* ("how are routes registered?") or a description ("multipart form data
parsing"). A query may also name files (``router.go``), a module (``routing.Router``), a line
(a stack frame), tests (as a runner prints them) or, in a sentence, a name's uses,
implementations, callees or tests (``search.name_questions``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lapce_ai.search.corpus import Corpus
from lapce_ai.search.locations import located_chunks, named_test
from lapce_ai.search.name_questions import (
    CALLEES,
    DEFINITION,
    IMPLEMENTATIONS,
    TESTS,
    USES,
    NameQuestion,
    called_chunks,
    implementing_chunks,
    name_question,
    using_chunks,
)
from lapce_ai.search.named_files import mentioned_files, module_files, named_files
from lapce_ai.search.path_priors import chunks_in_tests, name_like, prose_chunks
from lapce_ai.search.test_titles import named_tests
from lapce_ai.search.tokenize import QUERY_STOPWORDS, identifier_parts, last_segment, qualifier_of

_QUALIFIED = r"[A-Za-z_$][A-Za-z0-9_$]*(?:(?:::|:|\\|->|\.|#)[A-Za-z_$][A-Za-z0-9_$]*)+"
_SYMBOL_QUERY = re.compile(
    r"^(?:" + _QUALIFIED + r"|_[A-Za-z0-9_]*|[A-Za-z][A-Za-z0-9]*[A-Z_][A-Za-z0-9_]*|[A-Z][A-Za-z0-9]*)(?:\(\))?$"
)
_EMBEDDED = re.compile(
    r"`([^`]{1,80})`"
    r"|\b(" + _QUALIFIED + r")"
    r"|\b([A-Z][a-z0-9]+[A-Z][A-Za-z0-9]*|[a-z][a-z0-9]*[A-Z][A-Za-z0-9]*|[A-Za-z][A-Za-z0-9]*_[A-Za-z0-9_]+)\b"
)
_ARITY = re.compile(r"(?<=[A-Za-z0-9_?!])/\d+$")
# How a name is written where it is used, not declared: a PHP/Perl variable `$router`, an
# annotation `@Override`, a member `->send`, a Rust macro `vec!`, a generic `Vec<T>`.
_USE_MARKS = re.compile(r"^(?:\$|@|->)(?=[A-Za-z_])|(?<=[A-Za-z0-9_])(?:!|<[^<>]*>)$")


QUESTION_WORDS = frozenset({"how", "where", "what", "which", "why", "when", "who"})


@dataclass(frozen=True)
class QueryInfo:
    text: str
    is_symbol: bool
    is_question: bool  # "how are routes registered?", not a description ("multipart form parsing")
    symbols: tuple[str, ...]  # identifiers the user named (last segment, original case)
    keywords: tuple[str, ...]  # lower-case content words for file-name matching
    files: tuple[int, ...] = ()  # files the query names by path ("router.go", "routing/mod.rs")
    mentioned: tuple[int, ...] = ()  # files a sentence mentions ("how does Abort work in context.go")
    scope: tuple[int, ...] = ()  # files a qualified name's module names (axum::routing::Router)
    owner: str = ""  # what a qualified name is a member of: `Deque` of `Deque.prepend`
    # chunks holding a line it places in a file (a stack frame, `mod.rs:42`), with their share of the boost
    located: tuple[tuple[int, float], ...] = ()
    # test blocks it names as a runner prints a failure (`Router > adds a route`), with the
    # share of its words their title paths hold
    tests: tuple[tuple[int, float], ...] = ()
    # what a sentence asks for by a name, with their shares (search.name_questions): the chunks
    # using it ("who calls cleanPath"), the types implementing it ("subclasses of Base"), the
    # definitions of what it calls ("what does serve call"), the tests using it ("tests for X")
    answers: tuple[tuple[int, float], ...] = ()


def analyze(query: str, corpus: Corpus | None = None) -> QueryInfo:
    q = query.strip()
    asked = name_question(q, corpus)
    answers = _answers(asked, corpus) if asked is not None and asked.wants != DEFINITION and corpus is not None else ()
    if asked is not None and asked.or_definition and not answers:  # an interface nothing implements here
        asked = NameQuestion(asked.name, DEFINITION)
    # "where is cleanPath defined" is the name's symbol query; "who calls cleanPath" a sentence
    # whose answer is the chunks using it.
    asked_name = asked.name if asked is not None and asked.wants == DEFINITION else None
    named = named_files(asked_name or q, corpus) if corpus is not None else None
    located = located_chunks(q, corpus) if corpus is not None and any(c.isdigit() for c in q) else ()
    name = _USE_MARKS.sub("", _ARITY.sub("", asked_name or q))  # _ARITY: Elixir's and Erlang's scope/2
    is_symbol = asked_name is not None or bool(_SYMBOL_QUERY.match(name))
    if not is_symbol and corpus is not None and re.fullmatch(r"[a-z][a-z0-9]*", name) and name in corpus.by_symbol:
        is_symbol = True  # a lower-case word that names a definition in this code base
    symbols: list[str] = []
    if is_symbol:
        symbols.append(last_segment(name))
    else:
        for m in _EMBEDDED.finditer(q):
            raw = next(g for g in m.groups() if g)
            embedded = last_segment(raw.strip())
            if re.fullmatch(r"[A-Za-z_$][A-Za-z0-9_$]*", embedded) and embedded.lower() not in QUERY_STOPWORDS:
                symbols.append(embedded)
    words = re.findall(r"[A-Za-z][A-Za-z0-9]*", q)
    keywords = tuple(
        dict.fromkeys(p for w in words for p in identifier_parts(w) if name_like(p) and p not in QUERY_STOPWORDS)
    )
    first = words[0].lower() if words else ""
    is_question = not is_symbol and (first in QUESTION_WORDS or q.endswith("?"))
    node = named_test(q, corpus) if corpus is not None and "::" in q else None
    if node is not None:  # `FAILED tests/test_app.py::TestRouter::test_add`: that file's definition
        files, names = node
        owner = names[-2] if len(names) > 1 else ""
        return QueryInfo(q, True, False, (names[-1],), keywords, files, owner=owner, located=located)
    if named is not None and named.by_path:  # `router.go` is a file, not the member `go` of `router`
        return QueryInfo(q, False, False, (), keywords, named.files, located=located)
    files = named.files if named is not None else ()  # `Rack::Response`: a module and a class
    mentioned = mentioned_files(q, corpus) if corpus is not None and named is None and " " in q else ()
    scope: tuple[int, ...] = ()
    qualifier = qualifier_of(name) if is_symbol else ""
    if qualifier and not files and corpus is not None:  # `starlette.routing.Router`: in routing.py
        scope = module_files(qualifier, corpus)
    owner = last_segment(qualifier) if qualifier else ""
    symbols_named = tuple(dict.fromkeys(symbols))
    tests = tuple(named_tests(q, corpus, sentences_only=is_symbol).items()) if corpus is not None else ()
    return QueryInfo(
        q,
        is_symbol,
        is_question,
        symbols_named,
        keywords,
        files,
        mentioned=mentioned,
        scope=scope,
        owner=owner,
        located=located,
        tests=tests,
        answers=answers,
    )


# Share of a use in a test file: a caller all the same, after the code's own.
TEST_USE = 0.5
_ANSWERS = {USES: using_chunks, IMPLEMENTATIONS: implementing_chunks, CALLEES: called_chunks}


def _answers(asked: NameQuestion, corpus: Corpus) -> tuple[tuple[int, float], ...]:
    """The chunks a uses, implementations, callees or tests question names, with their shares: a
    test's at half (but for a tests question, which takes only tests), a changelog's none."""
    if asked.wants == TESTS:
        tests = corpus.derived("test_chunks", chunks_in_tests)
        return tuple(using_chunks(asked.name, corpus, within=tests).items())
    return _weighed(_ANSWERS[asked.wants](asked.name, corpus), corpus)


def use_answers(name: str, corpus: Corpus) -> tuple[tuple[int, float], ...]:
    """The chunks using ``name``, as a uses question's answers."""
    return _weighed(using_chunks(name, corpus), corpus)


def _weighed(found: dict[int, float], corpus: Corpus) -> tuple[tuple[int, float], ...]:
    tests = corpus.derived("test_chunks", chunks_in_tests)
    prose = corpus.derived("prose_chunks", prose_chunks)
    return tuple((i, share * (TEST_USE if tests[i] else 1.0)) for i, share in found.items() if not prose[i])
