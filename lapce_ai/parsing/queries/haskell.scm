; Each equation of a multi-clause function is its own `function` node, so such a function
; yields one definition per clause (same name). Signatures are not captured: as the short
; code right before the first clause they travel with it.
(declarations (function name: (variable) @name) @definition.function)

; Point-free / constant-like top-level bindings: main = ..., f = g . h
(declarations (bind name: (variable) @name) @definition.function)

(data_type name: (name) @name) @definition.type

(newtype name: (name) @name) @definition.type

; (sic: the grammar spells it "synomym")
(type_synomym name: (name) @name) @definition.type

(class name: (name) @name) @definition.class

(class_declarations (function name: (variable) @name) @definition.function)

; instance Show Shape: named by the type, like Rust's `impl Trait for Type`: by the constructor
; of the last type (`MonadState s (Lazy.StateT s m)` -> Lazy.StateT), else the types as written.
(instance patterns: (type_patterns [(name) (qualified)] @name .)) @definition.impl

(instance patterns: (type_patterns
  (parens type: (apply constructor: [(name) (qualified)] @name)) .)) @definition.impl

(instance patterns: (type_patterns
  (parens type: (apply constructor: (apply constructor: [(name) (qualified)] @name))) .)) @definition.impl

(instance patterns: (type_patterns
  (parens type: (apply constructor: (apply constructor: (apply constructor:
    [(name) (qualified)] @name)))) .)) @definition.impl

(instance patterns: (type_patterns
  (parens type: (apply constructor: (apply constructor: (apply constructor: (apply constructor:
    [(name) (qualified)] @name))))) .)) @definition.impl

(instance patterns: (type_patterns) @name) @definition.impl

(instance_declarations (function name: (variable) @name) @definition.function)
