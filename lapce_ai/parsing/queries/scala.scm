(class_definition name: (identifier) @name) @definition.class

; A singleton object (often a companion) holds the "static" members.
(object_definition name: (identifier) @name) @definition.class

(trait_definition name: (identifier) @name) @definition.trait

(enum_definition name: (identifier) @name) @definition.enum

; function_declaration (abstract, no body) stays with its trait or class.
(function_definition name: (identifier) @name) @definition.function

(type_definition name: (type_identifier) @name) @definition.type

; package foo { ... } blocks (not the one-line `package foo` clause)
(package_clause name: (_) @name body: (_)) @definition.module

; Test blocks (munit, ScalaTest's FunSuite / FunSpec): test("adds a route") { ... },
; describe("Router") { it("adds") { ... } }: named by their title (quotes included: the grammar
; keeps no string content node), so a suite is cut along its tests and a failing test's title
; finds its code.
(call_expression
  function: (call_expression
    function: (identifier) @_fn
    arguments: (arguments . (string) @name .))
  arguments: (block)
  (#any-of? @_fn "test" "describe" "it")) @definition.test
