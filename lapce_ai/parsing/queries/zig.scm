; Zig's grammar has PascalCase node names; the `pub` keyword is a token *before* the Decl,
; outside the captured node. Container types are `const X = struct {...}` declarations.
(Decl
  (FnProto function: (IDENTIFIER) @name)
  (Block)) @definition.function

; Most specific first (the earliest pattern wins for the same node): union(enum) has an
; `enum` token too, and is kept a struct-like union.
(Decl
  (VarDecl
    (IDENTIFIER) @name
    (ErrorUnionExpr (SuffixExpr (ContainerDecl (ContainerDeclType ["struct" "opaque"])))))) @definition.struct

(Decl
  (VarDecl
    (IDENTIFIER) @name
    (ErrorUnionExpr (SuffixExpr (ContainerDecl (ContainerDeclType "union")))))) @definition.struct

(Decl
  (VarDecl
    (IDENTIFIER) @name
    (ErrorUnionExpr (SuffixExpr (ContainerDecl (ContainerDeclType "enum")))))) @definition.enum

; test "name" { ... }: named by the string literal, quotes included.
(TestDecl (STRINGLITERALSINGLE) @name) @definition.function
