"""Politeness as the hosts saw it: the broad-site server's arrival log, audited per run.

The rule a polite crawler keeps is a token bucket of one token per host: over any window of
``w`` seconds a host receives at most ``rate * w + 1`` requests, and never more than
``per_host`` at once. A request breaks the first rule when it and the requests before it within
some window outnumber that bound (checked over every window that ends with it, looking back at
most :data:`LOOKBACK` requests); it breaks the second when it arrives while ``per_host`` requests
of its host are unanswered. Arrival times are the server's, stamped when its event loop reads the
request, so every window gets :data:`TOLERANCE` seconds of slack for that loop's own lag.

The ideal a crawler is measured against: asking every host ``rate`` times a second, a crawl of
``d`` seconds fetches ``min(pages, rate * d)`` pages of each host (robots.txt takes the first of
the ``rate * d + 1`` requests the bucket allows), fewer than ``rate`` per host per second once a
host has no pages left.
"""

from __future__ import annotations

import contextlib
import operator
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "LOOKBACK",
    "TOLERANCE",
    "Arrival",
    "Audit",
    "audit",
    "ideal_pages",
    "read_lag",
    "read_log",
]

TOLERANCE = 0.05
LOOKBACK = 256


@dataclass(frozen=True, slots=True)
class Arrival:
    """One request as the server logged it: host, epoch seconds, unanswered requests with it."""

    host: int
    at: float
    in_flight: int


@dataclass(frozen=True, slots=True)
class Audit:
    """One run's requests and the rules they broke.

    ``early`` requests came sooner than the rate allows, ``crowded`` ones while ``per_host``
    others of their host were unanswered; ``violations`` counts requests that broke either rule
    once, and ``hosts`` the hosts that saw any.
    """

    requests: int
    hosts_asked: int
    early: int
    crowded: int
    violations: int
    hosts: int
    most_in_flight: int

    def describe(self) -> str:
        """e.g. ``0`` or ``12 (early 10, over 2 at once 3) on 7 hosts``."""
        if not self.violations:
            return "0"
        return (
            f"{self.violations:,} (early {self.early:,}, 3+ at once {self.crowded:,}) "
            f"on {self.hosts:,} hosts"
        )


def read_lag(path: Path, offset: int = 0) -> float:
    """The server's longest event-loop lag logged in ``path`` from byte ``offset`` on."""
    worst = 0.0
    with path.open("rb") as log:
        log.seek(offset)
        for line in log.read().splitlines():
            fields = line.split()
            if len(fields) == 3 and fields[0] == b"lag":
                with contextlib.suppress(ValueError):
                    worst = max(worst, float(fields[2]))
    return worst


def read_log(path: Path, offset: int = 0) -> list[Arrival]:
    """The arrivals logged in ``path`` from byte ``offset`` on (a torn last line and the
    server's lag lines are skipped)."""
    arrivals = []
    with path.open("rb") as log:
        log.seek(offset)
        for line in log.read().splitlines():
            fields = line.split()
            if len(fields) != 3:
                continue
            try:
                arrivals.append(Arrival(int(fields[0]), float(fields[1]), int(fields[2])))
            except ValueError:
                continue
    return arrivals


def _early(times: Sequence[float], rate: float, tolerance: float) -> list[bool]:
    """For each of the sorted ``times``: does it close a window holding more than the rate allows?

    >>> _early([0.0, 0.5, 1.0, 1.5], rate=2.0, tolerance=0.0)
    [False, False, False, False]
    >>> _early([0.0, 0.4, 1.0], rate=2.0, tolerance=0.05)  # 0.4 s after the first
    [False, True, False]
    >>> _early([0.0, 0.49, 0.98], rate=2.0, tolerance=0.05)  # within the slack
    [False, False, False]
    >>> _early([0.0, 0.0, 0.0], rate=2.0, tolerance=0.05)
    [False, True, True]
    """
    flags = [False] * len(times)
    for last in range(1, len(times)):
        for first in range(last - 1, max(-1, last - LOOKBACK - 1), -1):
            if last - first + 1 > rate * (times[last] - times[first] + tolerance) + 1:
                flags[last] = True
                break
    return flags


def audit(
    arrivals: Iterable[Arrival], rate: float, per_host: int, tolerance: float = TOLERANCE
) -> Audit:
    """Check every host's requests against the two rules (see the module's docstring).

    >>> log = [Arrival(0, 0.0, 1), Arrival(0, 0.5, 1), Arrival(1, 0.0, 1), Arrival(1, 0.1, 2)]
    >>> audit(log, rate=2.0, per_host=2).describe()
    '1 (early 1, 3+ at once 0) on 1 hosts'
    >>> audit([Arrival(0, t / 10, 3) for t in range(0, 30, 6)], 2.0, 2).crowded
    5
    """
    by_host: dict[int, list[Arrival]] = defaultdict(list)
    for arrival in arrivals:
        by_host[arrival.host].append(arrival)
    requests = early = crowded = violations = hosts = most = 0
    for seen in by_host.values():
        seen.sort(key=lambda arrival: arrival.at)
        times = [arrival.at for arrival in seen]
        early_flags = _early(times, rate, tolerance)
        crowded_flags = [arrival.in_flight > per_host for arrival in seen]
        both = sum(map(operator.or_, early_flags, crowded_flags))
        requests += len(seen)
        early += sum(early_flags)
        crowded += sum(crowded_flags)
        violations += both
        hosts += both > 0
        most = max(most, *(arrival.in_flight for arrival in seen))
    return Audit(requests, len(by_host), early, crowded, violations, hosts, most)


def ideal_pages(sizes: Sequence[int], rate: float, seconds: float) -> float:
    """Pages a crawl asking each host ``rate`` times a second could fetch in ``seconds``.

    >>> ideal_pages([100, 10, 1], rate=2.0, seconds=10.0)
    31.0
    """
    budget = rate * seconds
    return float(sum(min(size, budget) for size in sizes))
