"""The scheduler's policy, driven by a fake clock and a scripted site (no I/O)."""

from __future__ import annotations

import itertools

import pytest

from spindle.crawl.core import (
    DONE,
    IDLE,
    CrawlConfig,
    CrawlScheduler,
    Entry,
    ErrorKind,
    Fetch,
    FetchKind,
    Resumed,
    SkipReason,
    TrapLimits,
    TrapRule,
    Wait,
)
from tests.crawl.core.harness import Harness, failure, page, robots, status

A = "http://a.test"


def config(**kwargs: object) -> CrawlConfig:
    defaults: dict[str, object] = {"seeds": (f"{A}/",), "rate": 0.0, "host_concurrency": 4}
    defaults.update(kwargs)
    return CrawlConfig(**defaults)  # type: ignore[arg-type]


def tree_site() -> dict[str, list]:  # type: ignore[type-arg]
    return {
        f"{A}/robots.txt": [robots("User-agent: *\nDisallow: /private\n")],
        f"{A}/": [page("/a", "/b", "/private/x", "http://other.test/")],
        f"{A}/a": [page("/a1", "/b")],
        f"{A}/b": [page("/b1")],
        f"{A}/a1": [page("/a2")],
        f"{A}/b1": [page()],
        f"{A}/a2": [page()],
    }


@pytest.mark.parametrize(
    ("depth", "expected"),
    [
        (0, [f"{A}/"]),
        (1, [f"{A}/", f"{A}/a", f"{A}/b"]),
        (2, [f"{A}/", f"{A}/a", f"{A}/b", f"{A}/a1", f"{A}/b1"]),
        (3, [f"{A}/", f"{A}/a", f"{A}/b", f"{A}/a1", f"{A}/b1", f"{A}/a2"]),
    ],
)
def test_depth_boundaries_breadth_first(depth: int, expected: list[str]) -> None:
    h = Harness(config(max_depth=depth, host_concurrency=1), tree_site()).run()
    assert h.fetched() == [f"{A}/robots.txt", *expected]
    assert [r.url for r in h.records] == expected
    assert {r.url: r.depth for r in h.records}[f"{A}/"] == 0


def test_robots_decision_comes_before_any_page_and_disallowed_urls_are_skipped() -> None:
    sched = CrawlScheduler(config())
    sched.start(0.0)
    first = sched.next_action(0.0)
    assert isinstance(first, Fetch)
    assert (first.kind, first.url, first.id) == (FetchKind.ROBOTS, f"{A}/robots.txt", 1)
    assert sched.next_action(0.0) is IDLE  # the seed waits: robots.txt is pending
    h = Harness(config(max_depth=5), tree_site()).run()
    assert f"{A}/private/x" not in h.fetched()
    assert [(s.url, s.reason) for s in h.skipped] == [(f"{A}/private/x", SkipReason.ROBOTS)]
    assert h.scheduler.stats.skipped == {SkipReason.ROBOTS: 1}


def test_robots_4xx_allows_all_and_5xx_disallows_until_retry() -> None:
    site = tree_site()
    site[f"{A}/robots.txt"] = [status(404)]
    h = Harness(config(max_depth=1), site).run()
    assert h.fetched()[0] == f"{A}/robots.txt"
    assert f"{A}/a" in h.fetched()

    site[f"{A}/robots.txt"] = [status(503), status(500), robots("User-agent: *\nAllow: /\n")]
    h = Harness(config(max_depth=0), site).run()
    robots_times = h.times(f"{A}/robots.txt")
    assert len(robots_times) == 3
    page_times = [t for t, f in h.log if f.kind is FetchKind.PAGE]
    assert len(page_times) == 1
    assert page_times[0] >= robots_times[-1] + h.latency


def test_robots_unreachable_after_retries_skips_the_host() -> None:
    site = tree_site()
    site[f"{A}/robots.txt"] = [failure(ErrorKind.CONNECTION)]
    h = Harness(config(retries=2), site).run()
    assert h.fetched() == [f"{A}/robots.txt"] * 3
    assert [(s.url, s.reason) for s in h.skipped] == [(f"{A}/", SkipReason.ROBOTS_UNREACHABLE)]
    (seed,) = h.records  # every seed gets a record, fetched or not
    assert (seed.url, seed.status, seed.attempts, seed.fetched_at) == (f"{A}/", None, 0, None)
    assert seed.error == (ErrorKind.CONNECTION, f"{A}/robots.txt: connection failed")


