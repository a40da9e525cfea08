"""More languages for the "which file is about X?" evaluation of ``docs_eval.py``, from fetched sources.

Same rule as ``docs_eval``: the query is the first sentence of a file's own top documentation,
the answer is that file, and the indexed copy has that documentation blanked. Every language
here is one corpus built from a language's standard or core library (none of our dev-set
languages, no application library):

- haskell: haskell/containers, bytestring, text, stm, filepath, directory, mtl, time, process,
  parsec, binary, unix (library modules, ``.hs`` only; no tests or benchmarks). Query: the Haddock
  module header (``-- |`` / ``{-|`` before ``module``), fields (Module, Copyright, License, ...),
  headings, code and "internal module" warnings dropped.
- scala: scala/scala ``src/library/scala`` (the standard library; ``runtime/java8`` left out).
  Query: the Scaladoc of the top-level class/trait/object named like the file, ``$macros``
  expanded from the file's ``@define``s. Function/Tuple/Product<N> give no query (generated).
- swift: apple/swift-collections and apple/swift-algorithms ``Sources``. Query: the ``///`` doc of
  the type named like the file (last dotted part: ``BitSet.Index``), else of the first top-level type.
- csharp: dotnet/corefx at tag v3.1.0 (its default branch is archived empty), the ``src`` folders
  of System.Collections.Immutable, System.Linq, System.Text.Json, System.Threading.Channels and
  System.IO.Pipelines. Query: the ``<summary>`` of the type named like the file
  (``ImmutableList_1.Builder.cs`` -> ``Builder``), XML tags stripped.
- c: bminor/glibc (GitHub mirror of the GNU C Library) string, stdlib, libio, malloc and time,
  no test files. Query: the description that opens the header comment, up to its "Copyright"
  line; the whole header comment is blanked. The ~70 generated ``stdc_*`` (<stdbit.h>) files
  give no query.
- dart: dart-lang/core, the ``lib`` folders of its packages (args, async, characters, collection,
  convert, crypto, fixnum, logging, os_detect, path, platform, typed_data). Query: the ``///`` doc
  of the type named like the file (``equality_map.dart`` -> ``EqualityMap``), else of the
  library (``///`` before ``library``), else of the first top-level type.

The exact commits are in ``SOURCES`` below. The corpora live outside every repository, under
``$LAPCE_DOCS_SOURCES/<language>/`` (default ``/work/corpora/docs``); a language whose folder is
missing yields no file and is skipped. To reproduce them with internet access::

    git clone https://github.com/<owner>/<name> && git -C <name> checkout <commit>
    # then copy the listed paths, keeping them, under $LAPCE_DOCS_SOURCES/<language>/<name>/

or, with bare mirrors under ``/work/.mirror/<owner>+<name>/repo`` (what ``--export`` reads)::

    python bench/quality/docs_fetched.py --export   # git archive <commit> <paths> | tar -x
    python bench/quality/docs_fetched.py --stats    # files, documented files, queries, samples
"""

from __future__ import annotations

import argparse
import html
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import docs_eval

MIRRORS = Path("/work/.mirror")
Doc = tuple[str, int, int]


def sources_root() -> Path:
    return Path(os.environ.get("LAPCE_DOCS_SOURCES", "/work/corpora/docs"))


@dataclass(frozen=True)
class Source:
    repo: str  # owner/name on GitHub
    commit: str
    paths: tuple[str, ...]  # folders exported from that commit

    @property
    def folder(self) -> str:
        return self.repo.split("/")[1]


