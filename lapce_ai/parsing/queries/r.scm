; R has no definition syntax: a function is a function_definition assigned to a name
; (<-, =, <<-, or rightwards with the function in parentheses). obj$f keeps its prefix;
; "name" is named by the string's content. Class systems are plain calls (below).
(binary_operator
  lhs: [(identifier) (extract_operator)] @name
  operator: ["<-" "=" "<<-"]
  rhs: (function_definition)) @definition.function

(binary_operator
  lhs: (string (string_content) @name)
  operator: ["<-" "=" "<<-"]
  rhs: (function_definition)) @definition.function

(binary_operator
  lhs: (parenthesized_expression (function_definition))
  operator: ["->" "->>"]
  rhs: (identifier) @name) @definition.function

; Classes by their name string: setClass/setRefClass (S4, reference classes) and R6Class
; (also R6::R6Class). `Gen <- setClass(...)` is one definition, the assignment included.
(binary_operator
  operator: ["<-" "=" "<<-"]
  rhs: (call
    function: [(identifier) (namespace_operator rhs: (identifier))] @_fn
    arguments: (arguments . (argument value: (string (string_content) @name))))
  (#match? @_fn "(^|:)(setClass|setRefClass|R6Class)$")) @definition.class

(call
  function: [(identifier) (namespace_operator rhs: (identifier))] @_fn
  arguments: (arguments . (argument value: (string (string_content) @name)))
  (#match? @_fn "(^|:)(setClass|setRefClass|R6Class)$")) @definition.class

; Methods listed in R6Class(public/private/active = list(...)) and setRefClass(methods = list(...)).
(call
  function: [(identifier) (namespace_operator rhs: (identifier))] @_fn
  arguments: (arguments
    (argument
      name: (identifier) @_section
      value: (call
        function: (identifier) @_list
        arguments: (arguments
          (argument name: (identifier) @name value: (function_definition)) @definition.method))))
  (#match? @_fn "(^|:)(setRefClass|R6Class)$")
  (#any-of? @_section "public" "private" "active" "methods")
  (#eq? @_list "list"))

; S4: setGeneric("name", function ...) and setMethod("name", "Class", function ...).
(call
  function: (identifier) @_fn
  arguments: (arguments
    .
    (argument value: (string (string_content) @name))
    (argument value: (function_definition)))
  (#eq? @_fn "setGeneric")) @definition.function

(call
  function: (identifier) @_fn
  arguments: (arguments
    .
    (argument value: (string (string_content) @name))
    (argument value: (function_definition)))
  (#any-of? @_fn "setMethod" "setReplaceMethod")) @definition.method
