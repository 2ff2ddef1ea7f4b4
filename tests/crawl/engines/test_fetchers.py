"""One contract for both fetchers: every answer and fault the fault server can send, same outcome.

Each case is run against each engine with a fresh fetcher and checked against one expected
outcome (status, body and truncation of an answer; the kind of a failure) and the number of
requests the server saw, so the two engines agree by construction.
"""

from __future__ import annotations

import inspect
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import Message

import pytest

from spindle.crawl.core.values import ErrorKind, Failure, FetchKind, Response
from spindle.crawl.engines.request import FetchSettings
from tests.crawl.engines.harness import ENGINES, fetch_once, make_fetch, open_fetcher, summary
from tests.support import faultserver
from tests.support.faultserver import (
    BROKEN_HOST_URLS,
    DRIP_BODY,
    NOT_TEXT_CODECS,
    UNDECODABLE_CODECS,
    FaultServer,
    Handler,
    Reply,
    Request,
    bad_chunked,
    bad_content_length,
    delayed,
    drip_body,
    drip_headers,
    drip_status_line,
    early_hints,
    empty_reply,
    endless,
    gzip_bomb,
    huge,
    long_header,
    many_headers,
    page,
    raw,
    redirect,
    reset_mid_body,
    robots,
    robots_crawl_delay,
    sequence,
    short_body,
    text,
    truncated_chunked,
    verbatim,
)

SETTINGS = FetchSettings("spindle-test/1", timeout=5.0, pool_size=4)


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as srv:
        yield srv


def _body_of(handler: Handler) -> bytes:
    reply = handler(Request("/", "", Message(), threading.Event()))
    assert isinstance(reply, Reply)
    assert isinstance(reply.body, bytes)
    return reply.body


@dataclass(frozen=True)
class Case:
    """A handler, what both engines must make of it, and how many requests the server sees.

    The handler is built afresh for each test (``factory(*args, **kwargs)``), so a stateful
    one such as ``sequence`` starts over for each engine.
    """

    id: str
    factory: Callable[..., Handler]
    args: tuple[object, ...]
    kwargs: dict[str, object]
    expected: tuple[object, ...]
    requests: int
    max_bytes: int
    headers: tuple[tuple[str, str], ...] | None

    def handler(self) -> Handler:
        return self.factory(*self.args, **self.kwargs)


def case(
    id: str,
    factory: Callable[..., Handler],
    *args: object,
    expect: tuple[object, ...],
    requests: int = 1,
    max_bytes: int = 1_000_000,
    headers: tuple[tuple[str, str], ...] | None = None,
    **kwargs: object,
) -> Case:
    return Case(id, factory, args, kwargs, expect, requests, max_bytes, headers)


def answer(status: int, body: bytes, *, truncated: bool = False) -> tuple[object, ...]:
    return ("response", status, body, truncated)


def fails(kind: ErrorKind) -> tuple[object, ...]:
    return ("failure", kind)


def _page(*links: str, **kwargs: str) -> tuple[object, ...]:
    return answer(200, _body_of(page(*links, **kwargs)))


BOM = b"\xef\xbb\xbf"
MORE = b"<p>more</p>" * 5000

CONTENT_CASES = [
    case("page", page, "/a", "/b", title="t", expect=_page("/a", "/b", title="t")),
    case("text", text, "hello", expect=answer(200, b"hello")),
    case("raw-503", raw, 503, {"Retry-After": "7"}, b"busy", expect=answer(503, b"busy")),
    case(
        "robots-bom",
        robots,
        "User-agent: *\n",
        bom=True,
        expect=answer(200, BOM + b"User-agent: *\n"),
    ),
    case(
        "robots-crawl-delay",
        robots_crawl_delay,
        expect=answer(200, b"User-agent: *\nCrawl-delay: 86400\n"),
    ),
    case("redirect-301", redirect, "/new", status=301, expect=answer(301, b"")),
    case("redirect-broken-host", redirect, BROKEN_HOST_URLS[1], expect=answer(302, b"")),
    case("sequence-first", sequence, text("one"), text("two"), expect=answer(200, b"one")),
    case("delayed", delayed, 0.05, text("late"), expect=answer(200, b"late")),
    case(
        "huge-truncated",
        huge,
        3_000_000,
        expect=answer(200, b"x" * 50_000, truncated=True),
        max_bytes=50_000,
    ),
    case(
        "endless-truncated",
        endless,
        expect=answer(200, MORE[:50_000], truncated=True),
        max_bytes=50_000,
    ),
    case(
        "page-base-broken-host",
        page,
        "a",
        base=BROKEN_HOST_URLS[0],
        expect=_page("a", base=BROKEN_HOST_URLS[0]),
    ),
    case("page-broken-host-links", page, *BROKEN_HOST_URLS, expect=_page(*BROKEN_HOST_URLS)),
    *(
        case(f"page-charset-{codec}", page, "/a", charset=codec, expect=_page("/a", charset=codec))
        for codec in NOT_TEXT_CODECS + UNDECODABLE_CODECS
    ),
]

