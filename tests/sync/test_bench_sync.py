"""bench/bench_sync.py stays runnable: importable by path, with a table and a JSON form."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_sync.py"
TINY = ["--iterations", "200", "--items", "400", "--repeat", "1", "--capacity", "8"]


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_sync", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_run_returns_every_figure(bench: ModuleType) -> None:
    results = bench.run(iterations=200, items=400, repeat=1, capacity=8)
    assert [row["lock"] for row in results["locks"]] == [
        "threading.Lock",
        "threading.RLock",
        "OrderedLock, checked, 0 other held",
        "OrderedLock, checked, 1 other held",
        "OrderedRLock, checked, 0 other held",
    ]
    assert all(row["ns_per_acquire_release"] >= 0 for row in results["locks"])
    assert [(row["queue"], row["producers"], row["consumers"]) for row in results["queues"]] == [
        ("BoundedQueue", 1, 1),
        ("queue.Queue", 1, 1),
        ("BoundedQueue", 4, 4),
        ("queue.Queue", 4, 4),
    ]
    for row in results["queues"]:
        assert (row["items"], row["capacity"]) == (400, 8)
        assert row["items_per_second"] > 0


def test_main_prints_a_table_or_json(bench: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(TINY) == 0
    table = capsys.readouterr().out
    assert "ns per acquire+release" in table
    assert "BoundedQueue" in table
    assert bench.main([*TINY, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["iterations"] == 200


def test_bad_arguments_exit_with_usage_error(
    bench: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        bench.main(["--items", "0"])
    assert exited.value.code == 2
    assert "must be at least 1" in capsys.readouterr().err
