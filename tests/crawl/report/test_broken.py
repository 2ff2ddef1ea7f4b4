"""Broken URLs and who links to them: from outlinks with anchor texts, via redirects, by key,
and from ``parent`` when the crawl kept no links."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from spindle.crawl.core.urls import InvalidURL, canonicalize, normalize
from spindle.crawl.report import (
    BrokenLink,
    BrokenLinks,
    Outlink,
    Record,
    Referrer,
    ReferrerSource,
    build_report,
)
from spindle.crawl.report.broken import _is_own_key, _origin
from tests.crawl.report.records import ErrorKind, link, record, write_jsonl

HOME = "http://a.test/"
PAGE = "http://a.test/p"
GONE = "http://a.test/gone"
OLD = "http://a.test/old"
MOVED = "http://a.test/moved"
QUERY = "http://a.test/q?a=1&b=2"
LOOP = "http://a.test/loop"
SEED = "http://c.test/"


def _site(*, links: bool) -> list[dict[str, object]]:
    def out(*items: Outlink) -> list[Outlink] | None:
        return list(items) if links else None

    return [
        record(
            HOME,
            outlinks=out(
                link(GONE, "Gone"),
                link(PAGE, "A page"),
                link(GONE, "Gone"),
                link(OLD, "Old link"),
                link("http://b.test/", ""),
                link("http://a.test/q?b=2&a=1", "Query"),
            ),
        ),
        record(
            PAGE,
            depth=1,
            parent=HOME,
            outlinks=out(link(GONE, "Other text", nofollow=True), link(LOOP, "Loop")),
        ),
        record(GONE, 404, depth=1, parent=HOME, outlinks=out()),
        record(OLD, 301, depth=1, parent=HOME, outlinks=out()),
        record(MOVED, 410, depth=1, parent=OLD, redirect_chain=(OLD,), outlinks=out()),
        record(QUERY, 500, depth=1, parent=HOME, outlinks=out()),
        record(
            LOOP,
            302,
            depth=2,
            parent=PAGE,
            error=(ErrorKind.REDIRECT_LOOP, f"{LOOP} -> {LOOP}"),
            outlinks=out(),
        ),
        record(SEED, None, error=(ErrorKind.CONNECTION, "refused"), outlinks=out()),
    ]


def test_referrers_with_anchor_texts_from_outlinks(tmp_path: Path) -> None:
    _, broken = build_report(write_jsonl(tmp_path / "r.jsonl", _site(links=True)))
    links = ReferrerSource.OUTLINKS
    assert broken == (
        BrokenLink(
            GONE,
            404,
            None,
            None,
            links,
            (Referrer(HOME, "Gone", times=2), Referrer(PAGE, "Other text", nofollow=True)),
            links=3,
        ),
        BrokenLink(
            LOOP,
            302,
            "redirect_loop",
            f"{LOOP} -> {LOOP}",
            links,
            (Referrer(PAGE, "Loop"),),
            links=1,
        ),
        BrokenLink(MOVED, 410, None, None, links, (Referrer(HOME, "Old link", via=OLD),), 1),
        BrokenLink(QUERY, 500, None, None, links, (Referrer(HOME, "Query"),), 1),
        BrokenLink(SEED, None, "connection", "refused", ReferrerSource.NONE, (), 0),
    )


def test_without_outlinks_the_parent_stands_in_with_unknown_text(tmp_path: Path) -> None:
    _, broken = build_report(write_jsonl(tmp_path / "r.jsonl", _site(links=False)))
    parent = ReferrerSource.PARENT
    assert [(b.url, b.source, b.referrers, b.links) for b in broken] == [
        (GONE, parent, (Referrer(HOME, None),), 1),
        (LOOP, parent, (Referrer(PAGE, None),), 1),
        (MOVED, parent, (Referrer(OLD, None),), 1),
        (QUERY, parent, (Referrer(HOME, None),), 1),
        (SEED, ReferrerSource.NONE, (), 0),
    ]


def test_a_broken_url_no_outlink_reaches_falls_back_to_its_parent() -> None:
    finder = BrokenLinks()
    finder.add(Record(HOME, 200, outlinks=()))
    finder.add(Record(GONE, 404, parent=HOME))
    assert finder.wants_scan
    finder.scan(Record(HOME, 200, outlinks=()))
    (gone,) = finder.result()
    assert (gone.source, gone.referrers) == (ReferrerSource.PARENT, (Referrer(HOME, None),))


def test_referrers_beyond_the_cap_are_counted_not_kept() -> None:
    finder = BrokenLinks(max_referrers=2)
    finder.add(Record(GONE, 404))
    for n in range(5):
        finder.scan(Record(f"http://a.test/{n}", 200, outlinks=(Outlink(GONE, "x", False),) * 2))
    (gone,) = finder.result()
    assert gone.referrers == (
        Referrer("http://a.test/0", "x", times=2),
        Referrer("http://a.test/1", "x", times=2),
    )
    assert gone.links == 10


def test_the_cap_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_referrers must be at least 1, got 0"):
        BrokenLinks(max_referrers=0)


@pytest.mark.parametrize("order", ["redirect first", "own record first"])
def test_a_broken_urls_own_record_wins_over_a_redirect_through_it(order: str) -> None:
    through = Record(OLD, 302, error_kind="redirect_loop")
    target = Record(MOVED, 404, redirect_chain=(OLD,))
    finder = BrokenLinks()
    for item in (target, through) if order == "redirect first" else (through, target):
        finder.add(item)
    finder.scan(Record(HOME, 200, outlinks=(Outlink(OLD, "old", False),)))
    referrers = {b.url: b.referrers for b in finder.result()}
    assert referrers[OLD] == (Referrer(HOME, "old"),)
    assert referrers[MOVED] == ()


@pytest.mark.parametrize(
    ("fetched", "linked"),
    [
        ("http://a.test/q?a=1&b=2", "http://a.test/q?b=2&a=1"),
        ("http://a.test/caf%C3%A9?x=%7E", "http://a.test/caf%c3%a9?x=~"),
        ("http://a.test/~u/x", "http://a.test/%7Eu/x"),
        ("http://a.test/x", "http://a.test/x;"),
    ],
)
def test_links_match_by_the_crawls_key(fetched: str, linked: str) -> None:
    assert canonicalize(fetched) == canonicalize(linked)
    finder = BrokenLinks()
    finder.add(Record(fetched, 404))
    finder.scan(Record(HOME, 200, outlinks=(Outlink(linked, "t", False),)))
    (broken,) = finder.result()
    assert broken.referrers == (Referrer(HOME, "t"),)


def test_nothing_to_scan_without_broken_urls_or_without_outlinks() -> None:
    healthy = BrokenLinks()
    healthy.add(Record(HOME, 200, outlinks=(Outlink(GONE, "x", False),)))
    assert not healthy.wants_scan
    unlinked = BrokenLinks()
    unlinked.add(Record(GONE, 404))
    assert not unlinked.wants_scan


def test_a_record_listed_twice_counts_once() -> None:
    finder = BrokenLinks()
    finder.add(Record(GONE, 404, parent=HOME))
    finder.add(Record(GONE, 404, parent=PAGE))
    (gone,) = finder.result()
    assert gone.referrers == (Referrer(HOME, None),)


# The matching above skips keying where the key cannot differ; these are the rules it relies on.
_HREF = st.text(
    st.sampled_from("ab~%7E3;?=&/.\\é#: "),
    max_size=16,
)


@given(st.sampled_from(["http://a.test/", "https://A.test:8443/", "http://[::1]:81/"]), _HREF)
@example("http://a.test/", ".\\x")  # a backslash leaves a dot segment in the request form
@example("http://a.test/", "x;")  # an empty path parameter
@example("http://a.test/", "%7e?b=1&a=2")
def test_keys_keep_the_origin_and_own_key_paths(base: str, href: str) -> None:
    try:
        url = normalize(base + href)
        key = canonicalize(url)
    except InvalidURL:
        return
    assert _origin(key) == _origin(url)
    path = url.partition("?")[0]
    if _is_own_key(path):
        assert key.partition("?")[0] == path
    if _is_own_key(url):
        assert key == url
