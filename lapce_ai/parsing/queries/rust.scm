(function_item name: (identifier) @name) @definition.function

(struct_item name: (type_identifier) @name) @definition.struct

(union_item name: (type_identifier) @name) @definition.struct

(enum_item name: (type_identifier) @name) @definition.enum

(trait_item name: (type_identifier) @name) @definition.trait

; `impl Trait for Type` is named by the type; most specific pattern first (earliest wins).
(impl_item type: (generic_type type: (_) @name)) @definition.impl

(impl_item type: (scoped_type_identifier name: (_) @name)) @definition.impl

(impl_item type: (_) @name) @definition.impl

; `mod foo;` has no body and is not worth a chunk.
(mod_item name: (identifier) @name body: (declaration_list)) @definition.module

(macro_definition name: (identifier) @name) @definition.macro

(type_item name: (type_identifier) @name) @definition.type
