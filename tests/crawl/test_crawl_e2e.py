"""End-to-end: the thread engine against a real HTTP server on 127.0.0.1 with faults injected."""

from __future__ import annotations

import dataclasses
import itertools
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from spindle.crawl.core import CrawlConfig, ScopeRule, SkipReason, TrapLimits, TrapRule
from spindle.crawl.engines import threads
from spindle.crawl.runner import RunOptions, run_crawl
from tests.crawl.e2e import crawl, read_jsonl
from tests.support.faultserver import (
    FaultServer,
    delayed,
    endless,
    gzip_bomb,
    huge,
    page,
    raw,
    redirect,
    robots,
    sequence,
    text,
)


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as srv:
        yield srv


def tree(server: FaultServer) -> None:
    server.route("/", page("/a", "/b", "b#frag", "/a?"))
    server.route("/a", page("/a1", "/"))
    server.route("/b", page("/b1"))
    server.route("/a1", page("/a2"))
    server.route("/b1", page())
    server.route("/a2", page())


@pytest.mark.parametrize(
    ("depth", "paths"),
    [
        (0, {"/"}),
        (1, {"/", "/a", "/b"}),
        (2, {"/", "/a", "/b", "/a1", "/b1"}),
        (3, {"/", "/a", "/b", "/a1", "/b1", "/a2"}),
    ],
)
def test_depth_boundaries(
    engine: str, tmp_path: Path, server: FaultServer, depth: int, paths: set[str]
) -> None:
    tree(server)
    result = crawl(engine, tmp_path, server.url("/"), max_depth=depth)
    assert result.urls() == {server.url(p) for p in paths}
    assert len(result.records) == len(paths)
    page_requests = [p for p in server.paths() if p != "/robots.txt"]
    assert sorted(page_requests) == sorted(paths)  # each fetched exactly once
    assert server.paths()[0] == "/robots.txt"
    if depth >= 1:
        a = result.by_url(server.url("/a"))
        assert (a["depth"], a["parent"], a["status"], a["links"]) == (1, server.url("/"), 200, 2)


def test_scope_host_stays_on_the_seed_host(
    engine: str, tmp_path: Path, server: FaultServer
) -> None:
    with FaultServer() as other:
        other.route("/", page("/elsewhere"))
        server.route("/", page(other.url("/"), "/local"))
        server.route("/local", page())
        result = crawl(engine, tmp_path, server.url("/"), max_depth=2)
        assert result.urls() == {server.url("/"), server.url("/local")}
        assert other.paths() == []
        wide = crawl(engine, tmp_path, server.url("/"), max_depth=2, scope=ScopeRule.ANY)
        assert wide.urls() == {
            server.url("/"),
            server.url("/local"),
            other.url("/"),
            other.url("/elsewhere"),
        }


ROBOTS = """\
User-agent: otherbot
Disallow: /

User-agent: spindle
Disallow: /private
Allow: /private/open
Disallow: /*.pdf$
Disallow: /tie
Allow: /tie
"""


def test_robots_rules_and_zero_disallowed_requests(
    engine: str, tmp_path: Path, server: FaultServer
) -> None:
    links = ["/private/x", "/private/open/y", "/doc.pdf", "/doc.pdf.html", "/tie", "/public"]
    server.route("/robots.txt", robots(ROBOTS))
    server.route("/", page(*links))
    for link in links:
        server.route(link, page())
    result = crawl(engine, tmp_path, server.url("/"), max_depth=1)
    allowed = {"/", "/private/open/y", "/doc.pdf.html", "/tie", "/public"}
    assert result.urls() == {server.url(p) for p in allowed}
    requested = set(server.paths())
    assert requested == allowed | {"/robots.txt"}
    assert server.count("/robots.txt") == 1
    assert result.summary.stats.skipped == {SkipReason.ROBOTS: 2}


