"""The fault server sends what its handlers claim, byte for byte, checked with a raw socket."""

from __future__ import annotations

import itertools
import socket
from collections.abc import Callable, Iterator

import pytest

from tests.support.faultserver import (
    BROKEN_HOST_URLS,
    DRIP_BODY,
    DRIP_HEADERS,
    DRIP_STATUS_LINE,
    FaultServer,
    Handler,
    bad_chunked,
    bad_content_length,
    drip_body,
    drip_headers,
    drip_status_line,
    early_hints,
    empty_reply,
    long_header,
    many_headers,
    page,
    redirect,
    reset_mid_body,
    robots,
    robots_crawl_delay,
    short_body,
    truncated_chunked,
    verbatim,
)

DRIPPED = DRIP_STATUS_LINE + DRIP_HEADERS + DRIP_BODY


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as srv:
        yield srv


def _request(port: int, path: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10.0)
    sock.sendall(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode()
    )
    return sock


def _read_all(sock: socket.socket) -> tuple[bytes, type[OSError] | None]:
    """Everything until the server closes, and the error that ended the read, if any."""
    data = bytearray()
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError as exc:
        return bytes(data), type(exc)
    finally:
        sock.close()
    return bytes(data), None


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        assert chunk, f"closed after {len(data)} of {size} bytes"
        data += chunk
    return bytes(data)


def _get(server: FaultServer, path: str) -> tuple[bytes, type[OSError] | None]:
    return _read_all(_request(server.port, path))


def _head_and_body(reply: bytes) -> tuple[list[bytes], bytes]:
    head, _, body = reply.partition(b"\r\n\r\n")
    return head.split(b"\r\n"), body


