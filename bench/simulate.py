"""Drive the sans-I/O crawl core over a simulated web of a million hosts, on a simulated clock.

The engine here is the one of ``tests/crawl/core/harness.py``, grown up: it keeps
``--workers`` fetches in flight in a heap ordered by completion time, asks the scheduler for
work with ``next_action(now)`` while a slot is free, and jumps the clock to the next
completion (or the scheduler's ``Wait``). The web (``simweb.py``) answers every fetch from a
hash of its URL. The frontier comes from a factory (``simfrontier.py``): the in-memory one by
default, any :class:`Frontier` with ``--frontier module:callable``.

Two modes: ``parsed`` (the default) hands the scheduler each page's :class:`ParsedPage`
directly, so the figures are the scheduler's and the frontier's alone; ``html`` writes each
page out as HTML and lets ``CrawlScheduler.prepare`` parse it, as an engine does.

The crawl grows until the admitted URLs reach each checkpoint (10^4, 10^5, 10^6; 10^7 with
``--full``), then stops by itself. At each checkpoint it records the core's time per decision,
RSS, simulated pages per day and frontier calls per page (``simmeasure.py`` says how each is
measured); throughout it checks politeness and that every admitted URL ends once
(``simcheck.py``). It prints a table and writes every figure to ``results/simulate.json``
(``--full``: ``results/simulate-full.json``; ``--quick``: ``results/simulate-quick.json``).

Usage: ``python bench/simulate.py [--quick | --full] [--seed N] [--workers W]
[--mode parsed|html] [--frontier module:callable] [--json PATH]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import heapq
import json
import math
import os
import platform
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from simcheck import Ledger, PolitenessCheck
from simfrontier import (
    CountingFrontier,
    FrontierFactory,
    describe,
    frontier_statistics,
    load_factory,
    memory_frontier,
)
from simmeasure import (
    GcTimer,
    Series,
    probe_memory,
    reference_ms,
    rss_bytes,
    timer_overhead_ns,
)
from simreport import duration, format_table
from simweb import Answer, SimWeb, WebParams
from spindle.crawl.core import (
    DONE,
    IDLE,
    CrawlConfig,
    CrawlScheduler,
    Fetch,
    FetchKind,
    Frontier,
    Observation,
    ScopeRule,
    Wait,
)

RESULTS = Path(__file__).resolve().parent / "results"
CHECKPOINTS = (10**4, 10**5, 10**6)
FULL = (*CHECKPOINTS, 10**7)
QUICK = (10**4, 10**5)
MODES = ("parsed", "html")
SERIES = ("fetch_decision", "other_decision", "observe_page", "observe_robots", "prepare")


@dataclass(frozen=True, slots=True)
class SimSettings:
    """One simulation: the web, the simulated engine, the crawl's politeness, what to check.

    The politeness settings are ``spindle crawl``'s defaults. ``exact`` keeps every admitted
    key to prove that each ended once (memory grows with the crawl, so it is for small runs).
    ``count_calls`` wraps the frontier in a :class:`CountingFrontier`.
    """

    web: WebParams = field(default_factory=WebParams)
    workers: int = 1000
    seeds: int = 100
    mode: str = "parsed"
    checkpoints: tuple[int, ...] = CHECKPOINTS
    rate: float = 4.0
    host_concurrency: int = 2
    max_crawl_delay: float = 30.0
    retries: int = 3
    exact: bool = False
    count_calls: bool = True
    window: int = 10_000
    probe_urls: int = 5_000
    probe_hosts: int = 1_000

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        if self.workers < 1 or self.seeds < 1 or not self.checkpoints:
            raise ValueError("workers and seeds must be at least 1, with one checkpoint or more")
        if self.seeds > self.web.hosts:
            raise ValueError("more seeds than hosts")

    def crawl_config(self, seeds: tuple[str, ...], **overrides: Any) -> CrawlConfig:
        """The crawl's settings: any host, no depth limit, ``spindle crawl``'s politeness."""
        settings: dict[str, Any] = {
            "seeds": seeds,
            "max_depth": 1_000_000,
            "scope": ScopeRule.ANY,
            "rate": self.rate,
            "host_concurrency": self.host_concurrency,
            "timeout": self.web.timeout,
            "retries": self.retries,
            "max_crawl_delay": self.max_crawl_delay,
        }
        settings.update(overrides)
        return CrawlConfig(**settings)


class Simulation:
    """One run of :class:`SimSettings` over the frontier that ``factory`` builds."""

    def __init__(
        self,
        settings: SimSettings,
        factory: FrontierFactory = memory_frontier,
        *,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.settings = settings
        self.factory = factory
        self.progress = progress
        self.web = SimWeb(settings.web)
        seeds = tuple(self.web.url(rank, 0) for rank in range(1, settings.seeds + 1))
        self.config = settings.crawl_config(seeds)
        self.frontier: Frontier = factory(self.config)
        self.counting = CountingFrontier(self.frontier) if settings.count_calls else None
        self.sched = CrawlScheduler(
            self.config,
            rng=random.Random(settings.web.seed),
            frontier=self.counting if self.counting is not None else self.frontier,
        )
        self.check = PolitenessCheck(self.web, self.config)
        self.ledger = Ledger(exact=settings.exact)
        self.known = bytearray(settings.web.hosts + 1)
        self.hosts_known = 0
        self.overhead_ns = timer_overhead_ns()
        self.series = {name: Series(settings.window, self.overhead_ns) for name in SERIES}
        self.digest = hashlib.blake2b(digest_size=16)
        self.now = 0.0
        self.fetches = 0
        self.robots_fetches = 0
        self.links = 0
        self.parsed_pages = 0
        self.rows: list[dict[str, Any]] = []
        self._heap: list[tuple[float, int, Fetch, Answer, int]] = []

    # -- the engine ----------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        """Crawl until the last checkpoint (or the end of the web); return every figure."""
        gc_timer = self._gc = GcTimer()
        try:
            self._mark = self._marker(rss_bytes())
            self._rss0 = self._mark["rss"]
            started = time.perf_counter()
            done = self._loop()
            wall = time.perf_counter() - started
        finally:
            gc_timer.close()
        in_flight = sum(1 for item in self._heap if item[2].kind is not FetchKind.ROBOTS)
        result: dict[str, Any] = {
            "rows": self.rows,
            "end": "the web ran out (DONE)" if done else "last checkpoint reached",
            "crawl_wall_s": round(wall, 1),
            "politeness": self.check.report(),
            "ledger": self.ledger.report(
                queued=self.frontier.queued, in_flight=in_flight, done=done
            ),
            "digest": self.digest.hexdigest(),
            "timer_overhead_ns": self.overhead_ns,
        }
        return result

    def _loop(self) -> bool:
        sched, check = self.sched, self.check
        series = self.series
        fetch_decision, other_decision = series["fetch_decision"], series["other_decision"]
        observe_page, observe_robots = series["observe_page"], series["observe_robots"]
        prepare = series["prepare"]
        html = self.settings.mode == "html"
        workers = self.settings.workers
        checkpoints = list(self.settings.checkpoints)
        clock = time.perf_counter_ns
        heap: list[tuple[float, int, Fetch, Answer, int]] = []
        self._heap = heap
        sched.start(self.now)
        self._drain()
        next_report = time.monotonic() + 10.0
        while True:
            now = self.now
            action: object = IDLE
            while len(heap) < workers:
                started = clock()
                action = sched.next_action(now)
                took = clock() - started
                if not isinstance(action, Fetch):
                    other_decision.add(took)
                    break
                fetch_decision.add(took)
                self._started(action, now, heap, html)
            if action is DONE:
                self._checkpoint("end")
                return True
            wake = heap[0][0] if heap else math.inf
            if isinstance(action, Wait):
                wake = min(wake, action.until)
            if wake == math.inf:
                raise RuntimeError("the scheduler is idle with nothing in flight")
            self.now = now = wake
            while heap and heap[0][0] <= now:
                _, _, fetch, answer, rank = heapq.heappop(heap)
                check.ended(rank, fetch, answer.outcome, now)
                if html:
                    started = clock()
                    observation = sched.prepare(fetch, answer.outcome)
                    if observation.page is not None:  # an HTML page was parsed
                        prepare.add(clock() - started)
                elif fetch.kind is FetchKind.ROBOTS:
                    observation = Observation(fetch, answer.outcome)
                else:
                    observation = Observation(fetch, answer.outcome, answer.page)
                started = clock()
                sched.observe(observation, now)
                took = clock() - started
                if fetch.kind is FetchKind.ROBOTS:
                    observe_robots.add(took)
                else:
                    observe_page.add(took)
                    if observation.page is not None:
                        self.parsed_pages += 1
                        self.links += len(observation.page.links)
                self._drain()
            while checkpoints and self.ledger.admitted >= checkpoints[0]:
                self._checkpoint(f"{checkpoints.pop(0):,}")
            if not checkpoints:
                return False
            if self.progress is not None and time.monotonic() >= next_report:
                next_report = time.monotonic() + 10.0
                self.progress(
                    f"  admitted {self.ledger.admitted:,}  pages {self.ledger.records:,}  "
                    f"queued {self.frontier.queued:,}  simulated {duration(now)}"
                )

    def _started(
        self,
        fetch: Fetch,
        now: float,
        heap: list[tuple[float, int, Fetch, Answer, int]],
        html: bool,
    ) -> None:
        where = self.web.locate(fetch.url)
        rank = where[0] if where is not None else 0
        self.check.started(rank, fetch, now)
        answer = self.web.answer(fetch, now, html=html)
        self.fetches += 1
        if fetch.kind is FetchKind.ROBOTS:
            self.robots_fetches += 1
        self.digest.update(f"{fetch.id} {fetch.url} {now!r}\n".encode())
        heapq.heappush(heap, (now + answer.latency, fetch.id, fetch, answer, rank))

    def _drain(self) -> None:
        changes = self.sched.drain()
        self.ledger.add(changes)
        known, locate = self.known, self.web.locate
        for entry in changes.discovered:
            where = locate(entry.url)
            if where is not None and not known[where[0]]:
                known[where[0]] = 1
                self.hosts_known += 1

    # -- checkpoints ---------------------------------------------------------------------------

    def _marker(self, rss: int) -> dict[str, Any]:
        calls = Counter(self.counting.calls) if self.counting is not None else Counter()
        return {
            "wall": time.perf_counter(),
            "cpu": time.process_time(),
            "rss": rss,
            "admitted": self.ledger.admitted,
            "pages": self.ledger.records,
            "now": self.now,
            "calls": calls,
        }

    def _checkpoint(self, label: str) -> None:
        rss = rss_bytes()
        reference = reference_ms()
        mark, new = self._mark, self._marker(rss)
        self._mark = new
        pages = new["pages"] - mark["pages"]
        admitted = new["admitted"] - mark["admitted"]
        span_s = self.now - mark["now"]
        costs: dict[str, Any] = {
            name: self.series[name].span()
            for name in SERIES
            if name != "prepare" or self.settings.mode == "html"
        }
        row: dict[str, Any] = {
            "checkpoint": label,
            "admitted": self.ledger.admitted,
            "sim": {
                "seconds": round(self.now, 3),
                "fetches": self.fetches,
                "robots_fetches": self.robots_fetches,
                "pages": self.ledger.records,
                "queued": self.frontier.queued,
                "in_flight": len(self._heap),
                "hosts_known": self.hosts_known,
                "retries": self.sched.stats.retries,
                "links_per_parsed_page": round(self.links / max(1, self.parsed_pages), 2),
                "pages_per_sim_day": _per_day(self.ledger.records, self.now),
                "span_pages_per_sim_day": _per_day(pages, span_s),
            },
            "cost": {
                "step_wall_s": round(new["wall"] - mark["wall"], 2),
                "step_cpu_s": round(new["cpu"] - mark["cpu"], 2),
                "rss_mb": round(rss / 2**20, 1),
                "rss_growth_mb": round((rss - self._rss0) / 2**20, 1),
                "span_rss_bytes_per_admitted": round((rss - mark["rss"]) / admitted)
                if admitted
                else None,
                "reference_ms": reference,
                **self._gc.take(),
                **costs,
            },
        }
        if self.counting is not None:
            calls = new["calls"] - mark["calls"]
            row["frontier_calls_per_page"] = round(sum(calls.values()) / max(1, pages), 2)
            row["frontier_calls_by_name_per_page"] = {
                name: round(count / max(1, pages), 3) for name, count in calls.most_common()
            }
        statistics = frontier_statistics(self.frontier)
        if statistics is not None:
            row["frontier_statistics"] = statistics
        self.rows.append(row)
        if self.progress is not None:
            self.progress(f"checkpoint {label}: {row['cost']['step_wall_s']} s")


def _per_day(pages: int, seconds: float) -> int | None:
    return round(pages / seconds * 86_400) if seconds > 0 else None


def simulate(
    settings: SimSettings,
    factory: FrontierFactory = memory_frontier,
    *,
    probe: bool = True,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run one simulation, then (``probe``) the memory probe; return every figure."""
    load_before = _load()
    started = time.perf_counter()
    simulation = Simulation(settings, factory, progress=progress)
    result: dict[str, Any] = {
        "settings": {
            **{k: v for k, v in asdict(settings).items() if k != "web"},
            "checkpoints": list(settings.checkpoints),
        },
        "web": settings.web.to_json(),
        "frontier": describe(factory),
        "mode_note": "parsed: ParsedPage handed over, no HTML parsed; html: every page "
        "written as HTML and parsed by CrawlScheduler.prepare",
    }
    result.update(simulation.run())
    if probe:
        if progress is not None:
            progress("memory probe (tracemalloc)")
        probe_settings = replace(settings, rate=0.0)

        def new_scheduler(config: CrawlConfig) -> CrawlScheduler:
            return CrawlScheduler(config, rng=random.Random(0), frontier=factory(config))

        result["memory_probe"] = probe_memory(
            simulation.web,
            probe_settings.crawl_config,
            new_scheduler,
            urls=settings.probe_urls,
            hosts=settings.probe_hosts,
        )
        _model_memory(result)
    result["machine"] = {
        "cpus": os.cpu_count(),
        "python": f"{platform.python_version()} ({platform.python_implementation()})",
        "platform": platform.platform(),
        "load_before": load_before,
        "load_after": _load(),
    }
    result["total_wall_s"] = round(time.perf_counter() - started, 1)
    return result


