"""Path priors: what a file's path says before its text is read.

Test, example and vendored paths (ranked down), prose and config files, and the words of a
file's name and folder that a query's keywords match (``ranking``'s path match and name cover).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from lapce_ai.chunking.model import TEST_KIND
from lapce_ai.search.corpus import BoolArray, Corpus, IntArray
from lapce_ai.search.named_files import FOLDER_NAMED
from lapce_ai.search.tokenize import QUERY_STOPWORDS, identifier_parts, stem_key

_TEST_PATH = re.compile(
    # Also Swift's and .NET's capitalised plurals (`Tests/`), Perl's `t/` and .NET test projects
    # (`Foo.Tests/`); not a capital singular: `Test/` is a library namespace (Perl Test::More,
    # Haskell Test.QuickCheck). Benchmarks by every name they go by (`bench/`, Rust's `benches/`).
    r"(?:^|/)(?:tests?|__tests__|spec|specs|testing|testdata|fixtures?|examples?|_examples?|samples?|"
    r"benchmarks?|benches|bench|docs?_src|vendor|third_party|node_modules|single_include|"
    r"Tests|Specs|TestData|Fixtures|Examples|Samples|Benchmarks|t|[^/]+\.(?:Unit|Integration)?Tests?)(?:/|$)"
    r"|(?:^|/)(?:test_[^/]*|[^/]*_test|[^/]*_spec|[^/]*[a-z0-9]Tests?|[^/]*Spec|[^/]*\.(?:test|spec))\.[A-Za-z0-9]+$"
    r"|\.d\.ts$"
)


PROSE_LANGUAGES = frozenset(
    {"markdown", "text", "rst", "asciidoc", "yaml", "json", "toml", "xml", "csv", "ini", "properties", ""}
)


@functools.lru_cache(maxsize=65536)
def path_penalized(path: str) -> bool:
    return _TEST_PATH.search(path) is not None


@functools.lru_cache(maxsize=65536)
def _stem_and_folder(path: str) -> tuple[str, str]:
    """A file's name without its extensions, and its folder's name ("" at the top)."""
    segments = [s for s in path.split("/") if s]
    stem = segments[-1].split(".", 1)[0] if segments else ""
    return stem, segments[-2] if len(segments) > 1 else ""


def stem_forms(name: str) -> tuple[str, str]:
    """A name as a file's stem is written: in lower case, with and without the underscores inside
    (a leading one is part of the name: Dart's private `_value` is not `value.dart`)."""
    lower = name.lower()
    core = lower.lstrip("_")
    return lower, lower[: len(lower) - len(core)] + core.replace("_", "")


def path_words(path: str) -> frozenset[str]:
    stem, folder = _stem_and_folder(path)
    words: set[str] = set()
    for seg in (stem, folder):
        for part in [seg.lower(), *identifier_parts(seg)]:
            if name_like(part):
                words.add(part)
                words.add("~" + stem_key(part))
    return frozenset(words)


def name_words(path: str) -> list[tuple[str, str]]:
    """The words of a file's name (its folder's for ``mod.rs``, ``index.ts``), each with its stem key."""
    stem, folder = _stem_and_folder(path)
    if stem.lower() in FOLDER_NAMED and folder:
        stem = folder
    # A word no query keeps (``to`` of ``to_json``) cannot count against the name.
    return [(p, "~" + stem_key(p)) for p in identifier_parts(stem) if name_like(p) and p not in QUERY_STOPWORDS]


@dataclass(frozen=True)
class _NameWords:
    by_form: dict[str, IntArray]  # a name word, or its stem key -> (file << 8) | the word's place in the name
    counts: npt.NDArray[np.float64]  # words in each file's name


def _files_by_name_word(corpus: Corpus) -> _NameWords:
    found: dict[str, list[int]] = {}
    counts = np.zeros(len(corpus.files), dtype=np.float64)
    for f, (_root, path) in enumerate(corpus.files):
        words = name_words(path)[:255]
        counts[f] = len(words)
        for place, (word, key) in enumerate(words):
            for form in {word, key}:
                found.setdefault(form, []).append((f << 8) | place)
    return _NameWords({form: np.asarray(codes, dtype=np.int64) for form, codes in found.items()}, counts)


def name_cover(corpus: Corpus, forms: list[tuple[str, str]], file_ids: IntArray) -> npt.NDArray[np.float64]:
    """For each of ``file_ids``: the share of its name's words the query holds (as written or by
    stem). ``Transaction.kt`` is all about "transaction management", ``TransactionManagersContainer.kt``
    a third."""
    index = corpus.derived("files_by_name_word", _files_by_name_word)
    hit = [index.by_form[form] for pair in forms for form in pair if form in index.by_form]
    if not hit:
        return np.zeros(file_ids.size, dtype=np.float64)
    words = np.unique(np.concatenate(hit))  # each word of a name once, however many keywords hit it
    covered = np.bincount(words >> 8, minlength=len(corpus.files))[file_ids].astype(np.float64)
    counts = index.counts[file_ids]
    return np.divide(covered, counts, out=np.zeros_like(covered), where=counts > 0)


def keyword_forms(keywords: tuple[str, ...]) -> list[tuple[str, str]]:
    """Each keyword with its stem key (as ``path_words`` holds them), computed once per query."""
    return [(kw, "~" + stem_key(kw)) for kw in keywords]


def _files_by_path_word(corpus: Corpus) -> dict[str, IntArray]:
    """Each word of a file's name or folder (as ``path_words`` holds them) -> those files."""
    files: dict[str, list[int]] = {}
    for f, (_root, path) in enumerate(corpus.files):
        for word in path_words(path):
            files.setdefault(word, []).append(f)
    return {word: np.asarray(fs, dtype=np.int64) for word, fs in files.items()}


def path_hits(corpus: Corpus, forms: list[tuple[str, str]], file_ids: IntArray) -> npt.NDArray[np.float64]:
    """For each of ``file_ids``: how many query keywords its name or folder holds (as written,
    or by stem), from a per-corpus word index rather than a set test per file and keyword."""
    index = corpus.derived("files_by_path_word", _files_by_path_word)
    hits = np.zeros(len(corpus.files), dtype=np.float64)
    for kw, stem in forms:
        by_word, by_stem = index.get(kw), index.get(stem)
        if by_word is not None and by_stem is not None:
            hits[np.union1d(by_word, by_stem)] += 1.0
        elif by_word is not None or by_stem is not None:
            hits[by_word if by_word is not None else by_stem] += 1.0
    return hits[file_ids]


def files_in_tests(corpus: Corpus) -> BoolArray:
    return np.asarray([path_penalized(path) for _root, path in corpus.files], dtype=bool)


def prose_chunks(corpus: Corpus) -> BoolArray:
    return np.asarray([lang in PROSE_LANGUAGES for lang in corpus.languages], dtype=bool)


def chunks_in_tests(corpus: Corpus) -> BoolArray:
    """Chunks of test files, and test blocks wherever they are."""
    in_test_files = corpus.derived("test_paths", files_in_tests)[corpus.file_of]
    return np.asarray(in_test_files | np.asarray([kind == TEST_KIND for kind in corpus.kinds]), dtype=bool)


def name_like(part: str) -> bool:
    """Whether a word may name a file: three characters or more, or two letters (``Op.kt``,
    ``io.go``, ``db/``); a single letter or two digits say nothing."""
    return len(part) > 2 or (len(part) == 2 and part.isalpha())
