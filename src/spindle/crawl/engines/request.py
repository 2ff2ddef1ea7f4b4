"""What both fetchers send: one settings value, one set of request headers, one URL check.

Every request carries ``User-Agent``, ``Accept`` and ``Accept-Encoding: gzip, deflate`` (the
encodings :mod:`.body` decodes), then the extra headers of the settings, then
``Authorization: Basic ...`` when the settings hold credentials for the URL's origin
(``scheme://host[:port]``, the default port left out). Userinfo in a URL is never sent: it is
cut from the URL before the request, so no credential reaches a host the settings do not name
(aiohttp would otherwise send it as Basic credentials and urllib3 would not).

The request target is fixed here too, so both engines put the same bytes on the request line:
the path without dot segments (RFC 3986, section 5.2.4), then the query if it is not empty;
characters a path or query may not hold are percent-encoded as UTF-8 and percent-escapes are
upper case (urllib3 would upper-case them and aiohttp would decode unreserved ones, so the
fetchers hand both libraries the finished form). The fragment is never sent.
"""

from __future__ import annotations

import base64
import ipaddress
import math
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final
from urllib.parse import SplitResult, urlsplit

__all__ = [
    "ACCEPT",
    "ACCEPT_ENCODING",
    "MAX_TIMEOUT",
    "Credentials",
    "FetchSettings",
    "PreparedRequest",
    "origin",
    "prepare",
]

ACCEPT: Final = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"
ACCEPT_ENCODING: Final = "gzip, deflate"
MAX_TIMEOUT: Final = 86400.0
"""Longest allowed ``timeout``: a day."""

_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
_TOKEN: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")
_ESCAPE: Final = re.compile(r"%[0-9a-fA-F]{2}")
_PATH_SAFE: Final = frozenset(string.ascii_letters + string.digits + "-._~!$&'()*+,;=:@/")
_QUERY_SAFE: Final = _PATH_SAFE | {"?"}
# Headers Spindle sets itself, and those that belong to the connection or the framing.
_RESERVED: Final = frozenset(
    {
        "accept",
        "accept-encoding",
        "authorization",
        "connection",
        "content-length",
        "host",
        "keep-alive",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "user-agent",
    }
)


@dataclass(frozen=True, slots=True)
class Credentials:
    """HTTP Basic credentials (RFC 7617); the password never shows in a repr.

    >>> Credentials("bob", "hunter2")
    Credentials(user='bob')
    >>> Credentials("bob", "hunter2").authorization
    'Basic Ym9iOmh1bnRlcjI='
    """

    user: str
    password: str = field(repr=False)

    def __post_init__(self) -> None:
        if ":" in self.user or _CONTROL.search(self.user):
            raise ValueError("Credentials.user must not contain ':' or control characters")
        if _CONTROL.search(self.password):
            raise ValueError("Credentials.password must not contain control characters")

    @property
    def authorization(self) -> str:
        """The ``Authorization`` header value (UTF-8, as RFC 7617 recommends)."""
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode("ascii")
        return f"Basic {token}"


