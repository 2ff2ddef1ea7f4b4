"""The HTML page: what it shows, that it needs nothing outside itself, and that text from
records stays text."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest

from spindle.crawl.report import ReportInputError, ReportSummary, write_html_report
from tests.crawl.report.dom import bars, broken_rows, cells, parse, text_of
from tests.crawl.report.records import T0, ErrorKind, SkipReason, link, record, write_jsonl
from tests.crawl.report.test_broken import GONE, HOME, LOOP, MOVED, OLD, PAGE, QUERY, SEED, _site


def _page(tmp_path: Path, records: list[dict[str, object]], **options: object) -> str:
    out = io.StringIO()
    write_html_report(write_jsonl(tmp_path / "crawl.jsonl", records), out, **options)  # type: ignore[arg-type]
    return out.getvalue()


def test_broken_links_with_linking_pages_and_anchor_texts(tmp_path: Path) -> None:
    page = parse(_page(tmp_path, _site(links=True)))
    assert broken_rows(page) == [
        (GONE, ((HOME, "Gone ×2"), (PAGE, "Other text nofollow"))),
        (LOOP, ((PAGE, "Loop"),)),
        (MOVED, ((HOME, f"Old link via {OLD}"),)),
        (QUERY, ((HOME, "Query"),)),
        (SEED, ()),
    ]
    assert page.css_first("#links-note") is None
    seed = page.css("#broken-links tbody.broken")[-1]
    assert text_of(seed.css_first("td.referrer")) == "nothing links to it in these records (a seed)"
    assert text_of(seed.css_first("td.problem")) == "connection: refused"
    assert text_of(seed.css_first("td.status")) == "no answer"
    gone = page.css("#broken-links tbody.broken")[0]
    assert text_of(gone.css_first("td.problem")) == "Not Found"
    assert gone.css_first("td.target").attributes["rowspan"] == "2"
    assert text_of(page.css_first("#broken-links h2")) == "Broken links (5)"


def test_without_links_the_page_says_anchor_texts_are_unknown(tmp_path: Path) -> None:
    page = parse(_page(tmp_path, _site(links=False)))
    unknown = "unknown first found here"
    assert broken_rows(page) == [
        (GONE, ((HOME, unknown),)),
        (LOOP, ((PAGE, unknown),)),
        (MOVED, ((OLD, unknown),)),
        (QUERY, ((HOME, unknown),)),
        (SEED, ()),
    ]
    assert "did not collect links" in text_of(page.css_first("#links-note"))
    assert "--links" in text_of(page.css_first("#links-note"))


def test_links_beyond_the_cap_are_announced(tmp_path: Path) -> None:
    records = [record(GONE, 404)]
    records += [record(f"http://a.test/{n}", outlinks=[link(GONE, f"t{n}")]) for n in range(5)]
    page = parse(_page(tmp_path, records, max_referrers=2))
    (row,) = broken_rows(page)
    assert row == (GONE, (("http://a.test/0", "t0"), ("http://a.test/1", "t1")))
    assert text_of(page.css_first("td.more")) == "and 3 more links not shown"


def test_totals(tmp_path: Path) -> None:
    records = [
        record(HOME, size=421_514, fetched_at=T0),
        record(GONE, 404, size=6, fetched_at=T0 + 192.5),
        record(SEED, None, error=(ErrorKind.DNS, "no such host"), fetched_at=None),
    ]
    page = parse(_page(tmp_path, records))
    totals = {node.attributes["id"]: text_of(node) for node in page.css("#summary dl.totals dd")}
    assert totals == {
        "total-records": "3",
        "total-fetched": "2 with an HTTP answer",
        "total-errors": "1 1 without answer",
        "total-broken": "2 4xx, 5xx, failed or in error",
        "total-bytes": "421.5 kB 421,520 bytes",
        "time-span": "3 min 12 s 2023-11-14 22:13:20 to 22:16:32 UTC",
    }
    assert text_of(page.css_first("h1")) == "Crawl report: crawl.jsonl"
    assert text_of(page.css_first("title")) == "Crawl report: crawl.jsonl"


def test_charts_have_one_bar_per_bucket(tmp_path: Path) -> None:
    records = [
        record(HOME, depth=0, elapsed_ms=3.0),
        record(PAGE, depth=2, elapsed_ms=30.0, content_type="text/html; charset=utf-8"),
        record(GONE, 404, depth=2, elapsed_ms=300.0, content_type="application/pdf"),
        record(SEED, None, error=(SkipReason.ROBOTS, "disallowed"), fetched_at=None),
    ]
    page = parse(_page(tmp_path, records))
    assert bars(page, "statuses") == [("200", 2), ("404", 1), ("no answer: robots", 1)]
    assert bars(page, "content-types") == [("text/html", 2), ("application/pdf", 1)]
    assert bars(page, "depths") == [("0", 2), ("1", 0), ("2", 2)]
    times = bars(page, "response-times")
    assert len(times) == 11
    assert [count for _, count in times] == [1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0]
    status_bars = page.css("svg#chart-statuses g.bar")
    assert [bar.attributes["class"] for bar in status_bars] == [
        "bar tone-ok",
        "bar tone-client",
        "bar tone-failed",
    ]
    assert text_of(status_bars[0].css_first("text.label")) == "200"
    assert text_of(status_bars[0].css_first("text.count")) == "2 (50.0%)"
    slowest = page.css("#slowest-table tbody tr")
    assert [cells(row) for row in slowest] == [
        ["1", "300.0 ms", "404", GONE],
        ["2", "30.0 ms", "200", PAGE],
        ["3", "3.0 ms", "200", HOME],
    ]


def test_an_empty_crawl_still_makes_a_page(tmp_path: Path) -> None:
    out = io.StringIO()
    path = tmp_path / "crawl.jsonl"
    path.write_bytes(b"")
    summary = write_html_report(path, out, title="Nothing")
    assert summary == ReportSummary(0, 0, 0, 0, 0, links_collected=False)
    page = parse(out.getvalue())
    assert page.css("svg") == []
    assert text_of(page.css_first("#statuses p.empty")) == "No records."
    assert text_of(page.css_first("#response-times p.empty")) == "Nothing was fetched."
    assert text_of(page.css_first("#slowest p.empty")) == "Nothing was fetched."
    assert text_of(page.css_first("#broken-links p.empty")) == "No broken links."
    assert text_of(page.css_first("#time-span")) == "none nothing was fetched"


HOSTILE = '<script>document.title="pwned";document.body.append("pwned")</script>'
IMG = "<img src=x onerror=\"document.title='pwned'\">"


def hostile_records() -> list[dict[str, object]]:
    """Records whose every text field a stranger's page could have set, each trying to run."""
    evil_url = 'http://a.test/"><script>document.title="pwned"</script>'
    return [
        record(
            HOME,
            title=HOSTILE,
            content_type=f"text/html{IMG}",
            outlinks=[link(GONE, HOSTILE), link(evil_url, IMG)],
        ),
        record(GONE, 404, parent=HOME, outlinks=[]),
        record(evil_url, 404, parent=HOME, outlinks=[]),
        record(
            "http://a.test/err",
            None,
            parent="javascript:document.title='pwned'",
            error=(ErrorKind.CRASH, f"</td></tr></table>{HOSTILE}"),
        ),
    ]


