"""How long the frontier on disk blocks its thread: one window of a lane, one key, a resume.

Usage: ``python bench/disk_reads.py [--urls 2000000] [--hosts 1]``. Builds a state of
``--urls`` queued URLs (written in batches of 500, as a page with 500 new links would be),
then times, on the frontier's own read connection: reading a window of 64 entries from the
middle of a lane, looking up a key that is in the state and one that is not, and what a
resume does (streaming every key into the filter, one row per lane). Prints microseconds
per call: the median and the 99th percentile of 2,000 calls.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from spindle.crawl.core.values import Changes, Entry
from spindle.crawl.store.base import Stream
from spindle.crawl.store.frontier import WINDOW, DiskStorage
from spindle.crawl.store.sqlite import SQLiteStore

IDENTITY = {"seeds": ["http://h0.test/"], "scope": "any", "max_depth": 9, "obey_robots": False}


def _timed(call: Callable[[int], object], count: int = 2000) -> tuple[float, float]:
    times = []
    for i in range(count):
        started = time.perf_counter()
        call(i)
        times.append((time.perf_counter() - started) * 1e6)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--urls", type=int, default=2_000_000)
    parser.add_argument("--hosts", type=int, default=1)
    arguments = parser.parse_args(argv)
    n, hosts = arguments.urls, arguments.hosts
    with tempfile.TemporaryDirectory(prefix="spindle-disk-reads-") as folder:
        path = Path(folder) / "state.sqlite"
        store = SQLiteStore(path)
        store.open(IDENTITY)
        started = time.perf_counter()
        for first in range(0, n, 500):
            batch = [
                Entry(
                    f"http://h{i % hosts}.test/docs/{i}.html",
                    f"http://h{i % hosts}.test/docs/{i}.html",
                    2,
                    "http://h0.test/docs/0.html",
                )
                for i in range(first, min(n, first + 500))
            ]
            store.save(Changes(discovered=batch), {Stream.RECORDS: [], Stream.SKIPS: []})
        written = time.perf_counter() - started
        store.close()
        size = path.stat().st_size / 1e6

        store = SQLiteStore(path)
        store.open(IDENTITY)
        started = time.perf_counter()
        storage = DiskStorage(store, resumed=True)
        take_up = time.perf_counter() - started
        db = store.reader()
        sql = (
            "SELECT url, key, depth, parent, attempt, chain, kind, seq FROM urls "
            "WHERE host = ? AND depth = ? AND state = 'queued' AND seq > ? ORDER BY seq LIMIT ?"
        )
        step = max(1, n // 2000)
        window = _timed(
            lambda i: db.execute(sql, ("http://h0.test", 2, i * step, WINDOW)).fetchall()
        )
        key = "SELECT 1 FROM urls WHERE key = ?"
        hit = _timed(
            lambda i: db.execute(
                key, (f"http://h{i % hosts}.test/docs/{i * step}.html",)
            ).fetchall()
        )
        miss = _timed(lambda i: db.execute(key, (f"http://h0.test/nope/{i}.html",)).fetchall())
        stats = storage.statistics()
        store.close()
    print(f"state of {n:,} queued URLs, {hosts} host(s): {size:.0f} MB, written in {written:.1f} s")
    print(
        f"resume: {take_up:.2f} s ({stats.keys_scanned:,} keys into a "
        f"{stats.filter_bytes / 1e6:.1f} MB filter, {stats.lanes} lanes, "
        f"{stats.rows_read} entries read)"
    )
    print(f"window of {WINDOW} entries: median {window[0]:.0f} us, p99 {window[1]:.0f} us")
    print(f"key in the state:     median {hit[0]:.1f} us, p99 {hit[1]:.1f} us")
    print(f"key not in the state: median {miss[0]:.1f} us, p99 {miss[1]:.1f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
