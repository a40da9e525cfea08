"""What a chunk's vector is made of: copies of the transformer evaluation indexes, re-embedded
with a header before each chunk's text, to compare with ``run.py`` on the same queries.

    .venv/bin/python bench/quality/embedded_text.py --header path --out /tmp/lq-path
    LAPCE_BENCH_DIR=/tmp/lq-path .venv/bin/python bench/quality/run.py --embedder transformer \\
        --suite cosqa,semble,docs --modes dense,hybrid

Indexing embeds a chunk's text alone (SPEC: vectors are cached by model and content hash, so a
moved or renamed file, or a copied function, costs no embedding call). This bench measures what
a header would bring, without changing the pipeline: only the ``vector`` column of each copied
``chunks`` table is rewritten; the lexical side, file summaries and queries stay as they are.
Headers (``--header``): ``path``, the file's path under the indexed root on a line of its own;
``words``, that path's words without its extension or numbers; ``stem``, the file name's words.
The source indexes are ``run.py``'s (under ``$LAPCE_BENCH_DIR``, built there first); about 95k
chunks, 20-25 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import WORK, make_embedder

_WORDS = re.compile(r"[A-Za-z0-9]+")


def _words(text: str) -> str:
    return " ".join(w for w in _WORDS.findall(text) if not w.isdigit())


HEADERS: dict[str, Callable[[str], str]] = {
    "path": lambda path: path,
    "words": lambda path: _words(path.rsplit(".", 1)[0]),
    "stem": lambda path: _words(path.rpartition("/")[2].split(".", 1)[0]),
}


def source_indexes(root: Path) -> list[Path]:
    """The transformer indexes of the CoSQA, semble-dev and docs suites under ``root``."""
    found = [root / "cosqa" / "index-transformer"]
    found += sorted(p for p in (root / "semble").glob("*-transformer") if p.is_dir())
    found += sorted((root / "docs").glob("*/index-transformer"))
    return [p for p in found if (p / "_complete").exists()]


def reembed(src: Path, dst: Path, header: Callable[[str], str], embedder: Any, batch: int = 64) -> int:
    """Copy the index at ``src`` to ``dst`` with each chunk's vector embedded from its header
    line and its text; the number of chunks."""
    import lancedb

    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst, symlinks=True)
    db = lancedb.connect(str(dst))
    data = db.open_table("chunks").to_arrow()
    texts = []
    for path, content in zip(data.column("path").to_pylist(), data.column("content").to_pylist(), strict=True):
        head = header(path)
        texts.append(f"{head}\n{content}" if head else content)
    dim = int(embedder.dim)
    vectors = np.zeros((len(texts), dim), dtype=np.float32)
    for start in range(0, len(texts), batch):
        vectors[start : start + batch] = embedder.embed_documents(texts[start : start + batch])
    column = pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1), pa.float32()), dim)
    at = data.schema.get_field_index("vector")
    db.create_table("chunks", data.set_column(at, data.schema.field("vector"), column), mode="overwrite")
    return len(texts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--header", choices=sorted(HEADERS), default="path")
    ap.add_argument("--out", required=True, help="a new $LAPCE_BENCH_DIR for the copies")
    args = ap.parse_args()
    out = Path(args.out).resolve()
    if out == WORK.resolve():
        raise SystemExit("--out must differ from $LAPCE_BENCH_DIR (the source indexes)")
    embedder = make_embedder("transformer")
    print("| index | chunks | seconds |")
    print("|---|---:|---:|")
    for src in source_indexes(WORK):
        rel = src.relative_to(WORK)
        for extra in ("queries.json", "src"):  # what run.py reads beside a docs or CoSQA index
            beside = src.parent / extra
            if beside.exists() and not (out / rel.parent / extra).exists():
                (out / rel.parent).mkdir(parents=True, exist_ok=True)
                if beside.is_dir():
                    (out / rel.parent / extra).symlink_to(beside)
                else:
                    shutil.copy2(beside, out / rel.parent / extra)
        started = time.perf_counter()
        n = reembed(src, out / rel, HEADERS[args.header], embedder)
        print(f"| {rel} | {n} | {time.perf_counter() - started:.0f} |", flush=True)


if __name__ == "__main__":
    main()
