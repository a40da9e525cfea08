"""Places a query gives as a file and a line: a stack frame, a compiler or linter message, words.

A pasted frame names the line that failed, in every language's own way:

    File "/srv/app/lib/python3.11/json/decoder.py", line 355, in raw_decode
    at java.util.HashMap.resize(HashMap.java:704)
    at debounce (/app/node_modules/lodash/debounce.js:12:9)
    at System.Text.Json.Utf8JsonReader.Read() in /_/src/Utf8JsonReader.cs:line 123
    /home/ci/go/src/app/context.go:123 +0x1d
    #0 /var/www/src/Yaml/Parser.php(223): Parser->parse()
    PHP Fatal error:  Uncaught Error in /var/www/src/Yaml/Parser.php on line 223
    src/routing/mod.rs:42:5: warning: unused variable

and a person may write ``line 42 of router.go``. All of them are a file path (as the other
machine saw it) and a line number, read by one rule for every language: the line part, then
the path next to it. The file is the indexed one whose path
shares the longest tail with the written one; where the frame gives only a file name, a dotted
name before it (`java.util.HashMap.resize(`) tells its folders. The answer is the chunk holding
that line.

A trace from another version of the code (production, an older build) points at lines that have
moved since. Most frames also name their function, so where the chunk at the line does not bear
that name and a chunk of the same file does, the named chunk (the nearest to the line) is the
answer.
"""

from __future__ import annotations

import re

import numpy as np

from lapce_ai.search.corpus import Corpus, IntArray
from lapce_ai.search.named_files import files_named_any_case
from lapce_ai.search.tokenize import symbol_name

MAX_PLACES = 16  # a pasted trace's first frames: enough to place it, bounded work
MAX_SPACES = 3  # spaces read back into a file name
# The shares of the boost for the chunks of a frame's function name, the nearest to its line
# first: the code may have moved since the trace, into another overload of that name, and the
# nearer one more likely (each still above the pools).
OVERLOAD_SHARES = (1.0, 0.5, 0.34, 0.25)

# The line part of a place, after its file: `", line 355`, `:line 123`, `:42:5`, `(223)`,
# `:[12,5]` (Maven), ` on line 42` (PHP).
_LINE_AFTER = re.compile(r"(?:\"?,? line |:line | on line |:\[?|\()(\d{1,7})(?!\d)")
# ... or before it, in words: `line 42 of router.go`.
_LINE_BEFORE = re.compile(r"\bline (\d{1,7}),? (?:of|in) (?:the file )?[`'\"]?", re.IGNORECASE)
_PATH_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.$@+~/\\-")
_PATH_FORWARD = re.compile(r"[\w.$@+~/\\-]+")
_FILE_NAME = re.compile(r"[^/\\]*\.[A-Za-z][A-Za-z0-9]{0,9}")
_QUALIFIED_CALL = re.compile(r"([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+)\s*\(\s*$")
# The function a frame names: after ` in ` (`, in raw_decode`, Lua's `in function 'parse'`,
# Zig's `in parse (std)` and `in "test name"`, gdb's `in parse () at`), else called on its line
# (`.resize(File.java`, `at debounce (/app/`, `Read() in`, `->parse()`), else, for a line that
# holds only its place, called on the line above (Go).
_IN_FUNCTION = re.compile(
    r"\bin (?:(?:function|method|local|upvalue|field) )?(?!(?:function|method|local|upvalue|field) )"
    r"(\"[^\"\n]{1,200}\"|'?[A-Za-z_$][\w$]*'?)(?![\w$:.<])"
)
_CALLED = re.compile(r"([A-Za-z_$][\w$]*)\s*\(")


def located_chunks(query: str, corpus: Corpus) -> tuple[tuple[int, float], ...]:
    """The chunks holding the lines the query places in files, in the order it names them, each
    with its share of the boost: 1, and ``OVERLOAD_SHARES`` for the other chunks of the frame's
    function name, the nearest first (its line may have moved)."""
    found: dict[int, float] = {}
    for start, end, line in _places(query)[:MAX_PLACES]:
        qualifier = _QUALIFIED_CALL.search(query[max(0, start - 200) : start])
        files = files_at(query[start:end], qualifier.group(1) if qualifier else "", corpus)
        # A file name with spaces in it (Swift's `BitSet+SetAlgebra isDisjoint.swift`): only its
        # last word was read; the words before it, one at a time.
        for _ in range(MAX_SPACES):
            if files or start < 2 or query[start - 1] != " ":
                break
            start = query.rfind(" ", 0, start - 1) + 1
            files = files_at(query[start:end].lstrip("\"'(`"), "", corpus)
        function = _frame_function(query, start, end)
        for f in files:
            chunk = _chunk_at(corpus, f, line)
            if chunk is None:
                continue
            chunks = _named_near(corpus, f, line, function, chunk) if function else [chunk]
            for share, c in zip(OVERLOAD_SHARES, chunks, strict=False):
                found[c] = max(found.get(c, 0.0), share)
    return tuple(found.items())


def _frame_function(query: str, start: int, end: int) -> str:
    """The function named by the frame whose path spans ``start:end``, or ""."""
    line_start = query.rfind("\n", 0, start) + 1
    line_end = query.find("\n", end)
    line_end = len(query) if line_end < 0 else line_end
    after = _IN_FUNCTION.search(query, end, line_end)
    if after is not None:
        return after.group(1).strip("'")
    before = [m.group(1) for m in _CALLED.finditer(query, line_start, start)]
    if before:
        return before[-1]
    called = _CALLED.search(query, end, line_end)
    if called is not None:
        return called.group(1)
    if line_start > 0 and not query[line_start:start].strip():  # Go: the call, then its place
        above = [m.group(1) for m in _CALLED.finditer(query, query.rfind("\n", 0, line_start - 1) + 1, line_start)]
        return above[-1] if above else ""
    return ""