@dataclass(frozen=True, slots=True)
class FetchSettings:
    """How both fetchers fetch; validated on creation.

    ``timeout`` bounds the whole fetch (connect, status line, headers and body) in seconds,
    finite, more than 0 and at most :data:`MAX_TIMEOUT`. ``pool_size`` is how many connections
    each host may keep open (at least 1). ``headers`` are extra request headers (not one that
    Spindle sets itself or that belongs to the connection). ``credentials`` are keyed by origin,
    ``scheme://host[:port]``; keys are normalised (lower case, default port left out).

    Raises:
        ValueError: naming the field that is wrong.

    >>> FetchSettings("bot/1", credentials={"HTTP://Example.com:80": Credentials("a", "b")})
    FetchSettings(user_agent='bot/1', timeout=15.0, pool_size=10, headers={}, credentials={'http://example.com': Credentials(user='a')})
    """  # noqa: E501

    user_agent: str
    timeout: float = 15.0
    pool_size: int = 10
    headers: Mapping[str, str] = field(default_factory=dict)
    credentials: Mapping[str, Credentials] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.user_agent, str) or not self.user_agent.strip():
            raise ValueError("FetchSettings.user_agent must be a non-empty string")
        if _CONTROL.search(self.user_agent):
            raise ValueError("FetchSettings.user_agent must not contain control characters")
        timeout = self.timeout
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, int | float)
            or not math.isfinite(timeout)
            or not 0 < timeout <= MAX_TIMEOUT
        ):
            raise ValueError(
                f"FetchSettings.timeout must be a finite number of seconds in "
                f"(0, {MAX_TIMEOUT:g}], not {timeout!r}"
            )
        if isinstance(self.pool_size, bool) or not isinstance(self.pool_size, int):
            raise ValueError(f"FetchSettings.pool_size must be an int, not {self.pool_size!r}")
        if self.pool_size < 1:
            raise ValueError(f"FetchSettings.pool_size must be at least 1, not {self.pool_size}")
        object.__setattr__(self, "timeout", float(timeout))
        object.__setattr__(self, "headers", _checked_headers(self.headers))
        object.__setattr__(self, "credentials", _checked_credentials(self.credentials))

    def __repr__(self) -> str:
        return (
            f"FetchSettings(user_agent={self.user_agent!r}, timeout={self.timeout!r}, "
            f"pool_size={self.pool_size!r}, headers={dict(self.headers)!r}, "
            f"credentials={dict(self.credentials)!r})"
        )

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every string a failure message must never show: passwords and their tokens."""
        found: list[str] = []
        for credentials in self.credentials.values():
            token = credentials.authorization.removeprefix("Basic ")
            found += [credentials.password, token, f"{credentials.user}:{credentials.password}"]
        return tuple(secret for secret in found if secret)

    def request_headers(self, url_origin: str) -> dict[str, str]:
        """The headers of every request to ``url_origin``, in the order they are sent."""
        headers = {"User-Agent": self.user_agent, "Accept": ACCEPT}
        headers["Accept-Encoding"] = ACCEPT_ENCODING
        headers.update(self.headers)
        credentials = self.credentials.get(url_origin)
        if credentials is not None:
            headers["Authorization"] = credentials.authorization
        return headers


@dataclass(frozen=True, slots=True)
class PreparedRequest:
    """A GET ready for the wire: the URL as sent (see the module docstring), and its headers."""

    url: str
    origin: str
    headers: Mapping[str, str]


def prepare(settings: FetchSettings, url: str) -> PreparedRequest:
    """Check ``url`` and build its request.

    >>> prepare(FetchSettings("bot/1"), "HTTP://u:p@Example.com:80/a/./b/../c d?%7e=é#top").url
    'http://Example.com:80/a/c%20d?%7E=%C3%A9'

    Raises:
        ValueError: the URL cannot be fetched (not http or https, no host, a broken bracketed
            host, a bad port, control characters).
    """
    parts = _split(url)
    url_origin = _origin(parts)
    target = _encode(_remove_dot_segments(parts.path) or "/", _PATH_SAFE)
    if parts.query:
        target += "?" + _encode(parts.query, _QUERY_SAFE)
    wire = f"{parts.scheme.lower()}://{parts.netloc.rpartition('@')[2]}{target}"
    return PreparedRequest(wire, url_origin, settings.request_headers(url_origin))


def origin(url: str) -> str:
    """The origin of ``url``: ``scheme://host[:port]``, lower case, default port left out.

    >>> origin("HTTPS://User@[::1]:443/x"), origin("http://a.test:8080")
    ('https://[::1]', 'http://a.test:8080')

    Raises:
        ValueError: as :func:`prepare`.
    """
    return _origin(_split(url))


def _split(url: str) -> SplitResult:
    if _CONTROL.search(url):
        raise ValueError("the URL contains a control character")
    parts = urlsplit(url)
    if parts.scheme.lower() not in _DEFAULT_PORTS:
        raise ValueError(f"unsupported URL scheme {parts.scheme!r}")
    host = parts.netloc.rpartition("@")[2]
    if host.startswith("["):
        literal = host[1:].partition("]")[0]
        ipaddress.IPv6Address(literal)  # ValueError for a broken bracketed host
    if not parts.hostname:
        raise ValueError("the URL has no host")
    _ = parts.port  # ValueError for a bad port
    return parts


def _remove_dot_segments(path: str) -> str:
    output: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if output:
                output.pop()
        elif segment != ".":
            output.append(segment)
    if path.startswith("/") and (not output or output[0]):
        output.insert(0, "")
    if path.endswith(("/.", "/..")):
        output.append("")
    return "/".join(output)


def _encode(component: str, safe: frozenset[str]) -> str:
    upper = _ESCAPE.sub(lambda match: match.group(0).upper(), component)
    data = upper.encode("utf-8", "surrogatepass")
    # A '%' stays when every '%' starts an escape; otherwise each one is encoded too.
    keep_percent = len(_ESCAPE.findall(upper)) == data.count(b"%")
    return "".join(
        chr(byte)
        if (byte < 128 and chr(byte) in safe) or (keep_percent and byte == 0x25)
        else f"%{byte:02X}"
        for byte in data
    )


def _origin(parts: SplitResult) -> str:
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def _checked_headers(headers: Mapping[str, str]) -> Mapping[str, str]:
    checked: dict[str, str] = {}
    seen: set[str] = set()
    for name, value in headers.items():
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            raise ValueError(f"FetchSettings.headers: {name!r} is not a header name")
        if name.lower() in _RESERVED:
            raise ValueError(f"FetchSettings.headers: {name!r} is set by Spindle or the connection")
        if name.lower() in seen:
            raise ValueError(f"FetchSettings.headers: {name!r} is given twice")
        if not isinstance(value, str) or _CONTROL.search(value.replace("\t", " ")):
            raise ValueError(f"FetchSettings.headers: the value of {name!r} is not a header value")
        seen.add(name.lower())
        checked[name] = value
    return MappingProxyType(checked)


def _checked_credentials(credentials: Mapping[str, Credentials]) -> Mapping[str, Credentials]:
    checked: dict[str, Credentials] = {}
    for key, value in credentials.items():
        if not isinstance(value, Credentials):
            raise ValueError(f"FetchSettings.credentials: {key!r} needs a Credentials value")
        try:
            parts = _split(key)
        except ValueError as exc:
            raise ValueError(
                f"FetchSettings.credentials: {key!r} is not an origin: {exc}"
            ) from None
        if parts.path not in ("", "/") or parts.query or parts.fragment or "@" in parts.netloc:
            raise ValueError(
                f"FetchSettings.credentials: {key!r} is not an origin (scheme://host[:port])"
            )
        normal = _origin(parts)
        if normal in checked:
            raise ValueError(f"FetchSettings.credentials: {normal!r} is given twice")
        checked[normal] = value
    return MappingProxyType(checked)
