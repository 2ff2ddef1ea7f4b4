"""The crawler's tests run with the lock-order checker switched on, as the project promises."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from spindle.sync import lock_order_checking


@pytest.fixture(autouse=True)
def _lock_order_checked() -> Iterator[None]:
    with lock_order_checking():
        yield


@pytest.fixture(params=["threads", "async"])
def engine(request: pytest.FixtureRequest) -> str:
    """End-to-end crawl tests run once per engine: they share the policy, so results match."""
    return str(request.param)
