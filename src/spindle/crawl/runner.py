"""Runs one crawl: state, output, writer, engine, signals and the summary, wired together.

Output and state follow three rules, checked before any file is touched:

* records are never silently discarded: a run without an output is refused;
* a user's file is never silently overwritten: a fresh crawl into an existing output needs
  ``overwrite``; with state beside it, the same command resumes instead;
* a state file is held with an exclusive lock for the whole run, and never doubles as the
  output.

Ctrl-C once: no new fetches are handed out, in-flight ones finish, everything is flushed, and
the run ends as interrupted. Ctrl-C twice: in-flight fetches are abandoned (their URLs stay
queued in the state and are fetched on resume). The signal handler only sets flags; the
engine sees them within a tick, so an interrupt never lands in the middle of an import or a
write.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Protocol

from rich.console import Console

from spindle.crawl.core.config import CrawlConfig
from spindle.crawl.core.scheduler import CrawlScheduler
from spindle.crawl.core.values import Observation, Resumed
from spindle.crawl.engines.request import Credentials, FetchSettings
from spindle.crawl.engines.turns import StopSignals
from spindle.crawl.fetchlog import FetchLog
from spindle.crawl.progress import LiveProgress
from spindle.crawl.store.base import CrawlStore, Stream
from spindle.crawl.store.frontier import FrontierKind, open_frontier
from spindle.crawl.store.jsonl import JsonlSink, open_output
from spindle.crawl.store.memory import NullStore
from spindle.crawl.store.sqlite import SQLiteStore
from spindle.crawl.store.writer import RecordWriter, WriterFailed
from spindle.crawl.summary import CrawlSummary, RunFailure

__all__ = [
    "ENGINES",
    "FRONTIERS",
    "Engine",
    "RunOptions",
    "RunRefused",
    "crawl_identity",
    "frontier_kind",
    "holds_data",
    "load_engine",
    "run_crawl",
    "state_files",
]

ENGINES = ("threads", "async")
FRONTIERS = tuple(kind.value for kind in FrontierKind)
ROBOTS_CACHE_SECONDS = 24 * 3600


class Engine(Protocol):
    """What both engines are: drive the scheduler to the end, or until the signals end it."""

    def __call__(
        self,
        scheduler: CrawlScheduler,
        writer: RecordWriter,
        *,
        settings: FetchSettings,
        workers: int,
        signals: StopSignals,
        on_tick: Callable[[], None] = ...,
        on_observe: Callable[[Observation], None] = ...,
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


class RunRefused(ValueError):
    """The run would discard or overwrite data, or share a state file; nothing was touched."""


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How to run a crawl, as opposed to what it decides (that is :class:`CrawlConfig`).

    ``out`` is a file path or ``-`` for stdout. ``skips`` is a file for the URLs the crawl
    decided not to fetch. ``state`` is the SQLite state file (None: the crawl cannot be
    resumed). ``overwrite`` allows a fresh crawl to replace existing outputs and discard an
    existing ``state``. ``credentials`` are HTTP Basic credentials by host key
    (``scheme://host[:port]``); they are sent to that host only and never written out.
    ``max_time`` stops the run cleanly (resumable) after that many seconds. ``verbose`` logs
    one line per fetch on stderr, ``log_file`` appends the same lines to a file. ``frontier``
    is ``memory`` or ``disk`` (None: on disk in the state, in memory without one; a frontier
    on disk without a state keeps a temporary one).
    """

    out: str
    skips: str | None = None
    workers: int = 16
    engine: str = "threads"
    state: Path | None = None
    overwrite: bool = False
    progress: bool = False
    credentials: Mapping[str, Credentials] = field(default_factory=dict)
    max_time: float | None = None
    verbose: bool = False
    log_file: Path | None = None
    frontier: str | None = None


def frontier_kind(options: RunOptions) -> FrontierKind:
    """Where the crawl's frontier goes: as asked, else on disk when there is a state file.

    On disk, memory stays flat as the frontier grows (193 MB peak at 2 million URLs, against
    761 MB in memory) and the crawl runs as fast (bench/README.md); without state,
    memory is the default, since a temporary state file would only cost writes.
    """
    if options.frontier is not None:
        return FrontierKind(options.frontier)
    return FrontierKind.DISK if options.state is not None else FrontierKind.MEMORY


