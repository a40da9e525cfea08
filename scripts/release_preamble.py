"""Run by the release binary at each start, before the command (shiv's ``--preamble``; ``make release``).

The binary unpacks its dependencies once per build under ``$SHIV_ROOT`` (~800 MB), and nothing
else removes them: without this, every deployment would leave one more copy on the disk. This
keeps the build that is starting and the two used most recently before it, so a rollback to the
previous build starts without unpacking again.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

KEEP = 3


def prune(current: Path, keep: int = KEEP) -> list[Path]:
    """Remove the unpacked builds of this binary but ``current`` and the ``keep - 1`` used last.

    ``current`` is ``<root>/<binary name>_<build id>``. Its modification time is set to now, so
    the time of a build's folder is the time it last started.
    """
    with contextlib.suppress(OSError):
        os.utime(current)
    root = current.parent
    prefix = current.name.rsplit("_", 1)[0] + "_"
    others = []
    for path in root.iterdir():
        # ".tmp" folders are unpackings in progress (another process starting a new build).
        if path != current and path.name.startswith(prefix) and not path.name.endswith(".tmp") and path.is_dir():
            with contextlib.suppress(OSError):
                others.append((path.stat().st_mtime, path))
    others.sort(reverse=True)
    removed = []
    for _, old in others[max(keep - 1, 0) :]:
        shutil.rmtree(old, ignore_errors=True)
        with contextlib.suppress(OSError):
            (root / f".{old.name}_lock").unlink()
        removed.append(old)
    return removed


if __name__ == "__main__":
    # shiv runs this file with `site_packages` (this build's unpacked site-packages) defined.
    unpacked = globals().get("site_packages")
    if isinstance(unpacked, Path):
        with contextlib.suppress(OSError):
            prune(unpacked.parent)
