"""A token bucket rate limiter that never sleeps on its own, with a clock you can pass in.

The bucket holds up to ``burst`` tokens and gains ``rate`` tokens per second. It is kept as a
single timestamp, the moment it will be full again (the "theoretical arrival time" of the
generic cell rate algorithm), so the state does not drift with rounding however often it is
read: at time ``t`` it holds ``burst - max(0, full_at - t) * rate`` tokens, fewer than zero
when :meth:`TokenBucket.reserve` has put it into debt.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from spindle.sync._clock import Clock
from spindle.sync.lock_order import new_lock

__all__ = ["TokenBucket"]

# Waits this short are rounding error in the time arithmetic, not a real wait: a caller asked to
# come back "now + wait" must find its tokens there.
_ROUNDING_SLACK = 1e-9


def _finite(name: str, value: float, *, at_least: float, strict: bool = False) -> float:
    ok = value > at_least if strict else value >= at_least
    if not (math.isfinite(value) and ok):
        bound = f"more than {at_least:g}" if strict else f"at least {at_least:g}"
        raise ValueError(f"{name} must be a finite number {bound}, not {value!r}")
    return float(value)


class TokenBucket:
    """Admits ``rate`` tokens per second on average, and bursts of up to ``burst`` tokens.

    Contract:

    * The bucket starts full, as of the first time it is used.
    * Over any time window of length ``w`` it admits at most ``burst + rate * w`` tokens
      (through :meth:`try_acquire` and :meth:`acquire`, and :meth:`reserve` counting a
      reservation at the time it says to act), give or take a nanosecond of rounding in ``w``.
    * Only :meth:`acquire` blocks (it sleeps until its reserved tokens are due). Every other
      method returns at once; sans-I/O callers pass ``now`` and never let it read the clock.
    * ``now`` should not decrease between calls; if it does, the bucket shows fewer tokens,
      never more, so time running backwards cannot admit extra.
    * Thread-safe; requests are served in the order they take the internal lock.

    Args:
        rate: tokens added per second, more than 0.
        burst: capacity in tokens, at least 1.
        clock: read when a method gets no ``now``; default ``time.monotonic``.

    Raises:
        ValueError: ``rate`` or ``burst`` out of range, or (from any method) ``tokens`` not in
            ``(0, burst]`` or ``now`` not finite.

    >>> bucket = TokenBucket(rate=2.0, burst=2.0)
    >>> bucket.try_acquire(now=0.0), bucket.try_acquire(now=0.0), bucket.try_acquire(now=0.0)
    (True, True, False)
    >>> bucket.wait_time(now=0.0)
    0.5
    >>> bucket.reserve(now=0.25)  # taken now, usable in another quarter second
    0.25
    """

    def __init__(self, rate: float, burst: float, *, clock: Clock = time.monotonic) -> None:
        self._rate = _finite("rate", rate, at_least=0.0, strict=True)
        self._burst = _finite("burst", burst, at_least=1.0)
        self._clock = clock
        # None: full, with no moment attached (so a first `now` from any time base works).
        self._full_at: float | None = None
        self._lock = new_lock("TokenBucket")

    @property
    def rate(self) -> float:
        """Tokens added per second."""
        return self._rate

    @property
    def burst(self) -> float:
        """The most tokens the bucket holds."""
        return self._burst

    def available(self, *, now: float | None = None) -> float:
        """Tokens in the bucket at ``now``; negative while a reservation's debt is unpaid.

        >>> bucket = TokenBucket(rate=1.0, burst=3.0)
        >>> bucket.reserve(3.0, now=0.0), bucket.reserve(2.0, now=0.0)
        (0.0, 2.0)
        >>> bucket.available(now=0.0), bucket.available(now=1.5), bucket.available(now=9.0)
        (-2.0, -0.5, 3.0)
        """
        with self._lock:
            return self._tokens(self._now(now))

    def try_acquire(self, tokens: float = 1.0, *, now: float | None = None) -> bool:
        """Take ``tokens`` if the bucket holds them at ``now``; otherwise take nothing.

        Returns:
            Whether the tokens were taken.

        >>> bucket = TokenBucket(rate=1.0, burst=1.0)
        >>> [bucket.try_acquire(now=t) for t in (0.0, 0.5, 1.0)]
        [True, False, True]
        """
        with self._lock:
            moment = self._now(now)
            full_at = self._full_at_after(self._checked(tokens), moment)
            if self._due_in(full_at, moment) > 0.0:
                return False
            self._full_at = full_at
            return True

    def reserve(self, tokens: float = 1.0, *, now: float | None = None) -> float:
        """Take ``tokens`` unconditionally, going into debt if needed; never sleeps.

        Returns:
            Seconds from ``now`` until the caller may act (0.0 if at once). Later callers
            queue behind this reservation.

        >>> bucket = TokenBucket(rate=4.0, burst=1.0)
        >>> [bucket.reserve(now=0.0) for _ in range(3)]
        [0.0, 0.25, 0.5]
        """
        with self._lock:
            moment = self._now(now)
            self._full_at = self._full_at_after(self._checked(tokens), moment)
            return self._due_in(self._full_at, moment)

    def wait_time(self, tokens: float = 1.0, *, now: float | None = None) -> float:
        """Seconds from ``now`` until ``tokens`` could be taken (0.0 if now); takes nothing.

        >>> TokenBucket(rate=1.0, burst=1.0).wait_time(now=7.0)
        0.0
        """
        with self._lock:
            moment = self._now(now)
            return self._due_in(self._full_at_after(self._checked(tokens), moment), moment)

    def acquire(
        self,
        tokens: float = 1.0,
        *,
        timeout: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> bool:
        """Blocking helper for threads: reserve ``tokens``, then sleep until they are due.

        Reservations are made in lock order, so concurrent callers are paced fairly (first
        come, first served) and the bucket's limit holds for all of them together. If the
        tokens would not be due within ``timeout`` seconds, returns False at once, taking
        nothing. The sleep happens outside the lock, through ``sleep`` (tests pass a fake).

        Returns:
            True once the tokens are taken and due; False on timeout.

        Raises:
            ValueError: ``timeout`` is negative, or ``tokens`` out of range.

        >>> slept = []
        >>> bucket = TokenBucket(rate=10.0, burst=1.0, clock=lambda: 0.0)
        >>> bucket.acquire(sleep=slept.append), bucket.acquire(sleep=slept.append), slept
        (True, True, [0.1])
        >>> bucket.acquire(timeout=0.1, sleep=slept.append)
        False
        """
        if timeout is not None and not timeout >= 0:
            raise ValueError(f"timeout must be None or at least 0, not {timeout!r}")
        with self._lock:
            moment = self._now(None)
            full_at = self._full_at_after(self._checked(tokens), moment)
            wait = self._due_in(full_at, moment)
            if timeout is not None and wait > timeout:
                return False
            self._full_at = full_at
        if wait > 0:
            sleep(wait)
        return True

    def set_rate(
        self, rate: float, burst: float | None = None, *, now: float | None = None
    ) -> None:
        """Change the rate (and the burst, if given) from ``now`` on.

        The tokens held at ``now`` are kept, capped at the new burst; a debt is kept too and
        repaid at the new rate.

        Raises:
            ValueError: ``rate`` or ``burst`` out of range.

        >>> bucket = TokenBucket(rate=1.0, burst=1.0)
        >>> bucket.reserve(now=0.0)
        0.0
        >>> bucket.set_rate(0.5, now=0.0)
        >>> bucket.wait_time(now=0.0)
        2.0
        """
        new_rate = _finite("rate", rate, at_least=0.0, strict=True)
        new_burst = self._burst if burst is None else _finite("burst", burst, at_least=1.0)
        with self._lock:
            moment = self._now(now)
            tokens = min(self._tokens(moment), new_burst)
            self._rate, self._burst = new_rate, new_burst
            full = tokens >= new_burst
            self._full_at = None if full else moment + (new_burst - tokens) / new_rate

    def __repr__(self) -> str:
        return f"TokenBucket(rate={self._rate!r}, burst={self._burst!r})"

    def _now(self, now: float | None) -> float:
        moment = self._clock() if now is None else now
        if not math.isfinite(moment):
            raise ValueError(f"now must be a finite number, not {moment!r}")
        return moment

    def _checked(self, tokens: float) -> float:
        if not (math.isfinite(tokens) and 0 < tokens <= self._burst):
            raise ValueError(f"tokens must be more than 0 and at most burst={self._burst:g}")
        return tokens

    def _tokens(self, now: float) -> float:
        if self._full_at is None or self._full_at <= now:
            return self._burst
        return self._burst - (self._full_at - now) * self._rate

    def _full_at_after(self, tokens: float, now: float) -> float:
        """When the bucket would be full again if ``tokens`` were taken at ``now``."""
        start = now if self._full_at is None else max(self._full_at, now)
        return start + tokens / self._rate

    def _due_in(self, full_at: float, now: float) -> float:
        """Seconds from ``now`` until a bucket full again at ``full_at`` has paid its debt."""
        wait = full_at - self._burst / self._rate - now
        return wait if wait > _ROUNDING_SLACK else 0.0
