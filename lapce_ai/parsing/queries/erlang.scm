; Each clause of a function is its own fun_decl (the grammar has no node for the whole
; function), so a multi-clause function yields one definition per clause, all with its name,
; like Haskell. -spec is not captured: as the short form right above the first clause it
; joins that clause's chunk.
(fun_decl clause: (function_clause name: (atom) @name)) @definition.function

(record_decl name: (atom) @name) @definition.struct

(pp_define lhs: (macro_lhs name: (_) @name)) @definition.macro

(type_alias name: (type_name name: (atom) @name)) @definition.type

(opaque name: (type_name name: (atom) @name)) @definition.type
