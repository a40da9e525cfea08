"""The modes of one ``cli_semble.sh`` run side by side: per repo NDCG@10, the means and the
categories, read from the ``--out`` files semble's harness wrote (one per mode).

    python3 bench/quality/cli_table.py OUT_DIR EMBEDDER [MODE ...]   # default: lexical dense hybrid
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def load(out: Path, embedder: str, modes: list[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for mode in modes:
        path = out / f"semble-{embedder}-{mode}.json"
        if path.exists():
            found[mode] = json.loads(path.read_text())
    return found


def table(runs: dict[str, dict[str, Any]]) -> list[str]:
    modes = list(runs)
    lines = ["| repo | " + " | ".join(modes) + " |", "|---|" + "---:|" * len(modes)]
    repos = [r["repo"] for r in next(iter(runs.values()))["repos"]]
    by_mode = {m: {r["repo"]: r["ndcg10"] for r in run["repos"]} for m, run in runs.items()}
    for repo in repos:
        cells = [f"{by_mode[m][repo]:.3f}" if repo in by_mode[m] else "-" for m in modes]
        lines.append(f"| {repo} | " + " | ".join(cells) + " |")
    summaries = {m: run["summary"] for m, run in runs.items()}
    means = [f"**{summaries[m]['ndcg10_mean_over_repos']:.4f}**" for m in modes]
    comparable = [f"{summaries[m]['comparable_subset_means']['ours']:.3f}" for m in modes]
    lines.append("| **mean over repos** | " + " | ".join(means) + " |")
    lines.append("| mean over comparable repos | " + " | ".join(comparable) + " |")
    for cat in ("architecture", "semantic", "symbol"):
        cells = [f"{summaries[m]['by_category_mean_over_repos'].get(cat, 0.0):.3f}" for m in modes]
        lines.append(f"| {cat} | " + " | ".join(cells) + " |")
    return lines


def main() -> None:
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    out, embedder = Path(sys.argv[1]), sys.argv[2]
    runs = load(out, embedder, sys.argv[3:] or ["lexical", "dense", "hybrid"])
    if not runs:
        raise SystemExit(f"no semble-{embedder}-<mode>.json under {out}")
    print("\n".join(table(runs)))


if __name__ == "__main__":
    main()
