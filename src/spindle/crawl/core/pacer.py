"""Politeness for one host, as pure arithmetic on the times it is given.

Rules:

* Two fetches of one host start at least ``interval`` seconds apart (``1 / --rate``, raised
  to the host's robots.txt ``Crawl-delay`` when that is longer). This is a token bucket of
  one token: over any window of length ``w`` at most ``1 + w / interval`` fetches start.
  A fetch that went on the wire later than it started (a busy engine) moves the next start
  to one interval after it was sent, when the engine says when (:meth:`sent`). With
  ``await_sends`` no fetch starts while an earlier one of the host is not yet sent, so the
  spacing holds however late the engine sends: the host sees the requests, not the starts.
* At most ``concurrency`` fetches of the host are in flight at once.
* A pause (after a 429 or 503 answer) holds every fetch of the host back until it ends.

Nothing here reads a clock, sleeps or locks: the caller passes ``now`` to every method, and
owns the object from one thread. Asking to start a fetch the rules forbid is a bug in the
caller and raises :class:`~spindle.crawl.core.errors.MisuseError`.
"""

from __future__ import annotations

import math

from spindle.crawl.core.errors import MisuseError

__all__ = ["HostPace"]


class HostPace:
    """When the next fetch of one host may start, and how many of its fetches are in flight.

    >>> pace = HostPace(interval=0.5, concurrency=2)
    >>> pace.ready_at(0.0)
    0.0
    >>> pace.start(now=0.0)
    >>> pace.ready_at(0.1)  # the next start is due half a second after the first
    0.5
    >>> pace.start(now=0.5)
    >>> pace.ready_at(0.6) is None  # two in flight: wait for one to finish
    True
    >>> pace.finish(); pace.ready_at(0.6)
    1.0
    """

    __slots__ = (
        "_undo",
        "await_sends",
        "concurrency",
        "in_flight",
        "interval",
        "next_start",
        "paused_until",
        "unsent",
    )

    def __init__(self, interval: float, concurrency: int, *, await_sends: bool = False) -> None:
        if not (math.isfinite(interval) and interval >= 0):
            raise ValueError(f"interval must be a finite number of seconds >= 0, not {interval}")
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {concurrency}")
        self.interval = interval
        self.concurrency = concurrency
        self.next_start = -math.inf
        self.paused_until = -math.inf
        self.in_flight = 0
        self.await_sends = await_sends
        self.unsent = 0
        self._undo: tuple[float, float] | None = None

    def __repr__(self) -> str:
        return (
            f"<HostPace interval={self.interval:g} in_flight={self.in_flight}/"
            f"{self.concurrency} next_start={self.next_start:g} paused_until={self.paused_until:g}>"
        )

    def ready_at(self, now: float) -> float | None:
        """The earliest time from ``now`` on at which a fetch may start (``now`` itself means
        at once), or None while ``concurrency`` fetches are in flight or, with
        ``await_sends`` and an interval to keep, while one is not yet sent."""
        if self.in_flight >= self.concurrency or (self.unsent and self.interval > 0):
            return None
        return max(now, self.next_start, self.paused_until)

    def start(self, now: float) -> None:
        """Record that a fetch starts at ``now``.

        Raises:
            MisuseError: the rules above forbid a start at ``now``.
        """
        ready = self.ready_at(now)
        if ready is None:
            raise MisuseError(f"{self.concurrency} fetches already in flight")
        if ready > now:
            raise MisuseError(f"a fetch started at {now:g}, before it was allowed at {ready:g}")
        self.in_flight += 1
        if self.await_sends:
            self.unsent += 1
        self._undo = (self.next_start, now + self.interval)
        self.next_start = now + self.interval

    def release(self) -> None:
        """Give back the slot of a start whose fetch never happened (its host had nothing
        allowed to fetch): the start's spacing is undone if nothing else moved it since.

        Raises:
            MisuseError: nothing is in flight.
        """
        self.finish()
        if self.await_sends:
            self.sent(None)
        if self._undo is not None and self._undo[1] == self.next_start:
            self.next_start = self._undo[0]
        self._undo = None

    def sent(self, at: float | None) -> None:
        """Record when a started fetch's request went on the wire (None: it never did, the
        connection failed first): no fetch starts less than ``interval`` after ``at``. With
        ``await_sends`` call it once per start, before its :meth:`finish`.

        >>> pace = HostPace(interval=0.5, concurrency=2, await_sends=True)
        >>> pace.start(now=0.0); pace.ready_at(0.6) is None  # not sent yet: nothing starts
        True
        >>> pace.sent(0.3); pace.ready_at(0.6)
        0.8

        Raises:
            MisuseError: with ``await_sends``, no started fetch is waiting to be sent.
        """
        if self.await_sends:
            if self.unsent <= 0:
                raise MisuseError("a fetch was sent that was never started, or sent twice")
            self.unsent -= 1
        if at is not None:
            self.next_start = max(self.next_start, at + self.interval)

    def finish(self) -> None:
        """Record that one in-flight fetch ended.

        Raises:
            MisuseError: nothing is in flight.
        """
        if self.in_flight <= 0:
            raise MisuseError("a fetch finished that never started")
        self.in_flight -= 1

    def pause_until(self, until: float) -> None:
        """Hold every fetch back until ``until`` (a later pause wins over an earlier one)."""
        self.paused_until = max(self.paused_until, until)

    def slow_to(self, interval: float) -> None:
        """Space fetches at least ``interval`` seconds apart from now on (never faster)."""
        if not (math.isfinite(interval) and interval >= 0):
            raise ValueError(f"interval must be a finite number of seconds >= 0, not {interval}")
        if interval > self.interval:
            self.next_start += interval - self.interval
            self.interval = interval
