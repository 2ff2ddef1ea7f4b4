"""The frontier: which URLs are known, which wait, and which host may fetch next.

One interface (:class:`Frontier`), so that the frontier can live in memory, on disk or in a
shared server while the crawl policy in the scheduler stays written once. Its verbs follow
crawler-commons' URLFrontier: *admit/push* (PutURLs), *next_ready/pop* (GetURLs), *pause*
and *block* (BlockQueueUntil), *set_interval* (SetDelay), *drain* (DeleteQueue).

Rules of :class:`MemoryFrontier`:

* A URL is admitted once per key (its canonical form). The trap guards judge it at admission,
  and a refused URL stays seen, so it is never judged or counted twice.
* Each host keeps one FIFO per depth (shallowest first) and a heap of retries, each with its
  own not-before time; a due retry goes before queued URLs. ``queued`` counts both.
* A host is *ready* at the latest of: now, its first URL's time, the end of its pause or
  block, and its pacer's next start (:mod:`spindle.crawl.core.pacer`); it is not ready at all
  while it has no URL, while it is blocked without end, or while its connection cap is
  reached. Ready hosts wait in one heap ordered by that time.
"""

from __future__ import annotations

import enum
import heapq
import math
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Protocol

from spindle.crawl.core.config import TrapLimits
from spindle.crawl.core.errors import MisuseError
from spindle.crawl.core.pacer import HostPace
from spindle.crawl.core.traps import TrapGuard
from spindle.crawl.core.urls import host_key
from spindle.crawl.core.values import Entry, TrapRule, Wait

__all__ = ["Admission", "Frontier", "MemoryFrontier"]


class Admission(enum.Enum):
    """What :meth:`Frontier.admit` decided about a URL that no trap refused."""

    NEW = "new"
    SEEN = "seen"


class Frontier(Protocol):
    """Where URLs wait. Owned by one thread; every time-dependent call takes ``now``."""

    @property
    def queued(self) -> int:
        """URLs waiting, retries included."""
        ...

    @property
    def in_flight(self) -> int:
        """Fetches started and not yet finished, over all hosts."""
        ...

    @property
    def seen(self) -> int:
        """Distinct keys ever admitted or refused."""
        ...

    def admit(self, entry: Entry) -> Admission | TrapRule:
        """Mark ``entry.key`` seen and judge it: NEW (call :meth:`push` to queue it), SEEN
        (known already; nothing changes) or the trap rule that refuses it."""
        ...

    def mark_seen(self, key: str) -> bool:
        """Mark ``key`` seen without judging it (a URL refused by a filter or out of scope);
        False when it was seen already."""
        ...

    def restore(self, seen: Iterable[tuple[str, str]], refused: Iterable[str]) -> None:
        """Before a resumed crawl: (url, key) pairs admitted earlier and keys refused earlier."""
        ...

    def waiting(self) -> Iterator[Entry]:
        """Every URL still queued, retries included (for reports; changes nothing)."""
        ...

    def push(self, entry: Entry, now: float) -> None:
        """Queue an admitted URL behind the others of its host and depth."""
        ...

    def push_retry(self, entry: Entry, not_before: float, now: float) -> None:
        """Queue a URL again, to be taken no earlier than ``not_before``."""
        ...

    def next_ready(self, now: float) -> str | Wait | None:
        """The key of a host that may start a fetch now; else when one may; else None (no
        host can fetch until a fetch finishes or a URL arrives)."""
        ...

    def pop(self, host: str, now: float) -> Entry | None:
        """Take the host's next URL: a due retry first, else the shallowest queued URL."""
        ...

    def start(self, host: str, now: float) -> None:
        """Record that a fetch for ``host`` starts now (it must be ready)."""
        ...

    def finish(self, host: str, now: float) -> None:
        """Record that a fetch for ``host`` ended."""
        ...

    def block(self, host: str, until: float, now: float) -> None:
        """Offer no fetch of ``host`` before ``until`` (``math.inf``: until unblocked;
        ``-math.inf``: unblock). Overrides an earlier block."""
        ...

    def pause(self, host: str, until: float, now: float) -> None:
        """Hold ``host`` back until ``until``; a longer pause already set wins."""
        ...

    def set_interval(self, host: str, interval: float, now: float) -> None:
        """Space the host's fetches at least ``interval`` seconds apart from now on (a host
        with no queue yet gets one)."""
        ...

    def drain(self, host: str, now: float) -> list[Entry]:
        """Remove and return every URL waiting for ``host``."""
        ...


class _Host:
    """One host's queues and politeness: owned by :class:`MemoryFrontier`."""

    __slots__ = ("blocked_until", "by_depth", "heap_time", "key", "pace", "queued", "retries")

    def __init__(self, key: str, pace: HostPace) -> None:
        self.key = key
        self.pace = pace
        self.by_depth: list[deque[Entry]] = []
        self.retries: list[tuple[float, int, Entry]] = []
        self.queued = 0
        self.blocked_until = -math.inf
        self.heap_time: float | None = None

    def __repr__(self) -> str:
        return (
            f"<Host {self.key} queued={self.queued} retrying={len(self.retries)} "
            f"in_flight={self.pace.in_flight} blocked_until={self.blocked_until:g}>"
        )

    def ready_time(self, now: float) -> float | None:
        if self.queued == 0 or self.blocked_until == math.inf:
            return None
        paced = self.pace.ready_at(now)
        if paced is None:
            return None
        work = now if self.queued > len(self.retries) else self.retries[0][0]
        return max(paced, work, self.blocked_until)


