"""Micro-benchmarks of spindle.sync: what lock-order checking costs, and queue throughput.

Measures

* nanoseconds per ``acquire()`` + ``release()`` pair, single-threaded, for ``threading.Lock``
  and ``RLock`` and for the ordered locks with checking on, holding no other lock or one
  (best of ``--repeat`` runs, the empty loop's own cost subtracted);
* items per second through a ``BoundedQueue`` and a ``queue.Queue`` of the same capacity, with
  1 producer and 1 consumer and with 4 and 4 (wall time from a common start to the last item;
  the fastest of ``--repeat`` runs).

Run it as ``python bench/bench_sync.py [--json]``; a harness can load this file by path and call
:func:`run`, which returns the same figures as a dict.
"""

from __future__ import annotations

import argparse
import json
import platform
import queue
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from spindle.sync import BoundedQueue, LockLike, lock_order_checking, new_lock, new_rlock

JOIN_TIMEOUT = 120.0


def _best_ns(loop: Callable[[int], None], iterations: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter_ns()
        loop(iterations)
        best = min(best, time.perf_counter_ns() - started)
    return best / iterations


def _empty_loop(iterations: int) -> None:
    for _ in range(iterations):
        pass


def _acquire_release_ns(lock: LockLike, iterations: int, repeat: int, baseline: float) -> float:
    acquire, release = lock.acquire, lock.release

    def loop(count: int) -> None:
        for _ in range(count):
            acquire()
            release()

    return max(0.0, _best_ns(loop, iterations, repeat) - baseline)


def measure_locks(iterations: int, repeat: int) -> list[dict[str, Any]]:
    """ns per acquire+release pair for plain and order-checked locks."""
    baseline = _best_ns(_empty_loop, iterations, repeat)
    rows: list[tuple[str, LockLike, LockLike | None]] = [
        ("threading.Lock", threading.Lock(), None),
        ("threading.RLock", threading.RLock(), None),
    ]
    with lock_order_checking():
        rows += [
            ("OrderedLock, checked, 0 other held", new_lock("bench"), None),
            ("OrderedLock, checked, 1 other held", new_lock("bench"), new_lock("bench-outer")),
            ("OrderedRLock, checked, 0 other held", new_rlock("bench-r"), None),
        ]
    results = []
    for label, lock, outer in rows:
        if outer is not None:
            outer.acquire()
        try:
            nanoseconds = _acquire_release_ns(lock, iterations, repeat, baseline)
        finally:
            if outer is not None:
                outer.release()
        results.append({"lock": label, "ns_per_acquire_release": round(nanoseconds, 1)})
    return results


def _move_items(
    put: Callable[[int], None],
    consume: Callable[[], int],
    finish: Callable[[], None],
    producers: int,
    consumers: int,
    items: int,
) -> float:
    """Seconds for ``producers`` threads to move ``items`` items in all to the consumers."""
    per_producer = items // producers
    counts: list[int] = []
    start = threading.Barrier(producers + consumers + 1)

    def produce() -> None:
        start.wait(JOIN_TIMEOUT)
        for number in range(per_producer):
            put(number)

    def take() -> None:
        start.wait(JOIN_TIMEOUT)
        counts.append(consume())

    producer_threads = [threading.Thread(target=produce) for _ in range(producers)]
    consumer_threads = [threading.Thread(target=take) for _ in range(consumers)]
    for thread in producer_threads + consumer_threads:
        thread.start()
    start.wait(JOIN_TIMEOUT)
    started = time.perf_counter()
    for thread in producer_threads:
        thread.join(JOIN_TIMEOUT)
    finish()
    for thread in consumer_threads:
        thread.join(JOIN_TIMEOUT)
    elapsed = time.perf_counter() - started
    if sum(counts) != per_producer * producers:
        raise RuntimeError(f"lost items: {sum(counts)} of {per_producer * producers} arrived")
    return elapsed


def _bounded_queue_seconds(capacity: int, producers: int, consumers: int, items: int) -> float:
    channel: BoundedQueue[int] = BoundedQueue(capacity)

    def consume() -> int:
        return sum(1 for _ in channel)

    return _move_items(channel.put, consume, channel.close, producers, consumers, items)


def _stdlib_queue_seconds(capacity: int, producers: int, consumers: int, items: int) -> float:
    channel: queue.Queue[int | None] = queue.Queue(maxsize=capacity)

    def consume() -> int:
        count = 0
        while channel.get() is not None:
            count += 1
        return count

    def finish() -> None:  # queue.Queue cannot be closed: one sentinel per consumer
        for _ in range(consumers):
            channel.put(None)

    return _move_items(channel.put, consume, finish, producers, consumers, items)


def measure_queues(items: int, capacity: int, repeat: int) -> list[dict[str, Any]]:
    """Items per second through each queue, 1x1 and 4x4 (the fastest of ``repeat`` runs)."""
    results = []
    for producers, consumers in ((1, 1), (4, 4)):
        moved = items // producers * producers
        for label, seconds_for in (
            ("BoundedQueue", _bounded_queue_seconds),
            ("queue.Queue", _stdlib_queue_seconds),
        ):
            seconds = min(seconds_for(capacity, producers, consumers, items) for _ in range(repeat))
            results.append(
                {
                    "queue": label,
                    "producers": producers,
                    "consumers": consumers,
                    "capacity": capacity,
                    "items": moved,
                    "seconds": round(seconds, 4),
                    "items_per_second": round(moved / seconds),
                }
            )
    return results


def run(
    iterations: int = 200_000, items: int = 100_000, repeat: int = 3, capacity: int = 64
) -> dict[str, Any]:
    """Run both measurements and return them with the interpreter they ran on."""
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "iterations": iterations,
        "repeat": repeat,
        "locks": measure_locks(iterations, repeat),
        "queues": measure_queues(items, capacity, repeat),
    }


def format_table(results: dict[str, Any]) -> str:
    """The results as two plain-text tables."""
    lines = [
        f"Python {results['python']} ({results['implementation']}), best of {results['repeat']}",
        "",
        f"{'lock':<38}{'ns per acquire+release':>24}",
    ]
    for row in results["locks"]:
        lines.append(f"{row['lock']:<38}{row['ns_per_acquire_release']:>24.1f}")
    lines += ["", f"{'queue':<16}{'threads':>10}{'capacity':>10}{'items':>10}{'items/s':>14}"]
    for row in results["queues"]:
        threads = f"{row['producers']}x{row['consumers']}"
        lines.append(
            f"{row['queue']:<16}{threads:>10}{row['capacity']:>10}"
            f"{row['items']:>10,}{row['items_per_second']:>14,}"
        )
    return "\n".join(lines)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=_positive, default=200_000, help="lock pairs per run")
    parser.add_argument("--items", type=_positive, default=100_000, help="items per queue run")
    parser.add_argument("--repeat", type=_positive, default=3, help="runs of each; the best counts")
    parser.add_argument("--capacity", type=_positive, default=64, help="queue capacity")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    arguments = parser.parse_args(argv)
    results = run(arguments.iterations, arguments.items, arguments.repeat, arguments.capacity)
    print(json.dumps(results, indent=2) if arguments.json else format_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
