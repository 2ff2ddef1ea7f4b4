"""What both fetchers send: one settings value, one set of request headers, one URL check.

Every request carries, in this order: ``Host`` (the URL's authority in normal form: lower
case, the default port left out), ``User-Agent``, ``Accept`` (the settings' own value when
its extra headers hold one), ``Accept-Encoding: gzip, deflate`` (the encodings :mod:`.body`
decodes), then the other extra headers of the settings, then ``Cookie`` when the settings
keep cookies (:mod:`.cookies`) and some apply, then ``Authorization: Basic ...`` when the
settings hold credentials for the URL's origin (``scheme://host[:port]``, the default port
left out). Userinfo in a URL is never sent: it is cut from the URL before the request, so no
credential reaches a host the settings do not name (aiohttp would otherwise send it as Basic
credentials and urllib3 would not).

Extra headers may be any but those of the connection and its framing, ``Host`` (from the
URL), and those with a setting of their own, which is safer: ``Authorization`` (credentials
go to one origin, extra headers to every host), ``Cookie`` (cookies go to their domain),
``User-Agent`` (robots.txt is matched against it), ``Accept-Encoding`` (only the encodings
Spindle decodes) and ``Proxy-Authorization`` (from the proxy URL). Header values are printable
ASCII: the two HTTP libraries encode other characters differently.

The request target is fixed here too, so both engines put the same bytes on the request line:
the path without dot segments (RFC 3986, section 5.2.4), then the query if it is not empty;
characters a path or query may not hold are percent-encoded as UTF-8 and percent-escapes are
upper case (urllib3 would upper-case them and aiohttp would decode unreserved ones, so the
fetchers hand both libraries the finished form). The fragment is never sent. Through a proxy
(:mod:`.proxy`), an http URL's request line carries the whole URL (absolute form) instead.
"""

from __future__ import annotations

import ipaddress
import math
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final
from urllib.parse import SplitResult, urlsplit

from spindle.crawl.core.values import Headers
from spindle.crawl.engines.accept import check_accept_types
from spindle.crawl.engines.cookies import CookieJar
from spindle.crawl.engines.credentials import Credentials
from spindle.crawl.engines.proxy import Proxy, ProxyRules

