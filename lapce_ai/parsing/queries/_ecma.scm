; Shared by JavaScript, TypeScript and TSX (TypeScript's grammar extends JavaScript's).

; Exported declarations come first so the `export` keyword is inside the chunk; the inner
; declaration also matches below and the registry drops it (same kind and name, contained).
(export_statement
  declaration: [
    (function_declaration name: (identifier) @name)
    (generator_function_declaration name: (identifier) @name)
  ]) @definition.function

(export_statement
  declaration: (class_declaration name: (_) @name)) @definition.class

(export_statement
  declaration: (lexical_declaration
    (variable_declarator
      name: (identifier) @name
      value: [(arrow_function) (function_expression) (generator_function)]))) @definition.function

(export_statement
  declaration: (lexical_declaration
    (variable_declarator name: (identifier) @name value: (class)))) @definition.class

(function_declaration name: (identifier) @name) @definition.function

(generator_function_declaration name: (identifier) @name) @definition.function

(class_declaration name: (_) @name) @definition.class

(method_definition name: (_) @name) @definition.method

; const f = () => {} / let f = function () {}: the whole statement, named by the variable.
(lexical_declaration
  (variable_declarator
    name: (identifier) @name
    value: [(arrow_function) (function_expression) (generator_function)])) @definition.function

(variable_declaration
  (variable_declarator
    name: (identifier) @name
    value: [(arrow_function) (function_expression) (generator_function)])) @definition.function

(lexical_declaration
  (variable_declarator name: (identifier) @name value: (class))) @definition.class

(variable_declaration
  (variable_declarator name: (identifier) @name value: (class))) @definition.class

; At module level, a function a call makes, named by the variable: a wrapper or factory
; (const Button = forwardRef((props, ref) => ...), var assignIn = createAssigner(function ...)).
; Only there: inside a body, const total = items.reduce((a, b) => a + b) is a value.
(program
  (lexical_declaration
    (variable_declarator
      name: (identifier) @name
      value: (call_expression arguments: (arguments [(arrow_function) (function_expression)])))) @definition.function)

(program
  (variable_declaration
    (variable_declarator
      name: (identifier) @name
      value: (call_expression arguments: (arguments [(arrow_function) (function_expression)])))) @definition.function)

(program
  (export_statement
    declaration: (lexical_declaration
      (variable_declarator
        name: (identifier) @name
        value: (call_expression arguments: (arguments [(arrow_function) (function_expression)]))))) @definition.function)

; exports.f = function () {} / Foo.prototype.bar = () => {}
(expression_statement
  (assignment_expression
    left: (member_expression property: (property_identifier) @name)
    right: [(arrow_function) (function_expression) (generator_function)])) @definition.function

; Test blocks (Jest, Vitest, Mocha, Jasmine, node:test): describe('Router', () => ...),
; it('adds a route', function () ...), test.only(...): named by their title, so a test file is
; cut along its tests and a failing test's title finds its code.
(expression_statement
  (call_expression
    function: [
      (identifier) @_fn
      (member_expression object: (identifier) @_fn property: (property_identifier))
    ]
    arguments: (arguments
      .
      (string (string_fragment) @name)
      .
      [(arrow_function) (function_expression)]))
  (#any-of? @_fn "describe" "context" "suite" "it" "test" "specify")) @definition.test
