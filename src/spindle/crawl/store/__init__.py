"""Crawl state storage behind one small interface (:class:`CrawlStore`)."""

from spindle.crawl.store.base import CrawlStore, Resumed, StateMismatch
from spindle.crawl.store.memory import NullStore
from spindle.crawl.store.sqlite import SQLiteStore

__all__ = ["CrawlStore", "NullStore", "Resumed", "SQLiteStore", "StateMismatch"]
