"""URL rules: which URLs a crawl may hold, the form it requests, the form it deduplicates by.

Every URL has two forms, and each is used for one purpose only:

1. The **request form** (:func:`normalize`) is the URL as the page wrote it, normalised only as
   a browser would: scheme and host lower-cased (IDNA for non-ASCII hosts), the scheme's
   default port dropped, dot segments removed, unsafe characters percent-encoded (w3lib's
   ``safe_url_string``), the fragment and any ``user:password@`` dropped. The query keeps its
   order. It goes on the wire and is what robots.txt rules are matched against, so a server
   receives exactly the URL its page linked to.
2. The **key** (:func:`canonicalize`) is w3lib's ``canonicalize_url`` of the request form
   (query arguments sorted, percent-encoding normalised). It is only used to decide whether
   two URLs are the same page.

Only ``http`` and ``https`` URLs with a host are crawlable; anything else raises
:class:`InvalidURL`, and so does every malformed URL (a broken ``[`` host, a bad port), never
a bare ``ValueError``. Scope compares hosts: ``host`` keeps the seeds' exact host and port,
``domain`` keeps the seeds' hosts and their subdomains (a leading ``www.`` on a seed is
ignored), ``any`` keeps all.

Resolving a link is the expensive step of a crawl (one call per ``href``), so
:class:`LinkResolver` caches by the pair (base directory, href), which is exact for every href
that is not empty, query-only or fragment-only, and those are handled before the cache. On a
broad crawl nearly every link is new, so a cache does not help: most links are *plain* (see
:func:`plain_join`), already in request form and key form, and skip the general path.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from w3lib.url import canonicalize_url, safe_url_string

from spindle.crawl.core.choices import ScopeRule
from spindle.crawl.core.values import Link

__all__ = [
    "InvalidURL",
    "LinkResolver",
    "Scope",
    "ScopeRule",
    "canonicalize",
    "host_key",
    "normalize",
    "plain_join",
    "resolve",
    "split_credentials",
]

_DEFAULT_PORTS = {"http": ":80", "https": ":443"}
# A page's hrefs repeat within its folder (menus, sidebars), rarely across the site: resolving a
# third of the Rust docs' pages, 20,000 entries cost no more CPU than 200,000 and held 73 MB of
# RSS instead of 109 MB (the cache is emptied when full).
_RESOLVER_CACHE_LIMIT = 20_000
# WHATWG URL parsing strips leading and trailing C0 controls and spaces, and every tab and
# newline inside.
_C0_AND_SPACE = "".join(chr(c) for c in range(0x21))
_TAB_AND_NEWLINES = str.maketrans("", "", "\t\n\r")
# WHATWG's forbidden domain code points that can survive to this point.
_FORBIDDEN_HOST = re.compile(r"[\x00-\x20#%/<>?@\[\\\]^|]")


class InvalidURL(ValueError):
    """A URL that a crawl can never fetch; the message says why."""


def _split(url: str) -> tuple[str, str, str, str]:
    """Check ``url`` and return (scheme, netloc without userinfo, path, query)."""
    text = url.strip(_C0_AND_SPACE).translate(_TAB_AND_NEWLINES)
    try:
        parts = urlsplit(text)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS:
            raise InvalidURL(f"{url}: only http and https URLs can be crawled")
        if not parts.hostname:
            raise InvalidURL(f"{url}: the URL has no host")
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        if isinstance(exc, InvalidURL):
            raise
        raise InvalidURL(f"{url}: {exc}") from exc
    return scheme, parts.netloc.rpartition("@")[2], parts.path, parts.query


def _remove_dot_segments(path: str) -> str:
    """RFC 3986, 5.2.4, for a path that starts with "/" (empty segments are kept).

    >>> _remove_dot_segments("/a/./b/../c/.."), _remove_dot_segments("////.0/../x")
    ('/a/', '////x')
    """
    segments = path.split("/")[1:]
    kept: list[str] = []
    for segment in segments:
        if segment == "..":
            if kept:
                kept.pop()
        elif segment != ".":
            kept.append(segment)
    result = "/" + "/".join(kept)
    if segments and segments[-1] in (".", "..") and not result.endswith("/"):
        result += "/"
    return result


def normalize(url: str) -> str:
    """Return the request form of an absolute http(s) URL (see the module docstring).

    Raises:
        InvalidURL: not http(s), no host, or malformed.

    >>> normalize("HTTP://Example.COM:80/a/./b/../c?y=2&x=1#top")
    'http://example.com/a/c?y=2&x=1'
    >>> normalize("https://user:secret@example.com/caf\\u00e9")
    'https://example.com/caf%C3%A9'
    >>> normalize("http://[::1/")
    Traceback (most recent call last):
    ...
    spindle.crawl.core.urls.InvalidURL: http://[::1/: Invalid IPv6 URL
    """
    scheme, netloc, path, query = _split(url)
    try:
        safe: str = safe_url_string(urlunsplit((scheme, netloc, path or "/", query, "")))
    except ValueError as exc:  # an unencodable host (IDNA) or a similar malformation
        raise InvalidURL(f"{url}: {exc}") from exc
    head, _, rest = safe.partition("://")
    host, slash, tail = rest.partition("/")
    name = host if host.startswith("[") else host.rpartition(":")[0] or host
    if not name or (not name.startswith("[") and _FORBIDDEN_HOST.search(name)):
        raise InvalidURL(f"{url}: the host is empty or holds a character hosts cannot hold")
    default_port = _DEFAULT_PORTS[scheme]
    if host.endswith(default_port):
        host = host[: -len(default_port)]
    path_part = f"{slash or '/'}{tail}"
    if "/." in path_part:
        path, mark, after = path_part.partition("?")
        path_part = _remove_dot_segments(path) + mark + after
    return f"{head}://{host}{path_part}"


# A URL that normalize() and canonicalize() return unchanged (the property tests check this
# against the general path): lower-case http(s) scheme and host of plain ASCII labels, a
# port that is given without a leading zero, then a path of unreserved characters; no
# userinfo, query or fragment. Dot segments and default ports are ruled out by plain_join.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_PLAIN = re.compile(
    rf"(https?)://((?:{_LABEL}\.)*{_LABEL})(?::([1-9][0-9]{{0,4}}))?(/[A-Za-z0-9._~/-]*)"
)
_PLAIN_RELATIVE = re.compile(r"[A-Za-z0-9_~-][A-Za-z0-9._~/-]*")


def plain_join(base: str, href: str) -> str | None:
    """``resolve(base, href)`` for the common case, or None where the general path must decide.

    ``base`` is a URL in request form. Handled here: an absolute plain URL, a path from the
    root (``/a/b.html``) and a relative path (``b.html``, ``c/d.html``) on a plain base, when
    the result is plain, has no dot segment and no default port. The result is also its own
    key (:func:`canonicalize`). About six times faster than :func:`resolve` with
    :func:`canonicalize`.

    >>> plain_join("http://a.test/docs/x.html", "y/z.html")
    'http://a.test/docs/y/z.html'
    >>> plain_join("http://a.test/docs/x.html", "../y.html") is None  # dot segments: resolve()
    True
    """
    if href[:1] == "/":
        if href[1:2] == "/":
            return None  # scheme-relative
        scheme, sep, rest = base.partition("://")
        url = f"{scheme}{sep}{rest.split('/', 1)[0]}{href}"
    elif _PLAIN_RELATIVE.fullmatch(href) is not None:
        folder = base[: base.rfind("/") + 1]
        if "?" in base or "#" in base or "//" in href or "//" in folder.partition("://")[2]:
            return None  # urljoin drops the empty segments of a relative path: resolve()
        url = folder + href
    else:
        url = href
    match = _PLAIN.fullmatch(url)
    if match is None or "/." in match[4] or len(match[2]) > 253:
        return None
    port = match[3]
    if port is not None and (int(port) > 65535 or f":{port}" == _DEFAULT_PORTS[match[1]]):
        return None
    return url


def canonicalize(url: str) -> str:
    """Return the key of a URL: two URLs with one key are one page to the crawl.

    Raises:
        InvalidURL: as :func:`normalize`.

    >>> canonicalize("HTTP://Example.COM:80/%7euser/../b?y=2&x=1#top")
    'http://example.com/b?x=1&y=2'
    >>> canonicalize("ftp://example.com/")
    Traceback (most recent call last):
    ...
    spindle.crawl.core.urls.InvalidURL: ftp://example.com/: only http and https URLs can be crawled
    """
    return _key(normalize(url))


def _key(normalized: str) -> str:
    key: str = canonicalize_url(normalized, keep_fragments=False)
    return key


def resolve(base: str, href: str) -> str:
    """Resolve ``href`` against ``base`` and return the request form.

    Raises:
        InvalidURL: the result is not a crawlable URL (``urljoin``'s own ``ValueError`` on a
            broken bracketed host included).

    >>> resolve("http://a.test/docs/x.html", "../y.html#top")
    'http://a.test/y.html'
    """
    try:
        joined = urljoin(base, href.strip())
    except ValueError as exc:
        raise InvalidURL(f"{href}: {exc}") from exc
    return normalize(joined)


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """Return ``url`` without ``user:password@``, and the (user, password) it carried.

    >>> split_credentials("http://ann:s%40fe@a.test/x")
    ('http://a.test/x', ('ann', 's@fe'))
    >>> split_credentials("http://a.test/")
    ('http://a.test/', None)
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url.strip(), None  # malformed: normalize() will say why
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at:
        return url.strip(), None
    user, _, password = userinfo.partition(":")
    bare = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return bare, (unquote(user), unquote(password))


