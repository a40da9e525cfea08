; Dart's grammar has no node for a whole function: a signature and its function_body are
; siblings (in the program, or in a class/enum/extension body). The body is the definition
; node, named from the signature right before it; the chunker joins that short signature
; (and the doc comment/annotations above it) to the body's chunk. Declarations without a
; body (abstract, external, redirecting or initializer-only constructors) are not captured.
(class_definition name: (identifier) @name) @definition.class

(mixin_declaration (identifier) @name) @definition.trait

(extension_type_declaration name: (identifier) @name) @definition.class

; `extension X on T` by its name; an unnamed `extension on T` by the type (like Swift's).
(extension_declaration name: (identifier) @name) @definition.impl

(extension_declaration class: (_) @name) @definition.impl

(enum_declaration name: (identifier) @name) @definition.enum

(type_alias (type_identifier) @name) @definition.type

; Top-level functions, getters and setters.
(program
  [
    (function_signature name: (identifier) @name)
    (getter_signature name: (identifier) @name)
    (setter_signature name: (identifier) @name)
  ]
  .
  (function_body) @definition.function)

; Members. A named constructor `Point.origin()` is named by its last part.
(_
  (method_signature
    [
      (function_signature name: (identifier) @name)
      (getter_signature name: (identifier) @name)
      (setter_signature name: (identifier) @name)
      (constructor_signature (identifier) @name . (formal_parameter_list))
      (factory_constructor_signature (identifier) @name . (formal_parameter_list))
      (operator_signature "operator" _ @name (formal_parameter_list))
    ])
  .
  (function_body) @definition.method)

; The same inside an ERROR node (a class whose code is being edited): `_` skips ERROR.
(ERROR
  (method_signature
    [
      (function_signature name: (identifier) @name)
      (getter_signature name: (identifier) @name)
      (setter_signature name: (identifier) @name)
    ])
  .
  (function_body) @definition.method)

; void inner() { ... } inside a body
(local_function_declaration
  (lambda_expression parameters: (function_signature name: (identifier) @name))) @definition.function

; package:test blocks: group('Router', () { ... }), test('adds a route', () { ... }), named by
; their title (quotes included: Dart's grammar keeps no string content node), so a test file is
; cut along its tests and a failing test's title finds its code.
(expression_statement
  (identifier) @_fn
  (selector
    (argument_part
      (arguments
        .
        (argument (string_literal) @name)
        .
        (argument (function_expression)))))
  (#any-of? @_fn "group" "test" "testWidgets")) @definition.test
