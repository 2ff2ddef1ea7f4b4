"""Non-blocking HTTP for the asyncio engine: one aiohttp session, bodies streamed under caps.

The twin of :mod:`spindle.crawl.engines.http_threads`: same outcomes for the same answers,
because both hand raw wire bytes to :class:`~spindle.crawl.engines.body.BodyReader` and
classify failures into the same kinds.
"""

from __future__ import annotations

import asyncio
import time

import aiohttp

from spindle.crawl.core.values import ErrorKind, Failure, Fetch, Outcome
from spindle.crawl.engines.body import BodyError, BodyReader, BodyTooLarge, build_response
from spindle.crawl.engines.settings import FetchSettings

__all__ = ["AsyncFetcher"]

_CHUNK = 64 * 1024


class AsyncFetcher:
    """Fetches with one shared aiohttp session. Create and use it inside a running loop."""

    def __init__(self, settings: FetchSettings) -> None:
        user_agent, timeout, pool_size = settings.user_agent, settings.timeout, settings.pool_size
        self._timeout = timeout
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=pool_size, ttl_dns_cache=300),
            headers={
                "User-Agent": user_agent,
                "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
                "Accept-Encoding": "gzip, deflate",
            },
            auto_decompress=False,
            timeout=aiohttp.ClientTimeout(total=timeout, connect=timeout, sock_read=timeout),
        )

    async def close(self) -> None:
        """Close the session and its connections."""
        await self._session.close()

    async def fetch(self, fetch: Fetch) -> Outcome:
        """Perform one GET. Never raises for network trouble: that becomes a ``Failure``."""
        fetched_at = time.time()
        start = time.perf_counter()
        try:
            async with self._session.get(
                fetch.url,
                allow_redirects=False,
            ) as response:
                reader = BodyReader(fetch.max_bytes, response.headers.get("Content-Encoding"))
                async for chunk in response.content.iter_chunked(_CHUNK):
                    if reader.feed(chunk):
                        response.close()
                        break
                body = reader.finish()
                return build_response(
                    status=response.status,
                    headers=response.headers.items(),
                    reader=reader,
                    body=body,
                    elapsed=time.perf_counter() - start,
                    fetched_at=fetched_at,
                )
        except (aiohttp.ClientError, TimeoutError, BodyError, ValueError) as exc:
            message = str(exc) or type(exc).__name__
            return Failure(_classify(exc), message[:300], time.perf_counter() - start, fetched_at)


def _classify(exc: BaseException) -> ErrorKind:
    if isinstance(exc, BodyTooLarge):
        return ErrorKind.DECOMPRESSION_BOMB
    if isinstance(exc, BodyError):
        return ErrorKind.DECODE
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return ErrorKind.TIMEOUT
    if isinstance(exc, aiohttp.ClientSSLError):
        return ErrorKind.TLS
    if isinstance(exc, aiohttp.ClientConnectionError | aiohttp.ClientPayloadError):
        return ErrorKind.CONNECTION
    return ErrorKind.PROTOCOL
