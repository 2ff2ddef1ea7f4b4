"""Serves a :class:`SiteSpec` over HTTP/1.1 with aiohttp, with optional per-response latency.

Latency is an ``asyncio.sleep`` in the handler, so one server thread holds thousands of slow
responses at once and the server is never what limits a crawler's concurrency.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from aiohttp import web

from spindle.sample_site.pages import SiteSpec, render

__all__ = ["RunningSite", "build_app", "serve_in_thread"]


@dataclass
class RunningSite:
    """A site being served: where it is and how many requests it has answered."""

    base_url: str
    spec: SiteSpec
    latency: float
    _counter: list[int] = field(default_factory=lambda: [0], repr=False)

    @property
    def requests(self) -> int:
        """Requests answered so far."""
        return self._counter[0]


def build_app(spec: SiteSpec, latency: float, counter: list[int]) -> web.Application:
    """An aiohttp application answering every GET from :func:`render`.

    ``counter[0]`` counts requests (one event loop thread writes it, so no lock is needed).
    """

    async def handle(request: web.Request) -> web.Response:
        counter[0] += 1
        if latency > 0:
            await asyncio.sleep(latency)
        reply = render(spec, request.path)
        headers = {"Content-Type": reply.content_type}
        if reply.location is not None:
            headers["Location"] = reply.location
        return web.Response(status=reply.status, body=reply.body, headers=headers)

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    return app


async def _start(
    spec: SiteSpec, host: str, port: int, latency: float, counter: list[int]
) -> tuple[web.AppRunner, str]:
    """Start serving on the running loop; returns the runner and the base URL."""
    runner = web.AppRunner(build_app(spec, latency, counter), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=1024)
    await site.start()
    bound_host, bound_port = runner.addresses[0][:2]
    return runner, f"http://{bound_host}:{bound_port}"


@contextlib.contextmanager
def serve_in_thread(
    spec: SiteSpec, *, latency: float = 0.0, host: str = "127.0.0.1", port: int = 0
) -> Iterator[RunningSite]:
    """Serve ``spec`` from a background thread for the duration of the ``with`` block.

    Port 0 picks a free port; the yielded :class:`RunningSite` says which.

    >>> import urllib.request
    >>> with serve_in_thread(SiteSpec(pages=2)) as site:
    ...     urllib.request.urlopen(site.base_url + "/docs/1.html").status
    200
    """
    loop = asyncio.new_event_loop()
    counter = [0]
    ready = threading.Event()
    started: list[tuple[web.AppRunner, str]] = []
    failed: list[BaseException] = []

    def serve() -> None:
        asyncio.set_event_loop(loop)
        try:
            started.append(loop.run_until_complete(_start(spec, host, port, latency, counter)))
        except BaseException as exc:  # reported to the caller below
            failed.append(exc)
            ready.set()
            return
        ready.set()
        loop.run_forever()
        loop.run_until_complete(started[0][0].cleanup())
        loop.close()

    thread = threading.Thread(target=serve, name="spindle-sample-site", daemon=True)
    thread.start()
    ready.wait()
    if failed:
        thread.join()
        raise failed[0]
    try:
        yield RunningSite(started[0][1], spec, latency, counter)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
