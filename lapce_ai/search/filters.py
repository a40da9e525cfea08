"""Search filters → a safe LanceDB SQL predicate.

Paths are workspace-relative: absolute paths and ``..`` are refused, so a filter cannot reach
outside the workspace; every literal is quoted, so a filter cannot inject SQL.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from lapce_ai.parsing.languages import all_languages, canonical_language, chunk_kinds


class FilterError(ValueError):
    pass


@dataclass(frozen=True)
class SearchFilters:
    path: str | None = None  # prefix ("src/http") or glob ("src/**/*.go")
    language: str | None = None
    kind: str | None = None

    def to_sql(self) -> str | None:
        clauses: list[str] = []
        if self.path:
            clauses.append(path_clause(self.path))
        if self.language:
            clauses.append(f"language = {quote(self.normalized_language())}")
        if self.kind:
            clauses.append(f"kind = {quote(self.normalized_kind())}")
        return " AND ".join(clauses) if clauses else None

    def validate(self) -> SearchFilters:
        """Raise ``FilterError`` now for any invalid part (before any search work): a language
        or kind no chunk can have is a typo to report, not a search with no results."""
        if self.path:
            path_clause(self.path)
        if self.language:
            self.normalized_language()
        if self.kind:
            self.normalized_kind()
        return self

    def normalized_language(self) -> str:
        """The registry's name of the filter's language (``JS`` -> ``javascript``)."""
        value = _check_word(self.language or "", "language")
        name = canonical_language(value)
        if name is None:
            raise FilterError(_unknown("language", value, all_languages()))
        return name

    def normalized_kind(self) -> str:
        value = _check_word(self.kind or "", "kind")
        if value not in chunk_kinds():
            raise FilterError(_unknown("kind", value, chunk_kinds()))
        return value


def _unknown(what: str, value: str, known: Iterable[str]) -> str:
    names = sorted(known)
    close = difflib.get_close_matches(value, names, n=3, cutoff=0.6)
    hint = f"did you mean {' or '.join(close)}?" if close else f"known: {', '.join(names)}"
    return f"unknown {what} filter {value!r}: {hint}"


def quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _check_word(value: str, what: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_+#.-]{1,64}", value):
        raise FilterError(f"invalid {what} filter: {value!r}")
    return value.lower()


def normalize_path_filter(raw: str) -> str:
    value = raw.strip().replace("\\", "/")
    if "\x00" in value or len(value) > 1024:
        raise FilterError("invalid path filter")
    if value.startswith("/") or re.match(r"^[A-Za-z]:", value):
        raise FilterError("path filter must be relative to the workspace root")
    parts = [p for p in value.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise FilterError("path filter must not leave the workspace ('..')")
    trailing = "/" if value.endswith("/") and parts else ""
    return "/".join(parts) + trailing


def path_clause(raw: str) -> str:
    value = normalize_path_filter(raw)
    if not value:
        return "true"
    if any(ch in value for ch in "*?["):
        return f"regexp_like(path, {quote(glob_to_regex(value))})"
    # A plain prefix matches the folder or file itself and everything under it.
    folder = value.rstrip("/")
    return f"(path = {quote(folder)} OR starts_with(path, {quote(folder + '/')}))"


def compile_path_filter(raw: str) -> Callable[[str], bool]:
    """The path filter as a predicate on workspace-relative paths (same rules as ``path_clause``)."""
    value = normalize_path_filter(raw)
    if not value:
        return lambda _path: True
    if any(ch in value for ch in "*?["):
        try:
            pattern = re.compile(glob_to_regex(value))
        except re.error as exc:
            raise FilterError(f"invalid path glob: {raw!r}") from exc
        return lambda path: pattern.match(path) is not None
    folder = value.rstrip("/")
    prefix = folder + "/"
    return lambda path: path == folder or path.startswith(prefix)


def glob_to_regex(glob: str) -> str:
    out = ["^"]
    i = 0
    while i < len(glob):
        ch = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if glob.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            end = glob.find("]", i + 1)
            if end == -1:
                out.append(re.escape(ch))
            else:
                body = glob[i + 1 : end].replace("\\", "\\\\")
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end
        else:
            out.append(re.escape(ch))
        i += 1
    out.append("$")
    return "".join(out)
