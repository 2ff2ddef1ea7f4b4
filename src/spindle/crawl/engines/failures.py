"""One classification of fetch failures for both engines: what went wrong, and its ErrorKind.

Each engine names the library exceptions that mean each :class:`Fault` (its own rows, in its
own module, because only it imports its library); this module holds the table from a fault to
the :class:`~spindle.crawl.core.values.ErrorKind` the core sees, so the policy is decided once.

======================  ====================  =======  =========================================
fault                   kind                  retried  what happened (thread / asyncio engine)
======================  ====================  =======  =========================================
TIMED_OUT               timeout               yes      no complete answer within the timeout:
                                                       connect, a read, or the whole response
                                                       (urllib3 timeouts, the watchdog's
                                                       deadline / aiohttp's ``TimeoutError``)
REFUSED                 connection            yes      the connection could not be made
                                                       (``NewConnectionError`` /
                                                       ``ClientConnectorError``)
PROXY_REFUSED           connection            yes      the proxy answered ``CONNECT`` with
                                                       another status than 200 (407, 502...):
                                                       ``TunnelRefused``, made by each engine
                                                       from its library's error
CLOSED                  connection            yes      closed or reset before the answer was
                                                       complete: no byte at all, part of the
                                                       head, or a body short of its length or
                                                       last chunk (``HeadIncomplete``,
                                                       ``IncompleteRead``, ``ConnectionError`` /
                                                       ``ServerDisconnectedError``,
                                                       ``ClientPayloadError``)
NAME_NOT_FOUND          dns                   no       the host name does not resolve
TLS_FAILED              tls                   no       the TLS handshake or certificate failed
NOT_HTTP                protocol              no       bytes that are not HTTP/1.1: a bad status
                                                       or field line, bad chunk framing, an
                                                       invalid Content-Length or
                                                       Transfer-Encoding (``MalformedHead``,
                                                       ``InvalidChunkLength`` / aiohttp's
                                                       ``HttpProcessingError``)
HEAD_TOO_LARGE          protocol              no       a head past the limits of :mod:`.head`
UNDECODABLE             decode                no       a Content-Encoding that cannot be decoded
BOMB                    decompression_bomb    no       a compressed body past every sane ratio
CRASH                   crash                 no       anything else, bugs included; the message
                                                       is ``<ExceptionType>: <message>``
======================  ====================  =======  =========================================

Why these: a connection that ends early may be a server restarting or a keep-alive race, so
trying again later can help; bytes that are not HTTP will be the same bytes next time. A proxy
refusing a tunnel is most often one whose upstream failed (502, 503), so it counts as a
connection that could not be made (a 407 is retried in vain, but only ``--retries`` times). Both
engines also send a GET once more, at once and on a new connection, when its connection closes
or resets before the response head is complete (RFC 9112, section 9.3.1: the server may have
closed an idle keep-alive connection just as it was reused); only the second failure is
reported. The contract test ``tests/crawl/engines/test_fetchers.py`` sends every fault the
fault server knows to both engines and checks they agree.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Final

from spindle.crawl.core.values import ErrorKind, Failure
from spindle.crawl.engines.body import BodyError, BodyTooLarge
from spindle.crawl.engines.head import HeadIncomplete, HeadTooLarge, MalformedHead
from spindle.crawl.engines.proxy import TunnelRefused

__all__ = [
    "COMMON_ROWS",
    "KIND",
    "MESSAGE_LIMIT",
    "Fault",
    "Rows",
    "classify",
    "crash",
    "failure",
    "mask",
    "timed_out",
]

MESSAGE_LIMIT: Final = 300
"""Longest ``Failure.message``, in characters."""


class Fault(enum.Enum):
    """What went wrong with one fetch, in words both engines share."""

    TIMED_OUT = "no complete answer within the timeout"
    REFUSED = "the connection could not be made"
    PROXY_REFUSED = "the proxy refused the tunnel"
    CLOSED = "the connection closed before the answer was complete"
    NAME_NOT_FOUND = "the host name does not resolve"
    TLS_FAILED = "the TLS handshake or certificate failed"
    NOT_HTTP = "the answer is not valid HTTP/1.1"
    HEAD_TOO_LARGE = "the response head exceeds a limit"
    UNDECODABLE = "the body cannot be decoded"
    BOMB = "the compressed body expands past every sane ratio"
    CRASH = "fetching this URL raised"


KIND: Final[dict[Fault, ErrorKind]] = {
    Fault.TIMED_OUT: ErrorKind.TIMEOUT,
    Fault.REFUSED: ErrorKind.CONNECTION,
    Fault.PROXY_REFUSED: ErrorKind.CONNECTION,
    Fault.CLOSED: ErrorKind.CONNECTION,
    Fault.NAME_NOT_FOUND: ErrorKind.DNS,
    Fault.TLS_FAILED: ErrorKind.TLS,
    Fault.NOT_HTTP: ErrorKind.PROTOCOL,
    Fault.HEAD_TOO_LARGE: ErrorKind.PROTOCOL,
    Fault.UNDECODABLE: ErrorKind.DECODE,
    Fault.BOMB: ErrorKind.DECOMPRESSION_BOMB,
    Fault.CRASH: ErrorKind.CRASH,
}
"""The classification table: every fault's kind (see the module docstring)."""

