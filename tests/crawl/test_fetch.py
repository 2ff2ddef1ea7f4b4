"""``spindle fetch`` and the download functions it shares with the lab, against 127.0.0.1."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from spindle.crawl import fetch as fetch_module
from spindle.crawl.fetch import (
    compare_fetch,
    fetch,
    fetch_concurrent,
    fetch_sequential,
)
from spindle.sample_site import RunningSite, SiteSpec, serve_in_thread
from tests.support.faultserver import FaultServer, redirect, text

LATENCY = 0.2


@pytest.fixture(scope="module")
def slow_site() -> Iterator[RunningSite]:
    with serve_in_thread(SiteSpec(pages=20), latency=LATENCY) as site:
        yield site


@pytest.fixture(scope="module")
def fast_site() -> Iterator[RunningSite]:
    with serve_in_thread(SiteSpec(pages=20)) as site:
        yield site


@pytest.fixture
def closed_port_url() -> str:
    # A port that was just free: nothing listens there, so connecting is refused.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def _pages(site: RunningSite, count: int) -> list[str]:
    return [f"{site.base_url}/docs/{page}.html" for page in range(count)]


def test_concurrent_results_keep_the_given_order(fast_site: RunningSite) -> None:
    urls = _pages(fast_site, 6)
    run = fetch_concurrent(urls, workers=3, timeout=5.0)
    assert [result.url for result in run.results] == urls
    assert [result.status for result in run.results] == [200] * 6
    assert all(result.nbytes > 0 and result.ok for result in run.results)
    assert run.failures == 0
    assert run.workers == 3


def test_sequential_and_concurrent_download_the_same_bytes(fast_site: RunningSite) -> None:
    urls = [*_pages(fast_site, 3), f"{fast_site.base_url}/no-such-page"]
    sequential = fetch_sequential(urls, timeout=5.0)
    concurrent = fetch_concurrent(urls, workers=4, timeout=5.0)
    assert [r.nbytes for r in sequential.results] == [r.nbytes for r in concurrent.results]
    # A 404 is a response, not a failure.
    assert [r.status for r in concurrent.results] == [200, 200, 200, 404]
    assert concurrent.failures == 0


def test_concurrent_is_much_faster_against_a_slow_server(slow_site: RunningSite) -> None:
    comparison = compare_fetch(_pages(slow_site, 10), workers=10, timeout=5.0)
    assert comparison.sequential.seconds >= 10 * LATENCY
    # Ideally ×10; a generous floor keeps this honest on a busy machine.
    assert comparison.speedup > 3
    assert comparison.sequential.failures == comparison.concurrent.failures == 0


def test_a_failed_download_is_a_row_with_its_error(
    fast_site: RunningSite, closed_port_url: str
) -> None:
    run = fetch_concurrent([closed_port_url, _pages(fast_site, 1)[0]], workers=2, timeout=5.0)
    refused, fine = run.results
    assert (refused.status, refused.nbytes, refused.ok) == (None, 0, False)
    assert refused.error is not None
    assert refused.error.startswith("connection: ")
    assert fine.ok
    assert run.failures == 1


def test_a_response_slower_than_the_timeout_is_an_error(slow_site: RunningSite) -> None:
    result = fetch_sequential(_pages(slow_site, 1), timeout=LATENCY / 4).results[0]
    assert result.status is None
    assert (result.error or "").startswith("timeout: ")


def test_a_body_over_the_limit_is_cut_off(
    fast_site: RunningSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fetch_module, "MAX_BODY_BYTES", 100)
    result = fetch_sequential(_pages(fast_site, 1), timeout=5.0).results[0]
    assert result.status == 200
    assert result.error == "body larger than 100 bytes"
    assert result.nbytes == 100


def test_fetch_command_prints_a_row_per_url(fast_site: RunningSite) -> None:
    urls = _pages(fast_site, 3)
    outcome = CliRunner().invoke(fetch, [*urls, "--workers", "2"])
    assert outcome.exit_code == 0, outcome.output
    for url in urls:
        assert url in outcome.output
    assert outcome.output.count(" 200 ") == 3
    assert "3 URLs in " in outcome.output
    assert "with 2 workers" in outcome.output


def test_fetch_command_compares_with_sequential(slow_site: RunningSite, tmp_path: Path) -> None:
    listing = tmp_path / "urls.txt"
    listing.write_text("\n".join(_pages(slow_site, 4)))
    outcome = CliRunner().invoke(fetch, ["--urls-file", str(listing), "--compare-sequential"])
    assert outcome.exit_code == 0, outcome.output
    assert "ms sequential" in outcome.output
    assert "ms concurrent" in outcome.output
    assert "4 URLs: sequential " in outcome.output
    assert "speedup ×" in outcome.output


def test_fetch_command_exits_1_and_shows_the_error_when_a_download_fails(
    closed_port_url: str,
) -> None:
    outcome = CliRunner().invoke(fetch, [closed_port_url])
    assert outcome.exit_code == 1
    assert "connection: " in outcome.output


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["ftp://example.org/"], "'ftp://example.org/': only http and https URLs"),
        (["http:///nohost"], "the URL has no host"),
        ([], "give at least one URL or --urls-file"),
        (["--urls-file", "/nonexistent/urls.txt"], "cannot read /nonexistent/urls.txt"),
        (["--workers", "0", "http://127.0.0.1/"], "--workers"),
        (["--timeout", "0", "http://127.0.0.1/"], "--timeout"),
    ],
)
def test_fetch_command_rejects_bad_input_with_one_line_and_exit_2(
    arguments: list[str], message: str
) -> None:
    outcome = CliRunner().invoke(fetch, arguments)
    assert outcome.exit_code == 2
    error_lines = [line for line in outcome.output.splitlines() if line.startswith("Error:")]
    assert len(error_lines) == 1
    assert message in error_lines[0]


def test_fetch_follows_redirects_and_reads_url_files_like_seeds(
    fast_site: RunningSite, tmp_path: Path
) -> None:
    """`spindle fetch` shares the crawler's URL rules and fetcher instead of copies of them."""
    listing = tmp_path / "urls.txt"
    listing.write_text(f"{fast_site.base_url}/docs/1.html  # one\nftp://nope/\n")
    outcome = CliRunner().invoke(fetch, ["--urls-file", str(listing)])
    assert outcome.exit_code == 2
    assert f"{listing}:2: only http and https URLs can be crawled" in outcome.output
    with FaultServer() as server:
        server.route("/old", redirect("/new"))
        server.route("/new", text("moved here"))
        (result,) = fetch_sequential([server.url("/old")], timeout=5.0).results
        assert (result.status, result.nbytes, result.error) == (200, 10, None)
        assert server.paths() == ["/old", "/new"]
