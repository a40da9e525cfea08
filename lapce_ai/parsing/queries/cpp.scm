; Function names sit in nested declarators (pointer/reference returns, function-pointer
; returns); queries cannot match at any depth, so the common shapes are spelled out, each
; also inside a template_declaration so the `template <...>` line belongs to the chunk.
; Qualified names (Foo::bar) are kept as written.

(template_declaration
  (function_definition
    declarator: (function_declarator
      declarator: [(identifier) (field_identifier) (qualified_identifier) (operator_name)
                   (destructor_name) (template_function)] @name))) @definition.function

(template_declaration
  (function_definition
    declarator: (_
      (function_declarator
        declarator: [(identifier) (field_identifier) (qualified_identifier) (operator_name)
                     (destructor_name) (template_function)] @name)))) @definition.function

(template_declaration
  (function_definition
    declarator: (_
      (_
        (function_declarator
          declarator: [(identifier) (field_identifier) (qualified_identifier) (operator_name)
                       (destructor_name) (template_function)] @name))))) @definition.function

(function_definition
  declarator: (function_declarator
    declarator: [(identifier) (field_identifier) (qualified_identifier) (operator_name)
                 (destructor_name) (template_function)] @name)) @definition.function

(function_definition
  declarator: (_
    (function_declarator
      declarator: [(identifier) (field_identifier) (qualified_identifier) (operator_name)
                   (destructor_name) (template_function)] @name))) @definition.function

(function_definition
  declarator: (_
    (_
      (function_declarator
        declarator: [(identifier) (field_identifier) (qualified_identifier) (operator_name)
                     (destructor_name) (template_function)] @name)))) @definition.function

(function_definition
  declarator: (function_declarator
    declarator: (parenthesized_declarator
      (_
        (function_declarator
          declarator: [(identifier) (field_identifier) (qualified_identifier)] @name))))) @definition.function

; A specialization (`template <> struct less<value_t>`) is named by its template.
(template_declaration
  (class_specifier name: (template_type name: (_) @name) body: (_))) @definition.class

(template_declaration
  (struct_specifier name: (template_type name: (_) @name) body: (_))) @definition.struct

(class_specifier name: (template_type name: (_) @name) body: (_)) @definition.class

(struct_specifier name: (template_type name: (_) @name) body: (_)) @definition.struct

(template_declaration
  (class_specifier name: (_) @name body: (_))) @definition.class

(template_declaration
  (struct_specifier name: (_) @name body: (_))) @definition.struct

(class_specifier name: (_) @name body: (_)) @definition.class

(struct_specifier name: (_) @name body: (_)) @definition.struct

(union_specifier name: (_) @name body: (_)) @definition.struct

(enum_specifier name: (_) @name body: (_)) @definition.enum

; typedef struct tag {...} alias: named by the tag when there is one (folds with the inner
; specifier), else by the alias.
(type_definition
  type: (struct_specifier name: (_) @name body: (_))) @definition.struct

(type_definition
  type: (struct_specifier body: (_))
  declarator: (type_identifier) @name) @definition.struct

(type_definition
  type: (enum_specifier name: (_) @name body: (_))) @definition.enum

(type_definition
  type: (enum_specifier body: (_))
  declarator: (type_identifier) @name) @definition.enum

(namespace_definition name: (_) @name) @definition.namespace

(preproc_function_def name: (identifier) @name) @definition.macro
