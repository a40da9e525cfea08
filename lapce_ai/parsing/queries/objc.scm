; inherits: c
; The objc grammar extends tree-sitter-c: C functions, structs, enums and macros come from c.scm.
; @interface declares a class; categories, class extensions `@interface A ()` and
; @implementation add to or implement it, so they are impls named by the class (as Swift
; extensions and Rust impl blocks are). Category names are not part of the name.
(class_interface . (identifier) @name "(") @definition.impl

(class_interface . (identifier) @name) @definition.class

(class_implementation . (identifier) @name) @definition.impl

(protocol_declaration . (identifier) @name) @definition.interface

; Only method definitions (with bodies); named by the selector's first keyword, since a
; query captures one node: `- (void)moveBy:(double)dx y:(double)dy` is `moveBy`.
(method_definition . (identifier) @name) @definition.method

(method_definition . (method_type) . (identifier) @name) @definition.method
