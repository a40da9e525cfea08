; Functions are named by their callee as written: f, Base.show, +, Foo{T}, (c::Counter).
; The call may sit under a return type (f(x)::T) and/or a where clause.
; `function f end` (no method, no body) is not captured.
(function_definition
  (signature
    [
      (call_expression . (_) @name)
      (typed_expression . (call_expression . (_) @name))
      (where_expression . (call_expression . (_) @name))
      (where_expression . (typed_expression . (call_expression . (_) @name)))
    ])) @definition.function

; Short form f(x) = ...: an assignment to a call is always a method definition.
(assignment
  .
  [
    (call_expression . (_) @name)
    (typed_expression . (call_expression . (_) @name))
    (where_expression . (call_expression . (_) @name))
    (where_expression . (typed_expression . (call_expression . (_) @name)))
  ]
  .
  (operator) @_op
  (#eq? @_op "=")) @definition.function

; name = x -> ... / name = function (x) ... end
(assignment
  .
  (identifier) @name
  .
  (operator) @_op
  .
  [(arrow_function_expression) (function_definition)]
  (#eq? @_op "=")) @definition.function

(macro_definition (signature (call_expression . (identifier) @name))) @definition.macro

; `struct` and `mutable struct`; the name is the head's first identifier (Foo{T} <: Bar).
(struct_definition
  (type_head
    [
      (identifier) @name
      (parametrized_type_expression . (identifier) @name)
      (binary_expression . [(identifier) @name (parametrized_type_expression . (identifier) @name)])
    ])) @definition.struct

(abstract_definition
  (type_head
    [
      (identifier) @name
      (parametrized_type_expression . (identifier) @name)
      (binary_expression . [(identifier) @name (parametrized_type_expression . (identifier) @name)])
    ])) @definition.type

(primitive_definition
  (type_head
    [
      (identifier) @name
      (binary_expression . (identifier) @name)
    ])) @definition.type

; `module` and `baremodule`
(module_definition name: (identifier) @name) @definition.module
