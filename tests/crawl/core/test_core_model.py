"""The scheduler against a simple model, driven by hypothesis in any order of events.

The model: a tiny web of two hosts whose URLs answer from scripts (pages with links,
redirects, 429/503, retryable and final failures, robots.txt in several states). The machine
hands out fetches, completes in-flight ones in any order, lets time pass, and misuses the
scheduler on purpose. It checks, at every step, that in-flight counts match and never go
negative, that no host ever has more fetches in flight than allowed nor starts two fetches
closer than its interval; and at the end, that every admitted URL ended exactly once:
fetched, failed or skipped.
"""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter, defaultdict

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from spindle.crawl.core import (
    DONE,
    IDLE,
    CrawlConfig,
    CrawlScheduler,
    ErrorKind,
    Failure,
    Fetch,
    FetchKind,
    MisuseError,
    Outcome,
    Response,
    Wait,
)
from spindle.crawl.core.urls import host_key

HOSTS = ("http://a.test", "http://b.test")
PATHS = ("/", "/p", "/q", "/r", "/s?x=1&y=2", "/s?y=2&x=1", "/t")
STAMP = 1_700_000_000.0


def _page(*paths: str) -> Response:
    body = "".join(f'<a href="{p}">x</a>' for p in paths).encode()
    return Response(200, (("Content-Type", "text/html"),), body, 0.0, STAMP)


def _status(code: int, **headers: str) -> Response:
    return Response(code, tuple(headers.items()), b"", 0.0, STAMP)


_answers = st.one_of(
    st.lists(st.sampled_from(PATHS + tuple(h + "/p" for h in HOSTS)), max_size=4).map(
        lambda links: _page(*links)
    ),
    st.sampled_from(
        [
            _status(404),
            _status(503),
            _status(429, **{"Retry-After": "1"}),
            _status(301, Location="/q"),
            _status(302, Location="http://b.test/"),
            Failure(ErrorKind.TIMEOUT, "timed out", 0.0, STAMP),
            Failure(ErrorKind.DNS, "no such host", 0.0, STAMP),
        ]
    ),
)
_robots = st.sampled_from(
    [
        _status(404),
        Response(200, (), b"User-agent: *\nDisallow: /q\nCrawl-delay: 0.5\n", 0.0, STAMP),
        _status(503),
        Failure(ErrorKind.CONNECTION, "refused", 0.0, STAMP),
    ]
)
_scripts = st.lists(_answers, min_size=1, max_size=3)


