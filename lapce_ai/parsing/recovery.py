"""How well a tree parsed, and a second reading for files a macro broke.

C and C++ code often puts attribute-like macros on a line of their own above a definition
(``JSON_HEDLEY_NON_NULL(1, 2)``, ``NLOHMANN_JSON_NAMESPACE_BEGIN``). Without the preprocessor,
tree-sitter reads them as the start of a declaration, and the definition below them falls apart:
its body becomes loose statements of the enclosing scope. Such a file is parsed a second time
with those lines turned into ``//`` comments (``macro_lines`` in ``languages.toml``), and the
reading with fewer errors wins. A comment of the same length keeps every byte offset, so chunks
keep the original text; and as a comment the line still joins the definition below it, with
the documentation above it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import tree_sitter

from lapce_ai.parsing.languages import LanguageSpec

_LINE_BODY = re.compile(rb"[^ \t\r\n][^\r\n]*")


@dataclass(frozen=True)
class Reading:
    tree: tree_sitter.Tree
    source: bytes  # the bytes the tree was parsed from: the file's own, or with macro lines commented out
    error_ratio: float


def error_ratio(root: tree_sitter.Node, total_bytes: int) -> float:
    """Share of the source that tree-sitter could not place in any well-formed construct.

    An ERROR node often wraps a whole file while most of it parses: one unknown macro at the top
    of a C++ header (``NAMESPACE_BEGIN``) puts every class and function of the file inside it.
    So within an ERROR, only its loose tokens count as broken; an error-free subtree it holds
    (a function definition, a declaration) was recovered and counts as parsed.
    Iterative: deep trees are fine.
    """
    if total_bytes == 0 or not root.has_error:
        return 0.0
    broken = 0
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_missing:
            broken += 1
        elif node.is_error:
            for child in node.children:
                if child.is_error or child.has_error or child.is_missing:
                    stack.append(child)
                elif child.child_count == 0 or not child.is_named:
                    broken += max(1, child.end_byte - child.start_byte)
        elif node.has_error:
            stack.extend(node.children)
    return broken / total_bytes


def comment_out_macro_lines(spec: LanguageSpec, source: bytes) -> bytes | None:
    """``source`` with the language's macro lines made ``//`` comments of the same length, or
    None when it has none."""
    if spec.macro_lines is None:
        return None
    commented = spec.macro_lines.sub(lambda m: _LINE_BODY.sub(_as_comment, m.group(0), count=1), source)
    return commented if commented != source else None


def _as_comment(body: re.Match[bytes]) -> bytes:
    n = len(body.group(0))
    return b"//" + b" " * (n - 2) if n >= 2 else b" " * n  # the length never changes


def best_reading(spec: LanguageSpec, parser: tree_sitter.Parser, source: bytes, tree: tree_sitter.Tree) -> Reading:
    """``tree`` (``source`` parsed as written), or the reading with macro lines commented out
    where that has fewer errors."""
    if not tree.root_node.has_error:
        return Reading(tree, source, 0.0)
    ratio = error_ratio(tree.root_node, len(source))
    commented = comment_out_macro_lines(spec, source)
    if commented is None:
        return Reading(tree, source, ratio)
    second = parser.parse(commented)
    second_ratio = error_ratio(second.root_node, len(commented))
    # A tie on the ratio goes to the reading without any error node left.
    if (second_ratio, second.root_node.has_error) < (ratio, True):
        return Reading(second, commented, second_ratio)
    return Reading(tree, source, ratio)
