"""A thread-safe token bucket: a real requests-per-second limit, adjustable while in use.

The bucket refills continuously at ``rate`` tokens per second up to ``capacity`` tokens; every
request takes one token. Over any window of T seconds at most ``capacity + rate * T`` requests
start; the default capacity is one token (no burst), so requests are paced ``1 / rate`` apart and
the measured rate never exceeds the configured one. It limits how often requests
*start*, not how many are in flight: slow answers do not lower the rate.

``set_rate`` applies immediately: waiting threads are woken and re-evaluate against the new rate;
tokens already accumulated are kept (clamped to the new capacity), so nothing in flight is lost.
``acquire(priority=True)`` (interactive queries) is served before normal waiters (bulk indexing).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimiterClosed(Exception):
    """The limiter was closed (or the caller's cancel event was set) while waiting."""


def default_capacity(rate: float) -> float:
    """Burst size for ``rate``: one token, i.e. strict pacing (Bedrock quotas allow no bursts)."""
    del rate
    return 1.0


class TokenBucket:
    # Upper bound on one sleep, so a cancel event (which cannot notify our condition) is noticed.
    _POLL_SECONDS = 0.05

    def __init__(self, rate: float, capacity: float | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0:
            raise ValueError("rate must be > 0")
        self._clock = clock
        self._cond = threading.Condition(threading.Lock())
        self._rate = float(rate)
        self._explicit_capacity = capacity
        self._capacity = float(capacity) if capacity is not None else default_capacity(rate)
        if self._capacity < 1.0:
            raise ValueError("capacity must be >= 1")
        self._tokens = self._capacity
        self._stamp = clock()
        self._priority_waiting = 0
        self._closed = False

    @property
    def rate(self) -> float:
        with self._cond:
            return self._rate

    @property
    def capacity(self) -> float:
        with self._cond:
            return self._capacity

    def set_rate(self, rate: float, capacity: float | None = None) -> None:
        """Change the rate (and capacity) now; waiters are re-evaluated against the new rate."""
        if rate <= 0:
            raise ValueError("rate must be > 0")
        with self._cond:
            self._refill_locked()
            self._rate = float(rate)
            if capacity is not None:
                self._explicit_capacity = capacity
            cap = self._explicit_capacity
            self._capacity = float(cap) if cap is not None else default_capacity(rate)
            self._tokens = min(self._tokens, self._capacity)
            self._cond.notify_all()

    def _refill_locked(self) -> None:
        now = self._clock()
        elapsed = now - self._stamp
        if elapsed > 0:
            self._tokens = min(self._capacity, self._tokens + elapsed * self._rate)
        self._stamp = now

    def try_acquire(self) -> bool:
        """Take a token if one is available now (never waits)."""
        with self._cond:
            if self._closed:
                raise RateLimiterClosed("rate limiter closed")
            self._refill_locked()
            if self._tokens >= 1.0 and self._priority_waiting == 0:
                self._tokens -= 1.0
                return True
            return False

    def acquire(
        self,
        *,
        priority: bool = False,
        cancel: threading.Event | None = None,
        timeout: float | None = None,
    ) -> float:
        """Wait for a token and take it; returns the seconds waited.

        Raises ``RateLimiterClosed`` if the limiter is closed or ``cancel`` is set while waiting,
        ``TimeoutError`` if ``timeout`` passes first.
        """
        started = self._clock()
        deadline = None if timeout is None else started + timeout
        with self._cond:
            if priority:
                self._priority_waiting += 1
            try:
                while True:
                    if self._closed or (cancel is not None and cancel.is_set()):
                        raise RateLimiterClosed("rate limiter closed" if self._closed else "cancelled")
                    self._refill_locked()
                    # Normal callers leave tokens to waiting priority callers.
                    if self._tokens >= 1.0 and (priority or self._priority_waiting == 0):
                        self._tokens -= 1.0
                        return self._clock() - started
                    wait = (1.0 - self._tokens) / self._rate if self._tokens < 1.0 else self._POLL_SECONDS
                    wait = min(max(wait, 0.0005), self._POLL_SECONDS if cancel is not None else 1.0)
                    if deadline is not None:
                        left = deadline - self._clock()
                        if left <= 0:
                            raise TimeoutError("timed out waiting for a rate-limit token")
                        wait = min(wait, left)
                    self._cond.wait(wait)
            finally:
                if priority:
                    self._priority_waiting -= 1
                    if self._priority_waiting == 0:
                        self._cond.notify_all()

    def close(self) -> None:
        """Wake every waiter with ``RateLimiterClosed``; later acquires fail too."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
