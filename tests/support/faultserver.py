"""A real HTTP/1.1 server on a loopback address (127.0.0.1 by default) whose answers a test
scripts route by route.

Handlers are plain callables ``Request -> Reply | Wire`` built from small factories (``page``,
``raw``, ``redirect``, ``sequence``, ``delayed``, ``huge``, ``endless``, ``gzip_bomb``...), so
a test states the faults it injects in one line each. Every request is logged with its
arrival time (``time.monotonic``) before the handler runs, so politeness can be checked against
the server's own clock; ``spans`` adds when each answer was written out, so the requests a
server was handling at once can be counted. Unrouted paths answer 404, which for
``/robots.txt`` means "allow all".

A :class:`Reply` goes through the standard HTTP writer. A :class:`Wire` reply is the raw-socket
mode: once the request is read, its script writes bytes straight onto the socket (or resets it),
and the connection is closed afterwards. The byte-level faults (``verbatim``, the drips,
``early_hints``, ``reset_mid_body``, ``many_headers``...) are built on it.

Every wait inside the server (latency, drips, endless bodies) also watches the server's stop
event, and every loop is bounded in count, so leaving the ``with`` block never hangs on a slow
handler.

``FaultServer(tls=context)`` is the same server behind TLS (see :mod:`tests.support.tls` for a
test CA): the handshake runs on the connection's own thread, and a handshake the client
abandons (it did not trust the certificate) is counted, never logged as a request
(:meth:`FaultServer.wait_for_tls_failures`). Each log entry carries the client's port, so a
test can tell whether two requests came on one connection; each streamed body's end is
recorded with the bytes the server managed to write (:meth:`FaultServer.wait_for_stream`).
"""

from __future__ import annotations

import functools
import itertools
import socket
import ssl
import struct
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Final
from urllib.parse import urlsplit

__all__ = [
    "BROKEN_HOST_URLS",
    "DRIP_BODY",
    "DRIP_HEADERS",
    "DRIP_STATUS_LINE",
    "NOT_TEXT_CODECS",
    "UNDECODABLE_CODECS",
    "FaultServer",
    "Handler",
    "LogEntry",
    "Reply",
    "Request",
    "Span",
    "Wire",
    "bad_chunked",
    "bad_content_length",
    "delayed",
    "drip_body",
    "drip_headers",
    "drip_status_line",
    "early_hints",
    "empty_reply",
    "endless",
    "gzip_bomb",
    "huge",
    "long_header",
    "many_headers",
    "page",
    "raw",
    "redirect",
    "reset_mid_body",
    "robots",
    "robots_crawl_delay",
    "sequence",
    "short_body",
    "text",
    "truncated_chunked",
    "verbatim",
]

# An endless body stops by itself after this much, so no test can stream forever.
_ENDLESS_LIMIT = 256 * 1024 * 1024
_CHUNK = 64 * 1024
# A drip sends at most this many bytes one at a time, so it ends by itself.
_DRIP_LIMIT = 256

BROKEN_HOST_URLS = ("http://[::1/", "http://[foo]/x")
"""URLs whose bracketed host is broken: an unclosed IPv6 literal, and a non-address in brackets."""

NOT_TEXT_CODECS = ("rot13", "base64", "hex", "zlib")
"""Python codec names that are not text encodings (str-to-str or bytes-to-bytes codecs)."""

UNDECODABLE_CODECS = ("idna", "undefined")
"""Python text codec names that cannot decode leniently (``undefined`` always raises)."""


@dataclass(frozen=True)
class Request:
    """What a handler sees: the path without the query, the query, the headers."""

    path: str
    query: str
    headers: Message
    stop: threading.Event


@dataclass(frozen=True)
class LogEntry:
    """One request as the server saw it arrive, and the client port it came from."""

    time: float
    path: str
    headers: Message
    client_port: int = 0


