"""The scheduler's policy, driven by a fake clock and a scripted site (no I/O)."""

from __future__ import annotations

import hashlib
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
    MisuseError,
    Observation,
    Resumed,
    ScopeRule,
    SkipReason,
    TrapLimits,
    TrapRule,
    Wait,
)
from spindle.crawl.core.frontier import Lease, MemoryFrontier
from spindle.crawl.core.values import RobotsDecision
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


def loaded(cfg: CrawlConfig, queued: list[Entry], seen: list[str]) -> MemoryFrontier:
    """A memory frontier given a resumed crawl's keys and queued URLs, as the runner does."""
    frontier = MemoryFrontier(cfg.traps, interval=cfg.interval, concurrency=cfg.host_concurrency)
    for key in seen:
        frontier.mark_seen(key)
    for entry in queued:
        frontier.push(entry, 0.0)
    return frontier


def test_resume_continues_from_queued_entries() -> None:
    cfg = config(obey_robots=False)
    queued = [Entry(f"{A}/b", f"{A}/b", 1, f"{A}/", attempt=2)]
    sched = CrawlScheduler(cfg, frontier=loaded(cfg, queued, [f"{A}/", f"{A}/b"]))
    sched.resume(Resumed(pages_done=1, fetched=1, retrying=1), now=0.0)
    fetch = sched.next_action(0.0)
    assert isinstance(fetch, Fetch)
    assert (fetch.url, fetch.depth, fetch.parent, fetch.attempt) == (f"{A}/b", 1, f"{A}/", 2)
    sched.observe(sched.prepare(fetch, page("/", "/c")), 0.1)
    nxt = sched.next_action(0.1)
    assert isinstance(nxt, Fetch)
    assert nxt.url == f"{A}/c"


def _handed_out(sched: CrawlScheduler, now: float = 0.0) -> Fetch:
    action = sched.next_action(now)
    assert isinstance(action, Fetch)
    return action


def test_observing_a_fetch_twice_or_one_never_handed_out_is_misuse() -> None:
    """Both used to pass silently: in_flight went to -1 and a second record was written."""
    sched = CrawlScheduler(config(obey_robots=False))
    sched.start(0.0)
    fetch = _handed_out(sched)
    observation = sched.prepare(fetch, page("/a"))
    sched.observe(observation, 0.1)
    with pytest.raises(MisuseError, match="was never handed out or was observed already"):
        sched.observe(observation, 0.2)
    stranger = Fetch(99, f"{A}/x", f"{A}/x", FetchKind.PAGE, 1, None, 1, 1024)
    with pytest.raises(MisuseError, match="fetch 99"):
        sched.observe(sched.prepare(stranger, page()), 0.2)
    assert sched.in_flight == 0
    assert [r.url for r in sched.drain().records] == [f"{A}/"]


def test_an_observation_must_carry_the_fetch_handed_out() -> None:
    sched = CrawlScheduler(config(obey_robots=False))
    sched.start(0.0)
    fetch = _handed_out(sched)
    forged = Fetch(fetch.id, f"{A}/other", f"{A}/other", FetchKind.PAGE, 0, None, 1, 1024)
    with pytest.raises(MisuseError, match="not the fetch handed out"):
        sched.observe(sched.prepare(forged, page()), 0.1)
    assert sched.in_flight == 1  # nothing changed; the real observation still works
    sched.observe(sched.prepare(fetch, page()), 0.1)
    assert sched.in_flight == 0


def test_time_running_backwards_and_starting_twice_are_misuse() -> None:
    sched = CrawlScheduler(config(obey_robots=False))
    with pytest.raises(MisuseError, match="start"):
        sched.next_action(0.0)
    sched.start(5.0)
    with pytest.raises(MisuseError, match="already started"):
        sched.start(5.0)
    with pytest.raises(MisuseError, match="backwards"):
        sched.next_action(4.0)
    with pytest.raises(MisuseError, match="finite"):
        sched.next_action(float("nan"))


