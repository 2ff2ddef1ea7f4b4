"""What the simulator checks while the scheduler runs: politeness, and every URL ending once.

:class:`PolitenessCheck` watches every fetch the scheduler hands out and every answer it
observes, and counts each broken rule instead of stopping, so a report can say "0":

* ``interval``: two fetches of one host start at least its interval apart (``1 / rate``,
  raised to the host's robots.txt ``Crawl-delay``, capped at ``max_crawl_delay``, from the
  moment the scheduler observed that robots.txt);
* ``concurrency``: no more than ``host_concurrency`` fetches of a host are in flight;
* ``retry_after``: after a 429 or 503 that carried ``Retry-After`` and left the URL a try,
  nothing of that host starts before the time asked for (capped at ``retry_after_cap``);
* ``robots_first``: no page of a host is fetched before its robots.txt was answered;
* ``disallowed``: no page that robots.txt disallows is fetched.

Beside the violations it reports the tightest spacing seen (the smallest gap between two
starts of a host over the interval in force: 1.0 means a fetch started the very moment it
was allowed) and how many starts came within 1% of that moment, so a report shows that the
limits were reached, not only that they were never passed.

It keeps a few numbers per host in flat arrays indexed by host rank (about 30 bytes per
host of the web), so it costs the same at any crawl size and barely moves the RSS figures.

:class:`Ledger` checks that every admitted URL ends once: fetched (a record after its last
attempt), or skipped. Without ``exact`` it only balances counts (admitted = ended + queued +
in flight); with it, it also keeps every key, to prove that none ended twice.
"""

from __future__ import annotations

from array import array
from collections import Counter
from typing import Any

from simweb import ROBOTS_RULES, SimWeb
from spindle.crawl.core import (
    CrawlConfig,
    Fetch,
    FetchKind,
    Outcome,
    Response,
    SkipReason,
    TrapRule,
)
from spindle.crawl.core.values import Changes

__all__ = ["Ledger", "PolitenessCheck"]

_SLACK = 1e-9  # float rounding of sums of simulated times


class PolitenessCheck:
    """Counts violations of the politeness rules in the module docstring."""

    def __init__(self, web: SimWeb, config: CrawlConfig) -> None:
        hosts = web.params.hosts + 1
        self._web = web
        self._base = 1.0 / config.rate if config.rate > 0 else 0.0
        self._cap = config.max_crawl_delay
        self._concurrency = config.host_concurrency
        self._retries = config.retries
        self._retry_after_cap = config.retry_after_cap
        self._obey = config.obey_robots
        self.last_start = array("d", [float("-inf")]) * hosts
        self.first_start = array("d", [0.0]) * hosts
        self.interval = array("d", [self._base]) * hosts
        self.paused_until = array("d", [float("-inf")]) * hosts
        self.starts = array("I", [0]) * hosts
        self.in_flight = array("H", [0]) * hosts
        self.robots_answered = bytearray(hosts)
        self.tightest = float("inf")  # the smallest gap / interval between two starts
        self.at_limit = 0  # starts within 1% of the earliest moment politeness allowed
        self.violations: Counter[str] = Counter()
        self.examples: list[str] = []

    def _broken(self, rule: str, detail: str) -> None:
        self.violations[rule] += 1
        if len(self.examples) < 10:
            self.examples.append(f"{rule}: {detail}")

    def started(self, rank: int, fetch: Fetch, now: float) -> None:
        """A fetch of host ``rank`` was handed out at ``now``."""
        gap = now - self.last_start[rank]
        interval = self.interval[rank]
        if gap < interval - _SLACK:
            self._broken("interval", f"{fetch.url} {gap:.3f} s after the last start")
        if interval > 0 and self.starts[rank]:
            ratio = gap / interval
            self.tightest = min(self.tightest, ratio)
            self.at_limit += ratio < 1.01
        if now < self.paused_until[rank] - _SLACK:
            self._broken("retry_after", f"{fetch.url} at {now:.3f}")
        if self.in_flight[rank] >= self._concurrency:
            self._broken("concurrency", fetch.url)
        if fetch.kind is FetchKind.PAGE and self._obey:
            if not self.robots_answered[rank]:
                self._broken("robots_first", fetch.url)
            elif "/private/" in fetch.url and self._web.robots_kind(rank) == ROBOTS_RULES:
                self._broken("disallowed", fetch.url)
        if not self.starts[rank]:
            self.first_start[rank] = now
        self.starts[rank] += 1
        self.last_start[rank] = now
        self.in_flight[rank] += 1

    def ended(self, rank: int, fetch: Fetch, outcome: Outcome, now: float) -> None:
        """The fetch's outcome is about to be observed at ``now``."""
        self.in_flight[rank] -= 1
        if not isinstance(outcome, Response):
            return
        if fetch.kind is FetchKind.ROBOTS:
            if outcome.status < 500 and outcome.status != 429:
                self.robots_answered[rank] = 1
                delay = self._web.crawl_delay(rank) if outcome.status == 200 else None
                if delay:
                    self.interval[rank] = max(self._base, min(delay, self._cap))
            return
        asked = outcome.retry_after
        if outcome.status in (429, 503) and asked and fetch.attempt <= self._retries:
            until = now + min(float(asked), self._retry_after_cap)
            self.paused_until[rank] = max(self.paused_until[rank], until)

    def report(self) -> dict[str, Any]:
        """Violations by rule, and how close the busiest hosts came to their limits."""
        busiest: list[tuple[int, int]] = []
        for rank, count in enumerate(self.starts):
            if count >= 20:
                busiest.append((count, rank))
        busiest.sort(reverse=True)
        top = []
        for count, rank in busiest[:5]:
            span = self.last_start[rank] - self.first_start[rank]
            top.append(
                {
                    "host": self._web.host(rank),
                    "fetches": count,
                    "requests_per_s": round((count - 1) / span, 3) if span > 0 else None,
                    "limit_per_s": round(1.0 / self.interval[rank], 3)
                    if self.interval[rank] > 0
                    else None,
                }
            )
        return {
            "violations": {rule: self.violations[rule] for rule in _RULES},
            "examples": self.examples,
            "hosts_fetched": sum(1 for count in self.starts if count),
            "tightest_gap_over_interval": round(self.tightest, 6)
            if self.tightest != float("inf")
            else None,
            "starts_at_the_limit": self.at_limit,
            "busiest_hosts": top,
        }


