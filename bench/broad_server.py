"""Serve the broad-crawl site (:mod:`broad_site`): one asyncio process, one listener per host.

Every host listens on its own loopback address and the same port. Each response waits
``--latency`` seconds (a timer, so one process holds any number of slow responses) and closes
nothing: connections stay open for the next request. Every request's arrival is logged as
``HOST EPOCH-SECONDS IN-FLIGHT`` (IN-FLIGHT counts this request and the host's other unanswered
ones) to ``--log``, flushed every quarter second, so the harness can audit each crawler's
politeness from the server's side. The server also logs ``lag EPOCH-SECONDS SECONDS`` at each
flush: the longest its event loop was late in that quarter second (a timer that should fire
every 10 ms), which is how far off an arrival time can be. ``--seeds`` receives every host's
home page, one a line, once the server listens. Stdlib only, minimal HTTP/1.1: GET and HEAD,
no bodies, no pipelining.

Run as ``python bench/broad_server.py --port PORT --log FILE --seeds FILE [--hosts 1000
--largest 20000 --exponent 1.0 --latency 0.1]``.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from broad_site import ROBOTS_TXT, BroadSite, address
from measure import raise_fd_limit

__all__ = ["main"]

_FLUSH_EVERY = 0.25
_LAG_PROBE = 0.01
_MAX_HEAD = 16_384


class _Audit:
    """Per-host counts of unanswered requests, and the arrival log."""

    def __init__(self, hosts: int, log: TextIO) -> None:
        self.in_flight = [0] * hosts
        self.lines: list[str] = []
        self.log = log
        self.lag = 0.0

    def arrive(self, host: int) -> None:
        self.in_flight[host] += 1
        self.lines.append(f"{host} {time.time():.6f} {self.in_flight[host]}\n")

    def answered(self, host: int) -> None:
        self.in_flight[host] -= 1

    def flush(self) -> None:
        self.lines.append(f"lag {time.time():.6f} {self.lag:.6f}\n")
        self.lag = 0.0
        self.log.write("".join(self.lines))
        self.log.flush()
        self.lines.clear()

    async def probe_lag(self) -> None:
        """Keep ``lag`` at the longest delay of a 10 ms timer since the last flush."""
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + _LAG_PROBE
            await asyncio.sleep(_LAG_PROBE)
            self.lag = max(self.lag, loop.time() - due)


class _Connection(asyncio.Protocol):
    """One client connection to one host: read a request head, answer it after the latency."""

    def __init__(self, site: BroadSite, host: int, latency: float, audit: _Audit) -> None:
        self.site, self.host, self.latency, self.audit = site, host, latency, audit
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
            self.audit.arrive(self.host)
            loop = asyncio.get_running_loop()
            loop.call_later(self.latency, self._answer, head)
        if len(self.buffer) > _MAX_HEAD and self.transport is not None:
            self.transport.close()

    def _answer(self, head: bytes) -> None:
        self.audit.answered(self.host)
        if self.transport is None or self.transport.is_closing():
            return
        request_line, _, headers = head.partition(b"\r\n")
        parts = request_line.split()
        method = parts[0] if parts else b""
        target = parts[1].decode("latin-1") if len(parts) > 1 else ""
        path = target.split("?", 1)[0].split("#", 1)[0]
        status, kind, body = self._resource(path)
        close = b"connection: close" in headers.lower()
        reply = (
            f"HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {len(body)}\r\n"
            + ("Connection: close\r\n" if close else "")
            + "\r\n"
        ).encode()
        self.transport.write(reply if method == b"HEAD" else reply + body)
        if close:
            self.transport.close()

    def _resource(self, path: str) -> tuple[str, str, bytes]:
        if path == "/robots.txt":
            return "200 OK", "text/plain", ROBOTS_TXT
        page = self.site.page_index(path)
        if page is None or page >= self.site.sizes[self.host]:
            return "404 Not Found", "text/plain", b"not found\n"
        return "200 OK", "text/html; charset=utf-8", self.site.page(self.host, page)


async def serve(site: BroadSite, latency: float, log: TextIO, seeds: Path) -> None:
    """Listen on every host until SIGTERM or SIGINT, flushing the arrival log as it goes."""
    audit = _Audit(site.hosts, log)
    loop = asyncio.get_running_loop()
    servers = []
    for host in range(site.hosts):
        servers.append(
            await loop.create_server(
                lambda host=host: _Connection(site, host, latency, audit),  # type: ignore[misc]
                host=address(host),
                port=site.port,
                backlog=256,
                reuse_address=True,
            )
        )
    seeds.write_text("".join(f"{seed}\n" for seed in site.seeds()))
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    probe = asyncio.create_task(audit.probe_lag())
    while not stop.is_set():
        audit.flush()
        try:
            await asyncio.wait_for(stop.wait(), _FLUSH_EVERY)
        except TimeoutError:
            continue
    probe.cancel()
    audit.flush()
    for server in servers:
        server.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True, help="the port every host listens on")
    parser.add_argument("--log", type=Path, required=True, help="arrival log (appended)")
    parser.add_argument("--seeds", type=Path, required=True, help="write the home pages here")
    parser.add_argument("--hosts", type=int, default=BroadSite.hosts)
    parser.add_argument("--largest", type=int, default=BroadSite.largest, help="pages of host 0")
    parser.add_argument("--exponent", type=float, default=BroadSite.exponent, help="Zipf's s")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds before each reply")
    arguments = parser.parse_args(argv)
    site = BroadSite(arguments.hosts, arguments.largest, arguments.exponent, arguments.port)
    # One listener per host, and up to a few connections per host per crawler.
    raise_fd_limit(8 * site.hosts + 1024)
    with arguments.log.open("a", encoding="ascii") as log:
        asyncio.run(serve(site, arguments.latency, log, arguments.seeds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
