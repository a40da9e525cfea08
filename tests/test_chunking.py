from __future__ import annotations

import time

import pytest

from lapce_ai.chunking.legacy import chunk_lines
from lapce_ai.chunking.model import PARSER_CST, PARSER_LEGACY, Chunk
from lapce_ai.config.settings import FeatureSettings, PerformanceSettings
from lapce_ai.parsing.languages import language_by_name, new_parser
from lapce_ai.parsing.recovery import best_reading, comment_out_macro_lines
from lapce_ai.parsing.router import ParserRouter

PY = '''import os


def helper(x):
    return x + 1


class Router:
    """Routes requests."""

    def __init__(self):
        self.routes = {}

    def add_route(self, path, handler):
        self.routes[path] = handler
        return handler


# Registers the default routes.
def register(router):
    router.add_route("/", helper)
'''


def router(**features: object) -> ParserRouter:
    return ParserRouter(FeatureSettings(**features), PerformanceSettings())  # type: ignore[arg-type]


def chunks_of(path: str, text: str | bytes, r: ParserRouter | None = None) -> list[Chunk]:
    data = text.encode() if isinstance(text, str) else text
    return (r or router()).process(path, data, "h").chunks


def by_symbol(chunks: list[Chunk]) -> dict[str, Chunk]:
    return {c.symbol: c for c in chunks}


def test_python_definitions_become_chunks_with_lines() -> None:
    chunks = chunks_of("pkg/app.py", PY)
    syms = by_symbol(chunks)
    assert syms["helper"].kind == "function"
    assert (syms["helper"].start_line, syms["helper"].end_line) == (4, 5)
    assert syms["Router"].kind == "class"  # small class: one chunk with its methods
    assert syms["Router"].start_line == 8
    assert syms["register"].start_line == 19  # the comment above travels with the function
    assert all(c.parser == PARSER_CST and c.language == "python" for c in chunks)
    lines = PY.split("\n")
    for c in chunks:
        assert c.content == "\n".join(lines[c.start_line - 1 : c.end_line])


def test_ids_survive_edits_above() -> None:
    before = by_symbol(chunks_of("a.py", PY))
    edited = PY.replace("import os\n", "import os\nimport sys\n\n\nVALUE = 3\n")
    after = by_symbol(chunks_of("a.py", edited))
    for sym in ("helper", "Router", "register"):
        assert after[sym].id == before[sym].id
        assert after[sym].content_hash == before[sym].content_hash
        assert after[sym].start_line > before[sym].start_line


def test_ids_depend_on_path_not_content() -> None:
    a = by_symbol(chunks_of("a.py", PY))
    b = by_symbol(chunks_of("b.py", PY))
    assert a["helper"].id != b["helper"].id
    assert a["helper"].content_hash == b["helper"].content_hash


def test_large_class_splits_into_methods_with_symbol_paths() -> None:
    methods = "\n".join(
        f"    def method_{i}(self, value):\n"
        + "".join(f"        value = value * {j} + {i}\n" for j in range(12))
        + "        return value\n"
        for i in range(20)
    )
    text = f"class Big:\n    '''Doc.'''\n    limit = 3\n\n{methods}"
    chunks = chunks_of("big.py", text)
    syms = by_symbol(chunks)
    assert "Big.method_0" in syms and syms["Big.method_0"].kind == "method"
    assert syms["Big"].kind == "class" and "limit = 3" in syms["Big"].content
    assert len({c.id for c in chunks}) == len(chunks)
    covered = {ln for c in chunks for ln in range(c.start_line, c.end_line + 1)}
    assert covered >= {i + 1 for i, line in enumerate(text.split("\n")) if line.strip()}


def test_huge_function_is_split_along_children() -> None:
    body = "".join(f"    x{i} = compute({i})\n" for i in range(10_000))
    chunks = chunks_of("huge.py", f"def huge():\n{body}    return x0\n")
    assert len(chunks) > 50
    assert all(c.symbol == "huge" for c in chunks)
    assert all(c.end_line - c.start_line < 80 for c in chunks)
    assert len({c.id for c in chunks}) == len(chunks)


def _repeated_lines(chunks: list[Chunk]) -> list[tuple[Chunk, Chunk]]:
    """Pairs where a chunk's lines all lie in another chunk: it repeats what that one shows."""
    return [
        (a, b)
        for a in chunks
        for b in chunks
        if a is not b
        and b.start_line <= a.start_line <= a.end_line <= b.end_line
        and (a.start_line, a.end_line) != (b.start_line, b.end_line)
    ]


