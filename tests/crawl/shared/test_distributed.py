"""Many workers, one Redis frontier: real worker processes against a site on four loopback
hosts (127.0.0.2 to 127.0.0.5), each host a fault server logging when every request arrived
and when its answer was written.

What the servers' own logs must show, whatever happens to the workers or to Redis: no host
saw more than ``rate * w + 1`` requests in any window of ``w`` seconds (give or take a
scheduling tolerance), nor more than ``--host-concurrency`` requests at once; and the shards
of all workers together hold every page of the site exactly once.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from tests.support.faultserver import FaultServer, delayed, page
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.slow

RATE = 5.0
HOST_CONCURRENCY = 2
LATENCY = 0.25
LEASE = 2.0
# Starts are spaced on Redis's clock when a worker takes a slot; the request leaves a little
# later (the asyncio engine takes a whole turn's slots, a round trip each, before its tasks
# run; a process waits for a core). With 9 runnable processes on 2 cores, requests left up to
# 0.18 s after their start, so this much is allowed. Long windows stay tight (25 requests
# need 4.6 s, not 4.8), and workers that each kept their own pace still fail: three of them
# put 4 requests in 0.2 s, where 1 + 5 * (0.2 + 0.2) = 3 are allowed.
JITTER = 0.2
PAGES = 8  # per host, beside its root and robots.txt


@contextlib.contextmanager
def site(hosts: int = 4, pages: int = PAGES) -> Iterator[list[FaultServer]]:
    """``hosts`` servers; each root links to its pages and to the next host's root; each page
    links to two leaves of its own and to the same page on the next host."""
    servers = [FaultServer(host=f"127.0.0.{i + 2}") for i in range(hosts)]
    with contextlib.ExitStack() as stack:
        for server in servers:
            stack.enter_context(server)
        for i, server in enumerate(servers):
            other = servers[(i + 1) % hosts]
            paths = [f"/p{n}" for n in range(pages)]
            server.route("/", delayed(LATENCY, page(*paths, other.url("/"))))
            for path in paths:
                leaves = [f"{path}/a", f"{path}/b"]
                server.route(path, delayed(LATENCY, page(*leaves, other.url(path))))
                for leaf in leaves:
                    server.route(leaf, delayed(LATENCY, page()))
        yield servers


def expected_urls(servers: list[FaultServer], pages: int = PAGES) -> set[str]:
    urls = set()
    for server in servers:
        urls.add(server.url("/"))
        for n in range(pages):
            urls |= {server.url(f"/p{n}"), server.url(f"/p{n}/a"), server.url(f"/p{n}/b")}
    return urls


class Worker:
    """One ``spindle crawl --frontier`` process, its shard, state and stderr in ``directory``."""

    def __init__(
        self,
        directory: Path,
        name: str,
        redis: RedisServer,
        servers: list[FaultServer],
        *,
        engine: str = "threads",
        crawl_id: str = "test",
    ) -> None:
        self.out = directory / f"{name}.jsonl"
        self.state = directory / f"{name}.db"
        self.errors = directory / f"{name}.err"
        self.command = [
            sys.executable, "-m", "spindle", "crawl",
            *(server.url("/") for server in servers),
            "--depth", "3",
            "--rate", str(RATE),
            "--host-concurrency", str(HOST_CONCURRENCY),
            "--workers", "4",
            "--engine", engine,
            "--timeout", "10",
            "--frontier", redis.url,
            "--crawl-id", crawl_id,
            "--lease-timeout", str(LEASE),
            "--out", str(self.out),
            "--state", str(self.state),
            "--quiet",
        ]  # fmt: skip
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        with self.errors.open("ab") as errors:
            self.process = subprocess.Popen(
                self.command,
                stdout=subprocess.DEVNULL,
                stderr=errors,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        return self

    def wait(self, timeout: float = 90.0) -> int:
        assert self.process is not None
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            self.process.kill()
            self.process.wait(timeout=10)
            message = f"worker still running after {timeout} s: {self.stderr()}"
            raise AssertionError(message) from exc

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stderr(self) -> str:
        return self.errors.read_text(errors="replace") if self.errors.exists() else ""

    def records(self) -> list[dict[str, object]]:
        if not self.out.exists():
            return []
        return [orjson.loads(line) for line in self.out.read_bytes().splitlines()]

    def lines(self) -> int:
        return self.out.read_bytes().count(b"\n") if self.out.exists() else 0


def wait_until(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def assert_every_page_once(workers: list[Worker], servers: list[FaultServer]) -> None:
    urls = [str(record["url"]) for worker in workers for record in worker.records()]
    duplicates = {url for url in urls if urls.count(url) > 1}
    assert not duplicates, f"written twice: {sorted(duplicates)[:5]}"
    assert set(urls) == expected_urls(servers)


def assert_polite(servers: list[FaultServer]) -> None:
    for server in servers:
        spans = sorted(server.spans, key=lambda span: span.arrived)
        arrivals = [span.arrived for span in spans]
        for i, j in itertools.combinations(range(len(arrivals)), 2):
            window = arrivals[j] - arrivals[i]
            assert j - i + 1 <= RATE * (window + JITTER) + 1, (
                f"{server.host}: {j - i + 1} requests within {window:.3f} s: "
                f"{[(round(s.arrived - arrivals[0], 3), s.path) for s in spans[i : j + 1]]}"
            )
        events = sorted(
            [(span.arrived, 1) for span in server.spans]
            + [(span.finished, -1) for span in server.spans]
        )  # at one instant an end sorts before a start
        busy = peak = 0
        for _, change in events:
            busy += change
            peak = max(peak, busy)
        assert peak <= HOST_CONCURRENCY, f"{server.host}: {peak} requests at once"


def test_three_workers_two_engines_share_politeness_and_write_each_page_once(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    with site() as servers:
        workers = [
            Worker(tmp_path, name, redis_server, servers, engine=engine)
            for name, engine in (("w1", "threads"), ("w2", "async"), ("w3", "threads"))
        ]
        for worker in workers:
            worker.start()
        codes = [worker.wait() for worker in workers]
    assert codes == [0, 0, 0], [w.stderr() for w in workers]
    assert_every_page_once(workers, servers)
    assert_polite(servers)
    assert all(worker.records() for worker in workers), [len(w.records()) for w in workers]
    for server in servers:  # shared decisions: at most the racing slots fetch robots.txt
        assert 1 <= server.count("/robots.txt") <= HOST_CONCURRENCY


def test_kill_9_of_a_worker_loses_nothing_and_its_rerun_reconciles(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    with site() as servers:
        workers = [Worker(tmp_path, f"w{i}", redis_server, servers) for i in range(3)]
        for worker in workers:
            worker.start()
        victim = workers[0]
        wait_until(lambda: victim.lines() >= 3, 60, "the first worker's records")
        victim.kill()
        for worker in workers[1:]:  # they take back its leases once the lease runs out
            assert worker.wait() == 0, worker.stderr()
        victim.errors.unlink()
        assert victim.start().wait() == 0, victim.stderr()
    assert_every_page_once(workers, servers)
    assert_polite(servers)
    status = run_spindle(
        "frontier", "status", "--frontier", redis_server.url, "--crawl-id", "test", "--json"
    )
    assert status.returncode == 0, status.stderr
    report = orjson.loads(status.stdout)
    assert report["finished"]
    assert report["unconfirmed"] == {}
    assert report["done"] == len(expected_urls(servers))
    merged = tmp_path / "all.jsonl"
    export = run_spindle(
        "frontier", "export", "--frontier", redis_server.url, "--crawl-id", "test",
        "--out", str(merged), *(str(w.out) for w in workers),
    )  # fmt: skip
    assert export.returncode == 0, export.stderr
    urls = [orjson.loads(line)["url"] for line in merged.read_bytes().splitlines()]
    assert sorted(urls) == sorted(expected_urls(servers))


def test_redis_killed_and_restarted_mid_crawl_loses_nothing(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    with site() as servers:
        workers = [Worker(tmp_path, f"w{i}", redis_server, servers) for i in range(2)]
        for worker in workers:
            worker.start()
        wait_until(lambda: sum(w.lines() for w in workers) >= 10, 60, "some records")
        redis_server.kill()  # SIGKILL: only the append-only file survives
        time.sleep(2.0)  # longer than half a lease: the workers wait, and say so
        redis_server.start()
        codes = [worker.wait() for worker in workers]
    assert codes == [0, 0], [w.stderr() for w in workers]
    assert_every_page_once(workers, servers)
    assert_polite(servers)
    for worker in workers:
        lines = worker.stderr().splitlines()
        assert any("cannot be reached" in line and "retrying" in line for line in lines), lines
        assert any("is back after" in line for line in lines), lines


def run_spindle(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "spindle", *args], capture_output=True, timeout=60, check=False
    )
