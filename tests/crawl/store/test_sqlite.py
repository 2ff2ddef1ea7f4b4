"""The SQLite store and the JSON Lines output: atomic batches, identity checks, repair."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from spindle.crawl.core import Changes, Entry, PageRecord, Skip
from spindle.crawl.output import open_output, repair_jsonl
from spindle.crawl.store import SQLiteStore, StateMismatch

IDENTITY = {"seeds": ["http://a.test/"], "scope": "host", "max_depth": 2, "obey_robots": True}


def record(url: str) -> PageRecord:
    return PageRecord(url, url, 200, 0, None, "text/html", 10, 0, 1.7e9, 5.0, 1)


def test_fresh_then_resumed(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    store = SQLiteStore(path)
    assert store.open(IDENTITY) is None
    changes = Changes(
        records=[record("http://a.test/")],
        discovered=[
            Entry("http://a.test/", 0, None),
            Entry("http://a.test/b", 1, "http://a.test/"),
            Entry("http://a.test/a", 1, "http://a.test/"),
            Entry("http://a.test/x", 1, "http://a.test/"),
        ],
        skipped=[Skip("http://a.test/x", 1, "http://a.test/", "robots")],
    )
    store.save(changes, [b'{"url":"http://a.test/"}'])
    store.close()

    again = SQLiteStore(path)
    resumed = again.open(IDENTITY)
    assert resumed is not None
    assert [e.url for e in resumed.queued] == ["http://a.test/b", "http://a.test/a"]
    assert sorted(resumed.seen) == [
        "http://a.test/",
        "http://a.test/a",
        "http://a.test/b",
        "http://a.test/x",
    ]
    assert (resumed.pages_done, resumed.skipped) == (1, 1)
    assert list(again.encoded_records(0)) == [b'{"url":"http://a.test/"}']
    assert list(again.encoded_records(1)) == []
    again.close()


def test_identity_mismatch_names_what_differs(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.sqlite")
    store.open(IDENTITY)
    with pytest.raises(StateMismatch, match=r"\(max_depth, scope differ\)"):
        store.open({**IDENTITY, "max_depth": 3, "scope": "any"})
    store.close()


def test_a_failed_batch_leaves_nothing_behind(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.sqlite")
    store.open(IDENTITY)
    bad = Changes(records=[record("http://a.test/")], discovered=[Entry("http://a.test/", 0, None)])
    with pytest.raises(ValueError, match="zip"):
        store.save(bad, [])  # lines and records disagree: the transaction rolls back
    resumed = SQLiteStore(tmp_path / "s.sqlite").open(IDENTITY)
    assert resumed is not None
    assert (resumed.seen, resumed.pages_done) == ([], 0)


def test_repair_and_resume_output(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_bytes(b'{"a":1}\n{"b":2}\n{"c":3')
    sink, lines = open_output(str(out), resume=True)
    assert lines == 2
    sink.write([orjson.dumps({"c": 3})])
    sink.close()
    assert out.read_bytes() == b'{"a":1}\n{"b":2}\n{"c":3}\n'
    assert repair_jsonl(out) == 3


def test_fresh_output_truncates(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_bytes(b"old\n")
    sink, lines = open_output(str(out), resume=False)
    sink.close()
    assert (lines, out.read_bytes()) == (None, b"")
