"""WARC 1.1 records for one exchange, built with warcio: what goes into each record, and why.

A **response** record holds the status line, the header fields and the body as received on the
wire (:class:`~spindle.crawl.core.values.Wire`): ``Content-Encoding`` is kept and the body is
still encoded, so ``WARC-Payload-Digest`` is the digest of the payload as the server sent it.
The HTTP libraries remove chunked transfer framing; a record that kept
``Transfer-Encoding: chunked`` over a de-chunked body would contradict itself (readers such as
warcio and pywb would try to de-chunk it again), so that header is renamed
``X-Spindle-Transfer-Encoding`` (value kept) and, for a complete body, a ``Content-Length`` of
the payload is added. A body the fetcher stopped reading (``--max-bytes``) gets
``WARC-Truncated: length``.

When a response carries no wire capture (a fetcher that does not keep it), the record is
rebuilt from the decoded response instead, and is self-consistent rather than a claim about
the wire: the status line is ``HTTP/1.1 <status> <standard reason>``, the header fields are the
response's own without ``Content-Encoding``, ``Content-Length`` and ``Transfer-Encoding``, then
a ``Content-Length`` of the decoded body, which is the payload.

A **request** record holds the request line and header fields as sent (or, without a wire
capture, the request line, ``Host`` and ``User-Agent``), less ``Authorization``,
``Proxy-Authorization`` and ``Cookie`` (the user's own cookies): credentials never reach an
output; a response's ``Set-Cookie`` is kept, as the server sent it. It names its response in
``WARC-Concurrent-To``. Both records carry the requested URL as ``WARC-Target-URI``, the fetch's
wall-clock time as ``WARC-Date`` (microseconds, as WARC 1.1 allows), and the ``WARC-Record-ID``
of their file's warcinfo record as ``WARC-Warcinfo-ID``.
"""

from __future__ import annotations

import http
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from io import BytesIO
from typing import Any, Final
from urllib.parse import urlsplit

from warcio.recordbuilder import RecordBuilder
from warcio.statusandheaders import StatusAndHeaders

from spindle.crawl.core.values import Fetch, Headers, Response

__all__ = [
    "CHUNKED_HEADER",
    "WARC_VERSION",
    "ExchangeRecords",
    "build_exchange",
    "build_warcinfo",
    "header_bytes",
    "warc_date",
]

WARC_VERSION: Final = "WARC/1.1"
CHUNKED_HEADER: Final = "X-Spindle-Transfer-Encoding"
_SECRET_HEADERS: Final = frozenset({"authorization", "proxy-authorization", "cookie"})
_FRAMING: Final = frozenset({"content-encoding", "content-length", "transfer-encoding"})


def warc_date(timestamp: float) -> str:
    """A WARC 1.1 date (UTC, microseconds) for seconds since the epoch.

    >>> warc_date(1764086866.688)
    '2025-11-25T16:07:46.688000Z'
    """
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _value_bytes(text: str) -> bytes:
    """A header text as bytes. The fetchers decode a value as UTF-8 when it is valid, else as
    ISO-8859-1 (``engines/head.py``), and keep only the text, so a non-ASCII value cannot
    always be told apart: it is written as UTF-8, the more common form today. ASCII, nearly
    every header there is, comes out byte for byte.

    >>> _value_bytes("text/html"), _value_bytes("café")
    (b'text/html', b'caf\xc3\xa9')
    """
    return text.encode("utf-8", "surrogateescape")


def header_bytes(first_line: str, headers: Iterable[tuple[str, str]]) -> bytes:
    """An HTTP head as bytes: the first line, each field, and the empty line.

    >>> header_bytes("HTTP/1.1 200 OK", [("Content-Type", "text/html")])
    b'HTTP/1.1 200 OK\\r\\nContent-Type: text/html\\r\\n\\r\\n'
    """
    lines = [_value_bytes(first_line)]
    lines.extend(_value_bytes(name) + b": " + _value_bytes(value) for name, value in headers)
    return b"\r\n".join(lines) + b"\r\n\r\n"


class _ExactHead(StatusAndHeaders):  # type: ignore[misc]  # warcio is untyped
    """An HTTP head that warcio writes byte for byte (it would percent-encode non-ASCII
    values); the parsed form is kept for warcio's own look-ups."""

    def __init__(self, statusline: str, headers: Sequence[tuple[str, str]], protocol: str) -> None:
        super().__init__(statusline, list(headers), protocol=protocol)
        self._exact = header_bytes(f"{protocol} {statusline}", headers)

    def compute_headers_buffer(self, header_filter: Any = None) -> None:
        self.headers_buff = self._exact