Rows = Sequence[tuple[type[BaseException], Fault]]
"""An engine's exception rows: the first row whose type matches any exception in the chain
wins; no match is a :attr:`Fault.CRASH`."""

COMMON_ROWS: Final[Rows] = (
    (BodyTooLarge, Fault.BOMB),  # before BodyError, its base
    (BodyError, Fault.UNDECODABLE),
    (HeadTooLarge, Fault.HEAD_TOO_LARGE),
    (MalformedHead, Fault.NOT_HTTP),
    (HeadIncomplete, Fault.CLOSED),
    (TunnelRefused, Fault.PROXY_REFUSED),
)
"""Rows for the exceptions Spindle raises itself, first in both engines' rows."""

_CHAIN_LIMIT = 16
_USERINFO: Final = re.compile(r"(?<=//)[^/?#@\s]*@")


def classify(exc: BaseException, rows: Rows) -> tuple[Fault, BaseException]:
    """The fault ``exc`` means, and the exception in its chain that said so.

    The chain is ``exc``, its ``__cause__`` and ``__context__``, and any exception it carries in
    its ``args`` (urllib3 wraps the real error that way), recursively.
    """
    chain = list(_chain(exc))
    for kind, fault in rows:
        for link in chain:
            if isinstance(link, kind):
                return fault, link
    return Fault.CRASH, exc


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo = [exc]
    while todo and len(seen) < _CHAIN_LIMIT:
        link = todo.pop(0)
        if id(link) in seen:
            continue
        seen.add(id(link))
        yield link
        todo.extend(arg for arg in link.args if isinstance(arg, BaseException))
        todo.extend(e for e in (link.__cause__, link.__context__) if e is not None)


def failure(
    exc: BaseException,
    rows: Rows,
    *,
    elapsed: float,
    fetched_at: float,
    secrets: Iterable[str] = (),
) -> Failure:
    """The ``Failure`` for ``exc``, classified by ``rows``, its message masked and capped."""
    fault, cause = classify(exc, rows)
    if fault is Fault.CRASH:
        return crash(exc, elapsed=elapsed, fetched_at=fetched_at, secrets=secrets)
    message = f"{fault.value}: {_describe(cause)}"
    return Failure(KIND[fault], _cap(mask(message, secrets)), elapsed, fetched_at)


def timed_out(
    detail: str, *, elapsed: float, fetched_at: float, secrets: Iterable[str] = ()
) -> Failure:
    """A ``timeout`` Failure with ``detail`` after the shared description."""
    message = f"{Fault.TIMED_OUT.value}: {detail}"
    return Failure(ErrorKind.TIMEOUT, _cap(mask(message, secrets)), elapsed, fetched_at)


def crash(
    exc: BaseException, *, elapsed: float, fetched_at: float, secrets: Iterable[str] = ()
) -> Failure:
    """A ``crash`` Failure: ``"<ExceptionType>: <message>"``, masked and capped.

    >>> crash(ValueError("Invalid IPv6 URL"), elapsed=0.0, fetched_at=0.0).message
    'ValueError: Invalid IPv6 URL'
    """
    message = f"{type(exc).__name__}: {exc}"
    return Failure(ErrorKind.CRASH, _cap(mask(message, secrets)), elapsed, fetched_at)


_CONNECTION_REPR = re.compile(r"^\w+\(host=[^)]*\): ")


def mask(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with the userinfo of any URL and every secret replaced by ``***``.

    >>> mask("Failed to parse: http://bob:hunter2@[::1/ (token czNjcjN0)", ["czNjcjN0"])
    'Failed to parse: http://***@[::1/ (token ***)'
    """
    for secret in sorted(set(secrets), key=len, reverse=True):
        if secret:
            text = text.replace(secret, "***")
    return _USERINFO.sub("***@", text)


def _describe(exc: BaseException) -> str:
    # aiohttp's HTTP errors print as "400, message: ..."; their message alone says more.
    message = getattr(exc, "message", None)
    text = message if isinstance(message, str) and message else str(exc)
    # urllib3 starts with its connection object, "HTTPConnection(host=..., port=...): ".
    text = _CONNECTION_REPR.sub("", text)
    return " ".join(text.split()) or type(exc).__name__


def _cap(message: str) -> str:
    return message if len(message) <= MESSAGE_LIMIT else message[: MESSAGE_LIMIT - 3] + "..."
