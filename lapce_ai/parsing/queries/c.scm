; Function names sit in nested declarators (pointer returns, function-pointer returns);
; queries cannot match at any depth, so the common shapes are spelled out.
(function_definition
  declarator: (function_declarator declarator: (identifier) @name)) @definition.function

(function_definition
  declarator: (_ declarator: (function_declarator declarator: (identifier) @name))) @definition.function

(function_definition
  declarator: (_ declarator: (_ declarator: (function_declarator declarator: (identifier) @name)))) @definition.function

(function_definition
  declarator: (function_declarator
    declarator: (parenthesized_declarator
      (_ declarator: (function_declarator declarator: (identifier) @name))))) @definition.function

; typedef struct tag {...} alias: named by the tag when there is one, so the inner
; struct_specifier (same kind, same name) folds into the typedef.
(type_definition
  type: (struct_specifier name: (_) @name body: (_))) @definition.struct

(type_definition
  type: (struct_specifier body: (_))
  declarator: (type_identifier) @name) @definition.struct

(type_definition
  type: (union_specifier name: (_) @name body: (_))) @definition.struct

(type_definition
  type: (union_specifier body: (_))
  declarator: (type_identifier) @name) @definition.struct

(type_definition
  type: (enum_specifier name: (_) @name body: (_))) @definition.enum

(type_definition
  type: (enum_specifier body: (_))
  declarator: (type_identifier) @name) @definition.enum

(struct_specifier name: (_) @name body: (_)) @definition.struct

(union_specifier name: (_) @name body: (_)) @definition.struct

(enum_specifier name: (_) @name body: (_)) @definition.enum

(preproc_function_def name: (identifier) @name) @definition.macro
