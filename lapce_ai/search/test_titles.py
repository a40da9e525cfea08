"""A failing test, as its runner names it, finds the test block.

Runners name a failed test by the titles of its blocks, outermost first, in their own way:

    ● prototype pollution › global prototype chain is not polluted       (Jest)
    FAIL src/app.test.ts > Router > adds a route                         (Vitest)
    1) Rack::Builder supports mapping                                     (RSpec)
    test forward strips segments of the path (PlugTest)                  (ExUnit)
    NokogiriTest#test_0004_renders with inline layouts                   (minitest)

and Mocha puts each title on a line of its own. Test blocks are chunks of kind ``test`` named by
their title path (``prototype pollution.global prototype chain is not polluted``). One rule
reads every form, with no per-runner code: a test chunk whose title path ends with words the
query holds in a row (two at least) is the failed test, credited by the share of the query's
words its title path holds. The query's other words are the runner's marks (``FAIL``, ``test``,
a number, a file): a sentence that merely shares a test's last words holds too many others.
"""  # noqa: RUF002 (Jest's own separator)

from __future__ import annotations

import re
from dataclasses import dataclass

from lapce_ai.chunking.model import TEST_KIND
from lapce_ai.parsing.languages import language_for_path
from lapce_ai.search.blocks import block_start
from lapce_ai.search.corpus import Corpus
from lapce_ai.search.locations import files_at

MIN_RUN = 2  # words in a row a title must end with: one word is any name
MIN_SHARE = 0.6  # of the query's words the title path must hold (a runner adds a word or two)
MAX_QUERY_WORDS = 64  # a pasted failure report's first words: enough to hold its titles
FILE_BONUS = 0.1  # of the boost, for a test in the file the query names (`FAIL src/app.test.ts > ...`)

_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class _Titles:
    blocks: list[tuple[int, str]]  # (a test chunk, the title path of it or of a block holding it)
    by_last_pair: dict[tuple[str, str], list[int]]  # the last two words of a title path -> blocks
    words: list[tuple[str, ...]]  # block -> its title path's words


def _words(text: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(text.lower()))


def _titles(corpus: Corpus) -> _Titles:
    """Every test chunk's title path, and the title paths of the blocks holding it that no chunk
    is named after (a ``describe`` opened into its tests: its closing ``})`` is no chunk), each
    with a chunk inside it (``block_start`` finds where it begins)."""
    tests = [i for i, kind in enumerate(corpus.kinds) if kind == TEST_KIND]
    named = {(int(corpus.file_of[i]), corpus.symbols[i]) for i in tests}
    blocks: list[tuple[int, str]] = []
    for i in tests:
        blocks.append((i, corpus.symbols[i]))
        for holder in _holders(corpus.symbols[i]):
            if (int(corpus.file_of[i]), holder) not in named:
                named.add((int(corpus.file_of[i]), holder))
                blocks.append((i, holder))
    by_last_pair: dict[tuple[str, str], list[int]] = {}
    words: list[tuple[str, ...]] = []
    for b, (_chunk, title) in enumerate(blocks):
        path_words = _words(title)
        words.append(path_words)
        if len(path_words) >= MIN_RUN:
            by_last_pair.setdefault((path_words[-2], path_words[-1]), []).append(b)
    return _Titles(blocks, by_last_pair, words)


def named_tests(query: str, corpus: Corpus, sentences_only: bool = False) -> dict[int, float]:
    """The test chunks the query names as a runner prints a failure, each with its share of the
    boost: the share of the query's words its title path holds (at least ``MIN_SHARE``) times
    the share of its title path the query holds (of two tests with one title, the one whose
    ``describe`` the query names too), a tenth more in the file the query names. A file the
    query names (``FAIL src/app.test.ts``) is no title: its words do not count.
    ``sentences_only``: only titles with a space, for a query that reads as a name (minitest's
    ``RouterTest#test_adds_a_route`` names a test; ``Rack::Builder`` names the class, not the
    ``describe Rack::Builder`` block)."""
    titles = corpus.derived("test_titles", _titles)
    if not titles.blocks:
        return {}
    files: set[int] = set()  # the indexed files the query names, by their longest path tail
    kept: list[str] = []
    for token in query.split()[:MAX_QUERY_WORDS]:
        name = token.strip("'\"(),:")
        if _names_file(name):
            files.update(files_at(name, "", corpus))
        else:
            kept.append(token)
    query_words = _words(" ".join(kept))
    in_query = frozenset(query_words)
    found: dict[int, float] = {}  # block -> share
    for end in range(MIN_RUN, len(query_words) + 1):
        for block in titles.by_last_pair.get((query_words[end - 2], query_words[end - 1]), ()):
            chunk, title = titles.blocks[block]
            if block in found or (corpus.alive is not None and not corpus.alive[chunk]):
                continue
            if sentences_only and " " not in title:
                continue
            path_words = titles.words[block]
            if _common_run(path_words, query_words, end) < MIN_RUN:
                continue
            in_path = frozenset(path_words)
            # A runner's counts and times (`1)`, `(0.00s)`) do not count against a title.
            held = sum(1 for w in query_words if w in in_path)
            share = held / (held + sum(1 for w in query_words if w not in in_path and not w.isdigit()))
            if share < MIN_SHARE:
                continue
            share *= sum(1 for w in path_words if w in in_query) / len(path_words)
            if int(corpus.file_of[chunk]) in files:
                share *= 1.0 + FILE_BONUS
            found[block] = share
    return _at_block_starts(_deepest(found, titles, corpus), titles, corpus)


def _deepest(found: dict[int, float], titles: _Titles, corpus: Corpus) -> dict[int, float]:
    """Of a block and a test inside it that the query both names (``describe > it``), the test
    failed: the block's title is only its path."""
    holding: set[tuple[int, str]] = set()  # (file, title path) of the blocks holding a found one
    for b in found:
        chunk, title = titles.blocks[b]
        holding.update((int(corpus.file_of[chunk]), holder) for holder in _holders(title))
    return {
        b: share
        for b, share in found.items()
        if (int(corpus.file_of[titles.blocks[b][0]]), titles.blocks[b][1]) not in holding
    }


def _holders(title: str) -> list[str]:
    """The title paths of the blocks holding a test (``a.b`` and ``a`` for ``a.b.c``)."""
    return [title[:dot] for dot, ch in enumerate(title) if ch == "."]


def _at_block_starts(found: dict[int, float], titles: _Titles, corpus: Corpus) -> dict[int, float]:
    """Each test credited at the chunk where its block begins (``search.blocks``): a block
    holding others opens in its first member's chunk."""
    out: dict[int, float] = {}
    for block, share in found.items():
        chunk, title = titles.blocks[block]
        first = block_start(corpus, chunk, title)
        out[first] = max(share, out.get(first, 0.0))
    return out


def _names_file(token: str) -> bool:
    """A token naming a source file (``src/app.test.ts``, ``router_test.rb``) by a known
    extension (the language registry's); a slash alone is no file (``inspect/2``, ``GET /users``)."""
    return "." in token.strip(".") and language_for_path(token) is not None


def _common_run(path_words: tuple[str, ...], query_words: tuple[str, ...], end: int) -> int:
    """How many of the title path's last words the query holds in a row, ending at ``end``."""
    run = 0
    while run < min(len(path_words), end) and path_words[-1 - run] == query_words[end - 1 - run]:
        run += 1
    return run
