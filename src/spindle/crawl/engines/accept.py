"""Which response bodies are downloaded: the media types a crawl accepts (``--accept-type``).

A crawl that accepts only some types still records every response, from its status and
headers; only the body of a response of another type is not downloaded. The rules, shared by
both fetchers:

* an accepted type is ``type/subtype``, ``type/*`` or ``*/*``, without parameters; it is
  compared with the media type of the response's first ``Content-Type`` field (parameters
  left out), ignoring case;
* a response without a ``Content-Type`` (or with an empty one) is accepted: the crawl sniffs
  such bodies, so it needs them;
* robots.txt is always read, whatever its type (the crawl cannot obey rules it did not read);
* no accepted type at all means every type is accepted.

A skipped body is not read, except that a body declared (``Content-Length``) at most
:data:`DRAIN_LIMIT` bytes long is read and thrown away so that the connection can carry the
next request; any other skipped body (longer, chunked, or ending with the connection) is left
unread and its connection closed, so an endless or huge body costs nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from spindle.crawl.core.values import FetchKind, Headers

__all__ = ["DRAIN_LIMIT", "check_accept_types", "declared_length", "media_type", "wants_body"]

DRAIN_LIMIT: Final = 64 * 1024
"""Longest declared body that is read and dropped to keep its connection (bytes on the wire)."""

_TOKEN: Final = r"[!#$%&'+\-.^_`|~0-9a-z]+"  # no '*', which only a whole range may be
_RANGE: Final = re.compile(rf"(\*/\*|{_TOKEN}/\*|{_TOKEN}/{_TOKEN})")
_NO_BODY_STATUSES: Final = frozenset({204, 304})


def check_accept_types(types: Iterable[str]) -> tuple[str, ...]:
    """The accepted types in normal form (lower case, each once, in order).

    >>> check_accept_types(["Text/HTML", "application/*", "text/html"])
    ('text/html', 'application/*')

    Raises:
        ValueError: naming a value that is not ``type/subtype``, ``type/*`` or ``*/*``.
    """
    found: list[str] = []
    for given in types:
        normal = given.strip().lower() if isinstance(given, str) else given
        if not isinstance(normal, str) or not _RANGE.fullmatch(normal):
            raise ValueError(
                f"{given!r} is not a media type (type/subtype, type/* or */*, no parameters)"
            )
        if normal not in found:
            found.append(normal)
    return tuple(found)


def media_type(content_type: str | None) -> str | None:
    """The media type of a ``Content-Type`` value, lower case; None when there is none.

    >>> media_type(" Text/HTML ; charset=utf-8"), media_type(""), media_type(None)
    ('text/html', None, None)
    """
    if content_type is None:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None


def wants_body(accepted: tuple[str, ...], kind: FetchKind, headers: Headers) -> bool:
    """Whether the body of a response with ``headers`` is downloaded (module docstring).

    >>> page, html = FetchKind.PAGE, (("Content-Type", "text/html; charset=utf-8"),)
    >>> wants_body(("text/*",), page, html), wants_body(("image/png",), page, html)
    (True, False)
    >>> wants_body(("image/png",), FetchKind.ROBOTS, html), wants_body(("image/png",), page, ())
    (True, True)
    """
    if not accepted or kind is FetchKind.ROBOTS:
        return True
    given = media_type(_first(headers, "content-type"))
    if given is None:
        return True
    kind_of = given.partition("/")[0]
    return any(a in ("*/*", given) or a == f"{kind_of}/*" for a in accepted)


def declared_length(status: int, headers: Headers) -> int | None:
    """How many body bytes the head announces: 0 for 204 and 304, the ``Content-Length``
    when there is one, None when the body is chunked or ends with the connection.

    The head rules (:mod:`.head`) have already refused a malformed ``Content-Length``.

    >>> declared_length(200, (("Content-Length", "12"),)), declared_length(304, ())
    (12, 0)
    >>> declared_length(200, (("Transfer-Encoding", "chunked"),)) is None
    True
    """
    if status in _NO_BODY_STATUSES:
        return 0
    length = _first(headers, "content-length")
    if length is None or not length.isdigit():
        return None
    return int(length)


def _first(headers: Headers, name: str) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None
