"""The rules for a response head that both fetchers enforce, so the same bytes get one verdict.

Limits (RFC 9110, section 5.4 leaves them to the recipient):

* at most :data:`MAX_FIELDS` header fields in the final response head;
* a status line or a field line of at most :data:`MAX_LINE` bytes, measured in canonical form:
  ``HTTP/1.1 200 <reason>`` for the status line, ``<name>: <value>`` for a field line, with the
  value as parsed (surrounding whitespace removed, an obs-fold replaced by one space).

The canonical form is what makes the engines agree: the asyncio engine only sees the fields
aiohttp parsed, so the exact limits are checked on parsed fields, by :func:`check_head`, in
both engines. The parsers themselves are told the looser :data:`PARSER_MAX_LINE` and
:data:`PARSER_MAX_FIELDS`, which bound memory before the exact check runs and are never the
ones that decide for a head written the usual way (one space after the colon).

Framing (RFC 9112, section 6): at most one ``Content-Length`` field, made of digits only; a
``Transfer-Encoding`` only as one field naming ``chunked`` alone (the one transfer coding
Spindle reads), and never together with a ``Content-Length``. Anything else is refused as
:class:`MalformedHead`, since no reading of such a body can be trusted.

Field names are tokens (ASCII); values are bytes on the wire, decoded as UTF-8 when they are
valid UTF-8 and as ISO-8859-1 otherwise (:func:`decode_value`), in both engines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from spindle.crawl.core.values import Headers

__all__ = [
    "MAX_FIELDS",
    "MAX_LINE",
    "PARSER_MAX_FIELDS",
    "PARSER_MAX_LINE",
    "Fields",
    "Framing",
    "HeadError",
    "HeadIncomplete",
    "HeadTooLarge",
    "MalformedHead",
    "check_head",
    "decode_value",
    "wire_headers",
]

MAX_FIELDS: Final = 100
"""Most header fields a final response head may have."""

MAX_LINE: Final = 8190
"""Longest status line or field line, in bytes, in canonical form (no CRLF)."""

PARSER_MAX_LINE: Final = MAX_LINE + 256
"""Longest physical line a parser accepts before the exact check (room for odd spacing)."""

PARSER_MAX_FIELDS: Final = MAX_FIELDS + 8
"""Most physical head lines a parser accepts before the exact check (room for the status line,
the empty line and a few obs-folds, however the parser counts them)."""

_STATUS_LINE_PREFIX: Final = len(b"HTTP/1.1 200 ")

Fields = Sequence[tuple[bytes, bytes]]
"""Header fields as parsed: (name, value) byte strings in wire order, values without the
surrounding whitespace."""


class HeadError(Exception):
    """The response head cannot be used."""


class MalformedHead(HeadError):
    """The bytes are not a valid HTTP/1.1 response head (or its framing cannot be trusted)."""


class HeadTooLarge(HeadError):
    """The response head exceeds :data:`MAX_FIELDS` or :data:`MAX_LINE`."""


class HeadIncomplete(HeadError):
    """The connection closed before the response head was complete."""


@dataclass(frozen=True, slots=True)
class Framing:
    """How the body is delimited: a length, chunked encoding, or (neither) the connection's end."""

    content_length: int | None
    chunked: bool


def check_head(reason: bytes, fields: Fields) -> Framing:
    """Check a final response head against the limits and framing rules; return its framing.

    >>> check_head(b"OK", [(b"Content-Length", b"12")])
    Framing(content_length=12, chunked=False)
    >>> check_head(b"OK", [(b"X-" + b"a" * 8186, b"b")])
    Traceback (most recent call last):
    ...
    spindle.crawl.engines.head.HeadTooLarge: a header field line of 8191 bytes (at most 8190)

    Raises:
        HeadTooLarge: a limit is exceeded.
        MalformedHead: the framing fields are invalid or contradict each other.
    """
    status_line = _STATUS_LINE_PREFIX + len(reason)
    if status_line > MAX_LINE:
        raise HeadTooLarge(f"a status line of {status_line} bytes (at most {MAX_LINE})")
    if len(fields) > MAX_FIELDS:
        raise HeadTooLarge(f"{len(fields)} header fields (at most {MAX_FIELDS})")
    lengths: list[bytes] = []
    codings: list[bytes] = []
    for name, value in fields:
        line = len(name) + 2 + len(value)
        if line > MAX_LINE:
            raise HeadTooLarge(f"a header field line of {line} bytes (at most {MAX_LINE})")
        lowered = name.lower()
        if lowered == b"content-length":
            lengths.append(value)
        elif lowered == b"transfer-encoding":
            codings.append(value)
    return _framing(lengths, codings)


def _framing(lengths: list[bytes], codings: list[bytes]) -> Framing:
    if codings:
        if lengths:
            raise MalformedHead("both Transfer-Encoding and Content-Length")
        if len(codings) > 1 or codings[0].lower() != b"chunked":
            shown = b", ".join(codings).decode("latin-1")
            raise MalformedHead(f"unsupported Transfer-Encoding {shown!r}")
        return Framing(None, chunked=True)
    if not lengths:
        return Framing(None, chunked=False)
    if len(lengths) > 1:
        raise MalformedHead("more than one Content-Length")
    if not (lengths[0].isascii() and lengths[0].isdigit()):
        raise MalformedHead(f"invalid Content-Length {lengths[0].decode('latin-1')!r}")
    return Framing(int(lengths[0]), chunked=False)


def decode_value(raw: bytes) -> str:
    """A header value or reason phrase as text: UTF-8 when valid, else ISO-8859-1.

    >>> decode_value("café".encode()), decode_value(b"caf\\xe9")
    ('café', 'café')
    """
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def wire_headers(fields: Fields) -> Headers:
    """The ``Response.headers`` value for parsed fields (wire order, repeats kept)."""
    return tuple((decode_value(name), decode_value(value)) for name, value in fields)
