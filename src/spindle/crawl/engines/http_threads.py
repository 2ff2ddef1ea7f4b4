"""Blocking HTTP for the thread engine: one shared urllib3 pool, a watchdog, bodies under caps.

Each call turns one :class:`~spindle.crawl.core.values.Fetch` into a ``Response`` or a
``Failure``; it never retries and never follows a redirect (the core decides both), and it
never raises for the URL it was given: anything that goes wrong is classified by
:mod:`.failures` (unexpected exceptions become ``crash``).

``timeout`` bounds the whole fetch. urllib3 only bounds each connect and each read, so a
:class:`~.watchdog.Watchdog` holds the deadline of every fetch in flight: the pool's connections
register their socket with the fetch running on their thread when they connect and when they
send a request, and at the deadline the watchdog shuts the socket down, which ends a read
blocked in any phase (status line, headers, body). Two phases cannot be cut: name resolution
(``getaddrinfo`` cannot be interrupted) and a TLS handshake (the socket being wrapped cannot be
reached until the handshake ends), which only the per-read timeout bounds; a fetch that passes
its deadline there is still reported as a timeout when it returns.

A GET whose connection closes or resets before the response head is complete is sent once
more on a new connection, as aiohttp does in the asyncio engine (see :mod:`.failures`).

Response heads are read by :mod:`.head_reader` (through ``response_class`` on the
connections), which skips interim 1xx responses and enforces the limits of :mod:`.head`
exactly as the asyncio engine does, without touching :mod:`http.client`'s global limits.

Requests through a proxy (:mod:`.proxy`) go through one urllib3 ``ProxyManager`` per proxy:
http URLs in absolute form on a connection to the proxy, https URLs through a ``CONNECT``
tunnel; the proxy's credentials become ``Proxy-Authorization``. Every pool uses the one TLS
context of :mod:`.tls`. When the settings keep the wire, the connection records the request
line's target and each header field as it is put on the wire (``putrequest``/``putheader``).
"""

from __future__ import annotations

import http.client
import re
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Final

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    HTTPError,
    InvalidChunkLength,
    InvalidHeader,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    SSLError,
)
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from spindle.crawl.core.values import Fetch, Outcome, Response
from spindle.crawl.engines.accept import DRAIN_LIMIT, declared_length, wants_body
from spindle.crawl.engines.body import BodyReader, build_response, content_encoding
from spindle.crawl.engines.failures import (
    COMMON_ROWS,
    Fault,
    Rows,
    classify,
    failure,
    timed_out,
)
from spindle.crawl.engines.head import decode_value, wire_headers
from spindle.crawl.engines.head_reader import Head, read_head
from spindle.crawl.engines.proxy import Proxy, TunnelRefused
from spindle.crawl.engines.request import (
    FetchSettings,
    PreparedRequest,
    prepare,
    remember_cookies,
)
from spindle.crawl.engines.tls import client_context
from spindle.crawl.engines.watchdog import Attempt, Watchdog
from spindle.crawl.engines.wire import SentRequest, build_wire

__all__ = ["ThreadFetcher"]

_CHUNK = 64 * 1024
_TUNNEL_FAILED: Final = re.compile(r"Tunnel connection failed: ([0-9]{3}) ?(.*)", re.DOTALL)

ROWS: Final[Rows] = (
    *COMMON_ROWS,
    (NameResolutionError, Fault.NAME_NOT_FOUND),
    (socket.gaierror, Fault.NAME_NOT_FOUND),
    # urllib3 makes NewConnectionError a subclass of ConnectTimeoutError: before the timeouts.
    (NewConnectionError, Fault.REFUSED),
    (Urllib3Timeout, Fault.TIMED_OUT),
    (TimeoutError, Fault.TIMED_OUT),
    (SSLError, Fault.TLS_FAILED),
    (ssl.SSLError, Fault.TLS_FAILED),
    (InvalidChunkLength, Fault.NOT_HTTP),  # a subclass of IncompleteRead: before it
    (http.client.IncompleteRead, Fault.CLOSED),
    (ConnectionError, Fault.CLOSED),
    (ProtocolError, Fault.CLOSED),
    (InvalidHeader, Fault.NOT_HTTP),
    (http.client.HTTPException, Fault.NOT_HTTP),
    (OSError, Fault.CLOSED),
)
"""urllib3 and http.client exceptions, by fault (see :mod:`.failures`)."""


@dataclass(slots=True)
class _Call:
    """The fetch running on this thread: its watchdog attempt, the head once read, and the
    request as sent when the wire is kept."""

    watchdog: Watchdog
    attempt: Attempt
    head: Head | None = None
    sent: SentRequest | None = None
    on_sent: Callable[[float], None] | None = None


_CURRENT: ContextVar[_Call | None] = ContextVar("spindle_fetch_call", default=None)


def _watch(sock: socket.socket | None) -> None:
    call = _CURRENT.get()
    if call is not None and sock is not None:
        call.watchdog.watch(call.attempt, sock)


