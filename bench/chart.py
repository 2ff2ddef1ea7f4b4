"""The docs-site chart: pages per second and CPU seconds per 1,000 pages, by contender.

matplotlib runs with the Agg backend so the chart renders on a machine with no display.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

from results import Summary

__all__ = ["docs_chart"]


def docs_chart(rows: list[Summary], workers: int, path: Path) -> bool:
    """Draw the two bar charts for the rows at ``workers``; False when there is nothing to draw."""
    rows = [r for r in rows if r.workers == workers and r.pages_per_s and r.cpu_s_per_1k]
    if not rows:
        return False
    matplotlib.use("Agg")  # before pyplot is imported: no display needed
    import matplotlib.pyplot as plt

    names = [row.contender for row in rows]
    colours = ["#2b6cb0" if name.startswith("spindle") else "#a0aec0" for name in names]
    figure, (speed, cost) = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    for axes, values, title, fmt in (
        (speed, [row.pages_per_s or 0.0 for row in rows], "pages/s (higher is better)", "{:.0f}"),
        (
            cost,
            [row.cpu_s_per_1k or 0.0 for row in rows],
            "CPU s per 1,000 pages (lower is better)",
            "{:.2f}",
        ),
    ):
        bars = axes.barh(names, values, color=colours)
        axes.bar_label(bars, labels=[fmt.format(v) for v in values], padding=3)
        axes.set_title(title)
        axes.invert_yaxis()
        axes.margins(x=0.2)
    figure.suptitle(f"Python 3.11 docs on nginx, 127.0.0.1, W={workers} (wget: 1), medians")
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True
