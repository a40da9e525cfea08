(function_declaration name: (identifier) @name) @definition.function

; Named by the method alone: methods sit at top level, the receiver type is in the code.
(method_declaration name: (field_identifier) @name) @definition.method

; `type X struct {...}` on its own: the whole declaration, so the `type` keyword is included.
; Patterns are ordered most specific first: for the same node the earliest pattern wins.
(type_declaration . (type_spec name: (_) @name type: (struct_type)) .) @definition.struct

(type_declaration . (type_spec name: (_) @name type: (interface_type)) .) @definition.interface

(type_declaration . [(type_spec name: (_) @name) (type_alias name: (_) @name)] .) @definition.type

; Specs of a grouped `type ( ... )` block, one definition each (lone specs dedupe into the above).
(type_spec name: (_) @name type: (struct_type)) @definition.struct

(type_spec name: (_) @name type: (interface_type)) @definition.interface

(type_spec name: (_) @name) @definition.type

(type_alias name: (_) @name) @definition.type
