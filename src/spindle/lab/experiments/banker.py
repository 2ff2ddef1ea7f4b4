"""``banker``: the Banker's algorithm (:class:`spindle.sync.Banker`) on a state, and a request.

A state file is JSON with three fields, one entry per resource in each vector and one row per
process in each matrix::

    {"available": [3, 3, 2],
     "allocation": [[0, 1, 0], [2, 0, 0], [3, 0, 2], [2, 1, 1], [0, 0, 2]],
     "max": [[7, 5, 3], [3, 2, 2], [9, 0, 2], [2, 2, 2], [4, 3, 3]]}

That is the textbook state used when no file is given; its safe sequence is P1, P3, P4, P0, P2.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from spindle.lab.registry import Experiment, ExperimentInputError, Option
from spindle.sync import Banker

__all__ = [
    "CLASSIC_STATE",
    "EXPERIMENT",
    "BankerResult",
    "BankerState",
    "RequestAnswer",
    "load_state",
    "parse_request",
    "parse_state",
    "run",
]

Vector = tuple[int, ...]
Matrix = tuple[Vector, ...]


@dataclass(frozen=True, slots=True)
class BankerState:
    """What the Banker needs: free resources, what each process holds, what each may claim."""

    available: Vector
    allocation: Matrix
    max_claim: Matrix
    source: str = "the classic textbook state"


CLASSIC_STATE = BankerState(
    available=(3, 3, 2),
    allocation=((0, 1, 0), (2, 0, 0), (3, 0, 2), (2, 1, 1), (0, 0, 2)),
    max_claim=((7, 5, 3), (3, 2, 2), (9, 0, 2), (2, 2, 2), (4, 3, 3)),
)


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _vector(data: dict[str, Any], field: str) -> Vector:
    value = data[field]
    if not isinstance(value, list) or not value or not all(_count(item) for item in value):
        raise ValueError(f"field {field!r} must be a non-empty list of non-negative integers")
    return tuple(value)


def _matrix(data: dict[str, Any], field: str, width: int) -> Matrix:
    value = data[field]
    if not isinstance(value, list) or not value:
        raise ValueError(f"field {field!r} must be a non-empty list of rows, one per process")
    rows: list[Vector] = []
    for pid, row in enumerate(value):
        if not isinstance(row, list) or not all(_count(item) for item in row):
            raise ValueError(f"field {field!r}: row P{pid} must be a list of non-negative integers")
        if len(row) != width:
            raise ValueError(
                f"field {field!r}: row P{pid} has {len(row)} values, expected {width} "
                f"(one per resource in 'available')"
            )
        rows.append(tuple(row))
    return tuple(rows)


def parse_state(data: object, source: str = "state") -> BankerState:
    """Validate decoded JSON as a Banker state.

    >>> parse_state({"available": [1], "allocation": [[0]], "max": [[1]]}).max_claim
    ((1,),)
    >>> parse_state({"available": [1], "allocation": [[0]]})
    Traceback (most recent call last):
    ...
    ValueError: missing field 'max'

    Raises:
        ValueError: a one-line message naming the field (or process and resource) at fault.
    """
    if not isinstance(data, dict):
        raise ValueError("a state must be a JSON object with 'available', 'allocation', 'max'")
    for field in ("available", "allocation", "max"):
        if field not in data:
            raise ValueError(f"missing field {field!r}")
    available = _vector(data, "available")
    allocation = _matrix(data, "allocation", len(available))
    max_claim = _matrix(data, "max", len(available))
    if len(allocation) != len(max_claim):
        raise ValueError(
            f"field 'allocation' has {len(allocation)} rows but field 'max' has "
            f"{len(max_claim)}; both need one row per process"
        )
    Banker(available, max_claim, allocation)  # its own checks, e.g. allocation above max
    return BankerState(available, allocation, max_claim, source)


def load_state(path: Path) -> BankerState:
    """Read and validate a JSON state file.

    Raises:
        ValueError: one line naming the file and what is wrong with it.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror}") from exc
    except ValueError as exc:  # also UnicodeDecodeError
        raise ValueError(f"{path} is not JSON: {exc}") from exc
    try:
        return parse_state(data, str(path))
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc


def parse_request(pair: tuple[str, str]) -> tuple[int, Vector]:
    """Read ``PID V1,V2,...`` (PID as ``1`` or ``P1``).

    >>> parse_request(("P1", "1,0,2"))
    (1, (1, 0, 2))

    Raises:
        ValueError: the process number or the amounts cannot be read.
    """
    process, amounts = pair
    digits = process.removeprefix("P").removeprefix("p")
    if not digits.isdigit():
        raise ValueError(f"{process!r} is not a process number such as 1 or P1")
    try:
        vector = tuple(int(part) for part in amounts.split(","))
    except ValueError:
        raise ValueError(f"{amounts!r} is not a comma-separated list of integers") from None
    if any(amount < 0 for amount in vector):
        raise ValueError(f"{amounts!r} has a negative amount")
    return int(digits), vector