def _model_memory(result: dict[str, Any]) -> None:
    """Add to each row what the probe's bytes per item predict, beside the RSS growth."""
    probe = result["memory_probe"]
    for row in result["rows"]:
        sim = row["sim"]
        queued = sim["queued"]
        ended = row["admitted"] - queued
        predicted = (
            queued * probe["bytes_per_queued_url"]
            + ended * probe["bytes_per_fetched_url"]
            + sim["hosts_known"] * probe["bytes_per_host_robots_decided"]
        )
        row["cost"]["probe_predicted_mb"] = round(predicted / 2**20, 1)


def _load() -> str:
    try:
        return " / ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _checkpoints(text: str) -> tuple[int, ...]:
    try:
        values = tuple(sorted(int(float(part)) for part in text.split(",") if part.strip()))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"a comma-separated list of counts, not {text!r}"
        ) from None
    if not values or values[0] < 1:
        raise argparse.ArgumentTypeError("checkpoints must be at least 1")
    return values


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="checkpoints 10^4 and 10^5 only")
    size.add_argument("--full", action="store_true", help="add the 10^7 checkpoint (long)")
    size.add_argument("--checkpoints", type=_checkpoints, help="admitted-URL counts, e.g. 1e3,1e4")
    parser.add_argument("--seed", type=int, default=1, help="the web's and the crawl's seed")
    parser.add_argument("--workers", type=_positive, default=1000, help="fetches in flight")
    parser.add_argument("--seeds", type=_positive, default=100, help="roots of the top hosts")
    parser.add_argument("--mode", choices=MODES, default="parsed")
    web = WebParams()
    parser.add_argument("--hosts", type=_positive, default=web.hosts)
    parser.add_argument("--largest-host", type=_positive, default=web.largest_host)
    parser.add_argument(
        "--frontier", default="memory", help="memory, or module:callable taking a CrawlConfig"
    )
    parser.add_argument("--exact", action="store_true", help="prove each URL ends once (memory)")
    parser.add_argument("--no-count-calls", action="store_true", help="no frontier call counts")
    parser.add_argument("--no-probe", action="store_true", help="skip the tracemalloc probe")
    parser.add_argument("--json", type=Path, help="where to write the figures")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    arguments = parser.parse_args(argv)
    try:
        factory = load_factory(arguments.frontier)
        checkpoints = arguments.checkpoints or (
            QUICK if arguments.quick else FULL if arguments.full else CHECKPOINTS
        )
        settings = SimSettings(
            web=WebParams(
                seed=arguments.seed, hosts=arguments.hosts, largest_host=arguments.largest_host
            ),
            workers=arguments.workers,
            seeds=arguments.seeds,
            mode=arguments.mode,
            checkpoints=checkpoints,
            exact=arguments.exact,
            count_calls=not arguments.no_count_calls,
        )
        if arguments.quick:
            settings = replace(settings, probe_urls=2_000, probe_hosts=500)
    except ValueError as exc:
        parser.error(str(exc))
    progress = None if arguments.quiet else _stderr
    result = simulate(settings, factory, probe=not arguments.no_probe, progress=progress)
    result["command"] = "python bench/simulate.py " + " ".join(argv or sys.argv[1:])
    result["run_at"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    name = (
        "simulate-quick" if arguments.quick else "simulate-full" if arguments.full else "simulate"
    )
    path = arguments.json or RESULTS / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(format_table(result))
    print(f"figures: {path}")
    return 0


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
