"""``lapce-ai-indexer``: index the configured workspaces, then watch them (SPEC §5).

    lapce-ai-indexer [--config FILE] [--once] [--index DIR]

Reads ``[workspaces] roots`` and ``[paths] index_dir`` from the same config as every command.
SIGHUP reloads the config (routing, cache sizes, concurrency, rate limits, log level, roots);
SIGTERM finishes the batch in flight and exits 0. Exit 1, with one line, when it cannot start.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from pydantic import ValidationError

from lapce_ai.config import ConfigError, load_config, warn_env_overrides
from lapce_ai.observability.build import version_line


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lapce-ai-indexer", description="Index and watch the configured workspaces")
    p.add_argument("--version", action="version", version=version_line(p.prog))
    p.add_argument("--config", help="config file (default: $LAPCE_AI_CONFIG, else /etc/lapce-ai/config.toml)")
    p.add_argument(
        "--once",
        action="store_true",
        help="scan every workspace once (and refine a two-stage index), then exit (no watching)",
    )
    p.add_argument("--index", help="index directory (default: [paths] index_dir)")
    return p


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    from lapce_ai.observability.logging import configure_logging
    from lapce_ai.service.indexer_daemon import DaemonError, IndexerDaemon
    from lapce_ai.service.reload import apply_overrides

    try:
        loaded = load_config(args.config)
    except ConfigError as exc:
        print(f"error: invalid configuration: {'; '.join(str(p) for p in exc.problems)}", file=sys.stderr)
        sys.exit(1)
    overrides: dict[str, dict[str, Any]] = {"paths": {"index_dir": args.index}} if args.index else {}
    try:
        settings = apply_overrides(loaded.settings, overrides)
    except ValidationError as exc:
        print(f"error: invalid --index: {exc.errors()[0]['msg']}", file=sys.stderr)
        sys.exit(1)
    configure_logging(settings.service.log_level)
    warn_env_overrides(loaded.env_overrides)
    daemon = IndexerDaemon(
        settings,
        config_path=args.config,
        config_source=str(loaded.source) if loaded.source else None,
        overrides=overrides,
    )
    try:
        code = daemon.run(once=args.once)
    except DaemonError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(code)


if __name__ == "__main__":
    main()
