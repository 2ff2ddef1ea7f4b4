"""Blocking HTTP for the thread engine: one shared urllib3 pool, bodies streamed under caps.

Each call turns one :class:`~spindle.crawl.core.events.Fetch` into a ``Response`` or a
``Failure``; it never retries and never follows a page redirect (the core decides both).
"""

from __future__ import annotations

import time

import urllib3
from urllib3.exceptions import (
    HTTPError,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    SSLError,
)
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from spindle.crawl.core.values import ErrorKind, Failure, Fetch, Outcome
from spindle.crawl.engines.body import BodyError, BodyReader, BodyTooLarge, build_response
from spindle.crawl.engines.settings import FetchSettings

__all__ = ["ThreadFetcher"]

_CHUNK = 64 * 1024


class ThreadFetcher:
    """Fetches with a connection pool shared by every worker thread.

    ``timeout`` bounds connecting, each read, and the whole response.
    """

    def __init__(self, settings: FetchSettings) -> None:
        user_agent, timeout, pool_size = settings.user_agent, settings.timeout, settings.pool_size
        self._timeout = timeout
        self._pool = urllib3.PoolManager(
            num_pools=64,
            maxsize=pool_size,
            block=False,
            retries=False,
            timeout=urllib3.Timeout(connect=timeout, read=timeout),
            headers={
                "User-Agent": user_agent,
                "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
                "Accept-Encoding": "gzip, deflate",
            },
        )

    def close(self) -> None:
        """Close every pooled connection."""
        self._pool.clear()

    def fetch(self, fetch: Fetch) -> Outcome:
        """Perform one GET. Never raises for network trouble: that becomes a ``Failure``."""
        fetched_at = time.time()
        start = time.perf_counter()
        deadline = start + self._timeout
        retries = urllib3.Retry(total=None, connect=0, read=0, status=0, other=0, redirect=0)
        try:
            response = self._pool.request(
                "GET",
                fetch.url,
                preload_content=False,
                decode_content=False,
                redirect=False,
                retries=retries,
            )
        except HTTPError as exc:
            return _failure(exc, fetched_at, time.perf_counter() - start)
        try:
            reader = BodyReader(fetch.max_bytes, response.headers.get("Content-Encoding"))
            for chunk in response.stream(_CHUNK, decode_content=False):
                if reader.feed(chunk):
                    response.close()
                    break
                if time.perf_counter() > deadline:
                    raise Urllib3Timeout(f"the response took longer than {self._timeout:g}s")
            body = reader.finish()
        except (HTTPError, BodyError) as exc:
            response.close()
            return _failure(exc, fetched_at, time.perf_counter() - start)
        finally:
            response.release_conn()
        return build_response(
            status=response.status,
            headers=response.headers.items(),
            reader=reader,
            body=body,
            elapsed=time.perf_counter() - start,
            fetched_at=fetched_at,
        )


def _failure(exc: Exception, fetched_at: float, elapsed: float) -> Failure:
    message = str(exc.reason if isinstance(exc, MaxRetryError) and exc.reason else exc)
    return Failure(_classify(exc), message[:300], elapsed, fetched_at)


def _classify(exc: Exception) -> ErrorKind:
    if isinstance(exc, BodyTooLarge):
        return ErrorKind.DECOMPRESSION_BOMB
    if isinstance(exc, BodyError):
        return ErrorKind.DECODE
    if isinstance(exc, MaxRetryError) and exc.reason is not None:
        return _classify(exc.reason)
    # urllib3 makes NewConnectionError a subclass of ConnectTimeoutError: test it first.
    if isinstance(exc, NewConnectionError | ProtocolError):
        return ErrorKind.CONNECTION
    if isinstance(exc, Urllib3Timeout):
        return ErrorKind.TIMEOUT
    if isinstance(exc, SSLError):
        return ErrorKind.TLS
    return ErrorKind.PROTOCOL
