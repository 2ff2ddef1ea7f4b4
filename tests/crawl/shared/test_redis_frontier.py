"""What only a shared frontier does: several workers on one crawl, leases that outlive their
worker, claims, replayed calls, reconciliation, robots.txt decisions, and the command line.

Frontiers here are timed by the caller's clock (``caller_clock``), so a lease can run out
without waiting for it.
"""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from spindle.crawl.core import Entry, TrapLimits, Wait
from spindle.crawl.core.frontier import Lease, Offer
from spindle.crawl.core.values import ErrorKind, RobotsDecision
from spindle.crawl.shared.frontier import RedisFrontier
from spindle.crawl.shared.join import _reconcile, open_crawl
from spindle.crawl.shared.keys import CrawlKeys, digest, encode_entry
from spindle.crawl.shared.link import FrontierMismatch, RedisLink
from spindle.crawl.store.sqlite import SQLiteStore
from tests.support.redis_server import RedisServer

Workers = Callable[..., RedisFrontier]


@pytest.fixture
def workers(redis_server: RedisServer) -> Workers:
    """Frontiers of one crawl, one per worker name."""
    link = RedisLink(redis_server.url)
    keys = CrawlKeys("shared")
    open_crawl(link, keys, {"test": 1}, interval=1.0, concurrency=2)

    def make(name: str, *, lease: float = 10.0) -> RedisFrontier:
        return RedisFrontier(link, keys, name, traps=TrapLimits(), lease=lease, caller_clock=True)

    return make


def page(path: str, host: str = "a.test") -> Entry:
    return Entry(f"http://{host}{path}", f"http://{host}{path}", 1, f"http://{host}/")


def test_politeness_is_one_per_host_across_workers(workers: Workers) -> None:
    a, b = workers("a"), workers("b")
    a.offer([Offer(page(f"/{i}")) for i in range(4)], 0.0)
    first = a.take(0.0)
    assert isinstance(first, Lease)
    assert b.take(0.25) == Wait(1.0)  # the interval holds for the other worker too
    second = b.take(1.0)
    assert isinstance(second, Lease)
    assert a.take(2.0) == Wait(2.0 + 0.25)  # two in flight: the cap; poll for a finish
    b.finish(second.host, 2.0)  # held back until b's next call...
    assert a.take(2.0) == Wait(2.25)
    b.flush()  # ...which, in a crawl, comes at once (its record's claim)
    assert isinstance(a.take(2.0), Lease)


def test_a_dead_workers_leases_come_back_after_its_lease(workers: Workers) -> None:
    dead, alive = workers("dead", lease=5.0), workers("alive", lease=5.0)
    dead.offer([Offer(page("/only"))], 0.0)
    lease = dead.take(0.0)
    assert isinstance(lease, Lease)
    dead.block(lease.host, math.inf, 0.0)  # say it was fetching robots.txt when it died
    # The living worker calls at least every half lease, as its heartbeat would.
    assert alive.take(2.0) == Wait(2.25)  # the dead one's fetch may still queue more: poll
    assert alive.take(4.0) == Wait(4.25)
    again = alive.take(5.5)  # its lease ran out at 5.0
    assert isinstance(again, Lease)
    assert again.entry == lease.entry
    assert alive.complete(again.entry.key)
    assert not dead.complete(lease.entry.key)  # it comes back to life: its record is dropped


def test_claims_are_exclusive_and_idempotent(workers: Workers) -> None:
    a, b = workers("a"), workers("b")
    key = page("/x").key
    assert a.complete(key)
    assert a.complete(key)
    assert not b.complete(key)


def test_a_call_sent_again_is_answered_not_run_again(
    workers: Workers, redis_server: RedisServer
) -> None:
    a = workers("a")
    a.offer([Offer(page("/1")), Offer(page("/2", host="b.test"))], 0.0)
    keys = CrawlKeys("shared")
    script = redis_server.client().register_script(
        __import__("spindle.crawl.shared.lua", fromlist=["FRONTIER"]).FRONTIER
    )
    args = ["0.0", "a", "rid-1", "10.0", "take", "2", "0", "slot-1"]
    first = script(keys=[keys.meta], args=args)
    again = script(keys=[keys.meta], args=args)
    assert first == again
    assert orjson.loads(first)["q"] == 1  # one URL taken, not two


def test_rejoin_gives_back_what_a_killed_run_held(workers: Workers) -> None:
    before = workers("w")
    before.offer([Offer(page("/a"))], 0.0)
    assert isinstance(before.take(0.0), Lease)
    after = workers("w")  # the same worker, restarted
    after.rejoin()
    assert after.queued == 1
    lease = after.take(1.0)
    assert isinstance(lease, Lease)
    assert lease.entry == page("/a")