@dataclass(frozen=True, slots=True)
class RequestAnswer:
    """Whether a request would be granted, and why."""

    pid: int
    vector: Vector
    granted: bool
    reason: str


@dataclass(frozen=True, slots=True)
class BankerResult:
    """The state, its safety, a safe sequence checked by replaying it, and a request's answer."""

    source: str
    available: Vector
    allocation: Matrix
    max_claim: Matrix
    need: Matrix
    safe: bool
    safe_sequence: Vector | None
    sequence_replays: bool
    request: RequestAnswer | None

    @property
    def ok(self) -> bool:
        """A safe state came with a sequence that really lets every process finish."""
        return self.sequence_replays if self.safe else self.safe_sequence is None

    @property
    def headline(self) -> str:
        verdict = f"safe: {_names(self.safe_sequence)}" if self.safe_sequence else "unsafe"
        if self.request is not None:
            answer = "granted" if self.request.granted else "refused"
            verdict += f"; request by P{self.request.pid} {answer}"
        return verdict


def _names(sequence: Sequence[int] | None) -> str:
    return ", ".join(f"P{pid}" for pid in sequence or ())


def _replays(state: BankerState, need: Matrix, sequence: Sequence[int] | None) -> bool:
    """Run the processes in ``sequence``: each must fit in what is free, then returns all."""
    if sequence is None or sorted(sequence) != list(range(len(state.allocation))):
        return False
    free = list(state.available)
    for pid in sequence:
        if any(wanted > have for wanted, have in zip(need[pid], free, strict=True)):
            return False
        free = [have + held for have, held in zip(free, state.allocation[pid], strict=True)]
    return True


def run(state: BankerState | None, request: tuple[int, Vector] | None) -> BankerResult:
    """Check ``state`` (the classic one if None) for safety, then answer ``request`` if given."""
    state = state or CLASSIC_STATE
    banker = Banker(state.available, state.max_claim, state.allocation)
    sequence = banker.safe_sequence()
    need = tuple(tuple(row) for row in banker.need)
    answer = None
    if request is not None:
        pid, vector = request
        if pid >= len(state.allocation):
            raise ExperimentInputError(
                f"--request: there is no P{pid} (the state has P0 to P{len(state.allocation) - 1})"
            )
        if len(vector) != len(state.available):
            raise ExperimentInputError(
                f"--request: {len(vector)} amounts given, the state has "
                f"{len(state.available)} resources"
            )
        decision = banker.request(pid, vector)
        answer = RequestAnswer(pid, vector, decision.granted, decision.reason)
    return BankerResult(
        source=state.source,
        available=state.available,
        allocation=state.allocation,
        max_claim=state.max_claim,
        need=need,
        safe=sequence is not None,
        safe_sequence=None if sequence is None else tuple(sequence),
        sequence_replays=_replays(state, need, sequence),
        request=answer,
    )


def _cells(vector: Vector) -> str:
    return " ".join(str(amount) for amount in vector)


def report(result: BankerResult, console: Console) -> None:
    """Print the state, ``Safe state: ...``, ``Safe sequence: ...`` and the request's answer."""
    console.print(f"State: {result.source}; available: {_cells(result.available)}")
    table = Table("process", "allocation", "max", "need")
    for pid, (held, claim, need) in enumerate(
        zip(result.allocation, result.max_claim, result.need, strict=True)
    ):
        table.add_row(f"P{pid}", _cells(held), _cells(claim), _cells(need))
    console.print(table)
    console.print(f"Safe state: {result.safe}", highlight=False)
    if result.safe_sequence is not None:
        console.print(f"Safe sequence: {_names(result.safe_sequence)}", highlight=False)
    if result.request is not None:
        answer = "granted" if result.request.granted else "refused"
        request = result.request
        console.print(
            f"Request by P{request.pid} for ({', '.join(map(str, request.vector))}): "
            f"{answer}: {request.reason.removeprefix(f'{answer}: ')}",
            highlight=False,
        )


EXPERIMENT = Experiment(
    name="banker",
    summary="The Banker's algorithm: is the state safe, and would a request be granted?",
    lesson="Grant a request only if some order still lets every process finish: avoid, not detect.",
    run=run,
    report=report,
    options=(
        Option(
            "state",
            None,
            'a JSON state file: {"available": [...], "allocation": [[...]], "max": [[...]]}',
            type=click.Path(dir_okay=False, path_type=Path),
            parse=load_state,
        ),
        Option(
            "request",
            None,
            "ask whether process PID may take these amounts, e.g. --request P1 1,0,2",
            type=str,
            nargs=2,
            metavar="PID V1,V2,...",
            parse=parse_request,
        ),
    ),
)
