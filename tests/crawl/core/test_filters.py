"""URL filters: --include, --exclude, --no-parent, as decisions and inside a crawl."""

from __future__ import annotations

import pytest

from spindle.crawl.core import CrawlConfig, SkipReason
from spindle.crawl.core.filters import UrlFilters
from spindle.crawl.core.urls import canonicalize
from spindle.crawl.core.values import FilterRule, Link
from tests.crawl.core.harness import Harness, page

A = "http://a.test"


def link(url: str) -> Link:
    return Link(url, canonicalize(url))


@pytest.mark.parametrize(
    ("include", "exclude", "no_parent", "url", "verdict"),
    [
        ((), (), False, f"{A}/anything", None),
        ((r"/docs/",), (), False, f"{A}/docs/x", None),
        ((r"/docs/",), (), False, f"{A}/blog/x", FilterRule.INCLUDE),
        ((), (r"\.pdf$",), False, f"{A}/docs/a.pdf", FilterRule.EXCLUDE),
        ((r"/docs/",), (r"/docs/old/",), False, f"{A}/docs/old/x", FilterRule.EXCLUDE),
        ((), (r"a=1&b=2",), False, f"{A}/s?b=2&a=1", FilterRule.EXCLUDE),  # canonical URL
        ((), (), True, f"{A}/docs/sub/x", None),
        ((), (), True, f"{A}/docs", FilterRule.NO_PARENT),
        ((), (), True, f"{A}/other/", FilterRule.NO_PARENT),
        ((), (), True, "http://b.test/docs/x", FilterRule.NO_PARENT),
    ],
)
def test_filter_rules(
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    no_parent: bool,
    url: str,
    verdict: FilterRule | None,
) -> None:
    filters = UrlFilters.build(
        include=include, exclude=exclude, seeds=[f"{A}/docs/index.html"], no_parent=no_parent
    )
    assert filters.refuses(link(url)) is verdict


def test_a_bad_pattern_is_refused_when_the_crawl_is_configured() -> None:
    with pytest.raises(ValueError, match=r"--exclude '\(' is not a regular expression"):
        CrawlConfig(seeds=(f"{A}/",), exclude=("(",))


def test_filters_skip_found_urls_but_never_seeds() -> None:
    site = {
        f"{A}/docs/": [page("/docs/a", "/blog/b", "/docs/a.pdf", "/docs/a.pdf")],
        f"{A}/docs/a": [page()],
    }
    config = CrawlConfig(
        seeds=(f"{A}/docs/",),
        exclude=(r"\.pdf$", r"/docs/$"),
        no_parent=True,
        rate=0.0,
        obey_robots=False,
    )
    h = Harness(config, site).run()
    assert h.fetched() == [f"{A}/docs/", f"{A}/docs/a"]
    assert [(s.url, s.reason, s.rule) for s in h.skipped] == [
        (f"{A}/blog/b", SkipReason.FILTER, FilterRule.NO_PARENT),
        (f"{A}/docs/a.pdf", SkipReason.FILTER, FilterRule.EXCLUDE),
    ]
    assert h.scheduler.stats.filtered == {FilterRule.NO_PARENT: 1, FilterRule.EXCLUDE: 1}


def test_out_of_scope_links_are_skips_when_asked_for() -> None:
    site = {f"{A}/": [page("http://b.test/x", "http://b.test/x#y", "/in", "http://c.test/")]}
    quiet = Harness(CrawlConfig(seeds=(f"{A}/",), obey_robots=False, rate=0.0), site).run()
    assert quiet.skipped == []
    config = CrawlConfig(seeds=(f"{A}/",), obey_robots=False, rate=0.0, report_scope=True)
    h = Harness(config, site).run()
    assert [(s.url, s.reason, s.parent) for s in h.skipped] == [
        ("http://b.test/x", SkipReason.SCOPE, f"{A}/"),
        ("http://c.test/", SkipReason.SCOPE, f"{A}/"),
    ]


def test_a_crawl_stopped_at_its_page_limit_lists_what_was_left_as_budget_skips() -> None:
    site = {f"{A}/": [page("/a", "/b", "/c")]}
    config = CrawlConfig(seeds=(f"{A}/",), obey_robots=False, rate=0.0, max_pages=2)
    h = Harness(config, site).run()
    skips = [skip for changes in h.scheduler.finish() for skip in changes.skipped]
    assert [(s.url, s.reason) for s in skips] == [
        (f"{A}/b", SkipReason.BUDGET),
        (f"{A}/c", SkipReason.BUDGET),
    ]
    assert h.scheduler.queued == 2  # still queued, for a resumed run