__all__ = [
    "ACCEPT",
    "ACCEPT_ENCODING",
    "MAX_TIMEOUT",
    "Credentials",
    "FetchSettings",
    "PreparedRequest",
    "check_header",
    "origin",
    "prepare",
    "remember_cookies",
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
_VALUE: Final = re.compile(r"[\x20-\x7e\t]*")
# Extra headers that cannot be given, and why (see the module docstring).
_REFUSED: Final = {
    **dict.fromkeys(
        (
            "connection",
            "content-length",
            "keep-alive",
            "proxy-connection",
            "te",
            "trailer",
            "transfer-encoding",
            "upgrade",
        ),
        "it belongs to the connection",
    ),
    "host": "it comes from the URL",
    "accept-encoding": "Spindle asks for the encodings it decodes (gzip, deflate)",
    "authorization": "credentials have their own setting (--auth), which sends them to one "
    "origin only",
    "cookie": "cookies have their own setting (--cookies), which sends them to their domain only",
    "proxy-authorization": "proxy credentials go in the proxy URL",
    "user-agent": "the user agent has its own setting (--user-agent): robots.txt is matched "
    "against it",
}


@dataclass(frozen=True, slots=True)
class FetchSettings:
    """How both fetchers fetch; validated on creation.

    ``timeout`` bounds the whole fetch (connect, status line, headers and body) in seconds,
    finite, more than 0 and at most :data:`MAX_TIMEOUT`. ``pool_size`` is how many connections
    each host may keep open (at least 1). ``headers`` are extra request headers (see the
    module docstring for those refused, and why). ``credentials`` are keyed by origin,
    ``scheme://host[:port]``; keys are normalised (lower case, default port left out).

    ``accept_types`` are the media types whose bodies are downloaded (:mod:`.accept`; empty:
    every type). ``cookies`` is the crawl's cookie jar (:mod:`.cookies`; None: no cookie is
    sent or kept). ``proxies`` decide the proxy of each URL (:mod:`.proxy`; by default none).
    ``ca_file`` is the PEM bundle of certificates to trust instead of the system's, and
    ``verify`` False checks no certificate at all (:mod:`.tls`). ``keep_wire`` makes every
    response carry its :class:`~spindle.crawl.core.values.Wire`, for archives.

    Raises:
        ValueError: naming the field that is wrong.

    >>> FetchSettings("bot/1", credentials={"HTTP://Example.com:80": Credentials("a", "b")})
    FetchSettings(user_agent='bot/1', timeout=15.0, pool_size=10, headers={}, credentials={'http://example.com': Credentials(user='a')}, accept_types=(), cookies=None, proxies=ProxyRules(http=None, https=None, bypass=()), ca_file=None, verify=True, keep_wire=False)
    """  # noqa: E501

    user_agent: str
    timeout: float = 15.0
    pool_size: int = 10
    headers: Mapping[str, str] = field(default_factory=dict)
    credentials: Mapping[str, Credentials] = field(default_factory=dict)
    accept_types: tuple[str, ...] = ()
    cookies: CookieJar | None = None
    proxies: ProxyRules = field(default_factory=ProxyRules)
    ca_file: str | None = None
    verify: bool = True
    keep_wire: bool = False

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
        if self.cookies is not None and not isinstance(self.cookies, CookieJar):
            raise ValueError("FetchSettings.cookies must be a CookieJar or None")
        if not isinstance(self.proxies, ProxyRules):
            raise ValueError("FetchSettings.proxies must be a ProxyRules value")
        if self.ca_file is not None and not isinstance(self.ca_file, str):
            raise ValueError(f"FetchSettings.ca_file must be a path or None, not {self.ca_file!r}")
        for flag in ("verify", "keep_wire"):
            if not isinstance(getattr(self, flag), bool):
                raise ValueError(f"FetchSettings.{flag} must be True or False")
        try:
            accept_types = check_accept_types(self.accept_types)
        except ValueError as exc:
            raise ValueError(f"FetchSettings.accept_types: {exc}") from None
        object.__setattr__(self, "timeout", float(timeout))
        object.__setattr__(self, "headers", _checked_headers(self.headers))
        object.__setattr__(self, "credentials", _checked_credentials(self.credentials))
        object.__setattr__(self, "accept_types", accept_types)

    def __repr__(self) -> str:
        return (
            f"FetchSettings(user_agent={self.user_agent!r}, timeout={self.timeout!r}, "
            f"pool_size={self.pool_size!r}, headers={dict(self.headers)!r}, "
            f"credentials={dict(self.credentials)!r}, accept_types={self.accept_types!r}, "
            f"cookies={self.cookies!r}, proxies={self.proxies!r}, ca_file={self.ca_file!r}, "
            f"verify={self.verify!r}, keep_wire={self.keep_wire!r})"
        )

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every string a failure message must never show, as of now: passwords (of origins
        and proxies) in every form, and the values of cookies long enough to be secrets."""
        found: list[str] = []
        for credentials in self.credentials.values():
            found += credentials.secrets
        found += self.proxies.secrets
        if self.cookies is not None:
            found += self.cookies.secrets()
        return tuple(found)

    def request_headers(self, url_origin: str, *, cookie: str | None = None) -> dict[str, str]:
        """The headers of a request to ``url_origin``, in the order they are sent, with the
        ``Cookie`` value that applies to its URL (see the module docstring)."""
        extra = dict(self.headers)
        accept = next((k for k in extra if k.lower() == "accept"), None)
        headers = {
            "Host": url_origin.partition("://")[2],
            "User-Agent": self.user_agent,
            "Accept": ACCEPT if accept is None else extra.pop(accept),
            "Accept-Encoding": ACCEPT_ENCODING,
        }
        headers.update(extra)
        if cookie is not None:
            headers["Cookie"] = cookie
        credentials = self.credentials.get(url_origin)
        if credentials is not None:
            headers["Authorization"] = credentials.authorization
        return headers


@dataclass(frozen=True, slots=True)
class PreparedRequest:
    """A GET ready for the wire: the URL as sent (its authority in normal form: see the
    module docstring), its origin, its origin-form ``target`` (``/path?query``), its headers
    and the proxy it goes through (None: direct)."""

    url: str
    origin: str
    target: str
    headers: Mapping[str, str]
    proxy: Proxy | None = None

    @property
    def request_target(self) -> str:
        """What the request line carries: the whole URL for an http URL through a proxy
        (absolute form), else :attr:`target`."""
        if self.proxy is not None and self.origin.startswith("http://"):
            return self.url
        return self.target


def prepare(settings: FetchSettings, url: str) -> PreparedRequest:
    """Check ``url`` and build its request.

    >>> prepare(FetchSettings("bot/1"), "HTTP://u:p@Example.com:80/a/./b/../c d?%7e=é#top").url
    'http://example.com/a/c%20d?%7E=%C3%A9'

    Raises:
        ValueError: the URL cannot be fetched (not http or https, no host, a broken bracketed
            host, a bad port, control characters).
    """
    parts = _split(url)
    url_origin = _origin(parts)
    target = _encode(_remove_dot_segments(parts.path) or "/", _PATH_SAFE)
    if parts.query:
        target += "?" + _encode(parts.query, _QUERY_SAFE)
    wire = url_origin + target
    cookie = None if settings.cookies is None else settings.cookies.header(wire)
    headers = settings.request_headers(url_origin, cookie=cookie)
    return PreparedRequest(wire, url_origin, target, headers, settings.proxies.proxy_for(wire))


def remember_cookies(settings: FetchSettings, request: PreparedRequest, headers: Headers) -> None:
    """Keep the cookies a response to ``request`` sets, when the settings keep cookies. Both
    fetchers call it as soon as the response head is read, before the body."""
    if settings.cookies is not None:
        settings.cookies.update(request.url, headers)


def check_header(name: str, value: str) -> None:
    """Refuse an extra request header that cannot be sent (see the module docstring).

    >>> check_header("Accept", "text/html")
    >>> check_header("Cookie", "a=1")
    Traceback (most recent call last):
    ...
    ValueError: 'Cookie' cannot be given: cookies have their own setting (--cookies), which sends them to their domain only

    Raises:
        ValueError: naming the header (never its value) and the rule it breaks.
    """  # noqa: E501
    if not isinstance(name, str) or not _TOKEN.fullmatch(name):
        raise ValueError(f"{name!r} is not a header name")
    reason = _REFUSED.get(name.lower())
    if reason is not None:
        raise ValueError(f"{name!r} cannot be given: {reason}")
    if not isinstance(value, str) or not _VALUE.fullmatch(value):
        raise ValueError(f"the value of {name!r} is not printable ASCII")


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
    if not host.isascii():
        host = host.encode("idna").decode("ascii")  # UnicodeError is a ValueError
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
        try:
            check_header(name, value)
        except ValueError as exc:
            raise ValueError(f"FetchSettings.headers: {exc}") from None
        if name.lower() in seen:
            raise ValueError(f"FetchSettings.headers: {name!r} is given twice")
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