def host_key(url: str) -> str:
    """Return the politeness key of a URL in request form: ``scheme://host[:port]``.

    >>> host_key("https://example.com:8443/a?b")
    'https://example.com:8443'
    """
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def _netloc(url: str) -> str:
    return url.partition("://")[2].split("/", 1)[0]


@dataclass(frozen=True, slots=True)
class Scope:
    """Decides whether a URL in request form belongs to the crawl.

    >>> scope = Scope.from_seeds(ScopeRule.DOMAIN, ["http://www.example.com/"])
    >>> scope.allows("https://docs.example.com/x"), scope.allows("http://example.org/")
    (True, False)
    """

    rule: ScopeRule
    netlocs: frozenset[str]
    domains: tuple[str, ...]

    @classmethod
    def from_seeds(cls, rule: ScopeRule, seeds: Iterable[str]) -> Scope:
        """Build the scope of a crawl from its seed URLs in request form."""
        netlocs = frozenset(_netloc(seed) for seed in seeds)
        domains = []
        for netloc in netlocs:
            host = urlsplit(f"//{netloc}").hostname or netloc
            domains.append(host.removeprefix("www."))
        return cls(rule, netlocs, tuple(sorted(set(domains))))

    def allows(self, url: str) -> bool:
        """Return True when ``url`` (request form) is inside this scope."""
        if self.rule is ScopeRule.ANY:
            return True
        netloc = _netloc(url)
        if self.rule is ScopeRule.HOST:
            return netloc in self.netlocs
        host = netloc.rsplit(":", 1)[0] if not netloc.endswith("]") else netloc
        return any(host == d or host.endswith("." + d) for d in self.domains)


