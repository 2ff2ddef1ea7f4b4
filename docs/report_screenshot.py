"""Make ``docs/report.png``: the HTML report of a real crawl of the sample site, as headless
Chromium shows it.

    .venv/bin/python docs/report_screenshot.py [--port PORT] [--out docs/report.png]

Serves the sample site on 127.0.0.1, crawls it with ``--links`` (plus two seeds that fail:
a page robots.txt disallows and a port where nothing listens), writes the report with
``spindle report`` and screenshots the top of it with Debian's Chromium. Nothing leaves
127.0.0.1. Response times differ from run to run, so the picture does too, a little.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # for tests.support.chromium, shared with the browser test

from tests.support.chromium import screenshot  # noqa: E402

from spindle.sample_site.pages import SiteSpec  # noqa: E402
from spindle.sample_site.server import serve_in_thread  # noqa: E402

WIDTH, HEIGHT = 1200, 2300


def spindle(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "spindle", *args], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="sample site port (0: a free one)")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "report.png")
    options = parser.parse_args()
    spec = SiteSpec()  # what `spindle serve-sample` serves
    with tempfile.TemporaryDirectory() as work, serve_in_thread(spec, port=options.port) as site:
        records = Path(work) / "sample-site.jsonl"
        seeds = (f"{site.base_url}/", f"{site.base_url}/private/secret.html", "http://127.0.0.1:1/")
        crawl = ["crawl", *seeds, "--links", "--rate", "0", "--depth", "5", "--retries", "1"]
        spindle(*crawl, "--out", str(records), "--no-state", "--quiet")
        page = Path(work) / "report.html"
        spindle("report", str(records), "--out", str(page), "--title", "Crawl report: sample site")
        screenshot(page, options.out, width=WIDTH, height=HEIGHT)
    print(f"wrote {options.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
