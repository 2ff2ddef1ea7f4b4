"""Engines: thin drivers that move bytes for the sans-I/O core.

The two fetchers (``http_threads.ThreadFetcher``, ``http_async.AsyncFetcher``) take one
:class:`FetchSettings`; importing this package loads neither HTTP library.
"""

from spindle.crawl.engines.request import Credentials, FetchSettings

__all__ = ["Credentials", "FetchSettings"]
