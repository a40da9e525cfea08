"""A query as written: a pasted message or a phrase finds the chunk that holds it."""

from __future__ import annotations

import signal

import pyarrow as pa
import pytest
from conftest import settings_for

from lapce_ai.embedding.base import Embedder
from lapce_ai.index.indexer import Indexer
from lapce_ai.index.store import IndexStore
from lapce_ai.parsing.router import ParserRouter
from lapce_ai.search.corpus import Corpus
from lapce_ai.search.engine import SearchEngine
from lapce_ai.search.filters import SearchFilters
from lapce_ai.search.ranking import RankConfig
from lapce_ai.search.verbatim import verbatim_matches


def _corpus(contents: list[str]) -> Corpus:
    rows = [
        {
            "root": "/ws",
            "path": f"m{i}.py",
            "start_line": 1,
            "end_line": 1 + text.count("\n"),
            "symbol": f"f{i}",
            "kind": "function",
            "language": "python",
            "content": text,
            "search_text": text,
        }
        for i, text in enumerate(contents)
    ]
    return Corpus.from_table(pa.Table.from_pylist(rows), version=1)


def _matches(query: str, contents: list[str]) -> dict[int, float]:
    corpus = _corpus(contents)
    every = range(corpus.n)
    return verbatim_matches(query, corpus, every, every)


def test_the_phrase_as_written_in_any_case_and_punctuation() -> None:
    contents = [
        "# The Retry Budget -- is exhausted, give up\nreturn None",
        "# the budget of retries is exhausted\nreturn None",  # same words, another order
        "budget = retry.budget  # exhausted",
    ]
    assert _matches("retry budget is exhausted", contents) == {0: 1.0}
    assert _matches("budget exhausted", contents) == {}  # fewer than three words: any code might hold them


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ('raise KeyError("Unknown key %s in section %s" % (key, section))', "Unknown key timeout in section server"),
        ('log.printf("Unknown key %-10s in section %d", key, n)', "Unknown key timeout in section 3"),
        ('raise KeyError("Unknown key {} in section {}".format(k, s))', "Unknown key timeout in section server"),
        ('throw new X(string.Format("Unknown key {0} in section {1}", k, s));', "Unknown key timeout in section 1"),
        ('raise KeyError(f"Unknown key {key!r} in section {section}")', "Unknown key 'timeout' in section server"),
        ("throw StateError('Unknown key ${key.name} in section $section');", "Unknown key timeout in section server"),
        ('fatalError("Unknown key \\(key) in section \\(section)")', "Unknown key timeout in section server"),
        ('raise KeyError, "Unknown key #{key} in section #{section}"', "Unknown key timeout in section server"),
        ('raise KeyError("Unknown key %(key)s in section %(section)s" % d)', "Unknown key timeout in section server"),
        ('error("no more than %d argument%s expected")', "no more than 2 arguments expected"),
    ],
)
def test_a_message_the_query_fills(code: str, message: str) -> None:
    assert _matches(message, [code, "def unknown_key(section): pass"]) == {0: 1.0}


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ('throw new IllegalArgumentException("Illegal capacity: " + initialCapacity);', "Illegal capacity: -1"),
        ('quit("Could not copy "..original.." to "..f)', "Could not copy a.txt to b.txt"),
        ("throw new E('Unknown key ' . $key . ' in section');", "Unknown key timeout in section"),
        ('raise IOError(path + " could not be read")', "/etc/app.toml could not be read"),
    ],
)
def test_a_message_built_by_concatenation(code: str, message: str) -> None:
    assert _matches(message, [code, "capacity = read(key)"]) == {0: 1.0}


def test_each_quote_closes_the_literal_it_opened() -> None:
    # The keys before the message are literals too: read as pairs from the left, the quote
    # closing `'authorization'` does not open a literal `'] = ['` that hides the message.
    code = "$options['headers']['authorization'] = ['Authorization: Basic '.base64_encode($auth)];"
    assert _matches("Authorization: Basic dXNlcjpwYXNz", [code, "$basic = $authorization;"]) == {0: 1.0}


