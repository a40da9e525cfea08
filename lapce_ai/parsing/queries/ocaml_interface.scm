; inherits: ocaml
; .mli files: the interface grammar shares the implementation grammar's nodes, so the OCaml
; query applies as is (val specifications have no body and stay in the module's chunks).
