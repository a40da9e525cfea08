; `namespace A.B` and a file-level `module A.B` span the declarations after them.
; Grammar quirk: comments between two definitions are children of the first one, so a doc
; comment ends up at the end of the definition above the one it documents.
(namespace name: (long_identifier) @name) @definition.namespace

(named_module name: (long_identifier) @name) @definition.module

; module M = ... (its only direct identifier child is the name; `module A = B.C` aliases
; are module_abbrev and not matched).
(module_defn (identifier) @name) @definition.module

; Types: the *_defn node, not type_definition, since `type A = ... and B = ...` is one
; type_definition holding both. Specific patterns first: the earliest pattern wins.
(type_definition
  (attributes (attribute (simple_type (long_identifier (identifier) @_attr))))
  (anon_type_defn (type_name type_name: (_) @name)) @definition.class
  (#eq? @_attr "AbstractClass"))

(type_definition
  (attributes (attribute (simple_type (long_identifier (identifier) @_attr))))
  (anon_type_defn (type_name type_name: (_) @name)) @definition.interface
  (#eq? @_attr "Interface"))

; F# infers an interface from a type with no constructor whose members are abstract:
; checked on the first member.
(anon_type_defn
  (type_name type_name: (_) @name)
  .
  block: (type_extension_elements . (member_defn (member_signature)))) @definition.interface

(interface_type_defn (type_name type_name: (_) @name)) @definition.interface

(anon_type_defn (type_name type_name: (_) @name)) @definition.class

(record_type_defn (type_name type_name: (_) @name)) @definition.type

; Also catches `type Id = int`, which the grammar reads as a one-case union.
(union_type_defn (type_name type_name: (_) @name)) @definition.type

(enum_type_defn (type_name type_name: (_) @name)) @definition.enum

(type_abbrev_defn (type_name type_name: (_) @name)) @definition.type

(delegate_type_defn (type_name type_name: (_) @name)) @definition.type

(exception_definition exception_name: (long_identifier) @name) @definition.class

; type System.String with ... (augmentation) and `interface IFoo with` inside a class.
(type_extension (type_name type_name: (_) @name)) @definition.impl

(interface_implementation . (_) @name) @definition.impl

; Members with a body (abstract signatures stay with their type): this.Greet, _.Count,
; static Create, operators (+).
(member_defn (method_or_prop_defn name: (property_or_ident method: (_) @name))) @definition.method

(member_defn (method_or_prop_defn name: (property_or_ident . (_) @name .))) @definition.method

; let f x = ... (functions have parameters); `let rec f ... and g ...` is one node, named f.
(function_or_value_defn
  (function_declaration_left [(identifier) (op_identifier) (active_pattern)] @name)) @definition.function

; The same `let f (x: T) : U =` is sometimes parsed as a pattern binding `f (x: T)`.
(function_or_value_defn
  (value_declaration_left (identifier_pattern . (long_identifier_or_op) @name . (_)))) @definition.function

; let f = fun x -> ... / let f = function | ...
(function_or_value_defn
  (value_declaration_left (identifier_pattern . (long_identifier_or_op) @name .))
  body: [(fun_expression) (function_expression)]) @definition.function