def test_text_from_records_stays_text(tmp_path: Path) -> None:
    html = _page(tmp_path, hostile_records(), title=f"Report {HOSTILE}")
    page = parse(html)
    assert page.css("script, img, iframe, object, embed") == []
    assert text_of(page.css_first("title")) == f"Report {HOSTILE}"
    assert text_of(page.css_first("h1")) == f"Report {HOSTILE}"
    rows = dict(broken_rows(page))
    assert rows[GONE] == ((HOME, HOSTILE),)
    evil = 'http://a.test/"><script>document.title="pwned"</script>'
    assert rows[evil] == ((HOME, IMG),)
    assert rows["http://a.test/err"] == (
        ("javascript:document.title='pwned'", "unknown first found here"),
    )
    problem = page.css_first('tbody[data-url="http://a.test/err"] td.problem')
    assert text_of(problem) == f"crash: </td></tr></table>{HOSTILE}"
    assert ("text/html" + IMG, 1) in bars(page, "content-types")
    # Only http(s) URLs are links; the javascript: parent is text.
    hrefs = [node.attributes["href"] or "" for node in page.css("a[href]")]
    assert all(h.startswith(("#", "http://", "https://")) for h in hrefs), hrefs
    assert evil in hrefs


def test_the_page_needs_nothing_outside_itself(tmp_path: Path) -> None:
    html = _page(tmp_path, _site(links=True))
    assert not re.search(r"<script|<link|<iframe|<img|\ssrc=|url\(|@import", html, re.I)
    csp = parse(html).css_first('meta[http-equiv="Content-Security-Policy"]')
    assert csp is not None
    assert csp.attributes["content"] == (
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
    )
    assert html.startswith("<!DOCTYPE html>\n")


def test_the_same_records_give_the_same_bytes(tmp_path: Path) -> None:
    first = _page(tmp_path, _site(links=True))
    assert _page(tmp_path, _site(links=True)) == first


def test_writing_to_a_path(tmp_path: Path) -> None:
    records = write_jsonl(tmp_path / "crawl.jsonl", _site(links=True))
    summary = write_html_report(records, tmp_path / "crawl.html")
    assert summary == ReportSummary(
        records=8, fetched=7, errors=2, broken=5, links_to_broken=6, links_collected=True
    )
    assert (tmp_path / "crawl.html").read_text(encoding="utf-8") == _page(
        tmp_path, _site(links=True)
    )


def test_a_bad_line_leaves_the_output_untouched(tmp_path: Path) -> None:
    path = tmp_path / "crawl.jsonl"
    path.write_text('{"url": "http://a/", "status": 200}\n{"url": "http://a/"}\n')
    out = io.StringIO()
    with pytest.raises(ReportInputError, match=r"crawl.jsonl:2: the record has no 'status'"):
        write_html_report(path, out)
    assert out.getvalue() == ""
    with pytest.raises(ReportInputError):
        write_html_report(path, tmp_path / "crawl.html")
    assert not (tmp_path / "crawl.html").exists()


def test_a_pipe_is_refused_because_it_is_read_twice(tmp_path: Path) -> None:
    fifo = tmp_path / "records.fifo"
    os.mkfifo(fifo)
    with pytest.raises(ReportInputError) as caught:
        write_html_report(fifo, io.StringIO())
    assert str(caught.value) == f"{fifo}: not a regular file (it is read twice)"