def test_a_split_definition_repeats_no_line_in_a_chunk_of_its_own() -> None:
    # A docstring too long for one chunk is split along its children: the opening quotes alone
    # were a chunk of line 1, beside the chunk of lines 1-80.
    doc = '"""Routes requests.\n\n' + "".join(f"Line {i} of a long module docstring.\n" for i in range(150)) + '"""\n'
    py = chunks_of("doc.py", doc + "\n\ndef f():\n    return 1\n")
    assert _repeated_lines(py) == []
    assert py[0].start_line == 1 and py[0].content.startswith('"""Routes requests.\n')
    # A long function's signature on the line its body's brace opens.
    signature = "function handle(" + ", ".join(f"argument{i}" for i in range(14)) + ") {\n"
    body = "".join(f"  const x{i} = compute(argument{i % 14});\n" for i in range(200))
    js = chunks_of("handle.js", signature + body + "}\n")
    assert _repeated_lines(js) == []
    assert js[0].start_line == 1 and js[0].content.startswith("function handle(argument0")
    assert all(c.symbol == "handle" for c in js) and len(js) > 2


def _long_body(indent: str, n: int = 45) -> str:
    return "".join(f"{indent}x{i} = compute({i})\n" for i in range(n))


def test_the_tokens_closing_an_opened_definition_are_no_chunk() -> None:
    # Too large for one chunk, a class opens into its methods, its header joining the first. Its
    # closing brace was a chunk of its own, named after the class: a search for the class could
    # answer with a lone `}` (2 % of the top-10 results on our evaluation corpora).
    java = "/** Grows and shrinks. */\npublic class Widget {\n    public void grow() {\n"
    java += _long_body("        int ") + "    }\n\n    public void shrink() {\n"
    java += _long_body("        int ") + "    }\n}\n"
    chunks = chunks_of("Widget.java", java)
    assert [c.symbol for c in chunks] == ["Widget.grow", "Widget.shrink"]
    assert chunks[0].content.startswith("/** Grows and shrinks. */\npublic class Widget {\n    public void grow() {")
    assert_every_line_kept(java.replace("    }\n}\n", "    }\n"), chunks)
    # Code after the last member stays, closing brace and all.
    fields = chunks_of("Widget.java", java.replace("    }\n}\n", "    }\n\n    private int size;\n}\n"))
    assert fields[-1].symbol == "Widget" and fields[-1].content == "    private int size;\n}"
    ruby = "class Widget < Base\n  def grow\n" + _long_body("    ") + "  end\n\n  def shrink\n"
    ruby += _long_body("    ") + "  end\nend\n"
    assert [c.content.strip() for c in chunks_of("widget.rb", ruby) if c.content.strip() == "end"] == []
    # A block of tests opens even where it fits, and its closing `})` is no chunk either.
    js = "describe('widget', () => {\n  it('grows', () => {\n    expect(grow()).toBe(1)\n  })\n\n"
    js += "  it('shrinks', () => {\n    expect(shrink()).toBe(0)\n  })\n})\n"
    tests = chunks_of("widget.test.js", js)
    assert [c.content.split("\n")[0] for c in tests] == ["describe('widget', () => {", "  it('shrinks', () => {"]
    assert_every_line_kept(js.replace("\n})\n", "\n"), tests)
    # Nor is the `end` of a block that holds definitions (Lua's `if ... then function ... end`).
    lua = "if jit then\n  function M.fast(x)\n" + _long_body("    local ") + "  end\n\n  function M.slow(x)\n"
    lua += _long_body("    local ") + "  end\nend\n\nlocal done = true\n"
    assert [c.content for c in chunks_of("m.lua", lua) if c.content.strip() == "end"] == []


def test_a_test_with_a_type_of_its_own_is_that_test() -> None:
    # A test block groups tests only when it holds some: one holding a type of its own was named
    # after that type (kind `type`), so no test chunk carried its title.
    ts = "describe('immer', () => {\n  it('mutates a draft', () => {\n    type State = { count: number }\n"
    ts += "    expect(1).toBe(1)\n  })\n\n  it('replaces the state', () => {\n    expect(2).toBe(2)\n  })\n})\n"
    chunks = chunks_of("immer.test.ts", ts)
    assert [(c.kind, c.symbol) for c in chunks] == [
        ("test", "immer.mutates a draft"),
        ("test", "immer.replaces the state"),
    ]


