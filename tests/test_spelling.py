"""A query word no chunk holds, one letter off a name or a common word of the code, is read as
that name or word, and a few words that spell a name as that name; every other word is left as
typed."""

from __future__ import annotations

import time

import pytest
from conftest import index_files

from lapce_ai.embedding.base import Embedder
from lapce_ai.index.store import IndexStore
from lapce_ai.search.corpus import Corpus
from lapce_ai.search.engine import SearchEngine, load_corpus
from lapce_ai.search.ranking import RankConfig
from lapce_ai.search.spelling import corrected


def _body(name: str, lines: int = 6) -> str:
    return "".join(f"    {name}_{i} = compute({i})\n" for i in range(lines))


# "dictionary" is in five chunks (a common word of this code), "exited" in one.
FILES = {
    "collections.py": "class OrderedDict:\n"
    + _body("ordered")
    + "\n\nclass Array:\n"
    + _body("array")
    + "\n\nclass ProcessClass:\n"
    + _body("ordered")
    + "\n\nclass ThreadPoolExecutor:\n"
    + _body("pool")
    + "\n\nclass Process:\n"
    + _body("proc")
    + "\n\ndef process(items):\n    # the process exited early\n"
    + _body("items"),
    "lookup.py": "".join(
        f"def lookup_{i}(key):\n    # read the dictionary entry\n{_body(f'k{i}')}\n\n" for i in range(5)
    ),
    "paths.py": "def clean_path(p):\n" + _body("path") + "\n\ndef join_paths(a, b):\n    return clean_path(a + b)\n",
    "server.py": "def serve(request):\n    return clean_path(request.path)\n",
    # Long methods: the class is cut into one chunk per method, none named after the class.
    "engine.py": "class SearchEngine:\n"
    + "    def search(self, query):\n"
    + _body("hit", 40).replace("    ", "        ")
    + "\n    def answer(self, query):\n"
    + _body("answer", 40).replace("    ", "        "),
    "route_table.py": "ROUTES = {}\n\n\ndef array_class(kind):\n    return ROUTES[kind]\n",
}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> IndexStore:
    return index_files(tmp_path_factory.mktemp("spelling"), FILES, embedder)


@pytest.fixture(scope="module")
def corpus(store: IndexStore) -> Corpus:
    return load_corpus(store)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("OrderdDict", "OrderedDict"),  # a letter left out
        ("OrderedDcit", "OrderedDict"),  # two swapped
        ("ThreadPoolExecuter", "ThreadPoolExecutor"),  # one replaced
        ("ThredPoolExecuter", "ThreadPoolExecutor"),  # two edits in a long name
        ("clean_pathh", "clean_path"),  # one added
        ("Proccess", "Process"),  # spelled as the code spells it, closest to how it was typed
        ("proccess", "process"),
        ("where is OrderdDict defined", "where is OrderedDict defined"),
        ("who calls clean_pth", "who calls clean_path"),
        ("dictionray", "dictionary"),  # a word five chunks hold
        ("read the `dictionray` entry", "read the `dictionary` entry"),
        ("where is Proccess defined in the colections module", "where is Process defined in the colections module"),
        ("how does OrderdDict keep order", "how does OrderedDict keep order"),  # a word shaped like code
        ("when does the Proccess stop", "when does the Process stop"),  # capitalised in a sentence
        ("Dictionaries of ordered items", "Dictionaries of ordered items"),  # but its first word
        ("the Dictionray entry", "the Dictionary entry"),  # a common word, in the case typed
    ],
)
def test_a_typo_is_read_as_the_word_it_misses(corpus: Corpus, typed: str, meant: str) -> None:
    assert corrected(typed, corpus) == meant


@pytest.mark.parametrize(
    "typed",
    [
        "OrderedDict",  # known
        "OdrerdDict",  # two edits off a name shorter than 12 letters
        "zebra crossing",  # nothing near
        "where is prpoerty defined",
        "edited",  # "exited" is one chunk's word: too rare to be what was meant
        "read a dictionray entry",  # a sentence's English words are left to the dense side
        "callees of clean_path",  # not "callers"
        "Proc",  # too short to tell
        "rderedDict",  # the first letter is never the typo
        "how is the OrderdDict used by " + " ".join(f"word{i}" for i in range(12)),  # a pasted text
    ],
)
def test_other_words_are_left_as_typed(corpus: Corpus, typed: str) -> None:
    assert corrected(typed, corpus) == typed


