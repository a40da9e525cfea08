"""Suite ``messages``: "where does this message come from?" in the 12 docs languages.

A user, or an agent reading a log, pastes a message the program printed or raised
(``Command "deploy" is not defined.``) and wants the line that produces it. Each query is a
string literal of the code base as it would be printed: its format placeholders (``%s``, ``{}``,
``{0}``, ``${name}``, ``$name``, ``\\(name)``) filled with sample values, or the literal as written
when it has none. The answer is the chunk holding that literal: the result must be in that file and
its lines must include the literal's line (NDCG@10 of one target, as in the docs evaluation).

Literals are read from the indexed chunks: double-quoted strings in every language, single-quoted
ones where they are strings (Python, PHP, JavaScript, Lua, Dart), not on comment lines, of 4 words
or more that read as a message (letters and spaces, not code or markup), found once in the whole
corpus (no other literal prints the same words), outside tests. ``PER_LANGUAGE`` a language, a fixed-seed sample.
"""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import docs_eval

from lapce_ai.index.store import IndexStore
from lapce_ai.search.engine import load_corpus
from lapce_ai.search.path_priors import path_penalized

PER_LANGUAGE = 100
SEED = 5
SINGLE_QUOTED_STRINGS = frozenset({"python", "php", "javascript", "lua", "dart"})
_CHAR_LITERAL = re.compile(r"'(?:\\.|[^'\\\n])'")  # 'x', '\n' where single quotes are characters
_COMMENT_START = ("//", "#", "*", "/*", "--", "{-")
_PLACEHOLDER = re.compile(
    r"%\([A-Za-z_]\w*\)[-#+ 0-9.]*[a-zA-Z]"  # %(name)s
    r"|%[-#+ 0-9.*]*[sdifrxXgeEcbuo@]"  # %s %5.2f %@
    r"|\$\{[^{}]*\}|\$[A-Za-z_]\w*"  # ${x} $x
    r"|\\\([^()]*\)"  # Swift's \(x)
    r"|\{[^{}\s]{0,20}\}"  # {} {0} {name} {s} {d:>5}
)
_WORD = re.compile(r"[A-Za-z]{2,}")
_CODE_CHARS = re.compile(r"[(){}\[\]=;<>$|&\\/#@*+~^`]")
SAMPLE_VALUES = ("deploy", "42", "/tmp/report.csv", "user_id", "3.5", "orders")


def message_of(literal: str) -> str | None:
    """The literal as printed (placeholders filled), or None when it does not read as a message."""
    bare = _PLACEHOLDER.sub(" ", literal)
    words = _WORD.findall(bare)
    if len(literal.split()) < 4 or len(words) < 4 or sum(len(w) >= 3 for w in words) < 3:
        return None
    if _CODE_CHARS.search(bare):
        return None
    letters = sum(c.isalpha() or c.isspace() for c in bare)
    if letters < 0.8 * len(bare):
        return None
    return _printed_text(_filled_parts(literal))


def _filled_parts(literal: str) -> list[tuple[str, bool]]:
    """A literal's fixed text and its placeholders filled with sample values, each part with
    whether it is a value."""
    values = iter(SAMPLE_VALUES * 8)
    parts: list[tuple[str, bool]] = []
    for n, piece in enumerate(_PLACEHOLDER.split(literal)):
        if n:
            parts.append((next(values), True))
        parts.append((piece, False))
    return parts


def _printed_text(parts: list[tuple[str, bool]]) -> str:
    """What the parts of a message print, its runs of white space as one space."""
    return " ".join("".join(text for text, _value in parts).split())


def _skeleton(literal: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(_PLACEHOLDER.sub(" ", literal).lower()))


def _literals(content: str, language: str) -> list[tuple[int, str]]:
    """(line offset in the chunk, text) of the chunk's one-line string literals outside comment
    lines, read left to right so one literal's quotes never pair with another's."""
    quotes = "\"'" if language in SINGLE_QUOTED_STRINGS else '"'
    found = []
    for offset, line in enumerate(content.split("\n")):
        if line.lstrip().startswith(_COMMENT_START):
            continue
        if "'" not in quotes:
            line = _CHAR_LITERAL.sub("_", line)
        i = 0
        while i < len(line):
            c = line[i]
            if line.startswith(("//", " -- ", " # "), i):
                break
            if c not in quotes:
                i += 1
                continue
            if line.startswith(c * 3, i):  # a docstring or multi-line string: not a message
                break
            j = i + 1
            while j < len(line) and line[j] != c:
                j += 2 if line[j] == "\\" else 1
            if j >= len(line):
                break
            if 15 <= j - i - 1 <= 160:
                found.append((offset, line[i + 1 : j]))
            i = j + 1
    return found


def _messages(index: Path) -> list[tuple[str, docs_eval.DocQuery]]:
    """Suite ``messages``' literals, each with its query."""
    corpus: Any = load_corpus(IndexStore.open(index))
    where: dict[str, set[tuple[str, int]]] = defaultdict(set)  # literal -> (path, line) holding it
    for path, start, language, content in zip(
        corpus.paths, corpus.start_lines.tolist(), corpus.languages, corpus.contents, strict=True
    ):
        for offset, literal in _literals(content, language):
            where[literal].add((path, start + offset))
    # Literals that differ only in placeholders or punctuation print the same message.
    skeletons = Counter(_skeleton(literal) for literal, places in where.items() for _ in places)
    candidates = []
    for literal, places in sorted(where.items()):
        path, line = next(iter(places))
        message = message_of(literal)
        unique = len(places) == 1 and skeletons[_skeleton(literal)] == 1
        if unique and message is not None and not path_penalized(path):
            candidates.append((literal, docs_eval.DocQuery(message, path, line)))
    random.Random(SEED).shuffle(candidates)
    found: list[tuple[str, docs_eval.DocQuery]] = []
    for literal, query in candidates:
        # Found once in the whole corpus's text, comments included: one right answer.
        if sum(literal in content for content in corpus.contents) == 1:
            found.append((literal, query))
            if len(found) == PER_LANGUAGE:
                break
    return found


