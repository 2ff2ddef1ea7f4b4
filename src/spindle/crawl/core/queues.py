"""Where a frontier keeps what grows with the crawl: the keys it has seen and the queued URLs.

:class:`~spindle.crawl.core.frontier.LocalFrontier` owns the crawl's policy (admission and the
trap guards, retries, pacing, the ready-host heap) and keeps each host's counts; a
:class:`FrontierStorage` keeps the rest, so the policy is written once whether the URLs live in
memory (:class:`MemoryStorage`, here) or on disk (``spindle.crawl.store.frontier``, outside the
sans-I/O core).

Rules every storage keeps:

* Each host has one FIFO per depth; :meth:`~FrontierStorage.pop` takes from the shallowest
  non-empty one. :meth:`~FrontierStorage.push_front` returns a URL to the front of its FIFO.
* :meth:`~FrontierStorage.see` answers exactly: True once per key, never for a key it has
  seen. A storage may keep a filter in front of its index, but a filter's false positive must
  never turn a new key away.
* :meth:`~FrontierStorage.admitted` announces the URL :meth:`~FrontierStorage.push` will
  queue next (if robots.txt allows it): the frontier calls it for every URL it admits, in the
  order of :attr:`Changes.discovered <spindle.crawl.core.values.Changes.discovered>`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Protocol

from spindle.crawl.core.values import Entry

__all__ = ["FrontierStorage", "MemoryStorage"]


class FrontierStorage(Protocol):
    """The seen set and the per-host, per-depth FIFOs of one frontier. Owned by one thread."""

    @property
    def seen(self) -> int:
        """Distinct keys seen, earlier runs of the crawl included."""
        ...

    def see(self, key: str) -> bool:
        """Mark ``key`` seen; False when it was seen already."""
        ...

    def admitted(self, entry: Entry) -> None:
        """``entry`` was just admitted as new (it is the next URL of the crawl's discovered
        list); :meth:`push` may queue it next."""
        ...

    def push(self, host: str, entry: Entry) -> None:
        """Queue ``entry`` behind the others of ``host`` at its depth."""
        ...

    def push_front(self, host: str, entry: Entry) -> None:
        """Return an entry taken by :meth:`pop` to the front of its FIFO."""
        ...

    def pop(self, host: str) -> Entry | None:
        """Take the first entry of the shallowest non-empty FIFO of ``host``; None if none."""
        ...

    def drain(self, host: str) -> list[Entry]:
        """Remove and return every entry of ``host``, shallowest first."""
        ...

    def entries(self, host: str) -> Iterator[Entry]:
        """Every entry of ``host``, shallowest first (changes nothing)."""
        ...

    def hosts(self) -> Iterator[tuple[str, int]]:
        """The hosts that had queued entries when the storage was opened (a resumed crawl),
        with how many each."""
        ...


class MemoryStorage:
    """:class:`FrontierStorage` in a set and a deque per host and depth.

    >>> storage = MemoryStorage()
    >>> storage.see("k"), storage.see("k"), storage.seen
    (True, False, 1)
    >>> storage.push("h", Entry("u1", "k1", 2, None)); storage.push("h", Entry("u0", "k0", 1, None))
    >>> storage.pop("h").url, storage.pop("h").url, storage.pop("h")
    ('u0', 'u1', None)
    """

    __slots__ = ("_queues", "_seen")

    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._queues: dict[str, list[deque[Entry]]] = {}

    @property
    def seen(self) -> int:
        return len(self._seen)

    def see(self, key: str) -> bool:
        if key in self._seen:
            return False
        self._seen.add(key)
        return True

    def admitted(self, entry: Entry) -> None:
        """Nothing to do: memory needs no order but the FIFOs'."""

    def push(self, host: str, entry: Entry) -> None:
        self._lane(host, entry.depth).append(entry)

    def push_front(self, host: str, entry: Entry) -> None:
        self._lane(host, entry.depth).appendleft(entry)

    def pop(self, host: str) -> Entry | None:
        for queue in self._queues.get(host, ()):
            if queue:
                return queue.popleft()
        return None

    def drain(self, host: str) -> list[Entry]:
        entries: list[Entry] = []
        for queue in self._queues.pop(host, ()):
            entries.extend(queue)
        return entries

    def entries(self, host: str) -> Iterator[Entry]:
        for queue in self._queues.get(host, ()):
            yield from queue

    def hosts(self) -> Iterator[tuple[str, int]]:
        return iter(())  # a fresh set: nothing outlives the process

    def _lane(self, host: str, depth: int) -> deque[Entry]:
        lanes = self._queues.get(host)
        if lanes is None:
            lanes = self._queues[host] = []
        while len(lanes) <= depth:
            lanes.append(deque())
        return lanes[depth]