def test_rate_and_crawl_delay_per_server_timestamps(
    engine: str, tmp_path: Path, server: FaultServer
) -> None:
    server.route("/robots.txt", robots("User-agent: *\nCrawl-delay: 0.3\n"))
    server.route("/", page(*[f"/{i}" for i in range(4)]))
    result = crawl(engine, tmp_path, server.url("/"), max_depth=1, rate=20.0, workers=8)
    assert len(result.records) == 5
    times = [entry.time for entry in server.log]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    # Crawl-delay (0.3 s) is slower than --rate (0.05 s) and wins; allow scheduling jitter.
    assert min(gaps[1:]) >= 0.3 * 0.8


def test_rate_limit_without_robots(engine: str, tmp_path: Path, server: FaultServer) -> None:
    server.route("/", page(*[f"/{i}" for i in range(5)]))
    crawl(engine, tmp_path, server.url("/"), max_depth=1, rate=5.0, workers=8)
    times = [entry.time for entry in server.log if entry.path != "/robots.txt"]
    assert len(times) == 6
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 0.2 * 0.8


def test_429_with_retry_after_is_honoured(engine: str, tmp_path: Path, server: FaultServer) -> None:
    server.route("/", page("/busy"))
    server.route("/busy", sequence(raw(429, {"Retry-After": "1"}, b"slow down"), page()))
    result = crawl(engine, tmp_path, server.url("/"), max_depth=1)
    busy = [entry.time for entry in server.log if entry.path == "/busy"]
    assert len(busy) == 2
    assert busy[1] - busy[0] >= 1.0
    record = result.by_url(server.url("/busy"))
    assert (record["status"], record["attempts"], record["error"]) == (200, 2, None)


def test_503_then_success(engine: str, tmp_path: Path, server: FaultServer) -> None:
    server.route("/", page("/flaky"))
    server.route("/flaky", sequence(raw(503, {}, b""), raw(503, {}, b""), page()))
    result = crawl(engine, tmp_path, server.url("/"), max_depth=1)
    assert server.count("/flaky") == 3
    assert result.by_url(server.url("/flaky"))["attempts"] == 3


def test_retries_give_up_and_record_why(engine: str, tmp_path: Path, server: FaultServer) -> None:
    server.route("/", page("/down"))
    server.route("/down", raw(503, {}, b""))
    result = crawl(engine, tmp_path, server.url("/"), max_depth=1, retries=2)
    assert server.count("/down") == 3
    assert result.by_url(server.url("/down"))["error"] == {
        "kind": "http_status",
        "message": "HTTP 503 after 3 attempts",
    }


def test_redirect_loop_is_stopped(engine: str, tmp_path: Path, server: FaultServer) -> None:
    server.route("/", page("/loop1", "/moved"))
    server.route("/loop1", redirect("/loop2"))
    server.route("/loop2", redirect("/loop1"))
    server.route("/moved", redirect("/target", status=301))
    server.route("/target", page())
    result = crawl(engine, tmp_path, server.url("/"), max_depth=1)
    assert server.count("/loop1") == server.count("/loop2") == 1
    assert result.by_url(server.url("/loop2"))["error"]["kind"] == "redirect_loop"
    moved = result.by_url(server.url("/moved"))
    assert (moved["status"], moved["final_url"]) == (301, server.url("/target"))
    assert result.by_url(server.url("/target"))["status"] == 200


def test_endless_query_string_trap_is_bounded(
    engine: str, tmp_path: Path, server: FaultServer
) -> None:
    def calendar(request):  # type: ignore[no-untyped-def]
        month = int(request.query.split("=")[1])
        return page(f"/cal?month={month + 1}")(request)

    server.route("/", page("/cal?month=0"))
    server.route_prefix("/cal", calendar)
    result = crawl(
        engine,
        tmp_path,
        server.url("/"),
        max_depth=10_000,
        max_pages=500,
        traps=TrapLimits(max_query_variants=25),
    )
    assert sum(1 for p in server.paths() if p.startswith("/cal")) == 25
    assert result.summary.stats.traps == {TrapRule.QUERY_VARIANTS: 1}


