"""The frontier on disk: the seen set and the queues live in the SQLite state, a window in memory.

:class:`DiskStorage` is a :class:`~spindle.crawl.core.queues.FrontierStorage` for the core's
:class:`~spindle.crawl.core.frontier.LocalFrontier`, which keeps every rule (admission, trap
guards, retries, pacing, the ready-host heap); this module only decides where URLs are kept.

What stays in memory, bounded:

* per host and depth with work, a *lane*: at most :data:`WINDOW` entries read ahead from
  the state (its head), a cursor (the last ``seq`` taken into memory) and how many more
  entries wait in the state;
* the URLs admitted since the writer last committed (each lane's *tail*, and their keys),
  which the writer bounds (``RecordWriter``'s ``max_urls``);
* a Bloom filter of every key seen (rbloom; about 3 bytes a key) and two generations of
  recently seen keys (:data:`RECENT` each: on the Python docs they spare about 15,000 index
  lookups, 15% of the crawl's CPU).

What is on disk: every queued URL (``urls`` rows in state ``queued``, indexed by host, depth
and ``seq``, the order of admission) and every key seen (the table's primary key).

The seen set is exact. A key the filter has never had is new (most new URLs end there); a key
it may have is looked for in the uncommitted keys, then the recent keys, then the state's
index (one indexed read). A false positive of the filter costs one read and never turns a
new key away; a key is dropped from the uncommitted set only after the writer reports the
batch that holds it committed, so it is always in memory or on disk.

The writer and the engine: the writer commits a batch and then tells this storage (on its
own thread, through ``SQLiteStore.on_commit``) the last ``seq`` it committed and the keys; the
engine's thread takes that up at its next push or pop. Until then an admitted URL stays in its
lane's tail, in memory, and a pop that reaches the tail takes it from there and moves the
cursor past it. Entries are read with ``seq`` above the cursor only, so no entry is read twice.

Reads run on the engine's thread (the asyncio engine's event loop too), each one short and
indexed: a window of 64 entries of one lane, or one key. Measured on a state of 2 million
URLs (``bench/disk_reads.py``): 0.1 ms a window (4 ms at the 99th percentile on a loaded
machine), 9 microseconds a key.

A resumed crawl reads one row per lane with work (its count and first ``seq``) and streams
every key once into the filter; it holds no URL and no key in memory.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from rbloom import Bloom

from spindle.crawl.core.choices import FrontierKind
from spindle.crawl.core.config import CrawlConfig
from spindle.crawl.core.errors import MisuseError
from spindle.crawl.core.frontier import LocalFrontier, MemoryFrontier
from spindle.crawl.core.values import Changes, Entry, Resumed, SkipReason
from spindle.crawl.store.sqlite import SQLiteStore, entry_of

__all__ = [
    "RECENT",
    "WINDOW",
    "DiskStatistics",
    "DiskStorage",
    "FrontierKind",
    "KeyFilter",
    "open_frontier",
]

# Entries of one lane read from the state at a time, and kept in memory at most (a putback
# may add one). 64 rows are one indexed read of about 0.1 ms.
WINDOW = 64
# Keys in each of the two generations of recently seen keys: about 5 MB in all.
RECENT = 1 << 15
_FILTER_START = 1 << 20
_FILTER_ERROR = 0.001

_COLUMNS = "url, key, depth, parent, attempt, chain, kind, seq"


class KeyFilter:
    """A Bloom filter that grows: stages of doubling capacity, each with ``error_rate`` false
    positives when full, so the rate stays near ``error_rate`` times the number of stages.

    >>> keys = KeyFilter(capacity=2)
    >>> for key in "abcde":
    ...     keys.add(key)
    >>> all(key in keys for key in "abcde"), len(keys), keys.stages
    (True, 5, 2)
    """

    def __init__(self, capacity: int = _FILTER_START, error_rate: float = _FILTER_ERROR) -> None:
        self._error_rate = error_rate
        self._stages = [Bloom(capacity, error_rate)]
        self._room = capacity
        self._next = capacity * 2
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def __contains__(self, key: str) -> bool:
        stages = self._stages
        if key in stages[-1]:  # one stage up to a million keys: no generator on that path
            return True
        return len(stages) > 1 and any(key in stage for stage in stages[:-1])

    @property
    def stages(self) -> int:
        """How many filters there are."""
        return len(self._stages)

    @property
    def bytes(self) -> int:
        """Memory the filters' bits take."""
        return sum(stage.size_in_bits for stage in self._stages) // 8

    def add(self, key: str) -> None:
        """Add ``key``."""
        if not self._room:
            self._stages.append(Bloom(self._next, self._error_rate))
            self._room, self._next = self._next, self._next * 2
        self._stages[-1].add(key)
        self._room -= 1
        self._count += 1


