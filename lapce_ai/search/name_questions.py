"""A sentence asking for a name's definition, uses, implementations, callees or tests.

Editors and agents ask in words what an IDE does with a key: "where is cleanPath defined",
"definition of `Router.add_route`" go to a definition; "who calls cleanPath", "where is Abort
used", "find references to ParseError" find its uses; "implementations of Handler", "subclasses
of Base" its implementations, and so does "where is Handler implemented" where Handler is an
interface, a trait or an abstract class (of a function, it asks for its definition);
"implementations of Handler.serve", "who overrides Handler.serve" the implementers' serve; "what
does serve call" its callees; "tests for cleanPath", "where is Abort tested" the tests using it.
Read as a description, such a sentence is a bag of words: the definition competes with every
chunk sharing ``where`` and ``defined``'s neighbours, and the uses with the definition itself,
which holds the name best of all.

A definition question is answered as the bare name is (a symbol query). The others name their
answers, the name's definition left out: the chunks whose code holds the name (a call, a
reference, a type in a signature fully; a mention in an import or a comment half), the types
whose declaration names it as a supertype, the definitions of what its body calls, the tests
whose code holds it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from lapce_ai.parsing.languages import all_languages
from lapce_ai.search.corpus import Corpus
from lapce_ai.search.method_sets import TYPE_KINDS, at_line_starts, having_the_methods, holding, owner_of
from lapce_ai.search.tokenize import last_segment, qualifier_of, symbol_name, symbol_path_segments, symbol_segment

DEFINITION = "definition"
USES = "uses"
IMPLEMENTATIONS = "implementations"
CALLEES = "callees"
TESTS = "tests"
MAX_CALLEE_DEFINITIONS = 4  # a callee defined more often (`get`, `close`) is too common to tell which
HEADER_LINES = 6  # a declaration's lines read for its supertypes (generics and bounds may wrap)
MAX_USES = 200  # chunks read for a name used everywhere: the ones holding it most, by BM25
IMPORT_OR_COMMENT = 0.5  # share of a chunk naming the name only in an import or a comment
# Kinds of type that others implement: "where is Handler implemented" asks for its
# implementations where Handler is one of them (or declared abstract), its definition otherwise.
ABSTRACT_KINDS = frozenset({"interface", "trait"})

_NAME = r"`?(?P<name>[A-Za-z_$][\w$]*(?:(?:::|\.|#|->|:)[A-Za-z_$][\w$]*)*)(?:\(\))?`?"
# The kinds a question may name a definition by ("the Router class", "func cleanPath").
KIND_WORDS = (
    "class struct function func fn method type interface trait enum module macro constant const "
    "variable var constructor field property protocol record object namespace package typedef alias"
).split()
_KIND = "(?:" + "|".join(KIND_WORDS) + ")"
_THE = r"(?:the\s+)?"
_DECLARES = rf"(?:{_KIND}|def|defp|defmodule|defmacro|fun|sub|proc|data|newtype|impl)"
_TAIL = r"(?:[\s?.!,;:].*)?$"  # "... in the router", "?"; the rest of the sentence still ranks as words
_DEFINITION_FORMS = [
    rf"^where\s+(?:is|are)\s+{_THE}{_NAME}(?:\s+{_KIND})?\s+(?:defined|declared|implemented|located){_TAIL}",
    rf"^where\s+(?:do|does|did)\s+(?:\w+\s+)?(?:define|declare|implement)\s+{_THE}{_NAME}(?:\s+{_KIND})?{_TAIL}",
    rf"^(?:(?:find|show|open|go\s+to|jump\s+to|goto)\s+)?{_THE}(?:definition|declaration|source)\s+(?:of|for)\s+"
    rf"{_THE}(?:{_KIND}\s+)?{_NAME}(?:\s+{_KIND})?{_TAIL}",
    rf"^(?:which|what)\s+file\s+(?:defines|declares|implements|holds|contains)\s+{_THE}(?:{_KIND}\s+)?{_NAME}{_TAIL}",
    rf"^{_NAME}\s+(?:definition|declaration){_TAIL}",
    rf"^where\s+(?:is|are)\s+{_THE}{_NAME}(?:\s+{_KIND})?\s*\??$",
    # A name and its kind, either way round, as a declaration is written: "Context struct",
    # "the Negotiate method", "func cleanPath", "class Router", "type Context struct".
    rf"^{_THE}{_NAME}\s+{_KIND}\s*\??$",
    rf"^{_THE}{_DECLARES}\s+{_NAME}(?:\s+(?:struct|interface|class|trait|enum))?\s*[{{(:]?\s*$",
]
_USES_FORMS = [
    rf"^(?:(?:find|show|list|get)\s+)?(?:all\s+)?{_THE}(?:callers|usages|uses|references|call\s*sites|call-sites|"
    rf"invocations|consumers|users|importers)\s+(?:of|to|for)\s+{_THE}(?:{_KIND}\s+)?{_NAME}{_TAIL}",
    rf"^(?:who|what|which\s+\w+)\s+(?:calls|uses|invokes|references|instantiates|imports|constructs|raises|throws)\s+"
    rf"{_THE}(?:{_KIND}\s+)?{_NAME}{_TAIL}",
    rf"^where\s+(?:is|are|was|were)\s+{_THE}{_NAME}(?:\s+{_KIND})?\s+(?:called|used|invoked|referenced|instantiated|"
    rf"imported|raised|thrown|constructed|read|set|assigned){_TAIL}",
    rf"^where\s+(?:do|does|did)\s+(?:\w+\s+)?(?:call|use|invoke|reference|instantiate|import|raise|throw|construct)\s+"
    rf"{_THE}(?:{_KIND}\s+)?{_NAME}{_TAIL}",
    # "how is X used", "how do I use X", "examples of X": its uses show it.
    rf"^how\s+(?:is|are)\s+{_THE}{_NAME}(?:\s+{_KIND})?\s+(?:used|called|invoked|instantiated){_TAIL}",
    rf"^how\s+(?:do|does|can|should)\s+(?:i|we|you|one)\s+(?:use|call|invoke)\s+{_THE}(?:{_KIND}\s+)?{_NAME}{_TAIL}",
    rf"^(?:(?:show|find|list|give)\s+(?:me\s+)?)?(?:some\s+)?(?:usage\s+)?examples\s+(?:of|for)\s+(?:using\s+)?{_THE}"
    rf"(?:{_KIND}\s+)?{_NAME}{_TAIL}",
    # Alone: in a sentence, "Checks uses of undeclared globals" and "Router uses a trie" say
    # something else (where "definition" after a name is a noun only).
    rf"^{_NAME}\s+(?:callers|usages|uses|references|call\s*sites)\s*\??$",
]
_EXTENDS = r"(?:implement|extend|inherit\s+from|subclass|conform\s+to|derive\s+from|override)"
_IMPLEMENTATIONS_FORMS = [
    rf"^(?:(?:find|show|list|get)\s+)?(?:all\s+)?{_THE}(?:implementations|implementors|implementers|impls|subclasses|"
    rf"subtypes|derived\s+(?:classes|types)|child\s+classes|overrides)\s+(?:of|for)\s+{_THE}(?:{_KIND}\s+)?{_NAME}{_TAIL}",
    rf"^(?:who|what|which(?:\s+\w+)?)\s+{_EXTENDS}s?\s+{_THE}(?:{_KIND}\s+)?{_NAME}{_TAIL}",
    rf"^(?:(?:find|show|list)\s+)?(?:all\s+)?(?:the\s+)?(?:classes|types|structs|objects|impls)\s+(?:that|which)\s+{_EXTENDS}\s+"
    rf"{_THE}(?:{_KIND}\s+)?{_NAME}{_TAIL}",
    rf"^(?:(?:find|show|list)\s+)?(?:all\s+)?(?:the\s+)?(?:classes|types|structs|objects)\s+(?:implementing|extending|"
    rf"inheriting\s+from|subclassing|conforming\s+to|deriving\s+from|overriding)\s+{_THE}(?:{_KIND}\s+)?{_NAME}{_TAIL}",
    rf"^{_NAME}\s+(?:implementations|implementors|implementers|impls|subclasses|overrides)\s*\??$",
    rf"^where\s+(?:is|are)\s+{_THE}{_NAME}(?:\s+{_KIND})?\s+(?:overridden|overriden|subclassed|extended|inherited\s+from)"
    rf"{_TAIL}",
]
_CALLEES_FORMS = [
    rf"^what\s+(?:functions\s+|methods\s+)?(?:does|do|did)\s+{_THE}{_NAME}(?:\s+{_KIND})?\s+(?:call|invoke)\s*\??$",
    rf"^(?:(?:find|show|list)\s+)?(?:all\s+)?{_THE}(?:callees|functions\s+called|methods\s+called|calls\s+made)\s+"
    rf"(?:of|by|from|in)\s+{_THE}(?:{_KIND}\s+)?{_NAME}{_TAIL}",
    rf"^what\s+(?:is|gets)\s+called\s+(?:by|from|in)\s+{_THE}(?:{_KIND}\s+)?{_NAME}{_TAIL}",
    rf"^{_NAME}\s+callees\s*\??$",
]
_TESTS_FORMS = [
    rf"^(?:(?:find|show|list)\s+)?(?:all\s+)?{_THE}(?:unit\s+|integration\s+)?(?:tests|specs|test\s+cases)\s+"
    rf"(?:for|of|covering|that\s+cover|exercising|on)\s+{_THE}(?:{_KIND}\s+)?{_NAME}{_TAIL}",
    rf"^(?:where|how)\s+(?:is|are)\s+{_THE}{_NAME}(?:\s+{_KIND})?\s+tested{_TAIL}",
    rf"^(?:which|what)\s+(?:tests?|specs?)\s+(?:covers?|exercises?|calls?|uses?|checks?)\s+{_THE}(?:{_KIND}\s+)?"
    rf"{_NAME}{_TAIL}",
    rf"^{_NAME}\s+(?:tests|specs|test\s+cases)\s*\??$",
]
# "An implementation of InputAwareInterface for helpers", "a subclass of Buffer that ...": what a
# docstring says of its own code, and asked of an abstract type, its implementations; of
# anything else ("Implementation of the UUencode functions") a description.
_ABSTRACT_ONLY = "implementations of an abstract type"
_SINGULAR_IMPLEMENTATION_FORMS = [
    rf"^(?:an?\s+|the\s+)?(?:implementation|subclass|implementor|implementer)\s+(?:of|for)\s+{_THE}"
    rf"(?:{_KIND}\s+)?{_NAME}{_TAIL}",
]
# Plurals only, but for abstract types: "Reference to a frame" is what a docstring says of its own
# code.
_FORMS = (
    [(re.compile(f, re.IGNORECASE), DEFINITION) for f in _DEFINITION_FORMS]
    + [(re.compile(f, re.IGNORECASE), IMPLEMENTATIONS) for f in _IMPLEMENTATIONS_FORMS]
    + [(re.compile(f, re.IGNORECASE), _ABSTRACT_ONLY) for f in _SINGULAR_IMPLEMENTATION_FORMS]
    + [(re.compile(f, re.IGNORECASE), CALLEES) for f in _CALLEES_FORMS]
    + [(re.compile(f, re.IGNORECASE), TESTS) for f in _TESTS_FORMS]
    + [(re.compile(f, re.IGNORECASE), USES) for f in _USES_FORMS]
)
# A name that looks like code whatever the corpus holds: qualified, camelCase, snake_case, `$x`.
_CODE_SHAPED = re.compile(r"[.:#>$_]|[a-z][A-Z]|[A-Z].*[A-Z]")
# How a line that imports or comments starts (what precedes a name on its line).
IMPORT_OR_COMMENT_LINE = re.compile(
    r"^\s*(?:(?:import|from|use|using|require|require_relative|include|extern\s+crate)(?![\w$])"
    r"|#|//|/\*|\*(?:\s|$)|--|;|%|'''|\"\"\")"
)


_CALL = re.compile(r"(?<![\w$])([A-Za-z_$][\w$]*)\s*\(")
# Declarations naming the implemented type before the implementing one.
_TRAIT_FIRST = re.compile(r"^\s*(?:unsafe\s+)?(?:impl|instance|defimpl)\b")
_BODY = re.compile(r"\{|(?<![\w$])where(?![\w$])|:\s*$|=\s*$")  # where a declaration's body starts
_IMPLEMENTED = re.compile(r"implement", re.IGNORECASE)


@dataclass(frozen=True)
class NameQuestion:
    name: str  # as written, qualified or not (`Router.add_route`)
    wants: str  # DEFINITION, USES, IMPLEMENTATIONS, CALLEES or TESTS
    # "where is Handler implemented" of an interface: its implementations, else its definition
    or_definition: bool = False


def name_question(query: str, corpus: Corpus | None) -> NameQuestion | None:
    """What the sentence asks about a name, or None. The name must look like code (`cleanPath`,
    `add_route`, `Router.add`, in backticks) or be known to this code base (`parse` defined,
    `Context` in its code): "where is authentication implemented" asks about a topic."""
    text = query.strip()
    if len(text) > 200:
        return None
    for form, wants in _FORMS:
        m = form.match(text)
        if m is None:
            continue
        name = m.group("name")
        backticked = "`" in m.group(0)[: m.end("name") + 1]
        if not (backticked or _CODE_SHAPED.search(name) or _known(name, corpus)):
            return None
        if wants == _ABSTRACT_ONLY:
            return NameQuestion(name, IMPLEMENTATIONS) if corpus is not None and _of_abstract(name, corpus) else None
        if wants == DEFINITION and corpus is not None and _says_implemented(text, m) and _of_abstract(name, corpus):
            return NameQuestion(name, IMPLEMENTATIONS, or_definition=True)
        return NameQuestion(name, wants)
    return None


def asked_name_span(query: str) -> tuple[int, int] | None:
    """Where in ``query`` is the name a question form asks about, whatever it looks like ("where
    is prpoerty defined": a typo is no known name, yet the form says it is one)."""
    if len(query) > 200:
        return None
    for form, _wants in _FORMS:
        m = form.match(query)
        if m is not None:
            return m.span("name")
    return None


def code_shaped(word: str) -> bool:
    """Whether a word looks like code whatever the corpus holds (``cleanPath``, ``add_route``)."""
    return _CODE_SHAPED.search(word) is not None


def _known(name: str, corpus: Corpus | None) -> bool:
    """A name this code base defines, or a capitalised one its code holds (a class whose header
    shares its first method's chunk names no chunk of its own)."""
    if corpus is None:
        return False
    key = symbol_name(last_segment(name))
    return key in corpus.by_symbol or (name[:1].isupper() and corpus.bm25.doc_freq(key) > 0)


def _says_implemented(text: str, m: re.Match[str]) -> bool:
    """Whether the sentence around the name says "implement" ("where is X implemented")."""
    return _IMPLEMENTED.search(text[: m.start("name")] + text[m.end("name") :]) is not None


def _of_abstract(name: str, corpus: Corpus) -> bool:
    """An abstract type, or a member of one (``Handler.ServeHTTP``)."""
    owner = last_segment(qualifier_of(name))
    return declared_abstract(name, corpus) or (bool(owner) and declared_abstract(owner, corpus))


def declared_abstract(name: str, corpus: Corpus) -> bool:
    """Whether ``name`` is a type others implement: an interface, a trait, or a class its
    language declares abstract or implemented by having its methods, or that has an abstract
    member (``languages.toml``)."""
    bare = last_segment(name)
    defined = _own_definitions(bare, corpus)
    types = [i for i in defined if corpus.kinds[i] in TYPE_KINDS]
    if any(corpus.kinds[i] in ABSTRACT_KINDS for i in types):
        return True
    if defined and not types:  # a function (`get`): no members to read through the postings
        return False
    # A class cut into its members has no chunk of its own: its header heads the first member.
    for i in [*types, *_members_of(bare, corpus)]:
        spec = all_languages().get(corpus.languages[i])
        if spec is None:
            continue
        for declaration in filter(None, (spec.abstract_declaration, spec.structural_declaration)):
            if any(m.group("name") == bare for m in at_line_starts(declaration).finditer(corpus.contents[i])):
                return True
        if spec.abstract_member is not None and at_line_starts(spec.abstract_member).search(corpus.contents[i]):
            return True
    return False


def _members_of(type_name: str, corpus: Corpus) -> list[int]:
    """The member chunks of a type (``Store.load``), among the chunks holding its name."""
    return [
        j for j in holding(type_name, corpus).tolist() if symbol_path_segments(corpus.symbols[j])[-2:-1] == [type_name]
    ]


# A name no English word is spelled like: a hump (`getUser`), two capitals (`HTTPException`,
# `EAGAIN`), an underscore inside or in front (`SHIV_ROOT`, `_private`), not `Router` or `close`.
_COMPOUND = re.compile(r"[a-z0-9][A-Z]|[A-Z]{2}|[A-Za-z0-9]_[A-Za-z0-9]|^_+[A-Za-z0-9]")


def compound_name(name: str) -> bool:
    return _COMPOUND.search(last_segment(name)) is not None


def using_chunks(name: str, corpus: Corpus, within: npt.NDArray[np.bool_] | None = None) -> dict[int, float]:
    """The chunks whose code holds ``name`` (its last segment, as a whole word), but for its
    definitions, each with its share: 1 for a use in code, ``IMPORT_OR_COMMENT`` for a chunk
    naming it only in imports or comments. A name written in another case than the code's is
    matched regardless of case when it matches nothing as written. ``within``: only these chunks
    (a mask over the corpus: its tests, for a tests question)."""
    return _matching(name, corpus, within, lambda i, word: _use_share(corpus.contents[i], word))


def implementing_chunks(name: str, corpus: Corpus) -> dict[int, float]:
    """The types whose declaration names ``name`` as what they implement or extend
    (``class Foo(Base):``, ``class Foo extends Base``, ``struct Foo: Proto``, ``impl Trait for
    Foo``, ``instance Show Foo``, ``class Foo < Base``), and where an interface is implemented by
    having its methods (Go's, Python's ``Protocol``), the types that have them all; each with
    share 1."""

    def share(i: int, word: re.Pattern[str]) -> float:
        header = _header(corpus.contents[i], symbol_segment(corpus.symbols[i]))
        return 1.0 if word.search(header) else 0.0

    bare, owner = last_segment(name), last_segment(qualifier_of(name))
    if owner and not _names_a_type(bare, corpus):  # `Handler.ServeHTTP`: a member
        return _overriding(owner, bare, corpus)
    declared = _matching(name, corpus, corpus.derived("type_chunks", _type_chunks), share)
    return declared | dict.fromkeys(having_the_methods(bare, corpus), 1.0)


def _names_a_type(name: str, corpus: Corpus) -> bool:
    return any(corpus.kinds[i] in TYPE_KINDS for i in _own_definitions(name, corpus))


def _own_definitions(name: str, corpus: Corpus) -> list[int]:
    """The chunks defining ``name`` in its own case (definitions are keyed in lower case)."""
    return [i for i in corpus.by_symbol.get(name.lower(), ()) if symbol_segment(corpus.symbols[i]) == name]


def _overriding(owner: str, method: str, corpus: Corpus) -> dict[int, float]:
    """``Handler.ServeHTTP``: the definitions of ``ServeHTTP`` in the types implementing
    ``Handler`` (as members, or on Go's receivers); a type whose own chunk holds its methods (a
    class not cut into members) stands for its own."""
    implementers = {i: _type_of(i, corpus) for i in implementing_chunks(owner, corpus)}
    names = set(filter(None, implementers.values()))
    owners: dict[int, str | None] = {
        j: owner_of(j, corpus, all_languages().get(corpus.languages[j]))
        for j in _own_definitions(method, corpus)
        if corpus.kinds[j] not in TYPE_KINDS
    }
    found = {j: 1.0 for j, type_name in owners.items() if type_name in names}
    # (file, type) pairs whose member is found; another type of that name, elsewhere, may hold it
    having = {(int(corpus.file_of[j]), owners[j]) for j in found}
    word = re.compile(r"(?<![\w$])" + re.escape(method) + r"(?![\w$])")
    for i, type_name in implementers.items():
        if (int(corpus.file_of[i]), type_name) not in having and word.search(corpus.contents[i]):
            found[i] = 1.0
    return found


def called_chunks(name: str, corpus: Corpus) -> dict[int, float]:
    """The definitions of what ``name``'s definition calls (``helper(``, ``self.helper(``,
    ``new Helper(``), outside its comments, each callee's chunks sharing one share: a callee
    defined in several places (overloads, a method every type has) is one of them, and one
    defined more than ``MAX_CALLEE_DEFINITIONS`` times is left out."""
    bare = last_segment(name)
    defining = corpus.by_symbol.get(bare.lower(), ())
    callers = _own_definitions(bare, corpus) or list(defining)
    # Every piece of a definition cut in several, of its first few definitions.
    definitions = list(dict.fromkeys((int(corpus.file_of[i]), corpus.symbols[i]) for i in callers))
    read = set(definitions[:MAX_CALLEE_DEFINITIONS])
    callees: dict[str, None] = {}
    for i in callers:
        if (int(corpus.file_of[i]), corpus.symbols[i]) not in read:
            continue
        for line in corpus.contents[i].splitlines():
            if not IMPORT_OR_COMMENT_LINE.match(line):
                callees.update((m.group(1), None) for m in _CALL.finditer(line))
    callees.pop(bare, None)
    found: dict[int, float] = {}
    for callee in callees:
        # A definition cut in pieces is one definition: its first piece stands for it.
        heads: dict[tuple[int, str], int] = {}
        for j in _own_definitions(callee, corpus):
            if j not in callers:
                key = (int(corpus.file_of[j]), corpus.symbols[j])
                if key not in heads or corpus.start_lines[j] < corpus.start_lines[heads[key]]:
                    heads[key] = j
        if heads and len(heads) <= MAX_CALLEE_DEFINITIONS:
            found.update((j, 1.0 / len(heads)) for j in heads.values())
    return found


def _type_of(i: int, corpus: Corpus) -> str | None:
    """The type a chunk standing for a type declares (a type chunk), or is a member of."""
    if corpus.kinds[i] in TYPE_KINDS:
        return symbol_segment(corpus.symbols[i])
    return owner_of(i, corpus, all_languages().get(corpus.languages[i]))


def _matching(
    name: str, corpus: Corpus, within: npt.NDArray[np.bool_] | None, share_of: Callable[[int, re.Pattern[str]], float]
) -> dict[int, float]:
    """The chunks (of ``within``, if given) holding ``name``'s last segment with a share above 0,
    its definitions left out: as written, else in any case."""
    bare = last_segment(name)
    token = bare.lower()
    if not re.fullmatch(r"[\w$]+", bare) or corpus.bm25.doc_freq(token) == 0:
        return {}
    scores = corpus.bm25.scores([token])
    held = np.flatnonzero(scores > 0)
    if within is not None:
        held = held[within[held]]
    if held.size > MAX_USES:
        held = held[np.argsort(-scores[held], kind="stable")[:MAX_USES]]
    for flags in (0, re.IGNORECASE):
        word = re.compile(r"(?<![\w$])" + re.escape(bare) + r"(?![\w$])", flags)
        found: dict[int, float] = {}
        for i in held.tolist():
            # Its definitions, in its own case (Go's `ResponseWriter` uses `responseWriter`), or in
            # any when the name is matched in any.
            defined = symbol_segment(corpus.symbols[i])
            if defined == bare or (flags and defined.lower() == token):
                continue
            share = share_of(i, word)
            if share > 0:
                found[i] = share
        if found:
            return found
    return {}


def _type_chunks(corpus: Corpus) -> npt.NDArray[np.bool_]:
    return np.asarray([kind in TYPE_KINDS for kind in corpus.kinds], dtype=bool)


def _header(content: str, own_name: str) -> str:
    """A type's declaration after its own name, up to its body: where its supertypes are named.
    Its first line naming it outside comments and annotations; in Rust's ``impl Trait for Foo``
    and Haskell's ``instance Show Foo`` the line from its keyword (the trait comes first)."""
    if not own_name:
        return ""
    own = re.compile(r"(?<![\w$])" + re.escape(own_name) + r"(?![\w$])")
    lines = content.splitlines()
    for n, line in enumerate(lines):
        m = own.search(line)
        if m is None or IMPORT_OR_COMMENT_LINE.match(line) or line.lstrip().startswith(("@", "#[")):
            continue
        lead = _TRAIT_FIRST.match(line)
        text = line[lead.end() :] if lead else line[m.end() :]
        for more in lines[n + 1 : n + HEADER_LINES]:
            if _BODY.search(text):
                break
            text += " " + more
        return _without_parameters(_BODY.split(text, maxsplit=1)[0], text)
    return ""


def _without_parameters(header: str, declaration: str) -> str:
    """The header without a constructor's parameter list (Kotlin's, Scala's ``class Graph(val
    tables: List<Table>) : Base``): only Python's ``class Foo(Base):`` lists supertypes in its
    parentheses, and its declaration ends right after them."""
    start = header.find("(")
    if start < 0:
        return header
    depth = 0
    for end in range(start, len(header)):
        depth += {"(": 1, ")": -1}.get(header[end], 0)
        if depth == 0:
            break
    else:
        return header[:start]  # wraps past the lines read: parameters
    if re.match(r"\s*:\s*$", declaration[end + 1 :]):
        return header
    return header[:start] + header[end + 1 :]


def _use_share(content: str, word: re.Pattern[str]) -> float:
    share = 0.0
    for m in word.finditer(content):
        start = content.rfind("\n", 0, m.start()) + 1
        line = content[start : m.start()]
        if IMPORT_OR_COMMENT_LINE.match(line):
            share = IMPORT_OR_COMMENT
        else:
            return 1.0
    return share