def test_a_misspelled_name_finds_its_definition_and_answers_its_question(store: IndexStore, embedder: Embedder) -> None:
    engine = SearchEngine(store, embedder)
    assert engine.search("OrderdDict", 3)[0].symbol == "OrderedDict"
    assert engine.search("where is ThreadPoolExecuter defined", 3)[0].symbol == "ThreadPoolExecutor"
    callers = {r.symbol for r in engine.search("who calls clean_pth", 2)}
    assert callers == {"join_paths", "serve"}


@pytest.mark.parametrize("mode", ["dense", "hybrid"])
def test_the_dense_side_searches_for_the_name_meant(store: IndexStore, embedder: Embedder, mode: str) -> None:
    # Its vector is the corrected query's, not the typo's ("TPE" says nothing to a model).
    engine = SearchEngine(store, embedder, mode=mode)
    for typed, meant in (
        ("OrderdDict", "OrderedDict"),
        ("TPE", "ThreadPoolExecutor"),
        ("who calls clean_pth", "who calls clean_path"),
    ):
        answer = engine.answer(typed, 5)
        assert answer.corrected_query == meant
        assert answer.results == engine.search(meant, 5), typed


def test_a_search_worker_hands_a_corrected_query_back_to_be_embedded(store: IndexStore, embedder: Embedder) -> None:
    # A worker process has no model: given the typed query's vector, it does not search with it.
    worker = SearchEngine(store, None)
    typed_vector = SearchEngine(store, embedder).embed_query("TPE")
    handed = worker.search_unrecorded("TPE", 5, vector=typed_vector, respell=True)
    assert handed is not None and handed.respell and handed.results == []
    assert handed.corrected_query == "ThreadPoolExecutor"
    vector = SearchEngine(store, embedder).embed_query("ThreadPoolExecutor")
    searched = worker.search_unrecorded("ThreadPoolExecutor", 5, vector=vector, respell=True)
    assert searched is not None and not searched.respell
    assert searched.results == SearchEngine(store, embedder).search("TPE", 5)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("thread pool executor", "ThreadPoolExecutor"),
        ("Ordered Dict", "OrderedDict"),
        ("clean path", "clean_path"),
        ("route table", "route_table"),  # a file's name
        ("clean the path", "clean the path"),  # no name is spelled so
        ("thread pool executor service", "thread pool executor service"),
        ("how clean path works", "how clean path works"),  # no question asks for a name
        ("where is thread pool executor defined", "where is ThreadPoolExecutor defined"),
        ("who calls clean path", "who calls clean_path"),
        ("who calls clean path in the server", "who calls clean_path in the server"),
        ("where is the route table", "where is the route_table"),
        # A question about a name already: a kind word joins into a name of that kind only.
        ("where is the Array class declared", "where is the Array class declared"),  # array_class: a function
        ("where is the process class defined", "where is the ProcessClass defined"),  # a class
    ],
)
def test_words_that_spell_a_name_are_read_as_it(corpus: Corpus, typed: str, meant: str) -> None:
    assert corrected(typed, corpus) == meant


def test_a_name_typed_as_words_finds_its_definition(store: IndexStore) -> None:
    answer = SearchEngine(store, None, mode="lexical").answer("thread pool executor", 3)
    assert answer.corrected_query == "ThreadPoolExecutor" and answer.results[0].symbol == "ThreadPoolExecutor"


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("ThreadPoolExe", "ThreadPoolExecutor"),  # typed so far
        ("SearchEng", "SearchEngine"),  # a class cut into its members
        ("clean_pa", "clean_path"),
        ("route_tab", "route_table"),  # a file's name
        ("proces", "process"),  # of the names it begins, the one most chunks hold
        ("Proce", "Process"),  # spelled as typed
        ("ThreadPoolExecutorX", "ThreadPoolExecutor"),  # not a prefix: a letter too many
        ("where is ThreadPoolExe defined", "where is ThreadPoolExecutor defined"),  # the name a question asks about
        ("the ThreadPoolExe is slow", "the ThreadPoolExe is slow"),  # a sentence's word: only its typos
    ],
)
def test_a_name_typed_in_part_is_read_as_the_name_it_begins(corpus: Corpus, typed: str, meant: str) -> None:
    assert corrected(typed, corpus) == meant


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("TPE", "ThreadPoolExecutor"),  # its initials
        ("ThPoEx", "ThreadPoolExecutor"),  # the first letters of each part
        ("PoolExecutor", "ThreadPoolExecutor"),  # its end
        ("PoolEx", "ThreadPoolExecutor"),
        ("OrdDict", "OrderedDict"),  # a part cut short: not a typo two edits off
        ("SeEn", "SearchEngine"),  # a class cut into its members
        ("PrCl", "ProcessClass"),
        ("OrDICT", "OrderedDict"),  # a run of capitals is one hump where each capital is none
        ("clPa", "clean_path"),  # spelled as the code spells it
        ("cl_pa", "clean_path"),
        ("RoTa", "route_table"),  # a file's name
        ("TPX", "TPX"),  # no name has those parts
        ("TP", "TP"),  # too short to tell
        ("tpe", "tpe"),  # one hump
        ("PoolThread", "PoolThread"),  # the parts in another order
        ("where is TPE defined", "where is ThreadPoolExecutor defined"),  # the name a question asks about
        ("who calls clPa", "who calls clean_path"),
        ("the TPE is slow", "the TPE is slow"),  # a sentence's word: only its typos
    ],
)
def test_a_name_typed_by_its_humps_is_read_as_the_name_they_begin(corpus: Corpus, typed: str, meant: str) -> None:
    assert corrected(typed, corpus) == meant


