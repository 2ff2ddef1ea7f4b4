"""``spindle fetch`` and the download functions it shares with the lab, against 127.0.0.1."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from spindle.crawl import fetch as fetch_module
from spindle.crawl.fetch import (
    FetchInputError,
    check_url,
    compare_fetch,
    fetch,
    fetch_concurrent,
    fetch_sequential,
    load_urls,
)
from spindle.sample_site import RunningSite, SiteSpec, serve_in_thread

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


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1/", "https://example.org/a?b=c#d", "HTTP://127.0.0.1:8080/x"],
)
def test_check_url_accepts_absolute_http_urls(url: str) -> None:
    assert check_url(url) == url


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.org/", "not an http(s) URL: 'ftp://example.org/'"),
        ("example.org/page", "not an http(s) URL: 'example.org/page'"),
        ("http:///page", "URL has no host: 'http:///page'"),
        ("http://", "URL has no host: 'http://'"),
        ("http://127.0.0.1:99999/", "malformed URL 'http://127.0.0.1:99999/'"),
        ("http://127.0.0.1/a b", "URL contains whitespace: 'http://127.0.0.1/a b'"),
    ],
)
def test_check_url_rejects_with_a_message_naming_the_url(url: str, message: str) -> None:
    with pytest.raises(FetchInputError, match="^" + re.escape(message)):
        check_url(url)


def test_load_urls_reads_the_file_after_the_arguments(tmp_path: Path) -> None:
    listing = tmp_path / "urls.txt"
    listing.write_text("# comment\n\nhttp://127.0.0.1/b\n  http://127.0.0.1/c  \n")
    assert load_urls(["http://127.0.0.1/a"], listing) == [
        "http://127.0.0.1/a",
        "http://127.0.0.1/b",
        "http://127.0.0.1/c",
    ]


def test_load_urls_names_an_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(FetchInputError, match=r"^cannot read .*missing\.txt: No such file"):
        load_urls([], tmp_path / "missing.txt")


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
    assert refused.error.startswith("cannot connect")
    assert fine.ok
    assert run.failures == 1


def test_a_response_slower_than_the_timeout_is_an_error(slow_site: RunningSite) -> None:
    result = fetch_sequential(_pages(slow_site, 1), timeout=LATENCY / 4).results[0]
    assert (result.status, result.error) == (None, "timed out")


def test_a_body_over_the_limit_is_cut_off(
    fast_site: RunningSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fetch_module, "MAX_BODY_BYTES", 100)
    result = fetch_sequential(_pages(fast_site, 1), timeout=5.0).results[0]
    assert result.status == 200
    assert result.error == "body larger than 100 bytes"


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
    assert "cannot connect" in outcome.output


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["ftp://example.org/"], "not an http(s) URL: 'ftp://example.org/'"),
        (["http:///nohost"], "URL has no host"),
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