def test_queued_counts_retries_so_a_page_limit_is_not_called_complete() -> None:
    """`queued` excluded retries, so a page-limited crawl could be called complete."""
    site = {f"{A}/": [page("/busy")], f"{A}/busy": [status(503), page()]}
    h = Harness(config(obey_robots=False, max_pages=2, max_depth=1), site)
    sched = h.scheduler
    sched.start(0.0)
    first = _handed_out(sched)
    sched.observe(sched.prepare(first, page("/busy")), 0.1)
    busy = _handed_out(sched, 0.1)
    sched.observe(sched.prepare(busy, status(503)), 0.2)
    assert sched.queued == 1  # only the retry waits
    assert sched.drain().retried[0].attempt == 2


def test_trap_refusals_are_not_judged_again_after_a_resume() -> None:
    cfg = config(obey_robots=False, traps=TrapLimits(max_query_variants=1))
    queued = [Entry(f"{A}/a", f"{A}/a", 1, f"{A}/")]
    frontier = loaded(cfg, queued, [f"{A}/", f"{A}/a", f"{A}/cal?m=2"])
    sched = CrawlScheduler(cfg, frontier=frontier)
    sched.resume(Resumed(pages_done=1, fetched=1), 0.0)
    fetch = _handed_out(sched)
    sched.observe(sched.prepare(fetch, page("/cal?m=2", "/cal?m=3")), 0.1)
    changes = sched.drain()
    assert [s.url for s in changes.skipped] == []  # m=2 was refused before; m=3 is new
    assert [e.url for e in changes.discovered] == [f"{A}/cal?m=3"]
    assert sched.stats.traps == {}


def test_robots_redirects_are_followed_five_times_then_mean_allow_all() -> None:
    """RFC 9309 2.3.1.2: follow at least five; aiohttp's count used to stop at four."""
    hops = {f"{A}/robots.txt": [status(301, location="/r1")]}
    hops |= {f"{A}/r{i}": [status(302, location=f"/r{i + 1}")] for i in range(1, 5)}
    site = {f"{A}/": [page("/private")], f"{A}/private": [page()]}
    five = site | hops | {f"{A}/r5": [robots("User-agent: *\nDisallow: /private\n")]}
    h = Harness(config(max_depth=1, host_concurrency=1), five).run()
    assert h.fetched()[:6] == [f"{A}/robots.txt", *(f"{A}/r{i}" for i in range(1, 6))]
    assert [fetch.kind for _, fetch in h.log[:6]] == [FetchKind.ROBOTS] * 6
    assert f"{A}/private" not in h.fetched()
    six = site | hops | {f"{A}/r5": [status(302, location="/r6")]}
    h = Harness(config(max_depth=1, host_concurrency=1), six).run()
    assert f"{A}/r6" not in h.fetched()  # more than five: robots.txt is unavailable
    assert f"{A}/private" in h.fetched()


def test_a_huge_crawl_delay_is_capped_and_reported() -> None:
    site = {
        f"{A}/robots.txt": [robots("User-agent: *\nCrawl-delay: 86400\n")],
        f"{A}/": [page("/a")],
        f"{A}/a": [page()],
    }
    h = Harness(config(max_depth=1, max_crawl_delay=2.0), site).run()
    robots_at, home_at, a_at = h.times()
    assert (home_at - robots_at, a_at - home_at) == (2.0, 2.0)
    assert h.scheduler.stats.capped_crawl_delays == {A: 86400.0}


def test_robots_is_matched_against_the_url_as_the_page_wrote_it() -> None:
    site = {
        f"{A}/robots.txt": [robots("User-agent: *\nDisallow: /?q=baz/login/\n")],
        f"{A}/": [page("/?q=baz/login/", "/?b=2&a=1")],
    }
    h = Harness(config(max_depth=1), site).run()
    assert [(s.url, s.reason) for s in h.skipped] == [(f"{A}/?q=baz/login/", SkipReason.ROBOTS)]
    assert f"{A}/?b=2&a=1" in h.fetched()  # requested in its own argument order