class ExchangeRecords:
    """The two records of one exchange (warcio objects); warcio's
    ``write_request_response_pair`` writes the response first and adds the request's
    ``WARC-Concurrent-To``."""

    __slots__ = ("request", "response")

    def __init__(self, response: Any, request: Any) -> None:
        self.response = response
        self.request = request


def _response_head(response: Response) -> tuple[_ExactHead, bytes, bool]:
    """The response's head, payload and whether the payload is cut short."""
    wire = response.wire
    if wire is None:
        try:
            reason = http.HTTPStatus(response.status).phrase
        except ValueError:
            reason = ""
        headers = [(n, v) for n, v in response.headers if n.lower() not in _FRAMING]
        headers.append(("Content-Length", str(len(response.body))))
        head = _ExactHead(f"{response.status} {reason}", headers, "HTTP/1.1")
        return head, response.body, response.truncated
    headers = []
    chunked = False
    for name, value in response.headers:
        if name.lower() == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
            headers.append((CHUNKED_HEADER, value))
        else:
            headers.append((name, value))
    if chunked and wire.complete:
        headers = [(n, v) for n, v in headers if n.lower() != "content-length"]
        headers.append(("Content-Length", str(len(wire.body))))
    head = _ExactHead(f"{response.status} {wire.reason}", headers, wire.http_version)
    return head, wire.body, not wire.complete


def _request_head(fetch: Fetch, response: Response, user_agent: str) -> _ExactHead:
    wire = response.wire
    if wire is not None:
        target, version = wire.target, wire.http_version
        fields: Headers = tuple(
            (n, v) for n, v in wire.request_headers if n.lower() not in _SECRET_HEADERS
        )
    else:
        parts = urlsplit(fetch.url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        version = "HTTP/1.1"
        fields = (("Host", parts.netloc), ("User-Agent", user_agent))
    # warcio keeps a request's method in ``protocol`` and the rest of the line in ``statusline``
    return _ExactHead(f"{target} {version}", fields, "GET")


def build_exchange(
    builder: RecordBuilder, fetch: Fetch, response: Response, *, warcinfo_id: str, user_agent: str
) -> ExchangeRecords:
    """The response and request records of one answered fetch (see the module docstring).

    ``user_agent`` is only used to rebuild a request that has no wire capture.
    """
    head, payload, cut = _response_head(response)
    fields = {
        "WARC-Type": "response",
        "WARC-Record-ID": builder._make_warc_id(),
        "WARC-Date": warc_date(response.fetched_at),
        "WARC-Target-URI": fetch.url,
        "WARC-Warcinfo-ID": warcinfo_id,
    }
    if cut:
        fields["WARC-Truncated"] = "length"
    answer = builder.create_warc_record(
        fetch.url,
        "response",
        payload=BytesIO(payload),
        length=len(payload),
        http_headers=head,
        warc_headers_dict=fields,
    )
    asked = builder.create_warc_record(
        fetch.url,
        "request",
        http_headers=_request_head(fetch, response, user_agent),
        warc_headers_dict={
            "WARC-Type": "request",
            "WARC-Record-ID": builder._make_warc_id(),
            "WARC-Date": fields["WARC-Date"],
            "WARC-Target-URI": fetch.url,
            "WARC-Warcinfo-ID": warcinfo_id,
        },
    )
    return ExchangeRecords(answer, asked)


def build_warcinfo(
    builder: RecordBuilder, filename: str, fields: Sequence[tuple[str, str]], when: float
) -> Any:
    """A warcinfo record naming ``filename``, its block the ``fields`` (``name: value`` lines,
    repeated names kept, as ``application/warc-fields``)."""
    block = b"".join(f"{name}: {value}\r\n".encode() for name, value in fields)
    return builder.create_warc_record(
        "",
        "warcinfo",
        payload=BytesIO(block),
        length=len(block),
        warc_content_type="application/warc-fields",
        warc_headers_dict={
            "WARC-Type": "warcinfo",
            "WARC-Record-ID": builder._make_warc_id(),
            "WARC-Date": warc_date(when),
            "WARC-Filename": filename,
        },
    )
