"""The request half of a :class:`~spindle.crawl.core.values.Wire`, as each engine saw it sent.

Each fetcher records the request target and the header fields its HTTP library actually put
on the connection (the thread engine from the connection's ``putrequest``/``putheader``
calls, the asyncio engine from aiohttp's "request headers sent" trace), then builds the
:class:`Wire` here, so both describe an exchange the same way. ``Proxy-Authorization`` is left
out: it is addressed to the proxy, not to the origin, and carries the proxy's password.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from spindle.crawl.core.values import Wire
from spindle.crawl.engines.head import decode_value

__all__ = ["SentRequest", "build_wire"]

_LEFT_OUT = frozenset({"proxy-authorization"})


@dataclass(slots=True)
class SentRequest:
    """Filled in while a request is sent: its target and header fields, in order. A request
    sent again (a closed keep-alive connection) replaces what the first try recorded."""

    target: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)

    def start(self, target: str) -> None:
        """A request line with ``target`` is being sent: forget any earlier try."""
        self.target = target
        self.headers = []

    def replace_headers(self, headers: Iterable[tuple[str, str]]) -> None:
        """The header fields sent, all at once."""
        self.headers = list(headers)


def build_wire(
    sent: SentRequest,
    *,
    version: tuple[int, int],
    reason: bytes,
    body: bytes,
    complete: bool,
) -> Wire:
    """The :class:`Wire` of one exchange.

    >>> sent = SentRequest("/a", [("Host", "a.test"), ("Proxy-Authorization", "Basic eA==")])
    >>> build_wire(sent, version=(1, 1), reason=b"OK", body=b"hi", complete=True)
    Wire(target='/a', request_headers=(('Host', 'a.test'),), http_version='HTTP/1.1', reason='OK', body=b'hi', complete=True)
    """  # noqa: E501
    return Wire(
        target=sent.target,
        request_headers=tuple(
            (name, value) for name, value in sent.headers if name.lower() not in _LEFT_OUT
        ),
        http_version=f"HTTP/{version[0]}.{version[1]}",
        reason=decode_value(reason),
        body=body,
        complete=complete,
    )
