(module name: (_) @name) @definition.module

(class name: (_) @name) @definition.class

; Every Ruby def is a method (top-level ones land on Object).
(method name: (_) @name) @definition.method

; def self.parse: named by the method alone.
(singleton_method name: (_) @name) @definition.method

; Test blocks (RSpec, minitest/spec): describe Rack::Builder do, it "supports mapping" do,
; context "when empty" { }: named by their subject or title, so a test file is cut along its
; tests and a failing test's description finds its code.
(call
  method: (identifier) @_fn
  arguments: (argument_list . [(string (string_content) @name) (constant) @name (scope_resolution) @name])
  block: [(do_block) (block)]
  (#any-of? @_fn "describe" "context" "it" "specify" "test" "feature" "scenario" "shared_examples")) @definition.test