def test_reconciliation_requeues_what_the_state_lacks(workers: Workers, tmp_path: Path) -> None:
    w = workers("w")
    w.offer([Offer(page("/kept")), Offer(page("/lost"))], 0.0)
    for now in (0.0, 1.0):
        lease = w.take(now)
        assert isinstance(lease, Lease)
        w.finish(lease.host, now)
        assert w.complete(lease.entry.key)
    store = SQLiteStore(tmp_path / "state.db")
    store.open({"x": 1})
    store._db.execute(  # the record of /kept committed; the one of /lost never did
        "INSERT INTO records (seq, key, fetched, status, line) VALUES (0, ?, 1, 200, '{}')",
        (page("/kept").key,),
    )
    assert _reconcile(w, store) == 1
    assert w.claims() == {}
    lease = w.take(2.0)
    assert isinstance(lease, Lease)
    assert lease.entry == page("/lost")
    store.close()


def test_redis_away_gives_every_worker_its_time_back(workers: Workers) -> None:
    a, b = workers("a", lease=4.0), workers("b", lease=4.0)
    a.offer([Offer(page("/a"))], 0.0)
    assert isinstance(a.take(0.0), Lease)
    # Nobody reached Redis from 0 to 10 (it was down): a's lease is not taken from it.
    assert b.take(10.0) == Wait(10.25)
    assert b.take(11.5) == Wait(11.75)
    assert b.take(13.0) == Wait(13.25)
    assert isinstance(b.take(14.5), Lease)  # 0 + 4 + the 10 s gap: expired now


def test_robots_decisions_are_shared(workers: Workers) -> None:
    import time

    a, b = workers("a"), workers("b")
    decision = RobotsDecision(
        "http://a.test", False, None, (ErrorKind.TIMEOUT, "timed out"), time.time()
    )
    assert b.robots("http://a.test") is None
    a.share_robots(decision)
    assert b.robots("http://a.test") == decision
    stale = RobotsDecision("http://b.test", True, b"User-agent: *\n", None, time.time() - 90000)
    a.share_robots(stale)
    assert b.robots("http://b.test") is None  # older than a day (RFC 9309, 2.4)


def test_identity_must_match(redis_server: RedisServer) -> None:
    link = RedisLink(redis_server.url)
    keys = CrawlKeys("same")
    assert open_crawl(link, keys, {"depth": 1}, interval=1.0, concurrency=1)
    assert not open_crawl(link, keys, {"depth": 1}, interval=1.0, concurrency=1)
    with pytest.raises(FrontierMismatch, match="depth differ"):
        open_crawl(link, keys, {"depth": 2}, interval=1.0, concurrency=1)


def test_payloads_and_digests() -> None:
    entry = page("/x")
    assert orjson.loads(encode_entry(entry))[:3] == [entry.url, entry.key, 1]
    assert digest(entry.key) != digest(entry.key + "/")


def spindle(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "spindle", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--frontier", "redis://127.0.0.1:1/0"], "and --crawl-id go together"),
        (["--frontier", "http://x", "--crawl-id", "a"], "give memory, disk or a redis:// URL"),
        (["--frontier", "redis://127.0.0.1:1/0", "--crawl-id", "a b"], "cannot name a crawl"),
        (
            ["--frontier", "redis://127.0.0.1:1/0", "--crawl-id", "a", "--no-state"],
            "needs its state",
        ),
    ],
)
def test_usage_errors_are_one_line(args: list[str], message: str, tmp_path: Path) -> None:
    result = spindle("crawl", "http://127.0.0.1:9/", "--out", str(tmp_path / "o.jsonl"), *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_worker_with_other_settings_is_refused(redis_server: RedisServer, tmp_path: Path) -> None:
    common = ["--frontier", redis_server.url, "--crawl-id", "c", "--quiet", "--rate", "0"]
    common += ["--retries", "0"]
    first = spindle("crawl", "http://127.0.0.1:9/", "--out", str(tmp_path / "a.jsonl"), *common)
    assert first.returncode == 1  # nothing listens there; the crawl exists now
    other = spindle(
        "crawl", "http://127.0.0.1:9/", "--depth", "5",
        "--out", str(tmp_path / "b.jsonl"), *common,
    )  # fmt: skip
    assert other.returncode == 2
    assert "max_depth differ" in other.stderr
    status = spindle("frontier", "status", "--frontier", redis_server.url, "--crawl-id", "c")
    assert status.returncode == 0
    assert "finished" in status.stdout


def test_a_redis_without_append_only_file_is_named(redis_server: RedisServer) -> None:
    from spindle.crawl.shared.join import _warn_without_aof

    said: list[str] = []
    link = RedisLink(redis_server.url)
    _warn_without_aof(link, said.append)
    assert said == []
    redis_server.client().config_set("appendonly", "no")
    _warn_without_aof(link, said.append)
    assert len(said) == 1
    assert "keeps no append-only file" in said[0]
