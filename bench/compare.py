"""This Spindle against the code of another commit, side by side: writes results/compare.md.

Usage: ``python bench/compare.py --baseline REV [--runs 5] [--sites sample,docs]
[--workers 16] [--frontiers disk,memory]``.

Both versions crawl the same sites in the same rounds (every contender once per round, in the
same order, so a slow patch of the machine hits them alike), with ``--rate 0 --workers W
--host-concurrency W --ignore-robots`` and a state file beside the output, as the main
benchmark runs them. ``sample`` is ``spindle serve-sample --pages 2000 --links 50
--page-bytes 20000`` with no latency; ``docs`` the Python docs on nginx (skipped when nginx
or the docs are missing). This version runs once per ``--frontiers`` value; the baseline with
its defaults. The table gives medians of wall time, pages/s and CPU, and each as a ratio to
the baseline of the same engine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from functools import partial
from pathlib import Path

from checkout import exported_source, short_commit
from contenders import Spindle
from harness import SiteResult, run_site
from plan import Entry, SitePlan
from results import Summary
from sites import docs_missing, nginx_server, sample_server

RESULTS = Path(__file__).resolve().parent / "results"
SAMPLE = {"pages": 2000, "links": 50, "page_bytes": 20_000, "latency": 0.0}


def _ratio(value: float | None, reference: float | None) -> str:
    if value is None or not reference:
        return "-"
    return f"{value / reference:.2f}"


def _table(result: SiteResult, baseline_tag: str) -> list[str]:
    summaries = result.summaries()
    base: dict[str, Summary] = {
        s.contender.split(" ")[0]: s for s in summaries if baseline_tag in s.contender
    }
    lines = [
        f"### {result.plan.name}",
        "",
        result.plan.description,
        "",
        "| contender | ok runs | pages | wall s | pages/s | CPU s | peak RSS MB "
        "| wall vs baseline | pages/s vs baseline | CPU vs baseline |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in summaries:
        ref = base.get(s.contender.split(" ")[0])
        lines.append(
            f"| {s.contender} | {s.usable}/{s.runs} | {s.pages} | {s.wall_s or 0:.2f} | "
            f"{s.pages_per_s or 0:.1f} | {s.cpu_s or 0:.2f} | {s.max_rss_mb or 0:.1f} | "
            f"{_ratio(s.wall_s, ref and ref.wall_s)} | "
            f"{_ratio(s.pages_per_s, ref and ref.pages_per_s)} | "
            f"{_ratio(s.cpu_s, ref and ref.cpu_s)} |"
        )
    if result.error:
        lines.append(f"\nskipped: {result.error}")
    return [*lines, ""]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", required=True, help="the commit to compare with")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sites", default="sample,docs")
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--frontiers", default="disk,memory", help="this version's --frontier")
    arguments = parser.parse_args(argv)
    stamp = dt.datetime.now(dt.UTC)
    folder = RESULTS / "runs" / f"compare-{stamp:%Y%m%dT%H%M%SZ}"
    folder.mkdir(parents=True)
    tag = f"baseline {short_commit(arguments.baseline)}"
    load_before = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    results: list[SiteResult] = []
    with ExitStack() as stack:
        source = stack.enter_context(exported_source(arguments.baseline))
        contenders: list[Spindle] = []
        for engine in ("threads", "async"):
            contenders.append(Spindle(engine, source=source, tag=tag, keep_state=True))
            contenders += [
                Spindle(
                    engine,
                    tag=f"--frontier {kind}",
                    extra=("--frontier", kind),
                    keep_state=True,
                )
                for kind in arguments.frontiers.split(",")
                if kind
            ]
        entries = tuple(Entry(c, arguments.workers, arguments.runs) for c in contenders)
        plans = {
            "sample": SitePlan(
                "sample",
                f"spindle serve-sample: {SAMPLE['pages']:,} pages of ~20 KB with 50 links, "
                f"no latency, W={arguments.workers}",
                partial(sample_server, **SAMPLE),
                "spindle serve-sample",
                entries,
                timeout=300,
                max_pages=SAMPLE["pages"] + 500,
            ),
            "docs": SitePlan(
                "docs",
                f"the Python 3.11 docs on nginx, W={arguments.workers}",
                nginx_server,
                "nginx",
                entries,
                timeout=300,
                max_pages=1_000,
                unavailable=docs_missing(need_nginx=True),
            ),
        }
        for name in arguments.sites.split(","):
            print(f"{name}:", file=sys.stderr)
            results.append(run_site(plans[name], folder))
    load_after = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    report = [
        f"# This Spindle against {tag} ({stamp:%Y-%m-%d %H:%M} UTC)",
        "",
        f"Medians of {arguments.runs} interleaved runs; `--rate 0 --workers {arguments.workers} "
        f"--host-concurrency {arguments.workers} --ignore-robots`, a state file beside the "
        f"output. Load average (1/5/15 min): {load_before} before, {load_after} after; "
        f"{os.cpu_count()} CPUs. Command: `python bench/compare.py "
        f"{' '.join(sys.argv[1:] if argv is None else argv)}`.",
        "",
    ]
    for result in results:
        report += _table(result, tag)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "compare.md").write_text("\n".join(report) + "\n")
    print("\n".join(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
