"""Run one command under a time limit and measure what it cost: wall, CPU and peak memory.

The command runs under ``launcher.py``, which takes its figures from ``os.wait4``: the kernel's
own accounting for the command and every descendant it waited for, with none of the harness's
work mixed in, and a peak RSS that starts from the small launcher rather than from the harness
(see :func:`rss_floor_mb`). Each run leads a new session, so a command that overruns its limit
is killed together with everything it started. A run may also be time-boxed: after
``stop_after`` seconds its process group gets SIGINT, as from Ctrl-C, and what it fetched by the
time it exits counts.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "Measurement",
    "kill_group",
    "local_env",
    "raise_fd_limit",
    "rss_floor_mb",
    "run_measured",
]

_KILL_GRACE = 5.0
_LAUNCHER = Path(__file__).resolve().parent / "launcher.py"


@dataclass(frozen=True, slots=True)
class Measurement:
    """What one run of a command cost, and how it ended."""

    wall_s: float
    cpu_s: float
    max_rss_mb: float
    returncode: int
    timed_out: bool
    stopped: bool = False


def local_env() -> dict[str, str]:
    """This environment with every proxy setting removed and 127.0.0.1 exempted from proxies.

    wget, requests and Scrapy all honour ``http_proxy``; without this a proxy configured on the
    machine would carry the benchmark's requests off it.
    """
    env = {key: value for key, value in os.environ.items() if not key.lower().endswith("_proxy")}
    env["no_proxy"] = env["NO_PROXY"] = "127.0.0.1,localhost"
    return env


def raise_fd_limit(needed: int) -> None:
    """Raise this process's soft limit on open files to ``needed`` (at most the hard limit);
    children inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def kill_group(process: subprocess.Popen[bytes], grace: float = _KILL_GRACE) -> None:
    """Stop ``process`` and its process group: SIGTERM, then SIGKILL after ``grace`` seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            continue
        return


def _wait(
    process: subprocess.Popen[bytes], timeout: float, stop_after: float | None
) -> tuple[bool, bool, int]:
    """Wait up to ``timeout`` s for ``process``, sending SIGINT to its group at ``stop_after``
    s; on overrun kill its group.

    Returns (timed out, stopped, exit code). Whatever happens, Ctrl-C included, nothing the
    process started outlives this call.
    """
    stopped = timed_out = False
    deadline = time.monotonic() + timeout
    try:
        if stop_after is not None and stop_after < timeout:
            try:
                process.wait(stop_after)
            except subprocess.TimeoutExpired:
                stopped = True
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGINT)
        process.wait(max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        timed_out = True
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        returncode = process.wait()
    return timed_out, stopped, returncode


def run_measured(
    command: Sequence[str],
    *,
    timeout: float,
    log: Path,
    cwd: Path | None = None,
    stop_after: float | None = None,
) -> Measurement:
    """Run ``command`` with stdout and stderr to ``log``; SIGINT at ``stop_after`` s, if
    given; kill it after ``timeout`` s.

    The figures are the launcher's when it finished; after a timeout only the harness's wall
    time is known, and CPU and RSS read as zero.
    """
    usage_file = log.with_name(log.name + ".usage.json")
    usage_file.unlink(missing_ok=True)
    wrapped = [sys.executable, "-I", "-S", str(_LAUNCHER), str(usage_file), "--", *command]
    with log.open("wb") as output:
        started = time.perf_counter()
        process = subprocess.Popen(
            wrapped,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=local_env(),
            start_new_session=True,
        )
        timed_out, stopped, returncode = _wait(process, timeout, stop_after)
        wall = time.perf_counter() - started
    if timed_out or not usage_file.is_file():
        return Measurement(wall, 0.0, 0.0, returncode, timed_out, stopped)
    figures = json.loads(usage_file.read_text())
    return Measurement(
        wall_s=figures["wall_s"],
        cpu_s=figures["cpu_s"],
        max_rss_mb=figures["max_rss_kb"] / 1024,
        returncode=figures["returncode"],
        timed_out=False,
        stopped=stopped,
    )


def rss_floor_mb() -> float:
    """The peak RSS the launcher reports for a command that uses almost none (``true``).

    Linux keeps a process's peak RSS across ``exec``, so every figure includes at least this.
    """
    with tempfile.TemporaryDirectory(prefix="bench-floor-") as folder:
        return run_measured(["true"], timeout=30, log=Path(folder) / "true.log").max_rss_mb
