"""How the simulator measures: decision timings, garbage collection, RSS, and bytes per item.

* **Time per decision** (:class:`Series`): every call is timed with ``perf_counter_ns``
  (on this VM about 0.3 µs a read, against 4 µs for ``thread_time_ns``, too coarse a ruler
  for calls of a few µs). Samples go into windows of ``window`` calls; each full window
  keeps its median, and a span between two checkpoints reports the median of its window
  medians (robust to the odd garbage collection or a neighbour's burst of CPU) and the plain
  mean (which includes them). The cost of reading the clock, measured once
  (:func:`timer_overhead_ns`), is subtracted.
* **Garbage collection** (:class:`GcTimer`): time inside collections, from ``gc.callbacks``.
* **Machine speed** (:func:`reference_ms`): a fixed piece of work timed at each checkpoint,
  because this machine's two cores are shared and a busy neighbour slows every figure alike.
* **RSS** (:func:`rss_bytes`): resident set size from ``/proc/self/statm``, read at each
  checkpoint. It is what a machine has to provide, allocator slack included, but it cannot
  tell a URL from a host.
* **Bytes per item** (:func:`probe_memory`): ``tracemalloc`` around a fresh scheduler fed
  ``urls`` URLs of one host, then ``hosts`` hosts of one URL each. It counts exactly the
  Python objects the core keeps per queued URL, per fetched URL and per host, but slows every
  allocation several times over and needs memory of its own, so it runs on a small probe
  rather than on the whole crawl.
"""

from __future__ import annotations

import gc
import math
import os
import statistics
import time
import tracemalloc
from array import array
from collections.abc import Callable
from typing import Any

from simweb import ROBOTS_RULES, STAMP, SimWeb
from spindle.crawl.core import (
    CrawlConfig,
    CrawlScheduler,
    Fetch,
    FetchKind,
    Link,
    Observation,
    ParsedPage,
    Response,
)

__all__ = [
    "GcTimer",
    "Series",
    "probe_memory",
    "reference_ms",
    "rss_bytes",
    "timer_overhead_ns",
]

_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_HTML = (("Content-Type", "text/html"),)
_PDF = (("Content-Type", "application/pdf"),)


def timer_overhead_ns(samples: int = 20_000) -> int:
    """The median cost of two back-to-back ``perf_counter_ns`` reads."""
    clock = time.perf_counter_ns
    found = array("q")
    for _ in range(samples):
        start = clock()
        found.append(clock() - start)
    return int(statistics.median(found))


class Series:
    """Durations of one kind of call, in windows (see the module docstring)."""

    def __init__(self, window: int, overhead_ns: int) -> None:
        self.window = window
        self.overhead = overhead_ns
        self._buffer = array("q")
        self._medians: list[float] = []
        self._total = 0
        self._count = 0

    def add(self, nanoseconds: int) -> None:
        self._buffer.append(nanoseconds)
        if len(self._buffer) >= self.window:
            self._flush()

    def _flush(self) -> None:
        buffer = self._buffer
        if not buffer:
            return
        self._medians.append(statistics.median(buffer))
        self._total += sum(buffer)
        self._count += len(buffer)
        self._buffer = array("q")

    def span(self) -> dict[str, Any]:
        """The figures since the last call (a partial window counts when it is not tiny)."""
        if len(self._buffer) >= min(100, self.window):
            self._flush()
        if not self._count:
            return {"calls": 0}
        medians = self._medians
        result = {
            "calls": self._count,
            "windows": len(medians),
            "median_us": round(max(0.0, statistics.median(medians) - self.overhead) / 1000, 2),
            "mean_us": round(max(0.0, self._total / self._count - self.overhead) / 1000, 2),
            "worst_window_median_us": round(max(0.0, max(medians) - self.overhead) / 1000, 2),
        }
        self._medians = []
        self._total = self._count = 0
        return result


