"""Benchmark Spindle against its peers on local sites; write bench/results/latest.md and .png.

Usage: ``bench/.venv/bin/python bench/run.py [--runs N] [--sites docs,...,broad,big]
[--quick]`` (``make bench`` installs the peers and runs the default plan). Every server and
crawler runs on loopback addresses as a child process with a time limit; raw per-run figures go
to ``bench/results/runs/``. ``--quick`` writes ``results/quick.md`` and ``.png`` instead,
leaving the full figures alone. The harness itself needs only the standard library (and
matplotlib for the chart); Spindle runs from the project's venv, the peers from theirs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

import tools
from chart import Panel, draw_chart
from contenders import spindle_version
from harness import SiteResult, run_site, work_root
from measure import raise_fd_limit, rss_floor_mb
from peer_commands import tool_versions
from plan import DOCS_WORKERS, SITES, build_plan
from report import Context, render

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"


def _sites(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in SITES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"choose from {','.join(SITES)}; not {text!r}")
    return names


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _load() -> str:
    """The 1, 5 and 15 minute load averages: other work on the machine skews every figure."""
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def _machine(load_before: str) -> dict[str, str]:
    """The facts a reader needs to judge the figures: CPUs, interpreter, tool versions."""
    model = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    facts = {
        "CPUs": f"{os.cpu_count()} ({model})",
        "OS": platform.platform(),
        "Python": f"{platform.python_version()} ({platform.python_implementation()})",
        "Spindle": f"{spindle_version()} ({_checkout()})",
        "harness Python": f"{sys.executable} ({platform.python_version()})",
        "work folders": f"{work_root()} (tmpfs when /dev/shm)",
    }
    facts.update(tool_versions())
    facts["load average (1/5/15 min)"] = f"{load_before} before, {_load()} after"
    facts["peak RSS floor"] = f"{rss_floor_mb():.1f} MB (what the launcher reports for `true`)"
    return facts


def _checkout() -> str:
    """The commit the figures belong to, and whether src/ differed from it while they ran."""

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=BENCH, capture_output=True, text=True, timeout=30, check=False
        )
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD")
    if not commit:
        return "not a git checkout"
    dirty = git("status", "--porcelain", "--", "../src")
    return f"git {commit}" + (", with uncommitted changes under src/" if dirty else "")


def _sync_table(quick: bool) -> str:
    """spindle.sync micro-benchmarks: bench/bench_sync.py run by Spindle's own interpreter."""
    command = [str(tools.SPINDLE_PYTHON), str(BENCH / "bench_sync.py")]
    command += ["--iterations", "50000", "--items", "20000"] if quick else []
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        return f"bench_sync.py failed with exit {done.returncode}:\n{done.stderr[-2000:]}"
    return done.stdout.rstrip()


def _panels(results: Sequence[SiteResult]) -> list[Panel]:
    """One chart row per crawl site (docs at its main W; not the Spindle-only big site)."""
    panels: list[Panel] = []
    for result in results:
        if result.plan.name == "big" or not result.records:
            continue
        rows = result.summaries()
        if result.plan.name == "docs":
            rows = [row for row in rows if row.workers == DOCS_WORKERS]
        panels.append((result.plan.name, rows))
    return panels


def _save_runs(run_dir: Path, results: Sequence[SiteResult]) -> None:
    with (run_dir / "runs.jsonl").open("w") as out:
        for result in results:
            for record in result.records:
                out.write(json.dumps(record.to_json()) + "\n")


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGTERM ends the harness the way Ctrl-C does, so every server and crawler is stopped."""
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=_positive, help="runs per row (default 3, 1 with --quick)")
    parser.add_argument(
        "--sites", type=_sites, default=SITES, help=f"comma-separated, from {','.join(SITES)}"
    )
    parser.add_argument("--quick", action="store_true", help="small sites, 1 run: a smoke test")
    arguments = parser.parse_args(argv)
    runs = arguments.runs or (1 if arguments.quick else 3)
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with it ignored
    # The broad site: a thousand hosts, a connection or two each, per crawler and server.
    raise_fd_limit(16_384)
    started = time.monotonic()
    load_before = _load()
    stamp = dt.datetime.now(dt.UTC)
    run_dir = RESULTS / "runs" / stamp.strftime("%Y%m%dT%H%M%SZ")
    run_dir.mkdir(parents=True, exist_ok=True)
    print(f"raw results and logs: {run_dir}", file=sys.stderr)

    results: list[SiteResult] = []
    try:
        for plan in build_plan(arguments.sites, runs, quick=arguments.quick):
            print(f"{plan.name}: {plan.description}", file=sys.stderr)
            results.append(run_site(plan, run_dir))
            if results[-1].error:
                print(f"  skipped: {results[-1].error}", file=sys.stderr)
    except KeyboardInterrupt:
        print("interrupted: every server and crawler has been stopped", file=sys.stderr)
        return 130
    finally:
        _save_runs(run_dir, results)

    print("spindle.sync micro-benchmarks ...", file=sys.stderr)
    sync_table = _sync_table(arguments.quick)
    context = Context(
        started=stamp.strftime("%Y-%m-%d %H:%M UTC"),
        seconds=time.monotonic() - started,
        command=shlex.join(["python", "bench/run.py", *(sys.argv[1:] if argv is None else argv)]),
        runs=runs,
        quick=arguments.quick,
        machine=_machine(load_before),
        sync_table=sync_table,
    )
    report = render(context, results)
    RESULTS.mkdir(exist_ok=True)
    # A smoke test must not replace the figures of the last full run.
    stem = "quick" if arguments.quick else "latest"
    (RESULTS / f"{stem}.md").write_text(report)
    print(f"report: {RESULTS / f'{stem}.md'}", file=sys.stderr)
    chart = RESULTS / f"{stem}.png"
    why_not = draw_chart(_panels(results), chart)
    print(f"chart: {chart}" if why_not is None else f"no chart: {why_not}", file=sys.stderr)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
