"""SQLite state: the frontier, the seen set and the records, in one WAL-mode file.

Tables: ``meta`` (the crawl's identity), ``urls`` (every admitted URL with its state: queued,
done or skipped) and ``records`` (each finished URL's JSON line, numbered in output order).
One connection, owned by the writer thread; each batch is one transaction, so after a crash
(even ``kill -9``) the file holds exactly the batches that committed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping
from pathlib import Path

import orjson

from spindle.crawl.core.hosts import Entry
from spindle.crawl.core.scheduler import Changes
from spindle.crawl.store.base import Resumed, StateMismatch

__all__ = ["SQLiteStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS urls (
    url TEXT PRIMARY KEY,
    depth INTEGER NOT NULL,
    parent TEXT,
    state TEXT NOT NULL CHECK (state IN ('queued', 'done', 'skipped')),
    reason TEXT
);
CREATE TABLE IF NOT EXISTS records (seq INTEGER PRIMARY KEY, url TEXT NOT NULL, line BLOB NOT NULL);
"""


class SQLiteStore:
    """Implements :class:`~spindle.crawl.store.base.CrawlStore` in a SQLite file.

    Raises:
        sqlite3.DatabaseError: the file exists and is not a SQLite database.
    """

    def __init__(self, path: str | Path) -> None:
        self._path = Path(path)
        self._db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._records = self._count("SELECT COUNT(*) FROM records")

    def _count(self, sql: str) -> int:
        row = self._db.execute(sql).fetchone()
        return int(row[0])

    def open(self, identity: Mapping[str, object]) -> Resumed | None:
        """Record the identity of a new crawl, or check it and load the saved one."""
        wanted = orjson.dumps(dict(identity), option=orjson.OPT_SORT_KEYS).decode()
        row = self._db.execute("SELECT value FROM meta WHERE key = 'identity'").fetchone()
        if row is None:
            self._db.execute("INSERT INTO meta VALUES ('identity', ?)", (wanted,))
            return None
        if row[0] != wanted:
            saved = orjson.loads(row[0])
            differs = sorted(
                k for k in set(saved) | set(identity) if saved.get(k) != identity.get(k)
            )
            raise StateMismatch(
                f"{self._path} holds a different crawl ({', '.join(differs)} differ); "
                "use another --state file or the original options"
            )
        queued = [
            Entry(url, depth, parent)
            for url, depth, parent in self._db.execute(
                "SELECT url, depth, parent FROM urls WHERE state = 'queued' ORDER BY depth, rowid"
            )
        ]
        seen = [url for (url,) in self._db.execute("SELECT url FROM urls")]
        skipped = self._count("SELECT COUNT(*) FROM urls WHERE state = 'skipped'")
        return Resumed(queued=queued, seen=seen, pages_done=self._records, skipped=skipped)

    def save(self, changes: Changes, encoded: list[bytes]) -> None:
        """Apply one batch in one transaction."""
        db = self._db
        db.execute("BEGIN")
        try:
            db.executemany(
                "INSERT OR IGNORE INTO urls (url, depth, parent, state) VALUES (?, ?, ?, 'queued')",
                [(e.url, e.depth, e.parent) for e in changes.discovered],
            )
            db.executemany(
                "UPDATE urls SET state = 'skipped', reason = ? WHERE url = ?",
                [(s.reason, s.url) for s in changes.skipped],
            )
            first = self._records
            db.executemany(
                "INSERT INTO records (seq, url, line) VALUES (?, ?, ?)",
                [
                    (first + i, r.url, line)
                    for i, (r, line) in enumerate(zip(changes.records, encoded, strict=True))
                ],
            )
            db.executemany(
                "UPDATE urls SET state = 'done' WHERE url = ?",
                [(r.url,) for r in changes.records],
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self._records += len(changes.records)

    def encoded_records(self, start: int) -> Iterator[bytes]:
        """Yield the saved JSON lines from position ``start`` on."""
        cursor = self._db.execute("SELECT line FROM records WHERE seq >= ? ORDER BY seq", (start,))
        for (line,) in cursor:
            yield bytes(line)

    def close(self) -> None:
        """Checkpoint the WAL and close the file."""
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._db.close()
