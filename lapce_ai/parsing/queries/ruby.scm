(module name: (_) @name) @definition.module

(class name: (_) @name) @definition.class

; Every Ruby def is a method (top-level ones land on Object).
(method name: (_) @name) @definition.method

; def self.parse: named by the method alone.
(singleton_method name: (_) @name) @definition.method
