"""Serve a directory tree on 127.0.0.1 with a fixed delay before every response.

This stands in for a remote documentation site: the delay is an ``asyncio.sleep``, so one
process holds any number of slow responses at once and the crawler's concurrency, not the
server, sets the pace. Files are read once and kept in memory for the same reason.
Directories answer with their ``index.html``; anything else that is not a file is a 404.

Run as ``python bench/latency_server.py --root DIR --port PORT --latency 0.1``.
"""

from __future__ import annotations

import argparse
import asyncio
import mimetypes
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web

__all__ = ["build_app", "main"]


def _resolve(root: Path, url_path: str) -> Path | None:
    """The file ``url_path`` names under ``root``, or None when there is none (or it escapes)."""
    candidate = (root / url_path.lstrip("/")).resolve()
    if not candidate.is_relative_to(root):
        return None
    if candidate.is_dir():
        candidate /= "index.html"
    return candidate if candidate.is_file() else None


def build_app(root: Path, latency: float) -> web.Application:
    """An application answering GETs from ``root`` after ``latency`` seconds."""
    root = root.resolve()
    cache: dict[str, tuple[bytes, str] | None] = {}

    async def handle(request: web.Request) -> web.Response:
        await asyncio.sleep(latency)
        if request.path not in cache:
            found = _resolve(root, request.path)
            if found is None:
                cache[request.path] = None
            else:
                kind = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
                cache[request.path] = (found.read_bytes(), kind)
        entry = cache[request.path]
        if entry is None:
            return web.Response(status=404, text="not found")
        body, kind = entry
        return web.Response(body=body, content_type=kind)

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    return app


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, required=True, help="directory to serve")
    parser.add_argument("--port", type=int, required=True, help="port on 127.0.0.1")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds before each reply")
    arguments = parser.parse_args(argv)
    web.run_app(
        build_app(arguments.root, arguments.latency),
        host="127.0.0.1",
        port=arguments.port,
        access_log=None,
        print=None,
        backlog=1024,
    )


if __name__ == "__main__":
    main()
