; Kotlin's grammar has no field names: the name is the declaration's direct
; type_identifier / simple_identifier child, and `interface`/`enum` are anonymous tokens.
; Specific patterns first: for the same node the earliest pattern wins.
(class_declaration "interface" (type_identifier) @name) @definition.interface

(class_declaration "enum" (type_identifier) @name) @definition.enum

(class_declaration (type_identifier) @name) @definition.class

(object_declaration (type_identifier) @name) @definition.class

(companion_object (type_identifier) @name) @definition.class

; Only functions with a body: interface and abstract signatures stay with their type.
(function_declaration (simple_identifier) @name (function_body)) @definition.function

(type_alias (type_identifier) @name) @definition.type
