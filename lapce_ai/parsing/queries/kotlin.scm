; Kotlin's grammar has no field names: the name is the declaration's direct
; type_identifier / simple_identifier child, and `interface`/`enum` are anonymous tokens.
; Specific patterns first: for the same node the earliest pattern wins.
(class_declaration "interface" (type_identifier) @name) @definition.interface

(class_declaration "enum" (type_identifier) @name) @definition.enum

(class_declaration (type_identifier) @name) @definition.class

(object_declaration (type_identifier) @name) @definition.class

(companion_object (type_identifier) @name) @definition.class

; Only functions with a body: interface and abstract signatures stay with their type.
(function_declaration (simple_identifier) @name (function_body)) @definition.function

(type_alias (type_identifier) @name) @definition.type

; kotest blocks (FunSpec, DescribeSpec): test("adds a route") { ... }, context("Router") { ... },
; describe / it: named by their title, so a spec is cut along its tests and a failing test's
; title finds its code.
(call_expression
  (simple_identifier) @_fn
  (call_suffix
    (value_arguments . (value_argument (string_literal (string_content) @name)) .)
    (annotated_lambda))
  (#any-of? @_fn "test" "context" "describe" "it")) @definition.test
