(function_declaration name: (identifier) @name) @definition.function

; Named by the method alone: methods sit at top level, the receiver type is in the code.
(method_declaration name: (field_identifier) @name) @definition.method

; `type X struct {...}` on its own: the whole declaration, so the `type` keyword is included.
; Patterns are ordered most specific first: for the same node the earliest pattern wins.
(type_declaration . (type_spec name: (_) @name type: (struct_type)) .) @definition.struct

(type_declaration . (type_spec name: (_) @name type: (interface_type)) .) @definition.interface

(type_declaration . [(type_spec name: (_) @name) (type_alias name: (_) @name)] .) @definition.type

; Specs of a grouped `type ( ... )` block, one definition each (lone specs dedupe into the above).
(type_spec name: (_) @name type: (struct_type)) @definition.struct

(type_spec name: (_) @name type: (interface_type)) @definition.interface

(type_spec name: (_) @name) @definition.type

(type_alias name: (_) @name) @definition.type

; Subtests: t.Run("adds a route", func(t *testing.T) { ... }), named by their title, so a test
; function is cut along its subtests and `--- FAIL: TestRouter/adds_a_route` finds its code.
(call_expression
  function: (selector_expression field: (field_identifier) @_run)
  arguments: (argument_list
    .
    [
      (interpreted_string_literal (interpreted_string_literal_content) @name)
      (raw_string_literal (raw_string_literal_content) @name)
    ]
    .
    (func_literal))
  (#eq? @_run "Run")) @definition.test
