"""The SQLite store and the JSON Lines output: atomic batches, identity checks, locking, what a
resume gets back, and verified repair of the output."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from spindle.crawl.core import Changes, Entry, ErrorKind, PageRecord, Skip, SkipReason, TrapRule
from spindle.crawl.core.values import Resumed, RobotsDecision, TrapTally
from spindle.crawl.store import SQLiteStore, StateInUse, StateMismatch
from spindle.crawl.store.base import Stream, WarcMark
from spindle.crawl.store.jsonl import OutputMismatch, open_output, verify_and_repair

IDENTITY = {"seeds": ["http://a.test/"], "scope": "host", "max_depth": 2, "obey_robots": True}
A = "http://a.test"


def record(url: str, attempts: int = 1, status: int | None = 200) -> PageRecord:
    return PageRecord(url, url, url, status, 0, None, "text/html", 10, 0, 1.7e9, 5.0, attempts)


def entry(path: str, depth: int = 1, **kwargs: object) -> Entry:
    return Entry(f"{A}{path}", f"{A}{path}", depth, f"{A}/" if depth else None, **kwargs)  # type: ignore[arg-type]


def lines(records: list[bytes], skips: list[bytes]) -> dict[Stream, list[bytes]]:
    return {Stream.RECORDS: records, Stream.SKIPS: skips}


def test_fresh_then_resumed(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    store = SQLiteStore(path)
    assert store.open(IDENTITY) is None
    changes = Changes(
        records=[record(f"{A}/")],
        discovered=[entry("/", 0), entry("/b"), entry("/a"), entry("/x")],
        retried=[entry("/a", attempt=3, redirect_chain=(f"{A}/old",))],
        skipped=[
            Skip(f"{A}/x", f"{A}/x", 1, f"{A}/", SkipReason.ROBOTS),
            Skip(f"{A}/t?1", f"{A}/t?1", 1, f"{A}/", SkipReason.TRAP, TrapRule.QUERY_VARIANTS),
        ],
    )
    store.save(changes, lines([b'{"url":"http://a.test/"}'], [b'{"x":1}', b'{"t":1}']))
    store.close()

    again = SQLiteStore(path)
    resumed = again.open(IDENTITY)
    assert resumed == Resumed(
        pages_done=1, fetched=1, retrying=1, traps=TrapTally({A: 4}, {}), robots=[]
    )
    assert list(again.queued()) == [
        entry("/b"),
        entry("/a", attempt=3, redirect_chain=(f"{A}/old",)),
    ]
    # trap refusals stay seen
    assert sorted(again.seen_keys()) == sorted(f"{A}{p}" for p in ("/", "/a", "/b", "/t?1", "/x"))
    assert list(again.encoded(Stream.RECORDS, 0)) == [b'{"url":"http://a.test/"}']
    assert list(again.encoded(Stream.RECORDS, 1)) == []
    assert list(again.encoded(Stream.SKIPS, 1)) == [b'{"t":1}']
    again.close()


def test_a_seed_never_fetched_is_a_record_but_not_a_page_done(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.sqlite")
    store.open(IDENTITY)
    seed = record(f"{A}/", attempts=0, status=None)
    store.save(
        Changes(
            records=[seed],
            discovered=[entry("/", 0)],
            skipped=[Skip(f"{A}/", f"{A}/", 0, None, SkipReason.ROBOTS)],
        ),
        lines([b"{}"], [b"{}"]),
    )
    store.close()
    again = SQLiteStore(tmp_path / "s.sqlite")
    resumed = again.open(IDENTITY)
    assert resumed is not None
    assert (resumed.pages_done, resumed.fetched, list(again.queued())) == (0, 0, [])
    again.close()


def test_identity_mismatch_names_what_differs(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.sqlite")
    store.open(IDENTITY)
    with pytest.raises(StateMismatch, match=r"\(max_depth, scope differ\)"):
        store.open({**IDENTITY, "max_depth": 3, "scope": "any"})
    store.close()


def test_a_state_file_of_an_older_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.execute("INSERT INTO meta VALUES ('identity', '{}')")
    store = SQLiteStore(path)
    with pytest.raises(StateMismatch, match="another version of Spindle"):
        store.open(IDENTITY)
    store.close()


def test_another_programs_database_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "theirs.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE customers (name TEXT)")
    before = path.read_bytes()
    with pytest.raises(StateMismatch, match="not a Spindle state file"):
        SQLiteStore(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["theirs.sqlite"]


def test_a_state_file_is_locked_while_open(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    store = SQLiteStore(path)
    holder = "import sys; from spindle.crawl.store import SQLiteStore; SQLiteStore(sys.argv[1])"
    other = subprocess.run(
        [sys.executable, "-c", holder, str(path)], capture_output=True, text=True, check=False
    )
    assert "StateInUse" in other.stderr
    assert "state file in use" in other.stderr
    with pytest.raises(StateInUse):
        SQLiteStore(path)
    store.close()
    SQLiteStore(path).close()  # free again once closed


def test_a_failed_batch_leaves_nothing_behind(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.sqlite")
    store.open(IDENTITY)
    with pytest.raises(ValueError, match="zip"):
        store.save(Changes(records=[record(f"{A}/")], discovered=[entry("/", 0)]), lines([], []))
    assert list(store.encoded(Stream.RECORDS, 0)) == []
    store.close()


def _store_with(tmp_path: Path, lines: list[bytes]) -> SQLiteStore:
    store = SQLiteStore(tmp_path / "s.sqlite")
    store.open(IDENTITY)
    records = [record(f"{A}/{i}") for i in range(len(lines))]
    store.save(Changes(records=records), {Stream.RECORDS: lines, Stream.SKIPS: []})
    return store


def test_resume_repairs_a_torn_line_and_appends_what_is_missing(tmp_path: Path) -> None:
    lines = [b'{"a":1}', b'{"b":2}', b'{"c":3}']
    store = _store_with(tmp_path, lines)
    out = tmp_path / "out.jsonl"
    out.write_bytes(b'{"a":1}\n{"b":')
    sink = open_output(str(out), resume_from=store)
    sink.close()
    assert out.read_bytes() == b'{"a":1}\n{"b":2}\n{"c":3}\n'
    out.unlink()  # a lost output is rewritten whole from the state
    open_output(str(out), resume_from=store).close()
    assert out.read_bytes() == b'{"a":1}\n{"b":2}\n{"c":3}\n'
    store.close()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'garbage\n{"b":2}\n', r"out.jsonl:1: the line differs"),
        (b'{"a":1}\n{"x":9}\n', r"out.jsonl:2: the line differs"),
        (b'{"a":1}\n{"b":2}\n{"c":3}\n{"d":4}\n', r"out.jsonl:4: the file has more records"),
    ],
)
def test_resume_refuses_an_output_that_differs_from_the_state(
    tmp_path: Path, content: bytes, message: str
) -> None:
    """Replacing the first line with garbage used to keep the garbage and drop a real record."""
    store = _store_with(tmp_path, [b'{"a":1}', b'{"b":2}', b'{"c":3}'])
    out = tmp_path / "out.jsonl"
    out.write_bytes(content)
    with pytest.raises(OutputMismatch, match=message):
        open_output(str(out), resume_from=store)
    assert out.read_bytes() == content  # untouched
    store.close()


def test_verify_and_repair_counts_complete_lines(tmp_path: Path) -> None:
    out = tmp_path / "o.jsonl"
    out.write_bytes(b"")
    assert verify_and_repair(out, iter([b"x"])) == 0
    out.write_bytes(b"x\ny")
    assert verify_and_repair(out, iter([b"x", b"y"])) == 1
    assert out.read_bytes() == b"x\n"


def test_fresh_output_truncates(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_bytes(b"old\n")
    sink = open_output(str(out), resume_from=None)
    sink.write([orjson.dumps({"n": 1})])
    sink.close()
    assert out.read_bytes() == b'{"n":1}\n'


def test_robots_decisions_are_kept(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.sqlite")
    store.open(IDENTITY)
    kept = [
        RobotsDecision(A, True, b"User-agent: *\nDisallow: /x\n", None, 1.7e9),
        RobotsDecision("http://b.test", False, None, (ErrorKind.DNS, "no such host"), 1.7e9),
        RobotsDecision("http://c.test", False, None, (SkipReason.ROBOTS_UNREACHABLE, "503"), 1.7e9),
    ]
    store.save(Changes(robots=kept), lines([], []))
    store.close()
    again = SQLiteStore(tmp_path / "s.sqlite")
    resumed = again.open(IDENTITY)
    assert resumed is not None
    assert sorted(resumed.robots, key=lambda d: d.host) == kept
    again.close()


def test_the_warc_mark_commits_with_its_batch(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.sqlite")
    store.open(IDENTITY)
    assert store.warc_mark() is None
    store.save(Changes(records=[record(f"{A}/")]), lines([b"{}"], []), WarcMark(0, 1234))
    with pytest.raises(ValueError, match="zip"):  # a batch that fails keeps the old mark
        store.save(Changes(records=[record(f"{A}/b")]), lines([], []), WarcMark(1, 99))
    store.save(Changes(), lines([], []))  # a batch without a mark keeps it too
    store.close()
    again = SQLiteStore(tmp_path / "s.sqlite")
    assert again.open(IDENTITY) is not None
    assert again.warc_mark() == WarcMark(0, 1234)
    again.close()


def test_a_state_of_the_previous_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    SQLiteStore(path).close()
    with sqlite3.connect(path) as db:
        db.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [("identity", orjson.dumps(IDENTITY).decode()), ("schema", "3")],
        )
    db.close()
    store = SQLiteStore(path)
    with pytest.raises(StateMismatch, match="state format 3, this version reads 4"):
        store.open(IDENTITY)
    store.close()
