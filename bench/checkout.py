"""Another version of Spindle to run side by side with this one: ``git archive REV src``.

The exported ``src`` folder goes first on ``PYTHONPATH`` (see ``contenders.Spindle.source``),
so both versions run on the same interpreter and the same installed dependencies; only the
code under ``src/`` differs.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["exported_source", "short_commit"]

_BENCH = Path(__file__).resolve().parent


def short_commit(rev: str) -> str:
    """The abbreviated commit ``rev`` names (raises CalledProcessError when it names none)."""
    done = subprocess.run(
        ["git", "rev-parse", "--short", f"{rev}^{{commit}}"],
        cwd=_BENCH,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return done.stdout.strip()


@contextlib.contextmanager
def exported_source(rev: str) -> Iterator[Path]:
    """The ``src`` folder of commit ``rev`` in a temporary folder, removed afterwards."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", rev, "src"],
        cwd=_BENCH.parent,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    with tempfile.TemporaryDirectory(prefix="spindle-baseline-") as folder:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(folder, filter="data")
        yield Path(folder) / "src"