@pytest.mark.parametrize(
    ("rate", "crawl_delay", "interval"),
    [(2.0, None, 0.5), (10.0, 2.0, 2.0), (0.25, 1.0, 4.0), (0.0, 1.5, 1.5)],
)
def test_rate_and_crawl_delay_space_requests(
    rate: float, crawl_delay: float | None, interval: float
) -> None:
    text = "User-agent: *\nAllow: /\n" + (f"Crawl-delay: {crawl_delay}\n" if crawl_delay else "")
    site = {f"{A}/robots.txt": [robots(text)], f"{A}/": [page(*[f"/{i}" for i in range(6)])]}
    h = Harness(config(rate=rate, max_depth=1), site).run()
    pages = [t for t, f in h.log if f.kind is FetchKind.PAGE]
    assert len(pages) == 7
    gaps = [b - a for a, b in itertools.pairwise(pages)]
    assert min(gaps) >= interval - 1e-9
    assert max(gaps[1:]) == pytest.approx(interval)


def test_host_concurrency_is_never_exceeded() -> None:
    site = {f"{A}/": [page(*[f"/{i}" for i in range(20)])]}
    h = Harness(config(obey_robots=False, host_concurrency=3), site)
    h.run()
    assert h.max_in_flight_per_host["a.test"] == 3
    assert len(h.records) == 21


def test_429_retry_after_pauses_the_whole_host() -> None:
    site = {
        f"{A}/": [page("/x", "/y")],
        f"{A}/x": [status(429, retry_after="5"), page()],
        f"{A}/y": [page()],
    }
    h = Harness(config(obey_robots=False, host_concurrency=1), site).run()
    times = {url: [t for t, f in h.log if f.url == url] for url in (f"{A}/x", f"{A}/y")}
    first_429_answered = times[f"{A}/x"][0] + h.latency
    assert times[f"{A}/y"][0] >= first_429_answered + 5.0
    assert times[f"{A}/x"][1] >= first_429_answered + 5.0
    assert h.record(f"{A}/x").attempts == 2
    assert h.record(f"{A}/x").status == 200


def test_retry_after_is_capped() -> None:
    site = {f"{A}/": [status(503, retry_after="86400"), page()]}
    h = Harness(config(obey_robots=False, retry_after_cap=7.0), site).run()
    first, second = h.times(f"{A}/")
    assert second - (first + h.latency) == pytest.approx(7.0)


def test_503_then_success_and_exhausted_retries() -> None:
    site = {
        f"{A}/": [page("/flaky", "/down", "/gone")],
        f"{A}/flaky": [status(503), page()],
        f"{A}/down": [status(502)],
        f"{A}/gone": [failure(ErrorKind.TIMEOUT)],
    }
    h = Harness(config(obey_robots=False, retries=2), site).run()
    assert h.record(f"{A}/flaky").attempts == 2
    assert h.record(f"{A}/flaky").error is None
    down = h.record(f"{A}/down")
    assert (down.status, down.attempts, down.error) == (
        502,
        3,
        (ErrorKind.HTTP_STATUS, "HTTP 502 after 3 attempts"),
    )
    gone = h.record(f"{A}/gone")
    assert (gone.status, gone.attempts) == (None, 3)
    assert gone.error == (ErrorKind.TIMEOUT, "timeout failed")
    assert h.fetched().count(f"{A}/down") == 3
    assert h.scheduler.stats.retries == 5


def test_non_retryable_failure_is_final_at_once() -> None:
    site = {f"{A}/": [failure(ErrorKind.DECOMPRESSION_BOMB)]}
    h = Harness(config(obey_robots=False), site).run()
    assert h.fetched() == [f"{A}/"]
    assert h.record(f"{A}/").error == (
        ErrorKind.DECOMPRESSION_BOMB,
        "decompression_bomb failed",
    )


def test_redirects_are_followed_at_the_same_depth_and_deduplicated() -> None:
    site = {
        f"{A}/": [page("/old", "/new")],
        f"{A}/old": [status(301, location="/new#frag")],
        f"{A}/new": [page()],
    }
    h = Harness(config(obey_robots=False, max_depth=1, host_concurrency=1), site).run()
    assert h.fetched() == [f"{A}/", f"{A}/old", f"{A}/new"]
    old = h.record(f"{A}/old")
    assert (old.status, old.final_url) == (301, f"{A}/new")


