"""Read an HTTP/1.1 response head from a blocking byte stream, by the rules of :mod:`.head`.

The thread engine reads heads with this instead of :mod:`http.client`, whose limits are
process-wide globals (100 lines, 64 KiB a line) and which takes a ``103 Early Hints`` for the
final answer. The parse follows what the asyncio engine's parser (aiohttp's llhttp, lenient
mode) accepts, so both engines judge the same bytes alike:

* empty lines before the status line are skipped; a line may end in CRLF or a bare LF, and a
  bare CR anywhere else is refused;
* the status line is ``HTTP/<digit>.<digit> <3 digits>[ <reason>]``, with single spaces;
* every interim (1xx) response is read and dropped, except ``101 Switching Protocols``
  (RFC 9110, section 15.2);
* a field line is ``<token>:<value>``; a line starting with a space or tab continues the
  previous value (obs-fold, replaced by one space per RFC 9112, section 5.2); a NUL in a value is
  refused.

End of stream before the head is complete raises :class:`~.head.HeadIncomplete`; bytes that are
not such a head raise :class:`~.head.MalformedHead`; a head past the limits raises
:class:`~.head.HeadTooLarge`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from spindle.crawl.engines.head import (
    PARSER_MAX_FIELDS,
    PARSER_MAX_LINE,
    Fields,
    Framing,
    HeadIncomplete,
    HeadTooLarge,
    MalformedHead,
    check_head,
)

__all__ = ["Head", "read_head"]

_STATUS: Final = re.compile(rb"HTTP/([0-9])\.([0-9]) ([0-9]{3})(?: (.*))?", re.DOTALL)
_TOKEN: Final = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_SHOWN = 60  # bytes of an offending line quoted in an error message

ReadLine = Callable[[int], bytes]
"""``readline(limit)`` of a binary stream: up to ``limit`` bytes, ending at the first LF."""


@dataclass(frozen=True, slots=True)
class Head:
    """A final response head: version, status, reason phrase, fields and body framing."""

    version: tuple[int, int]
    status: int
    reason: bytes
    fields: Fields
    framing: Framing


def read_head(readline: ReadLine) -> Head:
    """Read heads until the final one (skipping 1xx except 101) and check it.

    >>> import io
    >>> wire = io.BytesIO(b"HTTP/1.1 103 Early Hints\\r\\nLink: </a>\\r\\n\\r\\n"
    ...                   b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok")
    >>> head = read_head(wire.readline)
    >>> head.status, head.fields, head.framing.content_length, wire.read()
    (200, [(b'Content-Length', b'2')], 2, b'ok')

    Raises:
        HeadIncomplete: the stream ended before the final head did.
        MalformedHead: the bytes are not a response head.
        HeadTooLarge: the head exceeds a limit.
    """
    first = True
    while True:
        version, status, reason = _status_line(readline, first=first)
        fields = _fields(readline)
        if not 100 <= status <= 199 or status == 101:
            return Head(version, status, reason, fields, check_head(reason, fields))
        first = False


def _line(readline: ReadLine, *, first: bool = False) -> bytes:
    line = readline(PARSER_MAX_LINE + 2)
    if not line.endswith(b"\n"):
        if len(line) >= PARSER_MAX_LINE + 2:
            raise HeadTooLarge(f"a head line longer than {PARSER_MAX_LINE} bytes")
        where = "before any byte of the answer" if first and not line else "inside the head"
        raise HeadIncomplete(f"the connection closed {where}")
    line = line[:-2] if line.endswith(b"\r\n") else line[:-1]
    if b"\r" in line:
        raise MalformedHead(f"a bare CR in the head line {line[:_SHOWN]!r}")
    return line


def _status_line(readline: ReadLine, *, first: bool) -> tuple[tuple[int, int], int, bytes]:
    line = _line(readline, first=first)
    skipped = 0
    while not line:  # empty lines before the status line
        skipped += 1
        if skipped > PARSER_MAX_FIELDS:
            raise HeadTooLarge(f"more than {PARSER_MAX_FIELDS} empty lines before the status")
        line = _line(readline)
    match = _STATUS.fullmatch(line)
    if match is None:
        raise MalformedHead(f"not an HTTP status line: {line[:_SHOWN]!r}")
    major, minor, status, reason = match.groups()
    reason = reason or b""
    if b"\x00" in reason:
        raise MalformedHead("a NUL in the reason phrase")
    return (int(major), int(minor)), int(status), reason


def _fields(readline: ReadLine) -> list[tuple[bytes, bytes]]:
    fields: list[tuple[bytes, bytes]] = []
    for _ in range(PARSER_MAX_FIELDS + 1):
        line = _line(readline)
        if not line:
            return fields
        if line[0] in b" \t":  # obs-fold: continues the previous value
            if not fields:
                raise MalformedHead(f"a continuation line without a field: {line[:_SHOWN]!r}")
            name, value = fields[-1]
            fields[-1] = (name, (value + b" " + line.strip(b" \t")).strip(b" \t"))
            continue
        name, colon, value = line.partition(b":")
        if not colon or _TOKEN.fullmatch(name) is None:
            raise MalformedHead(f"not a header field line: {line[:_SHOWN]!r}")
        value = value.strip(b" \t")
        if b"\x00" in value:
            raise MalformedHead(f"a NUL in the value of {name.decode('ascii')}")
        fields.append((name, value))
    raise HeadTooLarge(f"more than {PARSER_MAX_FIELDS} head lines")
