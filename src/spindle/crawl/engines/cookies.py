"""The crawl's cookies: read from a Netscape cookies.txt, kept from ``Set-Cookie``, sent as a
browser sends them. One :class:`CookieJar` serves every fetch of a crawl, in either engine.

Matching follows the standard library's :class:`http.cookiejar.CookieJar` (which both
engines go through, so they send the same ``Cookie`` header) with browser rules: a cookie
goes to its domain (and the hosts under it, for a domain cookie; to that host only for a
host-only cookie), to paths under its path, over https only when it is secure, and not after
it expires. Cookies the servers set during the crawl are kept in memory for the rest of it.
Only cookies whose name and value are printable ASCII are kept (the two HTTP libraries encode
other characters differently). Nothing here is ever written anywhere.

The file format (as curl and wget write it): one cookie a line, seven fields separated by
tabs: domain, ``TRUE`` when hosts under the domain get it too, path, ``TRUE`` for secure,
expiry (seconds since the epoch; 0 for a session cookie, kept for the whole crawl), name,
value. Blank lines and lines starting with ``#`` are skipped, except ``#HttpOnly_``, which
curl puts before the domain of an HttpOnly cookie. A cookie that has expired is dropped.

Thread safety: the standard library's jar holds a lock during every call, so fetch threads
may share one :class:`CookieJar`; in the asyncio engine only the loop's thread uses it, and
no call waits for anything but that lock.

Cost: the standard library's jar parses the request URL again for every domain it holds, and
sweeps every cookie for expired ones, on every request: 4.5 ms a request with 1,000 cookies
on 500 hosts. Ours looks only at the domains the request's host can match (the same
candidates the standard check accepts, in the same order), and sweeps at most once every
:data:`SWEEP_INTERVAL` seconds (an expired cookie is never sent, swept or not).
"""

from __future__ import annotations

import email.message
import http.cookiejar
import re
import time
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from spindle.crawl.core.values import Headers

__all__ = ["SECRET_LENGTH", "SWEEP_INTERVAL", "CookieFileError", "CookieJar", "read_cookies_file"]

SECRET_LENGTH: Final = 8
"""Cookie values at least this long are masked in failure messages; shorter ones (``1``,
``en``) are not secrets, and masking them would garble every message."""

SWEEP_INTERVAL: Final = 60.0
"""Seconds between two sweeps of expired cookies."""

_HTTP_ONLY: Final = "#HttpOnly_"
_FLAGS: Final = {"TRUE": True, "FALSE": False}
_PRINTABLE: Final = re.compile(r"[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?")
_NAME: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


class CookieFileError(ValueError):
    """A cookies file that cannot be read; the message says ``FILE:LINE: why`` (no value)."""


class _Policy(http.cookiejar.DefaultCookiePolicy):
    """Browser rules: a cookie set without ``Domain`` returns to its host only; a cookie whose
    name or value is not printable ASCII is not kept."""

    def __init__(self) -> None:
        super().__init__(strict_ns_domain=http.cookiejar.DefaultCookiePolicy.DomainStrictNonDomain)

    def set_ok(self, cookie: http.cookiejar.Cookie, request: urllib.request.Request) -> bool:
        return _sendable(cookie.name, cookie.value or "") and super().set_ok(cookie, request)


class _IndexedJar(http.cookiejar.CookieJar):
    """The standard library's jar, looking up only the domains a request can match."""

    def __init__(self, policy: http.cookiejar.CookiePolicy) -> None:
        super().__init__(policy)
        self._swept = time.monotonic()

    def _cookies_for_request(self, request: urllib.request.Request) -> list[http.cookiejar.Cookie]:
        # The domains domain_return_ok() accepts are the suffixes of the request host (and
        # of its "effective" form, "host.local" for a dotless host) that start at a label,
        # with and without a leading dot. Keeping the jar's own order keeps its header order.
        candidates = {""}
        hosts: tuple[str, str] = http.cookiejar.eff_request_host(request)  # type: ignore[attr-defined]
        for host in hosts:
            labels = host.lower().split(".")
            for start in range(len(labels)):
                suffix = ".".join(labels[start:])
                candidates.update((suffix, "." + suffix))
        found: list[http.cookiejar.Cookie] = []
        for domain in list(self._cookies):  # type: ignore[attr-defined]
            if domain in candidates:
                found += self._cookies_for_domain(domain, request)  # type: ignore[attr-defined]
        return found

    def clear_expired_cookies(self) -> None:
        now = time.monotonic()
        if now - self._swept >= SWEEP_INTERVAL:
            self._swept = now
            super().clear_expired_cookies()


class _Answer:
    """What :meth:`http.cookiejar.CookieJar.extract_cookies` reads from a response."""

    def __init__(self, headers: Headers) -> None:
        self._message = email.message.Message()
        for name, value in headers:
            if name.lower() == "set-cookie":
                self._message["Set-Cookie"] = value

    def info(self) -> email.message.Message:
        return self._message


