"""Dining philosophers: the naive table is caught deadlocked and stopped, the ordered one eats."""

from __future__ import annotations

import threading

import pytest

from spindle.lab.experiments import philosophers


@pytest.mark.parametrize("seats", [5, 2])
def test_naive_deadlocks_and_is_stopped_while_ordered_eats_every_meal(seats: int) -> None:
    before = threading.active_count()
    result = philosophers.run(
        philosophers=seats,
        meals=3,
        eat_seconds=0.001,
        think_seconds=0.0,
        stall_seconds=0.1,
        limit_seconds=20.0,
    )
    naive, ordered = result.naive, result.ordered
    assert naive.deadlocked
    assert naive.detected_after_seconds is not None
    assert naive.detected_after_seconds >= 0.1
    assert naive.seconds < 20.0
    assert [diner.meals for diner in naive.diners] == [0] * seats
    assert naive.all_threads_exited
    assert not ordered.deadlocked
    assert ordered.detected_after_seconds is None
    assert [diner.meals for diner in ordered.diners] == [3] * seats
    assert ordered.meals == 3 * seats
    assert ordered.all_threads_exited
    assert [diner.seat for diner in ordered.diners] == list(range(seats))
    assert result.ok
    assert threading.active_count() == before
