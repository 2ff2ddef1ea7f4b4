"""Experiments about waiting: sequential vs concurrent sleeps, asyncio.gather, the semaphore."""

from __future__ import annotations

from spindle.lab.experiments import async_gather, semaphore, sequential


def test_threads_overlap_sleeps() -> None:
    result = sequential.run(tasks=3, seconds=0.05)
    # Sleeping never ends early, so the sum is a hard lower bound for the sequential run.
    assert result.sequential_seconds >= 3 * 0.05
    assert result.concurrent_seconds >= 0.05
    assert result.concurrent_seconds < 0.75 * result.sequential_seconds
    assert result.ok


def test_gather_takes_about_the_longest_sleep_and_keeps_call_order() -> None:
    result = async_gather.run(unit_seconds=0.03)
    assert result.result_order == ("a", "b", "c")
    assert result.completion_order == ("b", "a", "c")
    assert result.max_seconds == 3 * 0.03
    assert result.sum_seconds == 6 * 0.03
    assert result.total_seconds >= result.max_seconds
    assert abs(result.total_seconds - result.max_seconds) < abs(
        result.total_seconds - result.sum_seconds
    )
    assert result.ok


def test_semaphore_peak_equals_the_limit() -> None:
    result = semaphore.run(workers=10, slots=3, hold_seconds=0.01)
    assert result.peak_inside == 3
    # Some slot serves at least ceil(10 / 3) holders one after another.
    assert result.total_seconds >= 4 * 0.01
    assert result.ok


def test_semaphore_with_more_slots_than_workers_peaks_at_the_workers() -> None:
    result = semaphore.run(workers=2, slots=5, hold_seconds=0.0)
    assert result.peak_inside == 2
    assert result.expected_peak == 2
    assert result.ok