SOURCES: dict[str, tuple[Source, ...]] = {
    "haskell": (
        Source("haskell/containers", "85a1ab5ee1be91d712ddaf2e61a4b0bce5b7ab1e", ("containers/src",)),
        Source("haskell/bytestring", "da6f41a98397967a953ad8d00c7f1b9bb23fa713", ("Data",)),
        Source("haskell/text", "423fd981e576bd17a8b5fa48d0ad6b9a0c370e77", ("src",)),
        Source("haskell/stm", "c91150496675bab17218b723bbfa1ca07bdebb93", ("Control",)),
        Source("haskell/filepath", "7ff721a296f93e129dd4a0326c6011bf98df09d7", ("System",)),
        Source("haskell/directory", "19139eabf11fa650c39e79ca10efd45b741ab031", ("System",)),
        Source("haskell/mtl", "f69c6d314b010e54529d6fe56fb5874b9a46ec5f", ("Control",)),
        Source("haskell/time", "24ddc629d3da321f4d6bf36ea7b329ffc7978032", ("lib",)),
        Source("haskell/process", "e1be5b65eb7a9af6eca567b9f22cb54e7066e634", ("System",)),
        Source("haskell/parsec", "b87122c1c74b8240e65044a8f600f0427d4dd9c3", ("src",)),
        Source("haskell/binary", "c6cc03b5adde2582c2b6b85a3a29405f10a9d1fb", ("src",)),
        Source("haskell/unix", "71f37398b0a7b1af52c306fdb6e44749e5fcfa99", ("System",)),
    ),
    "scala": (Source("scala/scala", "75a4352f73d5a22c61974a62055ce5909d6ef90c", ("src/library/scala",)),),
    "swift": (
        Source("apple/swift-collections", "f425dffd5bf70fe2a880c5eb6568bbdcade9f4f5", ("Sources",)),
        Source("apple/swift-algorithms", "5b7143f8e291dee0e14c118fd0212487f0b37af5", ("Sources",)),
    ),
    "csharp": (
        Source(
            "dotnet/corefx",
            "0f7f38c4fd323b26da10cce95f857f77f0f09b48",  # tag v3.1.0 (the default branch is archived empty)
            tuple(
                f"src/{lib}/src"
                for lib in (
                    "System.Collections.Immutable",
                    "System.Linq",
                    "System.Text.Json",
                    "System.Threading.Channels",
                    "System.IO.Pipelines",
                )
            ),
        ),
    ),
    "c": (
        Source(
            "bminor/glibc",
            "04e750e75b73957cf1c791535a3f4319534a52fc",
            ("string", "stdlib", "libio", "malloc", "time"),
        ),
    ),
    "dart": (
        Source(
            "dart-lang/core",
            "25926e846003a123e5249df42c5a1ce30c246e3a",
            tuple(
                f"pkgs/{pkg}/lib"
                for pkg in (
                    "args",
                    "async",
                    "characters",
                    "collection",
                    "convert",
                    "crypto",
                    "fixnum",
                    "logging",
                    "os_detect",
                    "path",
                    "platform",
                    "typed_data",
                )
            ),
        ),
    ),
}

EXTENSIONS = {
    "haskell": (".hs",),
    "scala": (".scala",),
    "swift": (".swift",),
    "csharp": (".cs",),
    "c": (".c", ".h"),
    "dart": (".dart",),
}
# Tests, benchmarks and generated code are not part of a library's scope.
_SKIP = {
    "haskell": re.compile(r"(^|/)(tests?|bench(marks)?)/"),
    "scala": re.compile(r"^scala/src/library/scala/runtime/java8/"),
    "swift": re.compile(r"(^|/)Tests/"),
    "csharp": re.compile(r"(^|/)(tests?|ref)/|\.Designer\.cs$|(^|/)Strings?\.cs$"),
    "c": re.compile(r"(^|/)((tst|bug|test|bench|gen-tst)[-_][^/]*|[^/]*tester\.c|stratcliff\.c|mallocbug\.c)$"),
    "dart": re.compile(r"\.g\.dart$"),  # generated
}


# -- export -----------------------------------------------------------------------------------


def export(root: Path, mirrors: Path = MIRRORS) -> None:
    """Export every source from its bare mirror into ``root/<language>/<repo name>/``."""
    for lang, sources in SOURCES.items():
        for src in sources:
            git_dir = mirrors / src.repo.replace("/", "+") / "repo"
            dest = root / lang / src.folder
            if not git_dir.is_dir():
                print(f"{lang}: no mirror at {git_dir}, skipped", file=sys.stderr)
                continue
            dest.mkdir(parents=True, exist_ok=True)
            archive = subprocess.run(
                ["git", "--git-dir", str(git_dir), "archive", "--format=tar", src.commit, "--", *src.paths],
                check=True,
                capture_output=True,
            )
            subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
            print(f"{lang}: {src.repo}@{src.commit[:12]} -> {dest}")


def _files(lang: str) -> Iterator[tuple[str, str]]:
    base = sources_root() / lang
    if not base.is_dir():
        return
    for path in sorted(p for p in base.rglob("*") if p.suffix in EXTENSIONS[lang] and p.is_file()):
        rel = path.relative_to(base).as_posix()
        if _SKIP[lang].search(rel):
            continue
        try:
            yield rel, path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue


def _line_of(source: str, offset: int) -> int:
    return source.count("\n", 0, offset) + 1


# -- Haskell ----------------------------------------------------------------------------------