def queries(index: Path) -> list[docs_eval.DocQuery]:
    return sorted((query for _literal, query in _messages(index)), key=lambda q: q.query)


# `"Illegal capacity: " + n`, PHP's `'Unknown key ' . $key`, Lua's `"bad arg " .. n .. " here"`:
# a literal, then operators and operands (literals or simple expressions).
_OPERAND = r"(?:\"[^\"\\\n]*\"|'[^'\\\n]*'|[\w$]+(?:\.[\w$]+|\(\)|\[[\w$]*\])*)"
_CHAIN = re.compile(r"([\"'])([^\"'\\\n]{6,80})\1((?:\s*(?:\+|\.\.?)\s*" + _OPERAND + r")+)")
_LINK = re.compile(r"\s*(?:\+|\.\.?)\s*(" + _OPERAND + r")")


def _printed(first: str, tail: str) -> tuple[list[tuple[str, bool]], str]:
    """The parts a concatenation prints, each with whether it is a value (sample values for its
    operands), and its fixed text."""
    parts, fixed = [(first, False)], [first]
    for n, link in enumerate(_LINK.finditer(tail)):
        operand = link.group(1)
        if operand[0] in "\"'":
            parts.append((operand[1:-1], False))
            fixed.append(operand[1:-1])
        else:
            parts.append((SAMPLE_VALUES[n % len(SAMPLE_VALUES)], True))
            fixed.append(" ")
    return parts, "".join(fixed)


def _concatenations(index: Path) -> list[tuple[str, int, list[tuple[str, bool]]]]:
    """The messages of suite ``concatenated``, each as (path, line, the parts it prints), in the
    suite's order."""
    corpus: Any = load_corpus(IndexStore.open(index))
    where: dict[tuple[str, ...], set[tuple[str, int, tuple[tuple[str, bool], ...], str]]] = defaultdict(set)
    for path, start, content in zip(corpus.paths, corpus.start_lines.tolist(), corpus.contents, strict=True):
        for offset, line in enumerate(content.split("\n")):
            if line.lstrip().startswith(_COMMENT_START):
                continue
            for m in _CHAIN.finditer(line):
                parts, fixed = _printed(m.group(2), m.group(3))
                where[_skeleton(fixed)].add((path, start + offset, tuple(parts), m.group(2)))
    candidates = []
    for skeleton, places in sorted(where.items()):
        if len(places) != 1 or len(skeleton) < 2:
            continue
        path, line, parts, first = next(iter(places))
        bare = first.strip(" :=,-")
        if (
            path_penalized(path)
            or _CODE_CHARS.search(bare)
            or sum(c.isalpha() or c.isspace() for c in bare) < 0.8 * len(bare)
        ):
            continue
        if " " not in bare or sum(len(w) >= 3 for w in _WORD.findall(bare)) < 2:
            continue
        candidates.append((path, line, list(parts)))
    random.Random(SEED).shuffle(candidates)
    return candidates[:PER_LANGUAGE]


def concatenated_queries(index: Path) -> list[docs_eval.DocQuery]:
    """Suite ``concatenated``: a message the code builds by concatenation, a literal of two words
    or more and what follows it (`"Could not copy " .. src .. " to " .. dst`), as printed, with
    sample values for the operands: `Could not copy deploy to 42`. Found once in the corpus (no
    other concatenation holds the same words), outside tests, not on comment lines; the answer is
    the chunk holding the line."""
    queries = [docs_eval.DocQuery(_printed_text(parts), path, line) for path, line, parts in _concatenations(index)]
    return sorted(queries, key=lambda q: q.query)


def _cut_after(piece: str) -> bool:
    """Whether a message's fixed text after a value can be cut after its first word and leave
    words out."""
    words = piece.split()
    return len(_WORD.findall(piece)) >= 2 and _WORD.fullmatch(words[0].strip(".,:;!?")) is not None


def _cut(parts: list[tuple[str, bool]]) -> str | None:
    """The message the parts print (each with whether it is a value), cut one word into the
    first fixed text of two words or more after a value; None when there is none, or when the
    cut message holds fewer than three of its words."""
    at = next((n for n in range(1, len(parts)) if parts[n - 1][1] and _cut_after(parts[n][0])), None)
    if at is None:
        return None
    after = parts[at][0]
    word = after.split()[0]
    if sum(len(_WORD.findall(text)) for text, value in parts[:at] if not value) < 2:
        return None  # with the word after the value, fewer than three words of the message
    return _printed_text([*parts[:at], (after[: after.index(word) + len(word)], False)])


def truncated_queries(index: Path) -> list[docs_eval.DocQuery]:
    """Suite ``truncated``: the messages of suites ``messages`` and ``concatenated`` cut short,
    as a log viewer or a narrow terminal cuts them, one word into the first fixed text of two
    words or more after a value: `Post mortem debugger finished. The deploy will` for `"Post
    mortem debugger finished. The " + target + " will be restarted"`, `Cannot copy deploy
    because` for `"Cannot copy %s because it is locked"`. Messages with no such text, or of
    fewer than three words so cut, are left out; the answer is the chunk holding the literal."""
    found = {(_cut(_filled_parts(literal)), q.path, q.line) for literal, q in _messages(index)}
    found |= {(_cut(parts), path, line) for path, line, parts in _concatenations(index)}
    cut = sorted((text, path, line) for text, path, line in found if text is not None)
    return [docs_eval.DocQuery(text, path, line) for text, path, line in cut]
