"""The banker experiment: the classic state, user state files, requests, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from spindle.lab.cli import lab
from spindle.lab.experiments.banker import CLASSIC_STATE, BankerState, parse_state, run

CLASSIC_JSON = {
    "available": [3, 3, 2],
    "allocation": [[0, 1, 0], [2, 0, 0], [3, 0, 2], [2, 1, 1], [0, 0, 2]],
    "max": [[7, 5, 3], [3, 2, 2], [9, 0, 2], [2, 2, 2], [4, 3, 3]],
}


def test_classic_state_is_safe_with_the_textbook_sequence() -> None:
    result = run(state=None, request=None)
    assert result.safe
    assert result.safe_sequence == (1, 3, 4, 0, 2)
    assert result.sequence_replays
    assert result.need == ((7, 4, 3), (1, 2, 2), (6, 0, 0), (0, 1, 1), (4, 3, 1))
    assert result.request is None
    assert result.ok


def test_report_prints_the_safe_state_and_sequence_lines() -> None:
    outcome = CliRunner().invoke(lab, ["banker"])
    assert outcome.exit_code == 0, outcome.output
    assert "Safe state: True\n" in outcome.output
    assert "Safe sequence: P1, P3, P4, P0, P2\n" in outcome.output


def test_a_request_within_need_that_stays_safe_is_granted() -> None:
    result = run(state=CLASSIC_STATE, request=(1, (1, 0, 2)))
    assert result.request is not None
    assert (result.request.pid, result.request.vector, result.request.granted) == (
        1,
        (1, 0, 2),
        True,
    )
    assert result.request.reason


def test_a_request_beyond_need_is_refused_with_a_reason() -> None:
    result = run(state=CLASSIC_STATE, request=(3, (1, 1, 1)))
    assert result.request is not None
    assert not result.request.granted
    assert result.request.reason


def test_unsafe_state_has_no_sequence() -> None:
    state = parse_state({"available": [0], "allocation": [[1], [1]], "max": [[2], [2]]})
    result = run(state=state, request=None)
    assert (result.safe, result.safe_sequence, result.ok) == (False, None, True)


def test_state_file_and_request_from_the_command_line(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text(json.dumps(CLASSIC_JSON))
    outcome = CliRunner().invoke(
        lab, ["banker", "--state", str(state), "--request", "P1", "1,0,2", "--json"]
    )
    assert outcome.exit_code == 0, outcome.output
    record = json.loads(outcome.output)
    assert record["result"]["safe_sequence"] == [1, 3, 4, 0, 2]
    assert record["result"]["request"]["granted"] is True
    assert record["result"]["source"] == str(state)


def test_parse_state_accepts_the_classic_json() -> None:
    assert parse_state(CLASSIC_JSON, "x") == BankerState(
        CLASSIC_STATE.available, CLASSIC_STATE.allocation, CLASSIC_STATE.max_claim, "x"
    )


def _without(field: str) -> dict[str, object]:
    return {key: value for key, value in CLASSIC_JSON.items() if key != field}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not JSON"),
        ("[1, 2]", "a state must be a JSON object"),
        (json.dumps(_without("max")), "missing field 'max'"),
        (json.dumps(_without("available")), "missing field 'available'"),
        (json.dumps({**CLASSIC_JSON, "available": [3, -1, 2]}), "field 'available' must be"),
        (json.dumps({**CLASSIC_JSON, "available": "332"}), "field 'available' must be"),
        (
            json.dumps({**CLASSIC_JSON, "allocation": [[0, 1], [2, 0, 0]]}),
            "field 'allocation': row P0 has 2 values",
        ),
        (
            json.dumps({**CLASSIC_JSON, "max": [[7, 5, 3], [3, True, 2]]}),
            "field 'max': row P1 must be",
        ),
        (
            json.dumps({**CLASSIC_JSON, "max": CLASSIC_JSON["max"][:4]}),
            "field 'allocation' has 5 rows but field 'max' has 4",
        ),
        (
            json.dumps(
                {**CLASSIC_JSON, "allocation": [[9, 9, 9], *CLASSIC_JSON["allocation"][1:]]}
            ),
            "P0",
        ),
    ],
)
def test_bad_state_files_give_one_line_naming_the_field(
    tmp_path: Path, content: str, message: str
) -> None:
    state = tmp_path / "state.json"
    state.write_text(content)
    outcome = CliRunner().invoke(lab, ["banker", "--state", str(state)])
    assert outcome.exit_code == 2
    errors = [line for line in outcome.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1
    assert message in errors[0]
    assert "Traceback" not in outcome.output


@pytest.mark.parametrize(
    ("request_arguments", "message"),
    [
        (["P9", "1,0,2"], "there is no P9"),
        (["1", "1,0"], "2 amounts given, the state has 3 resources"),
        (["1", "1,x,2"], "not a comma-separated list of integers"),
        (["one", "1,0,2"], "not a process number"),
    ],
)
def test_bad_requests_give_one_line_and_exit_2(request_arguments: list[str], message: str) -> None:
    outcome = CliRunner().invoke(lab, ["banker", "--request", *request_arguments])
    assert outcome.exit_code == 2
    assert message in outcome.output


def test_missing_state_file_is_a_usage_error(tmp_path: Path) -> None:
    outcome = CliRunner().invoke(lab, ["banker", "--state", str(tmp_path / "none.json")])
    assert outcome.exit_code == 2
    assert "cannot read" in outcome.output
