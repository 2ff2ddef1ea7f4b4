"""The frontier: which URLs are known, which wait, and which host may fetch next.

One interface (:class:`Frontier`), so that the frontier can live in memory, on disk or in a
shared server while the crawl policy in the scheduler stays written once. Its verbs follow
crawler-commons' URLFrontier: *admit/push* (PutURLs), *take* (GetURLs, with the lease it
implies), *finish* and *complete* (acknowledging a URL), *pause* and *block*
(BlockQueueUntil), *set_interval* (SetDelay), *drain* (DeleteQueue); and two things a frontier
shared by many processes must own: the crawl-wide page budget (*charge*) and robots.txt
decisions reached by other processes (*robots*, *share_robots*). *offer* admits the URLs a
page links to in one call, so that a shared frontier answers them in one round trip, and
*settle* ends the lease of a URL taken but never fetched or recorded (robots.txt refused it
after it was taken, or it was a sitemap read): each way a taken URL can end is a verb, so a
shared frontier can lease URLs instead of popping them and losing them with a worker.

Rules of :class:`LocalFrontier` (one process's frontier; :class:`MemoryFrontier` is it with
everything in memory, and ``spindle.crawl.store.frontier`` puts the seen set and the queues
on disk through :mod:`.queues`, under the same rules):

* A URL is admitted once per key (its canonical form). The trap guards judge it at admission,
  and a refused URL stays seen, so it is never judged or counted twice; their counts survive
  a resume (:meth:`Frontier.restore`).
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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from spindle.crawl.core.config import TrapLimits
from spindle.crawl.core.errors import MisuseError
from spindle.crawl.core.pacer import HostPace
from spindle.crawl.core.queues import FrontierStorage, MemoryStorage
from spindle.crawl.core.traps import TrapGuard
from spindle.crawl.core.urls import host_key
from spindle.crawl.core.values import Entry, RobotsDecision, TrapRule, TrapTally, Wait

__all__ = ["Admission", "Frontier", "Lease", "LocalFrontier", "MemoryFrontier", "Offer"]


class Admission(enum.Enum):
    """What :meth:`Frontier.admit` decided about a URL that no trap refused."""

    NEW = "new"
    SEEN = "seen"


@dataclass(frozen=True, slots=True)
class Lease:
    """A fetch slot of ``host``, started, and the URL taken for it."""

    host: str
    entry: Entry


@dataclass(frozen=True, slots=True)
class Offer:
    """A URL offered to :meth:`Frontier.offer`: ``judge`` it (see :meth:`Frontier.admit`) and
    ``queue`` it when new; or, with ``judge`` False, only mark it seen (a filter or the scope
    refused it; see :meth:`Frontier.mark_seen`)."""

    entry: Entry
    queue: bool = True
    judge: bool = True


class Frontier(Protocol):
    """Where URLs wait. Owned by one thread; every time-dependent call takes ``now``.

    The fetch path: :meth:`take` picks a host that may fetch now, starts its fetch slot and
    takes its next URL, in one step (a shared frontier must do it atomically, or two workers
    could take one host's slot). The caller then fetches that URL and calls :meth:`finish`
    when it is done; or takes another URL of the same host (:meth:`take_more`) when the
    first may not be fetched; or puts the URL back (:meth:`putback`) and uses the slot for
    the host's robots.txt; or gives the slot back unused (:meth:`release`).
    """

    @property
    def queued(self) -> int:
        """URLs waiting, retries included."""
        ...

    @property
    def in_flight(self) -> int:
        """Fetch slots started by this process and not yet finished, over all hosts."""
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

    def offer(self, offers: Sequence[Offer], now: float) -> list[Admission | TrapRule]:
        """Admit each offer in order, as :meth:`admit` (or :meth:`mark_seen`, answering NEW
        for True) would, and :meth:`push` each new one that asks to be queued."""
        ...

    def restore(self, traps: TrapTally, charged: int, now: float) -> None:
        """Before a resumed crawl: the trap guards' counts and how many pages the budget was
        charged for in earlier runs. A frontier whose URLs outlive the process (on disk, in a
        server) takes up the URLs it holds; a memory frontier is given them with
        :meth:`mark_seen` and :meth:`push` first."""
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

    def take(self, now: float, *, retries_only: bool = False) -> Lease | Wait | None:
        """Start a fetch slot of a host that may fetch now and take its next URL (a due retry
        first, else the shallowest queued URL); else when one may; else None (nothing can be
        taken until a fetch finishes or a URL arrives). ``retries_only`` (once the page budget
        is spent) offers retries alone; once asked for, it must be asked for from then on."""
        ...

    def take_more(self, host: str, now: float) -> Entry | None:
        """Take the next URL of ``host`` for the slot already started by :meth:`take`."""
        ...

    def putback(self, host: str, entry: Entry, now: float) -> None:
        """Return a URL taken but not fetched to the front of its queue."""
        ...

    def release(self, host: str, now: float) -> None:
        """Give back a slot started by :meth:`take` and never used for a fetch."""
        ...

    def sent(self, host: str, at: float | None, now: float) -> None:
        """Record when the request of a slot of ``host`` went on the wire (None: it never
        did); once per slot, before :meth:`finish`. The host's next fetch is spaced from
        then (:meth:`~spindle.crawl.core.pacer.HostPace.sent`)."""
        ...

    def finish(self, host: str, now: float) -> None:
        """Record that the fetch of a slot of ``host`` ended."""
        ...

    def complete(self, key: str) -> bool:
        """Claim the result of URL ``key`` for this process, before its record is written; a
        URL taken by this process ends its lease here. False: another process of a shared
        crawl completed it already; drop this record."""
        ...

    def settle(self, key: str) -> None:
        """End the lease of URL ``key``, taken (or drained) by this process and neither
        fetched nor recorded: robots.txt refused it once taken, or it was a sitemap read."""
        ...

    def charge(self, limit: int | None) -> bool:
        """Count one more page against the crawl-wide budget ``limit``; False, counting
        nothing, when the budget is spent (``None``: no budget)."""
        ...

    def spent(self, limit: int | None) -> bool:
        """Whether the crawl-wide budget ``limit`` is spent."""
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

    def robots(self, host: str) -> RobotsDecision | None:
        """A robots.txt decision for ``host`` shared by another process of the crawl."""
        ...

    def share_robots(self, decision: RobotsDecision) -> None:
        """Offer a robots.txt decision to the other processes of the crawl."""
        ...


class _Host:
    """One host's counts, retries and politeness: owned by :class:`LocalFrontier` (its queued
    URLs are in the frontier's storage)."""

    __slots__ = ("blocked_until", "heap_time", "key", "pace", "queued", "retries")

    def __init__(self, key: str, pace: HostPace) -> None:
        self.key = key
        self.pace = pace
        self.retries: list[tuple[float, int, Entry]] = []
        self.queued = 0
        self.blocked_until = -math.inf
        self.heap_time: float | None = None

    def __repr__(self) -> str:
        return (
            f"<Host {self.key} queued={self.queued} retrying={len(self.retries)} "
            f"in_flight={self.pace.in_flight} blocked_until={self.blocked_until:g}>"
        )

    def ready_time(self, now: float, retries_only: bool = False) -> float | None:
        if self.queued == 0 or self.blocked_until == math.inf:
            return None
        if retries_only and not self.retries:
            return None
        paced = self.pace.ready_at(now)
        if paced is None:
            return None
        new_waiting = self.queued > len(self.retries) and not retries_only
        work = now if new_waiting else self.retries[0][0]
        return max(paced, work, self.blocked_until)


class LocalFrontier:
    """:class:`Frontier` owned by this process, with its seen set and queues in ``storage``.

    The policy (admission and the trap guards, retries, pacing, the ready-host heap) is here;
    the storage keeps only what grows with the crawl (:mod:`.queues`). Per host the frontier
    keeps counts, retries and a pacer, so with a storage on disk its memory grows with the
    hosts that have work, not with the URLs. ``await_sends``: see
    :class:`~spindle.crawl.core.pacer.HostPace`.
    """

    def __init__(
        self,
        traps: TrapLimits,
        *,
        interval: float,
        concurrency: int,
        storage: FrontierStorage,
        await_sends: bool = False,
    ) -> None:
        self._traps = TrapGuard(traps)
        self._interval = interval
        self._concurrency = concurrency
        self._await_sends = await_sends
        self._storage = storage
        self._hosts: dict[str, _Host] = {}
        self._heap: list[tuple[float, int, _Host]] = []
        self._seq = 0
        self._queued = 0
        self._in_flight = 0
        self._charged = 0
        self._retries_only = False

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} queued={self._queued} in_flight={self._in_flight} "
            f"hosts={len(self._hosts)} seen={self._storage.seen}>"
        )

    @property
    def queued(self) -> int:
        return self._queued

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def seen(self) -> int:
        return self._storage.seen

    def admit(self, entry: Entry) -> Admission | TrapRule:
        if not self._storage.see(entry.key):
            return Admission.SEEN
        refused = self._traps.check(entry.url)
        if refused is not None:
            return refused
        self._storage.admitted(entry)
        return Admission.NEW

    def mark_seen(self, key: str) -> bool:
        return self._storage.see(key)

    def waiting(self) -> Iterator[Entry]:
        for host in list(self._hosts.values()):
            yield from self._storage.entries(host.key)
            yield from (entry for _, _, entry in sorted(host.retries))

    def offer(self, offers: Sequence[Offer], now: float) -> list[Admission | TrapRule]:
        verdicts: list[Admission | TrapRule] = []
        for offer in offers:
            entry = offer.entry
            if not offer.judge:
                verdicts.append(Admission.NEW if self.mark_seen(entry.key) else Admission.SEEN)
                continue
            verdict = self.admit(entry)
            if verdict is Admission.NEW and offer.queue:
                self.push(entry, now)
            verdicts.append(verdict)
        return verdicts

    def restore(self, traps: TrapTally, charged: int, now: float) -> None:
        self._traps.restore(traps)
        self._charged = charged
        for key, count in self._storage.hosts():
            host = self._host(key)
            self._count(host, count)
            self._schedule(host, now)

    def push(self, entry: Entry, now: float) -> None:
        host = self._host(host_key(entry.url))
        self._storage.push(host.key, entry)
        self._count(host, 1)
        self._schedule(host, now)

    def push_retry(self, entry: Entry, not_before: float, now: float) -> None:
        host = self._host(host_key(entry.url))
        self._seq += 1
        heapq.heappush(host.retries, (not_before, self._seq, entry))
        self._count(host, 1)
        self._schedule(host, now)

    def take(self, now: float, *, retries_only: bool = False) -> Lease | Wait | None:
        if self._retries_only and not retries_only:
            raise MisuseError("take() was asked for retries only before; it cannot go back")
        self._retries_only = retries_only
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
            ready = host.ready_time(now, retries_only)
            if ready is None:
                continue
            if ready > now:
                self._push_heap(host, ready)
                continue
            host.pace.start(now)
            self._in_flight += 1
            entry = self._pop(host, now)
            assert entry is not None  # ready_time() said a URL is due
            return Lease(host.key, entry)
        return None

    def take_more(self, host: str, now: float) -> Entry | None:
        return self._pop(self._known(host), now)

    def putback(self, host: str, entry: Entry, now: float) -> None:
        state = self._known(host)
        if entry.attempt > 1:
            self._seq += 1
            heapq.heappush(state.retries, (now, self._seq, entry))
        else:
            self._storage.push_front(state.key, entry)
        self._count(state, 1)
        self._schedule(state, now)

    def release(self, host: str, now: float) -> None:
        state = self._known(host)
        state.pace.release()
        self._in_flight -= 1
        self._schedule(state, now)

    def sent(self, host: str, at: float | None, now: float) -> None:
        state = self._known(host)
        state.pace.sent(at)
        self._schedule(state, now)

    def finish(self, host: str, now: float) -> None:
        state = self._known(host)
        state.pace.finish()
        self._in_flight -= 1
        self._schedule(state, now)

    def complete(self, key: str) -> bool:
        return True  # one process: every result is its own

    def settle(self, key: str) -> None:
        """One process: a URL taken is simply gone; there is no lease to end."""

    def charge(self, limit: int | None) -> bool:
        if self.spent(limit):
            return False
        self._charged += 1
        return True

    def spent(self, limit: int | None) -> bool:
        return limit is not None and self._charged >= limit

    def robots(self, host: str) -> RobotsDecision | None:
        return None  # one process: no decision comes from elsewhere

    def share_robots(self, decision: RobotsDecision) -> None:
        """One process: nobody to share with."""

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
        entries.extend(self._storage.drain(host))
        state.retries.clear()
        self._count(state, -state.queued)
        return entries

    # -- internals --------------------------------------------------------------------------

    def _pop(self, state: _Host, now: float) -> Entry | None:
        entry: Entry | None = None
        if state.retries and state.retries[0][0] <= now:
            entry = heapq.heappop(state.retries)[2]
        elif not self._retries_only:
            entry = self._storage.pop(state.key)
        if entry is not None:
            self._count(state, -1)
        self._schedule(state, now)
        return entry

    def _host(self, key: str) -> _Host:
        host = self._hosts.get(key)
        if host is None:
            pace = HostPace(self._interval, self._concurrency, await_sends=self._await_sends)
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
        ready = host.ready_time(now, self._retries_only)
        if ready is not None and (host.heap_time is None or ready < host.heap_time):
            self._push_heap(host, ready)

    def _push_heap(self, host: _Host, when: float) -> None:
        self._seq += 1
        host.heap_time = when
        heapq.heappush(self._heap, (when, self._seq, host))


