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
