"""The crawl scheduler: seeds -> frontier -> fetch decisions -> facts -> records and new URLs.

The scheduler is the whole crawl policy with the I/O taken out. An engine drives it:

1. ``next_action(now)`` returns a :class:`Fetch` to perform, :class:`Wait` until a time,
   :data:`IDLE` (wait for an in-flight fetch) or :data:`DONE`.
2. The engine fetches, then calls ``prepare(fetch, outcome)`` from any thread (it parses HTML,
   the expensive part, without touching shared state) and ``observe(observation, now)`` from
   the thread that owns the scheduler.
3. ``drain()`` hands over what must be persisted, as one :class:`Changes` batch.

Every fetch carries an id; observing an id that was never handed out, or observing one twice,
raises :class:`MisuseError`, as does time that runs backwards. Policy lives in one object per
concern: the frontier (:mod:`.frontier`, with the pacer and the trap guards), robots.txt
(:mod:`.robots`), links (:mod:`.links`) and outcome rules (:mod:`.outcomes`). Time is always a
parameter; nothing here reads a clock.
"""

from __future__ import annotations

import enum
import math
import random
from collections import Counter
from collections.abc import Iterator, Sequence

from spindle.crawl.core.config import CrawlConfig
from spindle.crawl.core.errors import MisuseError
from spindle.crawl.core.frontier import Admission, Frontier, Lease, MemoryFrontier, Offer
from spindle.crawl.core.outcomes import (
    HOST_PAUSE_STATUSES,
    RedirectRefused,
    Verdict,
    fetched_record,
    judge,
    redirect_target,
    unfetched_record,
)
from spindle.crawl.core.parse import PageParser
from spindle.crawl.core.robots import MAX_ROBOTS_BYTES, HostRobots, RobotsStatus
from spindle.crawl.core.sitemaps import MAX_SITEMAP_BYTES
from spindle.crawl.core.urls import Scope, canonicalize, host_key
from spindle.crawl.core.values import (
    DONE,
    IDLE,
    Action,
    Changes,
    CrawlStats,
    Entry,
    ErrorKind,
    Failure,
    Fetch,
    FetchKind,
    FilterRule,
    Link,
    Observation,
    Outcome,
    PageRecord,
    RecordError,
    Response,
    Resumed,
    Skip,
    SkipReason,
    TrapRule,
    Wait,
)
from spindle.sync.backoff import Backoff, retry_after

__all__ = ["CrawlScheduler"]


class _Phase(enum.Enum):
    NEW = "new"
    RUNNING = "running"
    STOPPING = "stopping"


