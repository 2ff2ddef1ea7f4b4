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
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Protocol

from rich.console import Console

from spindle.crawl.core.choices import ENGINES, FRONTIERS, FrontierKind
from spindle.crawl.core.config import CrawlConfig
from spindle.crawl.core.scheduler import CrawlScheduler
from spindle.crawl.core.values import Observation, Resumed
from spindle.crawl.engines.request import Credentials, FetchSettings
from spindle.crawl.engines.turns import StopSignals
from spindle.crawl.fetchlog import FetchLog
from spindle.crawl.http_options import HttpOptions
from spindle.crawl.progress import LiveProgress
from spindle.crawl.shared.errors import FrontierError
from spindle.crawl.shared.settings import SharedCrawl
from spindle.crawl.store.base import CrawlStore, Stream
from spindle.crawl.store.frontier import open_frontier
from spindle.crawl.store.jsonl import JsonlSink, open_output
from spindle.crawl.store.memory import NullStore
from spindle.crawl.store.pages import PageStore
from spindle.crawl.store.sqlite import SQLiteStore
from spindle.crawl.store.warc import WarcArchive, crawl_info, warc_files
from spindle.crawl.store.writer import RecordWriter, WriterFailed
from spindle.crawl.summary import CrawlSummary, RunFailure

if TYPE_CHECKING:
    from spindle.crawl.shared.join import SharedRun

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
        parsers: int = ...,
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
    ``report`` is an HTML report written from ``out`` (a file) when the run ends.
    ``max_time`` stops the run cleanly (resumable) after that many seconds. ``verbose`` logs
    one line per fetch on stderr, ``log_file`` appends the same lines to a file.
    ``warc`` is a WARC file of every exchange (gzip per record for a name ending ``.gz``),
    numbered files of about ``warc_max_size`` bytes when that is set; ``save_dir`` a
    directory where each 2xx body is saved (:mod:`spindle.crawl.store.pages`).
    ``http`` holds the other HTTP controls (headers, accepted types, cookies, proxies, TLS).
    ``parsers`` is how many worker processes parse big pages (None: one fewer than the
    machine's cores; 0: parse in the crawl's own process).
    ``shared`` makes this run one worker of a crawl shared through a Redis frontier (it needs
    ``state``).
    ``frontier`` is ``memory`` or ``disk`` (None: on disk in the state, in memory without one;
    a frontier on disk without a state keeps a temporary one); a shared crawl's is in Redis.
    """

    out: str
    skips: str | None = None
    report: Path | None = None
    workers: int = 16
    engine: str = "async"
    state: Path | None = None
    overwrite: bool = False
    progress: bool = False
    credentials: Mapping[str, Credentials] = field(default_factory=dict)
    max_time: float | None = None
    verbose: bool = False
    log_file: Path | None = None
    warc: Path | None = None
    warc_max_size: int | None = None
    save_dir: Path | None = None
    http: HttpOptions = field(default_factory=HttpOptions)
    parsers: int | None = None
    shared: SharedCrawl | None = None
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
            ``out`` are the same file, or a shared crawl has no state to reconcile with.
    """
    if options.shared is not None and options.state is None:
        raise RunRefused("a worker of a shared crawl (--frontier) needs a --state file")

    if options.report is not None and options.out == "-":
        raise RunRefused("--report reads the records back from --out: give --out a file")
    report = str(options.report) if options.report is not None else None
    named = [("--out", options.out), ("--skips", options.skips), ("--report", report)]
    files = [(flag, Path(path)) for flag, path in named if path not in (None, "-")]
    if options.warc is not None:
        rotating = options.warc_max_size is not None
        found = [path for _, path in warc_files(options.warc, rotating=rotating)]
        files += [("--warc", path) for path in found or [options.warc]]
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
    save_dir = options.save_dir
    if save_dir is not None and not options.overwrite and not resumable and _has_entries(save_dir):
        raise RunRefused(
            f"{save_dir} holds files and there is no crawl state to resume it from; "
            "pass --overwrite to save pages into it anyway, or choose another --save-dir"
        )