def crawl_identity(config: CrawlConfig) -> dict[str, object]:
    """The settings a resumed crawl must share with the run that started it."""
    return {
        "seeds": list(config.seeds),
        "scope": config.scope.value,
        "max_depth": config.max_depth,
        "obey_robots": config.obey_robots,
    }


def state_files(state: Path) -> list[Path]:
    """The state file and the journal files SQLite keeps beside it."""
    return [state, state.with_name(state.name + "-wal"), state.with_name(state.name + "-shm")]


def check_files(options: RunOptions) -> None:
    """Refuse, before touching anything, a run that would lose or overwrite data.

    Raises:
        RunRefused: the output would be overwritten without ``overwrite``, or ``state`` and
            ``out`` are the same file.
    """
    named = [("--out", options.out), ("--skips", options.skips)]
    files = [(flag, Path(path)) for flag, path in named if path not in (None, "-")]
    state = options.state
    if state is not None:
        files.append(("--state", state))
    for i, (flag, path) in enumerate(files):
        for other_flag, other in files[i + 1 :]:
            if _same_file(path, other):
                raise RunRefused(f"{flag} and {other_flag} name the same file ({path})")
    resumable = state is not None and state.exists()
    for flag, path in files:
        if flag != "--state" and not options.overwrite and not resumable and holds_data(path):
            raise RunRefused(
                f"{path} exists and there is no crawl state to resume it from; "
                f"pass --overwrite to replace it, or choose another {flag}"
            )


def holds_data(path: Path) -> bool:
    """True for a regular file with something in it: what overwriting would destroy (a device
    such as /dev/null or a pipe holds nothing)."""
    try:
        return path.is_file() and path.stat().st_size > 0
    except OSError:
        return False


def _same_file(a: Path, b: Path) -> bool:
    if a.exists() and b.exists():
        return a.samefile(b)
    return a.resolve() == b.resolve()


def run_crawl(config: CrawlConfig, options: RunOptions, console: Console) -> CrawlSummary:
    """Run (or resume) a crawl and return its summary.

    A failure to write the output or the state, or a broken invariant inside the crawl, ends
    the run cleanly: what was committed stays committed, and the summary carries the failure.

    Raises:
        RunRefused: see :func:`check_files`.
        StateError: the state file holds another crawl, or is in use.
        sqlite3.DatabaseError: the state file is not a SQLite file.
        OutputMismatch: the output does not match the state it is resumed from.
        OSError: the output file cannot be opened.
    """
    check_files(options)
    engine = load_engine(options.engine)  # before any signal can interrupt an import
    log_file = options.log_file.open("a", encoding="utf-8") if options.log_file else None
    if options.overwrite:
        _remove_old(options)
    kind = frontier_kind(options)
    scratch = None
    state = options.state
    if state is None and kind is FrontierKind.DISK:  # no state to keep: a temporary one
        scratch = tempfile.TemporaryDirectory(prefix="spindle-frontier-")
        state = Path(scratch.name) / "frontier.sqlite"
    sqlite = SQLiteStore(state) if state else None
    store: CrawlStore = sqlite or NullStore()
    signals = StopSignals()
    start = time.monotonic()
    deadline = start + options.max_time if options.max_time is not None else None
    timed_out = threading.Event()
    failure: RunFailure | None = None
    fetch_log = FetchLog(
        *([_to_stderr] if options.verbose else []),
        *([lambda line: log_file.write(line + "\n")] if log_file is not None else []),
    )
    try:
        resumed = store.open(crawl_identity(config))
        sinks = _open_sinks(options, store if resumed is not None else None)
        frontier = open_frontier(config, kind, sqlite, resumed, start)
        scheduler = CrawlScheduler(config, frontier=frontier)
        if resumed is None:
            scheduler.start(start)
        else:
            scheduler.resume(_fresh_robots(resumed, time.time()), start)
        writer = RecordWriter(store, sinks)
        settings = FetchSettings(
            user_agent=config.user_agent,
            timeout=config.timeout,
            pool_size=options.workers,
            credentials=options.credentials,
        )
        try:
            with _signals_handled(signals), _ticker(scheduler, console, options, signals) as tick:

                def on_tick() -> None:
                    if deadline is not None and time.monotonic() >= deadline:
                        timed_out.set()
                        signals.stop.set()
                    tick()

                engine(
                    scheduler,
                    writer,
                    settings=settings,
                    workers=options.workers,
                    signals=signals,
                    on_tick=on_tick,
                    on_observe=fetch_log.log if fetch_log else _ignore,
                )
            if not signals.abandon.is_set():
                for changes in scheduler.finish():
                    writer.submit(changes)
        except WriterFailed as exc:
            failure = RunFailure(RunFailure.Kind.OUTPUT, _describe(exc.__cause__ or exc))
        except Exception as exc:  # a broken invariant: stop cleanly, keep what was committed
            failure = RunFailure(RunFailure.Kind.INTERNAL, _describe(exc))
        finally:
            failure = _close(writer, sinks, failure)
    finally:
        store.close()
        if scratch is not None:
            scratch.cleanup()
        if log_file is not None:
            log_file.close()
    interrupted = signals.stop.is_set() or signals.abandon.is_set()
    return CrawlSummary(
        stats=scheduler.stats,
        elapsed=time.monotonic() - start,
        interrupted=interrupted and not timed_out.is_set(),
        timed_out=timed_out.is_set(),
        resumed_pages=resumed.pages_done if resumed else 0,
        resumed_fetched=resumed.fetched if resumed else 0,
        queued=scheduler.queued,
        failure=failure,
        out=options.out,
        state=options.state,
    )


