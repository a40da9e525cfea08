"""The legacy parser: fixed line windows, for any text (no grammar, rollback, CST failure)."""

from __future__ import annotations

from lapce_ai.chunking.ids import chunk_id, content_hash
from lapce_ai.chunking.model import PARSER_LEGACY, Chunk

WINDOW_LINES = 50
MAX_WINDOW_CHARS = 4000


def chunk_lines(path: str, language: str, text: str, window: int = WINDOW_LINES) -> list[Chunk]:
    lines = text.split("\n")
    chunks: list[Chunk] = []
    start = 0
    ordinal = 0
    while start < len(lines):
        stop = min(start + window, len(lines))
        # Minified or generated text: cap by characters too, at least one line per window.
        size = 0
        for i in range(start, stop):
            size += len(lines[i]) + 1
            if size > MAX_WINDOW_CHARS and i > start:
                stop = i
                break
        body = "\n".join(lines[start:stop])
        if len(body) > MAX_WINDOW_CHARS * 4:
            body = body[: MAX_WINDOW_CHARS * 4]  # one enormous line: keep it searchable, bounded
        if body.strip():
            chunks.append(
                Chunk(
                    id=chunk_id(path, "", "window", ordinal),
                    path=path,
                    language=language,
                    kind="window",
                    symbol="",
                    start_line=start + 1,
                    end_line=stop,
                    parser=PARSER_LEGACY,
                    content=body,
                    content_hash=content_hash(body),
                )
            )
            ordinal += 1
        start = stop
    return chunks
