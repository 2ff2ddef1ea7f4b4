"""Body rules shared by both engines: decompress under a hard bound, truncate, refuse bombs.

Engines hand over the bytes exactly as they came off the wire. This module decompresses them
itself (gzip and deflate, the encodings Spindle asks for) with ``max_length`` on every call, so
a small compressed body can never expand past the cap in memory. A body larger than
``max_bytes`` is cut there and marked truncated, except a compressed one that expanded more
than :data:`MAX_RATIO` times: that is a decompression bomb and the response is refused.
"""

from __future__ import annotations

import zlib
from typing import Protocol

from spindle.crawl.core.values import Headers, Response

__all__ = [
    "MAX_RATIO",
    "BodyError",
    "BodyReader",
    "BodyTooLarge",
    "build_response",
    "content_encoding",
]

MAX_RATIO = 100


class BodyError(Exception):
    """The body cannot be decoded (corrupt data, or an encoding that was not asked for)."""


class BodyTooLarge(BodyError):
    """A compressed body expanded past the size cap at a ratio no real page has."""


class BodyReader:
    """Turns wire chunks into at most ``max_bytes`` of decoded body.

    >>> import gzip
    >>> reader = BodyReader(max_bytes=1024, content_encoding="gzip")
    >>> reader.feed(gzip.compress(b"hello")), reader.finish(), reader.truncated
    (False, b'hello', False)
    >>> bomb = BodyReader(max_bytes=100_000, content_encoding="gzip")
    >>> bomb.feed(gzip.compress(bytes(10_000_000)))
    Traceback (most recent call last):
    ...
    spindle.crawl.engines.body.BodyTooLarge: compressed body expanded past 100000 bytes ...
    """

    __slots__ = ("_chunks", "_decoder", "_max", "_raw", "_size", "truncated")

    def __init__(self, max_bytes: int, content_encoding: str | None) -> None:
        self._max = max_bytes
        self._decoder = _decoder(content_encoding)
        self._chunks: list[bytes] = []
        self._size = 0
        self._raw = 0
        self.truncated = False

    def feed(self, chunk: bytes) -> bool:
        """Take the next wire chunk. Returns True once the cap is reached (stop reading).

        Raises:
            BodyTooLarge: a decompression bomb.
            BodyError: corrupt compressed data.
        """
        self._raw += len(chunk)
        room = self._max - self._size
        if self._decoder is None:
            data = chunk
        else:
            try:
                data = self._decoder.decompress(chunk, room + 1)
            except zlib.error as exc:
                raise BodyError(f"corrupt compressed body: {exc}") from exc
        if len(data) <= room:
            self._chunks.append(data)
            self._size += len(data)
            return False
        if self._decoder is not None:
            consumed = self._raw - len(self._decoder.unconsumed_tail)
            if self._size + len(data) > MAX_RATIO * max(consumed, 1):
                raise BodyTooLarge(
                    f"compressed body expanded past {self._max} bytes from {consumed} bytes"
                )
        self._chunks.append(data[:room])
        self._size = self._max
        self.truncated = True
        return True

    def finish(self) -> bytes:
        """Return the decoded body (call once, after the last chunk)."""
        if self._decoder is not None and not self.truncated:
            try:
                tail = self._decoder.flush()
            except zlib.error as exc:
                raise BodyError(f"corrupt compressed body: {exc}") from exc
            room = self._max - self._size
            if len(tail) > room:
                tail, self.truncated = tail[:room], True
            self._chunks.append(tail)
        return b"".join(self._chunks)


def content_encoding(headers: Headers) -> str | None:
    """The ``Content-Encoding`` of a response: every such field's value, in order, joined.

    >>> content_encoding((("content-encoding", "gzip"), ("Content-Encoding", "deflate")))
    'gzip, deflate'
    """
    values = [value for name, value in headers if name.lower() == "content-encoding"]
    return ", ".join(values) if values else None


def build_response(
    *,
    status: int,
    headers: Headers,
    reader: BodyReader,
    body: bytes,
    elapsed: float,
    fetched_at: float,
) -> Response:
    """The ``Response`` both engines hand to the core."""
    return Response(
        status=status,
        headers=headers,
        body=body,
        elapsed=elapsed,
        fetched_at=fetched_at,
        truncated=reader.truncated,
    )


class _Decoder(Protocol):
    @property
    def unconsumed_tail(self) -> bytes: ...

    def decompress(self, data: bytes, max_length: int, /) -> bytes: ...

    def flush(self) -> bytes: ...


def _decoder(content_encoding: str | None) -> _Decoder | None:
    encoding = (content_encoding or "identity").strip().lower()
    if encoding == "identity":
        return None
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return _Deflate()
    raise BodyError(f"unsupported Content-Encoding {content_encoding!r}")


class _Deflate:
    """HTTP "deflate" is meant to be zlib-wrapped, but servers also send raw deflate.

    The framing is told from the first two bytes, which may arrive in separate chunks.
    """

    def __init__(self) -> None:
        self._inner: _Decoder | None = None
        self._head = b""

    @property
    def unconsumed_tail(self) -> bytes:
        return self._inner.unconsumed_tail if self._inner else self._head

    def decompress(self, data: bytes, max_length: int) -> bytes:
        if self._inner is None:
            self._head += data
            if len(self._head) < 2:
                return b""
            data, self._head = self._head, b""
            self._inner = _framed(data)
        return self._inner.decompress(data, max_length)

    def flush(self) -> bytes:
        if self._inner is None:
            if not self._head:
                return b""
            self._inner = _framed(self._head)
            return self._inner.decompress(self._head, 0) + self._inner.flush()
        return self._inner.flush()


def _framed(head: bytes) -> _Decoder:
    zlib_wrapped = len(head) >= 2 and (head[0] & 0x0F) == 8 and (head[0] << 8 | head[1]) % 31 == 0
    return zlib.decompressobj(zlib.MAX_WBITS if zlib_wrapped else -zlib.MAX_WBITS)
