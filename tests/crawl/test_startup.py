"""`spindle crawl --help` stays quick to start: it loads the command line, not the crawler.

The time itself is measured in bench/ (a timed test would fail on a busy machine); what this
checks is the cause, which does not vary: the modules that cost most of the start-up are not
imported until a crawl runs.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = (
    "aiohttp",
    "urllib3",
    "selectolax",
    "w3lib",
    "protego",
    "rich",
    "orjson",
    "sqlite3",
    "redis",
    "warcio",
    "multiprocessing",
    "spindle.crawl.runner",
    "spindle.crawl.core.values",
    "spindle.crawl.engines",
    "spindle.lab",
)

_PROBE = """
import sys
from spindle.cli import main
try:
    main({argv!r})
except SystemExit as exit:
    code = exit.code
print("EXIT", code, file=sys.stderr)
print("LOADED", " ".join(sorted(sys.modules)), file=sys.stderr)
"""


def _loaded_by(argv: list[str]) -> tuple[int, set[str]]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.format(argv=argv)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = dict(line.split(" ", 1) for line in done.stderr.splitlines() if " " in line)
    return int(lines["EXIT"]), set(lines["LOADED"].split())


@pytest.mark.parametrize(
    "argv",
    [["crawl", "--help"], ["crawl", "http://127.0.0.1:9/", "--rate", "nan"], ["--version"]],
    ids=["help", "usage-error", "version"],
)
def test_the_command_line_alone_loads_none_of_the_crawler(argv: list[str]) -> None:
    code, loaded = _loaded_by(argv)
    assert code in (0, 2)
    heavy = {
        name for name in loaded for root in HEAVY if name == root or name.startswith(root + ".")
    }
    assert heavy == set()


def test_a_crawl_loads_what_it_needs() -> None:
    """The probe can see a module load: a bad seed gets as far as reading seeds."""
    code, loaded = _loaded_by(["crawl", "not a url", "--out", "-"])
    assert code == 2
    assert "spindle.crawl.seeds" in loaded
