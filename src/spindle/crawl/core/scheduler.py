"""The crawl scheduler: seeds -> frontier -> fetch decisions -> facts -> records and new URLs.

The scheduler is the whole crawl policy with the I/O taken out. An engine drives it:

1. ``next_action(now)`` returns a :class:`Fetch` to perform, :class:`Wait` until a time,
   :data:`IDLE` (wait for an in-flight fetch) or :data:`DONE`.
2. The engine fetches, then calls ``prepare(fetch, outcome)`` from any thread (it parses HTML,
   the expensive part, without touching shared state) and ``observe(observation, now)`` from the
   thread that owns the scheduler.
3. ``drain()`` hands over what must be persisted: finished records, newly discovered URLs, and
   URLs skipped by robots.txt.

Rules applied in ``observe``: 2xx HTML pages have their links admitted at depth + 1 (up to
``max_depth``); redirects are followed by admitting the target at the same depth, with loops
and over-long chains recorded as errors; 429, 502, 503, 504 and retryable failures are retried
with full-jitter backoff, and 429/503 also pause the whole host (for Retry-After, capped, when
given); other statuses are final. Time is always a parameter; nothing here reads a clock.
"""

from __future__ import annotations

import heapq
import random
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urljoin

from spindle.crawl.core.config import CrawlConfig
from spindle.crawl.core.events import (
    DONE,
    IDLE,
    Action,
    Failure,
    Fetch,
    FetchKind,
    Outcome,
    PageRecord,
    Response,
    Wait,
)
from spindle.crawl.core.hosts import Entry, Host
from spindle.crawl.core.links import LinkExtractor, ParsedPage, is_html
from spindle.crawl.core.robots import MAX_ROBOTS_BYTES, HostRobots, RobotsStatus
from spindle.crawl.core.traps import TrapGuard
from spindle.crawl.core.urls import InvalidURL, LinkResolver, Scope, canonicalize, host_key
from spindle.sync import Backoff, TokenBucket, retry_after

__all__ = ["Changes", "CrawlScheduler", "CrawlStats", "Observation", "Skip"]

RETRY_STATUSES = frozenset({429, 502, 503, 504})
HOST_PAUSE_STATUSES = frozenset({429, 503})
ROBOTS_MAX_REDIRECTS = 5


@dataclass(frozen=True, slots=True)
class Observation:
    """A fetch, its outcome and, for HTML pages, what the page says."""

    fetch: Fetch
    outcome: Outcome
    page: ParsedPage | None


@dataclass(frozen=True, slots=True)
class Skip:
    """A URL that will never be fetched, and why (``robots`` or ``robots_unreachable``)."""

    url: str
    depth: int
    parent: str | None
    reason: str


@dataclass(slots=True)
class Changes:
    """What happened since the last :meth:`CrawlScheduler.drain`, to persist atomically."""

    records: list[PageRecord] = field(default_factory=list)
    discovered: list[Entry] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.records or self.discovered or self.skipped)


@dataclass(slots=True)
class CrawlStats:
    """Running counts for progress displays and the final summary (this run only)."""

    pages: int = 0
    bytes: int = 0
    retries: int = 0
    robots_fetches: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)


