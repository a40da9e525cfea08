"""The release binary's entry point: one file that is all three commands (``make release``).

The runbook deploys and rolls back a single file, ``/opt/lapce-ai/lapce-ai-service``; the indexer
and ``lapce-index`` are symbolic links to it, so copying that one file replaces all three
programs' code at once. The command is the name the program was called by (as busybox does)::

    /opt/lapce-ai/lapce-ai-service --check-config
    /opt/lapce-ai/lapce-index migrate --index DIR --to latest   # a link to lapce-ai-service

A first argument that names a command wins over the name (no command takes such an argument):
called as ``lapce-ai-2026.12.pyz`` or as ``lapce-ai-service`` itself, ``lapce-ai-service
lapce-ai-indexer --once`` runs the indexer. A checkout's wrappers call it so once a release
binary has been copied over its ``lapce-ai-service``.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

# Each command's module, imported on demand: `lapce-index --help` need not import the HTTP service.
COMMANDS: dict[str, str] = {
    "lapce-ai-service": "lapce_ai.cli.service_cmd",
    "lapce-index": "lapce_ai.cli.index_cmd",
    "lapce-ai-indexer": "lapce_ai.cli.indexer_cmd",
}


def resolve(argv: list[str]) -> tuple[str, list[str]] | None:
    """The module of the command that ``argv`` (``sys.argv``, program name first) calls, and its
    arguments."""
    if not argv:
        return None
    if len(argv) > 1 and argv[1] in COMMANDS:
        return COMMANDS[argv[1]], argv[2:]
    called_as = Path(argv[0]).name
    if called_as in COMMANDS:
        return COMMANDS[called_as], argv[1:]
    return None


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    found = resolve(argv)
    if found is None:
        name = Path(argv[0]).name if argv else "lapce-ai"
        print(
            f"usage: {name} {{{','.join(COMMANDS)}}} [ARGS...]\n"
            f"(or call this file through a link named after the command: {', '.join(COMMANDS)})",
            file=sys.stderr,
        )
        sys.exit(2)
    module, args = found
    # Code that reads sys.argv after the dispatch sees the command's own arguments, as it would
    # under the command's console script (the parsers name themselves by their prog).
    sys.argv = [argv[0], *args]
    importlib.import_module(module).main(args)