_RULES = ("interval", "concurrency", "retry_after", "robots_first", "disallowed")


class Ledger:
    """Admitted URLs and how each one ended (see the module docstring)."""

    def __init__(self, *, exact: bool) -> None:
        self.exact = exact
        self.admitted = 0
        self.records = 0  # records of fetched URLs (attempts > 0)
        self.unfetched_seeds = 0
        self.skips: Counter[str] = Counter()
        self.statuses: Counter[str] = Counter()
        self._keys: dict[str, int] | None = {} if exact else None
        self.twice: list[str] = []

    def add(self, changes: Changes) -> None:
        """Account for one drained batch of the scheduler's changes."""
        self.admitted += len(changes.discovered)
        keys = self._keys
        if keys is not None:
            for entry in changes.discovered:
                if entry.key in keys:
                    self.twice.append(f"admitted twice: {entry.key}")
                keys[entry.key] = 0
        for record in changes.records:
            if record.attempts == 0:
                self.unfetched_seeds += 1
                continue
            self.records += 1
            if record.error is not None:
                self.statuses[record.error[0].value] += 1
            else:
                self.statuses[str(record.status)] += 1
            if keys is not None:
                self._end(keys, record.key)
        for skip in changes.skipped:
            self.skips[skip.label] += 1
            if skip.reason is SkipReason.TRAP:
                continue  # refused at admission: never admitted
            if keys is not None:
                self._end(keys, skip.key)

    def _end(self, keys: dict[str, int], key: str) -> None:
        count = keys.get(key)
        if count is None:
            self.twice.append(f"ended but never admitted: {key}")
        elif count:
            self.twice.append(f"ended twice: {key}")
        else:
            keys[key] = 1

    @property
    def ended(self) -> int:
        """Admitted URLs that ended: fetched to a final record, or skipped."""
        trap = sum(n for label, n in self.skips.items() if label in _TRAP_LABELS)
        return self.records + sum(self.skips.values()) - trap

    def report(self, *, queued: int, in_flight: int, done: bool) -> dict[str, Any]:
        """The balance: admitted = ended + queued + in flight (ended only, once done)."""
        balance = self.admitted - self.ended - queued - in_flight
        result: dict[str, Any] = {
            "admitted": self.admitted,
            "ended": self.ended,
            "queued": queued,
            "in_flight": in_flight,
            "balance": balance,
            "done": done,
            "records": self.records,
            "statuses": dict(sorted(self.statuses.items())),
            "skips": dict(sorted(self.skips.items())),
            "exact": self.exact,
        }
        if self._keys is not None:
            never = sum(1 for count in self._keys.values() if not count)
            result["not_ended"] = never
            result["ended_twice_or_unknown"] = len(self.twice)
            result["problems"] = self.twice[:10]
        return result


_TRAP_LABELS = frozenset(rule.value for rule in TrapRule)