@pytest.mark.parametrize(
    "code",
    [
        'fprintf(stderr, "could not open %s\\n", path);',
        'io.stderr:write("could not open " .. path .. "\\n")',
        'printf("\\tcould not open %s\\r\\n", path);',
    ],
)
def test_escapes_print_as_white_space(code: str) -> None:
    # `\n` is no word `n` that the printed message would have to hold.
    assert _matches("could not open /etc/app.toml", [code, "open(path)"]) == {0: 1.0}


def test_a_message_cut_short_where_the_query_ends() -> None:
    # The code finishes the message on its next line; the pasted log line stops after the value.
    code = 'print("Post mortem debugger finished. The " + target +\n      " will be restarted")'
    other = "def restart(target):\n    debugger.finished = target"
    # Its words the query lacks count against it (5 of 5 + 3), as the query's own would.
    assert _matches("Post mortem debugger finished. The app.py", [code, other]) == {0: 5 / 8}
    assert _matches("Post mortem debugger finished. The app.py will be restarted", [code, other]) == {0: 1.0}
    # A whole message outranks one it could be the start of.
    whole = 'raise LockError("Failed to put off the expiration of the lock.")'
    longer = 'raise LockError("Failed to put off the expiration of the %s lock within the time." % key)'
    shares = _matches("Failed to put off the expiration of the lock.", [whole, longer])
    assert shares[0] == 1.0 and shares[1] < 1.0
    # Words after the value that the message does not hold: not this message.
    assert _matches("Post mortem debugger finished. The app.py crashed again", [code, other]) == {}
    # Cut before three fixed words: too little to tell a message.
    assert _matches("Debugger stopped: app.py", ['log("Debugger stopped: " + t + " at its breakpoint")']) == {}


def test_a_message_cut_short_inside_its_words() -> None:
    # The log line stops a word or two after the value: 6 of the message's 8 words, 2 missing.
    code = 'print("Post mortem debugger finished. The " + target +\n      " will be restarted")'
    assert _matches("Post mortem debugger finished. The app.py will", [code]) == {0: 6 / 8}
    assert _matches("Post mortem debugger finished. The app.py will be", [code]) == {0: 7 / 8}
    # It is cut where the query ends: a word the message does not hold next is another message.
    assert _matches("Post mortem debugger finished. The app.py will not", [code]) == {}
    # Two fixed words and one after the value make the three a message needs.
    lookup = 'raise KeyError(f"Unknown key {key!r} in section {section}")'
    assert _matches("Unknown key 'timeout' in", [lookup]) == {0: 3 / 4}
    assert _matches("Unknown key 'timeout'", [lookup]) == {}
    # The value may hold the words that come after the cut: the query ends with the piece's
    # first words, wherever else they appear (3 fixed words of 5, and 3 of the 6 missing).
    locked = 'raise CopyError("Cannot copy %s because it is locked" % name)'
    assert _matches("Cannot copy it.txt because", [locked]) == {0: 3 / 6}


def test_two_words_are_a_message_only_around_a_value() -> None:
    assert _matches("not found anywhere today", ['raise KeyError("not found")']) == {}
    assert _matches("Illegal capacity today", ['raise E("Illegal capacity")']) == {}


def test_words_around_the_message_count_against_it_and_values_do_not() -> None:
    code = 'raise OSError("Config file %s could not be read" % path)'
    assert _matches("Config file /etc/app/settings.toml could not be read", [code]) == {0: 1.0}
    # A log line's level and logger are not the message (its numbers say little): 6 words of 8.
    log_line = "2026-12-07 12:00:01 ERROR loader: Config file /etc/app/settings.toml could not be read"
    assert _matches(log_line, [code]) == {0: pytest.approx(6 / 8)}


def test_what_is_no_message() -> None:
    code = 'headers = {"Content-Type": "multipart/form-data", "X": "%s %s"}\nx = "is %s not"'
    assert _matches("multipart form data upload", [code]) == {}  # a MIME type is no prose
    assert _matches("is done not now", [code]) == {}  # two fixed words are too few
    assert _matches("Unknown section in key", ['raise KeyError("Unknown key %s in section %s")']) == {}