class MemoryFrontier(LocalFrontier):
    """:class:`LocalFrontier` with its seen set and queues in memory (:class:`MemoryStorage`):
    for crawls that fit in RAM, and for crawls that keep no state.

    >>> frontier = MemoryFrontier(TrapLimits(), interval=1.0, concurrency=1)
    >>> entry = Entry("http://a.test/", "http://a.test/", 0, None)
    >>> frontier.admit(entry), frontier.admit(entry)
    (<Admission.NEW: 'new'>, <Admission.SEEN: 'seen'>)
    >>> frontier.push(entry, now=0.0)
    >>> lease = frontier.take(now=0.0); lease.host, lease.entry.url
    ('http://a.test', 'http://a.test/')
    >>> frontier
    <MemoryFrontier queued=0 in_flight=1 hosts=1 seen=1>
    >>> frontier.finish(lease.host, now=0.5); frontier.push(entry, now=0.5)
    >>> frontier.take(now=0.5)  # the host's interval is a second
    Wait(until=1.0)
    """

    def __init__(
        self, traps: TrapLimits, *, interval: float, concurrency: int, await_sends: bool = False
    ) -> None:
        super().__init__(
            traps,
            interval=interval,
            concurrency=concurrency,
            storage=MemoryStorage(),
            await_sends=await_sends,
        )
