"""One crawl of the sample site with every output at once, each checked as its reader would:
``--warc`` by warcio check and pywb replay, ``--report`` in a real browser, ``--save-dir`` and
the records by exact comparison with what the server sends, ``--skips`` line by line."""

from __future__ import annotations

import hashlib
import re
import urllib.request
from pathlib import Path

import pytest

from spindle.sample_site import SiteSpec, serve_in_thread
from tests.crawl.e2e import read_jsonl, run_spindle
from tests.support.chromium import CHROMIUM, dump_dom
from tests.support.pywb import replayed, wayback
from tests.support.warc import assert_one_record_per_member, read_records, warcio_check

pytestmark = pytest.mark.slow


def _get(url: str) -> bytes:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=10) as answer:
        return bytes(answer.read())


@pytest.mark.skipif(CHROMIUM is None, reason="needs chromium (apt-get install chromium)")
def test_a_crawl_with_every_output(tmp_path: Path) -> None:
    warc, pages = tmp_path / "x.warc.gz", tmp_path / "pages"
    skips, report, out = tmp_path / "skips.jsonl", tmp_path / "report.html", tmp_path / "o.jsonl"
    with serve_in_thread(SiteSpec(pages=40)) as site:
        result = run_spindle(
            "crawl", f"{site.base_url}/", "--rate", "0", "--depth", "10",
            "--warc", str(warc), "--save-dir", str(pages), "--links", "--skips", str(skips),
            "--report", str(report), "--out", str(out),
        )  # fmt: skip
        assert result.returncode == 0, result.stderr.decode()
        records = read_jsonl(out)
        # The records and the page store against what the server sends now (it is
        # deterministic): every 2xx body saved byte for byte, sizes and digests exact.
        saved = [r for r in records if r["status"] == 200]
        assert len(saved) >= 40
        for record in records:
            if record["status"] != 200:
                assert record["file"] is None
                continue
            body = _get(record["url"])
            assert (pages / record["file"]).read_bytes() == body
            assert (record["bytes"], record["sha1"]) == (len(body), hashlib.sha1(body).hexdigest())
    assert sorted(p.relative_to(pages).as_posix() for p in pages.rglob("*") if p.is_file()) == (
        sorted(r["file"] for r in saved)
    )
    # The skips: the sample site's robots.txt forbids one page.
    robots_skips = [s["url"] for s in read_jsonl(skips) if s["reason"] == "robots"]
    assert robots_skips == [f"{site.base_url}/private/secret.html"]
    # The WARC: well formed, one gzip member a record, one response per fetched URL.
    warcio_check(warc)
    assert_one_record_per_member(warc)
    responses = [r for r in read_records(warc) if r.type == "response"]
    uris = [r.headers["WARC-Target-URI"] for r in responses]
    assert sorted(uris) == sorted([r["url"] for r in records] + [f"{site.base_url}/robots.txt"])
    # pywb replays a page with the body the server sent.
    home = next(r for r in responses if r.headers["WARC-Target-URI"] == f"{site.base_url}/")
    stamp = "".join(c for c in home.headers["WARC-Date"] if c.isdigit())[:14]
    home_file = next(r["file"] for r in records if r["url"] == f"{site.base_url}/")
    with wayback(tmp_path, [warc]) as port:
        body, _ = replayed(port, stamp, f"{site.base_url}/", gzip_ok=False)
    assert body == (pages / home_file).read_bytes()
    # The report, as a browser shows it: the broken links with the pages linking to them.
    dom = dump_dom(report)
    broken = dom[dom.index('id="broken-links"') :]
    not_found = [r for r in records if r["status"] == 404]
    assert not_found
    for record in not_found:
        assert record["url"] in broken
        linking = [
            r["url"] for r in records for o in r["outlinks"] or () if o["url"] == record["url"]
        ]
        assert linking
        assert all(url in broken for url in linking)
    assert re.search(r"<script", dom[dom.index("<body") :]) is None
