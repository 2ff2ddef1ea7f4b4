"""What a fetched body tells the crawl, worked out off the scheduler's thread: the expensive
part of a crawl (decoding, parsing HTML, resolving links, hashing), as a pure function of the
crawl's settings and the body.

:class:`PageParser` is built from a :class:`CrawlConfig` alone, so an engine may run it on a
thread or in another process and get the same :class:`Observation`: a page's parsed links and
digest, a sitemap's listing, or nothing for robots.txt and skipped bodies.
"""

from __future__ import annotations

import hashlib

from spindle.crawl.core.config import CrawlConfig
from spindle.crawl.core.links import LinkExtractor, is_html
from spindle.crawl.core.sitemaps import parse_sitemap
from spindle.crawl.core.urls import LinkResolver, Scope
from spindle.crawl.core.values import Fetch, FetchKind, Listing, Observation, Outcome, Response

__all__ = ["PageParser"]


class PageParser:
    """Turns a fetch and its outcome into an :class:`Observation`. Thread-safe: its only state
    is a cache whose every operation is a single dict operation."""

    def __init__(self, config: CrawlConfig) -> None:
        self.resolver = LinkResolver(Scope.from_seeds(config.scope, config.seeds))
        self._extractor = LinkExtractor(
            self.resolver,
            collect_outlinks=config.collect_links,
            keep_outside=config.report_scope,
        )

    def observe(self, fetch: Fetch, outcome: Outcome) -> Observation:
        """Parse a page's HTML (or a sitemap) and digest its body."""
        if (
            fetch.kind is FetchKind.ROBOTS
            or not isinstance(outcome, Response)
            or outcome.body_skipped  # nothing was downloaded: nothing to digest or parse
        ):
            return Observation(fetch, outcome)
        if fetch.kind is FetchKind.SITEMAP:
            listing = None
            if 200 <= outcome.status < 300:
                listing = self.listing(fetch.url, outcome.body)
            return Observation(fetch, outcome, listing=listing)
        page = None
        if 200 <= outcome.status < 300 and is_html(outcome.content_type, outcome.body):
            page = self._extractor.parse(
                fetch.url, outcome.body, outcome.content_type, outcome.x_robots_tag
            )
        return Observation(fetch, outcome, page, hashlib.sha1(outcome.body).hexdigest())

    def listing(self, sitemap_url: str, body: bytes) -> Listing:
        """What a sitemap body lists, resolved into links."""
        content = parse_sitemap(body)
        resolve = self.resolver.resolve_one
        pages = [resolve(sitemap_url, url) for url in content.pages]
        sitemaps = [resolve(sitemap_url, url) for url in content.sitemaps]
        return Listing(
            tuple(link for link in pages if link is not None),
            tuple(link for link in sitemaps if link is not None),
        )
