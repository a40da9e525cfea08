; Clojure definitions are lists told apart by their first symbol. Names are the sym_name
; inside the sym_lit, so metadata (`(defn ^:private ^String f ...)`) stays out of the name.
; The head may be namespaced (`s/defn` of plumatic schema defines a function too).
; Queries cannot see ancestors: forms inside `#_` or `(comment ...)` are captured as well.
(list_lit
  .
  (sym_lit name: (sym_name) @_kw)
  .
  (sym_lit name: (sym_name) @name)
  (#eq? @_kw "ns")) @definition.namespace

(list_lit
  .
  (sym_lit name: (sym_name) @_kw)
  .
  (sym_lit name: (sym_name) @name)
  (#any-of? @_kw "defn" "defn-" "defmulti")) @definition.function

; (def name (fn [args] ...)): a function bound by def, like `const f = () => ...`.
(list_lit
  .
  (sym_lit name: (sym_name) @_kw)
  .
  (sym_lit name: (sym_name) @name)
  .
  (list_lit . (sym_lit name: (sym_name) @_fn))
  (#eq? @_kw "def")
  (#eq? @_fn "fn")) @definition.function

; (defmethod area :circle [s] ...): one implementation of a multimethod, named by it.
(list_lit
  .
  (sym_lit name: (sym_name) @_kw)
  .
  (sym_lit name: (sym_name) @name)
  (#eq? @_kw "defmethod")) @definition.method

(list_lit
  .
  (sym_lit name: (sym_name) @_kw)
  .
  (sym_lit name: (sym_name) @name)
  (#eq? @_kw "defmacro")) @definition.macro

(list_lit
  .
  (sym_lit name: (sym_name) @_kw)
  .
  (sym_lit name: (sym_name) @name)
  (#eq? @_kw "defprotocol")) @definition.interface

(list_lit
  .
  (sym_lit name: (sym_name) @_kw)
  .
  (sym_lit name: (sym_name) @name)
  (#any-of? @_kw "defrecord" "deftype")) @definition.class

; Method bodies inside defrecord/deftype: (area [this] ...) after the field vector.
; defprotocol signatures have no body and are not matched.
(list_lit
  .
  (sym_lit name: (sym_name) @_kw)
  .
  (sym_lit)
  .
  (vec_lit)
  (list_lit
    .
    (sym_lit name: (sym_name) @name)
    .
    (vec_lit)
    .
    (_)) @definition.method
  (#any-of? @_kw "defrecord" "deftype"))