class GcTimer:
    """Seconds spent in the cyclic garbage collector, and full collections, since a reset."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.full = 0
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started
            self.full += info.get("generation") == 2

    def take(self) -> dict[str, float]:
        found = {"gc_s": round(self.seconds, 3), "full_collections": self.full}
        self.seconds, self.full = 0.0, 0
        return found

    def close(self) -> None:
        gc.callbacks.remove(self._callback)


def reference_ms(repeat: int = 5) -> float:
    """Milliseconds for a fixed piece of pure-Python work (dict and str operations), the best
    of ``repeat``: read beside the decision timings, it shows how fast the machine was running
    at that moment (other processes on a shared core slow every figure alike)."""
    best = math.inf
    for _ in range(repeat):
        started = time.perf_counter()
        table: dict[str, int] = {}
        for number in range(20_000):
            key = f"https://www.host{number % 997}.test/page-{number}"
            table[key] = len(key)
            table.get(key[:-1])
        best = min(best, time.perf_counter() - started)
    return round(best * 1000, 2)


def rss_bytes() -> int:
    """This process's resident set size now (not its peak)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * _PAGE_SIZE
    except OSError:  # not Linux: the peak is the best there is
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _traced() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def probe_memory(
    web: SimWeb,
    config_for: Callable[[tuple[str, ...]], CrawlConfig],
    new_scheduler: Callable[[CrawlConfig], CrawlScheduler],
    *,
    urls: int,
    hosts: int,
) -> dict[str, Any]:
    """Bytes the core keeps per queued URL, per fetched URL and per host (tracemalloc).

    ``config_for(seeds)`` gives the crawl's settings for those seeds; ``new_scheduler``
    builds a scheduler over the frontier under test. The URLs are the simulated web's, so
    their mean length (reported) is the web's.
    """
    tracemalloc.start()
    try:
        first = _seeded(web, config_for, new_scheduler)
        sched, seed_fetch = first
        # The URLs are made (and the web's caches filled) before the first reading, and kept
        # until the last: the scheduler gets copies, as it would from a parser.
        made = list(map(_url_of(web, 1), range(1, urls + 1)))
        mean_length = sum(map(len, made)) / len(made)
        base = _traced()
        _observe_links(sched, seed_fetch, _as_parsed(made))
        queued = _traced() - base
        now = 1.0
        fetched = 0
        while fetched < urls:
            action = sched.next_action(now)
            assert isinstance(action, Fetch), action
            done = Response(200, _PDF, b"", 0.0, STAMP)
            sched.observe(Observation(action, done), now)
            sched.drain()
            fetched += 1
        done_bytes = _traced() - base
        del sched, seed_fetch, first, made

        sched, seed_fetch = _seeded(web, config_for, new_scheduler)
        roots = [web.url(rank, 0) for rank in range(2, hosts + 2)]
        base = _traced()
        _observe_links(sched, seed_fetch, _as_parsed(roots))
        undecided = _traced() - base
        robots_fetches: list[Fetch] = []
        while True:
            action = sched.next_action(1.0)
            if not isinstance(action, Fetch):
                break
            assert action.kind is FetchKind.ROBOTS, action
            robots_fetches.append(action)
        for fetch in robots_fetches:
            sched.observe(Observation(fetch, _robots_answer(web, fetch.url)), 2.0)
        sched.drain()
        del robots_fetches
        decided = _traced() - base
        del roots
    finally:
        tracemalloc.stop()
    per_queued = queued / urls
    return {
        "method": "tracemalloc, gc.collect() before each reading",
        "urls": urls,
        "hosts": hosts,
        "mean_url_length": round(mean_length, 1),
        "bytes_per_queued_url": round(per_queued),
        "bytes_per_fetched_url": round(done_bytes / urls),
        "bytes_per_host_robots_pending": round(undecided / hosts - per_queued),
        "bytes_per_host_robots_decided": round(decided / hosts - per_queued),
    }


def _as_parsed(urls: list[str]) -> tuple[Link, ...]:
    """Links as a parser makes them: the URL and its key, each a string of its own."""
    return tuple(Link(url[:1] + url[1:], url[:1] + url[1:]) for url in urls)


def _url_of(web: SimWeb, rank: int) -> Callable[[int], str]:
    host = web.host(rank)

    def url(page: int) -> str:
        return web.url(rank, page, host)

    return url


def _seeded(
    web: SimWeb,
    config_for: Callable[[tuple[str, ...]], CrawlConfig],
    new_scheduler: Callable[[CrawlConfig], CrawlScheduler],
) -> tuple[CrawlScheduler, Fetch]:
    """A scheduler whose seed (host 1's root) is handed out, its robots.txt answered 404."""
    sched = new_scheduler(config_for((web.url(1, 0),)))
    sched.start(0.0)
    action = sched.next_action(0.0)
    assert isinstance(action, Fetch)
    if action.kind is FetchKind.ROBOTS:
        sched.observe(Observation(action, Response(404, (), b"", 0.0, STAMP)), 0.0)
        action = sched.next_action(0.0)
    assert isinstance(action, Fetch), action
    assert action.kind is FetchKind.PAGE, action
    sched.drain()
    return sched, action


def _observe_links(sched: CrawlScheduler, fetch: Fetch, links: tuple[Link, ...]) -> None:
    page = ParsedPage(links, len(links), False, False)
    sched.observe(Observation(fetch, Response(200, _HTML, b"", 0.0, STAMP), page), 0.5)
    sched.drain()


def _robots_answer(web: SimWeb, url: str) -> Response:
    """The host's robots.txt as the web serves it when it answers (rules or a 404)."""
    where = web.locate(url)
    assert where is not None
    delay = web.crawl_delay(where[0])
    if web.robots_kind(where[0]) == ROBOTS_RULES:
        return Response(200, (), web.robots_body(delay), 0.0, STAMP)
    return Response(404, (), b"", 0.0, STAMP)
