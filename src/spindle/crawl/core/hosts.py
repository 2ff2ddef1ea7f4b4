"""Per-host state: the host's share of the frontier and its politeness schedule.

A host (``scheme://host:port``) may start a fetch at time ``t`` only when all of these hold:

* its robots.txt decision exists, or the fetch *is* its robots.txt;
* fewer than ``host_concurrency`` of its fetches are in flight;
* its token bucket (``--rate``, slowed further by robots.txt ``Crawl-delay``) has a token at ``t``;
* ``t`` is past any pause a 429 or 503 answer put on the whole host;
* it has a URL ready: a queued one, or a retry whose own delay has passed.

URLs wait in one FIFO per depth, so a host always serves its shallowest URLs first.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from spindle.crawl.core.robots import HostRobots, RobotsStatus
from spindle.sync import TokenBucket

__all__ = ["Entry", "Host"]


@dataclass(frozen=True, slots=True)
class Entry:
    """A URL waiting in the frontier."""

    url: str
    depth: int
    parent: str | None
    attempt: int = 1
    redirect_chain: tuple[str, ...] = ()


class Host:
    """Queues and politeness state of one host. Owned by the scheduler; never shared."""

    __slots__ = (
        "_by_depth",
        "_retries",
        "_seq",
        "bucket",
        "failures",
        "heap_time",
        "in_flight",
        "key",
        "paused_until",
        "queued",
        "robots",
    )

    def __init__(self, key: str, robots: HostRobots, bucket: TokenBucket | None) -> None:
        self.key = key
        self.robots = robots
        self.bucket = bucket
        self._by_depth: list[deque[Entry]] = []
        self._retries: list[tuple[float, int, Entry]] = []
        self._seq = 0
        self.queued = 0
        self.in_flight = 0
        self.paused_until = 0.0
        self.failures = 0
        self.heap_time: float | None = None

    def __repr__(self) -> str:
        return (
            f"<Host {self.key} robots={self.robots.status.value} queued={self.queued} "
            f"retrying={len(self._retries)} in_flight={self.in_flight}>"
        )

    @property
    def has_work(self) -> bool:
        """True when URLs are waiting, queued or for a retry."""
        return self.queued > 0 or bool(self._retries)

    def push(self, entry: Entry) -> None:
        """Queue a URL behind the others of its depth."""
        while len(self._by_depth) <= entry.depth:
            self._by_depth.append(deque())
        self._by_depth[entry.depth].append(entry)
        self.queued += 1

    def push_retry(self, entry: Entry, not_before: float) -> None:
        """Hold a URL back until ``not_before``, then serve it before queued URLs."""
        self._seq += 1
        heapq.heappush(self._retries, (not_before, self._seq, entry))

    def drain(self) -> list[Entry]:
        """Remove and return every waiting URL (the host will never be fetched)."""
        entries = [entry for _, _, entry in self._retries]
        for queue in self._by_depth:
            entries.extend(queue)
            queue.clear()
        self._retries.clear()
        self.queued = 0
        return entries

    def remove_if(self, refuse: Callable[[Entry], bool]) -> list[Entry]:
        """Remove the queued URLs that ``refuse`` picks, keeping the order of the rest."""
        removed: list[Entry] = []
        for depth, queue in enumerate(self._by_depth):
            kept: deque[Entry] = deque()
            for entry in queue:
                (removed if refuse(entry) else kept).append(entry)
            self._by_depth[depth] = kept
        self.queued -= len(removed)
        return removed

    def ready_time(self, now: float, concurrency: int) -> float | None:
        """Earliest time this host may start a fetch, or None while it must wait for an event
        (an in-flight fetch finishing, a URL arriving, its robots.txt arriving)."""
        if self.in_flight >= concurrency or not self.has_work:
            return None
        status = self.robots.status
        if status is RobotsStatus.PENDING:
            return None
        if status is RobotsStatus.RETRY:
            work = self.robots.retry_at
        elif status is RobotsStatus.UNKNOWN or self.queued:
            work = now
        else:
            work = self._retries[0][0]
        start = max(work, self.paused_until)
        if self.bucket is not None:
            start = max(start, now + self.bucket.wait_time(now=now))
        return start

    def pop(self, now: float) -> Entry:
        """Take the next URL to fetch: a due retry first, else the shallowest queued URL."""
        if self._retries and self._retries[0][0] <= now:
            return heapq.heappop(self._retries)[2]
        for queue in self._by_depth:
            if queue:
                self.queued -= 1
                return queue.popleft()
        raise LookupError(f"{self.key} has no URL ready")

    def take_token(self, now: float) -> None:
        """Spend the rate-limit token for a fetch starting now."""
        if self.bucket is not None:
            self.bucket.reserve(now=now)

    def slow_to(self, interval: float) -> None:
        """Make sure consecutive fetches start at least ``interval`` seconds apart."""
        rate = 1.0 / interval
        if self.bucket is None:
            self.bucket = TokenBucket(rate, 1.0)
        elif rate < self.bucket.rate:
            self.bucket.set_rate(rate, 1.0)