class MemoryFrontier:
    """:class:`Frontier` in this process's memory: for crawls that fit in RAM.

    >>> frontier = MemoryFrontier(TrapLimits(), interval=1.0, concurrency=1)
    >>> entry = Entry("http://a.test/", "http://a.test/", 0, None)
    >>> frontier.admit(entry), frontier.admit(entry)
    (<Admission.NEW: 'new'>, <Admission.SEEN: 'seen'>)
    >>> frontier.push(entry, now=0.0)
    >>> host = frontier.next_ready(now=0.0); host
    'http://a.test'
    >>> frontier.pop(host, now=0.0).url; frontier.start(host, now=0.0)
    'http://a.test/'
    >>> frontier
    <MemoryFrontier queued=0 in_flight=1 hosts=1 seen=1>
    """

    def __init__(self, traps: TrapLimits, *, interval: float, concurrency: int) -> None:
        self._traps = TrapGuard(traps)
        self._interval = interval
        self._concurrency = concurrency
        self._seen: set[str] = set()
        self._hosts: dict[str, _Host] = {}
        self._heap: list[tuple[float, int, _Host]] = []
        self._seq = 0
        self._queued = 0
        self._in_flight = 0

    def __repr__(self) -> str:
        return (
            f"<MemoryFrontier queued={self._queued} in_flight={self._in_flight} "
            f"hosts={len(self._hosts)} seen={len(self._seen)}>"
        )

    @property
    def queued(self) -> int:
        return self._queued

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def seen(self) -> int:
        return len(self._seen)

    def admit(self, entry: Entry) -> Admission | TrapRule:
        if entry.key in self._seen:
            return Admission.SEEN
        self._seen.add(entry.key)
        refused = self._traps.check(entry.url)
        return Admission.NEW if refused is None else refused

    def mark_seen(self, key: str) -> bool:
        if key in self._seen:
            return False
        self._seen.add(key)
        return True

    def waiting(self) -> Iterator[Entry]:
        for host in self._hosts.values():
            for queue in host.by_depth:
                yield from queue
            yield from (entry for _, _, entry in sorted(host.retries))

    def restore(self, seen: Iterable[tuple[str, str]], refused: Iterable[str]) -> None:
        for url, key in seen:
            if key not in self._seen:
                self._seen.add(key)
                self._traps.check(url)
        self._seen.update(refused)

    def push(self, entry: Entry, now: float) -> None:
        host = self._host(host_key(entry.url))
        while len(host.by_depth) <= entry.depth:
            host.by_depth.append(deque())
        host.by_depth[entry.depth].append(entry)
        self._count(host, 1)
        self._schedule(host, now)

    def push_retry(self, entry: Entry, not_before: float, now: float) -> None:
        host = self._host(host_key(entry.url))
        self._seq += 1
        heapq.heappush(host.retries, (not_before, self._seq, entry))
        self._count(host, 1)
        self._schedule(host, now)

    def next_ready(self, now: float) -> str | Wait | None:
        heap = self._heap
        while heap:
            when, _, host = heap[0]
            if host.heap_time != when:
                heapq.heappop(heap)  # superseded by a later push
                continue
            if when > now:
                return Wait(when)
            heapq.heappop(heap)
            host.heap_time = None
            ready = host.ready_time(now)
            if ready is None:
                continue
            if ready > now:
                self._push_heap(host, ready)
                continue
            # Off the heap until the caller's next call about this host reschedules it.
            return host.key
        return None

    def pop(self, host: str, now: float) -> Entry | None:
        state = self._known(host)
        entry: Entry | None = None
        if state.retries and state.retries[0][0] <= now:
            entry = heapq.heappop(state.retries)[2]
        else:
            for queue in state.by_depth:
                if queue:
                    entry = queue.popleft()
                    break
        if entry is not None:
            self._count(state, -1)
        self._schedule(state, now)
        return entry

    def start(self, host: str, now: float) -> None:
        state = self._known(host)
        if state.blocked_until > now:
            raise MisuseError(f"{host} is blocked until {state.blocked_until:g}, not ready")
        state.pace.start(now)
        self._in_flight += 1
        self._schedule(state, now)

    def finish(self, host: str, now: float) -> None:
        state = self._known(host)
        state.pace.finish()
        self._in_flight -= 1
        self._schedule(state, now)

    def block(self, host: str, until: float, now: float) -> None:
        state = self._known(host)
        state.blocked_until = until
        self._schedule(state, now)

    def pause(self, host: str, until: float, now: float) -> None:
        state = self._known(host)
        state.pace.pause_until(until)
        self._schedule(state, now)

    def set_interval(self, host: str, interval: float, now: float) -> None:
        state = self._host(host)
        state.pace.slow_to(interval)
        self._schedule(state, now)

    def drain(self, host: str, now: float) -> list[Entry]:
        state = self._known(host)
        entries = [entry for _, _, entry in sorted(state.retries)]
        for queue in state.by_depth:
            entries.extend(queue)
            queue.clear()
        state.retries.clear()
        self._count(state, -state.queued)
        return entries

    # -- internals --------------------------------------------------------------------------

    def _host(self, key: str) -> _Host:
        host = self._hosts.get(key)
        if host is None:
            pace = HostPace(self._interval, self._concurrency)
            host = self._hosts[key] = _Host(key, pace)
        return host

    def _known(self, key: str) -> _Host:
        try:
            return self._hosts[key]
        except KeyError:
            raise MisuseError(f"{key} has no queue in the frontier") from None

    def _count(self, host: _Host, delta: int) -> None:
        host.queued += delta
        self._queued += delta

    def _schedule(self, host: _Host, now: float) -> None:
        ready = host.ready_time(now)
        if ready is not None and (host.heap_time is None or ready < host.heap_time):
            self._push_heap(host, ready)

    def _push_heap(self, host: _Host, when: float) -> None:
        self._seq += 1
        host.heap_time = when
        heapq.heappush(self._heap, (when, self._seq, host))
