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
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Final

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    InvalidChunkLength,
    InvalidHeader,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    SSLError,
)
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from spindle.crawl.core.values import Fetch, Outcome
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
from spindle.crawl.engines.request import FetchSettings, prepare
from spindle.crawl.engines.watchdog import Attempt, Watchdog

__all__ = ["ThreadFetcher"]

_CHUNK = 64 * 1024

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
    """The fetch running on this thread: its watchdog attempt, and the head once read."""

    watchdog: Watchdog
    attempt: Attempt
    head: Head | None = None


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
    it is made and when a request starts on it (a reused connection)."""

    sock: socket.socket | None

    def _new_conn(self) -> socket.socket:
        sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        _watch(sock)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch(self.sock)
        super().request(*args, **kwargs)  # type: ignore[misc]


class _WatchedHTTPConnection(_Watched, HTTPConnection):
    response_class = _HeadResponse


class _WatchedHTTPSConnection(_Watched, HTTPSConnection):
    response_class = _HeadResponse


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class ThreadFetcher:
    """Fetches with a connection pool shared by every worker thread; safe to call from many.

    ``settings.timeout`` bounds each whole fetch; ``settings.pool_size`` connections are kept
    per host. :meth:`close` closes the pool and stops the watchdog; fetching after it raises
    ``RuntimeError``.
    """

    def __init__(self, settings: FetchSettings) -> None:
        self._settings = settings
        self._secrets = settings.secrets
        self._watchdog = Watchdog(name="spindle-fetch-watchdog")
        self._pool = urllib3.PoolManager(
            num_pools=64,
            maxsize=settings.pool_size,
            block=False,
            retries=False,
            timeout=urllib3.Timeout(connect=settings.timeout, read=settings.timeout),
        )
        self._pool.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}
        self._closed = False

    def __repr__(self) -> str:
        return f"<ThreadFetcher closed={self._closed} {self._watchdog!r}>"

    def close(self) -> None:
        """Close every pooled connection and stop the watchdog thread."""
        self._closed = True
        self._watchdog.close()
        self._pool.clear()

    def fetch(self, fetch: Fetch) -> Outcome:
        """Perform one GET of ``fetch.url``; never raises for it (see the module docstring).

        Raises:
            RuntimeError: the fetcher is closed.
        """
        if self._closed:
            raise RuntimeError("the ThreadFetcher is closed")
        fetched_at = time.time()
        start = time.monotonic()
        call = _Call(self._watchdog, self._watchdog.arm(start + self._settings.timeout))
        token = _CURRENT.set(call)
        try:
            outcome = self._fetch(fetch, call, start, fetched_at)
        except Exception as exc:
            outcome = failure(
                exc,
                ROWS,
                elapsed=time.monotonic() - start,
                fetched_at=fetched_at,
                secrets=self._secrets,
            )
        finally:
            _CURRENT.reset(token)
            expired = self._watchdog.disarm(call.attempt)
        if expired:
            return timed_out(
                f"the response took longer than {self._settings.timeout:g} s",
                elapsed=time.monotonic() - start,
                fetched_at=fetched_at,
            )
        return outcome

    def _fetch(self, fetch: Fetch, call: _Call, start: float, fetched_at: float) -> Outcome:
        request = prepare(self._settings, fetch.url)
        try:
            response = self._send(request.url, request.headers)
        except Exception as exc:
            # RFC 9112, section 9.3.1: a GET whose connection closed or reset before the head
            # was complete (a keep-alive connection the server had just closed, say) is sent
            # once more, on a new connection, as aiohttp does in the asyncio engine.
            if call.attempt.expired or classify(exc, ROWS)[0] is not Fault.CLOSED:
                raise
            response = self._send(request.url, request.headers)
        reusable = False
        try:
            head = call.head
            if head is None:  # pragma: no cover - every pooled connection reads heads for us
                raise RuntimeError("the response head was not read by the head reader")
            headers = wire_headers(head.fields)
            reader = BodyReader(fetch.max_bytes, content_encoding(headers))
            for chunk in response.stream(_CHUNK, decode_content=False):
                if reader.feed(chunk):
                    break
            else:
                reusable = True
            body = reader.finish()
        finally:
            # Disarm before the connection can go back to the pool, so the watchdog never
            # shuts down a socket another fetch has taken.
            if self._watchdog.disarm(call.attempt) or not reusable:
                response.close()
            response.release_conn()
        return build_response(
            status=head.status,
            headers=headers,
            reader=reader,
            body=body,
            elapsed=time.monotonic() - start,
            fetched_at=fetched_at,
        )

    def _send(self, url: str, headers: Mapping[str, str]) -> urllib3.BaseHTTPResponse:
        return self._pool.request(
            "GET",
            url,
            headers=dict(headers),
            preload_content=False,
            decode_content=False,
            redirect=False,
            retries=False,
        )
