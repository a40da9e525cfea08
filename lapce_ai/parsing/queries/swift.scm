; Swift uses class_declaration for class/struct/enum/extension/actor, told apart by the
; `declaration_kind` token. The `name` field is multi-valued (a function's return type is
; also under `name`), so names are matched by node type too.
(class_declaration declaration_kind: "class" name: (type_identifier) @name) @definition.class

(class_declaration declaration_kind: "actor" name: (type_identifier) @name) @definition.class

(class_declaration declaration_kind: "struct" name: (type_identifier) @name) @definition.struct

(class_declaration declaration_kind: "enum" name: (type_identifier) @name) @definition.enum

; extension Foo: Bar { ... } is named by the extended type, without its generic arguments
; (`extension Range<BigString.Index>` is Range).
(class_declaration declaration_kind: "extension"
  name: (user_type (type_identifier) @name . (type_arguments) .)) @definition.impl

(class_declaration declaration_kind: "extension" name: (_) @name) @definition.impl

(protocol_declaration name: (type_identifier) @name) @definition.interface

(function_declaration name: (simple_identifier) @name) @definition.function

(init_declaration name: "init" @name) @definition.method

(typealias_declaration name: (type_identifier) @name) @definition.type