def _has_entries(directory: Path) -> bool:
    try:
        return any(directory.iterdir())
    except NotADirectoryError:
        return True
    except OSError:
        return False


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
        FrontierError: the shared crawl cannot be joined (other settings; Redis away).
    """
    check_files(options)
    engine = load_engine(options.engine)  # before any signal can interrupt an import
    log_file = options.log_file.open("a", encoding="utf-8") if options.log_file else None
    if options.overwrite:
        _remove_old(options)
    if options.warc is not None or options.save_dir is not None:
        config = dataclasses.replace(config, keep_exchanges=True)
    if options.shared is None:  # both engines report sends; Redis spaces by take time
        config = dataclasses.replace(config, await_sends=True)
    kind = frontier_kind(options)
    scratch = None
    state = options.state
    if state is None and kind is FrontierKind.DISK:  # no state to keep: a temporary one
        scratch = tempfile.TemporaryDirectory(prefix="spindle-frontier-")
        state = Path(scratch.name) / "frontier.sqlite"
    sqlite = SQLiteStore(state) if state else None
    store: CrawlStore = sqlite or NullStore()
    scheduler = CrawlScheduler(config)  # replaced once the frontier is open
    signals = StopSignals()
    start = time.monotonic()
    deadline = start + options.max_time if options.max_time is not None else None
    timed_out = threading.Event()
    failure: RunFailure | None = None
    shared: SharedRun | None = None
    frontier_down = False
    fetch_log = FetchLog(
        *([_to_stderr] if options.verbose else []),
        *([lambda line: log_file.write(line + "\n")] if log_file is not None else []),
    )
    try:
        resumed = store.open({**crawl_identity(config), **_archive_identity(options)})
        if options.shared is not None:
            shared, resumed = _join(options.shared, config, store, resumed, signals)
            scheduler = CrawlScheduler(config, frontier=shared.frontier)
            store = shared.store
        sinks = _open_sinks(options, store if resumed is not None else None)
        if shared is None:
            frontier = open_frontier(config, kind, sqlite, resumed, start)
            scheduler = CrawlScheduler(config, frontier=frontier)
        try:
            warc, pages = _open_archives(config, options, store, resumed=resumed is not None)
        except BaseException:
            _close_sinks(sinks, None)
            raise
        if resumed is None:
            scheduler.start(start)
        else:
            scheduler.resume(_fresh_robots(resumed, time.time()), start)
        writer = RecordWriter(store, sinks, warc=warc, pages=pages)
        settings = FetchSettings(
            user_agent=config.user_agent,
            timeout=config.timeout,
            pool_size=options.workers,
            credentials=options.credentials,
            headers=options.http.headers,
            accept_types=options.http.accept_types,
            cookies=options.http.cookies,
            proxies=options.http.proxies,
            ca_file=options.http.ca_file,
            verify=options.http.verify,
            keep_wire=config.keep_exchanges,
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
                    parsers=default_parsers() if options.parsers is None else options.parsers,
                )
            if not signals.abandon.is_set():
                for changes in scheduler.finish():
                    writer.submit(changes)
        except WriterFailed as exc:
            failure = RunFailure(RunFailure.Kind.OUTPUT, _describe(exc.__cause__ or exc))
        except FrontierError as exc:  # the shared state could not be written: resumable
            failure = RunFailure(RunFailure.Kind.OUTPUT, str(exc))
            frontier_down = True
        except Exception as exc:  # a broken invariant: stop cleanly, keep what was committed
            failure = RunFailure(RunFailure.Kind.INTERNAL, _describe(exc))
        finally:
            failure = _close(writer, sinks, failure)
            try:
                if warc is not None:
                    warc.close()
            except OSError as exc:
                failure = failure or RunFailure(RunFailure.Kind.OUTPUT, _describe(exc))
    finally:
        elsewhere = 0
        if shared is not None:
            elsewhere, failure = _leave(shared, failure, down=frontier_down)
        store.close()
        if scratch is not None:
            scratch.cleanup()
        if log_file is not None:
            log_file.close()
    if options.report is not None and failure is None:
        failure = _write_report(Path(options.out), options.report)
    interrupted = signals.stop.is_set() or signals.abandon.is_set()
    return CrawlSummary(
        stats=scheduler.stats,
        elapsed=time.monotonic() - start,
        interrupted=interrupted and not timed_out.is_set(),
        timed_out=timed_out.is_set(),
        resumed_pages=resumed.pages_done if resumed else 0,
        resumed_fetched=(resumed.fetched if resumed else 0) + elsewhere,
        queued=scheduler.queued,
        failure=failure,
        out=options.out,
        state=options.state,
        outputs=_outputs(options),
    )


def _outputs(options: RunOptions) -> tuple[tuple[str, str], ...]:
    named = [
        ("skips", options.skips),
        ("report", options.report),
        ("warc", options.warc),
        ("pages saved in", options.save_dir),
        ("fetch log", options.log_file),
    ]
    return tuple((what, str(where)) for what, where in named if where is not None)


def _write_report(records: Path, report: Path) -> RunFailure | None:
    """Write the HTML report of the records so far (a resumed run writes it again, whole)."""
    from spindle.crawl.report import ReportInputError, write_html_report

    partial = report.with_name(report.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8") as out:
            write_html_report(records, out)
        partial.replace(report)
    except (OSError, ReportInputError) as exc:
        partial.unlink(missing_ok=True)
        return RunFailure(RunFailure.Kind.OUTPUT, f"the report could not be written: {exc}")
    return None


def default_parsers() -> int:
    """Parse in other processes when there are other cores: one fewer than the cores."""
    return max(0, (os.cpu_count() or 1) - 1)


def _join(
    options: SharedCrawl,
    config: CrawlConfig,
    store: CrawlStore,
    resumed: Resumed | None,
    signals: StopSignals,
) -> tuple[SharedRun, Resumed | None]:
    from spindle.crawl.shared.join import join_crawl  # loads the Redis client

    assert isinstance(store, SQLiteStore)  # check_files() asked for a state file
    return join_crawl(options, config, store, resumed, stop=signals.abandon)


def _leave(
    shared: SharedRun, failure: RunFailure | None, *, down: bool
) -> tuple[int, RunFailure | None]:
    """Close a worker's part in a shared crawl; return 1 when some worker of the crawl got an
    HTTP answer (so a worker that fetched nothing itself still ends well when others did).
    When Redis is ``down`` already, nothing more is sent: the leases expire instead."""
    if down:
        shared.abandon()
        return 0, failure
    try:
        shared.close()
        elsewhere = int(shared.ended_answered)
    except FrontierError as exc:
        return 0, failure or RunFailure(RunFailure.Kind.OUTPUT, str(exc))
    return elsewhere, failure


def _ignore(observation: Observation) -> None:
    """The observation hook when nothing is logged."""


def _to_stderr(line: str) -> None:
    sys.stderr.write(line + "\n")


def _archive_identity(options: RunOptions) -> dict[str, object]:
    """Archives are part of a crawl: a resumed run without them, or with them only now, would
    leave them missing pages. Only when one is on, so states of crawls without stay valid."""
    identity: dict[str, object] = {}
    if options.warc is not None:
        identity["warc"] = {"max_size": options.warc_max_size}
    if options.save_dir is not None:
        identity["save_dir"] = True
    return identity


def _open_archives(
    config: CrawlConfig, options: RunOptions, store: CrawlStore, *, resumed: bool
) -> tuple[WarcArchive | None, PageStore | None]:
    """Start the WARC output (cut back to the state's committed end on resume) and the page
    store."""
    warc = None
    if options.warc is not None:
        warc = WarcArchive(
            options.warc,
            info=crawl_info(config),
            max_size=options.warc_max_size,
            user_agent=config.user_agent,
        )
        warc.start(store.warc_mark(), resumed=resumed)
    pages = PageStore(options.save_dir) if options.save_dir is not None else None
    return warc, pages


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
    for output in (options.out, options.skips, options.report):
        if output not in (None, "-") and Path(output).is_file():
            Path(output).unlink()
    if options.warc is not None:  # a save dir is written into, never emptied
        for _, path in warc_files(options.warc, rotating=options.warc_max_size is not None):
            path.unlink()


def _close(
    writer: RecordWriter, sinks: dict[Stream, JsonlSink], failure: RunFailure | None
) -> RunFailure | None:
    try:
        writer.close()
    except WriterFailed as exc:
        failure = failure or RunFailure(RunFailure.Kind.OUTPUT, _describe(exc.__cause__ or exc))
    return _close_sinks(sinks, failure)


def _close_sinks(sinks: dict[Stream, JsonlSink], failure: RunFailure | None) -> RunFailure | None:
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
