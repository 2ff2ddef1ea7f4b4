"""A generated, deterministic website served on 127.0.0.1: the demo's, the lab's and the
benchmarks' target, so every example runs offline against something real.

The server half (aiohttp) is imported on first use, so commands that never serve stay quick.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from spindle.sample_site.pages import SiteSpec, render

if TYPE_CHECKING:
    from spindle.sample_site.server import RunningSite, serve_in_thread

__all__ = ["RunningSite", "SiteSpec", "render", "serve_in_thread"]


def __getattr__(name: str) -> Any:
    if name in ("RunningSite", "serve_in_thread"):
        from spindle.sample_site import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
