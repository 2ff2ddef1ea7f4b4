"""One contract for every Frontier: the in-memory one and the one in Redis behave alike.

The Redis frontier runs on a real redis-server with its scripts timed by the caller's clock
(``caller_clock``), so both backends see the same fake times and every assertion is exact.
A hypothesis state machine then drives each backend with random operations and checks the
rules of the frontier after every step.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from spindle.crawl.core import Entry, MisuseError, TrapLimits, TrapRule, Wait
from spindle.crawl.core.frontier import Admission, Frontier, Lease, MemoryFrontier, Offer
from spindle.crawl.shared.frontier import RedisFrontier
from spindle.crawl.shared.join import open_crawl
from spindle.crawl.shared.keys import CrawlKeys
from spindle.crawl.shared.link import RedisLink
from tests.support.redis_server import REDIS_SERVER, RedisServer

Make = Callable[..., Frontier]
_crawls = itertools.count()


@pytest.fixture(scope="module")
def shared_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed (apt-get install -y redis-server)")
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


def redis_maker(server: RedisServer) -> Make:
    link = RedisLink(server.url)

    def make(
        traps: TrapLimits | None = None,
        *,
        interval: float = 1.0,
        concurrency: int = 1,
        worker: str = "w1",
        crawl: str | None = None,
    ) -> RedisFrontier:
        keys = CrawlKeys(crawl or f"c{next(_crawls)}")
        open_crawl(link, keys, {"test": keys.crawl}, interval=interval, concurrency=concurrency)
        return RedisFrontier(
            link, keys, worker, traps=traps or TrapLimits(), lease=30.0, caller_clock=True
        )

    return make


def memory_maker(
    traps: TrapLimits | None = None, *, interval: float = 1.0, concurrency: int = 1, **_: object
) -> MemoryFrontier:
    return MemoryFrontier(traps or TrapLimits(), interval=interval, concurrency=concurrency)


@pytest.fixture(params=["memory", "redis"])
def make(request: pytest.FixtureRequest) -> Make:
    if request.param == "memory":
        return memory_maker
    return redis_maker(request.getfixturevalue("shared_redis"))


def entry(path: str, depth: int = 1, host: str = "a.test", attempt: int = 1) -> Entry:
    url = f"http://{host}{path}"
    return Entry(url, url, depth, None if depth == 0 else f"http://{host}/", attempt)


def add(frontier: Frontier, *entries: Entry, now: float = 0.0) -> None:
    verdicts = frontier.offer([Offer(e) for e in entries], now)
    assert verdicts == [Admission.NEW] * len(entries)


def lease_of(result: Lease | Wait | None) -> Lease:
    assert isinstance(result, Lease), result
    return result


def test_admits_once_and_paces_a_host(make: Make) -> None:
    frontier = make(interval=1.0)
    seed = entry("/", depth=0)
    assert frontier.admit(seed) is Admission.NEW
    assert frontier.admit(seed) is Admission.SEEN
    frontier.push(seed, now=0.0)
    lease = lease_of(frontier.take(now=0.0))
    assert (lease.host, lease.entry) == ("http://a.test", seed)
    assert frontier.in_flight == 1
    frontier.finish(lease.host, now=0.5)
    frontier.push(seed, now=0.5)
    assert frontier.take(now=0.5) == Wait(1.0)
    assert frontier.take(now=1.0) == Lease("http://a.test", seed)


def test_shallowest_first_then_fifo(make: Make) -> None:
    frontier = make(interval=0.0)
    deep, first, second = entry("/d", depth=2), entry("/1"), entry("/2")
    add(frontier, deep, first, second)
    assert frontier.queued == 3
    taken = []
    for _ in range(3):
        lease = lease_of(frontier.take(now=0.0))
        taken.append(lease.entry)
        frontier.finish(lease.host, now=0.0)
    assert taken == [first, second, deep]
    assert frontier.take(now=0.0) is None
    assert frontier.queued == 0


def test_connection_cap_and_finish(make: Make) -> None:
    frontier = make(interval=0.0, concurrency=2)
    add(frontier, *(entry(f"/{i}") for i in range(3)))
    one, two = lease_of(frontier.take(0.0)), lease_of(frontier.take(0.0))
    assert frontier.take(0.0) is None  # both slots in use, by this process
    frontier.finish(one.host, 0.1)
    assert lease_of(frontier.take(0.1)).entry == entry("/2")
    assert two.host == one.host


def test_due_retry_goes_first_and_waits_for_its_time(make: Make) -> None:
    frontier = make(interval=0.0)
    add(frontier, entry("/new"))
    frontier.push_retry(entry("/again", attempt=2), not_before=2.0, now=0.0)
    assert frontier.queued == 2
    lease = lease_of(frontier.take(0.0))
    assert lease.entry == entry("/new")
    frontier.finish(lease.host, 0.0)
    assert frontier.take(0.5) == Wait(2.0)
    assert lease_of(frontier.take(2.0)).entry == entry("/again", attempt=2)


def test_putback_returns_to_the_front_and_release_undoes_spacing(make: Make) -> None:
    frontier = make(interval=1.0)
    add(frontier, entry("/a"), entry("/b"))
    lease = lease_of(frontier.take(0.0))
    frontier.putback(lease.host, lease.entry, 0.0)
    frontier.release(lease.host, 0.0)
    again = lease_of(frontier.take(0.0))  # at once: the released slot left no spacing behind
    assert again.entry == entry("/a")
    frontier.finish(again.host, 0.5)
    assert frontier.take(0.5) == Wait(1.0)  # a finished fetch does


def test_take_more_uses_the_same_slot(make: Make) -> None:
    frontier = make(interval=5.0)
    add(frontier, entry("/a"), entry("/b"))
    lease = lease_of(frontier.take(0.0))
    frontier.settle(lease.entry.key)
    assert frontier.take_more(lease.host, 0.0) == entry("/b")
    assert frontier.take_more(lease.host, 0.0) is None
    assert frontier.in_flight == 1


def test_block_pause_and_interval(make: Make) -> None:
    frontier = make(interval=0.5)
    add(frontier, entry("/a"), entry("/b"), entry("/c"))
    host = "http://a.test"
    frontier.block(host, math.inf, 0.0)
    assert frontier.take(0.0) is None
    frontier.block(host, 3.0, 0.0)
    assert frontier.take(0.0) == Wait(3.0)
    frontier.block(host, -math.inf, 0.0)
    frontier.pause(host, 2.0, 0.0)
    frontier.pause(host, 1.0, 0.0)  # a longer pause already set wins
    assert frontier.take(0.0) == Wait(2.0)
    lease = lease_of(frontier.take(2.0))
    frontier.finish(lease.host, 2.0)
    frontier.set_interval(host, 2.0, 2.0)  # from 0.5: the next start moves by 1.5
    frontier.set_interval(host, 1.0, 2.0)  # never faster
    # A Wait may come early (the in-memory heap is revised lazily); a lease never does.
    for now in (2.0, 2.5, 3.875):
        assert isinstance(frontier.take(now), Wait)
    assert isinstance(frontier.take(4.0), Lease)


def test_drain_returns_retries_then_queue(make: Make) -> None:
    frontier = make(interval=0.0)
    add(frontier, entry("/a"), entry("/b", depth=2))
    frontier.push_retry(entry("/r", attempt=3), not_before=9.0, now=0.0)
    lease = lease_of(frontier.take(0.0))
    drained = frontier.drain(lease.host, 0.0)
    assert drained == [entry("/r", attempt=3), entry("/b", depth=2)]
    assert frontier.queued == 0
    for e in drained:
        frontier.settle(e.key)
    frontier.finish(lease.host, 0.0)
    assert frontier.take(0.0) is None


def test_budget(make: Make) -> None:
    frontier = make()
    assert not frontier.spent(2)
    assert frontier.charge(2)
    assert frontier.charge(2)
    assert not frontier.charge(2)
    assert frontier.spent(2)
    assert frontier.charge(None)
    assert not frontier.spent(None)


def test_retries_only_offers_retries_alone(make: Make) -> None:
    frontier = make(interval=0.0)
    add(frontier, entry("/new"))
    frontier.push_retry(entry("/again", attempt=2), not_before=0.0, now=0.0)
    frontier.push_retry(entry("/later", attempt=2, host="b.test"), not_before=0.0, now=0.0)
    got = []
    for _ in range(2):
        lease = lease_of(frontier.take(0.0, retries_only=True))
        got.append(lease.entry.url)
        frontier.finish(lease.host, 0.0)
    assert sorted(got) == ["http://a.test/again", "http://b.test/later"]
    assert frontier.take(0.0, retries_only=True) is None
    with pytest.raises(MisuseError):
        frontier.take(0.0)


def test_trap_guards_and_marks(make: Make) -> None:
    frontier = make(TrapLimits(max_query_variants=1, max_pages_per_host=3, max_path_depth=3))
    offers = [
        Offer(entry("/cal?m=1")),
        Offer(entry("/cal?m=2")),
        Offer(entry("/a/b/c/d")),
        Offer(entry("/x")),
        Offer(entry("/y")),
        Offer(entry("/z")),
        Offer(entry("/outside"), judge=False),
        Offer(entry("/x"), judge=False),
    ]
    assert frontier.offer(offers, 0.0) == [
        Admission.NEW,
        TrapRule.QUERY_VARIANTS,
        TrapRule.PATH_TOO_DEEP,
        Admission.NEW,
        Admission.NEW,
        TrapRule.HOST_PAGE_CAP,
        Admission.NEW,
        Admission.SEEN,
    ]
    assert frontier.queued == 3
    assert frontier.seen == 8 - 1
    assert frontier.mark_seen(entry("/outside").key) is False
    assert frontier.mark_seen(entry("/new").key) is True


def test_judged_but_not_queued(make: Make) -> None:
    frontier = make()
    refused = entry("/private")
    assert frontier.offer([Offer(refused, queue=False)], 0.0) == [Admission.NEW]
    assert frontier.queued == 0
    assert frontier.take(0.0) is None


def test_misuse_fails_loudly(make: Make) -> None:
    frontier = make()
    with pytest.raises(MisuseError):
        frontier.finish("http://nowhere.test", 0.0)
    with pytest.raises(MisuseError):
        frontier.take_more("http://nowhere.test", 0.0)


# -- the state machine ---------------------------------------------------------------------

HOSTS = ("a.test", "b.test")


class FrontierRules(RuleBasedStateMachine):
    """Random pushes, takes, finishes, putbacks, retries, pauses and blocks; the frontier's
    rules checked after each. Times are multiples of 1/8 s, exact in binary."""

    def __init__(self, frontier: Frontier, concurrency: int, interval: float) -> None:
        super().__init__()
        self.frontier = frontier
        self.concurrency = concurrency
        self.interval = interval
        self.now = 0.0
        self.counter = itertools.count()
        self.queued: dict[str, list[Entry]] = {h: [] for h in HOSTS}
        self.leases: list[Lease] = []
        self.starts: dict[str, list[float]] = {f"http://{h}": [] for h in HOSTS}
        self.blocked: set[str] = set()
        self.paused_until: dict[str, float] = {}

    @rule(host=st.sampled_from(HOSTS), depth=st.integers(0, 2))
    def push(self, host: str, depth: int) -> None:
        new = entry(f"/{next(self.counter)}", depth=depth, host=host)
        add(self.frontier, new, now=self.now)
        self.queued[host].append(new)

    @rule(step=st.sampled_from([0.125, 0.25, 1.0]))
    def tick(self, step: float) -> None:
        self.now += step

    @rule()
    def take(self) -> None:
        result = self.frontier.take(self.now)
        if isinstance(result, Lease):
            host = result.host
            name = host.partition("://")[2]
            assert host not in self.blocked
            assert self.paused_until.get(host, -1.0) <= self.now
            waiting = self.queued[name]
            assert result.entry in waiting
            assert result.entry.depth == min(e.depth for e in waiting)  # shallowest first
            same_depth = [e for e in waiting if e.depth == result.entry.depth]
            assert result.entry == same_depth[0]  # FIFO within a depth
            starts = self.starts[host]
            assert not starts or self.now - starts[-1] >= self.interval
            starts.append(self.now)
            waiting.remove(result.entry)
            self.leases.append(result)
            assert sum(lease.host == host for lease in self.leases) <= self.concurrency
        elif isinstance(result, Wait):
            assert result.until > self.now
        else:
            for name, waiting in self.queued.items():
                host = f"http://{name}"
                busy = sum(lease.host == host for lease in self.leases)
                assert not waiting or busy >= self.concurrency or host in self.blocked

    @precondition(lambda self: self.leases)
    @rule(index=st.integers(0, 10), putback=st.booleans())
    def end(self, index: int, putback: bool) -> None:
        lease = self.leases.pop(index % len(self.leases))
        if putback:
            self.frontier.putback(lease.host, lease.entry, self.now)
            self.frontier.release(lease.host, self.now)
            self.queued[lease.host.partition("://")[2]].insert(0, lease.entry)
            self.starts[lease.host].pop()
        else:
            self.frontier.finish(lease.host, self.now)
            assert self.frontier.complete(lease.entry.key)

    @rule(host=st.sampled_from(HOSTS), blocked=st.booleans())
    def block(self, host: str, blocked: bool) -> None:
        key = f"http://{host}"
        if key not in self.starts or (not self.queued[host] and not self.starts[key]):
            return
        self.frontier.block(key, math.inf if blocked else -math.inf, self.now)
        (self.blocked.add if blocked else self.blocked.discard)(key)

    @rule(host=st.sampled_from(HOSTS), length=st.sampled_from([0.25, 2.0]))
    def pause(self, host: str, length: float) -> None:
        key = f"http://{host}"
        if not self.queued[host] and not self.starts[key]:
            return  # no queue yet: the in-memory frontier does not know the host
        self.frontier.pause(key, self.now + length, self.now)
        self.paused_until[key] = max(self.paused_until.get(key, -1.0), self.now + length)

    @invariant()
    def counts(self) -> None:
        assert self.frontier.queued == sum(len(q) for q in self.queued.values())
        assert self.frontier.in_flight == len(self.leases)


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_frontier_rules_hold_under_random_operations(
    backend: str, request: pytest.FixtureRequest
) -> None:
    maker: Make = (
        memory_maker
        if backend == "memory"
        else redis_maker(request.getfixturevalue("shared_redis"))
    )

    class Machine(FrontierRules):
        def __init__(self) -> None:
            super().__init__(maker(interval=0.5, concurrency=2), 2, 0.5)

    run_state_machine_as_test(
        Machine, settings=settings(max_examples=40, stateful_step_count=30, deadline=None)
    )


def test_redis_fixture_starts_in_a_temp_dir(shared_redis: RedisServer, tmp_path: Path) -> None:
    assert shared_redis.client().config_get("bind")["bind"] == "127.0.0.1"
    assert shared_redis.client().config_get("appendfsync")["appendfsync"] == "always"
