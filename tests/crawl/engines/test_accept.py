"""Accepted media types: a response of another type is recorded from its head, its body is
not downloaded, in both engines alike; a short declared body keeps its connection."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from spindle.crawl.core.values import FetchKind, Response
from spindle.crawl.engines.accept import DRAIN_LIMIT, check_accept_types, wants_body
from spindle.crawl.engines.request import FetchSettings
from tests.crawl.engines.harness import ENGINES, fetch_once, make_fetch, open_fetcher
from tests.support.faultserver import FaultServer, endless, huge, raw, robots, verbatim


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as srv:
        yield srv


@pytest.mark.parametrize(
    ("accepted", "content_type", "wanted"),
    [
        ((), "application/pdf", True),
        (("text/html",), "text/html", True),
        (("text/html",), "TEXT/HTML; charset=utf-8", True),
        (("text/html",), " text/html ;q", True),
        (("text/html",), "text/plain", False),
        (("text/html",), "text/html+x", False),
        (("text/*",), "text/plain", True),
        (("text/*",), "texts/plain", False),
        (("text/*",), "application/xhtml+xml", False),
        (("image/png", "text/*"), "image/png", True),
        (("*/*",), "application/octet-stream", True),
        (("text/html",), None, True),
        (("text/html",), "", True),
        (("text/html",), "   ", True),
        (("text/html",), "garbage", False),
    ],
)
def test_which_bodies_are_wanted(
    accepted: tuple[str, ...], content_type: str | None, wanted: bool
) -> None:
    headers = () if content_type is None else (("content-type", content_type),)
    assert wants_body(accepted, FetchKind.PAGE, headers) is wanted
    assert wants_body(accepted, FetchKind.ROBOTS, headers) is True


def test_only_the_first_content_type_counts() -> None:
    headers = (("Content-Type", "image/png"), ("Content-Type", "text/html"))
    assert wants_body(("text/html",), FetchKind.PAGE, headers) is False


@pytest.mark.parametrize("bad", ["text", "text/", "/html", "text/html; charset=utf-8", "*/html"])
def test_accepted_types_are_media_ranges(bad: str) -> None:
    with pytest.raises(ValueError, match="is not a media type"):
        check_accept_types([bad])


SETTINGS = FetchSettings("spindle-test/1", timeout=5.0, accept_types=("text/html",))


def test_another_type_is_recorded_from_its_head(server: FaultServer, engine: str) -> None:
    server.route("/doc.pdf", raw(200, {"Content-Type": "application/pdf"}, b"%PDF-1.7 ..."))
    outcome = fetch_once(engine, SETTINGS, make_fetch(server.url("/doc.pdf")))
    assert isinstance(outcome, Response)
    assert (outcome.status, outcome.content_type) == (200, "application/pdf")
    assert (outcome.body, outcome.body_skipped, outcome.truncated) == (b"", True, False)
    assert server.paths() == ["/doc.pdf"]


def test_accepted_and_untyped_bodies_are_read(server: FaultServer, engine: str) -> None:
    server.route("/page", raw(200, {"Content-Type": "text/html; charset=utf-8"}, b"<p>hi"))
    server.route("/untyped", verbatim(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n<p>hi"))
    for path in ("/page", "/untyped"):
        outcome = fetch_once(engine, SETTINGS, make_fetch(server.url(path)))
        assert isinstance(outcome, Response)
        assert (outcome.body, outcome.body_skipped) == (b"<p>hi", False)


def test_robots_txt_is_read_whatever_its_type(server: FaultServer, engine: str) -> None:
    server.route("/robots.txt", robots("User-agent: *\nDisallow: /x\n"))
    fetch = make_fetch(server.url("/robots.txt"), kind=FetchKind.ROBOTS)
    settings = FetchSettings("spindle-test/1", timeout=5.0, accept_types=("image/png",))
    outcome = fetch_once(engine, settings, fetch)
    assert isinstance(outcome, Response)
    assert (outcome.body, outcome.body_skipped) == (b"User-agent: *\nDisallow: /x\n", False)


def test_an_endless_body_of_another_type_is_not_read(server: FaultServer, engine: str) -> None:
    # Reading it would take the whole 256 MiB the endless handler sends before it stops.
    server.route("/endless", endless())  # text/html
    settings = FetchSettings("spindle-test/1", timeout=20.0, accept_types=("image/*",))
    fetch = make_fetch(server.url("/endless"), max_bytes=1 << 30)
    outcome = fetch_once(engine, settings, fetch)
    assert isinstance(outcome, Response)
    assert (outcome.status, outcome.body, outcome.body_skipped) == (200, b"", True)
    sent = server.wait_for_stream("/endless")  # the client hung up: the stream ended
    assert sent < 64 * 1024 * 1024  # what the socket buffers took before the close


def test_a_huge_declared_body_is_not_read_and_its_connection_closed(
    server: FaultServer, engine: str
) -> None:
    server.route("/huge", huge(200_000_000))  # text/html, with a Content-Length
    settings = FetchSettings("spindle-test/1", timeout=20.0, pool_size=1, accept_types=("a/b",))
    with open_fetcher(engine, settings) as fetch:
        first = fetch(make_fetch(server.url("/huge"), max_bytes=1 << 30))
        sent = server.wait_for_stream("/huge")
        second = fetch(make_fetch(server.url("/huge"), max_bytes=1 << 30))
    assert isinstance(first, Response)
    assert isinstance(second, Response)
    assert (first.body_skipped, second.body_skipped) == (True, True)
    assert sent < 64 * 1024 * 1024
    first_port, second_port = (entry.client_port for entry in server.log)
    assert first_port != second_port  # the first connection was closed, not reused


def test_a_short_declared_body_is_drained_and_its_connection_reused(
    server: FaultServer, engine: str
) -> None:
    body = b"\x89PNG" + bytes(DRAIN_LIMIT - 4)
    server.route("/icon.png", raw(200, {"Content-Type": "image/png"}, body))
    settings = FetchSettings("spindle-test/1", timeout=5.0, pool_size=1, accept_types=("a/b",))
    with open_fetcher(engine, settings) as fetch:
        outcomes = [fetch(make_fetch(server.url("/icon.png"))) for _ in range(3)]
    assert all(isinstance(o, Response) and o.body_skipped and o.body == b"" for o in outcomes)
    assert len({entry.client_port for entry in server.log}) == 1
