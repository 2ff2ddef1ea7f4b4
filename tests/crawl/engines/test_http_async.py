"""What only the asyncio fetcher has: its lifetime on one loop."""

from __future__ import annotations

import asyncio

import pytest

from spindle.crawl.engines.http_async import AsyncFetcher
from spindle.crawl.engines.request import FetchSettings
from tests.crawl.engines.harness import make_fetch


def test_fetching_after_close_raises() -> None:
    async def scenario() -> None:
        fetcher = AsyncFetcher(FetchSettings("ua/1"))
        assert repr(fetcher) == "<AsyncFetcher closed=False>"
        await fetcher.close()
        assert repr(fetcher) == "<AsyncFetcher closed=True>"
        with pytest.raises(RuntimeError, match="the AsyncFetcher is closed"):
            await fetcher.fetch(make_fetch("http://127.0.0.1:9/"))

    asyncio.run(scenario())
