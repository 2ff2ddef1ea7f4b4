"""Peak memory of a crawl whose frontier grows to 2 million URLs; writes results/memory.md.

Usage: ``python bench/memory.py [--baseline REV] [--pages 4000] [--small 400] [--engines
threads,async] [--frontiers memory,disk]``.

The site is the sample site shaped as a tree in which every page links to 500 pages no other
page links to (``spindle serve-sample --pages 1000000000 --links 500 --fanout 500``), so a
crawl stopped by ``--max-pages N`` has admitted about 500 N URLs, nearly all still queued.
Each contender crawls it twice, to ``--small`` and to ``--pages`` pages; the admitted URLs are
counted in its state file afterwards. **bytes per URL** is the slope between the two runs,
(peak RSS at the large size - at the small size) / (URLs at the large size - at the small):
what one more admitted URL costs, start-up and fixed buffers left out. ``--baseline REV``
adds the same crawls by the code of commit REV (the figures before a change).
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sqlite3
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from checkout import exported_source, short_commit
from contenders import Job, Spindle
from measure import Measurement, rss_floor_mb, run_measured
from sites import sample_command, sample_server

RESULTS = Path(__file__).resolve().parent / "results"
SHAPE = {"pages": 1_000_000_000, "links": 500, "page_bytes": 0, "latency": 0.0, "fanout": 500}
WORKERS = 16


@dataclass(frozen=True, slots=True)
class Row:
    """One measured crawl."""

    label: str
    max_pages: int
    urls: int
    measurement: Measurement
    command: list[str]


def _urls_in(state: Path) -> int:
    if not state.is_file():
        return 0
    with sqlite3.connect(state) as db:
        return int(db.execute("SELECT COUNT(*) FROM urls").fetchone()[0])


def _crawl(contender: Spindle, seed: str, max_pages: int, folder: Path) -> Row:
    work = folder / f"work-{contender.name.replace(' ', '-')}-{max_pages}"
    work.mkdir(parents=True)
    command = contender.command(Job(seed, max_pages), WORKERS, work)
    log = folder / f"{work.name}.log"
    try:
        measurement = run_measured(command, timeout=1800, log=log, cwd=work)
        urls = _urls_in(work / "pages.jsonl.state")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    row = Row(contender.name, max_pages, urls, measurement, command)
    print(
        f"  {row.label:<32} {max_pages:>6} pages {urls:>10,} URLs "
        f"{measurement.wall_s:7.1f} s  cpu {measurement.cpu_s:6.1f} s  "
        f"rss {measurement.max_rss_mb:7.1f} MB  exit {measurement.returncode}",
        file=sys.stderr,
        flush=True,
    )
    return row


def _table(rows: list[Row], small: int, large: int) -> list[str]:
    lines = [
        "| contender | --max-pages | URLs admitted | wall s | CPU s | peak RSS MB "
        "| bytes per URL |",
        "|---|---|---|---|---|---|---|",
    ]
    by_label: dict[str, dict[int, Row]] = {}
    for row in rows:
        by_label.setdefault(row.label, {})[row.max_pages] = row
    for label, runs in by_label.items():
        slope = "-"
        if small in runs and large in runs and runs[large].urls > runs[small].urls:
            grown = runs[large].measurement.max_rss_mb - runs[small].measurement.max_rss_mb
            slope = f"{grown * 1024 * 1024 / (runs[large].urls - runs[small].urls):.0f}"
        for size in sorted(runs):
            row = runs[size]
            m = row.measurement
            ok = "" if m.returncode == 0 else f" (exit {m.returncode})"
            lines.append(
                f"| {label}{ok} | {size:,} | {row.urls:,} | {m.wall_s:.1f} | {m.cpu_s:.1f} | "
                f"{m.max_rss_mb:.1f} | {slope if size == large else ''} |"
            )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", help="also run the code of this commit (before a change)")
    parser.add_argument("--pages", type=int, default=4000, help="the large crawl's --max-pages")
    parser.add_argument("--small", type=int, default=400, help="the small crawl's --max-pages")
    parser.add_argument("--engines", default="threads,async")
    parser.add_argument("--frontiers", default="memory,disk", help="this version's --frontier")
    arguments = parser.parse_args(argv)
    engines = [e for e in arguments.engines.split(",") if e]
    frontiers = [f for f in arguments.frontiers.split(",") if f]
    stamp = dt.datetime.now(dt.UTC)
    folder = RESULTS / "runs" / f"memory-{stamp:%Y%m%dT%H%M%SZ}"
    folder.mkdir(parents=True)
    rows: list[Row] = []
    with ExitStack() as stack:
        contenders: list[Spindle] = []
        if arguments.baseline:
            source = stack.enter_context(exported_source(arguments.baseline))
            tag = f"baseline {short_commit(arguments.baseline)}"
            contenders += [
                Spindle(engine, source=source, tag=tag, keep_state=True) for engine in engines
            ]
        contenders += [
            Spindle(
                engine,
                tag=f"--frontier {frontier}",
                extra=("--frontier", frontier),
                keep_state=True,
            )
            for engine in engines
            for frontier in frontiers
        ]
        seed = stack.enter_context(sample_server(folder / "server", **SHAPE))
        for contender in contenders:
            for size in (arguments.small, arguments.pages):
                rows.append(_crawl(contender, seed, size, folder))
    server = " ".join(sample_command("PORT", **SHAPE))
    report = [
        f"# Memory at 2 million URLs ({stamp:%Y-%m-%d %H:%M} UTC)",
        "",
        f"Site: `{server}`; every crawl `--rate 0 --workers {WORKERS} --host-concurrency "
        f"{WORKERS} --ignore-robots`; peak RSS floor {rss_floor_mb():.1f} MB.",
        "",
        *_table(rows, arguments.small, arguments.pages),
        "",
        "Commands (PORT and OUT stand for the server's port and a fresh folder):",
        "",
        *(
            "- `"
            + " ".join(
                "OUT/pages.jsonl" if part.endswith("pages.jsonl") else part for part in row.command
            ).replace(seed, "http://127.0.0.1:PORT/")
            + "`"
            for row in rows
            if row.max_pages == arguments.pages
        ),
    ]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "memory.md").write_text("\n".join(report) + "\n")
    print("\n".join(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