@pytest.mark.parametrize(
    "data", [b"garbage\r\n\r\n", b"", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"]
)
def test_verbatim_sends_exactly_the_bytes_then_closes(server: FaultServer, data: bytes) -> None:
    server.route("/", verbatim(data))
    assert _get(server, "/") == (data, None)


def test_empty_reply_closes_without_a_byte(server: FaultServer) -> None:
    server.route("/", empty_reply())
    assert _get(server, "/") == (b"", None)
    assert server.paths() == ["/"]


def test_reset_mid_body_sends_part_of_the_body_then_a_reset(server: FaultServer) -> None:
    server.route("/", reset_mid_body(declared=1000, sent=100))
    data, error = _get(server, "/")
    head, body = _head_and_body(data)
    assert head == [b"HTTP/1.1 200 OK", b"Content-Type: text/html", b"Content-Length: 1000"]
    assert (body, error) == (b"x" * 100, ConnectionResetError)


def test_early_hints_come_before_the_final_answer(server: FaultServer) -> None:
    server.route("/", early_hints(b"<p>hi</p>"))
    data, error = _get(server, "/")
    assert error is None
    assert data == (
        b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Final: yes\r\n"
        b"Content-Length: 9\r\n\r\n<p>hi</p>"
    )


@pytest.mark.parametrize("count", [1, 2, 101])
def test_many_headers_has_exactly_that_many_fields(server: FaultServer, count: int) -> None:
    server.route("/", many_headers(count))
    data, _ = _get(server, "/")
    head, body = _head_and_body(data)
    assert head[0] == b"HTTP/1.1 200 OK"
    assert len(head) - 1 == count
    assert head[-1] == b"Content-Length: 2"
    assert all(line.startswith(b"X-Filler-") for line in head[1:-1])
    assert body == b"ok"


@pytest.mark.parametrize("length", [9, 8190, 8191])
def test_long_header_line_has_exactly_that_length(server: FaultServer, length: int) -> None:
    server.route("/", long_header(length))
    data, _ = _get(server, "/")
    head, body = _head_and_body(data)
    assert head[1].startswith(b"X-Long: a")
    assert (len(head[1]), head[2], body) == (length, b"Content-Length: 2", b"ok")


def test_framing_faults(server: FaultServer) -> None:
    server.route("/short", short_body(declared=100, sent=10))
    server.route("/chunked", bad_chunked())
    server.route("/later", bad_chunked(0.05))
    server.route("/cut", truncated_chunked())
    server.route("/length", bad_content_length())
    short, _ = _get(server, "/short")
    assert _head_and_body(short) == (
        [b"HTTP/1.1 200 OK", b"Content-Type: text/html", b"Content-Length: 100"],
        b"x" * 10,
    )
    chunked, _ = _get(server, "/chunked")
    assert _head_and_body(chunked)[1] == b"5\r\nhello\r\nzz\r\nworld\r\n0\r\n\r\n"
    assert _get(server, "/later") == _get(server, "/chunked")
    cut, _ = _get(server, "/cut")
    assert _head_and_body(cut)[1] == b"5\r\nhello\r\n10\r\npartial"
    length, _ = _get(server, "/length")
    assert _head_and_body(length) == (
        [b"HTTP/1.1 200 OK", b"Content-Length: ten"],
        b"0123456789",
    )


@pytest.mark.parametrize("handler", [drip_status_line, drip_headers, drip_body])
def test_a_fast_drip_delivers_the_whole_answer(
    server: FaultServer, handler: Callable[[float], Handler]
) -> None:
    server.route("/", handler(0.001))
    assert _get(server, "/") == (DRIPPED, None)


@pytest.mark.parametrize(
    ("handler", "before", "slow"),
    [
        (drip_status_line, b"", DRIP_STATUS_LINE),
        (drip_headers, DRIP_STATUS_LINE, DRIP_HEADERS),
        (drip_body, DRIP_STATUS_LINE + DRIP_HEADERS, DRIP_BODY),
    ],
)
def test_a_drip_sends_one_byte_at_a_time_and_stops_with_the_server(
    handler: Callable[[float], Handler], before: bytes, slow: bytes
) -> None:
    with FaultServer() as server:
        server.route("/", handler(0.2))
        sock = _request(server.port, "/")
        # Two dripped bytes take 0.4 s; the whole drip would take seconds more.
        first = _read_exactly(sock, len(before) + 2)
    rest, error = _read_all(sock)
    received = first + rest
    assert error is None
    assert received == DRIPPED[: len(received)]
    assert len(before) + 2 <= len(received) < len(before) + len(slow)


def test_pages_with_charsets_bases_and_broken_hosts(server: FaultServer) -> None:
    server.route("/rot13", page("/a", charset="rot13"))
    server.route("/base", page("a", base=BROKEN_HOST_URLS[0]))
    server.route("/links", page(*BROKEN_HOST_URLS))
    server.route("/moved", redirect(BROKEN_HOST_URLS[1]))
    head, body = _head_and_body(_get(server, "/rot13")[0])
    assert b"Content-Type: text/html" in head
    assert b'<meta charset="rot13">' in body
    body = _head_and_body(_get(server, "/base")[0])[1]
    assert b'<base href="http://[::1/">' in body
    body = _head_and_body(_get(server, "/links")[0])[1]
    assert b'<a href="http://[::1/">' in body
    assert b'<a href="http://[foo]/x">' in body
    head, _ = _head_and_body(_get(server, "/moved")[0])
    assert head[0] == b"HTTP/1.1 302 Found"
    assert b"Location: http://[foo]/x" in head


def test_robots_variants(server: FaultServer) -> None:
    server.route("/bom.txt", robots("User-agent: *\nDisallow: /x\n", bom=True))
    server.route("/delay.txt", robots_crawl_delay())
    assert _head_and_body(_get(server, "/bom.txt")[0])[1] == (
        b"\xef\xbb\xbfUser-agent: *\nDisallow: /x\n"
    )
    assert _head_and_body(_get(server, "/delay.txt")[0])[1] == (
        b"User-agent: *\nCrawl-delay: 86400\n"
    )


def test_redirect_chain(server: FaultServer) -> None:
    chain = server.redirect_chain("/robots.txt", 5, robots("User-agent: *\n"))
    assert chain == ["/robots.txt"] + [f"/robots.txt.hop{i}" for i in range(1, 6)]
    for source, target in itertools.pairwise(chain):
        head, _ = _head_and_body(_get(server, source)[0])
        assert head[0] == b"HTTP/1.1 302 Found"
        assert f"Location: {target}".encode() in head
    assert _head_and_body(_get(server, chain[-1])[0])[1] == b"User-agent: *\n"
    assert server.paths() == chain