def test_one_enormous_line_stays_cut_in_pieces() -> None:
    minified = "".join(f"var v{i}=compute({i});" for i in range(4000))  # one line, 100 kB
    chunks = chunks_of("app.min.js", minified + "\n")
    assert len(chunks) > 30


def test_deeply_nested_code_does_not_crash() -> None:
    depth = 400
    text = "x = " + "[" * depth + "1" + "]" * depth + "\n"
    chunks = chunks_of("deep.py", text)
    assert chunks and "1" in chunks[0].content
    js = "function f() {" + "if (a) {" * 300 + "b();" + "}" * 300 + "}\n"
    assert chunks_of("deep.js", js)


def test_broken_syntax_falls_back_to_legacy_and_counts() -> None:
    broken = "def (((:\n  ]]] {{{ class\n" * 50
    outcome = router().process("broken.py", broken.encode(), "h")
    assert outcome.parser == PARSER_LEGACY and outcome.fallback == "parse_errors"
    assert outcome.chunks
    strict = router(legacy_fallback=False).process("broken.py", broken.encode(), "h")
    assert strict.failed == "cst_parse_errors" and not strict.chunks


HEADER_WITH_CONDITIONAL_NAMESPACE = """#ifndef VALUE_HPP_
#define VALUE_HPP_

#if VALUE_USE_INLINE_NAMESPACE
inline namespace v3 {
#else
namespace v3 {
#endif

template<typename T>
class basic_value : public value_base<T>
{
  public:
    /// resets the value to null
    void clear() noexcept
    {
        m_type = value_t::null;
        m_value = {};
    }

    /// number of elements held
    std::size_t size() const noexcept
    {
        switch (m_type)
        {
            case value_t::null:
                return 0;
            case value_t::array:
                return m_value.array->size();
            default:
                return 1;
        }
    }

    /// swaps the contents with another value
    void swap(basic_value& other) noexcept
    {
        std::swap(m_type, other.m_type);
        std::swap(m_value, other.m_value);
    }

    /*accessors*/
  private:
    value_t m_type = value_t::null;
    json_value m_value = {};
};

}  // namespace v3
#endif
""".replace(
    "    /*accessors*/\n",
    "".join(
        f"""
    /// whether the value holds kind {i}
    bool is_kind_{i}() const noexcept
    {{
        return m_type == static_cast<value_t>({i});
    }}
"""
        for i in range(40)
    ),
)


def test_error_node_around_parsed_definitions_stays_on_the_cst() -> None:
    # The #if picking one of two namespace openings leaves tree-sitter an ERROR around the whole
    # file, yet it recovers every method: the file is not broken code and keeps semantic chunks.
    outcome = router().process("value.hpp", HEADER_WITH_CONDITIONAL_NAMESPACE.encode(), "h")
    assert outcome.parser == PARSER_CST and outcome.fallback is None
    assert {"size", "swap"} <= {c.symbol.rsplit(".", 1)[-1] for c in outcome.chunks}


def header_with_macro_lines(n: int, body_line: str = "JSON_ASSERT(std::isfinite(value));") -> str:
    """nlohmann/json's shape: a namespace macro, and attribute macros on their own lines between
    a template's parameters and the function (tree-sitter reads them as a declaration)."""
    functions = "".join(
        f"""
/*!
@brief writes the digits of value {i}
*/
template<typename FloatType>
JSON_HEDLEY_NON_NULL(1, 2)
JSON_HEDLEY_RETURNS_NON_NULL
char* write_digits_{i}(char* first, const char* last, FloatType value)
{{
    {body_line}
    if (std::signbit(value))
    {{
        value = -value;
        *first++ = '-';
    }}
    return format_buffer(first, last, value, {i});
}}
"""
        for i in range(n)
    )
    return (
        "NLOHMANN_JSON_NAMESPACE_BEGIN\nnamespace detail\n{\n"
        + functions
        + "}  // namespace detail\nNLOHMANN_JSON_NAMESPACE_END\n"
    )