class CrawlScheduler:
    """The sans-I/O crawl policy for one crawl. Not thread-safe except :meth:`prepare`.

    >>> sched = CrawlScheduler(CrawlConfig(seeds=("http://a.test/",), obey_robots=False))
    >>> sched.start(now=0.0)
    >>> action = sched.next_action(now=0.0)
    >>> action.url, action.depth
    ('http://a.test/', 0)
    >>> sched.next_action(now=0.0)
    IDLE
    """

    def __init__(self, config: CrawlConfig, *, rng: random.Random | None = None) -> None:
        self.config = config
        self.stats = CrawlStats()
        self._scope = Scope.from_seeds(config.scope, config.seeds)
        self._extractor = LinkExtractor(LinkResolver(self._scope))
        self._traps = TrapGuard(config.traps)
        self._backoff = Backoff(
            base=config.backoff_base,
            cap=config.backoff_cap,
            max_attempts=config.retries + 1,
            rng=rng or random.Random(),
        )
        self._seen: set[str] = set()
        self._hosts: dict[str, Host] = {}
        self._heap: list[tuple[float, int, Host]] = []
        self._seq = 0
        self._in_flight = 0
        self._pages_in_flight = 0
        self._pages_done = 0
        self._stopping = False
        self._changes = Changes()

    def __repr__(self) -> str:
        queued = sum(host.queued for host in self._hosts.values())
        return (
            f"<CrawlScheduler pages={self._pages_done} queued={queued} "
            f"in_flight={self._in_flight} hosts={len(self._hosts)} seen={len(self._seen)}>"
        )

    # -- starting and resuming ---------------------------------------------------------------

    def start(self, now: float) -> None:
        """Begin a fresh crawl: admit the seeds at depth 0."""
        for seed in self.config.seeds:
            self._admit(seed, 0, None, now)

    def resume(self, queued: list[Entry], seen: list[str], pages_done: int, now: float) -> None:
        """Continue a crawl from persisted state instead of :meth:`start`."""
        self._pages_done = pages_done
        self._seen.update(seen)
        for url in seen:
            self._traps.check(url)
        for entry in queued:
            self._host(entry.url).push(entry)
        for host in self._hosts.values():
            self._schedule(host, now)

    def stop(self) -> None:
        """Hand out no more fetches; :meth:`next_action` reports DONE once in-flight ones end."""
        self._stopping = True

    # -- decisions ------------------------------------------------------------------------------

    @property
    def in_flight(self) -> int:
        """Fetches handed out and not yet observed."""
        return self._in_flight

    @property
    def queued(self) -> int:
        """URLs waiting in the frontier (retries included)."""
        return sum(host.queued for host in self._hosts.values())

    def next_action(self, now: float) -> Action:
        """Decide what to do at monotonic time ``now``."""
        if self._stopping or self._budget_spent():
            return IDLE if self._in_flight else DONE
        heap = self._heap
        concurrency = self.config.host_concurrency
        while heap:
            when, _, host = heap[0]
            if host.heap_time != when:
                heapq.heappop(heap)
                continue
            if when > now:
                return Wait(when)
            heapq.heappop(heap)
            host.heap_time = None
            ready = host.ready_time(now, concurrency)
            if ready is None:
                continue
            if ready > now:
                self._push(host, ready)
                continue
            fetch = self._dispatch(host, now)
            self._schedule(host, now)
            return fetch
        return IDLE if self._in_flight else DONE

    def _budget_spent(self) -> bool:
        limit = self.config.max_pages
        return limit is not None and self._pages_done + self._pages_in_flight >= limit

    def _dispatch(self, host: Host, now: float) -> Fetch:
        host.in_flight += 1
        self._in_flight += 1
        host.take_token(now)
        if host.robots.status in (RobotsStatus.UNKNOWN, RobotsStatus.RETRY):
            host.robots.start()
            self.stats.robots_fetches += 1
            return Fetch(
                url=f"{host.key}/robots.txt",
                kind=FetchKind.ROBOTS,
                depth=-1,
                parent=None,
                attempt=host.robots.failures + 1,
                max_bytes=MAX_ROBOTS_BYTES,
                max_redirects=ROBOTS_MAX_REDIRECTS,
            )
        entry = host.pop(now)
        self._pages_in_flight += 1
        return Fetch(
            url=entry.url,
            kind=FetchKind.PAGE,
            depth=entry.depth,
            parent=entry.parent,
            attempt=entry.attempt,
            max_bytes=self.config.max_bytes,
            max_redirects=0,
            redirect_chain=entry.redirect_chain,
        )

    # -- facts ----------------------------------------------------------------------------------

    def prepare(self, fetch: Fetch, outcome: Outcome) -> Observation:
        """Parse a page's HTML. Safe to call from any thread; changes no scheduler state."""
        page = None
        if (
            fetch.kind is FetchKind.PAGE
            and isinstance(outcome, Response)
            and 200 <= outcome.status < 300
            and is_html(outcome.content_type, outcome.body)
        ):
            page = self._extractor.parse(
                fetch.url, outcome.body, outcome.content_type, outcome.x_robots_tag
            )
        return Observation(fetch, outcome, page)

    def observe(self, observation: Observation, now: float) -> None:
        """Apply the result of a fetch handed out by :meth:`next_action`."""
        fetch, outcome = observation.fetch, observation.outcome
        host = self._hosts[host_key(fetch.url)]
        host.in_flight -= 1
        self._in_flight -= 1
        if fetch.kind is FetchKind.ROBOTS:
            self._observe_robots(host, fetch, outcome, now)
        else:
            self._pages_in_flight -= 1
            self._observe_page(host, observation, now)
        self._schedule(host, now)

    def drain(self) -> Changes:
        """Return and forget the changes since the last call."""
        changes, self._changes = self._changes, Changes()
        return changes

    def _observe_robots(self, host: Host, fetch: Fetch, outcome: Outcome, now: float) -> None:
        robots = host.robots
        give_up = not self._backoff.allows(fetch.attempt)
        robots.observe(
            outcome, now=now, retry_delay=self._backoff.delay(fetch.attempt), give_up=give_up
        )
        if robots.status is RobotsStatus.UNREACHABLE:
            for entry in host.drain():
                self._skip(entry, "robots_unreachable")
        elif robots.status is RobotsStatus.READY:
            if robots.crawl_delay:
                host.slow_to(robots.crawl_delay)
            for entry in host.remove_if(lambda e: not robots.allows(e.url)):
                self._skip(entry, "robots")

    def _observe_page(self, host: Host, observation: Observation, now: float) -> None:
        fetch, outcome = observation.fetch, observation.outcome
        if self._should_retry(fetch, outcome):
            self._retry(host, fetch, outcome, now)
            return
        if isinstance(outcome, Failure):
            self._finish(fetch, outcome, error=(outcome.kind, outcome.message))
            return
        if outcome.status in RETRY_STATUSES:
            message = f"HTTP {outcome.status} after {fetch.attempt} attempts"
            self._finish(fetch, outcome, error=(f"http_{outcome.status}", message))
            return
        host.failures = 0
        if 300 <= outcome.status < 400 and outcome.location:
            self._follow_redirect(fetch, outcome, now)
            return
        page = observation.page
        self._finish(fetch, outcome, page=page)
        if page is not None and fetch.depth < self.config.max_depth:
            for link in page.links:
                self._admit(link, fetch.depth + 1, fetch.url, now)

    def _should_retry(self, fetch: Fetch, outcome: Outcome) -> bool:
        if isinstance(outcome, Failure):
            retryable = outcome.retryable
        else:
            retryable = outcome.status in RETRY_STATUSES
        return retryable and self._backoff.allows(fetch.attempt)

    def _retry(self, host: Host, fetch: Fetch, outcome: Outcome, now: float) -> None:
        self.stats.retries += 1
        delay = self._backoff.delay(fetch.attempt)
        if isinstance(outcome, Response) and outcome.status in HOST_PAUSE_STATUSES:
            host.failures += 1
            asked = retry_after(outcome.retry_after, outcome.fetched_at)
            if asked is not None:
                delay = min(asked, self.config.retry_after_cap)
            else:
                delay = self._backoff.delay(host.failures)
            host.paused_until = max(host.paused_until, now + delay)
        entry = Entry(fetch.url, fetch.depth, fetch.parent, fetch.attempt + 1, fetch.redirect_chain)
        host.push_retry(entry, now + delay)

    def _follow_redirect(self, fetch: Fetch, outcome: Response, now: float) -> None:
        assert outcome.location is not None
        try:
            target = canonicalize(urljoin(fetch.url, outcome.location))
        except InvalidURL as exc:
            self._finish(fetch, outcome, error=("bad_redirect", str(exc)))
            return
        chain = (*fetch.redirect_chain, fetch.url)
        if target in chain:
            self._finish(
                fetch, outcome, final_url=target, error=("redirect_loop", " -> ".join(chain))
            )
        elif len(chain) > self.config.max_redirects:
            message = f"more than {self.config.max_redirects} redirects"
            self._finish(fetch, outcome, final_url=target, error=("too_many_redirects", message))
        else:
            self._finish(fetch, outcome, final_url=target)
            if self._scope.allows(target):
                self._admit(target, fetch.depth, fetch.url, now, chain)

    def _finish(
        self,
        fetch: Fetch,
        outcome: Outcome,
        *,
        page: ParsedPage | None = None,
        final_url: str | None = None,
        error: tuple[str, str] | None = None,
    ) -> None:
        self._pages_done += 1
        stats = self.stats
        stats.pages += 1
        if error is not None:
            stats.errors[error[0]] += 1
        if isinstance(outcome, Response):
            stats.statuses[outcome.status] += 1
            stats.bytes += len(outcome.body)
            record = PageRecord(
                url=fetch.url,
                final_url=final_url or fetch.url,
                status=outcome.status,
                depth=fetch.depth,
                parent=fetch.parent,
                content_type=outcome.content_type,
                bytes=len(outcome.body),
                links=page.link_count if page else 0,
                fetched_at=outcome.fetched_at,
                elapsed_ms=outcome.elapsed * 1000.0,
                attempts=fetch.attempt,
                error=error,
                truncated=outcome.truncated,
                noindex=page.noindex if page else False,
            )
        else:
            record = PageRecord(
                url=fetch.url,
                final_url=None,
                status=None,
                depth=fetch.depth,
                parent=fetch.parent,
                content_type=None,
                bytes=0,
                links=0,
                fetched_at=outcome.fetched_at,
                elapsed_ms=outcome.elapsed * 1000.0,
                attempts=fetch.attempt,
                error=error,
            )
        self._changes.records.append(record)

    # -- the frontier ---------------------------------------------------------------------------

    def _admit(
        self,
        url: str,
        depth: int,
        parent: str | None,
        now: float,
        chain: tuple[str, ...] = (),
    ) -> None:
        if url in self._seen:
            return
        self._seen.add(url)
        refused = self._traps.check(url)
        if refused is not None:
            self.stats.refused[refused] += 1
            return
        entry = Entry(url, depth, parent, 1, chain)
        self._changes.discovered.append(entry)
        host = self._host(url)
        robots = host.robots
        if robots.decided and not robots.allows(url):
            unreachable = robots.status is RobotsStatus.UNREACHABLE
            self._skip(entry, "robots_unreachable" if unreachable else "robots")
            return
        host.push(entry)
        self._schedule(host, now)

    def _skip(self, entry: Entry, reason: str) -> None:
        self.stats.refused[reason] += 1
        self._changes.skipped.append(Skip(entry.url, entry.depth, entry.parent, reason))

    def _host(self, url: str) -> Host:
        key = host_key(url)
        host = self._hosts.get(key)
        if host is None:
            robots = HostRobots(self.config.robots_token)
            if not self.config.obey_robots:
                robots.allow_all()
            rate = self.config.rate
            bucket = TokenBucket(rate, 1.0) if rate > 0 else None
            host = self._hosts[key] = Host(key, robots, bucket)
        return host

    def _schedule(self, host: Host, now: float) -> None:
        ready = host.ready_time(now, self.config.host_concurrency)
        if ready is not None and (host.heap_time is None or ready < host.heap_time):
            self._push(host, ready)

    def _push(self, host: Host, when: float) -> None:
        self._seq += 1
        host.heap_time = when
        heapq.heappush(self._heap, (when, self._seq, host))