@dataclass(frozen=True, slots=True)
class DiskStatistics:
    """Counts of what a :class:`DiskStorage` did and holds.

    ``rows_read`` entries read from the state, ``reads`` the reads that fetched them;
    ``keys_scanned`` the keys streamed into the filter on resume; ``lookups`` the keys looked
    up in the state's index, ``false_positives`` those not there (the filter's mistakes);
    ``in_memory`` the entries held in lanes, ``uncommitted`` the keys waiting for the writer,
    ``lanes`` the lanes with work, ``filter_bytes`` the filter's size.
    """

    rows_read: int
    reads: int
    keys_scanned: int
    lookups: int
    false_positives: int
    in_memory: int
    uncommitted: int
    lanes: int
    filter_bytes: int


class _Lane:
    """One host's entries at one depth: ``head`` in memory, then ``on_disk`` more in the state
    (``seq`` above ``cursor``), then ``tail``, admitted but not yet committed."""

    __slots__ = ("cursor", "head", "on_disk", "tail")

    def __init__(self, cursor: int) -> None:
        self.head: deque[Entry] = deque()
        self.cursor = cursor
        self.on_disk = 0
        self.tail: deque[tuple[int, Entry]] = deque()

    def __len__(self) -> int:
        return len(self.head) + self.on_disk + len(self.tail)


