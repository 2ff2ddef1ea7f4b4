"""Runs one crawl: state, output, writer, engine, signals and the summary, wired together.

Ctrl-C once: no new fetches are handed out, in-flight ones finish, everything is flushed, and
the run ends as interrupted. Ctrl-C twice: in-flight fetches are abandoned (their URLs stay
queued in the state file and are fetched on resume).
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Protocol

from rich.console import Console

from spindle.crawl.core.config import CrawlConfig
from spindle.crawl.core.scheduler import CrawlScheduler
from spindle.crawl.output import JsonlSink, open_output
from spindle.crawl.progress import CrawlSummary, LiveProgress
from spindle.crawl.store.base import CrawlStore
from spindle.crawl.store.memory import NullStore
from spindle.crawl.store.sqlite import SQLiteStore
from spindle.crawl.writer import RecordWriter

__all__ = ["ENGINES", "Engine", "RunOptions", "load_engine", "run_crawl"]

ENGINES = ("threads", "async")


class Engine(Protocol):
    """What both engines are: drive the scheduler to the end, or until ``stop`` is set."""

    def __call__(
        self,
        scheduler: CrawlScheduler,
        writer: RecordWriter,
        *,
        workers: int,
        stop: threading.Event,
        on_tick: Callable[[], None] = ...,
    ) -> None: ...


def load_engine(name: str) -> Engine:
    """The engine's run function, imported on demand: aiohttp alone takes 0.1 s to import."""
    if name == "async":
        from spindle.crawl.engines.asyncio_loop import run_async

        return run_async
    if name == "threads":
        from spindle.crawl.engines.threads import run_threads

        return run_threads
    raise ValueError(f"unknown engine {name!r}; expected one of {', '.join(ENGINES)}")


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How to run a crawl, as opposed to what it decides (that is :class:`CrawlConfig`)."""

    workers: int = 16
    engine: str = "threads"
    out: str | None = None
    state: Path | None = None
    progress: bool = False


def crawl_identity(config: CrawlConfig) -> dict[str, object]:
    """The settings a resumed crawl must share with the run that started it."""
    return {
        "seeds": list(config.seeds),
        "scope": config.scope.value,
        "max_depth": config.max_depth,
        "obey_robots": config.obey_robots,
    }


def run_crawl(config: CrawlConfig, options: RunOptions, console: Console) -> CrawlSummary:
    """Run (or resume) a crawl and return its summary.

    Raises:
        StateMismatch: ``options.state`` holds a different crawl.
        sqlite3.DatabaseError: ``options.state`` is not a SQLite file.
        OSError: the output file cannot be opened.
    """
    store: CrawlStore = SQLiteStore(options.state) if options.state else NullStore()
    scheduler = CrawlScheduler(config)
    stop = threading.Event()
    start = time.monotonic()
    try:
        resumed = store.open(crawl_identity(config))
        sink = _open_sink(options.out, store, resumed is not None)
        if resumed is None:
            scheduler.start(start)
            resumed_pages = 0
        else:
            scheduler.resume(resumed.queued, resumed.seen, resumed.pages_done, start)
            resumed_pages = resumed.pages_done
        writer = RecordWriter(store, sink)
        try:
            with _stop_on_sigint(stop, console), _progress(scheduler, console, options) as tick:
                engine = load_engine(options.engine)
                engine(scheduler, writer, workers=options.workers, stop=stop, on_tick=tick)
        finally:
            writer.close()
            if sink is not None:
                sink.close()
    finally:
        store.close()
    return CrawlSummary(
        stats=scheduler.stats,
        elapsed=time.monotonic() - start,
        interrupted=stop.is_set(),
        resumed_pages=resumed_pages,
        queued=scheduler.queued,
    )


def _open_sink(out: str | None, store: CrawlStore, resume: bool) -> JsonlSink | None:
    if out is None:
        return None
    sink, lines = open_output(out, resume=resume)
    if lines is not None:
        sink.write(list(store.encoded_records(lines)))
    return sink


@contextlib.contextmanager
def _stop_on_sigint(stop: threading.Event, console: Console) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def first_interrupt(signum: int, frame: FrameType | None) -> None:
        stop.set()
        console.print("[yellow]stopping: finishing in-flight fetches (Ctrl-C again to abandon)")
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, first_interrupt)
    try:
        yield
    except KeyboardInterrupt:
        stop.set()
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def _progress(
    scheduler: CrawlScheduler, console: Console, options: RunOptions
) -> Iterator[Callable[[], None]]:
    if not options.progress:
        yield lambda: None
        return
    with LiveProgress(scheduler, console) as live:
        yield live.tick
