"""One math thread per search: concurrent requests already keep every core busy.

numpy's OpenBLAS starts a thread pool per process and splits each matrix product over it. In
the service several searches run at once (threads, search worker processes), so those pools
fight each other for the same cores: on 2 cores, 119k chunks, concurrency 4 (`bench/load.py`),
166 QPS with the default pools, 238 QPS with one thread each. It must be set before numpy is
first imported; spawned search workers inherit it. An operator's own setting wins.
"""

from __future__ import annotations

import os
import sys

MATH_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def one_math_thread_per_search() -> bool:
    """Pin BLAS pools to one thread; False if numpy was already imported (too late to apply)."""
    for var in MATH_THREAD_VARS:
        os.environ.setdefault(var, "1")
    return "numpy" not in sys.modules
