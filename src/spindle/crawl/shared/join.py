"""A worker joining a shared crawl: the crawl's identity, the worker's name, reconciliation,
the heartbeat, and confirmations after each commit.

Joining, in order (:func:`join_crawl`):

1. The crawl's identity (the settings that shape its decisions) is written to Redis by the
   first worker; every later worker must bring the same, or is refused (exit 2).
2. The worker's name is kept in its state file, made once at random: rerunning the same
   command (the same ``--state``) is the same worker, on any machine.
3. What an earlier run of this worker left leased is given back at once (``rejoin``), without
   waiting for its lease to expire.
4. Reconciliation: every claim of this worker not yet confirmed is checked against its state.
   A record the state holds is confirmed; a claim whose record never committed (the worker
   died between claiming and committing) is dropped and its URL queued again at the front.
   The output file is then checked against the state as for any resumed crawl, so the union
   of all shards holds every page once.
5. A heartbeat thread renews the worker's leases every third of ``--lease-timeout``.

After each batch the writer commits, :class:`ConfirmingStore` confirms its records' claims
(one round trip per batch; a failure leaves them for the next batch or the next restart).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
import redis

from spindle.crawl.core.config import CrawlConfig
from spindle.crawl.core.values import Changes, Entry, Resumed
from spindle.crawl.shared.errors import FrontierMismatch
from spindle.crawl.shared.frontier import RedisFrontier
from spindle.crawl.shared.keys import CrawlKeys
from spindle.crawl.shared.link import RedisLink
from spindle.crawl.shared.lua import OPEN
from spindle.crawl.shared.settings import SharedCrawl
from spindle.crawl.store.base import CrawlStore, Stream, WarcMark
from spindle.crawl.store.sqlite import SQLiteStore

__all__ = [
    "ConfirmingStore",
    "Heartbeat",
    "SharedRun",
    "join_crawl",
    "open_crawl",
    "shared_identity",
]


def shared_identity(config: CrawlConfig) -> dict[str, Any]:
    """The settings every worker of one shared crawl must agree on."""
    traps = config.traps
    return {
        "seeds": list(config.seeds),
        "scope": config.scope.value,
        "max_depth": config.max_depth,
        "obey_robots": config.obey_robots,
        "rate": config.rate,
        "host_concurrency": config.host_concurrency,
        "max_crawl_delay": config.max_crawl_delay,
        "include": list(config.include),
        "exclude": list(config.exclude),
        "no_parent": config.no_parent,
        "sitemaps": config.sitemaps,
        "traps": [
            traps.max_url_length,
            traps.max_path_depth,
            traps.max_query_variants,
            traps.max_repeats,
            traps.max_pages_per_host,
        ],
    }


def open_crawl(
    link: RedisLink,
    keys: CrawlKeys,
    identity: Mapping[str, Any],
    *,
    interval: float,
    concurrency: int,
) -> bool:
    """Create the crawl in Redis, or check that the one there has this identity. True when
    this call created it.

    Raises:
        FrontierMismatch: the crawl in Redis was started with other settings.
    """
    wanted = orjson.dumps(dict(identity), option=orjson.OPT_SORT_KEYS)
    script = link.client.register_script(OPEN)
    found = link.call(
        lambda r: script(keys=[keys.meta], args=[wanted, repr(interval), concurrency], client=r)
    )
    if not found:
        return True
    saved = orjson.loads(found)
    if saved != orjson.loads(wanted):
        differs = sorted(k for k in set(saved) | set(identity) if saved.get(k) != identity.get(k))
        raise FrontierMismatch(
            f"crawl {keys.crawl!r} in Redis at {link.name} was started with other settings "
            f"({', '.join(differs)} differ); use the same options or another --crawl-id"
        )
    return False


class Heartbeat:
    """Renews a worker's leases every ``period`` seconds on a thread of its own, until
    :meth:`stop`. A beat that finds Redis away is simply tried again next period."""

    def __init__(self, frontier: RedisFrontier, period: float) -> None:
        self._frontier = frontier
        self._period = period
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="spindle-heartbeat", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._period):
            try:
                self._frontier.beat()
            except Exception:  # a refused beat (the crawl gone): the engine's next call says so
                continue

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


class ConfirmingStore:
    """A :class:`CrawlStore` that, after each batch is committed, confirms its records' claims
    in Redis (once; what fails is tried with the next batch, and at the end)."""

    def __init__(self, inner: CrawlStore, frontier: RedisFrontier) -> None:
        self._inner = inner
        self._frontier = frontier
        self._unconfirmed: list[str] = []
        self._answered = False

    def open(self, identity: Mapping[str, object]) -> Resumed | None:
        return self._inner.open(identity)

    def save(
        self, changes: Changes, lines: Mapping[Stream, list[bytes]], warc: WarcMark | None = None
    ) -> None:
        self._inner.save(changes, lines, warc)
        self._unconfirmed += [record.key for record in changes.records]
        self._answered |= any(record.status is not None for record in changes.records)
        if not self._unconfirmed and not self._answered:
            return
        if self._frontier.confirm(self._unconfirmed, answered=self._answered):
            self._unconfirmed = []
            self._answered = False

    def encoded(self, stream: Stream, start: int) -> Generator[bytes, None, None]:
        return self._inner.encoded(stream, start)

    def warc_mark(self) -> WarcMark | None:
        return self._inner.warc_mark()

    def close(self) -> None:
        self._inner.close()

    def settle(self) -> None:
        """Confirm what is left, waiting for Redis if need be (at the end of a run)."""
        if not self._unconfirmed and not self._answered:
            return
        if self._frontier.confirm(self._unconfirmed, answered=self._answered, wait=True):
            self._unconfirmed = []
            self._answered = False


@dataclass
class SharedRun:
    """A worker inside a shared crawl: its frontier, its store, its heartbeat."""

    frontier: RedisFrontier
    store: ConfirmingStore
    heartbeat: Heartbeat
    link: RedisLink
    keys: CrawlKeys
    created: bool
    reconciled: int
    ended_answered: bool = False

    def abandon(self) -> None:
        """Stop without another word to Redis (it is away): the leases expire by themselves."""
        self.heartbeat.stop()
        self.link.close()

    def close(self) -> None:
        """Stop the heartbeat, send what waits, confirm what is left, and give back anything
        still leased (fetches abandoned by Ctrl-C twice go back to their queues at once)."""
        self.heartbeat.stop()
        try:
            self.frontier.leave()
            self.store.settle()
            self.ended_answered = self.frontier.answered()
        finally:
            self.link.close()


def join_crawl(
    shared: SharedCrawl,
    config: CrawlConfig,
    store: SQLiteStore,
    resumed: Resumed | None,
    *,
    stop: threading.Event,
    say: Callable[[str], None] | None = None,
) -> tuple[SharedRun, Resumed | None]:
    """Join ``shared`` as the worker whose state is ``store`` (see the module docstring).

    Returns the run and what to resume the scheduler from (this worker's own counts and
    robots.txt decisions; never its queue, which Redis holds).

    Raises:
        FrontierMismatch: the crawl in Redis has other settings, or this worker's state
            holds part of a crawl that Redis no longer has.
        FrontierUnavailable: Redis could not be reached in time.
    """
    link = RedisLink(shared.url, stop=stop, say=say)
    try:
        keys = CrawlKeys(shared.crawl_id)
        interval = 1.0 / config.rate if config.rate > 0 else 0.0
        created = open_crawl(
            link,
            keys,
            shared_identity(config),
            interval=interval,
            concurrency=config.host_concurrency,
        )
        if created and resumed is not None and resumed.pages_done:
            raise FrontierMismatch(
                f"crawl {shared.crawl_id!r} is not in Redis at {link.name}, but this worker's "
                "state holds part of it; Redis lost the crawl (restarted without its "
                "append-only file?): start again with a new --crawl-id and new --state files"
            )
        _warn_without_aof(link, say)
        worker = store.setting("worker", lambda: secrets.token_hex(6))
        frontier = RedisFrontier(link, keys, worker, traps=config.traps, lease=shared.lease_timeout)
        frontier.rejoin()
        reconciled = _reconcile(frontier, store)
        heartbeat = Heartbeat(frontier, shared.lease_timeout / 3)
    except BaseException:
        link.close()
        raise
    run = SharedRun(
        frontier,
        ConfirmingStore(store, frontier),
        heartbeat,
        link,
        keys,
        created,
        reconciled,
    )
    if resumed is not None:
        # Redis holds the crawl's queues, retries, trap counts and budget: keep the counts
        # of this worker's own records and its robots.txt decisions only.
        resumed = Resumed(
            pages_done=resumed.pages_done, fetched=resumed.fetched, robots=resumed.robots
        )
    return run, resumed


def _warn_without_aof(link: RedisLink, say: Callable[[str], None] | None) -> None:
    """Say so when Redis keeps no append-only file: a restart of Redis would lose the crawl.
    (A Redis that does not let us ask, as some managed ones, is taken at its word.)"""
    try:
        found: dict[Any, Any] = dict(link.try_call(lambda r: r.config_get("appendonly")) or {})
    except redis.ResponseError:
        return
    if found.get("appendonly", found.get(b"appendonly")) in ("no", b"no"):
        (say or link.say)(
            f"spindle: Redis at {link.name} keeps no append-only file: if it restarts, the "
            "crawl is lost (run it with --appendonly yes --appendfsync always)"
        )


def _reconcile(frontier: RedisFrontier, store: SQLiteStore) -> int:
    """Check this worker's unconfirmed claims against its state; return how many URLs went
    back to the queue."""
    claims = frontier.claims()
    if not claims:
        return 0
    keys = {name: c.key if isinstance(c, Entry) else c for name, c in claims.items()}
    recorded = store.recorded(keys.values())
    frontier.confirm([key for key in keys.values() if key in recorded], wait=True)
    back = 0
    for name, claimed in claims.items():
        if keys[name] not in recorded:
            frontier.unclaim(name, claimed)
            back += 1
    return back
