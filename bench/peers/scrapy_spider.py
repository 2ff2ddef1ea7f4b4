"""The Scrapy peer: a plain CrawlSpider that fetches every HTML page of one host once.

Run with ``scrapy runspider bench/peers/scrapy_spider.py -a start_url=URL -a stats=FILE
-s CONCURRENT_REQUESTS=W -s CONCURRENT_REQUESTS_PER_DOMAIN=W -O pages.jsonl``. Politeness is
lifted as it is for the other crawlers (no delay, no robots.txt, no throttling); everything else
is Scrapy's defaults, including the extensions its link extractor never follows. With ``-a
seeds_file=FILE`` instead of ``start_url`` it starts from every URL in FILE and follows links to
any host (the broad site), and the command line sets its politeness. It emits one
``{"url": ..., "t": completion time}`` item per HTML page and writes Scrapy's own stats
(request counts) to ``stats``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy.http import HtmlResponse, Response
from scrapy.linkextractors import LinkExtractor
from scrapy.spiders import CrawlSpider, Rule


class SiteSpider(CrawlSpider):
    """Follows same-host ``<a>``/``<area>`` links and yields the URL of every HTML page."""

    name = "bench-site"
    custom_settings: dict[str, Any] | None = {  # noqa: RUF012  (Scrapy reads it per class)
        "ROBOTSTXT_OBEY": False,
        "AUTOTHROTTLE_ENABLED": False,
        "DOWNLOAD_DELAY": 0,
        "DEPTH_LIMIT": 0,
        "LOG_LEVEL": "WARNING",
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        "COOKIES_ENABLED": False,
    }

    def __init__(
        self, start_url: str = "", seeds_file: str = "", stats: str = "", **kwargs: Any
    ) -> None:
        if seeds_file:
            lines = Path(seeds_file).read_text().splitlines()
            self.start_urls = [line.strip() for line in lines if line.strip()]
            links = LinkExtractor()
        else:
            parts = urlsplit(start_url)
            self.start_urls = [start_url]
            # The offsite filter compares host names; the link extractor compares host:port.
            self.allowed_domains = [parts.hostname or ""]
            links = LinkExtractor(allow_domains=[parts.netloc])
        self.rules = (Rule(links, callback="parse_page", follow=True),)
        self._stats_path = stats
        super().__init__(**kwargs)

    def parse_start_url(self, response: Response, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """The seed counts as a page like any other."""
        return self.parse_page(response)

    def parse_page(self, response: Response) -> Iterator[dict[str, Any]]:
        """One item per HTML page; other responses are fetched but not counted."""
        if isinstance(response, HtmlResponse) and response.status == 200:
            yield {"url": response.url, "t": time.time()}

    def closed(self, reason: str) -> None:
        """Leave Scrapy's counters where the harness can read them."""
        if self._stats_path and self.crawler.stats is not None:
            stats = self.crawler.stats.get_stats()
            Path(self._stats_path).write_text(json.dumps(stats, default=str))
