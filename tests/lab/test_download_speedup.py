"""download-speedup: the local latency server by default, the user's URLs on request."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from spindle.lab.cli import lab
from spindle.lab.experiments.download_speedup import run
from spindle.lab.registry import ExperimentInputError
from spindle.sample_site import SiteSpec, serve_in_thread


def test_concurrent_downloads_beat_sequential_by_a_wide_margin() -> None:
    latency = 0.2
    result = run(
        url=(),
        urls_file=None,
        count=10,
        latency_seconds=latency,
        workers=10,
        timeout_seconds=5.0,
    )
    comparison = result.comparison
    assert [r.status for r in comparison.sequential.results] == [200] * 10
    assert [r.status for r in comparison.concurrent.results] == [200] * 10
    assert comparison.sequential.seconds >= 10 * latency
    # Ideally ×10; generous so a busy machine does not fail it.
    assert result.speedup > 3
    assert result.ok


def test_given_urls_replace_the_local_site(tmp_path: Path) -> None:
    with serve_in_thread(SiteSpec(pages=5)) as site:
        listing = tmp_path / "urls.txt"
        listing.write_text(f"{site.base_url}/docs/1.html\n")
        result = run(
            url=(f"{site.base_url}/docs/0.html",),
            urls_file=listing,
            count=10,
            latency_seconds=0.2,
            workers=2,
            timeout_seconds=5.0,
        )
    assert result.source == "your URLs"
    assert result.latency_seconds is None
    assert [r.url for r in result.comparison.concurrent.results] == [
        f"{site.base_url}/docs/0.html",
        f"{site.base_url}/docs/1.html",
    ]


def test_bad_url_is_an_input_error() -> None:
    with pytest.raises(ExperimentInputError, match="only http and https URLs"):
        run(
            url=("file:///etc/passwd",),
            urls_file=None,
            count=1,
            latency_seconds=0.0,
            workers=1,
            timeout_seconds=1.0,
        )


def test_bad_url_on_the_command_line_exits_2() -> None:
    outcome = CliRunner().invoke(lab, ["download-speedup", "--url", "nothttp"])
    assert outcome.exit_code == 2
    assert "'nothttp': only http and https URLs can be crawled" in outcome.output
