"""What only the thread fetcher has: a watchdog thread shared by concurrent fetches."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from spindle.crawl.core.values import ErrorKind, Failure, Response
from spindle.crawl.engines.http_threads import ThreadFetcher
from spindle.crawl.engines.request import FetchSettings
from tests.crawl.engines.harness import make_fetch
from tests.support.faultserver import FaultServer, drip_body, drip_headers, drip_status_line, text

WATCHDOG = "spindle-fetch-watchdog"


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as srv:
        yield srv


def _watchdogs() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == WATCHDOG]


def test_concurrent_drips_are_cut_while_a_quick_page_is_served(server: FaultServer) -> None:
    server.route("/status", drip_status_line(0.2))
    server.route("/headers", drip_headers(0.2))
    server.route("/body", drip_body(0.2))
    server.route("/quick", text("quick"))
    fetcher = ThreadFetcher(FetchSettings("ua/1", timeout=0.5, pool_size=8))
    paths = ["/status", "/headers", "/body", "/status", "/quick"]
    try:
        with ThreadPoolExecutor(len(paths)) as pool:
            outcomes = list(pool.map(lambda p: fetcher.fetch(make_fetch(server.url(p))), paths))
    finally:
        fetcher.close()
    for outcome in outcomes[:4]:
        assert isinstance(outcome, Failure)
        assert outcome.kind is ErrorKind.TIMEOUT
        assert outcome.elapsed < 0.5 + 2.0  # a sanity bound only
    quick = outcomes[4]
    assert isinstance(quick, Response)
    assert (quick.status, quick.body) == (200, b"quick")


def test_close_stops_the_watchdog_and_fetching_after_it_raises(server: FaultServer) -> None:
    server.route("/", text("ok"))
    fetcher = ThreadFetcher(FetchSettings("ua/1", timeout=30.0))
    assert isinstance(fetcher.fetch(make_fetch(server.url("/"))), Response)
    assert len(_watchdogs()) == 1
    fetcher.close()
    assert _watchdogs() == []
    with pytest.raises(RuntimeError, match="the ThreadFetcher is closed"):
        fetcher.fetch(make_fetch(server.url("/")))
