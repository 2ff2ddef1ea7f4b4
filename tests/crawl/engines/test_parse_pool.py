"""Parsing in worker processes: the same observations as parsing here, a compact encoding,
and a dead worker costing only the pages it held."""

from __future__ import annotations

import dataclasses
import os
import signal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spindle.crawl.core import CrawlConfig, CrawlScheduler, ScopeRule
from spindle.crawl.core.parse import PageParser
from spindle.crawl.core.values import (
    ErrorKind,
    Failure,
    Fetch,
    FetchKind,
    Link,
    Listing,
    Observation,
    Outlink,
    ParsedPage,
    Response,
)
from spindle.crawl.engines import parse_pool
from spindle.crawl.engines.parse_pool import ParsePool, Parsing, decode, encode
from spindle.sample_site import SiteSpec
from spindle.sample_site.pages import render
from tests.crawl.e2e import crawl

_url = st.builds(lambda p: f"http://a.test/{p}", st.text("abc%2F?=&/-_", max_size=12))
_text = st.text(st.characters(blacklist_characters="\t\n\r"), max_size=20).map(
    lambda t: " ".join(t.split())
)
_links = st.lists(st.builds(Link, _url, _url), max_size=5).map(tuple)
_pages = st.builds(
    ParsedPage,
    _links,
    st.integers(0, 9),
    st.booleans(),
    st.booleans(),
    st.none() | _text,
    st.lists(st.builds(Outlink, _url, _text, st.booleans()), max_size=5).map(tuple),
    _links,
)
FETCH = Fetch(1, "http://a.test/", "http://a.test/", FetchKind.PAGE, 0, None, 1, 1 << 20)
FAILURE = Failure(ErrorKind.CRASH, "x", 0.0, 0.0)


@given(
    st.none() | _pages,
    st.none() | st.text(max_size=8),
    st.none() | st.builds(Listing, _links, _links),
)
def test_encoding_round_trips(
    page: ParsedPage | None, sha1: str | None, listing: Listing | None
) -> None:
    observation = Observation(FETCH, FAILURE, page, sha1, listing)
    assert decode(FETCH, FAILURE, encode(observation)) == observation


@pytest.fixture(scope="module")
def pool() -> ParsePool:
    config = CrawlConfig(seeds=("http://a.test/",), scope=ScopeRule.ANY, collect_links=True)
    return ParsePool(config, 1)


def _page(n: int) -> tuple[Fetch, Response]:
    spec = SiteSpec(pages=50, page_bytes=40_000)
    body = render(spec, f"/docs/{n}.html").body
    url = f"http://a.test/docs/{n}.html"
    fetch = Fetch(n, url, url, FetchKind.PAGE, 1, None, 1, 1 << 20)
    return fetch, Response(200, (("Content-Type", "text/html"),), body, 0.01, 1.7e9)


def test_a_worker_sees_what_this_process_sees(pool: ParsePool) -> None:
    config = CrawlConfig(seeds=("http://a.test/",), scope=ScopeRule.ANY, collect_links=True)
    here = PageParser(config)
    for n in range(5):
        fetch, response = _page(n)
        assert pool.submit(fetch, response).result(timeout=60) == here.observe(fetch, response)


def test_a_dead_worker_costs_only_its_pages(pool: ParsePool) -> None:
    fetch, response = _page(7)
    assert pool.submit(fetch, response).result(timeout=60).page is not None  # a worker runs
    for pid in list(pool._pool._processes):  # type: ignore[attr-defined]
        os.kill(pid, signal.SIGKILL)
    lost = pool.submit(fetch, response).result(timeout=60)
    assert isinstance(lost.outcome, Failure)
    assert lost.outcome.kind is ErrorKind.CRASH
    again = pool.submit(fetch, response).result(timeout=60)  # a fresh pool took over
    assert again.page is not None


def test_a_pool_starts_no_process_until_a_page_comes_and_none_after_closing() -> None:
    import multiprocessing

    config = CrawlConfig(seeds=("http://a.test/",))
    before = set(multiprocessing.active_children())
    idle = ParsePool(config, 2)
    assert set(multiprocessing.active_children()) == before
    idle.close()
    fetch, response = _page(1)
    with pytest.raises(RuntimeError, match="closed"):
        idle.submit(fetch, response)
    assert set(multiprocessing.active_children()) == before


def test_big_pages_go_to_the_workers_only_after_the_first_ones_were_parsed_here(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(parse_pool, "LOCAL_FIRST", 3)
    config = CrawlConfig(seeds=("http://a.test/",))
    parsing = Parsing(CrawlScheduler(config), 1)
    _, big = _page(1)
    small = dataclasses.replace(big, body=b"<p>small</p>")
    try:
        assert [parsing.offloads(small) for _ in range(5)] == [False] * 5  # not counted
        assert [parsing.offloads(big) for _ in range(5)] == [False, False, False, True, True]
        assert not Parsing(CrawlScheduler(config), 0).offloads(big)  # no workers at all
    finally:
        parsing.close()


def test_a_crawl_parsed_elsewhere_records_the_same(
    engine: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from spindle.sample_site import serve_in_thread

    monkeypatch.setattr(parse_pool, "LOCAL_FIRST", 0)  # every big page to the workers

    with serve_in_thread(SiteSpec(pages=30, page_bytes=30_000)) as site:
        records = {}
        for parsers in (0, 1):
            result = crawl(
                engine,
                tmp_path,
                f"{site.base_url}/",
                max_depth=5,
                collect_links=True,
                workers=1,  # one fetch at a time: every page found from the same parent
                options={"parsers": parsers},
            )
            records[parsers] = {
                r["url"]: {k: v for k, v in r.items() if k not in ("elapsed_ms", "fetched_at")}
                for r in result.records
            }
    assert records[0] == records[1]
    assert len(records[0]) > 30
