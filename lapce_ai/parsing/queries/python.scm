; Decorated definitions first: the decorator lines belong to the chunk. The bare inner
; definition also matches below; the registry drops it (same kind and name, contained).
(decorated_definition
  definition: (function_definition name: (identifier) @name)) @definition.function

(decorated_definition
  definition: (class_definition name: (identifier) @name)) @definition.class

(function_definition name: (identifier) @name) @definition.function

(class_definition name: (identifier) @name) @definition.class

(type_alias_statement left: (type (identifier) @name)) @definition.type