OK = b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nX-Tag: one\r\nset-cookie: b=2\r\n"
OK += b"Content-Length: 2\r\n\r\nok"
OK_HEADERS = (
    ("Set-Cookie", "a=1"),
    ("X-Tag", "one"),
    ("set-cookie", "b=2"),
    ("Content-Length", "2"),
)
HINTED_HEADERS = (("Content-Type", "text/html"), ("X-Final", "yes"), ("Content-Length", "13"))

WIRE_CASES = [
    case("verbatim-ok", verbatim, OK, expect=answer(200, b"ok"), headers=OK_HEADERS),
    case("verbatim-garbage", verbatim, b"garbage\r\n\r\n", expect=fails(ErrorKind.PROTOCOL)),
    case("verbatim-nothing", verbatim, b"", expect=fails(ErrorKind.CONNECTION), requests=2),
    case("empty-reply", empty_reply, expect=fails(ErrorKind.CONNECTION), requests=2),
    case("reset-mid-body", reset_mid_body, expect=fails(ErrorKind.CONNECTION)),
    case("short-body", short_body, expect=fails(ErrorKind.CONNECTION)),
    case("bad-chunked", bad_chunked, expect=fails(ErrorKind.PROTOCOL)),
    case("bad-chunked-later", bad_chunked, 0.3, expect=fails(ErrorKind.PROTOCOL)),
    case("truncated-chunked", truncated_chunked, expect=fails(ErrorKind.CONNECTION)),
    case("bad-content-length", bad_content_length, expect=fails(ErrorKind.PROTOCOL)),
    case("early-hints", early_hints, expect=answer(200, b"<p>hinted</p>"), headers=HINTED_HEADERS),
    case("100-headers", many_headers, 100, expect=answer(200, b"ok")),
    case("101-headers", many_headers, 101, expect=fails(ErrorKind.PROTOCOL)),
    case("8190-byte-line", long_header, 8190, expect=answer(200, b"ok")),
    case("8191-byte-line", long_header, 8191, expect=fails(ErrorKind.PROTOCOL)),
    case("fast-drip-status-line", drip_status_line, 0.001, expect=answer(200, DRIP_BODY)),
    case("fast-drip-headers", drip_headers, 0.001, expect=answer(200, DRIP_BODY)),
    case("fast-drip-body", drip_body, 0.001, expect=answer(200, DRIP_BODY)),
    case(
        "gzip-bomb",
        gzip_bomb,
        100_000_000,
        expect=fails(ErrorKind.DECOMPRESSION_BOMB),
        max_bytes=50_000,
    ),
    case(
        "corrupt-gzip",
        raw,
        200,
        {"Content-Encoding": "gzip"},
        b"not gzip",
        expect=fails(ErrorKind.DECODE),
    ),
    case(
        "unknown-encoding",
        raw,
        200,
        {"Content-Encoding": "br"},
        b"x",
        expect=fails(ErrorKind.DECODE),
    ),
]

CASES = CONTENT_CASES + WIRE_CASES


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_same_bytes_same_outcome(server: FaultServer, engine: str, case: Case) -> None:
    server.route("/case", case.handler())
    outcome = fetch_once(
        engine, SETTINGS, make_fetch(server.url("/case"), max_bytes=case.max_bytes)
    )
    assert summary(outcome) == case.expected
    assert server.count("/case") == case.requests
    if case.headers is not None:
        assert isinstance(outcome, Response)
        assert outcome.headers == case.headers


def test_every_handler_factory_has_a_case() -> None:
    factories = {
        name
        for name in faultserver.__all__
        if inspect.isfunction(getattr(faultserver, name))
        and getattr(faultserver, name).__annotations__.get("return") == "Handler"
    }
    assert factories == {case.factory.__name__ for case in CASES}


def test_both_engines_return_the_same_headers(server: FaultServer) -> None:
    server.route("/", page("/a"))
    headers = []
    for engine in ENGINES:
        outcome = fetch_once(engine, SETTINGS, make_fetch(server.url("/")))
        assert isinstance(outcome, Response)
        headers.append(tuple((k, v) for k, v in outcome.headers if k != "Date"))
    assert headers[0] == headers[1]
    assert [name for name, _ in headers[0]] == ["Server", "Content-Type", "Content-Length"]


