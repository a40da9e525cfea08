"""The chunk: the unit that is embedded, indexed and returned by search."""

from __future__ import annotations

from dataclasses import dataclass

PARSER_CST = "cst"
PARSER_LEGACY = "legacy"
TEST_KIND = "test"  # a test block named by its title (`it("adds a route")`): no definition of a name


@dataclass(frozen=True, slots=True)
class Chunk:
    id: str  # stable: (path, symbol, kind, ordinal) — never lines or offsets
    path: str  # POSIX, relative to the workspace root
    language: str
    kind: str  # function | method | class | struct | impl | interface | module | test | window | ...
    symbol: str  # dotted symbol path, e.g. "Router.add_route"; "" for module code and windows
    start_line: int  # 1-based, inclusive
    end_line: int  # 1-based, inclusive
    parser: str  # "cst" | "legacy"
    content: str
    content_hash: str