def assert_every_line_kept(source: str, chunks: list[Chunk]) -> None:
    lines = source.split("\n")
    covered: set[int] = set()
    for c in chunks:
        assert c.content == "\n".join(lines[c.start_line - 1 : c.end_line])  # the text as written
        covered.update(range(c.start_line, c.end_line + 1))
    assert [i for i, line in enumerate(lines, 1) if line.strip() and i not in covered] == []


def test_attribute_macro_lines_do_not_break_the_definition_below() -> None:
    source = header_with_macro_lines(12)
    outcome = router().process("to_chars.hpp", source.encode(), "h")
    assert outcome.parser == PARSER_CST
    by_symbol = {c.symbol: c for c in outcome.chunks}
    for i in range(12):
        chunk = by_symbol[f"detail.write_digits_{i}"]
        assert chunk.kind == "method"
        assert chunk.content.startswith(f"/*!\n@brief writes the digits of value {i}")
        assert "JSON_HEDLEY_NON_NULL(1, 2)\nJSON_HEDLEY_RETURNS_NON_NULL\nchar* write_digits" in chunk.content
        assert chunk.content.endswith(f"return format_buffer(first, last, value, {i});\n}}")
    assert_every_line_kept(source, outcome.chunks)


def test_macro_lines_stay_code_where_the_file_parses_as_written() -> None:
    # ``LAST`` alone on a line matches the macro pattern; the file parses, so nothing is re-read.
    source = "enum color {\n  RED,\n  LAST\n};\n\nint count(void)\n{\n  return LAST;\n}\n"
    spec = language_by_name("c")
    assert spec is not None and comment_out_macro_lines(spec, source.encode()) is not None
    tree = new_parser(spec).parse(source.encode())
    reading = best_reading(spec, new_parser(spec), source.encode(), tree)
    assert reading.tree is tree and reading.source == source.encode() and reading.error_ratio == 0.0
    # A broken file the macro lines do not explain keeps its own reading too.
    broken = b"int f( {\n  return 1;\n}\nFOO_BAR(1)\n"
    first = new_parser(spec).parse(broken)
    reading = best_reading(spec, new_parser(spec), broken, first)
    assert reading.tree is first and reading.source == broken


def test_commented_macro_lines_keep_offsets_and_line_breaks() -> None:
    spec = language_by_name("cpp")
    assert spec is not None
    source = b"template<class T>\n  JSON_HEDLEY_NON_NULL(1, 2)\r\nJSON_HEDLEY_PURE // why\nchar* f(T a);\n  RUN(x);\n"
    commented = comment_out_macro_lines(spec, source)
    assert commented is not None and len(commented) == len(source)
    assert commented.split(b"\n") == [
        b"template<class T>",
        b"  //" + b" " * 24 + b"\r",
        b"//" + b" " * 21,
        b"char* f(T a);",
        b"  RUN(x);",  # a statement, not a macro line
        b"",
    ]
    assert comment_out_macro_lines(language_by_name("python"), source) is None  # type: ignore[arg-type]
    # One letter, or no capital, is no macro.
    assert comment_out_macro_lines(spec, b"  T\n  __\n  _x\n") is None


def test_macro_lines_run_in_linear_time_on_hostile_lines() -> None:
    # A backtracking pattern takes minutes on one long line of capitals (8,000: 4 s, growing with
    # the square: 50,000 would take ~150 s); the shipped one reads them in milliseconds.
    spec = language_by_name("cpp")
    assert spec is not None
    started = time.perf_counter()
    assert comment_out_macro_lines(spec, b"A" * 50_000 + b";\n") is None
    assert comment_out_macro_lines(spec, b"FOO(" + b"a(" * 200_000 + b"\n") is None
    assert time.perf_counter() - started < 5.0