class CoreMachine(RuleBasedStateMachine):
    @initialize(
        site=st.fixed_dictionaries(
            {f"{h}{p}": _scripts for h in HOSTS for p in PATHS}
            | {f"{h}/robots.txt": st.lists(_robots, min_size=1, max_size=3) for h in HOSTS}
        ),
        rate=st.sampled_from([0.0, 2.0]),
        concurrency=st.integers(1, 2),
        retries=st.integers(0, 2),
        obey_robots=st.booleans(),
    )
    def start(
        self,
        site: dict[str, list[Outcome]],
        rate: float,
        concurrency: int,
        retries: int,
        obey_robots: bool,
    ) -> None:
        self.site = site
        self.config = CrawlConfig(
            seeds=(f"{HOSTS[0]}/",),
            max_depth=3,
            rate=rate,
            host_concurrency=concurrency,
            retries=retries,
            obey_robots=obey_robots,
            backoff_base=0.1,
            backoff_cap=1.0,
            max_crawl_delay=0.5,
        )
        base = 1 / rate if rate else 0.0
        self.interval: defaultdict[str, float] = defaultdict(lambda: base)
        self.sched = CrawlScheduler(self.config, rng=random.Random(0))
        self.sched.start(0.0)
        self.now = 0.0
        self.in_flight: dict[int, Fetch] = {}
        self.observed: list[Fetch] = []
        self.served: Counter[str] = Counter()
        self.per_host: Counter[str] = Counter()
        self.starts: defaultdict[str, list[tuple[float, float]]] = defaultdict(list)
        self.records: list[tuple[str, int]] = []
        self.skipped: list[str] = []
        self.discovered: list[str] = [self.config.seeds[0]]
        self.done = False

    def _host(self, fetch: Fetch) -> str:
        """The host whose slot the fetch uses: a robots.txt redirect stays on its first host's
        slot (even to another host); a page redirect's target is a URL of its own host."""
        robots_hop = fetch.kind is FetchKind.ROBOTS and fetch.redirect_chain
        return host_key(fetch.redirect_chain[0] if robots_hop else fetch.url)

    @rule()
    def take(self) -> None:
        self._register(self.sched.next_action(self.now))

    def _register(self, action: object) -> None:
        if isinstance(action, Fetch):
            assert action.id not in self.in_flight
            host = self._host(action)
            self.in_flight[action.id] = action
            self.per_host[host] += 1
            assert self.per_host[host] <= self.config.host_concurrency
            self.starts[host].append((self.now, self.interval[host]))
        elif isinstance(action, Wait):
            assert action.until > self.now
        elif action is DONE:
            assert not self.in_flight
            self.done = True
        else:
            assert action is IDLE

    @rule(dt=st.sampled_from([0.05, 0.3, 1.0, 5.0]))
    def advance(self, dt: float) -> None:
        self.now += dt

    @precondition(lambda self: self.in_flight)
    @rule(data=st.data())
    def complete(self, data: st.DataObject) -> None:
        self._complete(data.draw(st.sampled_from(sorted(self.in_flight))))

    def _complete(self, fetch_id: int) -> None:
        fetch = self.in_flight.pop(fetch_id)
        host = self._host(fetch)
        self.per_host[host] -= 1
        script = self.site.get(fetch.url, [_status(404)])
        outcome = script[min(self.served[fetch.url], len(script) - 1)]
        self.served[fetch.url] += 1
        self.sched.observe(self.sched.prepare(fetch, outcome), self.now)
        self.observed.append(fetch)
        delayed = isinstance(outcome, Response) and b"Crawl-delay: 0.5" in outcome.body
        if fetch.kind is FetchKind.ROBOTS and delayed and outcome.status == 200:
            self.interval[host] = max(self.interval[host], 0.5)

    @precondition(lambda self: self.observed)
    @rule(data=st.data())
    def observing_twice_is_misuse(self, data: st.DataObject) -> None:
        fetch = data.draw(st.sampled_from(self.observed))
        with pytest.raises(MisuseError):
            self.sched.observe(self.sched.prepare(fetch, _status(200)), self.now)

    @rule()
    def time_running_backwards_is_misuse(self) -> None:
        with pytest.raises(MisuseError):
            self.sched.next_action(-1.0)  # the crawl started at 0.0

    @rule()
    def drain(self) -> None:
        changes = self.sched.drain()
        self.discovered += [entry.key for entry in changes.discovered]
        self.records += [(record.key, record.attempts) for record in changes.records]
        self.skipped += [skip.key for skip in changes.skipped]

    @invariant()
    def in_flight_matches_and_is_never_negative(self) -> None:
        assert self.sched.in_flight == len(self.in_flight) >= 0
        assert all(count >= 0 for count in self.per_host.values())

    @invariant()
    def hosts_are_paced(self) -> None:
        """Starts of one host are at least the interval in force apart (the rate, raised by a
        Crawl-delay once robots.txt said so)."""
        for starts in self.starts.values():
            for (earlier, _), (later, interval) in itertools.pairwise(starts):
                assert later - earlier >= interval - 1e-9

    def teardown(self) -> None:
        if not hasattr(self, "sched"):
            return
        for _ in range(5000):  # finish the crawl: in-flight fetches complete, time passes
            while self.in_flight:
                self._complete(min(self.in_flight))
            action = self.sched.next_action(self.now)
            self._register(action)
            if isinstance(action, Wait):
                self.now = action.until
            if self.done:
                break
        assert self.done, "the crawl did not finish"
        self.drain()
        finished = Counter(key for key, attempts in self.records if attempts > 0)
        finished.update(self.skipped)
        admitted = set(self.discovered)
        assert set(finished) >= admitted
        assert all(finished[key] == 1 for key in admitted), finished
        assert math.isfinite(self.now)
        self.hosts_are_paced()


CoreMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=60, deadline=None)
test_core_against_the_model = CoreMachine.TestCase
