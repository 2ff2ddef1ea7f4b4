"""Start a command and record what it alone cost: ``python -I -S launcher.py REPORT -- CMD...``.

Linux carries a process's peak RSS across ``exec``: a crawler started straight from the harness
would report at least the harness's own peak. This launcher is small (no site-packages, stdlib
only), so the command's figure starts from the launcher's few megabytes instead, a floor the
harness measures and reports. The command's wall time, CPU time and peak RSS (from ``os.wait4``)
go to REPORT as JSON, and the launcher exits with the command's exit code.

The harness stops a time-boxed run by sending SIGINT to the run's process group, as Ctrl-C
would; the launcher itself lets it pass (a handler that does nothing, so the command, whose
handlers start afresh at ``exec``, still gets the default) and goes on waiting for the command.
"""

import json
import os
import signal
import sys
import time


def main() -> int:
    report, separator, *command = sys.argv[1:]
    if separator != "--" or not command:
        sys.exit("usage: launcher.py REPORT -- COMMAND [ARG...]")
    signal.signal(signal.SIGINT, lambda signum, frame: None)
    started = time.perf_counter()
    pid = os.posix_spawnp(command[0], command, os.environ)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - started
    returncode = os.waitstatus_to_exitcode(status)
    figures = {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "max_rss_kb": usage.ru_maxrss,
        "returncode": returncode,
    }
    with open(report, "w", encoding="utf-8") as out:
        json.dump(figures, out)
    return returncode if returncode >= 0 else 128 - returncode  # killed by a signal: 128 + N


if __name__ == "__main__":
    sys.exit(main())
