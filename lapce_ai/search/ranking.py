"""Fusion and code-aware re-ranking of search candidates.

Reciprocal-rank fusion of the lexical and dense lists, then small boosts for signals a
developer expects (the queried symbol's definition, a file-path match), and de-duplication of
overlapping chunks of one file. Ties break on (path, start_line) so ordering is stable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lapce_ai.search.tokenize import code_tokens, path_tokens

RRF_K = 60.0
SYMBOL_MATCH_BOOST = 0.5
PATH_MATCH_BOOST = 0.25


@dataclass
class Candidate:
    row: dict[str, Any]
    lexical_rank: int | None = None
    dense_rank: int | None = None
    score: float = 0.0
    signals: dict[str, float] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.row.get("root", ""), self.row["path"], int(self.row["start_line"]))


def fuse(lexical: list[Candidate], dense: list[Candidate]) -> list[Candidate]:
    merged: dict[tuple[str, str, int], Candidate] = {}
    for cand in lexical + dense:
        existing = merged.get(cand.key)
        if existing is None:
            merged[cand.key] = existing = Candidate(row=cand.row)
        if cand.lexical_rank is not None:
            existing.lexical_rank = cand.lexical_rank
        if cand.dense_rank is not None:
            existing.dense_rank = cand.dense_rank
    for cand in merged.values():
        score = 0.0
        if cand.lexical_rank is not None:
            score += 1.0 / (RRF_K + cand.lexical_rank + 1)
        if cand.dense_rank is not None:
            score += 1.0 / (RRF_K + cand.dense_rank + 1)
        cand.score = score
    return list(merged.values())


def rerank(query: str, lexical: list[Candidate], dense: list[Candidate], k: int) -> list[Candidate]:
    cands = fuse(lexical, dense)
    q_tokens = set(code_tokens(query))
    base = 1.0 / (RRF_K + 1)  # boosts are in units of a first-place RRF vote
    for cand in cands:
        symbol = cand.row.get("symbol") or ""
        sym_tokens = set(code_tokens(symbol.replace(".", " ")))
        last = symbol.rsplit(".", 1)[-1].lower()
        if last and last in q_tokens:
            cand.signals["symbol"] = SYMBOL_MATCH_BOOST
        elif sym_tokens and q_tokens and len(sym_tokens & q_tokens) / len(sym_tokens) >= 0.5:
            cand.signals["symbol"] = SYMBOL_MATCH_BOOST / 2
        p_tokens = set(path_tokens(cand.row["path"]))
        if q_tokens & p_tokens:
            cand.signals["path"] = PATH_MATCH_BOOST * len(q_tokens & p_tokens) / len(q_tokens)
        cand.score += base * sum(cand.signals.values())
    cands.sort(key=lambda c: (-c.score, c.row["path"], int(c.row["start_line"])))
    return _dedupe_overlaps(cands, k)


def _dedupe_overlaps(cands: list[Candidate], k: int) -> list[Candidate]:
    kept: list[Candidate] = []
    spans: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for cand in cands:
        file_key = (cand.row.get("root", ""), cand.row["path"])
        start, end = int(cand.row["start_line"]), int(cand.row["end_line"])
        if any(not (end < s or start > e) for s, e in spans.get(file_key, [])):
            continue
        spans.setdefault(file_key, []).append((start, end))
        kept.append(cand)
        if len(kept) >= k:
            break
    return kept
