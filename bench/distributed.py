"""Many workers, one Redis frontier: pages/s with 1, 2 and 4 worker processes, Redis commands
per page, and Redis memory per queued URL, per completed URL and per host.

Everything runs on this machine: a redis-server of its own (a free port, a temporary
directory, append-only file with ``appendfsync always``, as the README advises), and one
aiohttp process serving a generated site on many loopback hosts (127.0.0.2, 127.0.0.3, ...),
every answer after a fixed latency. Each row is one crawl of the whole site from scratch (a
fresh crawl id); the baseline row is one process with the in-memory frontier.

    .venv/bin/python bench/distributed.py                 # the table in bench/README.md
    .venv/bin/python bench/distributed.py --hosts 8 --pages 50 --runs 1   # a quick look
    .venv/bin/python bench/distributed.py memory          # memory per URL and per host
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.redis_server import RedisServer, free_port  # noqa: E402

PYTHON = sys.executable


# -- the site --------------------------------------------------------------------------------


def serve(hosts: int, pages: int, port: int, latency: float) -> None:
    """Serve ``pages`` pages on each of ``hosts`` loopback hosts, each after ``latency``."""
    from aiohttp import web

    names = [f"127.0.0.{i + 2}" for i in range(hosts)]

    def body(host: int, n: int) -> bytes:
        links = [f"/p{(n * 7 + k) % pages}.html" for k in range(1, 9)]
        links += [f"http://{names[(host + k) % hosts]}:{port}/p{n}.html" for k in (1, 2)]
        anchors = "".join(f'<a href="{link}">{link}</a>\n' for link in links)
        text = "<p>" + "lorem ipsum " * 400 + "</p>"
        return f"<html><head><title>{n}</title></head><body>{anchors}{text}</body></html>".encode()

    async def handle(request: web.Request) -> web.Response:
        await asyncio.sleep(latency)
        name = request.host.partition(":")[0]
        path = request.path
        if path == "/robots.txt" or name not in names:
            return web.Response(status=404)
        n = 0 if path == "/" else int(path.removeprefix("/p").removesuffix(".html") or 0)
        if not 0 <= n < pages:
            return web.Response(status=404)
        return web.Response(body=body(names.index(name), n), content_type="text/html")

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/{tail:.*}", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        for name in names:
            await web.TCPSite(runner, name, port).start()
        await asyncio.Event().wait()

    asyncio.run(main())


@contextlib.contextmanager
def site(hosts: int, pages: int, latency: float) -> Iterator[list[str]]:
    port = free_port()
    command = [PYTHON, __file__, "serve", str(hosts), str(pages), str(port), str(latency)]
    server = subprocess.Popen(command)
    seeds = [f"http://127.0.0.{i + 2}:{port}/" for i in range(hosts)]
    try:
        _wait_for(seeds[-1])
        yield seeds
    finally:
        server.terminate()
        server.wait(timeout=10)


def _wait_for(url: str) -> None:
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


# -- one crawl -------------------------------------------------------------------------------


def crawl(
    seeds: list[str],
    workdir: Path,
    processes: int,
    *,
    redis_url: str | None,
    crawl_id: str,
    workers: int,
    concurrency: int,
) -> tuple[float, int]:
    """Run ``processes`` workers to the end; return (wall seconds, records written)."""
    common = [
        "--depth", "50", "--rate", "0", "--host-concurrency", str(concurrency),
        "--workers", str(workers), "--quiet", "--engine", "async",
    ]  # fmt: skip
    procs = []
    outs = []
    start = time.perf_counter()
    for i in range(processes):
        out = workdir / f"{crawl_id}-{i}.jsonl"
        shared = []
        if redis_url is not None:
            shared = ["--frontier", redis_url, "--crawl-id", crawl_id]
        command = [
            PYTHON, "-m", "spindle", "crawl", *seeds, *common, *shared,
            "--out", str(out), "--state", str(workdir / f"{crawl_id}-{i}.db"),
        ]  # fmt: skip
        procs.append(subprocess.Popen(command, stderr=subprocess.DEVNULL))
        outs.append(out)
    for proc in procs:
        proc.wait(timeout=600)
    wall = time.perf_counter() - start
    records = sum(out.read_bytes().count(b"\n") for out in outs if out.exists())
    return wall, records


def commandstats(client: object) -> dict[str, int]:
    stats = client.info("commandstats")  # type: ignore[attr-defined]
    return {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}


def throughput(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="spindle-distributed-"))
    rows = []
    served = site(args.hosts, args.pages, args.latency)
    with RedisServer(workdir / "redis", appendfsync=args.fsync) as redis, served as seeds:
        client = redis.client()
        plan: list[tuple[str, int, bool]] = [("in memory", 1, False)] if args.baseline else []
        plan += [(f"redis, {n}", n, True) for n in args.processes]
        for label, processes, shared in plan:
            rates, per_page, rtt = [], [], []
            for run in range(args.runs):
                crawl_id = f"{processes}-{int(shared)}-{run}"
                before = commandstats(client)
                wall, records = crawl(
                    seeds,
                    workdir,
                    processes,
                    redis_url=redis.url if shared else None,
                    crawl_id=crawl_id,
                    workers=args.workers,
                    concurrency=args.concurrency,
                )
                after = commandstats(client)
                delta = {k: after.get(k, 0) - before.get(k, 0) for k in after}
                evals = delta.get("evalsha", 0) + delta.get("eval", 0)
                others = sum(v for k, v in delta.items() if k not in ("evalsha", "eval"))
                rates.append(records / wall)
                if shared:
                    rtt.append(evals / records)
                    per_page.append(others / records)
                print(f"{label}: {records} pages in {wall:.2f} s", file=sys.stderr)
            rows.append(
                (
                    label,
                    statistics.median(rates),
                    statistics.median(rtt) if rtt else None,
                    statistics.median(per_page) if per_page else None,
                )
            )
    total = args.hosts * (args.pages + 1)  # each host's root and its pages
    print(
        f"\n{total:,} pages on {args.hosts} hosts, {args.latency * 1000:.0f} ms per answer, "
        f"--workers {args.workers} per process, --host-concurrency {args.concurrency}, "
        f"--rate 0, asyncio engine, appendfsync {args.fsync}; median of {args.runs}; "
        f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f} at the end\n"
    )
    print(
        "| frontier, processes | pages/s | script calls per page | commands in scripts per page |"
    )
    print("|---|---|---|---|")
    for label, rate, rtt_, cmds in rows:
        extra = "" if rtt_ is None else f"{rtt_:.2f}"
        inner = "" if cmds is None else f"{cmds:.1f}"
        print(f"| {label} | {rate:.0f} | {extra} | {inner} |")
    shutil.rmtree(workdir, ignore_errors=True)


# -- memory ----------------------------------------------------------------------------------


def memory(args: argparse.Namespace) -> None:
    from spindle.crawl.core import Entry, TrapLimits
    from spindle.crawl.core.frontier import Lease, Offer
    from spindle.crawl.shared.frontier import RedisFrontier
    from spindle.crawl.shared.join import open_crawl
    from spindle.crawl.shared.keys import CrawlKeys
    from spindle.crawl.shared.link import RedisLink

    workdir = Path(tempfile.mkdtemp(prefix="spindle-memory-"))
    with RedisServer(workdir / "redis") as redis:
        client = redis.client()
        link = RedisLink(redis.url)

        def used() -> int:
            client.execute_command("MEMORY", "PURGE")
            return int(client.info("memory")["used_memory"])

        def frontier(name: str) -> RedisFrontier:
            keys = CrawlKeys(name)
            open_crawl(link, keys, {"bench": name}, interval=0.0, concurrency=1 << 20)
            return RedisFrontier(link, keys, "w", traps=TrapLimits(), lease=60.0, caller_clock=True)

        def urls(host: str, count: int) -> list[Entry]:
            out = []
            for i in range(count):
                url = f"http://{host}/docs/section-{i // 100}/page-{i}.html"
                out.append(Entry(url, url, 3, f"http://{host}/docs/section-{i // 100}/"))
            return out

        n = args.urls
        base = used()
        queued = frontier("queued")
        entries = urls("www.example.com", n)
        for start in range(0, n, 1000):
            queued.offer([Offer(e) for e in entries[start : start + 1000]], 0.0)
        per_queued = (used() - base) / n
        sample = len(entries[n // 2].url)

        base = used()
        done = frontier("done")
        for start in range(0, n, 1000):
            done.offer([Offer(e) for e in entries[start : start + 1000]], 0.0)
        for _ in range(n):
            lease = done.take(0.0)
            assert isinstance(lease, Lease)
            done.finish(lease.host, 0.0)
            done.complete(lease.entry.key)
        done.confirm([e.key for e in entries])
        done.leave()
        per_done = (used() - base) / n

        base = used()
        hosts = frontier("hosts")
        count = args.hosts_for_memory
        for start in range(0, count, 1000):
            names = [f"host-{i}.example.com" for i in range(start, start + 1000)]
            offers = [Offer(urls(name, 1)[0]) for name in names]
            hosts.offer(offers, 0.0)
        per_host = (used() - base) / count - per_queued
        version = client.info()["redis_version"]
    print(
        f"queued URL: {per_queued:.0f} bytes (URL of {sample} characters, depth 3, with its "
        f"parent); completed URL: {per_done:.0f} bytes; host: {per_host:.0f} bytes beyond its "
        f"first URL ({n:,} URLs, {count:,} hosts; Redis {version})"
    )
    shutil.rmtree(workdir, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> None:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "serve":
        serve(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", nargs="?", choices=["throughput", "memory"], default="throughput")
    parser.add_argument("--hosts", type=int, default=32)
    parser.add_argument("--pages", type=int, default=60, help="pages per host")
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--workers", type=int, default=16, help="--workers of each process")
    parser.add_argument("--concurrency", type=int, default=4, help="--host-concurrency")
    parser.add_argument("--processes", type=lambda s: [int(x) for x in s.split(",")],
                        default=[1, 2, 4])  # fmt: skip
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--fsync", choices=["always", "everysec"], default="always",
                        help="Redis's appendfsync")  # fmt: skip
    parser.add_argument("--no-baseline", dest="baseline", action="store_false",
                        help="skip the in-memory row")  # fmt: skip
    parser.add_argument("--urls", type=int, default=20_000, help="URLs for the memory figures")
    parser.add_argument("--hosts-for-memory", type=int, default=10_000)
    args = parser.parse_args(argv)
    if args.what == "memory":
        memory(args)
    else:
        throughput(args)


if __name__ == "__main__":
    main()