class _HeadResponse(http.client.HTTPResponse):
    """http.client's response with the head read by :func:`.head_reader.read_head`."""

    def begin(self) -> None:
        if getattr(self, "_spindle_begun", False):
            return
        self._spindle_begun = True
        head = read_head(self.fp.readline)
        call = _CURRENT.get()
        if call is not None:
            call.head = head
        message = http.client.HTTPMessage()
        for name, value in head.fields:
            message[name.decode("latin-1")] = value.decode("latin-1")
        self.headers = self.msg = message
        self.code = self.status = head.status
        self.reason = decode_value(head.reason)
        self.version = 11 if head.version >= (1, 1) else 10
        self.chunked = head.framing.chunked
        self.chunk_left = None
        self.length = head.framing.content_length
        connection = {t.strip() for t in message.get("Connection", "").lower().split(",")}
        self.will_close = "close" in connection or (
            self.version == 10 and "keep-alive" not in connection
        )
        if head.status in (204, 304) or 100 <= head.status <= 199:
            self.length = 0
            self.will_close = self.will_close or head.status == 101
        if not self.will_close and not self.chunked and self.length is None:
            self.will_close = True  # the body ends when the connection does


class _Watched:
    """Registers the connection's socket with the current fetch's watchdog deadline, both when
    it is made and when a request starts on it (a reused connection); records the request as
    it is sent when the current fetch keeps the wire."""

    sock: socket.socket | None

    def _new_conn(self) -> socket.socket:
        sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        _watch(sock)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch(self.sock)
        super().request(*args, **kwargs)  # type: ignore[misc]
        call = _CURRENT.get()
        if call is not None and call.on_sent is not None:  # written: the host's clock starts
            on_sent, call.on_sent = call.on_sent, None  # once: not again for a retried send
            on_sent(time.monotonic())

    def _tunnel(self) -> None:
        try:
            super()._tunnel()  # type: ignore[misc]
        except OSError as exc:
            # http.client (and urllib3's copy of it) says "Tunnel connection failed: 407
            # Proxy Authentication Required" in a plain OSError, and has for a decade.
            refused = _TUNNEL_FAILED.fullmatch(str(exc))
            if refused is None or isinstance(exc, TunnelRefused):
                raise
            raise TunnelRefused(int(refused.group(1)), refused.group(2)) from exc

    def putrequest(self, method: str, url: str, *args: Any, **kwargs: Any) -> None:
        call = _CURRENT.get()
        if call is not None and call.sent is not None:
            call.sent.start(url)
        super().putrequest(method, url, *args, **kwargs)  # type: ignore[misc]

    def putheader(self, header: Any, *values: Any) -> None:
        super().putheader(header, *values)  # type: ignore[misc]
        call = _CURRENT.get()
        if call is not None and call.sent is not None:
            call.sent.headers.append((str(header), "\r\n\t".join(map(str, values))))


class _WatchedHTTPConnection(_Watched, HTTPConnection):
    response_class = _HeadResponse


class _WatchedHTTPSConnection(_Watched, HTTPSConnection):
    response_class = _HeadResponse


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection

    def _validate_conn(self, conn: Any) -> None:
        # urllib3's own, without its warning on every unverified request: with --insecure
        # the user asked for that, and the crawl said so once, at its start.
        if conn.is_closed:
            conn.connect()


class _ProxyManager(urllib3.ProxyManager):
    """urllib3's proxy manager, sending the request headers as given: ours already hold
    ``Host``, and urllib3's would put an ``Accept: */*`` first."""

    def _set_proxy_headers(
        self, url: str, headers: Mapping[str, str] | None = None
    ) -> Mapping[str, str]:
        return dict(headers or {})


