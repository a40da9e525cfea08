; inherits: _ecma

(export_statement
  declaration: (abstract_class_declaration name: (_) @name)) @definition.class

(export_statement
  declaration: (interface_declaration name: (_) @name)) @definition.interface

(export_statement
  declaration: (type_alias_declaration name: (_) @name)) @definition.type

(export_statement
  declaration: (enum_declaration name: (_) @name)) @definition.enum

(export_statement
  declaration: (internal_module name: (_) @name)) @definition.namespace

(abstract_class_declaration name: (_) @name) @definition.class

(interface_declaration name: (_) @name) @definition.interface

(type_alias_declaration name: (_) @name) @definition.type

(enum_declaration name: (_) @name) @definition.enum

(internal_module name: (_) @name) @definition.namespace

; declare module "express" { ... }: named without the quotes.
(module name: (string (string_fragment) @name)) @definition.module

(module name: (identifier) @name) @definition.module

(public_field_definition
  name: (_) @name
  value: [(arrow_function) (function_expression)]) @definition.method
