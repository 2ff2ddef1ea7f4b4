"""Wire capture, one contract for both fetchers: the same server answers give the same Wire.

Each case runs against both engines with ``keep_wire`` and is checked against one exact
expected :class:`Wire` (request target and header fields as sent, the status line's version
and reason, the body as received before Content-Encoding was undone, and whether it is whole).
"""

from __future__ import annotations

import gzip
import random
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from spindle.crawl.core.values import Response, Wire
from spindle.crawl.engines.body import BodyReader
from spindle.crawl.engines.cookies import CookieJar
from spindle.crawl.engines.proxy import ProxyRules
from spindle.crawl.engines.request import ACCEPT, Credentials, FetchSettings
from tests.crawl.engines.harness import ENGINES, fetch_once, make_fetch
from tests.support.faultserver import FaultServer, Handler, endless, huge, raw, text, verbatim
from tests.support.proxyserver import ProxyServer


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as srv:
        yield srv


def _text(size: int, seed: int = 7) -> bytes:
    """Text that compresses about threefold: far from a decompression bomb."""
    rng = random.Random(seed)
    words = [b"spindle", b"crawl", b"wire", b"body", b"gzip", b"chunk", b"proxy", b"cookie"]
    out = bytearray()
    while len(out) < size:
        out += rng.choice(words) + b"%d " % rng.randrange(100_000)
    return bytes(out[:size])


PAGE = b"<p>hello</p>" * 100
ZIPPED = gzip.compress(PAGE)
LONG = _text(600_000)
LONG_ZIPPED = gzip.compress(LONG)
CHUNKED_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n"
MORE = b"<p>more</p>" * 5000


