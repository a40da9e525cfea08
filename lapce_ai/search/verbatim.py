"""Chunks that hold a query as written: a pasted error or log message, a quoted phrase.

``Command "deploy" is not defined.`` is answered by the line that prints it, which BM25 cannot
tell from the hundreds of chunks sharing its common words, and the dense side even less. Two
ways a chunk holds such a query:

- *the phrase*: the query's words, in order, separated only by punctuation and spaces
  (``is not defined`` inside a longer message, a sentence of a comment);
- *a message it fills*: a string literal of the chunk whose fixed words appear in the query in
  order, its format placeholders (``%s``, ``{}``, ``{0}``, ``${name}``, ``$name``, ``\\(name)``)
  standing for any text: ``Command "%s" is not defined.`` for the message above. The literal
  may be only part of the query (a log line's timestamp and level around it), the query only
  the start of the literal, cut after a value or a few words later (a line cut short), and a
  message built by concatenation counts as one literal (``"Illegal capacity: " + n``).

The share of the query's words a chunk holds that way is its strength; ranking adds it.
Placeholder syntaxes differ by language but none is spelled like a message's words, so one
pattern serves every language.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import pairwise

from lapce_ai.search.corpus import Corpus

MIN_WORDS = 3  # "is not defined" and longer: fewer words are a phrase any code might hold
MIN_FILLED_WORDS = 2  # ... or two around a value: "Illegal capacity: %d"
MAX_QUERY_WORDS = 64  # a phrase regex stays small whatever is pasted
_WORD = re.compile(r"\w+")
# A one-line string literal in any of the usual quotes. Every literal is matched, one word or
# many, so that each quote closes the literal it opened: `['key']['a b c']` holds `a b c`, not
# `'] ['`. Only those of three words or more (`_PROSE_SPACES`) are messages, not a key or a path.
_LITERAL = re.compile(r'"((?:[^"\\\n]|\\.)*)"' r"|'((?:[^'\\\n]|\\.)*)'" r"|`([^`\n]*)`")
_PROSE_SPACES = 2
# A literal's escapes print as white space (`"cannot open %s\n"`), not as a word `n` the
# printed message would have to hold.
_ESCAPE = re.compile(r"\\[nrtfvab0]")
_TRAILING = " \t.,:;!-\u2026"  # what may follow where a pasted message was cut short
# Concatenation (`+`, PHP's `.`, Lua's `..`) around a literal, in the usual quotes.
_CONCAT = r"\s*(?:\+|\.\.?)\s*"
# Each pattern starts with a quote or an operator: one starting with a look-behind costs
# six times as much (350 us on 4 KB).
_CONCAT_MIDDLE = re.compile(r"([\"'])" + _CONCAT + r"[^\"'\n;,]{1,60}?" + _CONCAT + r"\1")  # "a " + x + " b"
_CONCAT_TAIL = re.compile(r"([\"'])(?=" + _CONCAT + r"[\w$(])")  # "a: " + x
_CONCAT_HEAD = re.compile(r"(\+|\.\.?)(\s*)([\"'])")  # x + " b"


def _head_placeholder(m: re.Match[str]) -> str:
    """`x + " b"` -> `x + "{} b"`: an operand before the operator, not another literal."""
    before = m.string[max(0, m.start() - 32) : m.start()].rstrip()
    if before and (before[-1].isalnum() or before[-1] in "_)]"):
        return m.group(1) + m.group(2) + m.group(3) + "{}"
    return m.group()


_PLACEHOLDER = re.compile(
    r"%\(\w+\)[-#+ 0-9.]*[A-Za-z]"  # %(name)s
    r"|%[-#+ 0-9.*]*(?:l{0,2}|h{0,2}|[zjtLq])[sdifuxXoeEgGcpaAr@]"  # %s %5.2f %lu %@
    r"|\$\{[^{}]*\}|\$\w+"  # ${name} $name
    r"|#\{[^{}]*\}"  # #{name}
    r"|\\\([^()]*\)"  # \(name)
    r"|\{\{|\}\}"  # escaped braces
    r"|\{[^{}\s]{0,24}\}"  # {} {0} {name} {d:>5}
)


def _joined(content: str) -> str:
    """``content`` with each message built by concatenation written as one literal, its
    operands as placeholders: `"Illegal capacity: " + n` -> `"Illegal capacity: {}" + n`,
    `"File " + f + " not found"` -> `"File {} not found"`, `n + " items"` -> `n + "{} items"`."""
    if "+" not in content and "." not in content:
        return content
    joined = _CONCAT_TAIL.sub(r"{}\1", _CONCAT_MIDDLE.sub("{}", content))
    return _CONCAT_HEAD.sub(_head_placeholder, joined)


def _spelled_out(pieces: list[list[str]], query: str) -> tuple[int, int] | None:
    """Where ``query`` spells out the pieces' words in order, each piece's words side by side and
    something between two pieces (the value of a placeholder), or None. Each piece is taken at
    its first place after the one before: linear, where one pattern with a gap per placeholder
    backtracks without bound on a hostile query."""
    start = end = 0
    for n, piece in enumerate(pieces):
        pattern = r"\W+".join(map(re.escape, piece))
        if n == 0:
            pattern = r"(?<!\w)" + pattern
        if n == len(pieces) - 1:
            pattern += r"(?!\w)"
        found = re.compile(pattern).search(query, end + (n > 0))
        if found is None:
            return None
        if n == 0:
            start = found.start()
        end = found.end()
    return start, end


def _counted(words: list[str]) -> int:
    """Words that count for a message's share: numbers (a timestamp's, a line's) say little."""
    return sum(not w.isdigit() for w in words)


