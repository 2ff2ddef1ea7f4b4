"""The steady-state rate of a crawl: pages per second once every worker is busy.

A crawl from one seed starts slowly (the first link levels hold fewer pages than there are
workers: on the light-latency site three 100 ms round trips pass before 64 workers are busy) and
ends with a tail of the last responses. Wall-clock pages/s charges both to the crawler; the
steady rate counts the pages finished between the 10th and the 90th percentile of completion
times and divides by that span, so it shows how close to W / latency the crawler runs once it
can.
"""

from __future__ import annotations

__all__ = ["steady_rate"]

_TRIM = 0.1
_MIN_PAGES = 50


def steady_rate(finished_at: list[float]) -> float | None:
    """Pages per second between the 10th and 90th percentile of ``finished_at`` (seconds).

    None when there are too few pages for percentiles to mean anything, or no timestamps.

    >>> steady_rate([i / 100 for i in range(1000)])  # one page every 10 ms
    100.0
    """
    if len(finished_at) < _MIN_PAGES:
        return None
    times = sorted(finished_at)
    low = int(len(times) * _TRIM)
    high = int(len(times) * (1 - _TRIM))
    span = times[high] - times[low]
    return round((high - low) / span, 1) if span > 0 else None
