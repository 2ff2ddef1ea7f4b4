"""Crawl controls through the command line: filters, sitemaps, skips, links, time limits and
the fetch log. Real subprocesses against 127.0.0.1."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from tests.crawl.e2e import read_jsonl, run_spindle
from tests.support.faultserver import FaultServer, delayed, page, raw, robots


@pytest.fixture
def site() -> Iterator[FaultServer]:
    with FaultServer() as server:
        server.route("/docs/", page("/docs/a", "/blog/b", "/docs/a.pdf", "http://other.test/x"))
        server.route("/docs/a", page("/docs/"))
        server.route("/blog/b", page())
        server.route("/docs/a.pdf", raw(200, {"Content-Type": "application/pdf"}, b"%PDF"))
        yield server


def test_filters_and_the_skips_output(tmp_path: Path, site: FaultServer) -> None:
    out, skips = tmp_path / "out.jsonl", tmp_path / "skips.jsonl"
    result = run_spindle(
        "crawl",
        site.url("/docs/"),
        "--rate",
        "0",
        "--no-parent",
        "--exclude",
        r"\.pdf$",
        "--skips",
        str(skips),
        "--out",
        str(out),
        "--links",
    )
    assert result.returncode == 0, result.stderr.decode()
    assert sorted(r["url"] for r in read_jsonl(out)) == [site.url("/docs/"), site.url("/docs/a")]
    assert sorted((s["url"], s["reason"], s["rule"]) for s in read_jsonl(skips)) == sorted(
        [
            ("http://other.test/x", "scope", None),
            (site.url("/blog/b"), "filter", "no_parent"),
            (site.url("/docs/a.pdf"), "filter", "exclude"),
        ]
    )
    home = next(r for r in read_jsonl(out) if r["url"] == site.url("/docs/"))
    assert [link["url"] for link in home["outlinks"]] == [
        site.url("/docs/a"),
        site.url("/blog/b"),
        site.url("/docs/a.pdf"),
        "http://other.test/x",
    ]
    bad = run_spindle("crawl", site.url("/docs/"), "--include", "(", "--out", str(tmp_path / "b"))
    assert bad.returncode == 2
    assert "--include '(' is not a regular expression" in bad.stderr.decode()


def test_sitemaps_add_urls_the_links_do_not_reach(tmp_path: Path) -> None:
    with FaultServer() as server:
        sitemap = f"<urlset><url><loc>{server.url('/orphan')}</loc></url></urlset>".encode()
        server.route("/robots.txt", robots(f"Sitemap: {server.url('/map.xml.gz')}\n"))
        server.route(
            "/map.xml.gz", raw(200, {"Content-Type": "application/gzip"}, gzip.compress(sitemap))
        )
        server.route("/", page())
        server.route("/orphan", page())
        out = tmp_path / "out.jsonl"
        args = ["crawl", server.url("/"), "--rate", "0", "--out", str(out), "--summary-json", "-q"]
        assert run_spindle(*args).returncode == 0
        assert [r["url"] for r in read_jsonl(out)] == [server.url("/")]
        with_maps = run_spindle(*args, "--sitemaps", "--overwrite")
        assert with_maps.returncode == 0
        assert sorted(r["url"] for r in read_jsonl(out)) == [server.url("/"), server.url("/orphan")]
        assert server.count("/sitemap.xml") == 1  # looked for at the default place too


def test_max_time_stops_cleanly_and_the_same_command_resumes(tmp_path: Path) -> None:
    with FaultServer() as server:
        server.route("/", page(*[f"/p{i}" for i in range(30)]))
        server.route_prefix("/p", delayed(0.1, page()))
        out = tmp_path / "out.jsonl"
        args = ["crawl", server.url("/"), "--rate", "0", "--workers", "1", "--out", str(out)]
        first = run_spindle(*args, "--max-time", "1s", "--summary-json", "-q")
        assert first.returncode == 0, first.stderr.decode()
        summary = orjson.loads(first.stderr.splitlines()[-1])
        assert summary["timed_out"] is True
        assert summary["state"].startswith("stopped at the time limit")
        assert 1 < len(read_jsonl(out)) < 31
        assert run_spindle(*args).returncode == 0
        assert len({r["url"] for r in read_jsonl(out)}) == len(read_jsonl(out)) == 31
    assert run_spindle("crawl", "http://127.0.0.1:1/", "--max-time", "soon").returncode == 2


def test_the_fetch_log_has_one_line_per_fetch(tmp_path: Path, site: FaultServer) -> None:
    log = tmp_path / "fetch.log"
    result = run_spindle(
        "crawl",
        site.url("/docs/"),
        "--rate",
        "0",
        "--depth",
        "1",
        "-v",
        "--log-file",
        str(log),
        "--out",
        str(tmp_path / "out.jsonl"),
    )
    assert result.returncode == 0
    lines = log.read_text().splitlines()
    pattern = re.compile(
        r"^\S+Z (\d{3}|ERROR:\w+) (page|robots|sitemap) [\d.]+ms (\d+B|-) attempt=\d+ (\S+)"
    )
    parsed = [pattern.match(line) for line in lines]
    assert all(parsed), lines
    assert sorted((m.group(2), m.group(4)) for m in parsed if m) == sorted(
        [("robots", site.url("/robots.txt"))]
        + [("page", site.url(p)) for p in ("/docs/", "/docs/a", "/blog/b", "/docs/a.pdf")]
    )
    stderr_lines = [line for line in result.stderr.decode().splitlines() if "attempt=" in line]
    assert stderr_lines == lines


def test_a_report_is_written_when_the_crawl_ends(tmp_path: Path, site: FaultServer) -> None:
    site.route("/docs/a", page("/docs/", "/docs/gone"))
    out, report = tmp_path / "out.jsonl", tmp_path / "report.html"
    args = ["crawl", site.url("/docs/"), "--rate", "0", "--out", str(out), "--report", str(report)]
    assert run_spindle(*args).returncode == 0
    html = report.read_text()
    broken = html[html.index('id="broken-links"') :]
    assert site.url("/docs/gone") in broken
    assert site.url("/docs/a") in broken  # the page that links to it
    assert all(r["outlinks"] is not None for r in read_jsonl(out))  # --report implies --links
    refused = run_spindle("crawl", site.url("/docs/"), "--out", "-", "--report", str(report))
    assert refused.returncode == 2
    assert "--report reads the records back from --out" in refused.stderr.decode()
