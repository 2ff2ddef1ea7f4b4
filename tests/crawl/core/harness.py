"""An in-memory harness for the scheduler: a scripted site and a fake clock, no I/O.

Each URL maps to a list of outcomes served in turn (the last repeats). Every fetch takes
``latency`` fake seconds. The log records (start time, url) of every fetch handed out.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from spindle.crawl.core import (
    DONE,
    IDLE,
    Changes,
    CrawlConfig,
    CrawlScheduler,
    ErrorKind,
    Failure,
    Fetch,
    Frontier,
    Outcome,
    PageRecord,
    Response,
    Skip,
    Wait,
)

Script = list[Outcome | Callable[[float], Outcome]]


def page(*links: str, status: int = 200, **headers: str) -> Response:
    body = "".join(f'<a href="{link}">x</a>' for link in links).encode()
    fields = {"Content-Type": "text/html; charset=utf-8"}
    fields.update((name.replace("_", "-").title(), value) for name, value in headers.items())
    return Response(status, tuple(fields.items()), body, 0.0, 1_700_000_000.0)


def status(code: int, **headers: str) -> Response:
    return page(status=code, **headers)


def robots(text: str) -> Response:
    return Response(200, (("Content-Type", "text/plain"),), text.encode(), 0.0, 1_700_000_000.0)


def failure(kind: ErrorKind = ErrorKind.CONNECTION) -> Failure:
    return Failure(kind, f"{kind.value} failed", 0.0, 1_700_000_000.0)


NOT_FOUND = status(404)


@dataclass
class Harness:
    config: CrawlConfig
    site: dict[str, Script]
    latency: float = 0.1
    now: float = 0.0
    log: list[tuple[float, Fetch]] = field(default_factory=list)
    records: list[PageRecord] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    max_in_flight_per_host: dict[str, int] = field(default_factory=dict)
    frontier: Frontier | None = None
    on_changes: Callable[[Changes], None] | None = None

    def __post_init__(self) -> None:
        self.scheduler = CrawlScheduler(self.config, rng=random.Random(7), frontier=self.frontier)
        self._served: dict[str, int] = {}

    def outcome(self, fetch: Fetch) -> Outcome:
        script = self.site.get(fetch.url, [NOT_FOUND])
        n = self._served.get(fetch.url, 0)
        self._served[fetch.url] = n + 1
        item = script[min(n, len(script) - 1)]
        return item(self.now) if callable(item) else item

    def run(self, *, workers: int = 64, max_steps: int = 100_000) -> Harness:
        sched = self.scheduler
        sched.start(self.now)
        in_flight: list[tuple[float, int, Fetch]] = []
        per_host: dict[str, int] = {}
        seq = 0
        for _ in range(max_steps):
            action = sched.next_action(self.now) if len(in_flight) < workers else IDLE
            if isinstance(action, Fetch):
                self.log.append((self.now, action))
                host = action.url.split("/")[2]
                per_host[host] = per_host.get(host, 0) + 1
                peak = self.max_in_flight_per_host.get(host, 0)
                self.max_in_flight_per_host[host] = max(peak, per_host[host])
                seq += 1
                heapq.heappush(in_flight, (self.now + self.latency, seq, action))
                continue
            if action is DONE:
                self._collect()
                return self
            wake = in_flight[0][0] if in_flight else float("inf")
            if isinstance(action, Wait):
                wake = min(wake, action.until)
            assert wake != float("inf"), "the scheduler is idle with nothing in flight"
            self.now = wake
            while in_flight and in_flight[0][0] <= self.now:
                _, _, fetch = heapq.heappop(in_flight)
                per_host[fetch.url.split("/")[2]] -= 1
                sched.observe(sched.prepare(fetch, self.outcome(fetch)), self.now)
            self._collect()
        raise AssertionError("the crawl did not finish")

    def _collect(self) -> None:
        changes = self.scheduler.drain()
        if self.on_changes is not None:
            self.on_changes(changes)
        self.records += changes.records
        self.skipped += changes.skipped

    def fetched(self) -> list[str]:
        return [fetch.url for _, fetch in self.log]

    def times(self, url_prefix: str = "") -> list[float]:
        return [t for t, fetch in self.log if fetch.url.startswith(url_prefix)]

    def record(self, url: str) -> PageRecord:
        (found,) = [r for r in self.records if r.url == url]
        return found
