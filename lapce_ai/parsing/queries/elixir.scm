; Elixir definitions are plain macro calls: `call` nodes told apart by the target identifier.
(call
  target: (identifier) @_kw
  (arguments . (alias) @name)
  (#eq? @_kw "defmodule")) @definition.module

(call
  target: (identifier) @_kw
  (arguments . (alias) @name)
  (#eq? @_kw "defprotocol")) @definition.interface

; defimpl Proto, for: Type is named by the type (like Rust's impl); else by the protocol.
(call
  target: (identifier) @_kw
  (arguments (keywords (pair key: (keyword) @_for value: (_) @name)))
  (#eq? @_kw "defimpl")
  (#match? @_for "^for:")) @definition.impl

(call
  target: (identifier) @_kw
  (arguments . (alias) @name)
  (#eq? @_kw "defimpl")) @definition.impl

; def name(args) / def name(args) when guard / def name, do: ... / def name when guard
(call
  target: (identifier) @_kw
  (arguments
    .
    [
      (call target: (identifier) @name)
      (identifier) @name
      (binary_operator left: (call target: (identifier) @name) operator: "when")
      (binary_operator left: (identifier) @name operator: "when")
    ])
  (#any-of? @_kw "def" "defp")) @definition.function

(call
  target: (identifier) @_kw
  (arguments
    .
    [
      (call target: (identifier) @name)
      (identifier) @name
      (binary_operator left: (call target: (identifier) @name) operator: "when")
      (binary_operator left: (identifier) @name operator: "when")
    ])
  (#any-of? @_kw "defmacro" "defmacrop" "defguard" "defguardp")) @definition.macro

; ExUnit test blocks: describe "call/2" do, test "invokes plugs", %{conn: conn} do: named by
; their title, so a test file is cut along its tests and a failing test's title finds its code.
(call
  target: (identifier) @_kw
  (arguments . (string (quoted_content) @name))
  (do_block)
  (#any-of? @_kw "describe" "test" "property")) @definition.test
