"""The chart: pages per second and CPU seconds per 1,000 pages, by contender, one row per site.

matplotlib comes from the bench venv and runs with the Agg backend, so the chart renders on a
machine with no display; without matplotlib there is no chart, and the report says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from results import Summary

__all__ = ["Panel", "draw_chart"]

Panel = tuple[str, list[Summary]]


def _label(row: Summary) -> str:
    cap = f" (first {row.max_pages:,})" if row.max_pages else ""
    return f"{row.contender}{cap}"


def draw_chart(panels: Sequence[Panel], path: Path) -> str | None:
    """Draw one row of two bar charts per ``(title, rows)`` panel; None when drawn, else why not."""
    panels = [
        (title, [r for r in rows if r.pages_per_s and r.cpu_s_per_1k]) for title, rows in panels
    ]
    panels = [(title, rows) for title, rows in panels if rows]
    if not panels:
        return "no site with figures to draw"
    try:
        import matplotlib
    except ImportError:
        return "matplotlib is not installed here (it lives in bench/.venv: `make bench-tools`)"
    matplotlib.use("Agg")  # before pyplot is imported: no display needed
    import matplotlib.pyplot as plt

    height = sum(1.2 + 0.32 * len(rows) for _, rows in panels)
    figure, axes = plt.subplots(
        len(panels),
        2,
        figsize=(12, height),
        constrained_layout=True,
        squeeze=False,
        gridspec_kw={"height_ratios": [len(rows) + 2 for _, rows in panels]},
    )
    for (title, rows), (speed, cost) in zip(panels, axes, strict=True):
        names = [_label(row) for row in rows]
        colours = ["#2b6cb0" if row.contender.startswith("spindle") else "#a0aec0" for row in rows]
        for ax, values, heading, fmt in (
            (
                speed,
                [row.pages_per_s or 0.0 for row in rows],
                "pages/s (higher is better)",
                "{:,.0f}",
            ),
            (
                cost,
                [row.cpu_s_per_1k or 0.0 for row in rows],
                "CPU s / 1,000 pages (lower is better)",
                "{:.2f}",
            ),
        ):
            bars = ax.barh(names, values, color=colours)
            ax.bar_label(bars, labels=[fmt.format(v) for v in values], padding=3, fontsize=8)
            ax.set_title(f"{title}: {heading}", fontsize=9, loc="left")
            ax.tick_params(axis="y", labelsize=8)
            ax.invert_yaxis()
            ax.margins(x=0.25)
    figure.suptitle("Spindle and its peers on sites served from loopback addresses (medians)")
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return None