class DiskStorage:
    """:class:`~spindle.crawl.core.queues.FrontierStorage` over a :class:`SQLiteStore`.

    Owned by one thread (the engine's); the store's writer thread only reports commits.
    ``resumed`` says the store holds an earlier run of the crawl, whose keys and queued URLs
    this storage takes up. ``window``, ``recent`` and ``keys`` (the filter) are for tests.
    """

    def __init__(
        self,
        store: SQLiteStore,
        *,
        resumed: bool,
        window: int = WINDOW,
        recent: int = RECENT,
        keys: KeyFilter | None = None,
    ) -> None:
        self._db = store.reader()
        self._window = window
        self._seq = store.next_seq - 1  # the last seq given, by the store's count
        self._fresh: tuple[str, int] | None = None
        self._lanes: dict[str, dict[int, _Lane]] = {}
        self._uncommitted: deque[tuple[int, _Lane]] = deque()
        self._pending: set[str] = set()
        self._committed: deque[tuple[int, list[str]]] = deque()
        self._recent_size = recent
        self._recent: set[str] = set()
        self._older: set[str] = set()
        self._filter = keys if keys is not None else KeyFilter()
        self._seen = 0
        self._rows_read = self._reads = self._keys_scanned = 0
        self._lookups = self._false_positives = 0
        self._restored: list[tuple[str, int]] = []
        if resumed:
            self._take_up()
        store.on_commit = self._on_commit

    def __repr__(self) -> str:
        stats = self.statistics()
        return (
            f"<DiskStorage seen={self._seen} lanes={stats.lanes} in_memory={stats.in_memory} "
            f"uncommitted={stats.uncommitted}>"
        )

    def statistics(self) -> DiskStatistics:
        """What this storage did and holds, now."""
        lanes = [lane for host in self._lanes.values() for lane in host.values()]
        return DiskStatistics(
            rows_read=self._rows_read,
            reads=self._reads,
            keys_scanned=self._keys_scanned,
            lookups=self._lookups,
            false_positives=self._false_positives,
            in_memory=sum(len(lane.head) + len(lane.tail) for lane in lanes),
            uncommitted=len(self._pending),
            lanes=len(lanes),
            filter_bytes=self._filter.bytes,
        )

    # -- the seen set ------------------------------------------------------------------------

    @property
    def seen(self) -> int:
        return self._seen

    def see(self, key: str) -> bool:
        # Most links on a page were seen lately: two set lookups settle them before the filter.
        if key in self._recent or key in self._pending:
            return False
        if key in self._filter:
            if key in self._older:
                self._remember(key)
                return False
            self._lookups += 1
            if self._db.execute("SELECT 1 FROM urls WHERE key = ?", (key,)).fetchall():
                self._remember(key)
                return False
            self._false_positives += 1
        self._filter.add(key)
        self._pending.add(key)
        self._seen += 1
        return True

    def _remember(self, key: str) -> None:
        recent = self._recent
        recent.add(key)
        if len(recent) >= self._recent_size:
            self._older, self._recent = recent, set()

    # -- the queues ---------------------------------------------------------------------------

    def admitted(self, entry: Entry) -> None:
        self._seq += 1
        self._fresh = (entry.key, self._seq)

    def push(self, host: str, entry: Entry) -> None:
        fresh = self._fresh
        if fresh is None or fresh[0] != entry.key:
            raise MisuseError(
                f"a frontier on disk queues only the URL it just admitted, not {entry.url}"
            )
        self._fresh = None
        self._sync()
        seq = fresh[1]
        lane = self._lane(host, entry.depth)
        if not lane.on_disk and not lane.tail and len(lane.head) < self._window:
            lane.head.append(entry)
            lane.cursor = seq
        else:
            lane.tail.append((seq, entry))
            self._uncommitted.append((seq, lane))

    def push_front(self, host: str, entry: Entry) -> None:
        self._lane(host, entry.depth).head.appendleft(entry)

    def pop(self, host: str) -> Entry | None:
        self._sync()
        lanes = self._lanes.get(host)
        if not lanes:
            return None
        depth = min(lanes)
        lane = lanes[depth]
        if not lane.head and lane.on_disk:
            self._refill(host, depth, lane)
        if lane.head:
            entry = lane.head.popleft()
        else:
            seq, entry = lane.tail.popleft()
            lane.cursor = seq
        if not len(lane):
            del lanes[depth]
            if not lanes:
                del self._lanes[host]
        return entry

    def drain(self, host: str) -> list[Entry]:
        entries = list(self.entries(host))
        self._lanes.pop(host, None)
        return entries

    def entries(self, host: str) -> Iterator[Entry]:
        lanes = self._lanes.get(host, {})
        for depth in sorted(lanes):
            lane = lanes[depth]
            yield from lane.head
            if lane.on_disk:
                self._reads += 1
                rows = self._db.execute(
                    f"SELECT {_COLUMNS} FROM urls WHERE host = ? AND depth = ? "
                    "AND state = 'queued' AND seq > ? ORDER BY seq LIMIT ?",
                    (host, depth, lane.cursor, lane.on_disk),
                )
                for row in rows:
                    self._rows_read += 1
                    yield entry_of(*row[:7])
            yield from (entry for _, entry in lane.tail)

    def hosts(self) -> Iterator[tuple[str, int]]:
        restored, self._restored = self._restored, []
        return iter(restored)

    # -- internals ----------------------------------------------------------------------------

    def _lane(self, host: str, depth: int) -> _Lane:
        lanes = self._lanes.get(host)
        if lanes is None:
            lanes = self._lanes[host] = {}
        lane = lanes.get(depth)
        if lane is None:
            # Every entry of this host and depth admitted so far was taken: read past them.
            lane = lanes[depth] = _Lane(self._seq)
        return lane

    def _refill(self, host: str, depth: int, lane: _Lane) -> None:
        wanted = min(self._window, lane.on_disk)
        self._reads += 1
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM urls WHERE host = ? AND depth = ? "
            "AND state = 'queued' AND seq > ? ORDER BY seq LIMIT ?",
            (host, depth, lane.cursor, wanted),
        ).fetchall()
        if len(rows) != wanted:
            raise RuntimeError(
                f"the crawl state holds {len(rows)} queued URLs of {host} at depth {depth} "
                f"where {wanted} were expected; was it changed while the crawl ran?"
            )
        self._rows_read += wanted
        lane.head.extend(entry_of(*row[:7]) for row in rows)
        lane.cursor = rows[-1][7]
        lane.on_disk -= wanted

    def _on_commit(self, changes: Changes, last_seq: int) -> None:
        """On the writer's thread: note what the batch committed, for :meth:`_sync`."""
        keys = [entry.key for entry in changes.discovered]
        keys += [skip.key for skip in changes.skipped if skip.reason is not SkipReason.BUDGET]
        self._committed.append((last_seq, keys))

    def _sync(self) -> None:
        """Take up the batches the writer committed: their keys are on disk now, and so are
        the entries of the lanes' tails up to the last ``seq`` committed."""
        committed = self._committed
        while committed:
            last_seq, keys = committed.popleft()
            pending = self._pending
            for key in keys:
                pending.discard(key)
                self._remember(key)
            uncommitted = self._uncommitted
            while uncommitted and uncommitted[0][0] <= last_seq:
                seq, lane = uncommitted.popleft()
                if not lane.tail or lane.tail[0][0] != seq:
                    continue  # taken from the tail, or drained, before its batch committed
                entry = lane.tail.popleft()[1]
                if not lane.on_disk and len(lane.head) < self._window:
                    lane.head.append(entry)
                    lane.cursor = seq
                else:
                    lane.on_disk += 1

    def _take_up(self) -> None:
        """Resume: stream every key into the filter, and read one row per lane with work."""
        for (key,) in self._db.execute("SELECT key FROM urls"):
            self._filter.add(key)
            self._keys_scanned += 1
        self._seen = self._keys_scanned
        counts: dict[str, int] = {}
        firsts: dict[str, tuple[int, int]] = {}
        for host, depth, count, first in self._db.execute(
            "SELECT host, depth, COUNT(*), MIN(seq) FROM urls WHERE state = 'queued' "
            "GROUP BY host, depth"
        ):
            lane = self._lane(host, depth)
            lane.cursor = first - 1
            lane.on_disk = count
            counts[host] = counts.get(host, 0) + count
            firsts[host] = min(firsts.get(host, (depth, first)), (depth, first))
        # Hosts in the order of their first queued URL, shallowest first: the order in which
        # a memory frontier given the same URLs meets them (ties in the heap go by it).
        self._restored = sorted(counts.items(), key=lambda item: firsts[item[0]])


def open_frontier(
    config: CrawlConfig,
    kind: FrontierKind,
    store: SQLiteStore | None,
    resumed: Resumed | None,
    now: float,
) -> LocalFrontier:
    """The frontier for a crawl: in memory, or on disk in ``store``.

    A memory frontier of a resumed crawl is given every key and queued URL of the store
    (memory grows with the frontier: that is its nature); a frontier on disk reads them as
    the crawl goes.

    Raises:
        ValueError: a frontier on disk was asked for without a store.
    """
    if kind is FrontierKind.MEMORY:
        frontier = MemoryFrontier(
            config.traps,
            interval=config.interval,
            concurrency=config.host_concurrency,
            await_sends=config.await_sends,
        )
        if store is not None and resumed is not None:
            for key in store.seen_keys():
                frontier.mark_seen(key)
            for entry in store.queued():
                frontier.push(entry, now)
        return frontier
    if store is None:
        raise ValueError("a frontier on disk needs a state file")
    storage = DiskStorage(store, resumed=resumed is not None)
    return LocalFrontier(
        config.traps,
        interval=config.interval,
        concurrency=config.host_concurrency,
        storage=storage,
        await_sends=config.await_sends,
    )
