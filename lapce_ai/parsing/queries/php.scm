; `namespace X;` (no body) is a one-line statement; only braced namespaces contain code.
(namespace_definition name: (_) @name body: (_)) @definition.namespace

(class_declaration name: (name) @name) @definition.class

(interface_declaration name: (name) @name) @definition.interface

(trait_declaration name: (name) @name) @definition.trait

(enum_declaration name: (name) @name) @definition.enum

; Only methods with a body: abstract and interface signatures stay with their type.
(method_declaration name: (name) @name body: (_)) @definition.method

(function_definition name: (name) @name) @definition.function

; Pest test blocks: it('adds a route', function () { ... }), test(...), describe(...): named
; by their title, so a test file is cut along its tests and a failing test's title finds its code.
(expression_statement
  (function_call_expression
    function: (name) @_fn
    arguments: (arguments
      .
      (argument (string (string_content) @name))
      .
      (argument [(anonymous_function) (arrow_function)])))
  (#any-of? @_fn "it" "test" "describe")) @definition.test