_POOL_CLASSES: Final = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class ThreadFetcher:
    """Fetches with a connection pool shared by every worker thread; safe to call from many.

    ``settings.timeout`` bounds each whole fetch; ``settings.pool_size`` connections are kept
    per host (per proxy, for http URLs through a proxy). :meth:`close` closes the pools and
    stops the watchdog; fetching after it raises ``RuntimeError``.

    Raises:
        OSError, ssl.SSLError: ``settings.ca_file`` cannot be used (see :mod:`.tls`).
    """

    def __init__(self, settings: FetchSettings) -> None:
        self._settings = settings
        self._watchdog = Watchdog(name="spindle-fetch-watchdog")
        options: dict[str, Any] = {
            "num_pools": 64,
            "maxsize": settings.pool_size,
            "block": False,
            "retries": False,
            "timeout": urllib3.Timeout(connect=settings.timeout, read=settings.timeout),
            "ssl_context": client_context(ca_file=settings.ca_file, verify=settings.verify),
        }
        direct = urllib3.PoolManager(**options)
        direct.pool_classes_by_scheme = _POOL_CLASSES
        self._pools: dict[str | None, urllib3.PoolManager] = {None: direct}
        for proxy in (settings.proxies.http, settings.proxies.https):
            if proxy is not None and proxy.url not in self._pools:
                self._pools[proxy.url] = _proxy_manager(proxy, settings.user_agent, options)
        self._closed = False

    def __repr__(self) -> str:
        return f"<ThreadFetcher closed={self._closed} {self._watchdog!r}>"

    def close(self) -> None:
        """Close every pooled connection and stop the watchdog thread."""
        self._closed = True
        self._watchdog.close()
        for pool in self._pools.values():
            pool.clear()

    def fetch(self, fetch: Fetch, on_sent: Callable[[float], None] | None = None) -> Outcome:
        """Perform one GET of ``fetch.url``; never raises for it (see the module docstring).
        ``on_sent`` is called on this thread with the monotonic time the request was
        written, once.

        Raises:
            RuntimeError: the fetcher is closed.
        """
        if self._closed:
            raise RuntimeError("the ThreadFetcher is closed")
        fetched_at = time.time()
        start = time.monotonic()
        call = _Call(self._watchdog, self._watchdog.arm(start + self._settings.timeout))
        call.on_sent = on_sent
        if self._settings.keep_wire:
            call.sent = SentRequest()
        token = _CURRENT.set(call)
        try:
            outcome = self._fetch(fetch, call, start, fetched_at)
        except Exception as exc:
            outcome = failure(
                exc,
                ROWS,
                elapsed=time.monotonic() - start,
                fetched_at=fetched_at,
                secrets=self._settings.secrets,
            )
        finally:
            _CURRENT.reset(token)
            expired = self._watchdog.disarm(call.attempt)
        # A skipped body's drain is a courtesy to the connection: the answer was complete
        # with its head, so a deadline passing during the drain does not undo it.
        if expired and not (isinstance(outcome, Response) and outcome.body_skipped):
            return timed_out(
                f"the response took longer than {self._settings.timeout:g} s",
                elapsed=time.monotonic() - start,
                fetched_at=fetched_at,
            )
        return outcome

    def _fetch(self, fetch: Fetch, call: _Call, start: float, fetched_at: float) -> Outcome:
        request = prepare(self._settings, fetch.url)
        try:
            response = self._send(request)
        except Exception as exc:
            # RFC 9112, section 9.3.1: a GET whose connection closed or reset before the head
            # was complete (a keep-alive connection the server had just closed, say) is sent
            # once more, on a new connection, as aiohttp does in the asyncio engine.
            if call.attempt.expired or classify(exc, ROWS)[0] is not Fault.CLOSED:
                raise
            response = self._send(request)
        reusable = False
        reader: BodyReader | None = None
        body = b""
        try:
            head = call.head
            if head is None:  # pragma: no cover - every pooled connection reads heads for us
                raise RuntimeError("the response head was not read by the head reader")
            headers = wire_headers(head.fields)
            remember_cookies(self._settings, request, headers)
            if wants_body(self._settings.accept_types, fetch.kind, headers):
                reader = BodyReader(
                    fetch.max_bytes, content_encoding(headers), keep_raw=call.sent is not None
                )
                for chunk in response.stream(_CHUNK, decode_content=False):
                    if reader.feed(chunk):
                        break
                else:
                    reusable = True
                body = reader.finish()
            else:
                declared = declared_length(head.status, headers)
                reusable = declared is not None and declared <= DRAIN_LIMIT and _drain(response)
        finally:
            # Disarm before the connection can go back to the pool, so the watchdog never
            # shuts down a socket another fetch has taken.
            if self._watchdog.disarm(call.attempt) or not reusable:
                response.close()
            response.release_conn()
        wire = None
        if call.sent is not None:
            wire = build_wire(
                call.sent,
                version=head.version,
                reason=head.reason,
                body=b"" if reader is None else reader.raw,
                complete=declared_length(head.status, headers) == 0
                if reader is None
                else not reader.truncated,
            )
        return build_response(
            status=head.status,
            headers=headers,
            reader=reader,
            body=body,
            elapsed=time.monotonic() - start,
            fetched_at=fetched_at,
            wire=wire,
        )

    def _send(self, request: PreparedRequest) -> urllib3.BaseHTTPResponse:
        pool = self._pools[None if request.proxy is None else request.proxy.url]
        return pool.request(
            "GET",
            request.url,
            headers=dict(request.headers),
            preload_content=False,
            decode_content=False,
            redirect=False,
            retries=False,
        )


def _proxy_manager(proxy: Proxy, user_agent: str, options: dict[str, Any]) -> urllib3.PoolManager:
    # The headers of a CONNECT; urllib3 also adds them to absolute-form requests, where the
    # User-Agent is the request's own already.
    headers = {"User-Agent": user_agent}
    if proxy.authorization is not None:
        headers["Proxy-Authorization"] = proxy.authorization
    manager = _ProxyManager(proxy.url, proxy_headers=headers, **options)
    manager.pool_classes_by_scheme = _POOL_CLASSES
    return manager


def _drain(response: urllib3.BaseHTTPResponse) -> bool:
    """Read a short skipped body to its end so that its connection can be reused; False when
    that failed (the connection is then closed)."""
    try:
        for _ in response.stream(_CHUNK, decode_content=False):
            pass
    except (OSError, HTTPError, http.client.HTTPException):
        return False
    return True