HUMP_FILES = {
    "pools.py": "class ThreadPoolExecutorService:\n"
    + _body("service", 3)
    + "\n\nclass ThreadPoolExecutor:\n"
    + _body("thread")
    + "\n\nclass ProcessPoolExecutor:\n"
    + _body("process"),
    # The file's name is in all four of its chunks, the class's in one.
    "async_cache.py": "class AsyncCache:\n"
    + _body("cache")
    + "".join(f"\n\ndef fetch_{i}(key):\n{_body(f'f{i}')}" for i in range(3)),
    "uses.py": "".join(f"def make_{i}():\n    return ProcessPoolExecutor({i})\n\n\n" for i in range(3))
    + "".join(f"def run_{i}():\n    return ThreadPoolExecutorService({i})\n\n\n" for i in range(5)),
}


@pytest.fixture(scope="module")
def hump_store(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> IndexStore:
    return index_files(tmp_path_factory.mktemp("humps"), HUMP_FILES, embedder)


def test_of_the_names_humps_begin_the_closest_wins(hump_store: IndexStore) -> None:
    corpus = load_corpus(hump_store)
    # Every part typed beats more chunks: ThreadPoolExecutorService is held by 6 chunks, ThreadPoolExecutor by 1.
    assert corrected("TPE", corpus) == "ThreadPoolExecutor"
    assert corrected("TPES", corpus) == "ThreadPoolExecutorService"
    # An end that two names share: the one more chunks hold.
    assert corrected("PoolExecutor", corpus) == "ProcessPoolExecutor"
    # Humps typed in camel case mean a name written so, with underscores one written with them.
    assert corrected("AsCa", corpus) == "AsyncCache"
    assert corrected("as_ca", corpus) == "async_cache"


def test_a_name_typed_by_its_humps_finds_its_definition(store: IndexStore) -> None:
    answer = SearchEngine(store, None, mode="lexical").answer("TPE", 3)
    assert answer.corrected_query == "ThreadPoolExecutor" and answer.results[0].symbol == "ThreadPoolExecutor"
    plain = SearchEngine(store, None, mode="lexical", config=RankConfig(spelling=False))
    assert plain.search("TPE", 3) == []


def test_a_class_cut_into_its_members_is_a_name_too(corpus: Corpus) -> None:
    assert "searchengine" not in corpus.by_symbol  # no chunk is named after it
    assert corrected("search engine", corpus) == "SearchEngine"
    assert corrected("where is SearchEngin defined", corpus) == "where is SearchEngine defined"


def test_a_hostile_query_costs_a_few_look_ups(corpus: Corpus) -> None:
    words = " ".join(f"Qzxv{i}wkpt" for i in range(12))
    assert corrected(words, corpus) == words
    started = time.perf_counter()
    corrected("x" * 2000, corpus)
    corrected(words, corpus)
    assert time.perf_counter() - started < 1.0


def test_lexical_search_finds_nothing_for_a_typo_without_the_correction(store: IndexStore) -> None:
    engine = SearchEngine(store, None, mode="lexical")
    assert engine.search("Proccess", 1)[0].symbol == "Process"
    plain = SearchEngine(store, None, mode="lexical", config=RankConfig(spelling=False))
    assert plain.search("Proccess", 3) == []
