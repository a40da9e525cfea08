; function f() / local function f() / function M.new() / function M:render(): named as
; written, so module functions keep their table prefix (M.new, M:render).
(function_declaration name: (_) @name) @definition.function

; M.reset = function () ... end
(assignment_statement
  (variable_list . name: (_) @name .)
  (expression_list . value: (function_definition) .)) @definition.function

; local handler = function () ... end: the whole statement, `local` included.
(variable_declaration
  (assignment_statement
    (variable_list . name: (_) @name .)
    (expression_list . value: (function_definition) .))) @definition.function