def _named_near(corpus: Corpus, file: int, line: int, function: str, at_line: int) -> list[int]:
    """The file's chunks of the frame's function name, the nearest to ``line`` first, and
    ``at_line`` first of all where it bears that name (the line has not moved out of it, though
    it may have moved from another overload); ``[at_line]`` where no chunk bears the name."""
    name = function.lower()
    named = [c for c in _file_chunks(corpus, file).tolist() if symbol_name(corpus.symbols[c]) == name]
    if not named:
        return [at_line]
    return sorted(named, key=lambda c: (c != at_line, _distance(corpus, c, line), corpus.position[c]))


def _distance(corpus: Corpus, chunk: int, line: int) -> int:
    return max(0, int(corpus.start_lines[chunk]) - line, line - int(corpus.end_lines[chunk]))


_NODE_NAMES = re.compile(r"(?:::[A-Za-z_]\w*)+")


def named_test(query: str, corpus: Corpus) -> tuple[tuple[int, ...], tuple[str, ...]] | None:
    """The file and names of a test id the query holds, as pytest prints one in a ``FAILED``
    line (``tests/test_app.py::TestRouter::test_add[case]``): the indexed files of that path (by
    its longest tail, as a frame's) and the names after it, or None. The path is read back from
    each ``::``, as in ``_places``."""
    at = query.find("::")
    for _ in range(MAX_PLACES):
        if at <= 0:
            break
        start = _path_start(query, at)
        names = _NODE_NAMES.match(query, at)
        files = files_at(query[start:at], "", corpus) if _ends_with_file_name(query[start:at]) else []
        if names is not None and files:
            return tuple(files), tuple(names.group().split("::")[1:])
        at = query.find("::", at + 2)
    return None


def _places(query: str) -> list[tuple[int, int, int]]:
    """(start, end, line) of each file path the query gives a line of, in order. The line is
    found first and the path read from it, backwards or forwards, so a long hostile query
    costs linear time (one pattern for the whole place backtracks over every start)."""
    places = []
    for m in _LINE_AFTER.finditer(query):
        start = _path_start(query, m.start())
        if _ends_with_file_name(query[start : m.start()]):
            places.append((start, m.start(), int(m.group(1))))
        if len(places) >= MAX_PLACES:
            break
    for m in _LINE_BEFORE.finditer(query):
        path = _PATH_FORWARD.match(query, m.end())
        if path is not None and _ends_with_file_name(path.group().rstrip(".")):
            places.append((path.start(), path.start() + len(path.group().rstrip(".")), int(m.group(1))))
    return sorted(places)


def _path_start(query: str, end: int) -> int:
    """Where the path that ends at ``end`` starts: read back over path characters."""
    start = end
    while start > 0 and query[start - 1] in _PATH_CHARS:
        start -= 1
    return start


def _ends_with_file_name(path: str) -> bool:
    name = path.replace("\\", "/").rpartition("/")[2]
    return bool(name) and _FILE_NAME.fullmatch(name) is not None


def files_at(path: str, qualifier: str, corpus: Corpus) -> list[int]:
    """The indexed files whose path shares the longest tail of segments with ``path`` (any
    case); a bare file name is given folders by a dotted name ending with its stem."""
    written = [s for s in path.replace("\\", "/").lower().split("/") if s and s != "."]
    if not written:
        return []
    name = written[-1]
    if len(written) == 1 and qualifier:
        segments = qualifier.lower().split(".")
        stem = name.split(".", 1)[0]
        if stem in segments:
            written = [*segments[: segments.index(stem)], name]
    best: list[int] = []
    longest = 0
    for f in files_named_any_case(name, corpus):
        path_segments = corpus.files[f][1].lower().split("/")
        shared = 0
        while shared < min(len(written), len(path_segments)) and written[-1 - shared] == path_segments[-1 - shared]:
            shared += 1
        if shared > longest:
            best, longest = [f], shared
        elif shared == longest:
            best.append(f)
    return best


def _chunk_at(corpus: Corpus, file: int, line: int) -> int | None:
    """The file's chunk holding ``line`` (the smallest, where chunks nest), else the last one
    starting before it, else (a line in the file's head, which no chunk holds) its first one."""
    chunks = _file_chunks(corpus, file)
    if not chunks.size:
        return None
    starts, ends = corpus.start_lines[chunks], corpus.end_lines[chunks]
    holding = np.flatnonzero((starts <= line) & (line <= ends))
    if holding.size:
        return int(chunks[holding[np.argmin(ends[holding] - starts[holding])]])
    before = np.flatnonzero(starts <= line)
    if not before.size:
        return int(chunks[np.argmin(starts)])
    return int(chunks[before[np.argmax(starts[before])]])


def _file_chunks(corpus: Corpus, file: int) -> IntArray:
    offsets, members = corpus.file_members()
    chunks = members[offsets[file] : offsets[file + 1]]
    if corpus.alive is not None:  # a changed file's old chunks stay in a layered corpus
        chunks = chunks[corpus.alive[chunks]]
    return chunks