def test_records_carry_what_the_page_and_headers_say() -> None:
    home = page("/old", last_modified="Tue, 01 Dec 2026 10:00:00 GMT", etag='"v1"')
    site = {
        f"{A}/": [home],
        f"{A}/old": [status(301, location="/new")],
        f"{A}/new": [page()],
    }
    h = Harness(config(obey_robots=False, max_depth=1, collect_links=True), site).run()
    record = h.record(f"{A}/")
    assert (record.last_modified, record.etag) == ("Tue, 01 Dec 2026 10:00:00 GMT", '"v1"')
    assert record.sha1 == hashlib.sha1(home.body).hexdigest()
    assert [o.url for o in record.outlinks or ()] == [f"{A}/old"]
    assert h.record(f"{A}/new").redirect_chain == (f"{A}/old",)
    assert h.record(f"{A}/old").outlinks == ()


def test_a_resumed_crawl_reuses_robots_decisions() -> None:
    decisions = [
        RobotsDecision(A, True, b"User-agent: *\nDisallow: /private\nCrawl-delay: 3\n", None, 0.0),
        RobotsDecision("http://b.test", False, None, (ErrorKind.DNS, "no such host"), 0.0),
    ]
    queued = [
        Entry(f"{A}/private", f"{A}/private", 1, f"{A}/"),
        Entry(f"{A}/a", f"{A}/a", 1, f"{A}/"),
        Entry(f"{A}/b", f"{A}/b", 1, f"{A}/"),
        Entry("http://b.test/", "http://b.test/", 1, f"{A}/"),
    ]
    cfg = config(scope=ScopeRule.ANY)
    h = Harness(cfg, {}, frontier=loaded(cfg, queued, [e.key for e in queued]))
    h.scheduler.resume(Resumed(pages_done=1, fetched=1, robots=decisions), 0.0)
    first, second = _handed_out(h.scheduler), None
    assert first.url == f"{A}/a"  # no robots.txt fetch: the decision was kept
    assert h.scheduler.next_action(0.0) == Wait(3.0)  # its Crawl-delay holds too
    h.scheduler.observe(h.scheduler.prepare(first, page()), 0.5)
    second = _handed_out(h.scheduler, 3.0)
    assert second.url == f"{A}/b"
    skipped = {(s.url, s.reason) for s in h.scheduler.drain().skipped}
    assert skipped == {
        (f"{A}/private", SkipReason.ROBOTS),
        ("http://b.test/", SkipReason.ROBOTS_UNREACHABLE),
    }


def test_a_url_waiting_for_a_retry_counts_against_the_page_budget() -> None:
    """The budget counted pages done and in flight, not those waiting to be retried, so a
    crawl limited to two pages could write three records."""
    site = {
        f"{A}/": [page("/busy", "/c")],
        f"{A}/busy": [status(503), page()],
        f"{A}/c": [page()],
    }
    h = Harness(config(obey_robots=False, max_pages=2, max_depth=1, host_concurrency=1), site)
    h.run()
    assert [r.url for r in h.records] == [f"{A}/", f"{A}/busy"]
    assert f"{A}/c" not in h.fetched()


def test_a_slot_given_back_unused_does_not_delay_the_host() -> None:
    """A slot taken for a URL robots.txt turns out to forbid is given back with its spacing."""
    frontier = MemoryFrontier(TrapLimits(), interval=1.0, concurrency=1)
    for path in ("/no", "/yes"):
        entry = Entry(f"{A}{path}", f"{A}{path}", 0, None)
        frontier.admit(entry)
        frontier.push(entry, 0.0)
    lease = frontier.take(0.0)
    assert isinstance(lease, Lease)
    frontier.putback(lease.host, lease.entry, 0.0)
    frontier.release(lease.host, 0.0)
    again = frontier.take(0.0)  # at once: the released slot left no spacing behind
    assert isinstance(again, Lease)
    assert again.entry.url == f"{A}/no"
    frontier.finish(again.host, 0.5)
    assert frontier.take(0.5) == Wait(1.0)  # a finished fetch does


def _next_fetch(sched: CrawlScheduler, now: float) -> tuple[Fetch, float]:
    """The next fetch the scheduler hands out from ``now`` on, and when, following its waits."""
    while True:
        action = sched.next_action(now)
        if isinstance(action, Fetch):
            return action, now
        assert isinstance(action, Wait)
        now = action.until


