"""Spider-trap guards, rule by rule."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spindle.crawl.core.config import TrapLimits
from spindle.crawl.core.traps import TrapGuard, counted_under, repeated_run
from spindle.crawl.core.values import TrapTally


@pytest.mark.parametrize(
    ("path", "repeats", "expected"),
    [
        ("a/b/a/b/a/b", 2, True),
        ("a/b/a/b", 2, False),
        ("x/a/a/a/y", 2, True),
        ("a/a/ab", 2, False),
        ("2024/01/2024/01/2024/01", 2, True),
        ("a/b/c/a/b/c/a/b/c", 2, True),
        ("a/b/c/a/b/c/a/b", 2, False),
        ("a/a", 1, True),
        ("a/b/a", 1, False),
    ],
)
def test_repeated_run(path: str, repeats: int, expected: bool) -> None:
    assert repeated_run(path.split("/"), repeats) is expected


@given(st.lists(st.sampled_from("abc"), max_size=12), st.integers(1, 3))
def test_repeated_run_matches_a_regex_oracle(segments: list[str], repeats: int) -> None:
    import re

    path = "".join(f"/{s}" for s in segments)
    pattern = r"((?:/[^/]+)+?)\1{" + str(repeats) + r"}(?=/|$)"
    oracle = re.search(pattern, path) is not None
    assert repeated_run(segments, repeats) is oracle


@pytest.mark.parametrize(
    ("limits", "urls", "verdicts"),
    [
        (TrapLimits(max_url_length=30), ["http://a.test/" + "x" * 20], ["url_too_long"]),
        (
            TrapLimits(max_path_depth=2),
            ["http://a.test/a/b", "http://a.test/a/b/c"],
            [None, "path_too_deep"],
        ),
        (
            TrapLimits(max_query_variants=2),
            [
                "http://a.test/c?m=1",
                "http://a.test/c?m=2",
                "http://a.test/c?m=3",
                "http://a.test/d?m=3",
            ],
            [None, None, "query_variants", None],
        ),
        (
            TrapLimits(max_pages_per_host=2),
            ["http://a.test/1", "http://a.test/2", "http://a.test/3", "http://b.test/1"],
            [None, None, "host_page_cap", None],
        ),
        (TrapLimits(), ["http://a.test/a/b/a/b/a/b/"], ["repeated_path"]),
    ],
)
def test_guard_rules(limits: TrapLimits, urls: list[str], verdicts: list[str | None]) -> None:
    guard = TrapGuard(limits)
    found = [guard.check(url) for url in urls]
    assert [None if rule is None else rule.value for rule in found] == verdicts


@given(st.lists(st.sampled_from(["/a", "/b?x=1", "/b?x=2", "/b?x=3", "/c?y=1"]), max_size=30))
def test_a_guard_restored_from_a_tally_judges_as_the_one_that_counted(paths: list[str]) -> None:
    """A store counts admitted URLs with counted_under() as the guard does, so a resumed crawl's
    guard refuses exactly what one guard over both runs would have."""
    limits = TrapLimits(max_query_variants=2, max_pages_per_host=12)
    urls = [f"http://a.test{path}{i}" for i, path in enumerate(paths)]
    half = len(urls) // 2
    whole, first = TrapGuard(limits), TrapGuard(limits)
    verdicts = [whole.check(url) for url in urls]
    hosts: dict[str, int] = {}
    variants: dict[str, int] = {}
    for url in urls[:half]:
        if first.check(url) is None:
            host, path = counted_under(url)
            hosts[host] = hosts.get(host, 0) + 1
            if path is not None:
                variants[path] = variants.get(path, 0) + 1
    assert first.tally() == TrapTally(hosts, variants)
    resumed = TrapGuard(limits, TrapTally(hosts, variants))
    assert [resumed.check(url) for url in urls[half:]] == verdicts[half:]


def test_limits_are_validated() -> None:
    with pytest.raises(ValueError, match="max_path_depth must be at least 1"):
        TrapLimits(max_path_depth=0)
