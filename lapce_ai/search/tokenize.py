"""Code-aware tokens for lexical search.

Identifiers are kept whole *and* split into their parts: ``HTTPServerError`` → ``httpservererror
http server error``; ``parse_url2`` → ``parse_url2 parse url2 url 2``. Identifiers are never
stemmed: ``parser`` and ``parse`` stay distinct tokens. Natural-language words get one extra,
separate *stem key* token (``~rout`` for ``routes``, ``routing``, ``router``), so a question
("how are routes registered") still meets the code (``Route``, ``register``) without damaging
the exact identifier tokens. The same functions tokenize documents and queries.
"""

from __future__ import annotations

import functools
import re

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
MAX_TOKEN_CHARS = 40  # longer "identifiers" are base64 blobs and hashes, not words
STEM_PREFIX = "~"
# Words that carry no meaning in a question about code. Only queries drop them: documents keep
# every token, so BM25 lengths stay honest.
QUERY_STOPWORDS = frozenset(
    """a about an and any are as at be been being by can could do does doing done for from get gets
    has have how i if in into is it its me my of on or our should so than that the their them then
    there these they this those to was we were what when where which while who whom why will with
    would you your implement implemented implementation code function functions method methods
    find show use used using work works""".split()
)


def identifier_parts(word: str) -> list[str]:
    parts: list[str] = []
    for piece in word.split("_"):
        if piece:
            parts.extend(p.lower() for p in _CAMEL.findall(piece))
    return parts


@functools.lru_cache(maxsize=65536)
def stem_key(word: str) -> str:
    """A light, conservative English stem for matching word forms (not a dictionary word)."""
    w = word
    if len(w) < 4 or not w.isalpha():
        return w
    if w.endswith("ies") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith("sses"):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    for suffix in ("ing", "ed"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            w = w[: -len(suffix)]
            if len(w) >= 4 and w[-1] == w[-2] and w[-1] not in "aeiouls":
                w = w[:-1]  # running → run
            break
    if w.endswith("er") and len(w) >= 5:
        w = w[:-2]
    if w.endswith("e") and len(w) >= 4:
        w = w[:-1]
    return w


def code_tokens(text: str, stems: bool = False) -> list[str]:
    """Lower-cased tokens: each identifier whole, then its parts; optionally the parts' stem keys."""
    out: list[str] = []
    for word in _WORD.findall(text):
        if len(word) > MAX_TOKEN_CHARS:
            continue
        low = word.lower()
        parts = identifier_parts(word)
        if len(low) > 1:
            out.append(low)
        if len(parts) > 1:
            out.extend(p for p in parts if p != low and len(p) > 1)
        if stems:
            for p in parts if len(parts) > 1 else [low]:
                s = stem_key(p)
                if s != p:
                    out.append(STEM_PREFIX + s)
    return out


def path_tokens(path: str) -> list[str]:
    """File name (without extension) and the last folders: ``src/http/router_group.go``."""
    segments = [s for s in path.replace("\\", "/").split("/") if s]
    if not segments:
        return []
    stem = segments[-1].split(".", 1)[0] or segments[-1]
    return code_tokens(" ".join([stem, *segments[-4:-1]]), stems=True)


def file_stem(path: str) -> str:
    return written_stem(path).lower()


def written_stem(path: str) -> str:
    """A file's name without its extensions, in its own case: ``src/Allocator.zig`` -> ``Allocator``."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    return name.split(".", 1)[0] or name


_SYMBOL_SEPARATORS = re.compile(r"[.:]")  # Router.add_route, Foo::bar, Lua's obj:method


def symbol_path_segments(symbol: str) -> list[str]:
    """``Rack.Builder.use`` → ``["Rack", "Builder", "use"]`` (also ``::`` and Lua's ``:``)."""
    return [s for s in _SYMBOL_SEPARATORS.split(symbol) if s] if symbol else []


def symbol_segment(symbol: str) -> str:
    """The last segment of a symbol path: ``Router.add_route`` → ``add_route``,
    ``Lang:parse_extra`` (a Lua method) → ``parse_extra``."""
    return _SYMBOL_SEPARATORS.split(symbol)[-1] if symbol else ""


_NAME_SEPARATORS = ("::", ":", "\\", "->", ".", "#")  # ":": Lua's obj:method, Erlang's mod:fun


def last_segment(name: str) -> str:
    """The last segment of a name as a user writes it: ``Router.add_route()`` -> ``add_route``,
    ``Rack::Builder``, ``App\\Router``, ``$obj->send``, ``Deque#prepend``."""
    for sep in _NAME_SEPARATORS:
        if sep in name:
            name = name.rsplit(sep, 1)[-1]
    return name.strip("()")


def qualifier_of(name: str) -> str:
    """What qualifies a name as a user writes it: ``starlette.routing`` of
    ``starlette.routing.Router()``, ``Handler`` of ``Handler::call``; empty for a bare name."""
    bare = name.removesuffix("()")
    return bare[: len(bare) - len(last_segment(bare))].rstrip(":.#\\->")


def symbol_name(symbol: str) -> str:
    """The last segment of a symbol path, lower-cased (the key definitions are looked up by)."""
    return symbol_segment(symbol).lower()


# Field weights, by repetition: BM25's saturating tf makes a repeated field count more without
# letting it swamp the body. Measured on CoSQA and semble-dev (see bench/quality).
PATH_REPEAT = 2
SYMBOL_REPEAT = 2


def document_text(path: str, symbol: str, content: str) -> str:
    """The text the lexical index sees for a chunk (space-joined tokens)."""
    p = path_tokens(path)
    s = code_tokens(symbol.replace(".", " "), stems=True)
    tokens = p * PATH_REPEAT + s * SYMBOL_REPEAT + code_tokens(content, stems=True)
    return " ".join(tokens)


def query_tokens(query: str) -> list[str]:
    """Query tokens for BM25: identifiers whole + parts + stem keys, stop words dropped."""
    words = _WORD.findall(query)
    kept = [w for w in words if w.lower() not in QUERY_STOPWORDS]
    return code_tokens(" ".join(kept or words), stems=True)


def query_text(query: str) -> str:
    return " ".join(query_tokens(query))
