; Named subs (`sub name {...}`, also `sub Pkg::name`) and 5.38 `method name {...}`.
; A forward declaration `sub name;` has no body (and this grammar parses it as an ERROR).
(subroutine_declaration_statement name: (bareword) @name body: (block)) @definition.function

(method_declaration_statement name: (bareword) @name body: (block)) @definition.method

; Only the block forms: `package Foo { ... }` contains its subs. The common `package Foo;`
; statement is one line that does not contain the code after it, so it stays module code.
(package_statement name: (package) @name (block)) @definition.module

(class_statement name: (package) @name (block)) @definition.class

(role_statement name: (package) @name (block)) @definition.trait

