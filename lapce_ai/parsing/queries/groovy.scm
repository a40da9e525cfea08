; The pack's Groovy grammar (Decodetalkers/tree-sitter-groovy) is token-level: a line is a
; `command` of `unit`s, and `name(args) { ... }` is a `block` whose first child is the unit
; holding the call-like `func`. There are no declaration nodes, so definitions are read from
; keyword units and these shapes. `class A {` puts the name inside the block; `class A
; extends B {` leaves it a sibling unit. Operators such as * / < ?. ?: make local ERROR
; nodes; the shapes below survive them.
(command
  (unit) @_kw
  .
  (unit . [(identifier) @name (generics_class . (identifier) @name)] .)
  (block)
  (#eq? @_kw "class")) @definition.class

(command
  (unit) @_kw
  .
  (block . (unit . [(identifier) @name (generics_class . (identifier) @name)] .))
  (#eq? @_kw "class")) @definition.class

(command
  (unit) @_kw
  .
  (unit . [(identifier) @name (generics_class . (identifier) @name)] .)
  (block)
  (#eq? @_kw "interface")) @definition.interface

(command
  (unit) @_kw
  .
  (block . (unit . [(identifier) @name (generics_class . (identifier) @name)] .))
  (#eq? @_kw "interface")) @definition.interface

(command
  (unit) @_kw
  .
  (unit . [(identifier) @name (generics_class . (identifier) @name)] .)
  (block)
  (#eq? @_kw "trait")) @definition.trait

(command
  (unit) @_kw
  .
  (block . (unit . [(identifier) @name (generics_class . (identifier) @name)] .))
  (#eq? @_kw "trait")) @definition.trait

(command
  (unit) @_kw
  .
  (unit . (identifier) @name .)
  (block)
  (#eq? @_kw "enum")) @definition.enum

(command
  (unit) @_kw
  .
  (block . (unit . (identifier) @name .))
  (#eq? @_kw "enum")) @definition.enum

; Methods and functions: `<modifiers/type> name(params) {`. A return type or modifier unit
; must come first, which tells them from calls taking a closure (`retry(3) {`, Jenkins
; `stage('x') {`) and from `if (...) {`; `else if` and Gradle's `task name(...) {` are
; excluded by that unit. Abstract signatures have no block and are not matched.
; #not-match? rather than #not-any-of?: py-tree-sitter 0.26 lets a #not-any-of? with several
; values pass when the text differs from any one of them.
(command
  [(unit) (list)] @_before
  .
  (block . (unit . (func . (identifier) @name (arg_block)) .))
  (#not-match? @name "^(if|for|while|switch|catch|synchronized)$")
  (#not-match? @_before "^(else|task|return|new|throw)$")) @definition.function

; ... name(params) throws A, B {: the signature is a sibling unit, the block follows `throws`.
(command
  [(unit) (list)]
  .
  (unit . (func . (identifier) @name (arg_block)) .)
  .
  (unit) @_throws
  (block)
  (#eq? @_throws "throws")) @definition.function

; Constructors have no type before them: `Name(params) {` directly in a class named Name.
(command
  (unit) @_kw
  .
  (block
    .
    (unit . (identifier) @_class .)
    (command . (block . (unit . (func . (identifier) @name (arg_block)) .)) .) @definition.function)
  (#eq? @_kw "class")
  (#eq? @name @_class))

(command
  (unit) @_kw
  .
  (unit . (identifier) @_class .)
  (block
    (command . (block . (unit . (func . (identifier) @name (arg_block)) .)) .) @definition.function)
  (#eq? @_kw "class")
  (#eq? @name @_class))

; def square = { n -> ... } / final Closure fmt = { ... }: a closure bound to a name.
(command
  (unit)
  .
  (unit . (identifier) @name .)
  .
  (block . (operators) @_eq . "{")
  (#eq? @_eq "=")) @definition.function
