"""Crawl settings: one frozen value, validated once, read by every policy object."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from spindle.crawl.core.choices import DEFAULT_USER_AGENT
from spindle.crawl.core.filters import UrlFilters
from spindle.crawl.core.urls import ScopeRule, canonicalize, normalize

__all__ = ["DEFAULT_USER_AGENT", "CrawlConfig", "TrapLimits"]

_PRODUCT_TOKEN = re.compile(r"[A-Za-z_-]+")


@dataclass(frozen=True, slots=True)
class TrapLimits:
    """Spider-trap guards. Each refusal is counted under the name of the limit that refused it.

    ``max_repeats``: a run of path segments may repeat back to back at most this many times
    (``/a/b/a/b`` is two repeats of ``/a/b``; a third is refused), as Heritrix's
    pathological-path rule does.
    """

    max_url_length: int = 2048
    max_path_depth: int = 32
    max_query_variants: int = 1000
    max_repeats: int = 2
    max_pages_per_host: int | None = None

    def __post_init__(self) -> None:
        for name in ("max_url_length", "max_path_depth", "max_query_variants", "max_repeats"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, not {getattr(self, name)}")
        if self.max_pages_per_host is not None and self.max_pages_per_host < 1:
            raise ValueError(
                f"max_pages_per_host must be at least 1, not {self.max_pages_per_host}"
            )


@dataclass(frozen=True, slots=True)
class CrawlConfig:
    """Everything that shapes a crawl's decisions.

    Seeds are put in request form on construction (credentials dropped; give them to the
    engine), and seeds with one key are kept once. Every number must be finite and in range.
    ``max_crawl_delay`` caps a robots.txt ``Crawl-delay``: Heritrix, StormCrawler and Nutch
    all cap it too, since a value such as 86400 would stall a host for a day per page.
    ``collect_links`` puts every page's outlinks, with anchor texts, in its record.
    ``include``, ``exclude`` and ``no_parent`` are the URL filters
    (:mod:`spindle.crawl.core.filters`); ``report_scope`` makes every out-of-scope link a skip,
    for the skips output. ``keep_exchanges`` hands every answered fetch (retries and
    robots.txt included) to the store in :attr:`Changes.exchanges`, for WARC and page store.
    ``sitemaps`` reads each host's sitemaps (robots.txt ``Sitemap:`` lines and
    ``/sitemap.xml``) for more URLs, admitted at depth 1. ``await_sends`` says the engine
    reports when each request goes on the wire (:meth:`CrawlScheduler.sent`): a host's next
    fetch then waits until its earlier ones are sent, and one interval more.

    Raises:
        ValueError: a setting is out of range (``InvalidURL``, a ValueError, for a bad seed).

    >>> CrawlConfig(seeds=("HTTP://Example.com:80/?b=1&a=2#x", "http://example.com/?a=2&b=1")).seeds
    ('http://example.com/?b=1&a=2',)
    """

    seeds: tuple[str, ...]
    max_depth: int = 2
    max_pages: int | None = None
    scope: ScopeRule = ScopeRule.HOST
    rate: float = 4.0
    host_concurrency: int = 2
    user_agent: str = DEFAULT_USER_AGENT
    obey_robots: bool = True
    timeout: float = 15.0
    retries: int = 3
    max_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 10
    retry_after_cap: float = 120.0
    max_crawl_delay: float = 30.0
    collect_links: bool = False
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    no_parent: bool = False
    report_scope: bool = False
    keep_exchanges: bool = False
    await_sends: bool = False
    sitemaps: bool = False
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    traps: TrapLimits = field(default_factory=TrapLimits)

    def __post_init__(self) -> None:
        if not self.seeds:
            raise ValueError("at least one seed URL is needed")
        by_key: dict[str, str] = {}
        for seed in self.seeds:
            by_key.setdefault(canonicalize(seed), normalize(seed))
        object.__setattr__(self, "seeds", tuple(by_key.values()))
        for name in ("rate", "timeout", "retry_after_cap", "max_crawl_delay"):
            value = getattr(self, name)
            if not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, not {value}")
        for name in ("backoff_base", "backoff_cap"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, not {value}")
        checks: Sequence[tuple[str, bool]] = (
            ("max_depth must be 0 or more", self.max_depth >= 0),
            ("max_pages must be at least 1", self.max_pages is None or self.max_pages >= 1),
            ("rate must be 0 (unlimited) or more", self.rate >= 0),
            ("host_concurrency must be at least 1", self.host_concurrency >= 1),
            ("timeout must be more than 0", self.timeout > 0),
            ("retries must be 0 or more", self.retries >= 0),
            ("max_bytes must be at least 1024", self.max_bytes >= 1024),
            ("max_redirects must be 0 or more", self.max_redirects >= 0),
            ("retry_after_cap must be 0 or more", self.retry_after_cap >= 0),
            ("max_crawl_delay must be 0 or more", self.max_crawl_delay >= 0),
            (
                "user_agent must start with a product token (letters, '_' or '-')",
                _PRODUCT_TOKEN.match(self.user_agent.strip()) is not None,
            ),
        )
        for message, ok in checks:
            if not ok:
                raise ValueError(message)
        self.url_filters()  # a bad pattern fails here, before the crawl

    def url_filters(self) -> UrlFilters:
        """The compiled URL filters of this crawl."""
        return UrlFilters.build(
            include=self.include, exclude=self.exclude, seeds=self.seeds, no_parent=self.no_parent
        )

    @property
    def interval(self) -> float:
        """Seconds between two fetches of one host that ``rate`` asks for (0: no spacing)."""
        return 1.0 / self.rate if self.rate > 0 else 0.0

    @property
    def robots_token(self) -> str:
        """The product token matched against robots.txt user-agent lines (RFC 9309, 2.2.1).

        It is the user agent's leading run of letters, ``_`` and ``-`` (the only characters
        a product token may hold), as Google's parser reads it.

        >>> CrawlConfig(seeds=("http://a.test/",), user_agent="MyBot/2.0 (+x)").robots_token
        'MyBot'
        >>> CrawlConfig(seeds=("http://a.test/",), user_agent="Crawl3r_x/1").robots_token
        'Crawl'
        """
        match = _PRODUCT_TOKEN.match(self.user_agent.strip())
        assert match is not None  # checked on construction
        return match.group()
