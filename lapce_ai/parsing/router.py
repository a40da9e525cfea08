"""The parser router (SPEC §2): CST pipeline or legacy, per file, deterministically.

A file goes to the CST pipeline iff ``cst_pipeline_enabled`` and
``stable_bucket(path) < rollout_percentage`` and its language has a grammar. A CST failure (too
many error nodes, timeout, crash) falls back to legacy when ``legacy_fallback`` is on; otherwise
the file is reported as failed.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Protocol

import tree_sitter
import xxhash

from lapce_ai.chunking.cst import CstChunker, chunker_fingerprint
from lapce_ai.chunking.ids import stable_bucket
from lapce_ai.chunking.legacy import chunk_lines
from lapce_ai.chunking.model import PARSER_CST, PARSER_LEGACY, Chunk
from lapce_ai.config.settings import FeatureSettings, PerformanceSettings
from lapce_ai.observability import metrics
from lapce_ai.parsing.languages import LanguageSpec, has_grammar, language_for_path, new_parser
from lapce_ai.parsing.recovery import best_reading

TEXT_LANGUAGE = "text"
# Bumped when the same file under the same settings is routed or falls back otherwise
# (2: the error share counts only what tree-sitter recovered into no construct;
# 3: a file a macro line broke is read again with its macro lines as comments).
ROUTING_VERSION = 3


def chunking_fingerprint(features: FeatureSettings, performance: PerformanceSettings) -> str:
    """What decides a file's chunks besides its bytes and its route: the chunker and grammars,
    the fallback rules and the settings they read. An index re-chunks its files when it changes."""
    rules = f"{ROUTING_VERSION}|{features.legacy_fallback}|{performance.max_error_ratio}|{performance.parse_timeout_ms}"
    return xxhash.xxh3_64_hexdigest(f"{chunker_fingerprint()}|{rules}".encode())


class CstFailure(Exception):
    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass(frozen=True)
class ParseOutcome:
    chunks: list[Chunk]
    language: str
    parser: str  # the parser that produced the chunks (or was attempted, when failed)
    failed: str | None = None  # reason, when no chunks could be produced at all
    fallback: str | None = None  # why a CST-routed file was chunked by legacy


class ChunkCache(Protocol):
    """What the router needs of the CST cache: chunks by (path, content hash)."""

    def get_chunks(self, path: str, file_hash: str) -> list[Chunk] | None: ...

    def put_parsed(
        self, path: str, file_hash: str, source: bytes, tree: tree_sitter.Tree, chunks: list[Chunk]
    ) -> None: ...

    def parse(self, path: str, file_hash: str, source: bytes, parser: tree_sitter.Parser) -> tree_sitter.Tree: ...

    def chunk(
        self,
        path: str,
        file_hash: str,
        spec: LanguageSpec,
        source: bytes,
        tree: tree_sitter.Tree,
        chunker: CstChunker,
    ) -> list[Chunk]:
        """Equal to ``chunker.chunk(path, spec, source, tree)``; may re-derive only what an edit touched."""
        ...


class ParserRouter:
    def __init__(
        self,
        features: FeatureSettings,
        performance: PerformanceSettings,
        cache: ChunkCache | None = None,
        chunker: CstChunker | None = None,
    ):
        self.features = features
        self.performance = performance
        self.cache = cache
        self.chunker = chunker or CstChunker()
        self._local = threading.local()

    def reconfigure(self, features: FeatureSettings, performance: PerformanceSettings) -> None:
        self.features = features
        self.performance = performance

    def uses_cst(self, relpath: str, spec: LanguageSpec | None = None) -> bool:
        spec = spec if spec is not None else language_for_path(relpath)
        if spec is None or not has_grammar(spec) or not self.features.cst_pipeline_enabled:
            return False
        return stable_bucket(relpath) < self.features.rollout_percentage

    def process(self, relpath: str, data: bytes, file_hash: str) -> ParseOutcome:
        spec = language_for_path(relpath)
        language = spec.name if spec else TEXT_LANGUAGE
        if spec is not None and self.uses_cst(relpath, spec):
            metrics.CST_REQUESTS.inc()
            try:
                return ParseOutcome(self._cst_chunks(relpath, spec, data, file_hash), language, PARSER_CST)
            except (CstFailure, RecursionError, ValueError, RuntimeError) as exc:
                reason = exc.reason if isinstance(exc, CstFailure) else "crash"
                metrics.CST_ERRORS.labels(reason).inc()
                if not self.features.legacy_fallback:
                    return ParseOutcome([], language, PARSER_CST, failed=f"cst_{reason}")
                return self._legacy(relpath, language, data, reason="fallback", fallback=reason)
        reason = "no_grammar" if spec is None or not has_grammar(spec) else "routed"
        return self._legacy(relpath, language, data, reason=reason)

    def _legacy(
        self, relpath: str, language: str, data: bytes, reason: str, fallback: str | None = None
    ) -> ParseOutcome:
        metrics.LEGACY_REQUESTS.labels(reason).inc()
        try:
            text = data.decode("utf-8", errors="replace")
            return ParseOutcome(chunk_lines(relpath, language, text), language, PARSER_LEGACY, fallback=fallback)
        except Exception as exc:  # legacy is the last resort: report, never crash the run
            metrics.LEGACY_ERRORS.inc()
            return ParseOutcome([], language, PARSER_LEGACY, failed=f"legacy_error: {type(exc).__name__}")

    def _cst_chunks(self, relpath: str, spec: LanguageSpec, data: bytes, file_hash: str) -> list[Chunk]:
        if self.cache is not None:
            cached = self.cache.get_chunks(relpath, file_hash)
            if cached is not None:
                return cached
        parser = self._parser(spec)
        started = time.perf_counter()
        if self.cache is not None:
            tree = self.cache.parse(relpath, file_hash, data, parser)
        else:
            tree = parser.parse(data)
        reading = best_reading(spec, parser, data, tree)
        if (time.perf_counter() - started) * 1000 > self.performance.parse_timeout_ms:
            raise CstFailure("timeout")
        if reading.error_ratio > self.performance.max_error_ratio:
            raise CstFailure("parse_errors")
        if self.cache is not None:
            chunks = self.cache.chunk(relpath, file_hash, spec, data, reading.tree, self.chunker)
            # The cache keeps the bytes the tree was parsed from: the next edit is diffed against them.
            self.cache.put_parsed(relpath, file_hash, reading.source, reading.tree, chunks)
        else:
            chunks = self.chunker.chunk(relpath, spec, data, reading.tree)
        return chunks

    def _parser(self, spec: LanguageSpec) -> tree_sitter.Parser:
        parsers: dict[str, tree_sitter.Parser] | None = getattr(self._local, "parsers", None)
        if parsers is None:
            parsers = {}
            self._local.parsers = parsers
        parser = parsers.get(spec.name)
        if parser is None:
            parser = parsers[spec.name] = new_parser(spec)
        return parser
