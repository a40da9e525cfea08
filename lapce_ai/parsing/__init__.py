"""Parsing: the parser router (CST pipeline or legacy line windows, by rollout percentage and
fallback) and the tree-sitter grammars, with each language's knowledge kept as data
(``languages.toml`` and the query files under ``queries/``)."""