@dataclass(frozen=True)
class Span:
    """One request from its arrival to the end of its answer (server clock)."""

    arrived: float
    finished: float
    path: str


@dataclass
class Reply:
    """A response: status, headers and a body given whole (bytes) or as chunks (streamed)."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | Iterable[bytes] = b""


@dataclass(frozen=True)
class Wire:
    """A raw-socket reply: ``script(sock, stop)`` writes the bytes itself, then the server closes.

    The script runs after the request was read; nothing else is written on the connection, and
    the server closes it (an orderly FIN) when the script returns, unless the script reset it.
    A client that hangs up mid-script ends the script (the write error is swallowed).
    """

    script: Callable[[socket.socket, threading.Event], None]


Handler = Callable[[Request], Reply | Wire]


def raw(status: int, headers: dict[str, str], body: bytes) -> Handler:
    """Always answer exactly this."""
    return lambda request: Reply(status, dict(headers), body)


def text(body: str, *, content_type: str = "text/plain", status: int = 200) -> Handler:
    """A text body with the given Content-Type."""
    return raw(status, {"Content-Type": content_type}, body.encode())


def page(
    *links: str, title: str = "page", base: str | None = None, charset: str | None = None
) -> Handler:
    """An HTML page whose body links to ``links`` in order.

    ``base`` adds ``<base href>``; ``charset`` adds ``<meta charset>`` and leaves the charset
    out of the Content-Type header, so the page's own declaration is the one that counts (the
    body stays ASCII, whatever the name says).
    """
    anchors = "\n".join(f'<a href="{escape(link)}">{escape(link)}</a>' for link in links)
    meta = "" if charset is None else f'<meta charset="{escape(charset)}">'
    base_tag = "" if base is None else f'<base href="{escape(base)}">'
    html = f"<!doctype html><html><head>{meta}{base_tag}<title>{escape(title)}</title></head>"
    html += f"<body><h1>{escape(title)}</h1>\n{anchors}\n</body></html>"
    content_type = "text/html" if charset is not None else "text/html; charset=utf-8"
    return text(html, content_type=content_type)


def robots(body: str, *, bom: bool = False) -> Handler:
    """A robots.txt file; ``bom`` starts it with a UTF-8 byte order mark."""
    data = (b"\xef\xbb\xbf" if bom else b"") + body.encode()
    return raw(200, {"Content-Type": "text/plain"}, data)


def robots_crawl_delay(seconds: float = 86400) -> Handler:
    """A robots.txt allowing everything with ``Crawl-delay: seconds`` (a day, by default)."""
    return robots(f"User-agent: *\nCrawl-delay: {seconds:g}\n")


def redirect(location: str, *, status: int = 302) -> Handler:
    """A redirect to ``location`` (sent as given, even when it is not a valid URL)."""
    return raw(status, {"Location": location}, b"")


def sequence(*handlers: Handler) -> Handler:
    """The first request gets the first handler's answer, and so on; the last one repeats."""
    lock = threading.Lock()
    calls = [0]

    def handle(request: Request) -> Reply | Wire:
        with lock:
            index = min(calls[0], len(handlers) - 1)
            calls[0] += 1
        return handlers[index](request)

    return handle


def delayed(seconds: float, handler: Handler) -> Handler:
    """Answer like ``handler`` after ``seconds`` (cut short when the server stops)."""

    def handle(request: Request) -> Reply | Wire:
        request.stop.wait(seconds)
        return handler(request)

    return handle


def huge(size: int) -> Handler:
    """An HTML body of exactly ``size`` bytes, streamed with a Content-Length."""

    def chunks() -> Iterator[bytes]:
        left = size
        while left > 0:
            n = min(left, _CHUNK)
            yield b"x" * n
            left -= n

    return lambda request: Reply(
        200, {"Content-Type": "text/html", "Content-Length": str(size)}, chunks()
    )


