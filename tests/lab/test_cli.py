"""``spindle lab``: list, one experiment, and all of them with --json."""

from __future__ import annotations

import json

from click.testing import CliRunner

from spindle.lab.catalogue import EXPERIMENTS
from spindle.lab.cli import lab

NAMES = [experiment.name for experiment in EXPERIMENTS]


def test_list_shows_one_line_per_experiment() -> None:
    outcome = CliRunner().invoke(lab, ["list"])
    assert outcome.exit_code == 0
    lines = outcome.output.splitlines()
    assert [line.split()[0] for line in lines] == NAMES
    assert len(NAMES) == 12


def test_one_experiment_prints_its_report_and_lesson() -> None:
    outcome = CliRunner().invoke(lab, ["async-gather", "--unit-seconds", "0.01"])
    assert outcome.exit_code == 0, outcome.output
    assert "result order:     a, b, c" in outcome.output
    assert "completion order: b, a, c" in outcome.output
    assert "Lesson: gather waits for the slowest" in outcome.output


def test_one_experiment_as_json() -> None:
    outcome = CliRunner().invoke(lab, ["semaphore", "--hold-seconds", "0", "--json"])
    assert outcome.exit_code == 0, outcome.output
    record = json.loads(outcome.output)
    assert record["name"] == "semaphore"
    assert record["ok"] is True
    assert record["result"]["peak_inside"] == 3
    assert record["result"]["slots"] == 3


def test_option_out_of_range_is_a_usage_error() -> None:
    outcome = CliRunner().invoke(lab, ["semaphore", "--slots", "0"])
    assert outcome.exit_code == 2
    assert "--slots" in outcome.output


def test_all_runs_every_experiment_and_its_json_lists_them() -> None:
    outcome = CliRunner().invoke(lab, ["all", "--json"])
    assert outcome.exit_code == 0, outcome.output
    report = json.loads(outcome.output)
    assert [record["name"] for record in report["experiments"]] == NAMES
    assert all(record["ok"] for record in report["experiments"]), report
    assert report["interpreter"]["usable_cpus"] >= 1
    assert report["seconds"] < 60


def test_all_prints_a_summary_table() -> None:
    outcome = CliRunner().invoke(lab, ["all"])
    assert outcome.exit_code == 0, outcome.output
    summary = outcome.output[outcome.output.index("spindle lab all") :]
    for name in NAMES:
        assert name in summary
    assert "12/12 invariants held" in summary
