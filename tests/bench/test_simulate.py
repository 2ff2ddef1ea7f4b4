"""bench/simulate.py stays runnable and honest: a small simulated crawl, checked exactly.

The web here is small enough to be crawled to the end (a few thousand URLs), so every
admitted URL must have ended exactly once; politeness must hold throughout; the same seed
must give the same crawl, in both modes (the parsed pages handed over directly, or written as
HTML and parsed by the scheduler).
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from spindle.crawl.core import CrawlConfig, Fetch, FetchKind, Frontier, MemoryFrontier

BENCH = Path(__file__).resolve().parents[2] / "bench"
TINY = ["--hosts", "300", "--largest-host", "300", "--seeds", "5", "--workers", "50"]


@pytest.fixture(scope="module")
def bench() -> Iterator[dict[str, ModuleType]]:
    sys.path.insert(0, str(BENCH))
    try:
        yield {name: importlib.import_module(name) for name in ("simulate", "simweb", "simcheck")}
    finally:
        sys.path.remove(str(BENCH))


@pytest.fixture(scope="module")
def small(bench: dict[str, ModuleType]) -> Any:
    simulate, simweb = bench["simulate"], bench["simweb"]
    return simulate.SimSettings(
        web=simweb.WebParams(seed=5, hosts=300, largest_host=500),
        workers=50,
        seeds=5,
        checkpoints=(10**9,),  # never reached: the crawl runs to the end of the web
        exact=True,
    )


@pytest.fixture(scope="module")
def finished(bench: dict[str, ModuleType], small: Any) -> dict[str, Any]:
    result: dict[str, Any] = bench["simulate"].simulate(small, probe=False)
    return result


def _deterministic(result: dict[str, Any]) -> dict[str, Any]:
    return {
        "digest": result["digest"],
        "ledger": result["ledger"],
        "politeness": result["politeness"],
        "sim": [row["sim"] for row in result["rows"]],
    }


def test_every_admitted_url_ends_exactly_once(finished: dict[str, Any]) -> None:
    ledger = finished["ledger"]
    assert finished["end"] == "the web ran out (DONE)"
    assert ledger["admitted"] >= 2000
    assert ledger["done"]
    assert (ledger["queued"], ledger["in_flight"], ledger["balance"]) == (0, 0, 0)
    assert ledger["ended"] == ledger["admitted"]
    assert ledger["not_ended"] == 0
    assert ledger["ended_twice_or_unknown"] == 0, ledger["problems"]
    # the web's faults all showed up: redirects, errors, robots.txt skips, retries
    assert {"200", "301", "404", "500"} <= set(ledger["statuses"])
    assert {"robots", "robots_unreachable"} <= set(ledger["skips"])
    assert finished["rows"][-1]["sim"]["retries"] > 0


def test_politeness_is_never_exceeded(finished: dict[str, Any]) -> None:
    politeness = finished["politeness"]
    assert set(politeness["violations"]) == {
        "interval",
        "concurrency",
        "retry_after",
        "robots_first",
        "disallowed",
    }
    assert sum(politeness["violations"].values()) == 0, politeness["examples"]
    assert politeness["hosts_fetched"] > 100
    assert 1.0 <= politeness["tightest_gap_over_interval"] < 1.01  # reached, never passed
    assert politeness["starts_at_the_limit"] > 0
    for host in politeness["busiest_hosts"]:
        assert host["requests_per_s"] <= host["limit_per_s"]


def test_the_same_seed_gives_the_same_crawl_in_both_modes(
    bench: dict[str, ModuleType], small: Any
) -> None:
    simulate = bench["simulate"].simulate
    smaller = replace(small, web=replace(small.web, hosts=60, largest_host=100))
    parsed = simulate(smaller, probe=False)
    assert _deterministic(simulate(smaller, probe=False)) == _deterministic(parsed)
    html = simulate(replace(smaller, mode="html"), probe=False)
    assert html["digest"] == parsed["digest"]
    assert html["ledger"] == parsed["ledger"]
    assert html["rows"][-1]["cost"]["prepare"]["calls"] > 0
    other_seed = replace(smaller, web=replace(smaller.web, seed=6))
    assert simulate(other_seed, probe=False)["digest"] != parsed["digest"]


def test_a_crawl_stops_at_its_last_checkpoint_and_balances(
    bench: dict[str, ModuleType], small: Any
) -> None:
    calls: list[CrawlConfig] = []

    def factory(config: CrawlConfig) -> Frontier:
        calls.append(config)
        interval = 1 / config.rate if config.rate else 0.0
        return MemoryFrontier(config.traps, interval=interval, concurrency=2)

    settings = replace(
        small,
        web=replace(small.web, hosts=100_000, largest_host=10_000),
        checkpoints=(300, 1000),
        probe_urls=300,
        probe_hosts=50,
    )
    result = bench["simulate"].simulate(settings, factory)
    assert result["end"] == "last checkpoint reached"
    assert [row["checkpoint"] for row in result["rows"]] == ["300", "1,000"]
    assert result["rows"][1]["admitted"] >= 1000
    ledger = result["ledger"]
    assert ledger["balance"] == 0
    assert ledger["queued"] > 0
    assert ledger["not_ended"] == ledger["queued"] + ledger["in_flight"]
    assert ledger["ended_twice_or_unknown"] == 0
    assert sum(result["politeness"]["violations"].values()) == 0
    row = result["rows"][1]
    assert row["frontier_calls_per_page"] > 0
    assert {"offer", "take", "finish"} <= set(row["frontier_calls_by_name_per_page"])
    assert row["cost"]["fetch_decision"]["median_us"] > 0
    assert len(calls) == 1 + 2  # the crawl, and the memory probe's two schedulers
    probe = result["memory_probe"]
    assert probe["bytes_per_queued_url"] > probe["bytes_per_fetched_url"] > 0
    assert probe["bytes_per_host_robots_decided"] > 0


def test_the_politeness_check_sees_a_broken_rule(bench: dict[str, ModuleType]) -> None:
    simweb = bench["simweb"]
    web = simweb.SimWeb(simweb.WebParams(hosts=10, largest_host=10))
    config = CrawlConfig(seeds=(web.url(1, 0),), rate=2.0, host_concurrency=1)
    check = bench["simcheck"].PolitenessCheck(web, config)
    url = web.url(1, 0)
    fetch = Fetch(1, url, url, FetchKind.PAGE, 0, None, 1, 1024)
    check.started(1, fetch, 0.0)  # robots.txt never answered
    check.started(1, fetch, 0.1)  # too soon, and two in flight
    assert check.violations == {"robots_first": 2, "interval": 1, "concurrency": 1}


def test_main_prints_a_table_and_writes_json(
    bench: dict[str, ModuleType], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sim.json"
    args = [*TINY, "--checkpoints", "200,500", "--no-probe", "--quiet", "--json", str(out)]
    assert bench["simulate"].main(args) == 0
    table = capsys.readouterr().out
    assert "politeness: 0 violations" in table
    assert "take µs" in table
    figures = json.loads(out.read_text())
    assert [row["checkpoint"] for row in figures["rows"]] == ["200", "500"]
    assert figures["command"].endswith("--json " + str(out))
    with pytest.raises(SystemExit) as exited:
        bench["simulate"].main(["--mode", "xml"])
    assert exited.value.code == 2
    with pytest.raises(SystemExit) as exited:
        bench["simulate"].main(["--frontier", "nowhere"])
    assert exited.value.code == 2
