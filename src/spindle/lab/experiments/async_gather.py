"""``async-gather``: three coroutines sleeping 2, 1 and 3 units, awaited with asyncio.gather."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import click
from rich.console import Console

from spindle.lab.registry import Experiment, Option

__all__ = ["DELAYS", "EXPERIMENT", "AsyncGatherResult", "run"]

DELAYS: tuple[tuple[str, int], ...] = (("a", 2), ("b", 1), ("c", 3))
"""The coroutines in call order, with the number of units each one sleeps."""


@dataclass(frozen=True, slots=True)
class AsyncGatherResult:
    """The order gather returned results in, the order coroutines finished in, and the time."""

    unit_seconds: float
    delays: tuple[tuple[str, int], ...]
    result_order: tuple[str, ...]
    completion_order: tuple[str, ...]
    total_seconds: float

    @property
    def sum_seconds(self) -> float:
        """The time the sleeps would take one after another."""
        return sum(units for _, units in self.delays) * self.unit_seconds

    @property
    def max_seconds(self) -> float:
        """The longest single sleep."""
        return max(units for _, units in self.delays) * self.unit_seconds

    @property
    def ok(self) -> bool:
        """Results come back in call order, completions in delay order, total near the max."""
        by_delay = tuple(name for name, _ in sorted(self.delays, key=lambda pair: pair[1]))
        call_order = tuple(name for name, _ in self.delays)
        return (
            self.result_order == call_order
            and self.completion_order == by_delay
            and abs(self.total_seconds - self.max_seconds)
            < abs(self.total_seconds - self.sum_seconds)
        )

    @property
    def headline(self) -> str:
        return (
            f"{self.total_seconds:.2f} s (max {self.max_seconds:.2f}, sum {self.sum_seconds:.2f}); "
            f"done {','.join(self.completion_order)}"
        )


async def _gather(unit_seconds: float) -> tuple[list[str], list[str]]:
    finished: list[str] = []

    async def nap(name: str, units: int) -> str:
        await asyncio.sleep(units * unit_seconds)
        finished.append(name)
        return name

    results = await asyncio.gather(*(nap(name, units) for name, units in DELAYS))
    return results, finished


def run(unit_seconds: float) -> AsyncGatherResult:
    """Gather the three naps on a fresh event loop and record both orders and the total."""
    started = time.perf_counter()
    results, finished = asyncio.run(_gather(unit_seconds))
    return AsyncGatherResult(
        unit_seconds=unit_seconds,
        delays=DELAYS,
        result_order=tuple(results),
        completion_order=tuple(finished),
        total_seconds=time.perf_counter() - started,
    )


def report(result: AsyncGatherResult, console: Console) -> None:
    """Print the two orders and the total against the sum and the maximum."""
    calls = ", ".join(f"{name}({units})" for name, units in result.delays)
    console.print(f"asyncio.gather({calls}), one unit = {result.unit_seconds:g} s")
    console.print(f"  result order:     {', '.join(result.result_order)} (the call order)")
    console.print(f"  completion order: {', '.join(result.completion_order)} (shortest first)")
    console.print(
        f"  total: {result.total_seconds:.3f} s; longest sleep {result.max_seconds:.3f} s, "
        f"sum of sleeps {result.sum_seconds:.3f} s"
    )


EXPERIMENT = Experiment(
    name="async-gather",
    summary="Coroutines sleeping 2, 1 and 3 units under asyncio.gather.",
    lesson="gather waits for the slowest, not the sum, and returns results in call order.",
    run=run,
    report=report,
    options=(
        Option(
            "unit_seconds",
            0.1,
            "seconds in one unit of sleep",
            quick=0.05,
            type=click.FloatRange(0.001, 60.0),
        ),
    ),
)
