"""Suite ``frames``: "this crashed here" in the 12 docs languages.

A user, or an agent reading a failure, pastes one frame of a stack trace and wants the code it
points at. Each query is a frame in the form that language's runtime or tools print it, for a
line inside a named chunk (outside tests), with the path as another machine saw it (an
installation or CI folder before the corpus path) and the chunk's name as the function:

    File "/usr/lib/python3.11/json/decoder.py", line 355, in raw_decode       (Python)
    at java.util.HashMap.resize(HashMap.java:704)                             (Java, Scala)
    at System.Text.Json.JsonDocument.Parse() in /_/src/JsonDocument.cs:line 88 (C#)

The answer is the chunk holding that line (NDCG@10 of one target). The forms are written here
from each ecosystem's documented output, not read from the engine. ``PER_LANGUAGE`` a
language, a fixed-seed sample.

Suite ``stale``: the same frames taken from another version of the code, whose lines have
moved since (a trace from production read against a newer checkout): the frame's line is off by
3 to 40 lines either way, and the answer is still the function it names. The Swift and Haskell
forms name no function, so they are left out of it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docs_eval

from lapce_ai.index.store import IndexStore
from lapce_ai.search.engine import load_corpus
from lapce_ai.search.path_priors import path_penalized
from lapce_ai.search.tokenize import symbol_path_segments

PER_LANGUAGE = 100
SEED = 11


def _dotted(path: str) -> str:
    return path.rsplit(".", 1)[0].replace("/", ".")


# language -> (path, line, function, owner) -> frame
FRAMES: dict[str, Callable[[str, int, str, str], str]] = {
    "python": lambda p, n, f, _o: f'File "/usr/lib/python3.11/{p}", line {n}, in {f}',
    "java": lambda p, n, f, _o: f"at {_dotted(p)}.{f}({p.rsplit('/', 1)[-1]}:{n})",
    "scala": lambda p, n, f, _o: f"at {_dotted(p)}.{f}({p.rsplit('/', 1)[-1]}:{n})",
    "csharp": lambda p, n, f, o: f"at System.{o or 'Internal'}.{f}() in /_/src/libraries/{p}:line {n}",
    "javascript": lambda p, n, f, _o: f"at {f} (/app/node_modules/lodash/{p}:{n}:17)",
    "php": lambda p, n, f, o: f"#3 /var/www/vendor/symfony/{p}({n}): {o or 'Symfony'}->{f}()",
    "lua": lambda p, n, f, _o: f"/usr/local/share/lua/5.4/{p}:{n}: in function '{f}'",
    "dart": lambda p, n, f, o: f"#1      {o + '.' if o else ''}{f} (package:lib/{p}:{n}:7)",
    "haskell": lambda p, n, f, _o: f"error, called at {p}:{n}:15 in main:{_dotted(p).rsplit('.', 1)[-1]}",
    "zig": lambda p, n, f, _o: f"/home/ci/zig/lib/std/{p}:{n}:25: 0x10a3f in {f} (std)",
    "swift": lambda p, n, _f, _o: f"/Users/ci/swift-collections/{p}:{n}: Fatal error: Index out of range",
    "c": lambda p, n, f, _o: f"#1  0x00007ffff7a4e8b4 in {f} () at ../{p}:{n}",
}


def queries(index: Path) -> list[docs_eval.DocQuery]:
    return _frames(index, drift=False)


def stale_queries(index: Path) -> list[docs_eval.DocQuery]:
    if index.parent.name in UNNAMED:
        return []
    return _frames(index, drift=True)


UNNAMED = ("swift", "haskell")  # their frames name no function
MAX_DRIFT = 40


def _frames(index: Path, drift: bool) -> list[docs_eval.DocQuery]:
    corpus: Any = load_corpus(IndexStore.open(index))
    language = index.parent.name
    frame = FRAMES.get(language)
    if frame is None:
        return []
    found = []
    rng = random.Random(SEED)
    for symbol, path, start, end in zip(
        corpus.symbols, corpus.paths, corpus.start_lines.tolist(), corpus.end_lines.tolist(), strict=True
    ):
        segments = symbol_path_segments(symbol)
        if not segments or end - start < 2 or path_penalized(path):
            continue
        line = rng.randint(start, end)
        owner = segments[-2] if len(segments) > 1 else ""
        shown = max(1, line + rng.choice((-1, 1)) * rng.randint(3, MAX_DRIFT)) if drift else line
        found.append(docs_eval.DocQuery(frame(path, shown, segments[-1], owner), path, line))
    random.Random(SEED).shuffle(found)
    return sorted(found[:PER_LANGUAGE], key=lambda q: (q.path, q.line or 0))
