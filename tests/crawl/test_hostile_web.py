"""Everything the hostile web sends, on both engines: the crawl survives, records every
failure honestly and loses no page. Each test names the failure it once caused."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from spindle.crawl.core import CrawlConfig
from spindle.crawl.core.links import LinkExtractor
from spindle.crawl.core.scheduler import CrawlScheduler
from spindle.crawl.runner import RunOptions, run_crawl
from spindle.crawl.summary import ExitCode, RunFailure
from tests.crawl.e2e import crawl, read_jsonl
from tests.support.faultserver import (
    FaultServer,
    drip_body,
    drip_headers,
    drip_status_line,
    early_hints,
    page,
    redirect,
    robots,
    robots_crawl_delay,
    verbatim,
)

CODECS = ["rot13", "base64", "hex", "zlib", "idna", "undefined"]
BROKEN_HOSTS = ["http://[::1/", "http://[foo]/x"]


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as srv:
        yield srv


def test_pages_in_codecs_that_are_not_text_are_crawled(
    engine: str, tmp_path: Path, server: FaultServer
) -> None:
    """html_to_unicode raised: the thread engine hung for ever, the asyncio engine aborted."""
    server.route("/", page(*[f"/{codec}" for codec in CODECS]))
    for codec in CODECS:
        server.route(f"/{codec}", page(f"/{codec}/next", charset=codec))
        server.route(f"/{codec}/next", page())
    result = crawl(engine, tmp_path, server.url("/"), max_depth=2, obey_robots=False)
    expected = {"/"} | {f"/{c}" for c in CODECS} | {f"/{c}/next" for c in CODECS}
    assert result.urls() == {server.url(p) for p in expected}
    assert all(r["error"] is None for r in result.records)


def test_broken_bracketed_hosts_in_links_base_and_location(
    engine: str, tmp_path: Path, server: FaultServer
) -> None:
    """urljoin's ValueError escaped the InvalidURL guard and killed the crawl."""
    server.route("/", page(*BROKEN_HOSTS, "/based", "/moved", "/ok"))
    server.route("/based", page("relative", base=BROKEN_HOSTS[0]))
    server.route("/relative", page())
    server.route("/moved", redirect(BROKEN_HOSTS[1]))
    server.route("/ok", page())
    result = crawl(engine, tmp_path, server.url("/"), max_depth=2, obey_robots=False)
    assert result.urls() == {server.url(p) for p in ("/", "/based", "/relative", "/moved", "/ok")}
    moved = result.by_url(server.url("/moved"))
    assert (moved["status"], moved["error"]["kind"]) == (302, "bad_redirect")


@pytest.mark.parametrize("drip", [drip_status_line, drip_headers, drip_body])
def test_a_dripped_answer_is_cut_at_the_timeout(
    engine: str, tmp_path: Path, server: FaultServer, drip: object
) -> None:
    """The thread engine had no total deadline: one byte every 0.2 s held a fetch for ever."""
    server.route("/", page("/slow", "/fine"))
    server.route("/slow", drip(0.2))  # type: ignore[operator]
    server.route("/fine", page())
    started = time.monotonic()
    result = crawl(engine, tmp_path, server.url("/"), max_depth=1, timeout=0.6, retries=0)
    assert time.monotonic() - started < 30  # a sanity bound, not a timing assertion
    slow = result.by_url(server.url("/slow"))
    assert (slow["status"], slow["error"]["kind"]) == (None, "timeout")
    assert result.by_url(server.url("/fine"))["status"] == 200


def test_a_dripped_robots_txt_is_cut_and_retried_then_unreachable(
    engine: str, tmp_path: Path, server: FaultServer
) -> None:
    server.route("/robots.txt", drip_body(0.2))
    server.route("/", page())
    result = crawl(engine, tmp_path, server.url("/"), timeout=0.6, retries=1)
    assert server.count("/robots.txt") == 2
    (seed,) = result.records
    assert seed["error"]["kind"] == "timeout"
    assert result.summary.exit_code is ExitCode.NOTHING_FETCHED


def test_early_hints_are_skipped(engine: str, tmp_path: Path, server: FaultServer) -> None:
    """The thread engine recorded the 103 interim answer as the response."""
    server.route("/", page("/hinted"))
    server.route("/hinted", early_hints(b"<a href='/after'>after</a>"))
    server.route("/after", page())
    result = crawl(engine, tmp_path, server.url("/"), max_depth=2, obey_robots=False)
    hinted = result.by_url(server.url("/hinted"))
    assert (hinted["status"], hinted["links"]) == (200, 1)
    assert server.url("/after") in result.urls()


