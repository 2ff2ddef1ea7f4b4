"""One contract for both fetchers: the same server answers give the same outcomes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import pytest

from spindle.crawl.core import Failure, Fetch, FetchKind, Outcome, Response
from spindle.crawl.engines.http_async import AsyncFetcher
from spindle.crawl.engines.http_threads import ThreadFetcher
from tests.support.faultserver import (
    FaultServer,
    delayed,
    gzip_bomb,
    huge,
    page,
    raw,
    redirect,
    robots,
)

Fetcher = Callable[[Fetch], Outcome]


def _thread_fetcher(timeout: float) -> Fetcher:
    return ThreadFetcher(user_agent="spindle-test/1", timeout=timeout, pool_size=4).fetch


def _async_fetcher(timeout: float) -> Fetcher:
    def fetch(request: Fetch) -> Outcome:
        async def once() -> Outcome:
            fetcher = AsyncFetcher(user_agent="spindle-test/1", timeout=timeout, pool_size=4)
            try:
                return await fetcher.fetch(request)
            finally:
                await fetcher.close()

        return asyncio.run(once())

    return fetch


@pytest.fixture(params=[_thread_fetcher, _async_fetcher], ids=["threads", "async"])
def make_fetcher(request: pytest.FixtureRequest) -> Callable[[float], Fetcher]:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as srv:
        yield srv


def _fetch(url: str, *, kind: FetchKind = FetchKind.PAGE, max_bytes: int = 1_000_000) -> Fetch:
    redirects = 5 if kind is FetchKind.ROBOTS else 0
    return Fetch(url, kind, 0, None, 1, max_bytes, redirects)


def test_page(server: FaultServer, make_fetcher: Callable[[float], Fetcher]) -> None:
    server.route("/", page("/a", title="hello"))
    outcome = make_fetcher(5.0)(_fetch(server.url("/")))
    assert isinstance(outcome, Response)
    assert outcome.status == 200
    assert outcome.content_type is not None
    assert outcome.content_type.startswith("text/html")
    assert b'href="/a"' in outcome.body
    assert outcome.truncated is False
    assert server.log[0].headers["User-Agent"] == "spindle-test/1"


def test_page_redirects_are_not_followed(
    server: FaultServer, make_fetcher: Callable[[float], Fetcher]
) -> None:
    server.route("/old", redirect("/new", status=301))
    outcome = make_fetcher(5.0)(_fetch(server.url("/old")))
    assert isinstance(outcome, Response)
    assert (outcome.status, outcome.location) == (301, "/new")
    assert server.paths() == ["/old"]


def test_robots_redirects_are_followed_up_to_five(
    server: FaultServer, make_fetcher: Callable[[float], Fetcher]
) -> None:
    server.route("/robots.txt", redirect("/r1"))
    server.route("/r1", redirect("/real-robots"))
    server.route("/real-robots", robots("User-agent: *\nDisallow: /x\n"))
    outcome = make_fetcher(5.0)(_fetch(server.url("/robots.txt"), kind=FetchKind.ROBOTS))
    assert isinstance(outcome, Response)
    assert (outcome.status, outcome.body) == (200, b"User-agent: *\nDisallow: /x\n")
    for i in range(7):
        server.route(f"/loop{i}", redirect(f"/loop{i + 1}"))
    outcome = make_fetcher(5.0)(_fetch(server.url("/loop0"), kind=FetchKind.ROBOTS))
    assert isinstance(outcome, Failure)
    assert outcome.kind == "too_many_redirects"


def test_headers_are_passed_on(
    server: FaultServer, make_fetcher: Callable[[float], Fetcher]
) -> None:
    server.route("/", raw(503, {"Retry-After": "7", "X-Robots-Tag": "noindex"}, b""))
    outcome = make_fetcher(5.0)(_fetch(server.url("/")))
    assert isinstance(outcome, Response)
    assert (outcome.status, outcome.retry_after, outcome.x_robots_tag) == (503, "7", "noindex")


def test_truncation_and_bombs(
    server: FaultServer, make_fetcher: Callable[[float], Fetcher]
) -> None:
    server.route("/big", huge(3_000_000))
    server.route("/bomb", gzip_bomb(100_000_000))
    fetcher = make_fetcher(5.0)
    big = fetcher(_fetch(server.url("/big"), max_bytes=50_000))
    assert isinstance(big, Response)
    assert (len(big.body), big.truncated) == (50_000, True)
    bomb = fetcher(_fetch(server.url("/bomb"), max_bytes=50_000))
    assert isinstance(bomb, Failure)
    assert (bomb.kind, bomb.retryable) == ("decompression_bomb", False)


def test_timeouts_and_refused_connections(
    server: FaultServer, make_fetcher: Callable[[float], Fetcher]
) -> None:
    server.route("/slow", delayed(2.0, page()))
    slow = make_fetcher(0.2)(_fetch(server.url("/slow")))
    assert isinstance(slow, Failure)
    assert (slow.kind, slow.retryable) == ("timeout", True)
    with FaultServer() as gone:
        url = gone.url("/")
    refused = make_fetcher(1.0)(_fetch(url))
    assert isinstance(refused, Failure)
    assert (refused.kind, refused.retryable) == ("connection", True)