def test_redirect_loop_and_long_chains_are_stopped() -> None:
    site = {
        f"{A}/": [page("/loop1", "/r0")],
        f"{A}/loop1": [status(302, location="/loop2")],
        f"{A}/loop2": [status(302, location="/loop1")],
        **{f"{A}/r{i}": [status(302, location=f"/r{i + 1}")] for i in range(20)},
    }
    h = Harness(config(obey_robots=False, max_depth=1, max_redirects=3), site).run()
    assert h.fetched().count(f"{A}/loop1") == 1
    assert h.fetched().count(f"{A}/loop2") == 1
    assert h.record(f"{A}/loop2").error == (
        ErrorKind.REDIRECT_LOOP,
        f"{A}/loop1 -> {A}/loop2 -> {A}/loop1",
    )
    assert [u for u in h.fetched() if "/r" in u] == [f"{A}/r{i}" for i in range(4)]
    assert h.record(f"{A}/r3").error == (ErrorKind.TOO_MANY_REDIRECTS, "more than 3 redirects")


def test_max_pages_stops_handing_out_fetches() -> None:
    site = {f"{A}/": [page(*[f"/{i}" for i in range(50)])]}
    h = Harness(config(obey_robots=False, max_pages=10), site).run()
    assert len(h.records) == 10
    assert h.scheduler.queued == 41


def test_stop_finishes_in_flight_then_done() -> None:
    sched = CrawlScheduler(config(obey_robots=False))
    sched.start(0.0)
    fetch = sched.next_action(0.0)
    assert isinstance(fetch, Fetch)
    sched.stop()
    assert sched.next_action(0.0) is IDLE
    sched.observe(sched.prepare(fetch, page("/a")), 0.1)
    assert sched.next_action(0.1) is DONE
    assert sched.queued == 1


def test_wait_is_returned_until_the_host_may_fetch_again() -> None:
    sched = CrawlScheduler(config(obey_robots=False, rate=1.0))
    sched.start(0.0)
    fetch = sched.next_action(0.0)
    assert isinstance(fetch, Fetch)
    sched.observe(sched.prepare(fetch, page("/a")), 0.2)
    assert sched.next_action(0.2) == Wait(1.0)
    assert isinstance(sched.next_action(1.0), Fetch)


def test_trap_refusals_are_counted_by_rule() -> None:
    site = {
        f"{A}/": [page("/cal?m=0", "/deep/" + "x/" * 40, "/" + "l" * 3000, "/cal/")],
        **{f"{A}/cal?m={i}": [page(f"/cal?m={i + 1}")] for i in range(100)},
        f"{A}/cal/": [page("loop/")],
        f"{A}/cal/loop/": [page("loop/")],
        f"{A}/cal/loop/loop/": [page("loop/")],
    }
    traps = TrapLimits(max_query_variants=10)
    h = Harness(config(obey_robots=False, max_depth=200, traps=traps), site).run()
    assert dict(h.scheduler.stats.traps) == {
        TrapRule.QUERY_VARIANTS: 1,
        TrapRule.PATH_TOO_DEEP: 1,
        TrapRule.URL_TOO_LONG: 1,
        TrapRule.REPEATED_PATH: 1,
    }
    assert {s.rule for s in h.skipped} == set(TrapRule) - {TrapRule.HOST_PAGE_CAP}
    assert [u for u in h.fetched() if "/cal?m=" in u] == [f"{A}/cal?m={i}" for i in range(10)]
    assert f"{A}/cal/loop/loop/" in h.fetched()


def test_resume_continues_from_queued_entries() -> None:
    sched = CrawlScheduler(config(obey_robots=False))
    state = Resumed(
        queued=[Entry(f"{A}/b", f"{A}/b", 1, f"{A}/", attempt=2)],
        admitted=[(f"{A}/", f"{A}/"), (f"{A}/b", f"{A}/b")],
        refused=[],
        pages_done=1,
        fetched=1,
    )
    sched.resume(state, now=0.0)
    fetch = sched.next_action(0.0)
    assert isinstance(fetch, Fetch)
    assert (fetch.url, fetch.depth, fetch.parent, fetch.attempt) == (f"{A}/b", 1, f"{A}/", 2)
    sched.observe(sched.prepare(fetch, page("/", "/c")), 0.1)
    nxt = sched.next_action(0.1)
    assert isinstance(nxt, Fetch)
    assert nxt.url == f"{A}/c"