def test_big_and_endless_bodies_are_cut_at_max_bytes(
    engine: str, tmp_path: Path, server: FaultServer
) -> None:
    server.route("/", page("/big", "/forever"))
    server.route("/big", huge(5_000_000))
    server.route("/forever", endless())
    result = crawl(engine, tmp_path, server.url("/"), max_depth=1, max_bytes=100_000)
    for path in ("/big", "/forever"):
        record = result.by_url(server.url(path))
        assert (record["bytes"], record["truncated"], record["status"]) == (100_000, True, 200)


def test_bodies_over_the_parse_queue_bound_still_pass_one_at_a_time(
    tmp_path: Path, server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The thread engine bounds bodies waiting for a parser by bytes; a body over the bound
    goes in alone rather than waiting for ever."""
    monkeypatch.setattr(threads, "PARSE_QUEUE_BYTES", 1)
    pages = [f"/p{i}" for i in range(6)]
    server.route("/", page(*pages))
    for path in pages:
        server.route(path, page("/"))
    result = crawl("threads", tmp_path, server.url("/"), workers=4, max_depth=1)
    assert result.urls() == {server.url(path) for path in ["/", *pages]}


def test_gzip_bomb_is_refused(engine: str, tmp_path: Path, server: FaultServer) -> None:
    server.route("/", page("/bomb"))
    server.route("/bomb", gzip_bomb(200_000_000))
    result = crawl(engine, tmp_path, server.url("/"), max_depth=1, max_bytes=1_000_000)
    record = result.by_url(server.url("/bomb"))
    assert record["error"]["kind"] == "decompression_bomb"
    assert server.count("/bomb") == 1


def test_non_html_is_not_parsed(engine: str, tmp_path: Path, server: FaultServer) -> None:
    server.route("/", page("/report.pdf", "/data.json"))
    server.route("/report.pdf", text('<a href="/hidden">x</a>', content_type="application/pdf"))
    server.route("/data.json", text('{"a": "<a href=/hidden2>"}', content_type="application/json"))
    result = crawl(engine, tmp_path, server.url("/"), max_depth=3)
    assert result.urls() == {server.url(p) for p in ("/", "/report.pdf", "/data.json")}
    assert result.by_url(server.url("/report.pdf"))["links"] == 0
    assert "/hidden" not in server.paths()


def test_timeouts_are_retried_then_recorded(
    engine: str, tmp_path: Path, server: FaultServer
) -> None:
    server.route("/", page("/slow"))
    server.route("/slow", delayed(3.0, page()))
    result = crawl(engine, tmp_path, server.url("/"), max_depth=1, timeout=0.3, retries=1)
    assert server.count("/slow") == 2
    record = result.by_url(server.url("/slow"))
    assert record["error"]["kind"] == "timeout"
    assert record["attempts"] == 2


def test_connection_refused_is_an_error_not_a_crash(engine: str, tmp_path: Path) -> None:
    with FaultServer() as gone:
        url = gone.url("/")
    result = crawl(engine, tmp_path, url, retries=1, obey_robots=False)
    assert result.by_url(url)["error"]["kind"] == "connection"


@pytest.mark.parametrize(("age_hours", "robots_fetches"), [(1, 1), (25, 2)])
def test_robots_decisions_are_reused_for_24_hours(
    engine: str, tmp_path: Path, server: FaultServer, age_hours: int, robots_fetches: int
) -> None:
    server.route("/robots.txt", robots("User-agent: *\nDisallow: /no\n"))
    server.route("/", page(*[f"/{i}" for i in range(6)]))
    state, out = tmp_path / "s.state", tmp_path / "out.jsonl"
    config = CrawlConfig(seeds=(server.url("/"),), rate=0.0, max_depth=1, max_pages=3)
    options = RunOptions(out=str(out), state=state, engine=engine)
    run_crawl(config, options, Console(quiet=True))
    with sqlite3.connect(state) as db:
        db.execute("UPDATE robots SET fetched_at = ?", (time.time() - age_hours * 3600,))
    more = dataclasses.replace(config, max_pages=None)
    summary = run_crawl(more, options, Console(quiet=True))
    assert summary.exit_code == 0
    assert server.count("/robots.txt") == robots_fetches
    assert len(read_jsonl(out)) == 7
