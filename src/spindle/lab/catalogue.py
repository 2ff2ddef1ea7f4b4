"""Every experiment, in the order ``spindle lab list`` shows and ``spindle lab all`` runs them."""

from __future__ import annotations

from typing import Any

from spindle.lab.experiments import (
    async_gather,
    atomic_counter,
    banker,
    bounded_queue,
    download_speedup,
    lock_ordering,
    philosophers,
    race,
    semaphore,
    sequential,
    threads_vs_processes,
    threads_vs_tasks,
)
from spindle.lab.registry import Experiment

__all__ = ["EXPERIMENTS", "experiment_named"]

EXPERIMENTS: tuple[Experiment[Any], ...] = (
    sequential.EXPERIMENT,
    race.EXPERIMENT,
    semaphore.EXPERIMENT,
    banker.EXPERIMENT,
    lock_ordering.EXPERIMENT,
    philosophers.EXPERIMENT,
    async_gather.EXPERIMENT,
    threads_vs_tasks.EXPERIMENT,
    threads_vs_processes.EXPERIMENT,
    atomic_counter.EXPERIMENT,
    bounded_queue.EXPERIMENT,
    download_speedup.EXPERIMENT,
)


def experiment_named(name: str) -> Experiment[Any]:
    """The experiment called ``name``.

    >>> experiment_named("race").summary
    'Two threads increment a shared counter, without and with a lock.'

    Raises:
        KeyError: no experiment has that name.
    """
    for experiment in EXPERIMENTS:
        if experiment.name == name:
            return experiment
    raise KeyError(name)