def _value_before(text: str) -> str:
    """The value a message starting with a placeholder printed first: ``text``'s last token."""
    return text[len(text.rstrip().rpartition(" ")[0]) :]


def _value_after(text: str) -> str:
    """The value a message ending with a placeholder printed last: ``text``'s first token."""
    stripped = text.lstrip()
    return text[: len(text) - len(stripped) + len(stripped.partition(" ")[0])]


def _query_words(query: str) -> list[str]:
    return _WORD.findall(query.lower())[:MAX_QUERY_WORDS]


def verbatim_matches(
    query: str, corpus: Corpus, chunks: Iterable[int], message_chunks: Iterable[int] = ()
) -> dict[int, float]:
    """For the chunks holding the query as written: the share of the query's words they hold
    (1.0 for the whole phrase). ``chunks`` are checked for the phrase, ``message_chunks`` (fewer:
    reading a chunk's literals costs more) for a message the query fills too. Empty for queries
    of fewer than ``MIN_WORDS`` words."""
    words = _query_words(query)
    if len(words) < MIN_WORDS:
        return {}
    vocabulary = frozenset(words)
    phrase = r"(?<!\w)" + r"\W+".join(map(re.escape, words)) + r"(?!\w)"  # compiled when needed
    found: dict[int, float] = {}
    lowered_chunks: dict[int, str] = {}
    for i in chunks:
        content = lowered_chunks[i] = corpus.contents[i].lower()
        if all(w in content for w in vocabulary) and re.search(phrase, content):
            found[i] = 1.0
    lowered = query.lower()
    # A message of three words or more has two of them side by side, as the query has them
    # (unless a placeholder parts every two): a chunk holding no such pair is not read.
    spans = [m.span() for m in _WORD.finditer(lowered)]
    pairs = {lowered[a[0] : b[1]] for a, b in pairwise(spans)}
    tail = _WORD.findall(lowered)[-MAX_QUERY_WORDS:]  # where a query cut short ends
    for i in message_chunks:
        if i in found:
            continue
        content = lowered_chunks.get(i) or corpus.contents[i].lower()
        if not any(pair in content for pair in pairs):
            continue
        strength = _filled_message(content, lowered, _counted(words), tail)
        if strength > 0:
            found[i] = strength
    return found


def _filled_message(content: str, query: str, n_words: int, tail: list[str]) -> float:
    """How much of ``query`` the best of ``content``'s string literals accounts for, spelled out
    in order with its placeholders filled by anything (both in lower case): its fixed words
    over the query's words that fill no placeholder (a log line's level and logger count against
    it, the values it prints and numbers do not), and over the literal's words that a query cut
    short lacks. 0 when none does, with ``MIN_WORDS`` fixed words or more. ``tail``: the
    query's last words."""
    best = 0.0
    for m in _LITERAL.finditer(_joined(content)):
        literal = m.group(1) or m.group(2) or m.group(3) or ""
        if literal.count(" ") < _PROSE_SPACES:
            continue
        pieces = _PLACEHOLDER.split(_ESCAPE.sub(" ", literal))
        words = [_WORD.findall(piece) for piece in pieces]
        fixed = sum(_counted(w) for w in words)
        # A value makes two words a message (`Illegal capacity: %d`); without one, three.
        if fixed < (MIN_FILLED_WORDS if len(pieces) > 1 else MIN_WORDS):
            continue
        # A fixed word may run into the value after it (`argument%s`): substrings, not words.
        lacking = next((n for n, piece in enumerate(words) if not all(w in query for w in piece)), None)
        if lacking is None:
            best = max(best, _share(words, fixed, 0, query, n_words, cut=False))
            continue
        for cut, kept in _cuts(words, lacking, tail):
            best = max(best, _share(cut, kept, fixed - kept, query, n_words, cut=True))
    return best


def _cuts(words: list[list[str]], lacking: int, tail: list[str]) -> Iterable[tuple[list[list[str]], int]]:
    """Where a query cut short (a truncated log line, a message the code finishes on its next
    line) may end in a literal whose ``lacking``-th piece holds a word it lacks: after the value
    of the placeholder before that piece, or inside the piece, after its first words (``tail``:
    the query's last words). Each with the fixed words it keeps, ``MIN_WORDS`` or more."""
    kept = sum(_counted(w) for w in words[:lacking])
    if kept >= MIN_WORDS:
        yield [*words[:lacking], []], kept
    if lacking == 0:
        return  # a query inside the literal's first words is a phrase of it, found as one
    # The query's last words are the piece's first ones.
    head = words[lacking]
    n = next((n for n in range(min(len(head), len(tail)), 0, -1) if tail[-n:] == head[:n]), 0)
    if n and kept + _counted(head[:n]) >= MIN_WORDS:
        yield [*words[:lacking], head[:n]], kept + _counted(head[:n])


def _share(words: list[list[str]], fixed: int, missing: int, query: str, n_words: int, cut: bool) -> float:
    """The share of the query a literal's pieces (``words``; an empty one is a value) account
    for where the query spells them out: ``fixed`` words over the query's words that are no
    value, and the literal's ``missing`` ones; 0 where it does not, or where a ``cut`` query
    goes on after them."""
    span = _spelled_out([piece for piece in words if piece], query)
    if span is None:
        return 0.0
    start, end = span
    if len(words) > 1 and not words[0]:  # the message starts with a value
        start -= len(_value_before(query[:start]))
    if len(words) > 1 and not words[-1]:  # ... or ends with one
        end += len(_value_after(query[end:]))
    if cut and query[end:].strip(_TRAILING):
        return 0.0  # a message cut short is cut where the query ends
    values = _counted(_WORD.findall(query[start:end])) - fixed
    return min(1.0, fixed / max(1, n_words - values + missing))
