"""A third evaluation, built from real code on this machine: "which file is about X?".

Each query is the first sentence of a file's own top documentation (a Python module docstring,
a Java class Javadoc), and the answer is that file. The indexed copy has that documentation
blanked out (lines kept, so line numbers stay true): the engine must find the file from its
code, names and remaining comments, as for semble's architecture/semantic questions.

Sources, used when present: the Python standard library this venv runs on (top-level modules),
and the ``src.zip`` of an installed JDK (``java.util``, ``java.util.concurrent``,
``java.nio.file``). Languages whose source is missing are skipped.
Scored like semble's rule for a single whole-file target: NDCG@10 = 1 / log2(rank + 1).
"""

from __future__ import annotations

import ast
import html
import math
import re
import sysconfig
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MIN_WORDS = 4
MAX_WORDS = 40
JAVA_PACKAGES = ("java/util/", "java/util/concurrent/", "java/nio/file/")


@dataclass(frozen=True)
class DocQuery:
    query: str
    path: str  # relative to the corpus root
    line: int | None = None  # the answer is the chunk holding this line of the file (else any chunk of it)

    def answered_by(self, path: str, start_line: int, end_line: int) -> bool:
        return path == self.path and (self.line is None or start_line <= self.line <= end_line)


def first_sentence(text: str) -> str:
    """The first sentence of a documentation block, on one line."""
    para = re.split(r"\n\s*\n", text.strip(), maxsplit=1)[0]
    para = " ".join(para.split())
    m = re.search(r"(?<=[a-z0-9)\]'\"])\.(?:\s|$)", para)
    return para[: m.start() + 1] if m else para


def _usable(sentence: str) -> bool:
    return MIN_WORDS <= len(sentence.split()) <= MAX_WORDS


def _names_file(sentence: str, stem: str) -> bool:
    """A query that names its own file is a lexical give-away, not a question: left out."""
    return re.search(r"\b" + re.escape(stem) + r"\b", sentence, re.IGNORECASE) is not None


# -- Python -----------------------------------------------------------------------------------


def python_files() -> Iterator[tuple[str, str]]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for path in sorted(stdlib.glob("*.py")):
        try:
            yield path.name, path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue


def python_doc(source: str) -> tuple[str, int, int] | None:
    """The module docstring and its 1-based line span."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    if not tree.body or not isinstance(tree.body[0], ast.Expr):
        return None
    node = tree.body[0].value
    if not isinstance(node, ast.Constant) or not isinstance(node.value, str):
        return None
    return node.value, tree.body[0].lineno, tree.body[0].end_lineno or tree.body[0].lineno


# -- Java -------------------------------------------------------------------------------------

_JAVA_DECL = re.compile(
    r"/\*\*(?P<doc>(?:(?!\*/).)*?)\*/\s*(?:@\w+(?:\([^)]*\))?\s*)*"
    r"(?:public\s+|protected\s+|abstract\s+|final\s+|sealed\s+|non-sealed\s+|static\s+|strictfp\s+)*"
    r"(?:class|interface|enum|record|@interface)\s+(?P<name>\w+)",
    re.DOTALL,
)


def java_files() -> Iterator[tuple[str, str]]:
    zips = sorted(p for p in Path("/usr/lib/jvm").glob("*/lib/src.zip") if p.exists())
    if not zips:
        return
    with zipfile.ZipFile(zips[-1]) as z:
        for name in sorted(z.namelist()):
            if not name.startswith("java.base/") or not name.endswith(".java"):
                continue
            rel = name.removeprefix("java.base/")
            if not any(rel.startswith(p) and "/" not in rel[len(p) :] for p in JAVA_PACKAGES):
                continue
            if rel.endswith(("package-info.java", "module-info.java")):
                continue
            yield rel, z.read(name).decode("utf-8", errors="replace")


def javadoc_text(doc: str) -> str:
    lines = [re.sub(r"^\s*\*\s?", "", line) for line in doc.splitlines()]
    text = "\n".join(line for line in lines if not line.lstrip().startswith("@"))
    text = re.sub(r"\{@(?:code|literal)\s+([^}]*)\}", r"\1", text)
    text = re.sub(r"\{@(?:link|linkplain)\s+([^}\s]+)(?:\s+([^}]*))?\}", lambda m: m.group(2) or m.group(1), text)
    text = re.sub(r"<[^>]+>", "", text)
    return html.unescape(text).replace("#", ".")


def java_doc(source: str, file_stem: str) -> tuple[str, int, int] | None:
    """The Javadoc of the file's top-level type and its 1-based line span."""
    for m in _JAVA_DECL.finditer(source):
        if m.group("name") == file_stem:
            return docblock(source, m)
    return None


def docblock(source: str, m: re.Match[str]) -> tuple[str, int, int]:
    """A ``/** ... */`` block matched as group ``doc`` of ``m``: its text and the 1-based span
    from the block's first line to its last."""
    start = source.count("\n", 0, m.start()) + 1
    end = source.count("\n", 0, m.end("doc")) + 1
    return javadoc_text(m.group("doc")), start, end


# -- corpus -----------------------------------------------------------------------------------


def blank_lines(source: str, start: int, end: int) -> str:
    lines = source.split("\n")
    for i in range(start - 1, min(end, len(lines))):
        lines[i] = ""
    return "\n".join(lines)


def build(dest: Path, files: Iterator[tuple[str, str]], doc_of: Callable[[str, str], Any]) -> list[DocQuery]:
    """Write the corpus under ``dest`` (documentation of query files blanked) and return the queries.

    A first sentence that opens several files (strtod.c, strtof.c, strtold.c: "Read decimal
    floating point numbers.") would have several right answers: those files give no query and
    keep their documentation, as distractors.
    """
    found: list[tuple[str, str, tuple[str, int, int] | None]] = [
        (rel, source, doc_of(source, Path(rel).stem)) for rel, source in files
    ]
    seen = Counter(_sentence_key(doc[0]) for _rel, _source, doc in found if doc is not None)
    queries: list[DocQuery] = []
    for rel, source, doc in found:
        out = dest / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        if doc is not None and seen[_sentence_key(doc[0])] == 1:
            text, start, end = doc
            sentence = first_sentence(text)
            if _usable(sentence) and not _names_file(sentence, Path(rel).stem):
                queries.append(DocQuery(sentence, rel))
                source = blank_lines(source, start, end)
        out.write_text(source, encoding="utf-8")
    return queries


def _sentence_key(text: str) -> str:
    return " ".join(first_sentence(text).lower().split())


LANGUAGES: dict[str, tuple[Callable[[], Iterator[tuple[str, str]]], Callable[[str, str], Any]]] = {
    "python": (python_files, lambda source, _stem: python_doc(source)),
    "java": (java_files, java_doc),
}


def ndcg_single(rank: int | None) -> float:
    return 1.0 / math.log2(rank + 1) if rank is not None and rank <= 10 else 0.0
