; Attributes ([Serializable]) are inside the declaration nodes.
(namespace_declaration name: (_) @name) @definition.namespace

(class_declaration name: (identifier) @name) @definition.class

(record_declaration name: (identifier) @name) @definition.class

(struct_declaration name: (identifier) @name) @definition.struct

(interface_declaration name: (identifier) @name) @definition.interface

(enum_declaration name: (identifier) @name) @definition.enum

; Only members with a body: interface and abstract signatures stay with their type.
(method_declaration name: (identifier) @name body: (_)) @definition.method

(constructor_declaration name: (identifier) @name body: (_)) @definition.method

(destructor_declaration name: (identifier) @name body: (_)) @definition.method

(local_function_statement name: (identifier) @name body: (_)) @definition.function
