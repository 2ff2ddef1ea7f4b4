"""``spindle lab``: ``list`` the experiments, run one by name, or run ``all`` of them.

Every experiment command is built from its :class:`~spindle.lab.registry.Experiment`: its
options, plus ``--json``. A run prints the experiment's report framed by its summary and its
lesson; ``--json`` prints the result record instead. The exit code is 0 when the experiment's
invariant held, 1 when it did not, 2 for unusable input.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import click
import orjson
from rich.console import Console
from rich.rule import Rule
from rich.table import Table

from spindle.lab.catalogue import EXPERIMENTS
from spindle.lab.measure import interpreter_facts
from spindle.lab.registry import Experiment, ExperimentInputError, Outcome

__all__ = ["lab"]

_EXIT_INVARIANT_FAILED = 1
# Reports and the summary table are read from logs and pipes too, where rich would assume 80
# columns and wrap every measurement; a terminal keeps its own width.
_PIPE_WIDTH = 120


def _console(*, quiet: bool = False) -> Console:
    return Console(quiet=quiet, width=None if sys.stdout.isatty() else _PIPE_WIDTH)


@click.group("lab")
def lab() -> None:
    """Classic concurrency experiments, measured on this interpreter."""


@lab.command("list")
def list_experiments() -> None:
    """List the experiments, one line each."""
    width = max(len(experiment.name) for experiment in EXPERIMENTS)
    for experiment in EXPERIMENTS:
        click.echo(f"{experiment.name:<{width}}  {experiment.summary}")


_JSON_HELP = "print the results as JSON instead of a report"


def _execute(experiment: Experiment[Any], arguments: dict[str, Any]) -> Outcome:
    try:
        return experiment.execute(arguments)
    except ExperimentInputError as exc:
        raise click.UsageError(str(exc)) from exc


def _print_outcome(console: Console, experiment: Experiment[Any], outcome: Outcome) -> None:
    console.print(Rule(f"[bold]{experiment.name}[/]"))
    console.print(f"[dim]{experiment.summary}[/]")
    experiment.report(outcome.result, console)
    verdict = "[green]invariant held[/]" if outcome.result.ok else "[bold red]INVARIANT FAILED[/]"
    console.print(f"{verdict} ({outcome.seconds:.2f} s)")
    console.print(f"[bold]Lesson:[/] {experiment.lesson}")
    console.print()


def _emit_json(data: dict[str, Any]) -> None:
    click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())


def _finish(ctx: click.Context, outcomes: list[Outcome]) -> None:
    if not all(outcome.result.ok for outcome in outcomes):
        ctx.exit(_EXIT_INVARIANT_FAILED)


def _command_for(experiment: Experiment[Any]) -> click.Command:
    @click.pass_context
    def callback(ctx: click.Context, /, as_json: bool, **arguments: Any) -> None:
        outcome = _execute(experiment, arguments)
        if as_json:
            _emit_json(outcome.to_json())
        else:
            _print_outcome(_console(), experiment, outcome)
        _finish(ctx, [outcome])

    return click.Command(
        experiment.name,
        callback=callback,
        params=[
            *(option.to_click() for option in experiment.options),
            click.Option(["--json", "as_json"], is_flag=True, help=_JSON_HELP),
        ],
        help=f"{experiment.summary}\n\n{experiment.lesson}",
        short_help=experiment.summary,
    )


@lab.command("all")
@click.option("--json", "as_json", is_flag=True, help=_JSON_HELP)
@click.pass_context
def run_all(ctx: click.Context, as_json: bool) -> None:
    """Run every experiment with small settings, then print a summary table."""
    console = _console(quiet=as_json)
    facts = interpreter_facts()
    console.print(f"[bold]{facts.describe()}[/]\n")
    started = time.perf_counter()
    outcomes: list[Outcome] = []
    for experiment in EXPERIMENTS:
        outcome = _execute(experiment, experiment.arguments(quick=True))
        outcomes.append(outcome)
        _print_outcome(console, experiment, outcome)
    total = time.perf_counter() - started
    if as_json:
        _emit_json(
            {
                "interpreter": facts,
                "seconds": round(total, 4),
                "experiments": [outcome.to_json() for outcome in outcomes],
            }
        )
    else:
        console.print(_summary_table(outcomes, total))
    _finish(ctx, outcomes)


def _summary_table(outcomes: list[Outcome], total: float) -> Table:
    table = Table("experiment", "invariant", "measured", "seconds", title="spindle lab all")
    for outcome in outcomes:
        table.add_row(
            outcome.name,
            "[green]held[/]" if outcome.result.ok else "[bold red]FAILED[/]",
            outcome.result.headline,
            f"{outcome.seconds:.2f}",
        )
    held = sum(outcome.result.ok for outcome in outcomes)
    table.caption = f"{held}/{len(outcomes)} invariants held; {total:.1f} s in total"
    return table


for _experiment in EXPERIMENTS:
    lab.add_command(_command_for(_experiment))