def test_definitions_in_a_small_namespace_get_their_own_chunks() -> None:
    # Nearly every C# file is one namespace; were it one chunk, its class would go unnamed.
    csharp = """using System;

namespace Demo.Tools
{
    /// <summary>Greets people by name.</summary>
    public class Greeter
    {
        public string Greet(string name) => $"Hello, {name}";
    }
}
"""
    chunks = chunks_of("Greeter.cs", csharp)
    # One definition: the namespace, header and all, is that class's chunk.
    greeter = next(c for c in chunks if c.symbol == "Demo.Tools.Greeter")
    assert greeter.kind == "class" and greeter.content.startswith("namespace Demo.Tools\n{")
    assert "/// <summary>Greets people by name.</summary>" in greeter.content
    # Several: each its own chunk, with its comment.
    cpp = """namespace text {

// Pads s on the left to width.
std::string pad_left(const std::string& s, std::size_t width) {
    return std::string(width - s.size(), ' ') + s;
}

// Upper-cases s.
std::string upper(std::string s) {
    for (auto& c : s) c = std::toupper(c);
    return s;
}

}  // namespace text
"""
    chunks = chunks_of("text.cpp", cpp)
    symbols = {c.symbol: c for c in chunks}
    assert symbols["text.pad_left"].content.startswith("// Pads s on the left to width.")
    assert symbols["text.upper"].content.startswith("// Upper-cases s.")
    assert_every_line_kept(cpp, chunks)
    assert_every_line_kept(csharp, chunks_of("Greeter.cs", csharp))


def test_invalid_utf8_and_empty_files() -> None:
    data = b"def f():\n    return '\xff\xfe bad'\n"
    chunks = chunks_of("bad.py", data)
    assert chunks and "\ufffd" in chunks[0].content
    assert chunks_of("empty.py", b"") == []
    assert chunks_of("blank.md", b"\n\n  \n") == []


def test_router_rollout_is_deterministic_and_respects_flags() -> None:
    paths = [f"src/module_{i}.py" for i in range(400)]
    half = router(rollout_percentage=50)
    routed = [half.uses_cst(p) for p in paths]
    assert routed == [router(rollout_percentage=50).uses_cst(p) for p in paths]
    assert 120 < sum(routed) < 280
    # Raising the percentage only adds files to the CST side.
    more = router(rollout_percentage=80)
    assert all(more.uses_cst(p) for p, r in zip(paths, routed, strict=True) if r)
    assert not any(router(rollout_percentage=0).uses_cst(p) for p in paths)
    assert not any(router(cst_pipeline_enabled=False).uses_cst(p) for p in paths)
    assert not router().uses_cst("README.md")
    out = router(rollout_percentage=0).process("a.py", PY.encode(), "h")
    assert out.parser == PARSER_LEGACY and out.chunks


def test_legacy_windows_cover_text() -> None:
    text = "\n".join(f"line {i}" for i in range(1, 121))
    chunks = chunk_lines("notes.txt", "text", text)
    assert [(c.start_line, c.end_line) for c in chunks] == [(1, 50), (51, 100), (101, 120)]
    assert all(c.kind == "window" and c.parser == PARSER_LEGACY for c in chunks)
    minified = "x" * 100_000
    assert all(len(c.content) <= 16_000 for c in chunk_lines("m.js", "javascript", minified))


def test_other_languages_produce_symbols() -> None:
    go = "package main\n\ntype Server struct {\n\tport int\n}\n\nfunc (s *Server) Start() error {\n\treturn nil\n}\n"
    syms = by_symbol(chunks_of("main.go", go))
    assert any(k.endswith("Start") for k in syms)
    rust = "struct A { x: i32 }\n\nimpl A {\n    fn new() -> Self { A { x: 1 } }\n}\n"
    assert chunks_of("lib.rs", rust)


LONG_DOC = "Copies the files from the source folder to the target folder, rendering each template with the binding"
FILLER = "".join(f"    step_{i} = Enum.map(apps, fn app -> {{app, {i}}} end)\n" for i in range(60))
ELIXIR_DOC = (
    f'defmodule Mix.Phoenix do\n  @moduledoc false\n\n  @doc """\n  {LONG_DOC}.\n  """\n'
    "  @spec copy_from([Path.t()], keyword()) :: :ok\n"
    "  def copy_from(apps, binding) do\n    Enum.each(apps, &IO.inspect/1)\n  end\n\n"
    f"  def other(apps) do\n{FILLER}    :ok\n  end\nend\n"  # the module is too big for one chunk
)
HASKELL_DOC = f"module Copy where\n\n-- | {LONG_DOC}.\ncopyFrom :: [FilePath] -> IO ()\ncopyFrom = mapM_ print\n"
# A signature longer than a "small node", its last argument documented by a trailing -- ^ haddock.
HASKELL_LONG_SIGNATURE = (
    f"module Copy where\n\nimport Data.List (sort)\n\n-- | {LONG_DOC}.\n"
    "copyFrom :: [FilePath] -- ^ the files to copy, in the order the user listed them on the command line\n"
    "         -> FilePath -- ^ the target folder, created first when it does not exist yet\n"
    "         -> IO () -- ^ nothing: the files are copied as a side effect\n"
    "copyFrom files target = mapM_ print (sort files)\n"
)
ERLANG_DOC = (
    f'-module(copy).\n\n-doc "{LONG_DOC}".\n-spec copy_from([term()]) -> ok.\n'
    "copy_from(Apps) -> lists:foreach(fun io:format/1, Apps).\n"
)
PERL_DOC = f"package Copy;\n\n=head2 copy_from\n\n{LONG_DOC}.\n\n=cut\n\nsub copy_from {{\n    print @_;\n}}\n\n1;\n"
# Kotlin's grammar ends the import list (or the package header) with the KDoc that follows it.
KOTLIN_DOC = (
    "package org.example.copy\n\nimport org.example.io.Files\nimport org.example.io.Paths\n\n"
    f"/**\n * {LONG_DOC}.\n */\nclass CopyFrom(val apps: List<String>) {{\n"
    "    fun run() = apps.forEach(::println)\n}\n"
)
JULIA_DOC = f'"""\n    copy_from(apps)\n\n{LONG_DOC}.\n"""\nfunction copy_from(apps)\n    foreach(println, apps)\nend\n'


