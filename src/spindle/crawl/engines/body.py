"""Body rules shared by both engines: decompress under a hard bound, truncate, refuse bombs.

Engines hand over the bytes exactly as they came off the wire. This module decompresses them
itself (gzip and deflate, the encodings Spindle asks for) with ``max_length`` on every call, so
a small compressed body can never expand past the cap in memory. A body larger than
``max_bytes`` is cut there and marked truncated, except a compressed one that expanded more
than :data:`MAX_RATIO` times: that is a decompression bomb and the response is refused.

Compressed bytes go to the decoder in blocks of :data:`BLOCK` bytes, whatever pieces the
engine read them in: zlib may take a few bytes more or fewer before it stops at the cap
depending on how its input was split, and fixed blocks make where it stops (the bomb verdict,
the raw copy) depend only on the bytes, so both engines agree. On request (``keep_raw``) the
reader keeps a copy of the bytes as received, for :class:`~spindle.crawl.core.values.Wire`:
the whole body, or, when the body is cut, the bytes up to where decoding stopped.
"""

from __future__ import annotations

import zlib
from typing import Final, Protocol

from spindle.crawl.core.values import Headers, Response, Wire

__all__ = [
    "BLOCK",
    "MAX_RATIO",
    "BodyError",
    "BodyReader",
    "BodyTooLarge",
    "build_response",
    "content_encoding",
]

MAX_RATIO = 100
BLOCK: Final = 16 * 1024
"""Size of the blocks compressed bytes are decoded in (see the module docstring)."""


class BodyError(Exception):
    """The body cannot be decoded (corrupt data, or an encoding that was not asked for)."""


class BodyTooLarge(BodyError):
    """A compressed body expanded past the size cap at a ratio no real page has."""


class BodyReader:
    """Turns wire chunks into at most ``max_bytes`` of decoded body.

    With ``keep_raw``, :attr:`raw` is a copy of the bytes as received (module docstring).

    >>> import gzip
    >>> reader = BodyReader(max_bytes=1024, content_encoding="gzip")
    >>> reader.feed(gzip.compress(b"hello")), reader.finish(), reader.truncated
    (False, b'hello', False)
    >>> bomb = BodyReader(max_bytes=100_000, content_encoding="gzip")
    >>> bomb.feed(gzip.compress(bytes(10_000_000)))  # 10 KB: less than a block, kept for now
    False
    >>> bomb.finish()
    Traceback (most recent call last):
    ...
    spindle.crawl.engines.body.BodyTooLarge: compressed body expanded past 100000 bytes ...
    >>> plain = BodyReader(max_bytes=1024, content_encoding=None, keep_raw=True)
    >>> plain.feed(b"x" * 1000), plain.feed(b"y" * 1000), len(plain.finish()), len(plain.raw)
    (False, True, 1024, 1024)
    """

    __slots__ = (
        "_chunks",
        "_decoder",
        "_fed",
        "_kept",
        "_max",
        "_pending",
        "_raw_end",
        "_size",
        "truncated",
    )

    def __init__(
        self, max_bytes: int, content_encoding: str | None, *, keep_raw: bool = False
    ) -> None:
        self._max = max_bytes
        self._decoder = _decoder(content_encoding)
        self._chunks: list[bytes] = []
        self._size = 0
        self._fed = 0  # compressed bytes handed to the decoder
        self._pending = bytearray()  # compressed bytes waiting for a whole block
        self._kept: list[bytes] | None = [] if keep_raw else None
        self._raw_end: int | None = None  # where the raw copy stops, once the body is cut
        self.truncated = False

    def feed(self, chunk: bytes) -> bool:
        """Take the next wire chunk. Returns True once the cap is reached (stop reading).

        Raises:
            BodyTooLarge: a decompression bomb.
            BodyError: corrupt compressed data.
        """
        if self.truncated:
            return True
        if self._kept is not None:
            self._kept.append(chunk)
        if self._decoder is None:
            room = self._max - self._size
            if len(chunk) <= room:
                self._chunks.append(chunk)
                self._size += len(chunk)
                return False
            self._chunks.append(chunk[:room])
            self._size = self._max
            self.truncated = True
            self._raw_end = self._max
            return True
        self._pending += chunk
        while len(self._pending) >= BLOCK:
            block = bytes(self._pending[:BLOCK])
            del self._pending[:BLOCK]
            if self._decode(block):
                return True
        return False

    def finish(self) -> bytes:
        """Return the decoded body (call once, after the last chunk)."""
        if self._decoder is not None and not self.truncated:
            if self._pending and self._decode(bytes(self._pending)):
                return b"".join(self._chunks)
            self._pending.clear()
            try:
                tail = self._decoder.flush()
            except zlib.error as exc:
                raise BodyError(f"corrupt compressed body: {exc}") from exc
            room = self._max - self._size
            if len(tail) > room:
                tail, self.truncated = tail[:room], True
            self._chunks.append(tail)
        return b"".join(self._chunks)

    @property
    def raw(self) -> bytes:
        """The bytes as received, up to where decoding stopped (empty without ``keep_raw``)."""
        raw = b"".join(self._kept or ())
        return raw if self._raw_end is None else raw[: self._raw_end]

    def _decode(self, block: bytes) -> bool:
        assert self._decoder is not None
        self._fed += len(block)
        room = self._max - self._size
        try:
            data = self._decoder.decompress(block, room + 1)
        except zlib.error as exc:
            raise BodyError(f"corrupt compressed body: {exc}") from exc
        if len(data) <= room:
            self._chunks.append(data)
            self._size += len(data)
            return False
        consumed = self._fed - len(self._decoder.unconsumed_tail)
        if self._size + len(data) > MAX_RATIO * max(consumed, 1):
            raise BodyTooLarge(
                f"compressed body expanded past {self._max} bytes from {consumed} bytes"
            )
        self._chunks.append(data[:room])
        self._size = self._max
        self.truncated = True
        self._raw_end = consumed
        return True


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
    reader: BodyReader | None,
    body: bytes,
    elapsed: float,
    fetched_at: float,
    wire: Wire | None = None,
) -> Response:
    """The ``Response`` both engines hand to the core; ``reader`` is None when the body was
    not downloaded (:mod:`.accept`)."""
    return Response(
        status=status,
        headers=headers,
        body=body,
        elapsed=elapsed,
        fetched_at=fetched_at,
        truncated=reader is not None and reader.truncated,
        wire=wire,
        body_skipped=reader is None,
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