def _depends_on_whole_base(href: str) -> bool:
    """True for hrefs whose resolution uses the base's file name or query, not just its folder:
    empty, fragment- or query-only, and ``//`` with no host (urljoin then returns the base)."""
    return (
        not href or href[0] in "#?" or (href.startswith("//") and href[2:3] in ("", "/", "?", "#"))
    )


class LinkResolver:
    """Turns the hrefs of a page into :class:`Link` values, caching the work.

    Length and trap limits are not applied here: the frontier applies them, so that every
    refusal is counted. Scope is applied after the cache, so one cache serves both the links
    to follow and the link graph.

    Every operation on the cache is a single dict operation, so concurrent use from parser
    threads can at worst repeat work.

    >>> resolver = LinkResolver(Scope.from_seeds(ScopeRule.HOST, ["http://a.test/"]))
    >>> hrefs = ["y.html#top", "../z?b=1&a=2", "http://b.test/", "#x", "http://[::1/"]
    >>> [link.url for link in resolver.resolve("http://a.test/docs/x.html", hrefs)]
    ['http://a.test/docs/y.html', 'http://a.test/z?b=1&a=2']
    >>> resolver.resolve_one("http://a.test/docs/x.html", "http://b.test/").url
    'http://b.test/'
    """

    def __init__(self, scope: Scope) -> None:
        self._scope = scope
        self._cache: dict[tuple[str, str], Link | None] = {}

    def resolve(self, base: str, hrefs: Iterable[str]) -> list[Link]:
        """Return the in-scope links the hrefs point to, once per key, in first-seen order.

        ``base`` is the page's base URL (its ``<base href>`` if any, else its own URL).
        Fragment-only hrefs point back at the page itself and are dropped.
        """
        return self.split(base, hrefs)[0]

    def split(self, base: str, hrefs: Iterable[str]) -> tuple[list[Link], list[Link]]:
        """Like :meth:`resolve`, and also return the links out of scope (once per key)."""
        base_dir = _directory(base)
        allows = self._scope.allows
        inside: dict[str, Link] = {}
        outside: dict[str, Link] = {}
        for raw in dict.fromkeys(hrefs):
            link = self._cached(base, base_dir, raw)
            if link is None or link.key in inside or link.key in outside:
                continue
            (inside if allows(link.url) else outside)[link.key] = link
        return list(inside.values()), list(outside.values())

    def resolve_one(self, base: str, href: str) -> Link | None:
        """The crawlable URL ``href`` points to from ``base``, in scope or not; None for a
        fragment-only href or one that is not an http(s) URL."""
        return self._cached(base, _directory(base), href)

    def _cached(self, base: str, base_dir: str, raw: str) -> Link | None:
        href = raw.strip()
        # Requests carry no fragment: "x.html#a" and "x.html#b" share one cache entry.
        cut = href.find("#")
        if cut > 0:
            href = href[:cut]
        key = (base, href) if _depends_on_whole_base(href) else (base_dir, href)
        cache = self._cache
        try:
            return cache[key]
        except KeyError:
            link = _resolve_link(key[0], href)
            if len(cache) >= _RESOLVER_CACHE_LIMIT:
                cache.clear()
            cache[key] = link
            return link


def _directory(base: str) -> str:
    base_dir = base.split("?", 1)[0].split("#", 1)[0]
    return base_dir[: base_dir.rfind("/") + 1]


def _resolve_link(base: str, href: str) -> Link | None:
    if href.startswith("#"):
        return None
    lowered = href[:11].lower()
    if ":" in lowered and not lowered.startswith(("http:", "https:")):
        return None  # mailto:, javascript:, data:, tel: ...
    plain = plain_join(base, href)
    if plain is not None:
        return Link(plain, plain)
    try:
        url = resolve(base, href)
    except InvalidURL:
        return None
    return Link(url, _key(url))
