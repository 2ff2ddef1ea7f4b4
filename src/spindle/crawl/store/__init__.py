"""Crawl state and outputs: the store interface, its SQLite and null stores, the JSON Lines
sink and the single writer thread that commits state before output."""

from spindle.crawl.store.base import CrawlStore, StateError, StateInUse, StateMismatch
from spindle.crawl.store.memory import NullStore
from spindle.crawl.store.sqlite import SQLiteStore

__all__ = ["CrawlStore", "NullStore", "SQLiteStore", "StateError", "StateInUse", "StateMismatch"]