def test_redirects_are_returned_never_followed(server: FaultServer, engine: str) -> None:
    chain = server.redirect_chain("/robots.txt", 5, robots("User-agent: *\nDisallow: /x\n"))
    for source, target in itertools.pairwise(chain):
        kind = FetchKind.ROBOTS if source == "/robots.txt" else FetchKind.PAGE
        outcome = fetch_once(engine, SETTINGS, make_fetch(server.url(source), kind=kind))
        assert isinstance(outcome, Response)
        assert (outcome.status, outcome.location, outcome.body) == (302, target, b"")
    last = fetch_once(engine, SETTINGS, make_fetch(server.url(chain[-1])))
    assert summary(last) == answer(200, b"User-agent: *\nDisallow: /x\n")
    assert server.paths() == chain


def test_headers_the_core_reads(server: FaultServer, engine: str) -> None:
    server.route("/", raw(503, {"Retry-After": "7", "X-Robots-Tag": "noindex"}, b""))
    outcome = fetch_once(engine, SETTINGS, make_fetch(server.url("/")))
    assert isinstance(outcome, Response)
    assert (outcome.status, outcome.retry_after, outcome.x_robots_tag) == (503, "7", "noindex")


def test_the_moment_a_request_went_out_is_reported(server: FaultServer, engine: str) -> None:
    """The core spaces a host's fetches from when each request went on the wire, by the
    clock that gives it ``now``: the moment the request was written, not when it was handed
    to the fetcher nor when the answer came."""
    arrived: list[float] = []

    def note_arrival(request: Request) -> Reply:
        arrived.append(time.monotonic())
        return page("<p>late</p>")(request)

    server.route("/slow", delayed(0.3, note_arrival))
    sent: list[float] = []
    with open_fetcher(engine, SETTINGS) as fetch:
        before = time.monotonic()
        outcome = fetch(make_fetch(server.url("/slow")), sent.append)
        after = time.monotonic()
    assert isinstance(outcome, Response)
    assert len(sent) == 1
    assert before <= sent[0] <= arrived[0] - 0.25  # written before the server waited
    assert arrived[0] <= after


@pytest.mark.parametrize("drip", [drip_status_line, drip_headers, drip_body])
def test_a_drip_is_cut_at_the_deadline(
    server: FaultServer, engine: str, drip: Callable[[float], Handler]
) -> None:
    server.route("/drip", drip(0.2))  # each byte comes within any per-read timeout
    settings = FetchSettings("spindle-test/1", timeout=0.5)
    outcome = fetch_once(engine, settings, make_fetch(server.url("/drip")))
    assert isinstance(outcome, Failure)
    assert outcome.kind is ErrorKind.TIMEOUT
    assert outcome.elapsed < 0.5 + 2.0  # a sanity bound only; the drip would take seconds
    assert outcome.message == (
        "no complete answer within the timeout: the response took longer than 0.5 s"
    )


def test_a_slow_answer_times_out(server: FaultServer, engine: str) -> None:
    server.route("/slow", delayed(3.0, page()))
    outcome = fetch_once(
        engine, FetchSettings("ua/1", timeout=0.2), make_fetch(server.url("/slow"))
    )
    assert summary(outcome) == fails(ErrorKind.TIMEOUT)


def test_refused_connection(engine: str) -> None:
    with FaultServer() as gone:
        url = gone.url("/")
    assert summary(fetch_once(engine, SETTINGS, make_fetch(url))) == fails(ErrorKind.CONNECTION)


def test_unresolvable_host(engine: str) -> None:
    outcome = fetch_once(engine, SETTINGS, make_fetch("http://spindle-test.invalid/"))
    assert summary(outcome) == fails(ErrorKind.DNS)


def test_tls_handshake_with_a_plain_http_server(server: FaultServer, engine: str) -> None:
    outcome = fetch_once(engine, SETTINGS, make_fetch(f"https://127.0.0.1:{server.port}/"))
    assert summary(outcome) == fails(ErrorKind.TLS)


def test_a_connection_the_server_closed_between_fetches_is_replaced(
    server: FaultServer, engine: str
) -> None:
    # Each answer keeps the connection alive by its headers, then the server closes it: the
    # pooled connection the next fetch takes may be dead already (RFC 9112, section 9.3.1).
    server.route("/", verbatim(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
    with open_fetcher(engine, FetchSettings("ua/1", timeout=5.0, pool_size=1)) as fetch:
        outcomes = [summary(fetch(make_fetch(server.url("/")))) for _ in range(30)]
    assert outcomes == [answer(200, b"ok")] * 30
    assert server.count("/") == 30
