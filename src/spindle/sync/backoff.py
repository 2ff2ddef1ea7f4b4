"""Retry pacing: exponential backoff with full jitter, and the ``Retry-After`` header.

Full jitter draws each delay uniformly from ``[0, ceiling]``, where the ceiling grows
exponentially up to a cap; spreading retries over the whole range keeps clients that failed
together from retrying together.
"""

from __future__ import annotations

import email.utils
import math
import random
from collections.abc import Iterator
from datetime import UTC

__all__ = ["Backoff", "retry_after"]

# RFC 9111, 1.2.2: a delta-seconds value too large to represent is taken as 2**31 seconds.
_DELTA_SECONDS_LIMIT = 2**31


class Backoff:
    """Delays for retrying an operation that may fail: ``max_attempts`` tries in all.

    Retry ``n`` (``n >= 1``, the ``n``-th try after the first) waits a delay drawn uniformly
    from ``[0, ceiling(n)]``, where ``ceiling(n) = min(cap, base * factor ** (n - 1))``. The
    ceiling never decreases with ``n`` and never exceeds ``cap``. Nothing here sleeps: the
    caller decides what to do with a delay.

    Args:
        base: ceiling of the first retry, seconds, at least 0.
        factor: growth of the ceiling per retry, at least 1.
        cap: largest ceiling, seconds, at least 0.
        max_attempts: tries in all, counting the first; at least 1.
        rng: source of the jitter; pass ``random.Random(seed)`` for repeatable delays.

    Raises:
        ValueError: a parameter is out of range (or not finite).

    >>> backoff = Backoff(base=1.0, factor=2.0, cap=5.0, max_attempts=5, rng=random.Random(7))
    >>> [backoff.ceiling(retry) for retry in range(1, 6)]
    [1.0, 2.0, 4.0, 5.0, 5.0]
    >>> [round(delay, 3) for delay in backoff.delays()]
    [0.324, 0.302, 2.604, 0.362]
    >>> [backoff.allows(tries) for tries in range(4, 6)]
    [True, False]
    """

    def __init__(
        self,
        base: float = 0.5,
        factor: float = 2.0,
        cap: float = 30.0,
        max_attempts: int = 4,
        *,
        rng: random.Random | None = None,
    ) -> None:
        for name, value, least in (("base", base, 0.0), ("factor", factor, 1.0), ("cap", cap, 0.0)):
            if not (math.isfinite(value) and value >= least):
                raise ValueError(
                    f"{name} must be a finite number of at least {least:g}, not {value!r}"
                )
        if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
            raise ValueError(f"max_attempts must be an integer of at least 1, not {max_attempts!r}")
        self.base = float(base)
        self.factor = float(factor)
        self.cap = float(cap)
        self.max_attempts = max_attempts
        self._rng = rng if rng is not None else random.Random()

    def ceiling(self, retry: int) -> float:
        """The largest delay of retry number ``retry``: ``min(cap, base * factor ** (retry - 1))``.

        Raises:
            ValueError: ``retry`` is less than 1.
        """
        if retry < 1:
            raise ValueError(f"retries are numbered from 1, not {retry!r}")
        if self.base == 0.0:
            return 0.0
        try:
            grown = self.base * self.factor ** (retry - 1)
        except OverflowError:  # far past the cap
            return self.cap
        return min(self.cap, grown)

    def delay(self, retry: int) -> float:
        """A delay for retry number ``retry``, uniform in ``[0, ceiling(retry)]`` (full jitter).

        Raises:
            ValueError: ``retry`` is less than 1.
        """
        return self._rng.uniform(0.0, self.ceiling(retry))

    def allows(self, attempts_made: int) -> bool:
        """Whether another try may follow ``attempts_made`` tries (the first one included).

        Raises:
            ValueError: ``attempts_made`` is negative.
        """
        if attempts_made < 0:
            raise ValueError(f"attempts_made must be at least 0, not {attempts_made!r}")
        return attempts_made < self.max_attempts

    def delays(self) -> Iterator[float]:
        """Yield the delays of retries 1 to ``max_attempts - 1``, drawn as they are taken."""
        for retry in range(1, self.max_attempts):
            yield self.delay(retry)

    def __repr__(self) -> str:
        return (
            f"Backoff(base={self.base!r}, factor={self.factor!r}, cap={self.cap!r}, "
            f"max_attempts={self.max_attempts!r})"
        )


def retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait according to a ``Retry-After`` header value (RFC 9110, 10.2.3).

    Both forms are read: delta-seconds (``"120"``; values too large to represent count as
    2**31 seconds, as RFC 9111 prescribes) and HTTP-date (IMF-fixdate, and the obsolete RFC 850
    and asctime forms), which gives ``max(0.0, date - now)``. Anything else (None, empty,
    negative, fractional, not a date) gives None. Never raises.

    Args:
        value: the header value, or None if the header was absent.
        now: the current time as a Unix timestamp, for the date form.

    >>> retry_after("120", now=0.0)
    120.0
    >>> retry_after("Thu, 01 Jan 1970 00:02:00 GMT", now=90.0)
    30.0
    >>> retry_after("Thursday, 01-Jan-70 00:00:00 GMT", now=90.0)  # in the past: at once
    0.0
    >>> retry_after("soon", now=0.0) is None, retry_after("-5", now=0.0) is None
    (True, True)
    """
    if value is None:
        return None
    text = value.strip(" \t")
    if text.isascii() and text.isdigit():
        digits = text.lstrip("0") or "0"
        # Compare lengths first: int() refuses very long digit strings.
        if len(digits) > len(str(_DELTA_SECONDS_LIMIT)):
            return float(_DELTA_SECONDS_LIMIT)
        return float(min(int(digits), _DELTA_SECONDS_LIMIT))
    try:
        moment = email.utils.parsedate_to_datetime(text)
        if moment.tzinfo is None:  # the asctime form carries no zone; HTTP dates are in GMT
            moment = moment.replace(tzinfo=UTC)
        return max(0.0, moment.timestamp() - now)
    except (ValueError, TypeError, OverflowError, IndexError):
        return None
