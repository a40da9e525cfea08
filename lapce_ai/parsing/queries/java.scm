; Annotations are inside `modifiers`, so they are part of each definition node.
(class_declaration name: (identifier) @name) @definition.class

(record_declaration name: (identifier) @name) @definition.class

(interface_declaration name: (identifier) @name) @definition.interface

(annotation_type_declaration name: (identifier) @name) @definition.interface

(enum_declaration name: (identifier) @name) @definition.enum

; Only methods with a body: abstract signatures stay with their interface or class.
(method_declaration name: (identifier) @name body: (block)) @definition.method

(constructor_declaration name: (identifier) @name) @definition.method

(compact_constructor_declaration name: (identifier) @name) @definition.method
