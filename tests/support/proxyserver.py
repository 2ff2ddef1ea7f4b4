"""A forward HTTP proxy on 127.0.0.1 for tests: absolute-form requests and CONNECT tunnels.

Every request is logged (:class:`ProxyEntry`: method, target, header fields in order, so the
``Proxy-Authorization`` the proxy saw) before it is answered. The proxy never resolves a
name: whatever host a request names, it connects to ``127.0.0.1`` on the request's port, so a
test can use invented host names (``site.test``) and still reach its
:class:`~tests.support.faultserver.FaultServer`.

* ``GET http://host:port/path`` is sent on to ``127.0.0.1:port`` as ``GET /path`` with the
  same header fields, less the hop-by-hop ones (``Proxy-Authorization``,
  ``Proxy-Connection``, ``Connection``, ``Keep-Alive``) and with ``Connection: close``; the
  answer is relayed with ``Connection: close`` in its head, then the connection is closed:
  one request per connection keeps the proxy free of any framing logic.
* ``CONNECT host:port`` connects to ``127.0.0.1:port``, answers ``200 Connection
  established`` and relays bytes both ways until either side closes.
* With ``credentials``, a request without the matching ``Proxy-Authorization`` gets ``407``.

Every relay loop waits at most :data:`_TICK` at a time, watches the server's stop event and
ends after :data:`_IDLE_LIMIT` seconds without a byte, so leaving the ``with`` block never
hangs.
"""

from __future__ import annotations

import base64
import select
import socket
import socketserver
import threading
from dataclasses import dataclass
from types import TracebackType
from typing import BinaryIO
from urllib.parse import urlsplit

__all__ = ["ProxyEntry", "ProxyServer"]

_TICK = 0.05
_IDLE_LIMIT = 30.0
_MAX_LINES = 200
_MAX_LINE = 65536
_HOP_BY_HOP = frozenset({"proxy-authorization", "proxy-connection", "connection", "keep-alive"})


@dataclass(frozen=True)
class ProxyEntry:
    """One request as the proxy received it."""

    method: str
    target: str
    headers: tuple[tuple[str, str], ...]

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (any case), or None."""
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    @property
    def proxy_authorization(self) -> str | None:
        """The ``Proxy-Authorization`` the proxy saw."""
        return self.header("Proxy-Authorization")


class ProxyServer:
    """A forward proxy on 127.0.0.1 (an ephemeral port); see the module docstring."""

    def __init__(self, *, credentials: tuple[str, str] | None = None) -> None:
        self.log: list[ProxyEntry] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._expected = None
        if credentials is not None:
            token = base64.b64encode(":".join(credentials).encode()).decode()
            self._expected = f"Basic {token}"
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": _TICK}, daemon=True
        )

    def __enter__(self) -> ProxyServer:
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

    def url(self, *, credentials: str | None = None) -> str:
        """The proxy's URL, with ``user:password@`` when ``credentials`` are given."""
        userinfo = "" if credentials is None else f"{credentials}@"
        return f"http://{userinfo}127.0.0.1:{self.port}"

    def targets(self) -> list[tuple[str, str]]:
        """(method, target) of every request, in arrival order."""
        with self._lock:
            return [(entry.method, entry.target) for entry in self.log]

    def _record(self, entry: ProxyEntry) -> None:
        with self._lock:
            self.log.append(entry)

    def _handler(self) -> type[socketserver.StreamRequestHandler]:
        proxy = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                head = _read_head(self.rfile)  # type: ignore[arg-type]
                if head is None:
                    return
                method, target, headers = head
                proxy._record(ProxyEntry(method, target, tuple(headers)))
                given = next((v for k, v in headers if k.lower() == "proxy-authorization"), None)
                if proxy._expected is not None and given != proxy._expected:
                    self.wfile.write(
                        b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                        b'Proxy-Authenticate: Basic realm="test"\r\n'
                        b"Content-Length: 0\r\nConnection: close\r\n\r\n"
                    )
                    return
                if method == "CONNECT":
                    self._tunnel(target)
                else:
                    self._forward(method, target, headers)

            def _upstream(self, port: int) -> socket.socket | None:
                try:
                    return socket.create_connection(("127.0.0.1", port), timeout=_IDLE_LIMIT)
                except OSError:
                    self.wfile.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                    return None

            def _tunnel(self, target: str) -> None:
                port = int(target.rpartition(":")[2])
                upstream = self._upstream(port)
                if upstream is None:
                    return
                with upstream:
                    self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    _relay(self.connection, upstream, proxy._stop)

            def _forward(self, method: str, target: str, headers: list[tuple[str, str]]) -> None:
                parts = urlsplit(target)
                if parts.scheme != "http" or parts.port is None:
                    self.wfile.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                    return
                upstream = self._upstream(parts.port)
                if upstream is None:
                    return
                with upstream:
                    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
                    lines = [f"{method} {path} HTTP/1.1"]
                    lines += [f"{k}: {v}" for k, v in headers if k.lower() not in _HOP_BY_HOP]
                    lines += ["Connection: close", "", ""]
                    upstream.sendall("\r\n".join(lines).encode("latin-1"))
                    answer = _receive_head(upstream)
                    if answer is None:
                        return
                    head, rest = answer
                    status_line, *fields = head.decode("latin-1").split("\r\n")
                    kept = [f for f in fields if f.partition(":")[0].lower() not in _HOP_BY_HOP]
                    out = [status_line, *kept, "Connection: close", "", ""]
                    self.wfile.write("\r\n".join(out).encode("latin-1") + rest)
                    _relay(self.connection, upstream, proxy._stop, one_way=True)

        return Handler


def _read_head(stream: BinaryIO) -> tuple[str, str, list[tuple[str, str]]] | None:
    """Read a request head: method, target, fields in order; None at a clean end of stream."""
    first = stream.readline(_MAX_LINE).decode("latin-1").rstrip("\r\n")
    if not first:
        return None
    fields: list[tuple[str, str]] = []
    for _ in range(_MAX_LINES):
        line = stream.readline(_MAX_LINE).decode("latin-1").rstrip("\r\n")
        if not line:
            break
        name, _, value = line.partition(":")
        fields.append((name.strip(), value.strip()))
    method, _, rest = first.partition(" ")
    target = rest.rpartition(" ")[0]
    return method, target, fields


def _receive_head(sock: socket.socket) -> tuple[bytes, bytes] | None:
    """Receive a response head (without its empty line) and the bytes that came after it;
    None when the upstream closed first."""
    data = b""
    while b"\r\n\r\n" not in data:
        if len(data) > _MAX_LINE:
            return None
        chunk = sock.recv(_MAX_LINE)
        if not chunk:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _relay(
    client: socket.socket, upstream: socket.socket, stop: threading.Event, *, one_way: bool = False
) -> None:
    """Copy bytes between the two sockets until one closes, the server stops, or nothing moves
    for :data:`_IDLE_LIMIT` seconds; ``one_way`` copies only from upstream to the client."""
    sockets = [upstream] if one_way else [client, upstream]
    idle = 0.0
    while not stop.is_set() and idle < _IDLE_LIMIT:
        readable, _, _ = select.select(sockets, [], [], _TICK)
        if not readable:
            idle += _TICK
            continue
        idle = 0.0
        for source in readable:
            try:
                data = source.recv(_MAX_LINE)
                if not data:
                    return
                (upstream if source is client else client).sendall(data)
            except OSError:
                return
