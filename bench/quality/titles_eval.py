"""Suite ``titles``: a failing test, named as its runner prints it, finds the test block.

A user, or an agent reading a CI log, pastes the line that names a failed test and wants the
test. Four code bases with their tests, one test runner each, whose failure line is written
here from the runner's documented output (not read from the engine):

    FAIL  tests/basic.test.tsx > creates a store hook and api object    zustand (TypeScript, Vitest)
      1) res                                                             express (JavaScript, Mocha)
           .vary()
             with no arguments
               should throw error:
    NokogiriTest#test_renders_with_inline_layouts                        sinatra (Ruby, minitest + contest)
      1) Rack::Protection::CookieTossing accepts requests with a new cookie   sinatra (Ruby, RSpec)
      1) test forward strips segments of the path (PlugTest)             plug (Elixir, ExUnit)

The titles come from the index's test chunks (kind ``test``, named by their title path), so
the suite checks ranking, not naming: each query is a test block that holds no other, and the
answer is that chunk (NDCG@10 of one target). ``PER_CORPUS`` a corpus, a fixed-seed sample.

The corpora live outside every repository, under ``$LAPCE_TEST_SOURCES/<name>/`` (default
``/work/corpora/tests``), exported from the commits in ``SOURCES``::

    git clone https://github.com/<owner>/<name> && git -C <name> archive <commit> | tar -x -C <dir>/<name>

or, with bare mirrors under ``/work/.mirror/<owner>+<name>/repo``::

    python bench/quality/titles_eval.py --export
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import docs_eval

from lapce_ai.chunking.model import TEST_KIND
from lapce_ai.index.store import IndexStore
from lapce_ai.search.engine import load_corpus

PER_CORPUS = 100
SEED = 13
MIRRORS = Path("/work/.mirror")

# name -> (owner/repo, commit)
SOURCES: dict[str, tuple[str, str]] = {
    "zustand": ("pmndrs/zustand", "f094eebe9bd3b4b0d77b997f69ab1d273f69a877"),
    "express": ("expressjs/express", "a3714473feb3d2908add734d340e7755fd85e0a3"),
    "sinatra": ("sinatra/sinatra", "cb22afd7902b566b6eaba6c4ea89739494a65d12"),
    "plug": ("elixir-plug/plug", "a898c454a04ca5ffad306bd751a15c7ac9ff6927"),
}


def sources_root() -> Path:
    return Path(os.environ.get("LAPCE_TEST_SOURCES", "/work/corpora/tests"))


def _vitest(path: str, _owner: str, titles: list[str]) -> str:
    return f"FAIL  {path} > " + " > ".join(titles)


def _mocha(_path: str, _owner: str, titles: list[str]) -> str:
    lines = [f"  1) {titles[0]}"] + [" " * (5 + 2 * depth) + t for depth, t in enumerate(titles[1:], 1)]
    return "\n".join(lines) + ":"


def _ruby(path: str, owner: str, titles: list[str]) -> str:
    if path.endswith("_spec.rb"):  # RSpec: the example's full description
        return f"  1) {' '.join(titles)}"
    return f"{owner or 'Test'}#test_" + re.sub(r"\W+", "_", " ".join(titles)).strip("_")  # minitest + contest


def _exunit(_path: str, owner: str, titles: list[str]) -> str:
    return f"  1) test {' '.join(titles)} ({owner or 'Test'})"


# corpus -> (path, owner module or class, titles outermost first) -> the runner's failure line
FAILURES: dict[str, Callable[[str, str, list[str]], str]] = {
    "zustand": _vitest,
    "express": _mocha,
    "sinatra": _ruby,
    "plug": _exunit,
}


def _inside(symbol: str, test: str) -> bool:
    return symbol == test or symbol.startswith(test + ".")


def queries(index: Path) -> list[docs_eval.DocQuery]:
    corpus: Any = load_corpus(IndexStore.open(index))
    failure = FAILURES[index.parent.name]
    by_file: dict[str, list[int]] = {}
    for i, path in enumerate(corpus.paths):
        by_file.setdefault(path, []).append(i)
    found = []
    for path, chunks in by_file.items():
        tests = [i for i in chunks if corpus.kinds[i] == TEST_KIND and corpus.symbols[i]]
        owners = [corpus.symbols[i] for i in chunks if corpus.kinds[i] in ("class", "module") and corpus.symbols[i]]
        for i in tests:
            symbol = corpus.symbols[i]
            if any(corpus.symbols[j].startswith(symbol + ".") for j in tests):
                continue  # a block holding others (`describe`): the failed test is one of those
            if any(corpus.symbols[j] == symbol and corpus.start_lines[j] < corpus.start_lines[i] for j in tests):
                continue  # a later part of a test cut in several chunks
            owner = max((o for o in owners if symbol.startswith(o + ".")), key=len, default="")
            titles = [t for t in symbol[len(owner) :].split(".") if t]
            # Where the test begins: a block holding other code (`describe` with a helper in it)
            # opens in the chunk of its first member; its own name may be left to its closing `})`.
            begins = min(int(corpus.start_lines[j]) for j in chunks if _inside(corpus.symbols[j], symbol))
            found.append(docs_eval.DocQuery(failure(path, owner, titles), path, begins))
    random.Random(SEED).shuffle(found)
    return sorted(found[:PER_CORPUS], key=lambda q: (q.path, q.line or 0))


# corpus -> (path, line) -> the runner's line pointing into a test (suite `testframes`)
TEST_FRAMES: dict[str, Callable[[str, int], str]] = {
    "zustand": lambda p, n: f" ❯ {p}:{n}:12",  # noqa: RUF001 (Vitest's own mark)
    "express": lambda p, n: f"    at Context.<anonymous> ({p}:{n}:7)",
    "sinatra": lambda p, n: (
        f"# ./{p}:{n}:in 'block (2 levels) in <top (required)>'"
        if p.endswith("_spec.rb")
        else f"Expected: 200\n  Actual: 404 [{p}:{n}]"
    ),
    "plug": lambda p, n: f"     {p}:{n}\n     Assertion with == failed",
}


def frame_queries(index: Path, tests: list[docs_eval.DocQuery]) -> list[docs_eval.DocQuery]:
    """Suite ``testframes``: a runner's line pointing into a test (a failed assertion's place),
    for a line inside each of ``tests`` (``queries(index)``); the answer is the chunk holding it.
    Test files are penalized for descriptions, not for a query that points into one."""
    frame = TEST_FRAMES[index.parent.name]
    rng = random.Random(SEED)
    corpus: Any = load_corpus(IndexStore.open(index))
    spans = {(corpus.paths[i], int(corpus.start_lines[i])): int(corpus.end_lines[i]) for i in range(corpus.n)}
    found = []
    for q in tests:
        line = rng.randint(q.line or 1, spans.get((q.path, q.line or 1), q.line or 1))
        found.append(docs_eval.DocQuery(frame(q.path, line), q.path, line))
    return found


def corpora() -> dict[str, Path]:
    """The corpora on this machine: name -> source folder."""
    root = sources_root()
    return {name: root / name for name in SOURCES if (root / name).is_dir()}


def export() -> None:
    for name, (repo, commit) in SOURCES.items():
        mirror = MIRRORS / f"{repo.replace('/', '+')}" / "repo"
        dest = sources_root() / name
        if dest.exists() or not mirror.is_dir():
            print(f"{name}: {'exists' if dest.exists() else 'no mirror'}", file=sys.stderr)
            continue
        dest.mkdir(parents=True)
        archive = subprocess.run(["git", "-C", str(mirror), "archive", commit], capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
        print(f"{name}: exported {commit[:12]}", file=sys.stderr)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--export", action="store_true", help="export the corpora from the mirrors")
    if ap.parse_args().export:
        export()
