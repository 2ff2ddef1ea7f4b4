"""SQLite state: the frontier, the seen set and the records, in one WAL-mode file.

Tables: ``meta`` (the crawl's identity and the schema version), ``urls`` (every URL the crawl
judged, by canonical key: queued with its next attempt and redirect chain, done, or skipped
with the reason, trap refusals included; an admitted URL also has its host and its place
``seq`` in the order of admission, and the queued ones are indexed by host, depth and
``seq``, which is the frontier on disk), ``records`` and ``skips`` (each output line,
numbered in output order), ``robots`` (each host's robots.txt decision, with the file read,
so a resumed crawl need not fetch it again), ``trap_counts`` (what the trap guards
counted, per host and per path) and ``warc`` (one row: the WARC file and offset where the
last committed batch's records end). One connection, owned by the writer
thread; each batch is one transaction, so after a crash (even ``kill -9``) the file holds
exactly the batches that committed.

The file is locked (``flock``, exclusive) for as long as the store is open, so two crawls can
never share one state file.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from pathlib import Path

import orjson

from spindle.crawl.core.traps import counted_under
from spindle.crawl.core.urls import host_key
from spindle.crawl.core.values import (
    Changes,
    Entry,
    ErrorKind,
    FetchKind,
    RecordError,
    Resumed,
    RobotsDecision,
    SkipReason,
    TrapTally,
)
from spindle.crawl.store.base import StateInUse, StateMismatch, Stream, WarcMark

__all__ = ["SCHEMA_VERSION", "CommitListener", "SQLiteStore"]

SCHEMA_VERSION = "4"

CommitListener = Callable[[Changes, int], None]
"""Told, on the writer's thread, of each batch just committed and the last ``seq`` given."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS urls (
    key TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    depth INTEGER NOT NULL,
    parent TEXT,
    state TEXT NOT NULL CHECK (state IN ('queued', 'done', 'skipped')),
    reason TEXT,
    attempt INTEGER NOT NULL DEFAULT 1,
    chain BLOB,
    kind TEXT NOT NULL DEFAULT 'page',
    host TEXT,
    seq INTEGER
);
CREATE INDEX IF NOT EXISTS urls_queued ON urls (host, depth, seq) WHERE state = 'queued';
CREATE INDEX IF NOT EXISTS urls_retrying ON urls (attempt) WHERE state = 'queued' AND attempt > 1;
CREATE TABLE IF NOT EXISTS trap_counts (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    fetched INTEGER NOT NULL,
    status INTEGER,
    line BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS skips (seq INTEGER PRIMARY KEY, line BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS robots (
    host TEXT PRIMARY KEY,
    reachable INTEGER NOT NULL,
    body BLOB,
    reason_kind TEXT,
    reason_message TEXT,
    fetched_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS warc (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    file INTEGER NOT NULL,
    offset INTEGER NOT NULL
);
"""


class SQLiteStore:
    """Implements :class:`~spindle.crawl.store.base.CrawlStore` in a SQLite file.

    Raises:
        StateInUse: another process holds the file.
        StateMismatch: the file is another program's SQLite database (it is left untouched).
        sqlite3.DatabaseError: the file exists and is not a SQLite database.
    """

    def __init__(self, path: str | Path) -> None:
        self._path = Path(path)
        self._lock_fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock_fd)
            raise StateInUse(f"{self._path}: state file in use by another crawl") from None
        try:
            self._db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            tables = {
                name
                for (name,) in self._db.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            if tables and "meta" not in tables:  # someone else's database: leave it untouched
                raise StateMismatch(
                    f"{self._path} is a SQLite database but not a Spindle state file"
                )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            self._next = {
                Stream.RECORDS: self._count("SELECT COUNT(*) FROM records"),
                Stream.SKIPS: self._count("SELECT COUNT(*) FROM skips"),
            }
            self._next_seq = self._count("SELECT COALESCE(MAX(seq), 0) FROM urls") + 1
            self._readers: list[sqlite3.Connection] = []
            self.on_commit: CommitListener | None = None
        except BaseException:
            # Closing our descriptor would drop SQLite's own locks too; close SQLite first.
            self._release()
            raise

    def _release(self) -> None:
        for reader in getattr(self, "_readers", ()):
            reader.close()
        db = getattr(self, "_db", None)
        if db is not None:
            db.close()
        os.close(self._lock_fd)

    @property
    def next_seq(self) -> int:
        """The ``seq`` the next admitted URL will get (the first is 1)."""
        return self._next_seq

    def reader(self) -> sqlite3.Connection:
        """A read-only connection of its own, for one thread other than the writer's (the
        frontier's); it sees each batch once committed, and closes with the store."""
        reader = sqlite3.connect(
            f"file:{self._path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
        )
        self._readers.append(reader)
        return reader

    def seen_keys(self) -> Iterator[str]:
        """Every key the crawl has judged (for a frontier that keeps its seen set in memory)."""
        for (key,) in self._db.execute("SELECT key FROM urls"):
            yield key

    def queued(self) -> Iterator[Entry]:
        """Every queued URL, shallowest first, in the order of admission."""
        for url, key, depth, parent, attempt, chain, kind in self._db.execute(
            "SELECT url, key, depth, parent, attempt, chain, kind FROM urls "
            "WHERE state = 'queued' ORDER BY depth, seq"
        ):
            yield entry_of(url, key, depth, parent, attempt, chain, kind)

    def _count(self, sql: str) -> int:
        row = self._db.execute(sql).fetchone()
        return int(row[0])

    def open(self, identity: Mapping[str, object]) -> Resumed | None:
        """Record the identity of a new crawl, or check it and load the saved one."""
        wanted = orjson.dumps(dict(identity), option=orjson.OPT_SORT_KEYS).decode()
        meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        if "identity" not in meta:
            if any(self._next.values()) or self._count("SELECT COUNT(*) FROM urls"):
                raise StateMismatch(f"{self._path} holds crawl state without an identity")
            self._db.executemany(
                "INSERT INTO meta VALUES (?, ?)",
                [("identity", wanted), ("schema", SCHEMA_VERSION)],
            )
            return None
        if meta.get("schema") != SCHEMA_VERSION:
            raise StateMismatch(
                f"{self._path} was written by another version of Spindle (state format "
                f"{meta.get('schema', '1')}, this version reads {SCHEMA_VERSION})"
            )
        if meta["identity"] != wanted:
            saved = orjson.loads(meta["identity"])
            differs = sorted(
                k for k in set(saved) | set(identity) if saved.get(k) != identity.get(k)
            )
            raise StateMismatch(
                f"{self._path} holds a different crawl ({', '.join(differs)} differ); "
                "use another state file or the original options"
            )
        return self._load()

    def _load(self) -> Resumed:
        db = self._db
        robots = [
            RobotsDecision(host, bool(reachable), body, _reason(kind, message), fetched_at)
            for host, reachable, body, kind, message, fetched_at in db.execute(
                "SELECT host, reachable, body, reason_kind, reason_message, fetched_at FROM robots"
            )
        ]
        counts: dict[str, dict[str, int]] = {"host": {}, "path": {}}
        for kind, key, n in db.execute("SELECT kind, key, n FROM trap_counts"):
            counts[kind][key] = n
        return Resumed(
            pages_done=self._count("SELECT COUNT(*) FROM records WHERE fetched"),
            fetched=self._count("SELECT COUNT(*) FROM records WHERE status IS NOT NULL"),
            retrying=self._count(
                "SELECT COUNT(*) FROM urls WHERE state = 'queued' AND attempt > 1"
            ),
            traps=TrapTally(counts["host"], counts["path"]),
            robots=robots,
        )

    def save(
        self, changes: Changes, lines: Mapping[Stream, list[bytes]], warc: WarcMark | None = None
    ) -> None:
        """Apply one batch in one transaction."""
        db = self._db
        first_seq = self._next_seq
        db.execute("BEGIN")
        try:
            db.executemany(
                "INSERT OR IGNORE INTO urls (key, url, depth, parent, state, kind, host, seq) "
                "VALUES (?, ?, ?, ?, 'queued', ?, ?, ?)",
                [
                    (e.key, e.url, e.depth, e.parent, e.kind.value, host_key(e.url), first_seq + i)
                    for i, e in enumerate(changes.discovered)
                ],
            )
            self._count_traps(changes)
            db.executemany(
                "UPDATE urls SET attempt = ?, chain = ? WHERE key = ?",
                [
                    (e.attempt, orjson.dumps(e.redirect_chain) if e.redirect_chain else None, e.key)
                    for e in changes.retried
                ],
            )
            db.executemany(
                "INSERT INTO urls (key, url, depth, parent, state, reason) "
                "VALUES (?, ?, ?, ?, 'skipped', ?) "
                "ON CONFLICT (key) DO UPDATE SET state = 'skipped', reason = excluded.reason",
                [
                    (s.key, s.url, s.depth, s.parent, s.reason.value)
                    for s in changes.skipped
                    if s.reason is not SkipReason.BUDGET  # still queued, for a resumed run
                ],
            )
            db.executemany(
                "INSERT OR REPLACE INTO robots VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (
                        d.host,
                        d.reachable,
                        d.body,
                        d.reason[0].value if d.reason else None,
                        d.reason[1] if d.reason else None,
                        d.fetched_at,
                    )
                    for d in changes.robots
                ],
            )
            first = self._next[Stream.RECORDS]
            records = zip(changes.records, lines[Stream.RECORDS], strict=True)
            db.executemany(
                "INSERT INTO records (seq, key, fetched, status, line) VALUES (?, ?, ?, ?, ?)",
                [
                    (first + i, r.key, r.attempts > 0, r.status, line)
                    for i, (r, line) in enumerate(records)
                ],
            )
            skip_lines = lines[Stream.SKIPS]
            if len(skip_lines) != len(changes.skipped):
                raise ValueError("one line per skip is needed")
            first_skip = self._next[Stream.SKIPS]
            db.executemany(
                "INSERT INTO skips (seq, line) VALUES (?, ?)",
                [(first_skip + i, line) for i, line in enumerate(skip_lines)],
            )
            db.executemany(
                "UPDATE urls SET state = 'done' WHERE key = ?",
                [(r.key,) for r in changes.records if r.attempts > 0]
                + [(key,) for key in changes.read],
            )
            if warc is not None:
                db.execute("INSERT OR REPLACE INTO warc VALUES (1, ?, ?)", warc)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self._next[Stream.RECORDS] += len(changes.records)
        self._next[Stream.SKIPS] += len(changes.skipped)
        self._next_seq += len(changes.discovered)
        if self.on_commit is not None:
            self.on_commit(changes, self._next_seq - 1)

    def _count_traps(self, changes: Changes) -> None:
        """Count the admitted URLs as the trap guards did (each passed them once)."""
        counts: Counter[tuple[str, str]] = Counter()
        for entry in changes.discovered:
            host, path = counted_under(entry.url)
            counts["host", host] += 1
            if path is not None:
                counts["path", path] += 1
        self._db.executemany(
            "INSERT INTO trap_counts VALUES (?, ?, ?) "
            "ON CONFLICT (kind, key) DO UPDATE SET n = n + excluded.n",
            [(kind, key, n) for (kind, key), n in counts.items()],
        )

    def warc_mark(self) -> WarcMark | None:
        """The WARC file and offset saved with the last committed batch."""
        row = self._db.execute("SELECT file, offset FROM warc").fetchone()
        return None if row is None else WarcMark(int(row[0]), int(row[1]))

    def setting(self, name: str, default: Callable[[], str]) -> str:
        """The value kept under ``name`` beside the crawl's identity, made by ``default`` and
        kept the first time it is asked for (a shared crawl keeps its worker name here)."""
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (f"setting:{name}",))
        found = row.fetchone()
        if found is not None:
            return str(found[0])
        value = default()
        self._db.execute("INSERT INTO meta VALUES (?, ?)", (f"setting:{name}", value))
        return value

    def recorded(self, keys: Iterable[str]) -> set[str]:
        """Those of ``keys`` that have a record in the state."""
        wanted = list(dict.fromkeys(keys))
        found: set[str] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(
                key
                for (key,) in self._db.execute(
                    f"SELECT key FROM records WHERE key IN ({marks})", chunk
                )
            )
        return found

    def encoded(self, stream: Stream, start: int) -> Generator[bytes, None, None]:
        """Yield the saved lines of ``stream`` from position ``start`` on."""
        table = "records" if stream is Stream.RECORDS else "skips"
        cursor = self._db.execute(f"SELECT line FROM {table} WHERE seq >= ? ORDER BY seq", (start,))
        try:
            for (line,) in cursor:
                yield bytes(line)
        finally:
            cursor.close()

    def close(self) -> None:
        """Checkpoint the WAL, close the file and release the lock."""
        try:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error:
            pass  # the WAL stays beside the file, and SQLite replays it on the next open
        finally:
            self._release()


def entry_of(
    url: str,
    key: str,
    depth: int,
    parent: str | None,
    attempt: int,
    chain: bytes | None,
    kind: str,
) -> Entry:
    """An :class:`Entry` from the columns of its ``urls`` row."""
    return Entry(
        url,
        key,
        depth,
        parent,
        attempt,
        tuple(orjson.loads(chain)) if chain else (),
        FetchKind(kind),
    )


def _reason(kind: str | None, message: str | None) -> RecordError | None:
    if kind is None or message is None:
        return None
    parsed: ErrorKind | SkipReason
    try:
        parsed = ErrorKind(kind)
    except ValueError:
        parsed = SkipReason(kind)
    return parsed, message
