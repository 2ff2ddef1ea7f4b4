"""Counters shared between threads: only the synchronised ones must be exact."""

from __future__ import annotations

from spindle.lab.experiments import atomic_counter, race
from spindle.lab.measure import gil_enabled


def test_locked_count_is_exact_in_every_run() -> None:
    result = race.run(threads=2, increments=100_000, runs=2)
    assert result.expected == 200_000
    assert result.locked == (200_000, 200_000)
    assert all(0 < count <= 200_000 for count in result.plain + result.read_call_write)
    assert result.gil_enabled == gil_enabled()
    assert result.ok


def test_race_with_more_threads_keeps_the_locked_count_exact() -> None:
    result = race.run(threads=4, increments=20_000, runs=1)
    assert result.locked == (80_000,)
    assert result.lost(result.locked) == (0,)


def test_locked_and_ticket_counters_are_exact() -> None:
    result = atomic_counter.run(threads=2, increments=50_000)
    locked, tickets, bare = result.runs
    assert (locked.counter, locked.total, locked.exact) == ("Lock", 100_000, True)
    if result.gil_enabled:
        assert tickets.total == 100_000
    assert 0 < bare.total <= 100_000
    assert all(run.nanoseconds_per_increment > 0 for run in result.runs)
    assert result.ok
