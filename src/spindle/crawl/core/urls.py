"""URL rules: which URLs a crawl may hold, in what canonical form, and which are in scope.

Rules, in the order they are applied:

1. Only ``http`` and ``https`` URLs with a host are crawlable.
2. The canonical form is w3lib's ``canonicalize_url`` (percent-encoding normalised, query
   arguments sorted, fragment dropped) with the scheme's default port removed, so
   ``HTTP://Example.com:80/a#x`` and ``http://example.com/a`` are one URL.
3. Scope compares hosts: ``host`` keeps the seeds' exact host and port, ``domain`` keeps the
   seeds' hosts and their subdomains (a leading ``www.`` on a seed is ignored), ``any`` keeps all.

Resolving a link is the expensive step of a crawl (one call per ``href``), so
:class:`LinkResolver` caches by the pair (base directory, href), which is exact for every href
that is not empty, query-only or fragment-only, and those are handled before the cache.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from w3lib.url import canonicalize_url

__all__ = [
    "InvalidURL",
    "LinkResolver",
    "Scope",
    "ScopeRule",
    "canonicalize",
    "host_key",
]

_DEFAULT_PORTS = {"http": ":80", "https": ":443"}
_RESOLVER_CACHE_LIMIT = 200_000


class InvalidURL(ValueError):
    """A URL that a crawl can never fetch; the message says why."""


def canonicalize(url: str) -> str:
    """Return the canonical form of an absolute http(s) URL.

    Raises:
        InvalidURL: the scheme is not http or https, the host is missing or malformed.

    >>> canonicalize("HTTP://Example.COM:80/a/../b?y=2&x=1#top")
    'http://example.com/b?x=1&y=2'
    >>> canonicalize("ftp://example.com/")
    Traceback (most recent call last):
    ...
    spindle.crawl.core.urls.InvalidURL: ftp://example.com/: only http and https URLs can be crawled
    """
    try:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS:
            raise InvalidURL(f"{url}: only http and https URLs can be crawled")
        if not parts.hostname:
            raise InvalidURL(f"{url}: the URL has no host")
        parts.port  # noqa: B018 - raises ValueError on a malformed port
        canonical: str = canonicalize_url(url.strip(), keep_fragments=False)
    except ValueError as exc:
        if isinstance(exc, InvalidURL):
            raise
        raise InvalidURL(f"{url}: {exc}") from exc
    default_port = _DEFAULT_PORTS[scheme]
    head, sep, tail = canonical.partition("//")
    netloc, slash, rest = tail.partition("/")
    if netloc.endswith(default_port):
        netloc = netloc[: -len(default_port)]
    return f"{head}{sep}{netloc}{slash}{rest}"


def host_key(url: str) -> str:
    """Return the politeness key of a canonical URL: ``scheme://host[:port]``.

    >>> host_key("https://example.com:8443/a?b")
    'https://example.com:8443'
    """
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def _netloc(url: str) -> str:
    return url.partition("://")[2].split("/", 1)[0]


class ScopeRule(enum.Enum):
    """How far from its seeds a crawl may go."""

    HOST = "host"
    DOMAIN = "domain"
    ANY = "any"


@dataclass(frozen=True, slots=True)
class Scope:
    """Decides whether a canonical URL belongs to the crawl.

    >>> scope = Scope.from_seeds(ScopeRule.DOMAIN, ["http://www.example.com/"])
    >>> scope.allows("https://docs.example.com/x"), scope.allows("http://example.org/")
    (True, False)
    """

    rule: ScopeRule
    netlocs: frozenset[str]
    domains: tuple[str, ...]

    @classmethod
    def from_seeds(cls, rule: ScopeRule, seeds: Iterable[str]) -> Scope:
        """Build the scope of a crawl from its canonical seed URLs."""
        netlocs = frozenset(_netloc(seed) for seed in seeds)
        domains = []
        for netloc in netlocs:
            host = urlsplit(f"//{netloc}").hostname or netloc
            domains.append(host.removeprefix("www."))
        return cls(rule, netlocs, tuple(sorted(set(domains))))

    def allows(self, url: str) -> bool:
        """Return True when the canonical ``url`` is inside this scope."""
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
    """Turns the hrefs of a page into canonical, in-scope URLs, caching the work.

    Length and trap limits are not applied here: the frontier applies them, so that every
    refusal is counted.

    Not thread-safe for writes in the strict sense, but every operation on the cache is a single
    dict operation, so concurrent use from worker threads can at worst repeat work.

    >>> resolver = LinkResolver(Scope.from_seeds(ScopeRule.HOST, ["http://a.test/"]))
    >>> hrefs = ["y.html#top", "../z", "http://b.test/", "#x"]
    >>> resolver.resolve("http://a.test/docs/x.html", hrefs)
    ['http://a.test/docs/y.html', 'http://a.test/z']
    """

    def __init__(self, scope: Scope) -> None:
        self._scope = scope
        self._cache: dict[tuple[str, str], str | None] = {}

    def resolve(self, base: str, hrefs: Iterable[str]) -> list[str]:
        """Return the distinct canonical in-scope URLs the hrefs point to, in first-seen order.

        ``base`` is the page's base URL (its ``<base href>`` if any, else its own URL).
        Fragment-only hrefs point back at the page itself and are dropped.
        """
        base_dir = base.split("?", 1)[0].split("#", 1)[0]
        base_dir = base_dir[: base_dir.rfind("/") + 1]
        found: dict[str, None] = {}
        cache = self._cache
        for raw in dict.fromkeys(hrefs):
            href = raw.strip()
            # Canonical URLs have no fragment: "x.html#a" and "x.html#b" share one cache entry.
            cut = href.find("#")
            if cut > 0:
                href = href[:cut]
            key = (base, href) if _depends_on_whole_base(href) else (base_dir, href)
            try:
                url = cache[key]
            except KeyError:
                url = self._resolve_one(key[0], href)
                if len(cache) >= _RESOLVER_CACHE_LIMIT:
                    cache.clear()
                cache[key] = url
            if url is not None:
                found[url] = None
        return list(found)

    def _resolve_one(self, base: str, href: str) -> str | None:
        if href.startswith("#"):
            return None
        lowered = href[:11].lower()
        if ":" in lowered and not lowered.startswith(("http:", "https:")):
            return None  # mailto:, javascript:, data:, tel: ...
        try:
            url = canonicalize(urljoin(base, href))
        except InvalidURL:
            return None
        return url if self._scope.allows(url) else None
