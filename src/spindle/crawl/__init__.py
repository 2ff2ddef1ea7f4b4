"""The crawler: a sans-I/O core (``core``), thin engines (``engines``), storage (``store``)."""

from spindle.crawl.core.config import CrawlConfig, TrapLimits
from spindle.crawl.progress import CrawlSummary
from spindle.crawl.runner import RunOptions, run_crawl

__all__ = ["CrawlConfig", "CrawlSummary", "RunOptions", "TrapLimits", "run_crawl"]
