"""What an experiment is: a name, a one-line summary, its options, a run and a report function.

Every experiment module declares one :class:`Experiment` and nothing else about the command
line: ``spindle lab NAME`` builds its click command from :attr:`Experiment.options`, ``spindle lab
all`` runs it with each option's :attr:`Option.quick` value, and ``--json`` serialises the frozen
result dataclass that ``run`` returns.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import click
from rich.console import Console

__all__ = ["Experiment", "ExperimentInputError", "LabResult", "Option", "Outcome"]


class ExperimentInputError(ValueError):
    """The user's input to an experiment cannot be used; the command line shows it as one line."""


class LabResult(Protocol):
    """What every experiment's result offers besides its own measurements."""

    @property
    def ok(self) -> bool:
        """True when the experiment's invariant held (e.g. the locked count was exact)."""

    @property
    def headline(self) -> str:
        """The measured finding in one short line, for the summary table."""


ResultT = TypeVar("ResultT", bound=LabResult)


@dataclass(frozen=True, slots=True)
class Option:
    """One command-line option of an experiment.

    ``name`` is the run function's keyword argument; the flag is derived from it. ``quick`` is
    the value ``spindle lab all`` uses (None: the same as ``default``). ``parse``, if given,
    turns a value from the command line into what the run function takes; a ValueError it
    raises becomes a one-line usage error naming the option.

    >>> option = Option("hold_seconds", 0.05, "seconds each worker holds a slot", quick=0.02)
    >>> option.flag, option.value(quick=True), option.value(quick=False)
    ('--hold-seconds', 0.02, 0.05)
    """

    name: str
    default: Any
    help: str
    quick: Any = None
    type: Any = None
    metavar: str | None = None
    multiple: bool = False
    nargs: int = 1
    parse: Callable[[Any], Any] | None = None

    @property
    def flag(self) -> str:
        """The command-line flag, e.g. ``--hold-seconds`` for ``hold_seconds``."""
        return "--" + self.name.replace("_", "-")

    def value(self, *, quick: bool) -> Any:
        """The value for a normal run, or for ``lab all`` when ``quick``."""
        return self.quick if quick and self.quick is not None else self.default

    def to_click(self) -> click.Option:
        """The click option that feeds this value to the run function."""
        return click.Option(
            [self.flag, self.name],
            default=self.default,
            type=self.type,
            help=self.help,
            metavar=self.metavar,
            multiple=self.multiple,
            nargs=self.nargs,
            show_default=self.default is not None and not self.multiple,
            callback=None if self.parse is None else self._parse_from_command_line,
        )

    def _parse_from_command_line(
        self, ctx: click.Context, param: click.Parameter, value: Any
    ) -> Any:
        if value is None or self.parse is None:
            return value
        try:
            return self.parse(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc), ctx=ctx, param=param) from exc


@dataclass(frozen=True, slots=True)
class Experiment(Generic[ResultT]):
    """A runnable experiment.

    ``run`` takes one keyword argument per option and returns a frozen result; ``report``
    prints what it did and measured (the lab prints the name, summary and lesson around it).
    ``run`` raises :class:`ExperimentInputError` for unusable user input.
    """

    name: str
    summary: str
    lesson: str
    run: Callable[..., ResultT]
    report: Callable[[ResultT, Console], None]
    options: tuple[Option, ...] = ()

    def arguments(self, *, quick: bool = False) -> dict[str, Any]:
        """Every option's value: the defaults, or the small ``lab all`` values when ``quick``."""
        return {option.name: option.value(quick=quick) for option in self.options}

    def execute(self, arguments: Mapping[str, Any] | None = None) -> Outcome:
        """Run with ``arguments`` (missing ones take their defaults) and time the run."""
        merged = self.arguments() | dict(arguments or {})
        started = time.perf_counter()
        result = self.run(**merged)
        return Outcome(self.name, result, time.perf_counter() - started)


@dataclass(frozen=True, slots=True)
class Outcome:
    """One finished run: the experiment's name, its result and the wall time it took."""

    name: str
    result: LabResult
    seconds: float

    def to_json(self) -> dict[str, Any]:
        """Plain data for ``--json`` (orjson serialises the result dataclass itself)."""
        return {
            "name": self.name,
            "ok": self.result.ok,
            "headline": self.result.headline,
            "seconds": round(self.seconds, 4),
            "result": self.result,
        }