_HS_FIELD = re.compile(r"^\s*[A-Z][A-Za-z-]*\s*:")  # Module : ..., Copyright : ..., Stability : ...
_HS_BOILER = re.compile(r"(?i)^\s*(\(c\)|copyright|license|maintainer|stability|portability)\b")


def _haddock_markup(text: str) -> str:
    text = re.sub(r"<(?:https?://\S+)\s+([^>]*)>", r"\1", text)  # <url label>
    text = re.sub(r"<https?://[^>]*>", "", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # [label](url)
    text = re.sub(r"^\s*\[[^\]\n]*\]\s*", "", text, flags=re.MULTILINE)  # [definition list label]
    text = re.sub(r"@([^@\n]*)@", r"\1", text)
    text = re.sub(r"'([A-Za-z_][\w.']*)'", r"\1", text)  # 'Identifier'
    text = re.sub(r"\"([A-Z][\w.]*)\"", r"\1", text)  # "Module.Name"
    text = re.sub(r"(?<![\w/])/([^/\n]+)/(?![\w/])", r"\1", text)  # /emphasis/
    text = re.sub(r"__([^_\n]+)__", r"\1", text)
    return re.sub(r"\\(.)", r"\1", text)  # \' \" \/ escapes


_HS_INTERNAL = re.compile(
    r"(?i)internal module|module is (considered )?internal|stable API|contact the maintainers|"
    r"^see the notes|^internal modules are|subject to change|^\s*\[note|package versioning policy|"
    r"maintainers are glad|liable to change|^this module was written based on"
)


def _drop_boilerplate(text: str, boiler: re.Pattern[str]) -> str:
    paragraphs = re.split(r"\n\s*\n", text)
    return "\n\n".join(p for p in paragraphs if p.strip() and not boiler.search(p.strip()))


def haskell_doc(source: str, _stem: str) -> Doc | None:
    """The Haddock module header (the last ``-- |`` or ``{-|`` block before ``module``), fields dropped."""
    m = re.search(r"^module\s", source, re.MULTILINE)
    if m is None:
        return None
    lines = source[: m.start()].split("\n")
    heads = [i for i, line in enumerate(lines) if re.match(r"\s*(--\s*\||\{-\s*\|)", line)]
    if not heads:
        return None
    start = end = heads[-1]
    if lines[start].lstrip().startswith("{-"):
        while end < len(lines) - 1 and "-}" not in lines[end]:
            end += 1
        body = re.sub(r"^\s*\{-\s*\|?", "", "\n".join(lines[start : end + 1]))
        text_lines = re.sub(r"-\}\s*$", "", body).split("\n")
    else:
        while end < len(lines) - 1 and lines[end + 1].lstrip().startswith("--"):
            end += 1
        while start > 0 and lines[start - 1].lstrip().startswith("--"):
            start -= 1
        text_lines = [re.sub(r"^\s*--+\s?\|?\s?", "", line) for line in lines[start : end + 1]]
    kept: list[str] = []
    in_field = False
    for line in text_lines:
        if _HS_FIELD.match(line) or _HS_BOILER.match(line):
            in_field = True
            continue
        if in_field and line.strip() and line.startswith((" ", "\t")):
            continue  # a field's continuation line
        in_field = False
        if re.match(r"\s*(=+|>|[*-]|\d+\.|\(\d+\))\s", line) or set(line.strip()) <= {"-", "~"}:
            kept.append("")  # headings, code, list items, rules
            continue
        kept.append(line)
    text = _drop_boilerplate(_haddock_markup("\n".join(kept)), _HS_INTERNAL).replace("\\/", "/").strip()
    if not text:
        return None
    return text, start + 1, end + 1


# -- Scala ------------------------------------------------------------------------------------

_SCALA_DECL = re.compile(
    r"/\*\*(?P<doc>(?:(?!\*/).)*?)\*/\s*(?:@[\w.]+(?:\([^)]*\))?\s*)*"
    r"(?:(?:private|protected)(?:\[\w+\])?\s+|abstract\s+|final\s+|sealed\s+|implicit\s+|case\s+|open\s+)*"
    r"(?:class|trait|object)\s+(?P<name>\w+)",
    re.DOTALL,
)


def _scaladoc_text(doc: str, defines: dict[str, str]) -> str:
    lines = [re.sub(r"^\s*\*\s?", "", line) for line in doc.splitlines()]
    kept: list[str] = []
    for line in lines:
        if line.lstrip().startswith("@"):
            break
        kept.append(line)
    text = "\n".join(kept)
    for _ in range(3):  # nested $macros
        text = re.sub(r"\$\{?(\w+)\}?", lambda m: defines.get(m.group(1), m.group(0)), text)
    text = re.sub(r"\[\[(?:[\w.$#]+\s+)?([^\]]*)\]\]", lambda m: m.group(1).split(".")[-1], text)
    text = re.sub(r"\{\{\{(.*?)\}\}\}", r"\1", text, flags=re.DOTALL)
    text = text.replace("`", "").replace("'''", "").replace("''", "").replace("__", "")
    text = re.sub(r"<[^>]+>", "", text)
    return html.unescape(text)


_GENERATED_SCALA = re.compile(r"(Abstract)?(Function|Tuple|Product)\d+$")


def scala_doc(source: str, stem: str) -> Doc | None:
    """The Scaladoc of the top-level class, trait or object named like the file ($macros expanded)."""
    if _GENERATED_SCALA.match(stem):
        return None  # Function0..22, Tuple1..22, Product1..22: generated, near-identical docs
    defines: dict[str, str] = {}
    for m in re.finditer(r"@define\s+(\w+)\s+((?:(?!\n\s*\*\s*@).)*)", source, re.DOTALL):
        defines.setdefault(m.group(1), " ".join(re.sub(r"\n\s*\*", " ", m.group(2)).split()))
    found: list[Doc] = []
    for m in _SCALA_DECL.finditer(source):
        if m.group("name") != stem:
            continue
        text = _scaladoc_text(m.group("doc"), defines)
        span = (_line_of(source, m.start()), _line_of(source, m.end("doc")))
        found.append((text, *span))
        sentence = docs_eval.first_sentence(text)
        if docs_eval._usable(sentence) and "$" not in sentence:
            return found[-1]
    return found[0] if found else None


# -- Swift ------------------------------------------------------------------------------------

_SWIFT_DECL = re.compile(
    r"(?P<doc>(?:^[ \t]*///.*\n)+)(?:^[ \t]*@.*\n)*^(?P<indent>[ \t]*)"
    r"(?:(?:public|internal|package|private|fileprivate|open|final|frozen|indirect|nonisolated)\s+)*"
    r"(?:struct|class|enum|protocol|actor)\s+(?P<name>\w+)",
    re.MULTILINE,
)


def _swift_text(doc: str) -> str:
    text = "\n".join(re.sub(r"^\s*///\s?", "", line) for line in doc.splitlines())
    text = re.sub(r"``([^`]*)``", r"\1", text)
    text = text.replace("`", "")
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return text.replace("**", "")


def swift_doc(source: str, stem: str) -> Doc | None:
    """The ``///`` doc of the type named like the file (last dotted part), else of the first top-level type."""
    first: Doc | None = None
    for m in _SWIFT_DECL.finditer(source):
        doc = (_swift_text(m.group("doc")), _line_of(source, m.start("doc")), _line_of(source, m.end("doc")) - 1)
        if m.group("name") == stem.split(".")[-1]:
            return doc
        if first is None and not m.group("indent"):
            first = doc
    return first


# -- C# ---------------------------------------------------------------------------------------

_CS_DECL = re.compile(
    r"(?P<doc>(?:^[ \t]*///.*\n)+)(?:^[ \t]*\[.*\]\s*\n)*[ \t]*"
    r"(?:(?:public|internal|private|protected|static|sealed|abstract|partial|readonly|unsafe|ref)\s+)*"
    r"(?:class|struct|interface|enum|record)\s+(?P<name>\w+)",
    re.MULTILINE,
)


def _xml_doc_text(doc: str) -> str:
    text = "\n".join(re.sub(r"^\s*///\s?", "", line) for line in doc.splitlines())
    m = re.search(r"<summary>(.*?)</summary>", text, re.DOTALL)
    if m is None:
        return ""
    text = m.group(1)
    text = re.sub(
        r"<see(?:also)?\s+(?:cref|langword|href)=\"(?:\w:)?([^\"]*)\"\s*/>",
        lambda g: re.sub(r"\{.*\}|`\d+|\(.*\)", "", g.group(1)).split(".")[-1],
        text,
    )
    text = re.sub(r"<(?:paramref|typeparamref)\s+name=\"([^\"]*)\"\s*/>", r"\1", text)
    text = re.sub(r"<[^>]+>", "", text)
    return html.unescape(text)


def csharp_doc(source: str, stem: str) -> Doc | None:
    """The ``<summary>`` of the type named like the file (``ImmutableList_1.Builder`` -> ``Builder``)."""
    name = re.sub(r"_\d+$", "", stem.split(".")[-1])
    for m in _CS_DECL.finditer(source):
        if m.group("name") == name:
            return _xml_doc_text(m.group("doc")), _line_of(source, m.start("doc")), _line_of(source, m.end("doc")) - 1
    return None


# -- C ----------------------------------------------------------------------------------------

_C_BOILER = re.compile(
    r"(?i)^\s*(copyright|this file is part of|contributed by|written by|\$id|the gnu c library is free|"
    r"all rights reserved|see copyright notice)"
)


def c_doc(source: str, _stem: str) -> Doc | None:
    """The description at the top of the file's first comment, up to its Copyright line (glibc style)."""
    if _stem.startswith("stdc_"):
        return None  # the C23 <stdbit.h> family: ~70 generated one-liners ("Bit width for unsigned short.")
    m = re.match(r"\s*/\*(?P<body>.*?)\*/", source, re.DOTALL)
    if m is None:
        return None
    kept: list[str] = []
    for line in m.group("body").split("\n"):
        line = re.sub(r"^\s*\*+\s?", "", line)
        if _C_BOILER.match(line):
            break
        kept.append(line)
    # "mpn_add_n -- Add two limb vectors ...": the function name is a give-away, the rest describes.
    text = re.sub(r"^[\w.]+(?:\([^)]*\))?\s+--\s+", "", "\n".join(kept).strip())
    if not text:
        return None
    return text, _line_of(source, m.start("body")), _line_of(source, m.end())


# -- Dart -------------------------------------------------------------------------------------

_DART_DECL = re.compile(
    r"(?P<doc>(?:^[ \t]*///.*\n)+)(?:^[ \t]*@.*\n)*^(?P<indent>[ \t]*)"
    r"(?:(?:abstract|base|final|interface|sealed|mixin)\s+)*"
    r"(?P<kw>class|mixin|enum|extension\s+type|extension|typedef|library)\b\s*(?P<name>\w*)",
    re.MULTILINE,
)


def dart_doc(source: str, stem: str) -> Doc | None:
    """The ``///`` doc of the type named like the file (snake_case), else of the library, else of
    the first top-level type."""
    wanted = stem.replace("_", "").lower()
    library: Doc | None = None
    first: Doc | None = None
    for m in _DART_DECL.finditer(source):
        if m.group("indent"):
            continue
        text = re.sub(r"\[([^\]]+)\](?:\[[^\]]*\])?", r"\1", _swift_text(m.group("doc")))  # [Ref], [text][ref]
        doc = (text, _line_of(source, m.start("doc")), _line_of(source, m.end("doc")) - 1)
        if m.group("kw") == "library":
            library = library or doc
            continue
        if m.group("name").lower() == wanted:
            return doc
        first = first or doc
    return library or first


# -- registry ---------------------------------------------------------------------------------

FilesFn = Callable[[], Iterator[tuple[str, str]]]
DocFn = Callable[[str, str], Any]
DOC_OF: dict[str, DocFn] = {
    "haskell": haskell_doc,
    "scala": scala_doc,
    "swift": swift_doc,
    "csharp": csharp_doc,
    "c": c_doc,
    "dart": dart_doc,
}


def _lang_files(lang: str) -> FilesFn:
    return lambda: _files(lang)


LANGUAGES: dict[str, tuple[FilesFn, DocFn]] = {lang: (_lang_files(lang), DOC_OF[lang]) for lang in DOC_OF}


def stats(samples: int = 5) -> None:
    for lang, (files_fn, doc_fn) in LANGUAGES.items():
        files = list(files_fn())
        documented = sum(doc_fn(source, Path(rel).stem) is not None for rel, source in files)
        with tempfile.TemporaryDirectory() as tmp:
            queries = docs_eval.build(Path(tmp), iter(files), doc_fn)
        print(f"{lang}: {len(files)} files, {documented} documented, {len(queries)} queries")
        step = max(1, len(queries) // samples)
        for q in queries[::step][:samples]:
            print(f"    {q.path}: {q.query}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--export", action="store_true", help="export the sources from /work/.mirror")
    parser.add_argument("--stats", action="store_true", help="files, documented files, queries, samples")
    parser.add_argument("--samples", type=int, default=5)
    args = parser.parse_args()
    if args.export:
        export(sources_root())
    if args.stats or not args.export:
        stats(args.samples)


if __name__ == "__main__":
    main()
