"""Body decoding under a cap: plain, gzip, deflate (both framings), bombs and corrupt data."""

from __future__ import annotations

import gzip
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spindle.crawl.engines.body import BodyError, BodyReader, BodyTooLarge


def _chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)] or [b""]


def _read(data: bytes, encoding: str | None, max_bytes: int, chunk: int = 1000) -> BodyReader:
    reader = BodyReader(max_bytes, encoding)
    for part in _chunks(data, chunk):
        if reader.feed(part):
            break
    return reader


def _raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


ENCODERS = {
    None: lambda d: d,
    "identity": lambda d: d,
    "gzip": gzip.compress,
    "deflate": zlib.compress,
    "raw-deflate": _raw_deflate,
}


@given(
    st.binary(max_size=5000),
    st.sampled_from(sorted(ENCODERS, key=str)),
    st.integers(1024, 6000),
    st.integers(1, 700),
)
def test_decoded_body_is_the_original_prefix(
    data: bytes, name: str | None, max_bytes: int, chunk: int
) -> None:
    encoding = "deflate" if name == "raw-deflate" else name
    reader = _read(ENCODERS[name](data), encoding, max_bytes, chunk)
    body = reader.finish()
    assert body == data[:max_bytes]
    assert reader.truncated is (len(data) > max_bytes)


def test_gzip_bomb_is_refused_without_expanding() -> None:
    bomb = gzip.compress(bytes(50_000_000))
    with pytest.raises(BodyTooLarge, match="expanded past 100000 bytes"):
        _read(bomb, "gzip", 100_000, chunk=16_384)


def test_ordinary_compressed_page_over_the_cap_is_truncated_not_refused() -> None:
    text = b"".join(b"<p>paragraph %d with some varied words</p>" % i for i in range(20_000))
    reader = _read(gzip.compress(text), "gzip", 50_000)
    assert reader.truncated
    assert reader.finish() == text[:50_000]


@pytest.mark.parametrize(
    ("data", "encoding", "message"),
    [
        (b"not gzip at all", "gzip", "corrupt compressed body"),
        (b"xyz", "br", "unsupported Content-Encoding 'br'"),
    ],
)
def test_bad_bodies(data: bytes, encoding: str, message: str) -> None:
    with pytest.raises(BodyError, match=message):
        _read(data, encoding, 10_000).finish()
