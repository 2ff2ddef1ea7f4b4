"""The thread engine's head reader: one table of wire bytes and what they mean."""

from __future__ import annotations

import io
import re

import pytest

from spindle.crawl.engines.head import (
    MAX_FIELDS,
    MAX_LINE,
    PARSER_MAX_FIELDS,
    PARSER_MAX_LINE,
    HeadError,
    HeadIncomplete,
    HeadTooLarge,
    MalformedHead,
)
from spindle.crawl.engines.head_reader import read_head

OK = b"HTTP/1.1 200 OK\r\n"


def _fields(count: int) -> bytes:
    return b"".join(b"X-F%d: v\r\n" % i for i in range(count))


def _line(length: int) -> bytes:
    return b"X-Long: " + b"a" * (length - len(b"X-Long: ")) + b"\r\n"


@pytest.mark.parametrize(
    ("wire", "status", "fields", "rest"),
    [
        (OK + b"Content-Length: 2\r\n\r\nok", 200, [(b"Content-Length", b"2")], b"ok"),
        (b"HTTP/1.1 200 OK\nA: 1\n\nbody", 200, [(b"A", b"1")], b"body"),
        (b"\r\n\r\n" + OK + b"\r\n", 200, [], b""),
        (b"HTTP/1.0 404\r\n\r\n", 404, [], b""),
        (b"HTTP/1.1 200 \r\n\r\n", 200, [], b""),
        (b"HTTP/1.1 099 Odd\r\n\r\n", 99, [], b""),
        (b"HTTP/2.0 200 OK\r\n\r\n", 200, [], b""),
        (
            b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + OK + b"B: 2\r\n\r\n",
            200,
            [(b"B", b"2")],
            b"",
        ),
        (
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 P\r\n\r\nHTTP/1.1 204 No\r\n\r\n",
            204,
            [],
            b"",
        ),
        (b"HTTP/1.1 101 Switching\r\nUpgrade: x\r\n\r\nraw", 101, [(b"Upgrade", b"x")], b"raw"),
        (OK + b"A:  one \t\r\n  two\r\n\tthree\r\n\r\n", 200, [(b"A", b"one two three")], b""),
        (OK + b"A:\r\nB: \r\n\r\n", 200, [(b"A", b""), (b"B", b"")], b""),
        (OK + b"A: caf\xc3\xa9\x01\x7f\r\n\r\n", 200, [(b"A", b"caf\xc3\xa9\x01\x7f")], b""),
        (
            OK + b"Set-Cookie: a\r\nX: 1\r\nset-cookie: b\r\n\r\n",
            200,
            [(b"Set-Cookie", b"a"), (b"X", b"1"), (b"set-cookie", b"b")],
            b"",
        ),
        (
            OK + b"Transfer-Encoding: Chunked\r\n\r\n",
            200,
            [(b"Transfer-Encoding", b"Chunked")],
            b"",
        ),
        (
            OK + _fields(MAX_FIELDS) + b"\r\n",
            200,
            [(b"X-F%d" % i, b"v") for i in range(MAX_FIELDS)],
            b"",
        ),
        (OK + _line(MAX_LINE) + b"\r\n", 200, [(b"X-Long", b"a" * (MAX_LINE - 8))], b""),
    ],
)
def test_heads(wire: bytes, status: int, fields: list[tuple[bytes, bytes]], rest: bytes) -> None:
    stream = io.BytesIO(wire)
    head = read_head(stream.readline)
    assert (head.status, head.fields, stream.read()) == (status, fields, rest)


@pytest.mark.parametrize(
    ("wire", "error", "message"),
    [
        (b"", HeadIncomplete, "the connection closed before any byte of the answer"),
        (b"HTTP/1.1 20", HeadIncomplete, "the connection closed inside the head"),
        (OK + b"Content-Le", HeadIncomplete, "the connection closed inside the head"),
        (OK + b"A: 1\r\n", HeadIncomplete, "the connection closed inside the head"),
        (
            b"HTTP/1.1 103 Early Hints\r\n\r\n",
            HeadIncomplete,
            "the connection closed inside the head",
        ),
        (b"garbage\r\n\r\n", MalformedHead, "not an HTTP status line: b'garbage'"),
        (b"http/1.1 200 OK\r\n\r\n", MalformedHead, "not an HTTP status line"),
        (b"HTTP/1.1  200 OK\r\n\r\n", MalformedHead, "not an HTTP status line"),
        (b" HTTP/1.1 200 OK\r\n\r\n", MalformedHead, "not an HTTP status line"),
        (b"HTTP/1.1 2x0 OK\r\n\r\n", MalformedHead, "not an HTTP status line"),
        (b"HTTP/1.1 200 O\x00K\r\n\r\n", MalformedHead, "a NUL in the reason phrase"),
        (OK + b"no colon here\r\n\r\n", MalformedHead, "not a header field line: b'no colon here'"),
        (OK + b"X A: 1\r\n\r\n", MalformedHead, "not a header field line"),
        (OK + b"X-A : 1\r\n\r\n", MalformedHead, "not a header field line"),
        (OK + b": 1\r\n\r\n", MalformedHead, "not a header field line"),
        (OK + b"X-\xc3\xa9: 1\r\n\r\n", MalformedHead, "not a header field line"),
        (OK + b" folded: first\r\n\r\n", MalformedHead, "a continuation line without a field"),
        (OK + b"A: a\x00b\r\n\r\n", MalformedHead, "a NUL in the value of A"),
        (OK + b"A: a\rb\r\n\r\n", MalformedHead, "a bare CR in the head line"),
        (
            OK + b"Content-Length: 2\r\nContent-Length: 2\r\n\r\n",
            MalformedHead,
            "more than one Content-Length",
        ),
        (OK + b"Content-Length: +2\r\n\r\n", MalformedHead, "invalid Content-Length '+2'"),
        (
            OK + b"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n",
            MalformedHead,
            "both Transfer-Encoding and Content-Length",
        ),
        (
            OK + b"Transfer-Encoding: gzip, chunked\r\n\r\n",
            MalformedHead,
            "unsupported Transfer-Encoding 'gzip, chunked'",
        ),
        (
            OK + _fields(MAX_FIELDS + 1) + b"\r\n",
            HeadTooLarge,
            f"{MAX_FIELDS + 1} header fields (at most {MAX_FIELDS})",
        ),
        (
            OK + _fields(PARSER_MAX_FIELDS + 1) + b"\r\n",
            HeadTooLarge,
            f"more than {PARSER_MAX_FIELDS} head lines",
        ),
        (
            OK + _line(MAX_LINE + 1) + b"\r\n",
            HeadTooLarge,
            f"a header field line of {MAX_LINE + 1} bytes",
        ),
        (
            OK + _line(PARSER_MAX_LINE + 1) + b"\r\n",
            HeadTooLarge,
            f"a head line longer than {PARSER_MAX_LINE} bytes",
        ),
        (
            b"HTTP/1.1 200 " + b"R" * (MAX_LINE - 12) + b"\r\n\r\n",
            HeadTooLarge,
            f"a status line of {MAX_LINE + 1} bytes",
        ),
    ],
)
def test_bad_heads(wire: bytes, error: type[HeadError], message: str) -> None:
    with pytest.raises(error, match="^" + re.escape(message)):
        read_head(io.BytesIO(wire).readline)


def test_the_longest_status_line_passes() -> None:
    wire = b"HTTP/1.1 200 " + b"R" * (MAX_LINE - 13) + b"\r\n\r\n"
    assert read_head(io.BytesIO(wire).readline).reason == b"R" * (MAX_LINE - 13)