def test_a_request_sent_late_spaces_the_next_from_when_it_was_sent() -> None:
    """A busy engine may put a request on the wire well after the core handed it out; the host
    counts from the request's arrival, so the next fetch waits one interval from then."""
    sched = CrawlScheduler(config(rate=2.0, max_depth=1))
    sched.start(0.0)
    robots_fetch, _ = _next_fetch(sched, 0.0)
    sched.sent(robots_fetch, 0.09)  # handed out at 0.0, sent 0.09 s late
    sched.observe(sched.prepare(robots_fetch, robots("User-agent: *\nAllow: /\n")), 0.1)
    home, home_at = _next_fetch(sched, 0.1)
    sched.observe(sched.prepare(home, page("/1")), home_at + 0.1)  # no report: sent on time
    last, last_at = _next_fetch(sched, home_at + 0.1)
    assert [robots_fetch.url, home.url, last.url] == [f"{A}/robots.txt", f"{A}/", f"{A}/1"]
    assert [home_at, last_at] == [pytest.approx(0.59), pytest.approx(1.09)]


def test_a_send_reported_before_the_schedulers_time_is_misuse() -> None:
    sched = CrawlScheduler(config(obey_robots=False))
    sched.start(0.0)
    fetch = sched.next_action(0.1)
    assert isinstance(fetch, Fetch)
    with pytest.raises(MisuseError, match="never run backwards"):
        sched.sent(fetch, 0.05)


def _awaiting_sends(rate: float) -> tuple[CrawlScheduler, Fetch]:
    """A scheduler whose engine reports sends, two connections a host, and its first fetch."""
    sched = CrawlScheduler(
        config(obey_robots=False, rate=rate, host_concurrency=2, await_sends=True, max_depth=1)
    )
    sched.start(0.0)
    first = sched.next_action(0.0)
    assert isinstance(first, Fetch)
    return sched, first


def test_with_await_sends_a_host_waits_for_its_last_request_to_go_out() -> None:
    """An engine that reports sends lets the core space requests as the host sees them: no
    fetch of a host is handed out while an earlier one is not yet on the wire."""
    sched, first = _awaiting_sends(rate=2.0)
    sched.observe(sched.prepare(first, page("/a", "/b")), 0.1)  # sent at hand-out: no report
    a = sched.next_action(0.5)
    assert isinstance(a, Fetch)
    assert a.url == f"{A}/a"
    assert sched.next_action(1.2) == IDLE  # /b is due at 1.0, but /a is not sent yet
    sched.sent(a, 1.3)  # a busy engine: 0.8 s late
    assert sched.next_action(1.4) == Wait(1.8)
    b = sched.next_action(1.8)
    assert isinstance(b, Fetch)
    assert b.url == f"{A}/b"


def test_with_await_sends_a_request_never_sent_frees_its_host() -> None:
    sched, first = _awaiting_sends(rate=2.0)
    sched.sent(first, 0.0)
    sched.sent(first, 0.05)  # sent again on a fresh connection: the first report counts
    sched.observe(sched.prepare(first, page("/a", "/b")), 0.1)
    a = sched.next_action(0.5)
    assert isinstance(a, Fetch)
    sched.observe(Observation(a, failure(ErrorKind.TLS)), 0.6)  # never on the wire
    b = sched.next_action(1.0)
    assert isinstance(b, Fetch)
    assert b.url == f"{A}/b"
    with pytest.raises(MisuseError, match="not outstanding"):
        sched.sent(a, 1.0)


def test_with_await_sends_and_no_rate_a_host_does_not_wait_for_sends() -> None:
    """With no interval to keep, waiting for a send would only serialise a host's fetches."""
    sched, first = _awaiting_sends(rate=0.0)
    sched.observe(sched.prepare(first, page("/a", "/b")), 0.1)
    a, b = sched.next_action(0.1), sched.next_action(0.1)  # /a not sent yet: /b goes anyway
    assert isinstance(a, Fetch)
    assert isinstance(b, Fetch)
    assert (a.url, b.url) == (f"{A}/a", f"{A}/b")
