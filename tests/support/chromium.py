"""Debian's Chromium, headless, for looking at a page the way a reader's browser shows it.

Every run gets a fresh profile directory, reads only ``file://`` URLs and is cut off from the
network three ways: background services are switched off by flags, host names resolve to
nothing, and any http(s) request goes to a proxy on a closed local port. A run that outlives
its timeout is killed, and so is every process that still carries the run's profile directory
on its command line (renderers, zygotes, the crash handler): none outlives the call.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

__all__ = ["CHROMIUM", "ChromiumFailed", "dump_dom", "screenshot"]

CHROMIUM = shutil.which("chromium")
"""The browser's path, or None when it is not installed (``apt-get install chromium``)."""

FLAGS = (
    "--headless",
    "--no-sandbox",  # tests may run as root, where the sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=http://127.0.0.1:9",
    "--hide-scrollbars",
)


class ChromiumFailed(Exception):
    """Chromium exited with an error or did not finish in time."""


def dump_dom(page: Path, *, timeout: float = 60.0) -> str:
    """The page's DOM as Chromium serialises it after loading (scripts, if any, have run)."""
    return _run(["--dump-dom", page.resolve().as_uri()], timeout).decode("utf-8")


def screenshot(page: Path, png: Path, *, width: int, height: int, timeout: float = 60.0) -> None:
    """Save a ``width`` x ``height`` PNG of the top of the page."""
    args = [f"--screenshot={png.resolve()}", f"--window-size={width},{height}"]
    _run([*args, page.resolve().as_uri()], timeout)
    if not png.exists():
        raise ChromiumFailed(f"chromium wrote no screenshot to {png}")


def _run(args: Sequence[str], timeout: float) -> bytes:
    if CHROMIUM is None:
        raise ChromiumFailed("chromium is not installed")
    with tempfile.TemporaryDirectory(prefix="spindle-chromium-", ignore_cleanup_errors=True) as d:
        profile = f"--user-data-dir={d}"
        process = subprocess.Popen(
            [CHROMIUM, *FLAGS, profile, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group, to kill as one
        )
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill(process.pid, profile)
            process.communicate()  # reap it and close the pipes
            raise ChromiumFailed(f"chromium did not finish within {timeout} s") from None
        finally:
            _kill(process.pid, profile)  # helpers of a run that did finish, if any linger
    if process.returncode != 0:
        tail = err.decode(errors="replace").strip().splitlines()[-5:]
        raise ChromiumFailed(f"chromium exited with {process.returncode}: {tail}")
    return out


def _kill(pid: int, profile: str) -> None:
    """Kill the run's process group, and any process of the run that left the group."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    for other in survivors(profile):
        with contextlib.suppress(ProcessLookupError):
            os.kill(other, signal.SIGKILL)


def survivors(profile: str) -> list[int]:
    """Ids of the live processes whose command line holds ``profile`` (Linux ``/proc``)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if profile.encode() in command.split(b"\0"):
            found.append(int(entry.name))
    return found