class CookieJar:
    """The cookies of one crawl; safe to share between threads (module docstring).

    >>> jar = CookieJar()
    >>> jar.update("http://a.test/login", (("Set-Cookie", "sid=abc123; Path=/"),))
    >>> jar.header("http://a.test/page"), jar.header("http://b.test/"), jar
    ('sid=abc123', None, <CookieJar 1 cookie>)
    """

    def __init__(self, cookies: Iterable[http.cookiejar.Cookie] = ()) -> None:
        self._jar = _IndexedJar(_Policy())
        for cookie in cookies:
            self._jar.set_cookie(cookie)

    def __len__(self) -> int:
        return len(self._jar)

    def __repr__(self) -> str:
        count = len(self)
        return f"<CookieJar {count} cookie{'' if count == 1 else 's'}>"

    def header(self, url: str) -> str | None:
        """The ``Cookie`` header value for a request of ``url``, or None when no cookie
        applies."""
        request = urllib.request.Request(url)
        self._jar.add_cookie_header(request)
        return request.get_header("Cookie")

    def update(self, url: str, headers: Headers) -> None:
        """Keep the cookies that the ``Set-Cookie`` fields of a response to ``url`` set."""
        if any(name.lower() == "set-cookie" for name, _ in headers):
            self._jar.extract_cookies(_Answer(headers), urllib.request.Request(url))  # type: ignore[arg-type]

    def secrets(self) -> tuple[str, ...]:
        """The values of the cookies held that are long enough to be secrets
        (:data:`SECRET_LENGTH`)."""
        return tuple(
            cookie.value
            for cookie in list(self._jar)
            if cookie.value is not None and len(cookie.value) >= SECRET_LENGTH
        )


def read_cookies_file(path: Path, *, now: float | None = None) -> CookieJar:
    """A jar holding the cookies of a Netscape cookies file (format in the module docstring).

    ``now`` (seconds since the epoch; the current time by default) decides which cookies
    have expired.

    Raises:
        CookieFileError: the file cannot be read, or a line is not a cookie.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CookieFileError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise CookieFileError(f"cannot read {path}: {exc.strerror}") from None
    moment = time.time() if now is None else now
    cookies: list[http.cookiejar.Cookie] = []
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            cookie = _cookie(line)
        except ValueError as exc:
            raise CookieFileError(f"{path}:{number}: {exc}") from None
        if cookie is not None and not cookie.is_expired(int(moment)):
            cookies.append(cookie)
    return CookieJar(cookies)


def _cookie(line: str) -> http.cookiejar.Cookie | None:
    http_only = line.startswith(_HTTP_ONLY)
    if http_only:
        line = line.removeprefix(_HTTP_ONLY)
    elif not line.strip() or line.lstrip().startswith("#"):
        return None
    fields = line.rstrip("\r\n").split("\t")
    if len(fields) != 7:
        raise ValueError(
            f"expected 7 tab-separated fields (domain, subdomains, path, secure, expiry, "
            f"name, value), found {len(fields)}"
        )
    domain, subdomains, path, secure, expiry, name, value = fields
    host = domain.strip().lower().lstrip(".")
    if not host or not _PRINTABLE.fullmatch(host):
        raise ValueError("the domain is empty or not printable ASCII")
    if subdomains.upper() not in _FLAGS or secure.upper() not in _FLAGS:
        raise ValueError("the subdomains and secure fields must be TRUE or FALSE")
    if not path.startswith("/"):
        raise ValueError("the path must start with '/'")
    if not expiry.isdigit():
        raise ValueError("the expiry must be a whole number of seconds (0: session cookie)")
    if not _NAME.fullmatch(name) or not _sendable(name, value):
        raise ValueError("the name must be a token and the value printable ASCII without ';'")
    if "." not in host:
        # The standard library's jar names a host without a dot "host.local" (RFC 2965).
        host += ".local"
    whole_domain = _FLAGS[subdomains.upper()]
    expires = int(expiry) or None
    return http.cookiejar.Cookie(
        version=0,
        name=name,
        value=value,
        port=None,
        port_specified=False,
        domain="." + host if whole_domain else host,
        domain_specified=whole_domain,
        domain_initial_dot=whole_domain,
        path=path,
        path_specified=True,
        secure=_FLAGS[secure.upper()],
        expires=expires,
        discard=expires is None,
        comment=None,
        comment_url=None,
        rest={"HttpOnly": ""} if http_only else {},
    )


def _sendable(name: str, value: str) -> bool:
    return (
        bool(name)
        and name.isascii()
        and value.isascii()
        and ";" not in name + value
        and not re.search(r"[\x00-\x1f\x7f]", name + value)
    )
