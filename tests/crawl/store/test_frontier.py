"""The frontier on disk against the memory frontier as its model: the same decisions for the
same operations, a seen set exact behind its filter, a resume that reads nothing that grows
with the frontier, and trap counts that survive it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spindle.crawl.core import (
    Changes,
    CrawlConfig,
    CrawlScheduler,
    Entry,
    MisuseError,
    PageRecord,
    ScopeRule,
    Skip,
    SkipReason,
    TrapLimits,
    TrapRule,
)
from spindle.crawl.core.frontier import Admission, LocalFrontier, MemoryFrontier
from spindle.crawl.core.values import Resumed, TrapTally
from spindle.crawl.store.base import Stream
from spindle.crawl.store.frontier import DiskStorage, FrontierKind, KeyFilter, open_frontier
from spindle.crawl.store.sqlite import SQLiteStore
from tests.crawl.core.harness import Harness, page, status

IDENTITY = {"seeds": ["http://a.test/"], "scope": "any", "max_depth": 9, "obey_robots": False}
HOSTS = ("http://a.test", "http://b.test", "http://c.test")
LIMITS = TrapLimits(max_query_variants=3)


def save(store: SQLiteStore, changes: Changes) -> None:
    lines = {
        Stream.RECORDS: [b"{}"] * len(changes.records),
        Stream.SKIPS: [b"{}"] * len(changes.skipped),
    }
    store.save(changes, lines)


def opened(path: Path) -> tuple[SQLiteStore, Resumed | None]:
    store = SQLiteStore(path)
    return store, store.open(IDENTITY)


class Pair:
    """The disk frontier and its model, driven alike; every answer is compared."""

    def __init__(self, path: Path, window: int) -> None:
        self.path, self.window = path, window
        self.store, resumed = opened(path)
        assert resumed is None
        self.model = MemoryFrontier(LIMITS, interval=0.5, concurrency=2)
        self.disk = self._disk(resumed=False)
        self.pending = Changes()
        self.leased: list[tuple[str, Entry]] = []
        self.now = 0.0

    def _disk(self, *, resumed: bool) -> LocalFrontier:
        storage = DiskStorage(
            self.store, resumed=resumed, window=self.window, keys=KeyFilter(64, 0.2)
        )
        return LocalFrontier(LIMITS, interval=0.5, concurrency=2, storage=storage)

    def both(self, call: Callable[[LocalFrontier], object]) -> object:
        expected, got = call(self.model), call(self.disk)
        assert got == expected
        assert (self.disk.queued, self.disk.seen, self.disk.in_flight) == (
            self.model.queued,
            self.model.seen,
            self.model.in_flight,
        )
        return got

    def admit(self, host: int, path: str, depth: int) -> None:
        url = f"{HOSTS[host]}/{path}"
        entry = Entry(url, url, depth, None)
        verdict = self.both(lambda f: f.admit(entry))
        if verdict is Admission.NEW:
            self.pending.discovered.append(entry)
            self.both(lambda f: f.push(entry, self.now))
        elif isinstance(verdict, TrapRule):
            self.pending.skipped.append(Skip(url, url, depth, None, SkipReason.TRAP, verdict))

    def take(self) -> None:
        lease = self.both(lambda f: f.take(self.now))
        if lease is not None and not hasattr(lease, "until"):
            self.leased.append((lease.host, lease.entry))  # type: ignore[union-attr]

    def settle(self, index: int, how: str) -> None:
        if not self.leased:
            return
        host, entry = self.leased.pop(index % len(self.leased))
        if how == "finish":
            self.both(lambda f: f.finish(host, self.now))
            self.pending.records.append(_record(entry))
        elif how == "putback":
            self.both(lambda f: f.putback(host, entry, self.now))
            self.both(lambda f: f.release(host, self.now))
        else:
            again = Entry(entry.url, entry.key, entry.depth, None, entry.attempt + 1)
            self.both(lambda f: f.finish(host, self.now))
            self.both(lambda f: f.push_retry(again, self.now + 0.7, self.now))
            self.pending.retried.append(again)

    def drain(self, host: int) -> None:
        if HOSTS[host] in self.model._hosts:
            drained = self.both(lambda f: f.drain(HOSTS[host], self.now))
            for entry in drained:  # type: ignore[attr-defined]
                skip = Skip(entry.url, entry.key, entry.depth, None, SkipReason.ROBOTS)
                self.pending.skipped.append(skip)

    def commit(self) -> None:
        save(self.store, self.pending)
        self.pending = Changes()

    def restart(self) -> None:
        """A crash after a commit: in-flight URLs are queued again, retries are queued URLs."""
        self.commit()
        self.store.close()
        self.store, resumed = opened(self.path)
        assert resumed is not None
        self.model = open_frontier(
            CrawlConfig(seeds=("http://a.test/",), rate=2.0, host_concurrency=2, traps=LIMITS),
            FrontierKind.MEMORY,
            self.store,
            resumed,
            self.now,
        )
        self.disk = self._disk(resumed=True)
        self.leased = []
        for frontier in (self.model, self.disk):
            frontier.restore(resumed.traps, 0, self.now)
        self.both(lambda f: list(f.waiting()))


def _record(entry: Entry) -> PageRecord:
    return PageRecord(
        entry.url, entry.key, entry.url, 200, entry.depth, None, None, 0, 0, 1.0, 1, 1
    )


operations = st.one_of(
    st.tuples(
        st.just("admit"),
        st.integers(0, 2),
        st.sampled_from(["a", "b", "c", "d", "e", "f", "g", "h", "q?1", "q?2", "q?3", "q?4"]),
        st.integers(0, 2),
    ),
    st.tuples(st.just("take")),
    st.tuples(
        st.just("settle"), st.integers(0, 5), st.sampled_from(["finish", "putback", "retry"])
    ),
    st.tuples(st.just("drain"), st.integers(0, 2)),
    st.tuples(st.just("commit")),
    st.tuples(st.just("tick"), st.sampled_from([0.1, 0.5, 1.0])),
    st.tuples(st.just("restart")),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=st.lists(operations, max_size=80))
def test_the_disk_frontier_decides_as_the_memory_frontier(tmp_path: Path, ops: list) -> None:  # type: ignore[type-arg]
    path = tmp_path / f"model-{len(list(tmp_path.iterdir()))}.sqlite"
    pair = Pair(path, window=2)
    try:
        for op in ops:
            name, *args = op
            if name == "tick":
                pair.now += args[0]
            else:
                getattr(pair, name)(*args)
        pair.both(lambda f: list(f.waiting()))
    finally:
        pair.store.close()


def tree(host: str, pages: int, fanout: int = 3) -> dict[str, list]:  # type: ignore[type-arg]
    site: dict[str, list] = {}  # type: ignore[type-arg]
    for n in range(pages):
        links = [f"/p/{k}" for k in range(fanout * n + 1, fanout * n + fanout + 1) if k < pages]
        links += [f"/p/{(n * 7) % pages}", "/cal?m=1", f"/cal?m={n % 9}"]
        script = [status(503), page(*links)] if n % 17 == 5 else [page(*links)]
        site[f"{host}/p/{n}"] = script
    site[f"{host}/"] = [page("/p/0", "http://b.test/p/0")]
    return site


def test_a_whole_crawl_on_disk_matches_the_crawl_in_memory(tmp_path: Path) -> None:
    """Same fetches at the same times, with the writer lagging two batches behind."""
    site = tree("http://a.test", 120) | tree("http://b.test", 60)
    config = CrawlConfig(
        seeds=("http://a.test/",),
        scope=ScopeRule.ANY,
        obey_robots=False,
        rate=20.0,
        host_concurrency=2,
        max_depth=9,
        traps=TrapLimits(max_query_variants=4),
    )
    memory = Harness(config, site).run()

    store, _ = opened(tmp_path / "crawl.sqlite")
    lagging: list[Changes] = []

    def commit_late(changes: Changes) -> None:
        lagging.append(changes)
        if len(lagging) > 2:
            save(store, lagging.pop(0))

    storage = DiskStorage(store, resumed=False, window=3)
    frontier = LocalFrontier(config.traps, interval=config.interval, concurrency=2, storage=storage)
    disk = Harness(config, site, frontier=frontier, on_changes=commit_late).run()
    store.close()
    assert [(t, f.url, f.attempt) for t, f in disk.log] == [
        (t, f.url, f.attempt) for t, f in memory.log
    ]
    assert len(memory.log) > 180
    assert storage.statistics().reads > 10  # it did read its queues back from the state


def test_the_seen_set_is_exact_behind_a_filter_that_errs_often(tmp_path: Path) -> None:
    store, _ = opened(tmp_path / "s.sqlite")
    storage = DiskStorage(store, resumed=False, recent=4, keys=KeyFilter(16, 0.3))
    model: set[str] = set()
    changes = Changes()
    for i in range(3000):
        key = f"http://a.test/{(i * 7919) % 1700}"
        new = key not in model
        model.add(key)
        assert storage.see(key) is new, key
        if new:
            entry = Entry(key, key, 1, None)
            storage.admitted(entry)
            storage.push("http://a.test", entry)
            changes.discovered.append(entry)
        if i % 97 == 0:
            save(store, changes)
            changes = Changes()
    stats = storage.statistics()
    assert stats.false_positives > 100  # the filter erred, and no new key was turned away
    assert stats.lookups > stats.false_positives  # seen keys were found in the index
    assert storage.seen == len(model) == 1700
    store.close()


def test_a_url_admitted_but_not_committed_stays_visible(tmp_path: Path) -> None:
    store, _ = opened(tmp_path / "s.sqlite")
    storage = DiskStorage(store, resumed=False, window=2)
    entries = [Entry(f"http://a.test/{i}", f"http://a.test/{i}", 1, None) for i in range(6)]
    for entry in entries:
        assert storage.see(entry.key)
        storage.admitted(entry)
        storage.push("http://a.test", entry)
    assert storage.statistics().in_memory == 6  # none committed: all in memory
    save(store, Changes(discovered=entries[:4]))
    assert storage.pop("http://a.test") == entries[0]
    stats = storage.statistics()
    assert stats.in_memory == 3  # entries 2 and 3 went to disk once committed; 4, 5 wait
    assert [storage.pop("http://a.test") for _ in range(5)] == entries[1:]
    assert storage.pop("http://a.test") is None
    assert storage.statistics().rows_read == 2
    assert not storage.see(entries[5].key)  # not committed yet, and seen all the same
    store.close()


def test_only_the_url_just_admitted_can_be_queued(tmp_path: Path) -> None:
    store, _ = opened(tmp_path / "s.sqlite")
    storage = DiskStorage(store, resumed=False)
    with pytest.raises(MisuseError, match="just admitted"):
        storage.push("http://a.test", Entry("http://a.test/", "http://a.test/", 0, None))
    store.close()


def test_a_resume_reads_nothing_that_grows_with_the_frontier(tmp_path: Path) -> None:
    store, _ = opened(tmp_path / "s.sqlite")
    queued = [
        Entry(f"{HOSTS[i % 2]}/{i}", f"{HOSTS[i % 2]}/{i}", 1 + i % 3, None) for i in range(5000)
    ]
    save(store, Changes(discovered=queued))
    save(store, Changes(records=[_record(e) for e in queued[:1000]]))
    store.close()

    store, resumed = opened(tmp_path / "s.sqlite")
    assert resumed == Resumed(
        pages_done=1000, fetched=1000, traps=TrapTally({HOSTS[0]: 2500, HOSTS[1]: 2500}, {})
    )
    storage = DiskStorage(store, resumed=True, window=64)
    stats = storage.statistics()
    assert (stats.rows_read, stats.in_memory, stats.lanes) == (0, 0, 6)
    assert stats.keys_scanned == 5000  # streamed into the filter; none kept
    frontier = LocalFrontier(LIMITS, interval=0.0, concurrency=4, storage=storage)
    frontier.restore(resumed.traps, resumed.pages_done, 0.0)
    assert frontier.queued == 4000
    taken = [frontier.take(0.0) for _ in range(4)]
    assert [lease.entry for lease in taken] == [  # type: ignore[union-attr]
        queued[1002],  # shallowest first, in the order of admission, hosts in turn
        queued[1005],
        queued[1008],
        queued[1011],
    ]
    assert storage.statistics().rows_read == 128  # one window of each host's shallowest lane
    assert frontier.queued == 4000 - 4
    store.close()


def test_trap_counts_survive_a_resume(tmp_path: Path) -> None:
    site = {
        "http://a.test/": [page(*[f"/cal?m={i}" for i in range(12)], "/x", "/y")],
        "http://a.test/x": [page(*[f"/cal?m={i}" for i in range(12, 20)], "/z1", "/z2")],
    }
    config = CrawlConfig(
        seeds=("http://a.test/",),
        obey_robots=False,
        rate=0.0,
        max_pages=3,
        traps=TrapLimits(max_query_variants=5, max_pages_per_host=9),
    )
    store, _ = opened(tmp_path / "s.sqlite")
    first = Harness(
        config,
        site,
        frontier=open_frontier(config, FrontierKind.DISK, store, None, 0.0),
        on_changes=lambda changes: save(store, changes),
    ).run()
    for changes in first.scheduler.finish():
        save(store, changes)
    store.close()

    store, resumed = opened(tmp_path / "s.sqlite")
    assert resumed is not None
    assert resumed.traps == TrapTally({"http://a.test": 8}, {"http://a.test/cal": 5})
    unlimited = CrawlConfig(seeds=config.seeds, obey_robots=False, rate=0.0, traps=config.traps)
    second = CrawlScheduler(
        unlimited, frontier=open_frontier(unlimited, FrontierKind.DISK, store, resumed, 0.0)
    )
    second.resume(resumed, 0.0)
    fetched = []
    while (action := second.next_action(1.0)) and hasattr(action, "url"):
        fetched.append(action.url)  # type: ignore[union-attr]
        body = site.get(action.url, [page()])[0]  # type: ignore[union-attr]
        second.observe(second.prepare(action, body), 1.0)  # type: ignore[arg-type]
    skipped = [s for s in second.drain().skipped if s.reason is SkipReason.TRAP]
    store.close()
    cal = [url for url in fetched if "/cal" in url] + [
        f.url for _, f in first.log if "/cal" in f.url
    ]
    assert len(cal) == 5  # five query variants in all, over both runs
    assert {s.rule for s in skipped} == {TrapRule.QUERY_VARIANTS, TrapRule.HOST_PAGE_CAP}
