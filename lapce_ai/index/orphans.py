"""Worker processes that cannot outlive the process that started them.

A SIGKILLed ``lapce-index`` cannot shut its process pool down, and pool workers keep the pool's
pipes open themselves, so they would wait for work forever. On Linux the kernel delivers SIGKILL
to them when their parent dies (``PR_SET_PDEATHSIG``); elsewhere this is a no-op.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def exit_with_parent(parent_pid: int) -> None:
    """Call first thing in a child process: die with ``parent_pid``."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before the request took effect
        os._exit(1)
