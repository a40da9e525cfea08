; `let`, `type`, `module` and `class` definitions hold one or more `and`-joined bindings. A
; lone binding is captured with its keyword (the whole definition); each binding of an
; `and` group is captured on its own. Only function bindings count as functions: ones with
; parameters, or bound to `fun`/`function`. Also used by ocaml_interface (.mli files).
(value_definition
  .
  [
    (let_binding pattern: [(value_name) (parenthesized_operator)] @name (parameter))
    (let_binding
      pattern: [(value_name) (parenthesized_operator)] @name
      body: [(fun_expression) (function_expression)])
  ]
  .) @definition.function

[
  (let_binding pattern: [(value_name) (parenthesized_operator)] @name (parameter))
  (let_binding
    pattern: [(value_name) (parenthesized_operator)] @name
    body: [(fun_expression) (function_expression)])
] @definition.function

; struct/functor bodies, or a `sig ... end` (interfaces); not aliases like `module M = F (X)`.
(module_definition
  .
  [
    (module_binding (module_name) @name body: [(structure) (functor)])
    (module_binding (module_name) @name module_type: (signature))
  ]
  .) @definition.module

[
  (module_binding (module_name) @name body: [(structure) (functor)])
  (module_binding (module_name) @name module_type: (signature))
] @definition.module

(module_type_definition (module_type_name) @name body: (signature)) @definition.interface

; Abstract `type t` (no equation or body) is a declaration only.
(type_definition
  .
  [
    (type_binding name: (_) @name body: (_))
    (type_binding name: (_) @name equation: (_))
  ]
  .) @definition.type

[
  (type_binding name: (_) @name body: (_))
  (type_binding name: (_) @name equation: (_))
] @definition.type

(class_definition . (class_binding (class_name) @name) .) @definition.class

(class_binding (class_name) @name) @definition.class

(class_type_definition . (class_type_binding (class_type_name) @name) .) @definition.interface

(class_type_binding (class_type_name) @name) @definition.interface

; `method virtual m : t` has no body.
(method_definition (method_name) @name body: (_)) @definition.method
