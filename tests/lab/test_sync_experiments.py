"""Experiments over spindle.sync: lock ordering and the bounded queue."""

from __future__ import annotations

import threading

from spindle.lab.experiments import bounded_queue, lock_ordering


def test_same_order_finishes_inverted_order_is_flagged_and_nothing_hangs() -> None:
    before = threading.active_count()
    result = lock_ordering.run(rounds=100, timeout_seconds=0.1)
    assert result.same_order_finished
    assert result.same_order_violations == 0
    assert result.inverted_cycle is not None
    assert result.inverted_cycle[0] == result.inverted_cycle[-1]
    assert set(result.inverted_cycle) == {"account-a", "account-b"}
    assert result.inverted_message is not None
    assert "account-a" in result.inverted_message
    # The plain-lock run is a real deadlock: both threads must give up.
    assert result.plain_deadlock_timeouts == 2
    assert result.plain_deadlock_seconds >= 0.1
    assert result.hung_threads == 0
    assert result.ok
    assert threading.active_count() == before


def test_every_item_is_delivered_exactly_once_over_both_queues() -> None:
    result = bounded_queue.run(producers=3, consumers=2, items=2_000, capacity=2)
    for delivery in (result.spindle, result.stdlib):
        assert (delivery.produced, delivery.delivered, delivery.distinct) == (6_000,) * 3
        assert delivery.hung_threads == 0
        assert delivery.exactly_once
    stats = result.statistics
    assert (stats.total_put, stats.total_got, stats.size, stats.capacity) == (6_000, 6_000, 0, 2)
    assert stats.closed
    assert (stats.blocked_producers, stats.blocked_consumers) == (0, 0)
    assert result.ok


def test_a_single_slot_queue_makes_someone_wait() -> None:
    result = bounded_queue.run(producers=2, consumers=1, items=500, capacity=1)
    stats = result.statistics
    # Two producers and one consumer through one slot: every put that finds the slot taken
    # waits, and the consumer waits whenever it has drained the slot; with a thousand items
    # at least one of the two must have happened.
    assert stats.producer_waits + stats.consumer_waits > 0
    assert result.spindle.exactly_once