def test_a_robots_txt_with_a_byte_order_mark_is_obeyed(
    engine: str, tmp_path: Path, server: FaultServer
) -> None:
    """protego ignored such a file, so its disallowed paths were crawled."""
    server.route("/robots.txt", robots("User-agent: *\nDisallow: /private\n", bom=True))
    server.route("/", page("/private", "/public"))
    server.route("/public", page())
    result = crawl(engine, tmp_path, server.url("/"), max_depth=1)
    assert "/private" not in server.paths()
    assert result.urls() == {server.url("/"), server.url("/public")}


def test_five_robots_redirects_are_followed(
    engine: str, tmp_path: Path, server: FaultServer
) -> None:
    """aiohttp's redirect count followed only four (RFC 9309 asks for at least five)."""
    chain = server.redirect_chain("/robots.txt", 5, robots("User-agent: *\nDisallow: /private\n"))
    server.route("/", page("/private", "/public"))
    server.route("/public", page())
    result = crawl(engine, tmp_path, server.url("/"), max_depth=1, host_concurrency=1)
    assert server.paths()[:6] == chain
    assert "/private" not in server.paths()
    assert result.urls() == {server.url("/"), server.url("/public")}


def test_a_huge_crawl_delay_is_capped_and_reported(
    engine: str, tmp_path: Path, server: FaultServer
) -> None:
    """Crawl-delay: 86400 stalled the crawl for a day per page."""
    server.route("/robots.txt", robots_crawl_delay(86400))
    server.route("/", page("/a"))
    server.route("/a", page())
    result = crawl(engine, tmp_path, server.url("/"), max_depth=1, max_crawl_delay=0.3)
    assert result.urls() == {server.url("/"), server.url("/a")}
    origin = server.url("")
    assert result.summary.stats.capped_crawl_delays == {origin: 86400.0}
    assert result.summary.to_json()["capped_crawl_delays"] == {origin: 86400.0}


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        (b"garbage\r\n\r\n", "protocol"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort", "connection"),
        (b"", "connection"),
    ],
)
def test_the_same_bytes_get_the_same_verdict(
    engine: str, tmp_path: Path, server: FaultServer, reply: bytes, kind: str
) -> None:
    """The same garbage was `connection` (retried) in one engine, `protocol` in the other."""
    server.route("/", page("/bad"))
    server.route("/bad", verbatim(reply))
    result = crawl(engine, tmp_path, server.url("/"), max_depth=1, retries=0, obey_robots=False)
    assert result.by_url(server.url("/bad"))["error"]["kind"] == kind


def test_a_page_that_crashes_the_parser_is_an_error_record(
    engine: str, tmp_path: Path, server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = LinkExtractor.parse

    def parse(self: LinkExtractor, url: str, *args: object, **kwargs: object) -> object:
        if url.endswith("/poison"):
            raise RuntimeError("the parser fell over")
        return original(self, url, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(LinkExtractor, "parse", parse)
    server.route("/", page("/poison", "/fine"))
    server.route("/poison", page())
    server.route("/fine", page())
    result = crawl(engine, tmp_path, server.url("/"), max_depth=1, obey_robots=False)
    poison = result.by_url(server.url("/poison"))
    assert poison["error"] == {"kind": "crash", "message": "RuntimeError: the parser fell over"}
    assert result.by_url(server.url("/fine"))["status"] == 200


def test_a_broken_invariant_stops_the_crawl_cleanly_and_it_resumes(
    engine: str, tmp_path: Path, server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.route("/", page(*[f"/{i}" for i in range(8)]))
    for i in range(8):
        server.route(f"/{i}", page())
    original = CrawlScheduler.observe
    calls = [0]

    def observe(self: CrawlScheduler, observation: object, now: float) -> None:
        calls[0] += 1
        if calls[0] == 4:
            raise AssertionError("an invariant broke")
        original(self, observation, now)  # type: ignore[arg-type]

    monkeypatch.setattr(CrawlScheduler, "observe", observe)
    out, state = tmp_path / "out.jsonl", tmp_path / "s.state"
    config = CrawlConfig(seeds=(server.url("/"),), rate=0.0, max_depth=1, obey_robots=False)
    options = RunOptions(out=str(out), state=state, engine=engine, workers=1)
    summary = run_crawl(config, options, Console(quiet=True))
    assert summary.failure == RunFailure(
        RunFailure.Kind.INTERNAL, "AssertionError: an invariant broke"
    )
    assert summary.exit_code is ExitCode.INTERNAL_ERROR
    assert 0 < len(read_jsonl(out)) < 9
    monkeypatch.setattr(CrawlScheduler, "observe", original)
    again = run_crawl(config, options, Console(quiet=True))
    assert again.exit_code is ExitCode.OK
    urls = [r["url"] for r in read_jsonl(out)]
    assert sorted(urls) == sorted({server.url("/")} | {server.url(f"/{i}") for i in range(8)})
