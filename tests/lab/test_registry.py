"""The registry: options become click options, `lab all` values, and match the run functions."""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import click
import pytest

from spindle.lab.catalogue import EXPERIMENTS, experiment_named
from spindle.lab.registry import Experiment, Option


@dataclass(frozen=True, slots=True)
class _Echo:
    size: int
    label: str

    @property
    def ok(self) -> bool:
        return self.size > 0

    @property
    def headline(self) -> str:
        return f"{self.label}:{self.size}"


def _echo_run(size: int, label: str) -> _Echo:
    return _Echo(size, label)


ECHO = Experiment(
    name="echo",
    summary="Echo its options.",
    lesson="Options flow through.",
    run=_echo_run,
    report=lambda result, console: console.print(result.headline),
    options=(
        Option("size", 10, "a size", quick=2, type=click.IntRange(1)),
        Option("label", "x", "a label"),
    ),
)


def test_arguments_are_defaults_or_quick_values() -> None:
    assert ECHO.arguments() == {"size": 10, "label": "x"}
    assert ECHO.arguments(quick=True) == {"size": 2, "label": "x"}


def test_execute_fills_missing_arguments_with_defaults_and_times_the_run() -> None:
    outcome = ECHO.execute({"label": "y"})
    assert outcome.name == "echo"
    assert outcome.result == _Echo(10, "y")
    assert outcome.seconds >= 0
    assert outcome.to_json() == {
        "name": "echo",
        "ok": True,
        "headline": "y:10",
        "seconds": round(outcome.seconds, 4),
        "result": _Echo(10, "y"),
    }


def test_option_becomes_a_click_option_with_its_flag_default_and_type() -> None:
    option = Option("hold_seconds", 0.5, "seconds", type=click.FloatRange(0.0)).to_click()
    assert option.opts == ["--hold-seconds"]
    assert option.name == "hold_seconds"
    assert option.default == 0.5
    assert isinstance(option.type, click.FloatRange)


def test_names_are_unique_and_summaries_are_one_line() -> None:
    names = [experiment.name for experiment in EXPERIMENTS]
    assert len(set(names)) == len(names)
    for experiment in EXPERIMENTS:
        assert "\n" not in experiment.summary
        assert "\n" not in experiment.lesson


@pytest.mark.parametrize("experiment", EXPERIMENTS, ids=lambda experiment: experiment.name)
def test_options_are_exactly_the_run_functions_parameters(experiment: Experiment[object]) -> None:
    parameters = inspect.signature(experiment.run).parameters
    assert [option.name for option in experiment.options] == list(parameters)


def test_experiment_named_finds_by_name_or_raises() -> None:
    assert experiment_named("race").name == "race"
    with pytest.raises(KeyError):
        experiment_named("no-such-experiment")
