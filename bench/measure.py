"""Run one command under a time limit and measure what it cost: wall, CPU and peak memory.

The figures come from ``os.wait4`` on the child, so CPU seconds (user + sys) and peak RSS are
the kernel's own accounting for that process and every descendant it waited for, with none of
the harness's work mixed in. Each child leads a new session, so a command that overruns its
limit is killed together with everything it started.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Measurement", "kill_group", "run_measured"]

_KILL_GRACE = 5.0


@dataclass(frozen=True, slots=True)
class Measurement:
    """What one run of a command cost, and how it ended."""

    wall_s: float
    cpu_s: float
    max_rss_mb: float
    returncode: int
    timed_out: bool

    @property
    def ok(self) -> bool:
        """Whether the command finished by itself with exit code 0."""
        return self.returncode == 0 and not self.timed_out


def kill_group(process: subprocess.Popen[bytes], grace: float = _KILL_GRACE) -> None:
    """Stop ``process`` and its process group: SIGTERM, then SIGKILL after ``grace`` seconds."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, grace)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(wait)
        except subprocess.TimeoutExpired:
            continue
        return


def run_measured(
    command: Sequence[str],
    *,
    timeout: float,
    log: Path,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Measurement:
    """Run ``command`` with stdout and stderr to ``log``; kill its group after ``timeout`` s.

    A thread blocks in ``os.wait4`` so the wall time ends when the child does, not at the next
    poll; the main thread only waits for that thread, up to the limit.
    """
    reaped: list[tuple[int, os.struct_rusage]] = []
    with log.open("wb") as output:
        started = time.perf_counter()
        process = subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=None if env is None else dict(env),
            start_new_session=True,
        )
        ended = [started]

        def reap() -> None:
            _, status, usage = os.wait4(process.pid, 0)
            ended[0] = time.perf_counter()
            reaped.append((status, usage))

        waiter = threading.Thread(target=reap, name="bench-wait4", daemon=True)
        waiter.start()
        try:
            waiter.join(timeout)
            timed_out = waiter.is_alive()
            if timed_out:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
                waiter.join(_KILL_GRACE)
        finally:
            # On overrun, Ctrl-C or any error, nothing the child started may outlive the run.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            waiter.join()
    status, usage = reaped[0]
    process.returncode = os.waitstatus_to_exitcode(status)
    return Measurement(
        wall_s=ended[0] - started,
        cpu_s=usage.ru_utime + usage.ru_stime,
        max_rss_mb=usage.ru_maxrss / 1024,
        returncode=process.returncode,
        timed_out=timed_out,
    )
