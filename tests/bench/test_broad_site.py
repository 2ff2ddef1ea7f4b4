"""The broad site's shape and the politeness audit of bench/ (stdlib only, loaded by path)."""

from __future__ import annotations

import importlib.util
import re
import sys
from collections import deque
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def broad() -> ModuleType:
    return _load("broad_site")


@pytest.fixture(scope="module")
def politeness() -> ModuleType:
    return _load("politeness")


def test_sizes_follow_zipf(broad: ModuleType) -> None:
    site = broad.BroadSite(hosts=1000, largest=20_000, exponent=1.0)
    assert site.sizes[:4] == (20_000, 10_000, 6_667, 5_000)
    assert site.sizes[-1] == 20
    assert site.total_pages == sum(site.sizes)
    assert len({broad.address(host) for host in range(1000)}) == 1000


def test_every_page_of_a_host_is_reachable_from_its_home_page(broad: ModuleType) -> None:
    site = broad.BroadSite(hosts=20, largest=300, exponent=1.0, port=8000)
    for host in (0, 7, 19):
        seen, queue, other_hosts = {0}, deque([0]), 0
        while queue:
            html = site.page(host, queue.popleft()).decode()
            hrefs = re.findall(r'href="([^"]+)"', html)
            assert len(hrefs) == site.links or site.sizes[host] == 1
            for href in hrefs:
                if href.startswith("http://"):
                    other_hosts += 1
                    assert f"{site.origin(host)}/" not in href
                    continue
                page = site.page_index(href)
                assert page is not None
                assert page < site.sizes[host]
                if page not in seen:
                    seen.add(page)
                    queue.append(page)
        assert seen == set(range(site.sizes[host]))
        assert other_hosts == site.sizes[host]  # one link per page leaves the host


@pytest.mark.parametrize(
    ("arrivals", "early", "crowded"),
    [
        ([(0.0, 1), (0.5, 1), (1.0, 1), (1.5, 1)], 0, 0),  # exactly 2 a second
        ([(0.0, 1), (0.47, 1), (0.97, 1)], 0, 0),  # within the 0.05 s slack
        ([(0.0, 1), (0.47, 1), (0.94, 1)], 1, 0),  # 0.47 s apart adds up: 3 in 0.94 s
        ([(0.0, 1), (0.3, 1)], 1, 0),  # the second came 0.2 s early
        ([(0.0, 1), (0.5, 1), (0.9, 1), (1.0, 1)], 2, 0),  # four within a second
        ([(0.0, 1), (0.6, 2), (1.2, 3)], 0, 1),  # a third connection
    ],
)
def test_audit_counts_each_broken_rule(
    politeness: ModuleType, arrivals: list[tuple[float, int]], early: int, crowded: int
) -> None:
    log = [politeness.Arrival(3, at, in_flight) for at, in_flight in arrivals]
    found = politeness.audit(log, rate=2.0, per_host=2)
    assert (found.early, found.crowded) == (early, crowded)
    assert found.violations == early + crowded  # no request here breaks both rules
    assert found.hosts == (1 if early or crowded else 0)


def test_hosts_are_audited_apart(politeness: ModuleType) -> None:
    log = [politeness.Arrival(host, 0.0, 1) for host in range(100)]
    assert politeness.audit(log, rate=2.0, per_host=2).violations == 0


def test_read_log_starts_at_an_offset_and_skips_a_torn_line(
    politeness: ModuleType, tmp_path: Path
) -> None:
    log = tmp_path / "arrivals.log"
    log.write_text("0 1.0 1\n1 2.0 1\n")
    offset = log.stat().st_size
    with log.open("a") as more:
        more.write("2 3.0 2\n3 4.")
    assert politeness.read_log(log, offset) == [politeness.Arrival(2, 3.0, 2)]


def test_ideal_pages_stop_where_hosts_run_dry(politeness: ModuleType) -> None:
    assert politeness.ideal_pages([20_000, 20], rate=2.0, seconds=20.0) == 60.0