def endless() -> Handler:
    """An HTML body with no length that never ends (until the client hangs up or a cap)."""

    def chunks(stop: threading.Event) -> Iterator[bytes]:
        sent = 0
        while sent < _ENDLESS_LIMIT and not stop.is_set():
            yield b"<p>more</p>" * (_CHUNK // 11)
            sent += _CHUNK

    return lambda request: Reply(200, {"Content-Type": "text/html"}, chunks(request.stop))


@functools.cache
def _zeros_gzipped(size: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: gzip framing
    block = bytes(1024 * 1024)
    parts = [compressor.compress(block) for _ in range(size // len(block))]
    parts.append(compressor.compress(bytes(size % len(block))))
    parts.append(compressor.flush())
    return b"".join(parts)


def gzip_bomb(size: int) -> Handler:
    """A small gzip body that inflates to ``size`` bytes of zeros."""
    headers = {"Content-Type": "text/html", "Content-Encoding": "gzip"}
    return raw(200, headers, _zeros_gzipped(size))


# -- raw-socket faults -------------------------------------------------------------------------

DRIP_STATUS_LINE: Final = b"HTTP/1.1 200 OK\r\n"
DRIP_HEADERS: Final = b"Content-Type: text/html\r\nContent-Length: 14\r\n\r\n"
DRIP_BODY: Final = b"<p>dripped</p>"


def verbatim(data: bytes) -> Handler:
    """Send ``data`` byte for byte (no status line or header is added), then close."""
    return lambda request: Wire(lambda sock, stop: sock.sendall(data))


def _drip(before: bytes, slow: bytes, after: bytes, interval: float) -> Handler:
    assert len(slow) <= _DRIP_LIMIT

    def script(sock: socket.socket, stop: threading.Event) -> None:
        sock.sendall(before)
        for i in range(len(slow)):
            if stop.wait(interval):
                return
            sock.sendall(slow[i : i + 1])
        sock.sendall(after)

    return lambda request: Wire(script)


def drip_status_line(interval: float) -> Handler:
    """A 200 whose status line comes one byte per ``interval`` seconds; the rest at once."""
    return _drip(b"", DRIP_STATUS_LINE, DRIP_HEADERS + DRIP_BODY, interval)


def drip_headers(interval: float) -> Handler:
    """A 200 whose header block comes one byte per ``interval`` seconds; the rest at once."""
    return _drip(DRIP_STATUS_LINE, DRIP_HEADERS, DRIP_BODY, interval)


def drip_body(interval: float) -> Handler:
    """A 200 with a Content-Length whose body comes one byte per ``interval`` seconds."""
    return _drip(DRIP_STATUS_LINE + DRIP_HEADERS, DRIP_BODY, b"", interval)


def early_hints(body: bytes = b"<p>hinted</p>") -> Handler:
    """A ``103 Early Hints`` interim response with a Link header, then a 200 with ``body``."""
    hints = b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n\r\n"
    final = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Final: yes\r\n"
    return verbatim(hints + final + b"Content-Length: %d\r\n\r\n%s" % (len(body), body))


def _reset(sock: socket.socket) -> None:
    """Abort the connection: with SO_LINGER 0, closing sends RST instead of FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def reset_mid_body(declared: int = 1000, sent: int = 100) -> Handler:
    """A 200 declaring ``declared`` body bytes that resets the connection after ``sent``."""

    def script(sock: socket.socket, stop: threading.Event) -> None:
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n")
        sock.sendall(b"Content-Length: %d\r\n\r\n%s" % (declared, b"x" * sent))
        _reset(sock)

    return lambda request: Wire(script)


def empty_reply() -> Handler:
    """Read the request, then close the connection without sending a byte (an orderly FIN)."""
    return lambda request: Wire(lambda sock, stop: None)


def many_headers(count: int) -> Handler:
    """A 200 whose head holds exactly ``count`` header fields (``Content-Length`` and fillers)."""
    assert count >= 1
    fillers = b"".join(b"X-Filler-%04d: x\r\n" % i for i in range(count - 1))
    return verbatim(b"HTTP/1.1 200 OK\r\n" + fillers + b"Content-Length: 2\r\n\r\nok")


def long_header(line_length: int) -> Handler:
    """A 200 with one ``X-Long: aaa...`` field line of exactly ``line_length`` bytes (no CRLF)."""
    name = b"X-Long: "
    assert line_length > len(name)
    line = name + b"a" * (line_length - len(name))
    return verbatim(b"HTTP/1.1 200 OK\r\n" + line + b"\r\nContent-Length: 2\r\n\r\nok")


def short_body(declared: int = 100, sent: int = 10) -> Handler:
    """A 200 declaring ``declared`` body bytes that closes (FIN) after sending ``sent``."""
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n"
    return verbatim(head % declared + b"x" * sent)


def bad_chunked(gap: float = 0.0) -> Handler:
    """A chunked 200 whose second chunk-size line is not hexadecimal.

    With ``gap`` > 0 the bad line comes ``gap`` seconds after the head and the first chunk, so
    a client has handed the head over before its parser meets the bad line.
    """
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n"
    first, rest = head + b"5\r\nhello\r\n", b"zz\r\nworld\r\n0\r\n\r\n"

    def script(sock: socket.socket, stop: threading.Event) -> None:
        sock.sendall(first)
        if gap > 0 and stop.wait(gap):
            return
        sock.sendall(rest)

    return lambda request: Wire(script)


def truncated_chunked() -> Handler:
    """A chunked 200 that closes (FIN) in the middle of a chunk, before the last chunk."""
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n"
    return verbatim(head + b"5\r\nhello\r\n10\r\npartial")


def bad_content_length() -> Handler:
    """A 200 whose Content-Length is not a number."""
    return verbatim(b"HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n0123456789")


class _QuietServer(ThreadingHTTPServer):
    """A client hanging up (reset, broken pipe) is part of the faults: no traceback for it."""

    tls: ssl.SSLContext | None = None
    on_tls_failure: Callable[[], None] = staticmethod(lambda: None)

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]

    def finish_request(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        if self.tls is None:
            super().finish_request(request, client_address)  # type: ignore[arg-type]
            return
        request.settimeout(_HANDSHAKE_TIMEOUT)
        try:
            wrapped = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):  # the client did not trust us, or hung up
            self.on_tls_failure()
            return
        wrapped.settimeout(None)
        try:
            super().finish_request(wrapped, client_address)  # type: ignore[arg-type]
        finally:
            wrapped.close()


_HANDSHAKE_TIMEOUT = 10.0


class FaultServer:
    """A threaded HTTP/1.1 server on ``host`` (any 127.x.y.z address works on Linux; an
    ephemeral port), scripted by routes."""

    def __init__(self, *, tls: ssl.SSLContext | None = None, host: str = "127.0.0.1") -> None:
        self._routes: dict[str, Handler] = {}
        self._prefixes: list[tuple[str, Handler]] = []
        self._lock = threading.Lock()
        self._streams_done = threading.Condition(self._lock)
        self._stop = threading.Event()
        self.log: list[LogEntry] = []
        self.streams: list[tuple[str, int]] = []
        self.spans: list[Span] = []
        self.host = host
        self.scheme = "http" if tls is None else "https"
        self._server = _QuietServer((host, 0), self._handler_class())
        self._server.tls = tls
        self._tls_failures = 0
        self._server.on_tls_failure = self._tls_failed
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> FaultServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def url(self, path: str, *, host: str | None = None) -> str:
        """The absolute URL of ``path`` on this server (``host``, when given, must reach the
        address the server listens on)."""
        return f"{self.scheme}://{host or self.host}:{self.port}{path}"

    def wait_for_tls_failures(self, count: int, timeout: float = 10.0) -> int:
        """How many TLS handshakes failed (a client that did not trust the certificate), once
        at least ``count`` did or ``timeout`` seconds passed: the server sees a client's
        refusal after the client has reported it."""
        with self._streams_done:
            self._streams_done.wait_for(lambda: self._tls_failures >= count, timeout)
            return self._tls_failures

    def _tls_failed(self) -> None:
        with self._streams_done:
            self._tls_failures += 1
            self._streams_done.notify_all()

    def wait_for_stream(self, path: str, timeout: float = 10.0) -> int:
        """The bytes written by the first streamed body of ``path`` once it ended (the body
        ran out, or the client hung up); waits for that at most ``timeout`` seconds.

        Raises:
            TimeoutError: the stream did not end in time (a client still reading).
        """
        with self._streams_done:
            found = self._streams_done.wait_for(
                lambda: any(p == path for p, _ in self.streams), timeout
            )
            if not found:
                raise TimeoutError(f"the body of {path} was still streaming after {timeout} s")
            return next(sent for p, sent in self.streams if p == path)

    def route(self, path: str, handler: Handler) -> None:
        """Answer requests for exactly ``path`` (query ignored) with ``handler``."""
        self._routes[path] = handler

    def route_prefix(self, prefix: str, handler: Handler) -> None:
        """Answer requests whose path starts with ``prefix`` (exact routes win)."""
        self._prefixes.append((prefix, handler))

    def redirect_chain(self, path: str, hops: int, handler: Handler) -> list[str]:
        """Route ``hops`` redirects (302) starting at ``path``, the last one to ``handler``.

        The chain is ``path -> {path}.hop1 -> ... -> {path}.hop{hops}``; the last path answers
        with ``handler``. Returns the paths of the chain in order (``hops + 1`` of them).
        """
        chain = [path] + [f"{path}.hop{i}" for i in range(1, hops + 1)]
        for source, target in itertools.pairwise(chain):
            self.route(source, redirect(target))
        self.route(chain[-1], handler)
        return chain

    def paths(self) -> list[str]:
        """Requested paths (with their query, if any) in arrival order."""
        with self._lock:
            return [entry.path for entry in self.log]

    def count(self, path: str) -> int:
        """How many requests asked for ``path``."""
        return self.paths().count(path)

    def _find(self, path: str) -> Handler:
        if path in self._routes:
            return self._routes[path]
        for prefix, handler in self._prefixes:
            if path.startswith(prefix):
                return handler
        return text("not found", status=404)

    def _record(self, target: str, headers: Message, client_port: int) -> None:
        with self._lock:
            self.log.append(LogEntry(time.monotonic(), target, headers, client_port))

    def _stream_ended(self, path: str, sent: int) -> None:
        with self._streams_done:
            self.streams.append((path, sent))
            self._streams_done.notify_all()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                arrived = time.monotonic()
                try:
                    self._answer()
                finally:
                    span = Span(arrived, time.monotonic(), self.path)
                    with server._lock:
                        server.spans.append(span)

            def _answer(self) -> None:
                server._record(self.path, self.headers, self.client_address[1])
                parts = urlsplit(self.path)
                request = Request(parts.path, parts.query, self.headers, server._stop)
                reply = server._find(parts.path)(request)
                try:
                    if isinstance(reply, Wire):
                        self.close_connection = True
                        reply.script(self.connection, server._stop)
                    else:
                        self._send(reply)
                except OSError:  # the client hung up (broken pipe, reset)
                    self.close_connection = True

            def _send(self, reply: Reply) -> None:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if isinstance(reply.body, bytes):
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                    return
                if "Content-Length" not in reply.headers:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                sent = 0
                try:
                    for chunk in reply.body:
                        self.wfile.write(chunk)
                        sent += len(chunk)
                finally:
                    server._stream_ended(urlsplit(self.path).path, sent)

            def log_message(self, format: str, *args: object) -> None:
                """Silence the per-request stderr lines."""

        return Handler