class CrawlScheduler:
    """The sans-I/O crawl policy for one crawl. Not thread-safe except :meth:`prepare`.

    >>> sched = CrawlScheduler(CrawlConfig(seeds=("http://a.test/",), obey_robots=False))
    >>> sched.start(now=0.0)
    >>> action = sched.next_action(now=0.0)
    >>> action.id, action.url, action.depth
    (1, 'http://a.test/', 0)
    >>> sched.next_action(now=0.0)
    IDLE
    >>> sched
    <CrawlScheduler pages=0 queued=0 in_flight=1 hosts=1 seen=1>
    """

    def __init__(
        self,
        config: CrawlConfig,
        *,
        rng: random.Random | None = None,
        frontier: Frontier | None = None,
    ) -> None:
        self.config = config
        self.stats = CrawlStats()
        self._scope = Scope.from_seeds(config.scope, config.seeds)
        self._parser = PageParser(config)
        self._resolver = self._parser.resolver
        self._filters = config.url_filters()
        self._backoff = Backoff(
            base=config.backoff_base,
            cap=config.backoff_cap,
            max_attempts=config.retries + 1,
            rng=rng or random.Random(),
        )
        self._frontier: Frontier = frontier or MemoryFrontier(
            config.traps,
            interval=config.interval,
            concurrency=config.host_concurrency,
            await_sends=config.await_sends,
        )
        self._robots: dict[str, HostRobots] = {}
        self._sitemap_hosts: set[str] = set()
        self._host_failures: Counter[str] = Counter()
        self._outstanding: dict[int, tuple[Fetch, str]] = {}
        self._sent: set[int] = set()  # outstanding fetches whose sending was reported
        self._last_id = 0
        self._pages_done = 0
        self._retrying = 0  # retries queued by this scheduler and not yet handed out
        self._phase = _Phase.NEW
        self._now = -math.inf
        self._changes = Changes()

    def __repr__(self) -> str:
        return (
            f"<CrawlScheduler pages={self._pages_done} queued={self._frontier.queued} "
            f"in_flight={len(self._outstanding)} hosts={len(self._robots)} "
            f"seen={self._frontier.seen}>"
        )

    # -- starting, resuming, stopping -----------------------------------------------------------

    def start(self, now: float) -> None:
        """Begin a fresh crawl: admit the seeds at depth 0.

        Raises:
            MisuseError: the crawl was already started or resumed.
        """
        self._begin(now)
        for seed in self.config.seeds:
            self._admit_all([Entry(seed, canonicalize(seed), 0, None)], now)

    def resume(self, state: Resumed, now: float) -> None:
        """Continue a crawl from persisted state instead of :meth:`start`. The frontier holds
        the crawl's URLs already (see :meth:`Frontier.restore`).

        Raises:
            MisuseError: the crawl was already started or resumed.
        """
        self._begin(now)
        self._pages_done = state.pages_done
        self._retrying = state.retrying
        self._frontier.restore(state.traps, state.pages_done + state.retrying, now)
        for decision in state.robots:
            robots = self._robots_of(decision.host)
            if self.config.obey_robots:
                robots.restore(decision)
                self._apply_crawl_delay(robots, now)

    def stop(self) -> None:
        """Hand out no more fetches; :meth:`next_action` reports DONE once in-flight ones end."""
        if self._phase is _Phase.RUNNING:
            self._phase = _Phase.STOPPING

    def finish(self, batch: int = 10_000) -> Iterator[Changes]:
        """Call once the run is over; persist every batch it yields, in order. The batches
        hold what was not drained yet and, when the run stopped at ``max_pages``, every URL
        still queued as a ``budget`` skip (they stay queued for a resume), at most ``batch``
        skips to a batch: a frontier of millions of URLs is never in memory at once."""
        if self._frontier.spent(self.config.max_pages):
            for entry in self._frontier.waiting():
                self._skip(entry, SkipReason.BUDGET)
                if len(self._changes.skipped) >= batch:
                    yield self.drain()
        if self._changes:
            yield self.drain()

    def _begin(self, now: float) -> None:
        if self._phase is not _Phase.NEW:
            raise MisuseError("the crawl was already started")
        self._tick(now)
        self._phase = _Phase.RUNNING

    # -- decisions ------------------------------------------------------------------------------

    @property
    def in_flight(self) -> int:
        """Fetches handed out and not yet observed."""
        return len(self._outstanding)

    @property
    def queued(self) -> int:
        """URLs waiting in the frontier, retries included."""
        return self._frontier.queued

    def next_action(self, now: float) -> Action:
        """Decide what to do at monotonic time ``now``.

        Raises:
            MisuseError: the crawl was not started, or ``now`` is earlier than a previous call's.
        """
        if self._phase is _Phase.NEW:
            raise MisuseError("call start() or resume() before next_action()")
        self._tick(now)
        frontier = self._frontier
        while True:
            spent = frontier.spent(self.config.max_pages)
            if self._phase is _Phase.STOPPING or (spent and not self._retrying):
                return IDLE if self._outstanding else DONE
            lease = frontier.take(now, retries_only=spent)
            if lease is None:
                return IDLE if self._outstanding else DONE
            if isinstance(lease, Wait):
                return lease
            host, entry = lease.host, lease.entry
            robots = self._robots_of(host)
            if robots.status is RobotsStatus.UNKNOWN:
                self._adopt_shared_robots(robots, now)
            if robots.needs_fetch:
                frontier.putback(host, entry, now)
                return self._robots_fetch(host, robots, now)
            fetch = self._fetch_for(lease, robots, now)
            if fetch is not None:
                return fetch

    def _fetch_for(self, lease: Lease, robots: HostRobots, now: float) -> Fetch | None:
        """Use a leased slot for the first URL of its host that robots.txt allows and the
        budget pays for; None when there is none (the slot is given back)."""
        frontier, host = self._frontier, lease.host
        entry: Entry | None = lease.entry
        while entry is not None and not robots.allows(entry.url):
            self._skip_disallowed(entry, robots)  # queued before the host's robots.txt was known
            frontier.settle(entry.key)
            entry = frontier.take_more(host, now)
        if entry is None:
            frontier.release(host, now)
            return None
        sitemap = entry.kind is FetchKind.SITEMAP
        if not sitemap and entry.attempt == 1 and not frontier.charge(self.config.max_pages):
            frontier.putback(host, entry, now)
            frontier.release(host, now)
            return None
        if entry.attempt > 1:
            self._retrying -= 1
        return self._hand_out(
            host,
            entry.kind,
            entry.url,
            entry.key,
            entry.depth,
            entry.parent,
            entry.attempt,
            MAX_SITEMAP_BYTES if sitemap else self.config.max_bytes,
            entry.redirect_chain,
        )

    def _adopt_shared_robots(self, robots: HostRobots, now: float) -> None:
        """Take up a robots.txt decision another process of a shared crawl reached."""
        decision = self._frontier.robots(robots.host)
        if decision is not None:
            robots.restore(decision)
            self._apply_crawl_delay(robots, now)

    def _robots_fetch(self, host: str, robots: HostRobots, now: float) -> Fetch:
        url = robots.start()
        self._frontier.block(host, math.inf, now)
        self.stats.robots_fetches += 1
        return self._hand_out(
            host,
            FetchKind.ROBOTS,
            url,
            url,
            0,
            None,
            robots.failures + 1,
            MAX_ROBOTS_BYTES,
            robots.chain,
        )

    def _hand_out(
        self,
        host: str,
        kind: FetchKind,
        url: str,
        key: str,
        depth: int,
        parent: str | None,
        attempt: int,
        max_bytes: int,
        chain: tuple[str, ...],
    ) -> Fetch:
        self._last_id += 1
        fetch = Fetch(self._last_id, url, key, kind, depth, parent, attempt, max_bytes, chain)
        self._outstanding[fetch.id] = (fetch, host)
        return fetch

    # -- facts ----------------------------------------------------------------------------------

    def prepare(self, fetch: Fetch, outcome: Outcome) -> Observation:
        """Parse a page's HTML (or a sitemap) and digest its body: the expensive work, done off
        the scheduler's thread (:mod:`.parse`). Safe to call from any thread; changes no
        scheduler state."""
        return self._parser.observe(fetch, outcome)

    def sent(self, fetch: Fetch, now: float) -> None:
        """Record that the request of ``fetch`` (handed out, not yet observed) went on the wire
        at ``now``. The host's next fetch is spaced from then; with ``config.await_sends`` it
        waits for this report (or the observation, for a request never sent). A second
        report of one fetch (a request sent again on a fresh connection) is ignored.

        Raises:
            MisuseError: the fetch is not outstanding, or ``now`` runs backwards.
        """
        handed = self._outstanding.get(fetch.id)
        if handed is None or handed[0] != fetch:
            raise MisuseError(f"fetch {fetch.id} ({fetch.url}) is not outstanding")
        if fetch.id in self._sent:
            return
        self._tick(now)
        self._sent.add(fetch.id)
        self._frontier.sent(handed[1], now, now)

    def observe(self, observation: Observation, now: float) -> None:
        """Apply the outcome of a fetch handed out by :meth:`next_action`.

        Raises:
            MisuseError: the fetch was never handed out, was observed already, or differs from
                the one handed out under its id; or ``now`` runs backwards.
        """
        fetch = observation.fetch
        handed = self._outstanding.get(fetch.id)
        if handed is None:
            raise MisuseError(
                f"fetch {fetch.id} ({fetch.url}) was never handed out or was observed already"
            )
        if handed[0] != fetch:
            raise MisuseError(f"fetch {fetch.id} is not the fetch handed out under that id")
        self._tick(now)
        del self._outstanding[fetch.id]
        host = handed[1]
        if fetch.id in self._sent:
            self._sent.discard(fetch.id)
        else:  # no send reported: never sent, or an engine that does not report sends
            self._frontier.sent(host, None, now)
        self._frontier.finish(host, now)
        if self.config.keep_exchanges and isinstance(observation.outcome, Response):
            self._changes.exchanges.append((fetch, observation.outcome))
        if fetch.kind is FetchKind.ROBOTS:
            self._observe_robots(host, fetch, observation.outcome, now)
        elif fetch.kind is FetchKind.SITEMAP:
            self._observe_sitemap(observation, now)
        else:
            self._observe_page(host, observation, now)

    def drain(self) -> Changes:
        """Return and forget the changes since the last call."""
        changes, self._changes = self._changes, Changes()
        return changes

    def _tick(self, now: float) -> None:
        if not now >= self._now or not math.isfinite(now):
            raise MisuseError(f"time must be finite and never run backwards ({self._now} -> {now})")
        self._now = now

    def _observe_robots(self, host: str, fetch: Fetch, outcome: Outcome, now: float) -> None:
        robots = self._robots[host]
        robots.observe(
            outcome,
            now=now,
            retry_delay=self._backoff.delay(fetch.attempt),
            give_up=not self._backoff.allows(fetch.attempt),
        )
        frontier = self._frontier
        if robots.status is RobotsStatus.RETRY:
            frontier.block(host, robots.retry_at, now)
            return
        if robots.decided:  # shared before the host opens, so no other process fetches it again
            decision = robots.decision(outcome.fetched_at)
            self._changes.robots.append(decision)
            frontier.share_robots(decision)
        frontier.block(host, -math.inf, now)
        if robots.status is RobotsStatus.UNREACHABLE:
            for entry in frontier.drain(host, now):
                self._skip_disallowed(entry, robots)
                frontier.settle(entry.key)
        self._apply_crawl_delay(robots, now)
        if robots.status is RobotsStatus.READY:
            self._queue_sitemaps(robots, now)

    # -- sitemaps ---------------------------------------------------------------------------------

    def _queue_sitemaps(self, robots: HostRobots, now: float) -> None:
        """Queue a host's sitemaps once: its robots.txt ``Sitemap:`` lines, and /sitemap.xml."""
        host = robots.host
        if not self.config.sitemaps or host in self._sitemap_hosts:
            return
        self._sitemap_hosts.add(host)
        named = robots.rules.sitemaps if self.config.obey_robots else ()
        entries = []
        for url in (*named, f"{host}/sitemap.xml"):
            link = self._resolver.resolve_one(robots.url, url)
            if link is not None:
                entries.append(Entry(link.url, link.key, 0, robots.url, kind=FetchKind.SITEMAP))
        self._admit_all(entries, now)

    def _observe_sitemap(self, observation: Observation, now: float) -> None:
        listing, fetch = observation.listing, observation.fetch
        self._changes.read.append(fetch.key)
        self._frontier.settle(fetch.key)
        if listing is None:
            return  # not there, or not answered: a sitemap is a hint, never an error
        self.stats.sitemaps_read += 1
        self.stats.sitemap_urls += len(listing.pages)
        entries = [
            Entry(link.url, link.key, 0, fetch.url, kind=FetchKind.SITEMAP)
            for link in listing.sitemaps
        ]
        outside = []
        if self.config.max_depth >= 1:
            for link in listing.pages:
                entry = Entry(link.url, link.key, 1, fetch.url)
                if self._scope.allows(link.url):
                    entries.append(entry)
                elif self.config.report_scope:
                    outside.append(entry)
        self._admit_all(entries, now, outside=outside)

    def _apply_crawl_delay(self, robots: HostRobots, now: float) -> None:
        asked = robots.rules.crawl_delay
        if robots.status is not RobotsStatus.READY or not asked:
            return
        if asked > self.config.max_crawl_delay:
            self.stats.capped_crawl_delays[robots.host] = asked
        self._frontier.set_interval(robots.host, min(asked, self.config.max_crawl_delay), now)

    def _observe_page(self, host: str, observation: Observation, now: float) -> None:
        fetch, outcome = observation.fetch, observation.outcome
        verdict = judge(outcome, may_retry=self._backoff.allows(fetch.attempt))
        if verdict is Verdict.RETRY:
            self._retry(host, fetch, outcome, now)
            return
        self._pages_done += 1
        if isinstance(outcome, Failure):
            self._record_fetch(observation)
            return
        if verdict is Verdict.FAILED:
            error = (ErrorKind.HTTP_STATUS, f"HTTP {outcome.status} after {fetch.attempt} attempts")
            self._record_fetch(observation, error=error)
            return
        self._host_failures.pop(host, None)
        if verdict is Verdict.REDIRECT:
            self._follow_redirect(observation, outcome, now)
            return
        page = observation.page
        self._record_fetch(observation)
        if page is None:
            return
        depth = fetch.depth + 1
        outside = [Entry(link.url, link.key, depth, fetch.url) for link in page.outside]
        entries = []
        if fetch.depth < self.config.max_depth:
            entries = [Entry(link.url, link.key, depth, fetch.url) for link in page.links]
        self._admit_all(entries, now, outside=outside)

    def _retry(self, host: str, fetch: Fetch, outcome: Outcome, now: float) -> None:
        self.stats.retries += 1
        delay = self._backoff.delay(fetch.attempt)
        if isinstance(outcome, Response) and outcome.status in HOST_PAUSE_STATUSES:
            self._host_failures[host] += 1
            asked = retry_after(outcome.retry_after, outcome.fetched_at)
            if asked is not None:
                delay = min(asked, self.config.retry_after_cap)
            else:
                delay = self._backoff.delay(self._host_failures[host])
            self._frontier.pause(host, now + delay, now)
        again = Entry(
            fetch.url, fetch.key, fetch.depth, fetch.parent, fetch.attempt + 1, fetch.redirect_chain
        )
        self._changes.retried.append(again)
        self._retrying += 1
        self._frontier.push_retry(again, now + delay, now)

    def _follow_redirect(self, observation: Observation, outcome: Response, now: float) -> None:
        assert outcome.location is not None  # judge() said REDIRECT
        fetch = observation.fetch
        target = redirect_target(fetch, outcome.location, self.config.max_redirects)
        if isinstance(target, RedirectRefused):
            error, final = target.error, target.target
            self._record_fetch(observation, final_url=final, error=error)
            return
        self._record_fetch(observation, final_url=target.url)
        chain = (*fetch.redirect_chain, fetch.url)
        entry = Entry(target.url, target.key, fetch.depth, fetch.url, 1, chain)
        if self._scope.allows(target.url):
            self._admit_all([entry], now)
        elif self.config.report_scope:
            self._admit_all([], now, outside=[entry])

    def _record_fetch(
        self,
        observation: Observation,
        *,
        final_url: str | None = None,
        error: RecordError | None = None,
    ) -> None:
        collect = self.config.collect_links
        self._record(
            fetched_record(observation, final_url=final_url, error=error, collect_links=collect)
        )

    def _record(self, record: PageRecord) -> None:
        if not self._frontier.complete(record.key):
            return  # another process of a shared crawl wrote this URL's record
        stats = self.stats
        stats.pages += 1
        if record.status is not None:
            stats.fetched += 1
            stats.statuses[record.status] += 1
            stats.bytes += record.bytes
        if record.error is not None:
            stats.errors[record.error[0]] += 1
        self._changes.records.append(record)

    # -- admission --------------------------------------------------------------------------------

    def _admit_all(
        self, entries: Sequence[Entry], now: float, *, outside: Sequence[Entry] = ()
    ) -> None:
        """Admit found URLs with one frontier call (a shared frontier answers in one round
        trip): ``entries`` are judged and queued when new; ``outside`` are out of scope, marked
        seen and reported once as scope skips. Seeds are never filtered."""
        if not entries and not outside:
            return
        offers = [Offer(entry, judge=False) for entry in outside]
        refusals: list[FilterRule | None] = [None] * len(offers)
        for entry in entries:
            refused = None
            if entry.parent is not None and self._filters.active:
                refused = self._filters.refuses(Link(entry.url, entry.key))
            if refused is not None:
                offers.append(Offer(entry, judge=False))
            else:
                robots = self._robots.get(host_key(entry.url))
                disallowed = robots is not None and robots.decided and not robots.allows(entry.url)
                offers.append(Offer(entry, queue=not disallowed))
            refusals.append(refused)
        verdicts = self._frontier.offer(offers, now)
        for offer, refused, verdict in zip(offers, refusals, verdicts, strict=True):
            entry = offer.entry
            if verdict is Admission.SEEN:
                continue
            if not offer.judge:
                if refused is None:
                    self._skip(entry, SkipReason.SCOPE)
                else:
                    self._skip(entry, SkipReason.FILTER, rule=refused)
                continue
            if isinstance(verdict, TrapRule):
                self._skip(entry, SkipReason.TRAP, rule=verdict)
                continue
            self._changes.discovered.append(entry)
            robots = self._robots_of(host_key(entry.url))
            if not offer.queue:
                self._skip_disallowed(entry, robots)
            elif not self.config.obey_robots and entry.kind is FetchKind.PAGE:
                self._queue_sitemaps(robots, now)

    def _skip_disallowed(self, entry: Entry, robots: HostRobots) -> None:
        if robots.status is RobotsStatus.UNREACHABLE:
            self._skip(entry, SkipReason.ROBOTS_UNREACHABLE, error=robots.reason)
        else:
            self._skip(entry, SkipReason.ROBOTS)

    def _skip(
        self,
        entry: Entry,
        reason: SkipReason,
        *,
        rule: TrapRule | FilterRule | None = None,
        error: RecordError | None = None,
    ) -> None:
        skip = Skip(entry.url, entry.key, entry.depth, entry.parent, reason, rule)
        self.stats.skipped[reason] += 1
        if isinstance(rule, TrapRule):
            self.stats.traps[rule] += 1
        elif isinstance(rule, FilterRule):
            self.stats.filtered[rule] += 1
        self._changes.skipped.append(skip)
        if entry.depth == 0 and entry.parent is None:  # every seed gets a record
            self._record(unfetched_record(entry, error or _skip_error(skip)))

    def _robots_of(self, host: str) -> HostRobots:
        robots = self._robots.get(host)
        if robots is None:
            robots = self._robots[host] = HostRobots(host, self.config.robots_token)
            if not self.config.obey_robots:
                robots.allow_all()
        return robots


def _skip_error(skip: Skip) -> RecordError:
    if isinstance(skip.rule, TrapRule):
        return skip.reason, f"refused by the {skip.rule.value} trap guard"
    if skip.reason is SkipReason.ROBOTS:
        return skip.reason, "disallowed by robots.txt"
    return skip.reason, "robots.txt could not be fetched"