def _chunked(data: bytes, size: int) -> bytes:
    pieces = [data[i : i + size] for i in range(0, len(data), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


def _cut_gzip(max_bytes: int) -> bytes:
    """Where a body of LONG_ZIPPED cut at ``max_bytes`` stops (read in one piece)."""
    reader = BodyReader(max_bytes, "gzip", keep_raw=True)
    reader.feed(LONG_ZIPPED)
    return reader.raw


@dataclass(frozen=True)
class Case:
    id: str
    handler: Callable[[], Handler]
    http_version: str
    reason: str
    body: bytes
    complete: bool
    max_bytes: int = 1_000_000
    accept_types: tuple[str, ...] = ()


CASES = [
    Case("page", lambda: text("hello", content_type="text/html"), "HTTP/1.1", "OK", b"hello", True),
    Case(
        "gzip",
        lambda: raw(200, {"Content-Type": "text/html", "Content-Encoding": "gzip"}, ZIPPED),
        "HTTP/1.1",
        "OK",
        ZIPPED,
        True,
    ),
    Case(
        "chunked",
        lambda: verbatim(CHUNKED_HEAD + b"\r\n" + _chunked(b"hello, chunked world", 5)),
        "HTTP/1.1",
        "OK",
        b"hello, chunked world",
        True,
    ),
    Case(
        "gzip-chunked",
        lambda: verbatim(CHUNKED_HEAD + b"Content-Encoding: gzip\r\n\r\n" + _chunked(ZIPPED, 100)),
        "HTTP/1.1",
        "OK",
        ZIPPED,
        True,
    ),
    Case(
        "truncated",
        lambda: huge(300_000),
        "HTTP/1.1",
        "OK",
        b"x" * 100_000,
        False,
        max_bytes=100_000,
    ),
    Case(
        "truncated-endless",
        endless,
        "HTTP/1.1",
        "OK",
        MORE[:50_000],
        False,
        max_bytes=50_000,
    ),
    Case(
        "truncated-gzip",
        lambda: raw(200, {"Content-Encoding": "gzip"}, LONG_ZIPPED),
        "HTTP/1.1",
        "OK",
        _cut_gzip(100_000),
        False,
        max_bytes=100_000,
    ),
    Case(
        "404-with-body",
        lambda: text("no such page", status=404),
        "HTTP/1.1",
        "Not Found",
        b"no such page",
        True,
    ),
    Case(
        "http-1.0-own-reason",
        lambda: verbatim(b"HTTP/1.0 200 Fine, thanks\r\nContent-Length: 2\r\n\r\nok"),
        "HTTP/1.0",
        "Fine, thanks",
        b"ok",
        True,
    ),
    Case(
        "skipped",
        lambda: raw(200, {"Content-Type": "image/png"}, b"\x89PNG" + bytes(100)),
        "HTTP/1.1",
        "OK",
        b"",
        False,
        accept_types=("text/html",),
    ),
    Case(
        "skipped-empty",
        lambda: raw(200, {"Content-Type": "image/png"}, b""),
        "HTTP/1.1",
        "OK",
        b"",
        True,
        accept_types=("text/html",),
    ),
]


def _request_headers(server: FaultServer, *extra: tuple[str, str]) -> tuple[tuple[str, str], ...]:
    return (
        ("Host", f"127.0.0.1:{server.port}"),
        ("User-Agent", "spindle-test/1"),
        ("Accept", ACCEPT),
        ("Accept-Encoding", "gzip, deflate"),
        *extra,
    )


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_same_answers_same_wire(server: FaultServer, case: Case) -> None:
    server.route("/case", case.handler())
    settings = FetchSettings(
        "spindle-test/1", timeout=5.0, keep_wire=True, accept_types=case.accept_types
    )
    wires = []
    for engine in ENGINES:
        outcome = fetch_once(
            engine, settings, make_fetch(server.url("/case"), max_bytes=case.max_bytes)
        )
        assert isinstance(outcome, Response), outcome
        assert outcome.wire is not None
        wires.append(outcome.wire)
    assert wires[0] == wires[1]
    assert wires[0] == Wire(
        target="/case",
        request_headers=_request_headers(server),
        http_version=case.http_version,
        reason=case.reason,
        body=case.body,
        complete=case.complete,
    )


def test_a_cut_compressed_body_keeps_what_the_decoder_took(
    server: FaultServer, engine: str
) -> None:
    server.route("/case", raw(200, {"Content-Encoding": "gzip"}, LONG_ZIPPED))
    settings = FetchSettings("spindle-test/1", timeout=5.0, keep_wire=True)
    outcome = fetch_once(engine, settings, make_fetch(server.url("/case"), max_bytes=100_000))
    assert isinstance(outcome, Response)
    assert outcome.wire is not None
    kept = outcome.wire.body
    assert (outcome.body, outcome.truncated) == (LONG[:100_000], True)
    assert LONG_ZIPPED.startswith(kept)
    assert 0 < len(kept) < len(LONG_ZIPPED) // 2
    assert zlib.decompressobj(31).decompress(kept).startswith(outcome.body)


def test_no_wire_unless_asked(server: FaultServer, engine: str) -> None:
    server.route("/", text("hello"))
    outcome = fetch_once(engine, FetchSettings("spindle-test/1"), make_fetch(server.url("/")))
    assert isinstance(outcome, Response)
    assert outcome.wire is None


def test_the_wire_holds_every_header_sent(server: FaultServer) -> None:
    jar = CookieJar()
    jar.update(server.url("/"), (("Set-Cookie", "sid=abc"),))
    settings = FetchSettings(
        "spindle-test/1",
        keep_wire=True,
        headers={"X-Trace": "t1", "Accept": "text/html"},
        cookies=jar,
        credentials={server.url(""): Credentials("bob", "hunter2")},
    )
    server.route("/a", text("ok"))
    wires = []
    for engine in ENGINES:
        outcome = fetch_once(engine, settings, make_fetch(server.url("/a?q=1")))
        assert isinstance(outcome, Response)
        wires.append(outcome.wire)
    expected = (
        ("Host", f"127.0.0.1:{server.port}"),
        ("User-Agent", "spindle-test/1"),
        ("Accept", "text/html"),
        ("Accept-Encoding", "gzip, deflate"),
        ("X-Trace", "t1"),
        ("Cookie", "sid=abc"),
        ("Authorization", "Basic Ym9iOmh1bnRlcjI="),
    )
    assert wires[0] == wires[1]
    assert wires[0] is not None
    assert (wires[0].target, wires[0].request_headers) == ("/a?q=1", expected)
    assert [list(entry.headers.items()) for entry in server.log] == [list(expected)] * 2


def test_through_a_proxy_the_target_is_absolute_and_proxy_credentials_are_left_out(
    server: FaultServer,
) -> None:
    server.route("/a", text("ok"))
    with ProxyServer() as proxy:
        rules = ProxyRules.from_environment({}, proxy=proxy.url(credentials="pat:pw"))
        settings = FetchSettings("spindle-test/1", keep_wire=True, proxies=rules)
        url = server.url("/a", host="site.test")
        wires = []
        for engine in ENGINES:
            outcome = fetch_once(engine, settings, make_fetch(url))
            assert isinstance(outcome, Response)
            wires.append(outcome.wire)
        assert [entry.proxy_authorization for entry in proxy.log] == ["Basic cGF0OnB3"] * 2
    assert wires[0] == wires[1]
    assert wires[0] is not None
    assert wires[0].target == url
    assert wires[0].request_headers == (
        ("Host", f"site.test:{server.port}"),
        ("User-Agent", "spindle-test/1"),
        ("Accept", ACCEPT),
        ("Accept-Encoding", "gzip, deflate"),
    )
