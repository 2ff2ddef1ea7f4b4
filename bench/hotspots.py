"""Profile Spindle crawls of the docs site with py-spy and print the hottest functions.

Usage: ``python bench/hotspots.py [--engine threads|async] [--workers 32] [--top 15]`` (needs
``pip install py-spy``, nginx and the docs; see bench/README.md). py-spy samples the crawler
from outside, so the crawl runs unmodified, and only the thread holding the GIL (``--gil``), so
worker threads waiting on sockets or locks do not drown the CPU hotspots. The table gives each
function's share of the samples as self time (the function itself was running) and total time
(it was on the stack).
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from contenders import Job, Spindle
from measure import run_measured
from sites import docs_missing, nginx_server

_FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>[^:()]+)(?::\d+)?\)$")
_TIMEOUT = 180.0


def _label(frame: str) -> str:
    """``function (path/to/module.py:12)`` -> ``function (module.py)``."""
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    return f"{match['function']} ({Path(match['file']).name})"


def top_functions(raw: str, top: int) -> tuple[int, list[tuple[str, float, float]]]:
    """From py-spy's raw (collapsed) stacks: total samples and the ``top`` functions by self
    share, each with (label, self %, total %)."""
    own: Counter[str] = Counter()
    anywhere: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_label(frame) for frame in stack.split(";")]
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            anywhere[frame] += count
    rows = [
        (label, 100 * own[label] / total, 100 * anywhere[label] / total)
        for label, _ in own.most_common(top)
    ]
    return total, rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=("threads", "async"), default="async")
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--rate", type=int, default=1000, help="py-spy samples per second")
    parser.add_argument("--repeat", type=int, default=3, help="crawls profiled, samples pooled")
    arguments = parser.parse_args(argv)
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        sys.exit("py-spy is not installed: pip install py-spy")
    if reason := docs_missing(need_nginx=True):
        sys.exit(reason)
    raw = []
    with tempfile.TemporaryDirectory(prefix="bench-hotspots-") as folder:
        work = Path(folder)
        with nginx_server(work / "nginx") as served:
            for number in range(arguments.repeat):
                raw_file, log = work / f"profile-{number}.txt", work / f"py-spy-{number}.log"
                job = Job(served.seed, max_pages=100_000)
                crawl = Spindle(arguments.engine).command(job, arguments.workers, work)
                command = [py_spy, "record", "--gil", "--format", "raw"]
                command += ["--rate", str(arguments.rate), "--output", str(raw_file), "--", *crawl]
                ran = run_measured(command, timeout=_TIMEOUT, log=log)
                if ran.timed_out or ran.returncode != 0 or not raw_file.is_file():
                    sys.exit(f"py-spy failed: {log.read_text()[-2000:]}")
                raw.append(raw_file.read_text())
    total, rows = top_functions("\n".join(raw), arguments.top)
    print(f"spindle crawl --engine {arguments.engine} --workers {arguments.workers}, docs site, ")
    print(f"{arguments.repeat} crawls: {total} samples at {arguments.rate}/s\n")
    print(f"{'self %':>7} {'total %':>8}  function")
    for label, self_share, total_share in rows:
        print(f"{self_share:7.1f} {total_share:8.1f}  {label}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