def test_a_hostile_query_cannot_make_a_message_backtrack() -> None:
    # One pattern with a lazy gap per placeholder took 55 s on 200 words of this; each piece is
    # now found in turn. The alarm turns a hang into a failure.
    signal.signal(signal.SIGALRM, lambda *_: pytest.fail("verbatim_matches backtracked"))
    signal.alarm(10)
    try:
        code = ['x = "ab cd %s ab cd %s ab cd %s ef gh"', "ab cd " * 1000]
        assert _matches("ef gh " + "ab cd " * 1000, code) == {}
        assert _matches("ab cd 1 ab cd 2 ab cd 3 ef gh", code) == {0: 1.0}
    finally:
        signal.alarm(0)


# -- through the engine, on a real index -------------------------------------------------------

CONFIG_PY = """def lookup(config, section, key):
    if key not in config[section]:
        raise KeyError(f"Unknown key {key!r} in section {section}")
    return config[section][key]


def load(path):
    try:
        return parse(open(path).read())
    except OSError as err:
        raise LoadError("Config file %s could not be read: %s" % (path, err))
"""

SECTIONS_PY = '''def read_section(config, section, key=None):
    """Read a config section: every key of the section, or one key.
    An unknown key or an unknown section reads as empty; a config file
    the loader cannot read is reported by the loader."""
    section_keys = config.get(section, {})
    return section_keys if key is None else section_keys.get(key)


def unknown_keys(config, section, known):
    """The keys of a config section that are unknown, section by section."""
    return [key for key in config.get(section, {}) if key not in known]
'''


@pytest.fixture(scope="module")
def messages_index(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> IndexStore:
    tmp = tmp_path_factory.mktemp("verbatim")
    root = tmp / "ws"
    for rel, text in {"app/config.py": CONFIG_PY, "app/sections.py": SECTIONS_PY}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    settings = settings_for(tmp)
    store = IndexStore.open(tmp / "index", embedder.model_id, embedder.dim, create=True)
    Indexer(settings, store, embedder, ParserRouter(settings.features, settings.performance)).index(root)
    return store


QUERIES = {
    "Unknown key 'timeout' in section server": "lookup",
    "2026-12-07 12:00:01 ERROR app: Config file /etc/app.toml could not be read: permission denied": "load",
    "could not be read": "load",
    "Unknown key 'timeout' in": "lookup",  # a log line cut short
}


@pytest.mark.parametrize("mode", ["hybrid", "lexical"])
def test_a_pasted_message_finds_the_line_that_prints_it(
    messages_index: IndexStore, embedder: Embedder, mode: str
) -> None:
    engine = SearchEngine(messages_index, embedder, mode=mode)
    for query, symbol in QUERIES.items():
        top = engine.search(query, 3)
        assert top[0].symbol == symbol, (mode, query, [r.symbol for r in top])
    # Without the signal the words alone point elsewhere: the test can tell.
    off = SearchEngine(messages_index, embedder, mode=mode, config=RankConfig().without("verbatim"))
    assert any(off.search(query, 1)[0].symbol != symbol for query, symbol in QUERIES.items())
    # A filter still decides what may be returned.
    filtered = engine.search("Unknown key 'timeout' in section server", 3, SearchFilters(path="app/sections.py"))
    assert filtered and all(r.path == "app/sections.py" for r in filtered)
    assert RankConfig().verbatim > 0 and RankConfig().without("verbatim").verbatim == 0


def test_long_and_hostile_queries_stay_fast_and_safe(messages_index: IndexStore, embedder: Embedder) -> None:
    engine = SearchEngine(messages_index, embedder, mode="lexical")
    for query in ("(" * 500 + "could not be read", "could not be read " * 300, "%s %d {} ${x} \\(y) " * 100):
        assert isinstance(engine.search(query, 3), list)
