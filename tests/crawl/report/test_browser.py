"""The HTML report in a real browser: Debian's Chromium, headless, offline, reading file://.

The DOM is read back after Chromium parsed the page and ran whatever it would run, so these
tests see what a reader sees: the broken links and their referrers, the charts' bars, and
that text from hostile pages stayed text instead of running.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import pytest

from spindle.crawl.report import write_html_report
from tests.crawl.report.dom import bars, broken_rows, parse, text_of
from tests.crawl.report.records import ErrorKind, record, write_jsonl
from tests.crawl.report.test_broken import GONE, HOME, LOOP, MOVED, OLD, PAGE, QUERY, SEED, _site
from tests.support.chromium import CHROMIUM, dump_dom, screenshot

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)"
)

# Each payload, if it ever ran, would rename the page and add an element with id "pwned".
RUN = 'document.title="pwned";document.body.insertAdjacentHTML("beforeend","<p id=pwned></p>")'
SCRIPT = f"<script>{RUN}</script>"
IMG = f"<img src=x onerror='{RUN}'>"
EVIL_URL = f'http://a.test/"><script>{RUN}</script>'
TITLE = "Crawl of a.test"


def _records() -> list[dict[str, object]]:
    site = _site(links=True)
    home: dict[str, Any] = site[0]
    home["title"] = SCRIPT
    home["outlinks"].append({"url": EVIL_URL, "text": IMG, "nofollow": False})
    return [
        *site,
        record(EVIL_URL, 404, depth=1, parent=HOME, outlinks=[]),
        record(
            "http://a.test/crash",
            None,
            depth=1,
            parent=HOME,
            error=(ErrorKind.CRASH, f"</td></tr></table>{SCRIPT}{IMG}"),
            outlinks=[],
        ),
    ]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("browser")
    records = write_jsonl(directory / "crawl.jsonl", _records())
    page = directory / "crawl.html"
    write_html_report(records, page, title=TITLE)
    return page


@pytest.fixture(scope="module")
def shown(report: Path) -> str:
    return dump_dom(report)


def test_scripts_do_run_in_this_harness(tmp_path: Path) -> None:
    # Without this, "nothing ran" below could pass because the browser runs nothing.
    page = tmp_path / "control.html"
    page.write_text(f"<!DOCTYPE html><title>control</title><body><p>x</p>{SCRIPT}{IMG}</body>")
    dom = parse(dump_dom(page))
    assert text_of(dom.css_first("title")) == "pwned"
    assert dom.css_first("#pwned") is not None


def test_nothing_from_the_records_ran(shown: str) -> None:
    dom = parse(shown)
    assert text_of(dom.css_first("title")) == TITLE
    assert dom.css_first("#pwned") is None
    assert dom.css("script, img, iframe, object, embed") == []


def test_the_broken_links_section_lists_urls_referrers_and_anchor_texts(shown: str) -> None:
    dom = parse(shown)
    assert text_of(dom.css_first("#broken-links h2")) == "Broken links (7)"
    assert broken_rows(dom) == [
        (EVIL_URL, ((HOME, IMG),)),
        ("http://a.test/crash", ((HOME, "unknown first found here"),)),
        (GONE, ((HOME, "Gone ×2"), (PAGE, "Other text nofollow"))),
        (LOOP, ((PAGE, "Loop"),)),
        (MOVED, ((HOME, f"Old link via {OLD}"),)),
        (QUERY, ((HOME, "Query"),)),
        (SEED, ()),
    ]
    crash = dom.css_first('tbody[data-url="http://a.test/crash"] td.problem')
    assert text_of(crash) == f"crash: </td></tr></table>{SCRIPT}{IMG}"
    assert dom.css_first("#links-note") is None


def test_the_charts_have_their_bars(shown: str) -> None:
    dom = parse(shown)
    assert bars(dom, "statuses") == [
        ("200", 2),
        ("301", 1),
        ("302", 1),
        ("404", 2),
        ("410", 1),
        ("500", 1),
        ("no answer: connection", 1),
        ("no answer: crash", 1),
    ]
    assert bars(dom, "content-types") == [("text/html", 8)]
    assert bars(dom, "depths") == [("0", 2), ("1", 7), ("2", 1)]
    assert len(bars(dom, "response-times")) == 11
    for chart in ("statuses", "content-types", "depths", "response-times"):
        svg = dom.css_first(f"#{chart} svg#chart-{chart}")
        assert svg is not None
        assert len(svg.css("rect")) == len(svg.css("g.bar")) > 0


def test_the_totals(shown: str) -> None:
    dom = parse(shown)
    assert text_of(dom.css_first("#total-records")) == "10"
    assert text_of(dom.css_first("#total-broken")) == "7 4xx, 5xx, failed or in error"
    assert text_of(dom.css_first("h1")) == TITLE


def test_a_screenshot_renders(report: Path, tmp_path: Path) -> None:
    png = tmp_path / "report.png"
    screenshot(report, png, width=1000, height=1400)
    header = png.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", header[16:24]) == (1000, 1400)
