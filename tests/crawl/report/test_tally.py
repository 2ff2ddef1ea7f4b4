"""The report's figures: totals, status and content-type buckets, histograms, slowest pages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from spindle.crawl.report import Bar, Record, SlowPage, Tally
from spindle.crawl.report.tally import DEPTH_BARS, TIME_LABELS
from tests.crawl.report.records import ErrorKind, SkipReason


def _tally(*records: Record) -> Tally:
    tally = Tally()
    for item in records:
        tally.add(item)
    return tally


def _fetched(url: str, status: int | None = 200, **fields: Any) -> Record:
    fields.setdefault("fetched_at", "2023-11-14T22:13:20.000Z")
    return Record(url, status, **fields)


MIXED = (
    _fetched("http://a/1", 200, content_type="text/html; charset=utf-8", bytes=100),
    _fetched("http://a/2", 200, content_type="TEXT/HTML", bytes=50),
    _fetched("http://a/3", 301, content_type=None),
    _fetched("http://a/4", 404, content_type="text/html", bytes=7),
    _fetched("http://a/5", 503, content_type="text/plain", error_kind=ErrorKind.HTTP_STATUS.value),
    _fetched("http://a/6", None, error_kind=ErrorKind.TIMEOUT.value, elapsed_ms=10_000.0),
    _fetched("http://a/7", None, error_kind=ErrorKind.DNS.value),
    Record("http://a/8", None, error_kind=SkipReason.ROBOTS.value),  # a seed never fetched
)


def test_totals() -> None:
    overview = _tally(*MIXED).overview()
    assert (overview.records, overview.fetched, overview.failed) == (8, 5, 3)
    assert overview.errors == 4  # three without an answer, and the 503 in error
    assert overview.broken == 5  # 404, 503, and the three without an answer
    assert overview.bytes == 157
    assert not overview.links_collected


def test_status_buckets_by_code_then_failures_by_kind() -> None:
    assert _tally(*MIXED).overview().statuses == (
        Bar("200", 2, "ok"),
        Bar("301", 1, "redirect"),
        Bar("404", 1, "client"),
        Bar("503", 1, "server"),
        Bar("no answer: dns", 1, "failed"),
        Bar("no answer: robots", 1, "failed"),
        Bar("no answer: timeout", 1, "failed"),
    )


def test_a_failure_without_kind_and_odd_statuses() -> None:
    bars = _tally(Record("http://a/", None), Record("http://b/", 101), Record("http://c/", 999))
    assert bars.overview().statuses == (
        Bar("101", 1, "plain"),
        Bar("999", 1, "plain"),
        Bar("no answer", 1, "failed"),
    )


def test_content_types_by_media_type_over_answered_records() -> None:
    assert _tally(*MIXED).overview().content_types == (
        Bar("text/html", 3),
        Bar("(none)", 1),
        Bar("text/plain", 1),
    )


def test_content_types_beyond_ten_share_one_bar() -> None:
    records = [Record(f"http://a/{n}", 200, content_type=f"x/t{n:02}") for n in range(13)]
    records += [Record("http://a/x", 200, content_type="x/t12")]
    bars = _tally(*records).overview().content_types
    assert bars[0] == Bar("x/t12", 2)
    assert [bar.label for bar in bars[1:10]] == [f"x/t{n:02}" for n in range(9)]
    assert bars[10] == Bar("other (3 types)", 3)
    assert len(bars) == 11


def test_depths_have_no_gaps() -> None:
    records = [Record("http://a/", 200, depth=d) for d in (0, 2, 2, 5)]
    assert _tally(*records).overview().depths == (
        Bar("0", 1),
        Bar("1", 0),
        Bar("2", 2),
        Bar("3", 0),
        Bar("4", 0),
        Bar("5", 1),
    )


def test_deep_records_share_the_last_depth_bar() -> None:
    records = [Record("http://a/", 200, depth=d) for d in (0, DEPTH_BARS - 2, DEPTH_BARS, 10_000)]
    bars = _tally(*records).overview().depths
    assert len(bars) == DEPTH_BARS
    assert bars[-2] == Bar(str(DEPTH_BARS - 2), 1)
    assert bars[-1] == Bar(f"{DEPTH_BARS - 1}+", 2)


def test_response_time_buckets_include_their_lower_edge() -> None:
    times = (0.0, 9.9, 10.0, 24.9, 25.0, 999.9, 1_000.0, 9_999.9, 10_000.0, 120_000.0)
    records = [_fetched(f"http://a/{n}", elapsed_ms=ms) for n, ms in enumerate(times)]
    records.append(Record("http://a/never", None, elapsed_ms=50.0))  # never fetched: not timed
    bars = _tally(*records).overview().response_times
    assert [bar.label for bar in bars] == list(TIME_LABELS)
    assert TIME_LABELS == (
        "< 10 ms",
        "10–25 ms",
        "25–50 ms",
        "50–100 ms",
        "100–250 ms",
        "250–500 ms",
        "0.5–1 s",
        "1–2.5 s",
        "2.5–5 s",
        "5–10 s",
        "≥ 10 s",
    )
    assert [bar.count for bar in bars] == [2, 2, 1, 0, 0, 0, 1, 1, 0, 1, 2]


def test_slowest_twenty_with_ties_in_url_order() -> None:
    records = [_fetched(f"http://a/{n:03}", elapsed_ms=float(n % 30)) for n in range(300)]
    records.append(Record("http://a/never", None, elapsed_ms=1e9))  # never fetched
    records.append(_fetched("http://a/timeout", None, elapsed_ms=29.5, error_kind="timeout"))
    slowest = _tally(*records).overview().slowest
    assert len(slowest) == 20
    assert slowest[0] == SlowPage("http://a/timeout", 29.5, None, "timeout")
    # 29 ms: n = 29, 59, ..., 299 (ten pages); then 28 ms: n = 28, 58, ... (the first nine)
    assert [page.url for page in slowest[1:11]] == [f"http://a/{n:03}" for n in range(29, 300, 30)]
    assert [page.url for page in slowest[11:]] == [f"http://a/{n:03}" for n in range(28, 298, 30)][
        :9
    ]
    assert {page.elapsed_ms for page in slowest[11:]} == {28.0}


def test_time_span_reads_zones_and_naive_times_as_utc() -> None:
    records = [
        _fetched("http://a/1", fetched_at="2023-11-14T22:13:20.000Z"),
        _fetched("http://a/2", fetched_at="2023-11-14T23:13:21+01:00"),  # 22:13:21 UTC
        _fetched("http://a/3", fetched_at="2023-11-14T22:13:19.500"),  # no zone: UTC
        Record("http://a/4", None),
    ]
    overview = _tally(*records).overview()
    assert overview.first_fetch == datetime(2023, 11, 14, 22, 13, 19, 500_000, tzinfo=UTC)
    assert overview.last_fetch == datetime(2023, 11, 14, 22, 13, 21, tzinfo=UTC)


def test_nothing_fetched() -> None:
    overview = _tally().overview()
    assert (overview.records, overview.first_fetch, overview.last_fetch) == (0, None, None)
    assert overview.statuses == overview.content_types == overview.depths == ()
    assert overview.slowest == ()
    assert [bar.count for bar in overview.response_times] == [0] * len(TIME_LABELS)


def test_links_collected_when_any_record_lists_outlinks() -> None:
    assert (
        _tally(Record("http://a/", 200), Record("http://b/", 200, outlinks=()))
        .overview()
        .links_collected
    )


records_strategy = st.lists(
    st.builds(
        Record,
        url=st.just("http://a/"),
        status=st.none() | st.integers(100, 599),
        depth=st.integers(0, 40),
        elapsed_ms=st.floats(0, 1e6),
        fetched_at=st.none() | st.just("2023-11-14T22:13:20Z"),
        content_type=st.none() | st.sampled_from(["text/html", "a/b", "c/d; x=y"]),
        error_kind=st.none() | st.sampled_from(["timeout", "dns"]),
    ),
    max_size=60,
)


@given(records_strategy)
def test_every_record_is_in_each_chart_once(records: list[Record]) -> None:
    overview = _tally(*records).overview()
    assert sum(bar.count for bar in overview.statuses) == len(records)
    assert sum(bar.count for bar in overview.depths) == len(records)
    assert sum(bar.count for bar in overview.content_types) == overview.fetched
    assert sum(bar.count for bar in overview.response_times) == sum(r.attempted for r in records)
    assert overview.broken == sum(r.broken for r in records)
    assert len(overview.slowest) == min(20, sum(r.attempted for r in records))
