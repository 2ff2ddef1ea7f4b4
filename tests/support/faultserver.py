"""A real HTTP/1.1 server on 127.0.0.1 whose answers a test scripts route by route.

Handlers are plain callables ``Request -> Reply`` built from small factories (``page``,
``raw``, ``redirect``, ``sequence``, ``delayed``, ``huge``, ``endless``, ``gzip_bomb``...), so
a test states the faults it injects in one line each. Every request is logged with its
arrival time (``time.monotonic``) before the handler runs, so politeness can be checked against
the server's own clock. Unrouted paths answer 404, which for ``/robots.txt`` means "allow all".

Every wait inside the server (latency, endless bodies) also watches the server's stop event,
so leaving the ``with`` block never hangs on a slow handler.
"""

from __future__ import annotations

import functools
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

__all__ = [
    "FaultServer",
    "LogEntry",
    "Reply",
    "Request",
    "delayed",
    "endless",
    "gzip_bomb",
    "huge",
    "page",
    "raw",
    "redirect",
    "robots",
    "sequence",
    "text",
]

# An endless body stops by itself after this much, so no test can stream forever.
_ENDLESS_LIMIT = 256 * 1024 * 1024
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Request:
    """What a handler sees: the path without the query, the query, the headers."""

    path: str
    query: str
    headers: Message
    stop: threading.Event


@dataclass(frozen=True)
class LogEntry:
    """One request as the server saw it arrive."""

    time: float
    path: str
    headers: Message


@dataclass
class Reply:
    """A response: status, headers and a body given whole (bytes) or as chunks (streamed)."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | Iterable[bytes] = b""


Handler = Callable[[Request], Reply]


def raw(status: int, headers: dict[str, str], body: bytes) -> Handler:
    """Always answer exactly this."""
    return lambda request: Reply(status, dict(headers), body)


def text(body: str, *, content_type: str = "text/plain", status: int = 200) -> Handler:
    """A text body with the given Content-Type."""
    return raw(status, {"Content-Type": content_type}, body.encode())


def page(*links: str, title: str = "page") -> Handler:
    """An HTML page whose body links to ``links`` in order."""
    anchors = "\n".join(f'<a href="{escape(link)}">{escape(link)}</a>' for link in links)
    html = f"<!doctype html><html><head><title>{escape(title)}</title></head>"
    html += f"<body><h1>{escape(title)}</h1>\n{anchors}\n</body></html>"
    return text(html, content_type="text/html; charset=utf-8")


def robots(body: str) -> Handler:
    """A robots.txt file."""
    return text(body, content_type="text/plain")


def redirect(location: str, *, status: int = 302) -> Handler:
    """A redirect to ``location``."""
    return raw(status, {"Location": location}, b"")


def sequence(*handlers: Handler) -> Handler:
    """The first request gets the first handler's answer, and so on; the last one repeats."""
    lock = threading.Lock()
    calls = [0]

    def handle(request: Request) -> Reply:
        with lock:
            index = min(calls[0], len(handlers) - 1)
            calls[0] += 1
        return handlers[index](request)

    return handle


def delayed(seconds: float, handler: Handler) -> Handler:
    """Answer like ``handler`` after ``seconds`` (cut short when the server stops)."""

    def handle(request: Request) -> Reply:
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


class FaultServer:
    """A threaded HTTP/1.1 server on 127.0.0.1 (an ephemeral port), scripted by routes."""

    def __init__(self) -> None:
        self._routes: dict[str, Handler] = {}
        self._prefixes: list[tuple[str, Handler]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.log: list[LogEntry] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
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

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` on this server."""
        return f"http://127.0.0.1:{self.port}{path}"

    def route(self, path: str, handler: Handler) -> None:
        """Answer requests for exactly ``path`` (query ignored) with ``handler``."""
        self._routes[path] = handler

    def route_prefix(self, prefix: str, handler: Handler) -> None:
        """Answer requests whose path starts with ``prefix`` (exact routes win)."""
        self._prefixes.append((prefix, handler))

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

    def _record(self, target: str, headers: Message) -> None:
        with self._lock:
            self.log.append(LogEntry(time.monotonic(), target, headers))

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                server._record(self.path, self.headers)
                parts = urlsplit(self.path)
                request = Request(parts.path, parts.query, self.headers, server._stop)
                reply = server._find(parts.path)(request)
                try:
                    self._send(reply)
                except (BrokenPipeError, ConnectionResetError):
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
                for chunk in reply.body:
                    self.wfile.write(chunk)

            def log_message(self, format: str, *args: object) -> None:
                """Silence the per-request stderr lines."""

        return Handler
