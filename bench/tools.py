"""Where each program the benchmark runs lives, and what to do when one is missing.

Spindle runs from the project's own venv (``.venv``, or ``$SPINDLE_VENV``), the one its tests use.
Everything else lives in places of its own that ``make bench-tools`` fills and git ignores: the
bench venv (``bench/.venv``: Scrapy, requests for the naive crawler, matplotlib for the chart),
the Crawlee for Python venv (``bench/.venv-crawlee``), Crawlee for Node's ``node_modules``
under ``bench/peers/crawlee_node``, and GNU wget2 unpacked from Debian's packages into
``bench/.tools/wget2`` (a ``wget2`` on PATH serves when that is missing).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

__all__ = [
    "BENCH",
    "BENCH_PYTHON",
    "CRAWLEE_NODE",
    "CRAWLEE_PYTHON",
    "REPO",
    "SPINDLE",
    "SPINDLE_PYTHON",
    "missing",
    "node",
    "scrapy",
    "wget2",
]

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
_SPINDLE_VENV = Path(os.environ.get("SPINDLE_VENV", REPO / ".venv"))
SPINDLE = _SPINDLE_VENV / "bin" / "spindle"
SPINDLE_PYTHON = _SPINDLE_VENV / "bin" / "python"
_BENCH_VENV = BENCH / ".venv"
BENCH_PYTHON = _BENCH_VENV / "bin" / "python"
CRAWLEE_PYTHON = BENCH / ".venv-crawlee" / "bin" / "python"
CRAWLEE_NODE = BENCH / "peers" / "crawlee_node"
_WGET2_LOCAL = BENCH / ".tools" / "wget2" / "wget2"
_INSTALL = "run `make bench-tools`"


def scrapy() -> Path:
    """The bench venv's ``scrapy``."""
    return _BENCH_VENV / "bin" / "scrapy"


def wget2() -> str:
    """The unpacked wget2 if ``make bench-tools`` made it, else whatever PATH has."""
    if _WGET2_LOCAL.is_file():
        return str(_WGET2_LOCAL)
    return shutil.which("wget2") or str(_WGET2_LOCAL)


def node() -> str:
    """The machine's Node.js."""
    return shutil.which("node") or "node"


def missing(tool: str) -> str | None:
    """Why ``tool`` cannot run here (with the fix), or None when it can."""
    checks: dict[str, tuple[bool, str]] = {
        "spindle": (SPINDLE.is_file(), f"{SPINDLE} not found; run `make install`"),
        "scrapy": (scrapy().is_file(), f"Scrapy not in {_BENCH_VENV}; {_INSTALL}"),
        "naive": (BENCH_PYTHON.is_file(), f"{_BENCH_VENV} not found; {_INSTALL}"),
        "wget": (shutil.which("wget") is not None, "wget not found; `apt-get install -y wget`"),
        "wget2": (Path(wget2()).is_file(), f"wget2 not found; {_INSTALL}"),
        "crawlee-python": (CRAWLEE_PYTHON.is_file(), f"{CRAWLEE_PYTHON} not found; {_INSTALL}"),
        "crawlee-node": (
            shutil.which("node") is not None and (CRAWLEE_NODE / "node_modules").is_dir(),
            f"node or {CRAWLEE_NODE / 'node_modules'} not found; {_INSTALL}",
        ),
    }
    present, why = checks[tool]
    return None if present else why