def _ignore(observation: Observation) -> None:
    """The observation hook when nothing is logged."""


def _to_stderr(line: str) -> None:
    sys.stderr.write(line + "\n")


def _fresh_robots(resumed: Resumed, now: float) -> Resumed:
    """Keep the robots.txt decisions younger than RFC 9309's 24-hour cache limit (2.4)."""
    fresh = [d for d in resumed.robots if 0 <= now - d.fetched_at < ROBOTS_CACHE_SECONDS]
    return dataclasses.replace(resumed, robots=fresh)


def _open_sinks(options: RunOptions, resume_from: CrawlStore | None) -> dict[Stream, JsonlSink]:
    sinks = {Stream.RECORDS: open_output(options.out, resume_from=resume_from)}
    if options.skips is not None:
        try:
            sinks[Stream.SKIPS] = open_output(
                options.skips, resume_from=resume_from, stream=Stream.SKIPS
            )
        except BaseException:
            sinks[Stream.RECORDS].close()
            raise
    return sinks


def _remove_old(options: RunOptions) -> None:
    if options.state is not None:
        for path in state_files(options.state):
            path.unlink(missing_ok=True)
    for output in (options.out, options.skips):
        if output not in (None, "-") and Path(output).is_file():
            Path(output).unlink()


def _close(
    writer: RecordWriter, sinks: dict[Stream, JsonlSink], failure: RunFailure | None
) -> RunFailure | None:
    try:
        writer.close()
    except WriterFailed as exc:
        failure = failure or RunFailure(RunFailure.Kind.OUTPUT, _describe(exc.__cause__ or exc))
    for sink in sinks.values():
        try:
            sink.close()
        except OSError as exc:
            failure = failure or RunFailure(RunFailure.Kind.OUTPUT, _describe(exc))
    return failure


def _describe(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    if isinstance(exc, BrokenPipeError):
        return "the output was closed by the program reading it"
    if isinstance(exc, OSError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror}"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class _Interrupts(enum.Enum):
    NONE = 0
    STOP = 1
    ABANDON = 2


@contextlib.contextmanager
def _signals_handled(signals: StopSignals) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_interrupt(signum: int, frame: FrameType | None) -> None:
        if signals.stop.is_set():
            signals.abandon.set()
            signal.signal(signal.SIGINT, signal.default_int_handler)  # a third one forces exit
        else:
            signals.stop.set()

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def _ticker(
    scheduler: CrawlScheduler, console: Console, options: RunOptions, signals: StopSignals
) -> Iterator[Callable[[], None]]:
    """The engine's per-turn callback: refresh the progress display, and say once (from the
    engine's thread, never from the signal handler) that a stop was asked for."""
    told = [_Interrupts.NONE]

    def announce() -> None:
        if signals.abandon.is_set() and told[0] is not _Interrupts.ABANDON:
            told[0] = _Interrupts.ABANDON
            console.print("[yellow]abandoning in-flight fetches (they stay queued)")
        elif signals.stop.is_set() and told[0] is _Interrupts.NONE:
            told[0] = _Interrupts.STOP
            console.print("[yellow]stopping: finishing in-flight fetches (Ctrl-C again to abandon)")

    if not options.progress:
        yield announce
        return
    with LiveProgress(scheduler, console) as live:

        def tick() -> None:
            announce()
            live.tick()

        yield tick
