"""What units of concurrency cost: threads vs tasks, threads vs processes."""

from __future__ import annotations

import asyncio
import itertools
import threading

from spindle.lab.experiments import threads_vs_processes, threads_vs_tasks
from spindle.lab.experiments.threads_vs_tasks import _batches, _measure_tasks, _measure_threads
from spindle.lab.measure import os_stack_limit, usable_cpus

_MIB = 1024 * 1024


def test_batches_split_the_count_into_ten_at_most() -> None:
    assert _batches(100) == [10] * 10
    assert _batches(25) == [3] * 8 + [1]
    assert _batches(3) == [1, 1, 1]
    assert sum(_batches(12_345)) == 12_345


def test_threads_and_tasks_start_as_many_as_asked_within_a_large_bound() -> None:
    result = threads_vs_tasks.run(threads=40, tasks=500, memory_mib=1024)
    assert (result.threads.reached, result.tasks.reached) == (40, 500)
    assert not result.threads.stopped_by_memory
    assert not result.tasks.stopped_by_memory
    assert result.threading_stack_size == threading.stack_size()
    assert result.os_stack_limit == os_stack_limit()
    assert result.ok


def _growing_memory() -> itertools.count[int]:
    return itertools.count(0, _MIB)


def test_starting_stops_at_the_memory_bound() -> None:
    # Every reading is 1 MiB above the previous one: the bound of 2 MiB is reached after
    # the second batch.
    threads = _measure_threads(100, 2 * _MIB, _growing_memory().__next__)
    tasks = asyncio.run(_measure_tasks(1_000, 2 * _MIB, _growing_memory().__next__))
    assert (threads.reached, threads.stopped_by_memory, threads.all_ended) == (20, True, True)
    assert (tasks.reached, tasks.stopped_by_memory, tasks.all_ended) == (200, True, True)
    assert threads.memory_delta_bytes == 2 * _MIB


def test_thread_and_process_pools_compute_the_same_results() -> None:
    result = threads_vs_processes.run(jobs=4, job_size=3_000, workers=None)
    assert result.results_agree
    assert result.workers == usable_cpus()
    assert result.jobs == 4
    assert result.one_worker_seconds > 0
    assert result.ok


def test_count_primes_counts_primes_below_the_limit() -> None:
    assert [threads_vs_processes.count_primes(n) for n in (2, 3, 10, 100)] == [0, 1, 4, 25]
