"""Which frontier the simulator drives, and a wrapper that counts the calls made to it.

A simulation builds its frontier with a *factory*: a callable that takes the crawl's
:class:`CrawlConfig` and returns any :class:`Frontier`. :func:`memory_frontier` builds the
in-memory one, as the scheduler does by default; a shared frontier (Redis, disk) plugs in by
passing its own factory, from Python or as ``--frontier module:callable`` on the command line.

:class:`CountingFrontier` forwards every call to the frontier it wraps and counts the calls by
name. For a frontier in another process each call is at least one round trip (more when it
needs several commands, fewer when it pipelines), so calls per page are what a shared frontier
pays per page before any batching. A frontier that knows better may also offer
``statistics() -> Mapping[str, float]`` (say ``round_trips`` and ``memory_bytes``): the
simulator records it at every checkpoint.
"""

from __future__ import annotations

import importlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

from spindle.crawl.core import CrawlConfig, Entry, Frontier, MemoryFrontier, TrapRule, Wait
from spindle.crawl.core.frontier import Admission, Lease, Offer
from spindle.crawl.core.values import RobotsDecision

__all__ = [
    "CountingFrontier",
    "FrontierFactory",
    "describe",
    "frontier_statistics",
    "load_factory",
    "memory_frontier",
]

FrontierFactory = Callable[[CrawlConfig], Frontier]


def memory_frontier(config: CrawlConfig) -> Frontier:
    """The in-memory frontier, built as :class:`CrawlScheduler` builds its default one."""
    interval = 1.0 / config.rate if config.rate > 0 else 0.0
    return MemoryFrontier(config.traps, interval=interval, concurrency=config.host_concurrency)


def load_factory(spec: str) -> FrontierFactory:
    """The factory named ``module:callable`` (``memory`` for :func:`memory_frontier`).

    Raises:
        ValueError: the name is not ``module:callable``, or names nothing callable.
    """
    if spec == "memory":
        return memory_frontier
    module_name, colon, name = spec.partition(":")
    if not colon or not module_name or not name:
        raise ValueError(f"--frontier wants module:callable or memory, not {spec!r}")
    try:
        factory = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"--frontier {spec}: {exc}") from exc
    if not callable(factory):
        raise ValueError(f"--frontier {spec}: not callable")
    loaded: FrontierFactory = factory
    return loaded


def frontier_statistics(frontier: object) -> dict[str, float] | None:
    """The frontier's own ``statistics()``, when it offers them."""
    while isinstance(frontier, CountingFrontier):
        frontier = frontier.inner
    method = getattr(frontier, "statistics", None)
    if method is None:
        return None
    found: Mapping[str, float] = method()
    return dict(found)


class CountingFrontier:
    """A :class:`Frontier` that forwards to ``inner`` and counts each call in :attr:`calls`."""

    def __init__(self, inner: Frontier) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()

    def __repr__(self) -> str:
        return f"<CountingFrontier {sum(self.calls.values())} calls to {self.inner!r}>"

    @property
    def queued(self) -> int:
        self.calls["queued"] += 1
        return self.inner.queued

    @property
    def in_flight(self) -> int:
        self.calls["in_flight"] += 1
        return self.inner.in_flight

    @property
    def seen(self) -> int:
        self.calls["seen"] += 1
        return self.inner.seen

    def admit(self, entry: Entry) -> Admission | TrapRule:
        self.calls["admit"] += 1
        return self.inner.admit(entry)

    def mark_seen(self, key: str) -> bool:
        self.calls["mark_seen"] += 1
        return self.inner.mark_seen(key)

    def restore(
        self, seen: Iterable[tuple[str, str]], refused: Iterable[str], charged: int
    ) -> None:
        self.calls["restore"] += 1
        self.inner.restore(seen, refused, charged)

    def waiting(self) -> Iterator[Entry]:
        self.calls["waiting"] += 1
        return self.inner.waiting()

    def push(self, entry: Entry, now: float) -> None:
        self.calls["push"] += 1
        self.inner.push(entry, now)

    def push_retry(self, entry: Entry, not_before: float, now: float) -> None:
        self.calls["push_retry"] += 1
        self.inner.push_retry(entry, not_before, now)

    def take(self, now: float, *, retries_only: bool = False) -> Lease | Wait | None:
        self.calls["take"] += 1
        return self.inner.take(now, retries_only=retries_only)

    def take_more(self, host: str, now: float) -> Entry | None:
        self.calls["take_more"] += 1
        return self.inner.take_more(host, now)

    def putback(self, host: str, entry: Entry, now: float) -> None:
        self.calls["putback"] += 1
        self.inner.putback(host, entry, now)

    def release(self, host: str, now: float) -> None:
        self.calls["release"] += 1
        self.inner.release(host, now)

    def sent(self, host: str, at: float | None, now: float) -> None:
        self.inner.sent(host, at, now)

    def finish(self, host: str, now: float) -> None:
        self.calls["finish"] += 1
        self.inner.finish(host, now)

    def complete(self, key: str) -> bool:
        self.calls["complete"] += 1
        return self.inner.complete(key)

    def offer(self, offers: Sequence[Offer], now: float) -> list[Admission | TrapRule]:
        self.calls["offer"] += 1
        return self.inner.offer(offers, now)

    def settle(self, key: str) -> None:
        self.calls["settle"] += 1
        self.inner.settle(key)

    def charge(self, limit: int | None) -> bool:
        self.calls["charge"] += 1
        return self.inner.charge(limit)

    def spent(self, limit: int | None) -> bool:
        self.calls["spent"] += 1
        return self.inner.spent(limit)

    def block(self, host: str, until: float, now: float) -> None:
        self.calls["block"] += 1
        self.inner.block(host, until, now)

    def pause(self, host: str, until: float, now: float) -> None:
        self.calls["pause"] += 1
        self.inner.pause(host, until, now)

    def set_interval(self, host: str, interval: float, now: float) -> None:
        self.calls["set_interval"] += 1
        self.inner.set_interval(host, interval, now)

    def drain(self, host: str, now: float) -> list[Entry]:
        self.calls["drain"] += 1
        return self.inner.drain(host, now)

    def robots(self, host: str) -> RobotsDecision | None:
        self.calls["robots"] += 1
        return self.inner.robots(host)

    def share_robots(self, decision: RobotsDecision) -> None:
        self.calls["share_robots"] += 1
        self.inner.share_robots(decision)


def describe(factory: FrontierFactory) -> str:
    """A name for the factory, for reports."""
    module = getattr(factory, "__module__", "?")
    name = getattr(factory, "__qualname__", repr(factory))
    return f"{module}:{name}"
