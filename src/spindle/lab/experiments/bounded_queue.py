"""``bounded-queue``: producers and consumers over a small :class:`spindle.sync.BoundedQueue`.

Producers put numbered items, consumers take them until the queue is closed and drained. The
queue's ``statistics()`` count how often a put had to wait because the queue was full and a
get because it was empty. The same workload over ``queue.Queue`` (ended with one sentinel per
consumer, since it cannot be closed) gives a throughput to compare with.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import click
from rich.console import Console
from rich.table import Table

from spindle.lab.registry import Experiment, Option
from spindle.sync import BoundedQueue, QueueStatistics

__all__ = ["EXPERIMENT", "BoundedQueueResult", "Delivery", "run"]

# Generous: a healthy run takes milliseconds; this only ends a broken one.
_JOIN_TIMEOUT = 60.0

Item = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Delivery:
    """One run of the workload over one queue implementation."""

    queue: str
    produced: int
    delivered: int
    distinct: int
    seconds: float
    hung_threads: int

    @property
    def exactly_once(self) -> bool:
        """Every produced item arrived, and none twice."""
        return self.delivered == self.distinct == self.produced and self.hung_threads == 0

    @property
    def items_per_second(self) -> float:
        """Delivered items per second of wall time."""
        return self.delivered / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True, slots=True)
class BoundedQueueResult:
    """Both runs, and the statistics of the BoundedQueue after its run."""

    producers: int
    consumers: int
    items_per_producer: int
    capacity: int
    spindle: Delivery
    statistics: QueueStatistics
    stdlib: Delivery

    @property
    def ok(self) -> bool:
        """Both queues delivered every item exactly once, and the counts agree with them."""
        return (
            self.spindle.exactly_once
            and self.stdlib.exactly_once
            and self.statistics.total_put == self.statistics.total_got == self.spindle.produced
        )

    @property
    def headline(self) -> str:
        return (
            f"{self.spindle.delivered:,} delivered; waits: {self.statistics.producer_waits:,} "
            f"full, {self.statistics.consumer_waits:,} empty; "
            f"{self.spindle.items_per_second / 1000:.0f}k/s vs queue.Queue "
            f"{self.stdlib.items_per_second / 1000:.0f}k/s"
        )


def _drive(
    name: str,
    producers: int,
    consumers: int,
    items: int,
    put: Callable[[Item], None],
    consume: Callable[[Callable[[Item], None]], None],
    finish: Callable[[], None],
) -> Delivery:
    """Run producers and consumers; ``finish`` runs once every producer is done."""
    received: list[list[Item]] = [[] for _ in range(consumers)]

    def produce(producer: int) -> None:
        for number in range(items):
            put((producer, number))

    producer_threads = [
        threading.Thread(target=produce, args=(index,), daemon=True) for index in range(producers)
    ]
    consumer_threads = [
        threading.Thread(target=consume, args=(received[index].append,), daemon=True)
        for index in range(consumers)
    ]
    started = time.perf_counter()
    for thread in consumer_threads + producer_threads:
        thread.start()
    for thread in producer_threads:
        thread.join(_JOIN_TIMEOUT)
    finish()
    for thread in consumer_threads:
        thread.join(_JOIN_TIMEOUT)
    elapsed = time.perf_counter() - started
    everything = [item for batch in received for item in batch]
    return Delivery(
        queue=name,
        produced=producers * items,
        delivered=len(everything),
        distinct=len(set(everything)),
        seconds=elapsed,
        hung_threads=sum(t.is_alive() for t in producer_threads + consumer_threads),
    )


def _over_bounded_queue(
    producers: int, consumers: int, items: int, capacity: int
) -> tuple[Delivery, QueueStatistics]:
    channel: BoundedQueue[Item] = BoundedQueue(capacity)

    def consume(keep: Callable[[Item], None]) -> None:
        for item in channel:
            keep(item)

    delivery = _drive(
        f"spindle BoundedQueue({capacity})",
        producers,
        consumers,
        items,
        channel.put,
        consume,
        channel.close,
    )
    return delivery, channel.statistics()


def _over_queue_queue(producers: int, consumers: int, items: int, capacity: int) -> Delivery:
    channel: queue.Queue[Item | None] = queue.Queue(maxsize=capacity)

    def consume(keep: Callable[[Item], None]) -> None:
        while (item := channel.get()) is not None:
            keep(item)

    def finish() -> None:
        for _ in range(consumers):
            channel.put(None)

    return _drive(
        f"queue.Queue(maxsize={capacity})",
        producers,
        consumers,
        items,
        channel.put,
        consume,
        finish,
    )


def run(producers: int, consumers: int, items: int, capacity: int) -> BoundedQueueResult:
    """Move ``items`` items from each producer to the consumers, over each queue."""
    spindle, statistics = _over_bounded_queue(producers, consumers, items, capacity)
    stdlib = _over_queue_queue(producers, consumers, items, capacity)
    return BoundedQueueResult(producers, consumers, items, capacity, spindle, statistics, stdlib)


def report(result: BoundedQueueResult, console: Console) -> None:
    """Print how often each side waited, and both throughputs."""
    console.print(
        f"{result.producers} producers × {result.items_per_producer:,} items, "
        f"{result.consumers} consumers, capacity {result.capacity}"
    )
    stats = result.statistics
    console.print(
        f"  BoundedQueue statistics: {stats.total_put:,} put, {stats.total_got:,} got; "
        f"a put waited because the queue was full {stats.producer_waits:,} times, "
        f"a get waited because it was empty {stats.consumer_waits:,} times"
    )
    table = Table("queue", "delivered", "exactly once", "seconds", "items/s")
    for delivery in (result.spindle, result.stdlib):
        table.add_row(
            delivery.queue,
            f"{delivery.delivered:,} of {delivery.produced:,}",
            "yes" if delivery.exactly_once else "[bold red]NO[/]",
            f"{delivery.seconds:.3f}",
            f"{delivery.items_per_second:,.0f}",
        )
    console.print(table)


EXPERIMENT = Experiment(
    name="bounded-queue",
    summary="Producers and consumers over a small BoundedQueue: who waited, and throughput.",
    lesson="A bounded queue applies back-pressure: fast producers wait instead of using memory.",
    run=run,
    report=report,
    options=(
        Option("producers", 2, "producer threads", type=click.IntRange(1, 256)),
        Option("consumers", 2, "consumer threads", type=click.IntRange(1, 256)),
        Option(
            "items",
            20_000,
            "items each producer puts",
            quick=5_000,
            type=click.IntRange(1, 10_000_000),
        ),
        Option("capacity", 4, "queue capacity", type=click.IntRange(1, 1_000_000)),
    ),
)
