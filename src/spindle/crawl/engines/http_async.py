"""Non-blocking HTTP for the asyncio engine: one aiohttp session, bodies streamed under caps.

The twin of :mod:`spindle.crawl.engines.http_threads`: the same settings and request headers
(:mod:`.request`), the same head rules and limits (:mod:`.head`, given to aiohttp's parser and
checked again on the parsed fields), the same body rules (:mod:`.body`) and the same failure
table (:mod:`.failures`), so the same bytes give the same outcome. It never follows a redirect
and never raises for the URL it was given. ``timeout`` is aiohttp's total timeout, which covers
connecting, the head and the body.

aiohttp skips interim 1xx responses (except 101) by itself, and sends a GET once more when its
connection closes before the head is complete (the thread engine does the same). aiohttp's own
cookie jar is a :class:`aiohttp.DummyCookieJar`: cookies are the settings' jar's
(:mod:`.cookies`), shared with the thread engine's rules, sent in the prepared headers. It
reads no proxy settings from the environment (``trust_env=False``): the proxy of each URL is
the one :mod:`.proxy` chose, given as ``proxy=``, its credentials as ``Proxy-Authorization``. It
does not decompress (the body reader does, under its cap). When the settings keep the wire,
the header fields sent come from aiohttp's "request headers sent" trace.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import time
import types
import weakref
from collections.abc import Callable, Iterator
from typing import Final

import aiohttp
import yarl
from aiohttp.client_proto import ResponseHandler
from aiohttp.http_exceptions import (
    ContentLengthError,
    HttpProcessingError,
    LineTooLong,
    TransferEncodingError,
)
from aiohttp.streams import StreamReader

from spindle.crawl.core.values import Fetch, Outcome
from spindle.crawl.engines.accept import DRAIN_LIMIT, declared_length, wants_body
from spindle.crawl.engines.body import BodyReader, build_response, content_encoding
from spindle.crawl.engines.failures import COMMON_ROWS, Fault, Rows, failure, timed_out
from spindle.crawl.engines.head import (
    PARSER_MAX_FIELDS,
    PARSER_MAX_LINE,
    check_head,
    wire_headers,
)
from spindle.crawl.engines.proxy import TunnelRefused
from spindle.crawl.engines.request import (
    FetchSettings,
    PreparedRequest,
    prepare,
    remember_cookies,
)
from spindle.crawl.engines.tls import client_context
from spindle.crawl.engines.wire import SentRequest, build_wire

__all__ = ["AsyncFetcher"]

_CHUNK = 64 * 1024

ROWS: Final[Rows] = (
    *COMMON_ROWS,
    (TimeoutError, Fault.TIMED_OUT),  # asyncio's total timeout and aiohttp's socket timeouts
    (aiohttp.ClientConnectorDNSError, Fault.NAME_NOT_FOUND),
    (socket.gaierror, Fault.NAME_NOT_FOUND),
    (aiohttp.ClientSSLError, Fault.TLS_FAILED),
    (ssl.SSLError, Fault.TLS_FAILED),
    (aiohttp.ClientConnectorError, Fault.REFUSED),
    (LineTooLong, Fault.HEAD_TOO_LARGE),
    # The parser's verdict at the end of the stream: a body short of its length or last chunk.
    (ContentLengthError, Fault.CLOSED),
    (TransferEncodingError, Fault.CLOSED),
    (HttpProcessingError, Fault.NOT_HTTP),
    (aiohttp.ClientPayloadError, Fault.CLOSED),
    (aiohttp.ClientConnectionError, Fault.CLOSED),
    (ConnectionError, Fault.CLOSED),
    (aiohttp.ClientResponseError, Fault.NOT_HTTP),
    (OSError, Fault.CLOSED),
)
"""aiohttp exceptions, by fault (see :mod:`.failures`)."""


class AsyncFetcher:
    """Fetches with one shared aiohttp session. Create, use and close it on one running loop.

    ``settings.timeout`` bounds each whole fetch; ``settings.pool_size`` connections are kept
    in all. Fetching after :meth:`close` raises ``RuntimeError``.

    ``tls`` is the TLS context of ``settings`` (:func:`.tls.client_context`): the first one
    made in a process reads certificate files, so a caller on a running loop makes it on a
    helper thread and passes it in; without it, the fetcher makes it itself.

    Raises:
        OSError, ssl.SSLError: ``settings.ca_file`` cannot be used (see :mod:`.tls`).
    """

    def __init__(self, settings: FetchSettings, *, tls: ssl.SSLContext | None = None) -> None:
        if tls is None:
            tls = client_context(ca_file=settings.ca_file, verify=settings.verify)
        self._settings = settings
        self._guard = _StreamGuard()
        trace = aiohttp.TraceConfig()
        trace.on_request_headers_sent.append(_record_headers)
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(
                limit=settings.pool_size,
                ttl_dns_cache=300,
                ssl=tls,
            ),
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,
            trust_env=False,
            trace_configs=[trace],
            timeout=aiohttp.ClientTimeout(
                total=settings.timeout, connect=settings.timeout, sock_read=settings.timeout
            ),
            max_line_size=PARSER_MAX_LINE,
            max_field_size=PARSER_MAX_LINE,
            max_headers=PARSER_MAX_FIELDS,
        )

    def __repr__(self) -> str:
        return f"<AsyncFetcher closed={self._session.closed}>"

    async def close(self) -> None:
        """Close the session and its connections."""
        await self._session.close()

    async def fetch(self, fetch: Fetch, on_sent: Callable[[float], None] | None = None) -> Outcome:
        """Perform one GET of ``fetch.url``; never raises for it (see the module docstring).
        ``on_sent`` is called on the loop with the monotonic time the request's head was
        written, once.

        Raises:
            RuntimeError: the fetcher is closed.
        """
        if self._session.closed:
            raise RuntimeError("the AsyncFetcher is closed")
        fetched_at = time.time()
        start = time.monotonic()
        try:
            try:
                return await self._fetch(fetch, start, fetched_at, on_sent)
            except aiohttp.ClientHttpProxyError as exc:
                raise TunnelRefused(exc.status, exc.message) from exc
        except Exception as exc:
            if isinstance(exc, TimeoutError) and not str(exc):  # the total timeout
                return timed_out(
                    f"the response took longer than {self._settings.timeout:g} s",
                    elapsed=time.monotonic() - start,
                    fetched_at=fetched_at,
                )
            return failure(
                exc,
                ROWS,
                elapsed=time.monotonic() - start,
                fetched_at=fetched_at,
                secrets=self._settings.secrets,
            )

    async def _fetch(
        self,
        fetch: Fetch,
        start: float,
        fetched_at: float,
        on_sent: Callable[[float], None] | None,
    ) -> Outcome:
        request = prepare(self._settings, fetch.url)
        # encoded=True: the URL is sent as prepare() made it, not re-quoted by yarl.
        url = yarl.URL(request.url, encoded=True)
        # aiohttp puts the request target on the line as prepare() says: the whole URL for an
        # http URL through a proxy, else the path and query (``raw_path_qs``).
        sent = SentRequest(request.request_target) if self._settings.keep_wire else None
        context: dict[str, object] = {"sent": sent, "on_sent": on_sent}
        sending, connect_headers = _with_proxy_headers(request)
        async with self._session.get(
            url,
            headers=sending,
            allow_redirects=False,
            proxy=None if request.proxy is None else yarl.URL(request.proxy.url),
            proxy_headers=connect_headers,
            trace_request_ctx=context,
        ) as response:
            check_head(_reason(response), response.raw_headers)
            headers = wire_headers(response.raw_headers)
            remember_cookies(self._settings, request, headers)
            reader: BodyReader | None = None
            body = b""
            if wants_body(self._settings.accept_types, fetch.kind, headers):
                reader = BodyReader(
                    fetch.max_bytes, content_encoding(headers), keep_raw=sent is not None
                )
                with self._guard.watching(response):
                    async for chunk in response.content.iter_chunked(_CHUNK):
                        if reader.feed(chunk):
                            response.close()
                            break
                body = reader.finish()
            else:
                declared = declared_length(response.status, headers)
                if declared is None or declared > DRAIN_LIMIT or not await self._drain(response):
                    response.close()
            wire = None
            if sent is not None:
                wire = build_wire(
                    sent,
                    version=_version(response),
                    reason=_reason(response),
                    body=b"" if reader is None else reader.raw,
                    complete=declared_length(response.status, headers) == 0
                    if reader is None
                    else not reader.truncated,
                )
            return build_response(
                status=response.status,
                headers=headers,
                reader=reader,
                body=body,
                elapsed=time.monotonic() - start,
                fetched_at=fetched_at,
                wire=wire,
            )

    async def _drain(self, response: aiohttp.ClientResponse) -> bool:
        """Read a short skipped body to its end so that its connection can be reused; False
        when that failed (the connection is then closed)."""
        try:
            with self._guard.watching(response):
                async for _ in response.content.iter_chunked(_CHUNK):
                    pass
        except (aiohttp.ClientError, OSError, TimeoutError):
            return False
        return True


async def _record_headers(
    session: aiohttp.ClientSession,
    context: types.SimpleNamespace,
    params: aiohttp.TraceRequestHeadersSentParams,
) -> None:
    """aiohttp's trace of a request's head written: when (the host's clock starts then) and,
    for the fetch that asked to keep them, the header fields."""
    request_context = context.trace_request_ctx
    if not isinstance(request_context, dict) or params.method != "GET":
        return  # a CONNECT to a proxy: the GET that follows is the fetch's request
    on_sent = request_context.pop("on_sent", None)  # once: not again for a retried send
    if callable(on_sent):
        on_sent(time.monotonic())
    sent = request_context.get("sent")
    if isinstance(sent, SentRequest):
        sent.replace_headers(params.headers.items())


def _with_proxy_headers(request: PreparedRequest) -> tuple[dict[str, str], dict[str, str] | None]:
    """The request's headers and the headers of a CONNECT, for ``request``'s proxy.

    ``Proxy-Authorization`` goes where urllib3 puts it in the thread engine: last among an
    absolute-form request's own headers (http), or on the CONNECT (https). A CONNECT carries
    the crawl's user agent too, where aiohttp would send its own.
    """
    headers = dict(request.headers)
    proxy = request.proxy
    if proxy is None:
        return headers, None
    connect = {"User-Agent": headers["User-Agent"]}
    if proxy.authorization is not None:
        tunnelled = request.origin.startswith("https://")
        (connect if tunnelled else headers)["Proxy-Authorization"] = proxy.authorization
    return headers, connect


def _version(response: aiohttp.ClientResponse) -> tuple[int, int]:
    version = response.version
    assert version is not None  # set with the status line, before the response is handed out
    return version.major, version.minor


def _reason(response: aiohttp.ClientResponse) -> bytes:
    # aiohttp decodes the reason phrase as UTF-8 with surrogate escapes: this undoes it.
    return (response.reason or "").encode("utf-8", "surrogateescape")


class _StreamGuard:
    """Fails a body stream that aiohttp orphans, instead of letting it wait for the timeout.

    When aiohttp's parser fails after the head was handed over (a bad chunk size arriving in a
    later packet, say), aiohttp 3.14 gives the error to the connection and closes it, but never
    to the body stream, which then waits until the total timeout. The guard watches each
    connection's ``closed`` future (one callback per connection, however many responses it
    carries) and, when a connection closes while the stream of its current response has
    neither ended nor failed, fails that stream with the connection's error.
    """

    def __init__(self) -> None:
        self._streams: weakref.WeakKeyDictionary[ResponseHandler, StreamReader] = (
            weakref.WeakKeyDictionary()
        )
        self._watched: weakref.WeakSet[ResponseHandler] = weakref.WeakSet()

    @contextlib.contextmanager
    def watching(self, response: aiohttp.ClientResponse) -> Iterator[None]:
        """A context during which ``response``'s body stream is guarded."""
        protocol = self._start(response)
        try:
            yield
        finally:
            if protocol is not None:
                self._streams.pop(protocol, None)

    def _start(self, response: aiohttp.ClientResponse) -> ResponseHandler | None:
        connection = response.connection
        protocol = connection.protocol if connection is not None else None
        if protocol is None:
            return None
        self._streams[protocol] = response.content
        if protocol not in self._watched:
            closed = protocol.closed
            if closed is None:  # already lost
                self._fail(protocol)
                return protocol
            self._watched.add(protocol)
            ref = weakref.ref(protocol)
            closed.add_done_callback(lambda future: self._closed(future, ref))
        return protocol

    def _closed(
        self, future: asyncio.Future[None], ref: weakref.ReferenceType[ResponseHandler]
    ) -> None:
        if not future.cancelled():
            future.exception()  # retrieved: the connection's end is reported through the stream
        protocol = ref()
        if protocol is not None:
            self._fail(protocol)

    def _fail(self, protocol: ResponseHandler) -> None:
        stream = self._streams.pop(protocol, None)
        if stream is None or stream.is_eof() or stream.exception() is not None:
            return
        error = protocol.exception()
        if error is None:
            error = aiohttp.ClientPayloadError("the connection closed before the body ended")
        stream.set_exception(error)