@pytest.mark.parametrize(
    ("path", "source", "symbol"),
    [
        ("lib/mix/phoenix.ex", ELIXIR_DOC, "Mix.Phoenix.copy_from"),
        ("src/Copy.hs", HASKELL_DOC, "copyFrom"),
        ("src/Copy.hs", HASKELL_DOC.replace("\ncopyFrom ::", "\n\ncopyFrom ::"), "copyFrom"),
        ("src/Copy.hs", HASKELL_LONG_SIGNATURE, "copyFrom"),
        (
            "src/Copy.hs",
            HASKELL_LONG_SIGNATURE.replace("\ncopyFrom ::", "\n{-# INLINE copyFrom #-}\ncopyFrom ::"),
            "copyFrom",
        ),
        (  # the import list holds the haddock; a small fixity declaration sits below it
            "src/Copy.hs",
            HASKELL_LONG_SIGNATURE.replace("\ncopyFrom ::", "\ninfixr 5 `copyFrom`\ncopyFrom ::"),
            "copyFrom",
        ),
        ("src/copy.jl", JULIA_DOC, "copy_from"),
        ("src/copy.erl", ERLANG_DOC, "copy_from"),
        ("lib/Copy.pm", PERL_DOC, "copy_from"),
        ("src/CopyFrom.kt", KOTLIN_DOC, "CopyFrom"),
        (
            "src/CopyFrom.kt",
            KOTLIN_DOC.replace("import org.example.io.Files\nimport org.example.io.Paths\n\n", ""),
            "CopyFrom",
        ),
    ],
    ids=[
        "elixir-doc-attribute",
        "haskell-haddock",
        "haskell-haddock-blank-line",
        "haskell-long-signature",
        "haskell-pragma-between-doc-and-signature",
        "haskell-fixity-between-doc-and-signature",
        "julia-docstring",
        "erlang-doc-attribute",
        "perl-pod",
        "kotlin-kdoc-after-imports",
        "kotlin-kdoc-after-package",
    ],
)
def test_documentation_the_grammar_does_not_call_a_comment_joins_its_definition(
    path: str, source: str, symbol: str
) -> None:
    chunks = chunks_of(path, source)
    assert all(c.parser == PARSER_CST for c in chunks)
    definition = by_symbol(chunks)[symbol]
    assert LONG_DOC in definition.content
    assert not any(LONG_DOC in c.content for c in chunks if c is not definition)
    assert not any(symbol in c.content for c in chunks if c is not definition and c.kind == "module")


def test_a_module_doc_does_not_join_the_first_function() -> None:
    source = (
        f'defmodule Mix.Phoenix do\n  @moduledoc """\n  {LONG_DOC}.\n  """\n\n'
        f"  def copy_from(apps), do: apps\n\n  def other(apps) do\n{FILLER}    :ok\n  end\nend\n"
    )
    chunks = chunks_of("lib/mix/phoenix.ex", source)
    first = by_symbol(chunks)["Mix.Phoenix.copy_from"]
    assert first.content.lstrip().startswith("def copy_from")
    assert any(LONG_DOC in c.content and c.kind == "module" for c in chunks)
