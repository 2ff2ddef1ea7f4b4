"""``spindle frontier status`` and ``spindle frontier export``: a shared crawl seen whole.

``status`` reads the crawl's counters, workers and hosts (one pipelined round trip per 500
hosts) and names the slowest hosts: those whose queue will take longest to empty at their
pace (queued URLs times their interval, plus any pause or block still to run).

``export`` merges the workers' shards into one file, each URL once. Every shard line is a
record its worker claimed in Redis before writing it, so the merge checks two things against
the claims: no URL twice (a duplicate would be dropped and counted), and no completed URL
missing (a shard not given, or a killed worker not yet rerun to reconcile). The crawl must be
finished (nothing queued, nothing leased) unless ``partial`` says otherwise.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import orjson
import redis

from spindle.crawl.core.urls import InvalidURL, canonicalize
from spindle.crawl.shared.keys import CrawlKeys, digest
from spindle.crawl.shared.link import RedisLink

__all__ = ["CrawlStatus", "ExportReport", "HostStatus", "crawl_status", "export_shards"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class HostStatus:
    """One host of a shared crawl: its queue and its pace."""

    host: str
    queued: int
    in_flight: int
    interval: float
    done: int
    held_for: float  # seconds its pause or block still holds it (inf: robots.txt in flight)

    @property
    def time_left(self) -> float:
        """A lower bound on the time to empty its queue at its pace."""
        return self.held_for + self.queued * self.interval


@dataclass(frozen=True, slots=True)
class CrawlStatus:
    """The whole of a shared crawl at one moment."""

    crawl: str
    exists: bool
    queued: int = 0
    retries: int = 0
    leased: int = 0
    in_flight: int = 0
    done: int = 0
    seen: int = 0
    hosts: int = 0
    charged: int = 0
    workers: dict[str, float] = field(default_factory=dict)  # worker -> seconds of lease left
    unconfirmed: dict[str, int] = field(default_factory=dict)
    slowest: list[HostStatus] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        """Nothing queued and nothing leased: no worker has anything left to do."""
        return self.exists and self.queued == 0 and self.leased == 0 and self.in_flight == 0

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data (``--json``)."""
        return {
            "crawl": self.crawl,
            "exists": self.exists,
            "finished": self.finished,
            "queued": self.queued,
            "retries": self.retries,
            "leased": self.leased,
            "in_flight": self.in_flight,
            "done": self.done,
            "seen": self.seen,
            "hosts": self.hosts,
            "charged": self.charged,
            "workers": {w: round(left, 1) for w, left in self.workers.items()},
            "unconfirmed": self.unconfirmed,
            "slowest": [
                {
                    "host": h.host,
                    "queued": h.queued,
                    "in_flight": h.in_flight,
                    "interval": h.interval,
                    "done": h.done,
                    "held_for": None if math.isinf(h.held_for) else round(h.held_for, 1),
                    "time_left": None if math.isinf(h.time_left) else round(h.time_left, 1),
                }
                for h in self.slowest
            ],
        }


def crawl_status(link: RedisLink, keys: CrawlKeys, *, slowest: int = 10) -> CrawlStatus:
    """Read the crawl's state from Redis (changes nothing)."""
    meta = _text(link.call(lambda r: r.hgetall(keys.meta)))
    if "epoch" not in meta:
        return CrawlStatus(keys.crawl, exists=False)
    seconds, micros = link.call(lambda r: r.time())
    now = seconds - int(meta["epoch"]) + micros / 1e6

    def counts(r: redis.Redis) -> list[Any]:
        pipe = r.pipeline(transaction=False)
        pipe.hlen(keys.done)
        pipe.scard(keys.seen)
        pipe.smembers(keys.hosts)
        pipe.zrange(keys.workers, 0, -1, withscores=True)
        return list(pipe.execute())

    done, seen, host_names, workers = link.call(counts)
    hosts = sorted(name.decode() for name in host_names)
    unconfirmed: dict[str, int] = {}
    for worker, _ in workers:
        claims = keys.claims(worker.decode())
        pending = int(link.call(functools.partial(_hlen, name=claims)))
        if pending:
            unconfirmed[worker.decode()] = pending
    records = []
    for chunk in _chunks(hosts, 500):
        records += link.call(functools.partial(_host_records, keys=keys, hosts=chunk))
    statuses = [_host_status(host, fields, q, rq, now) for host, (fields, q, rq) in records]
    statuses.sort(key=lambda h: (-h.time_left, -h.queued, h.host))
    return CrawlStatus(
        keys.crawl,
        exists=True,
        queued=int(meta.get("queued", 0)),
        retries=int(meta.get("retries", 0)),
        leased=int(meta.get("leased", 0)),
        in_flight=int(meta.get("slots", 0)),
        done=int(done),
        seen=int(seen),
        hosts=len(hosts),
        charged=int(meta.get("charged", 0)),
        workers={w.decode(): deadline - now for w, deadline in workers},
        unconfirmed=unconfirmed,
        slowest=[h for h in statuses if h.queued or h.in_flight][:slowest],
    )


def _hlen(r: redis.Redis, *, name: str) -> int:
    return int(r.hlen(name))


def _host_records(
    r: redis.Redis, *, keys: CrawlKeys, hosts: list[str]
) -> list[tuple[str, tuple[dict[str, str], int, int]]]:
    pipe = r.pipeline(transaction=False)
    for host in hosts:
        pipe.hgetall(keys.host(host))
        pipe.zcard(keys.queue(host))
        pipe.zcard(keys.retries(host))
    replies = pipe.execute()
    return [
        (host, (_text(replies[3 * i]), int(replies[3 * i + 1]), int(replies[3 * i + 2])))
        for i, host in enumerate(hosts)
    ]


def _host_status(
    host: str, fields: dict[str, str], queued: int, retries: int, now: float
) -> HostStatus:
    held = 0.0
    if fields.get("block") == "inf":
        held = math.inf
    else:
        for name in ("pause", "block"):
            if name in fields:
                held = max(held, float(fields[name]) - now)
    return HostStatus(
        host,
        queued + retries,
        int(fields.get("inflight", 0)),
        float(fields.get("interval", 0.0)),
        int(fields.get("done", 0)),
        held,
    )


@dataclass(slots=True)
class ExportReport:
    """What an export wrote and what it found."""

    written: int = 0
    duplicates: int = 0
    unclaimed: int = 0
    claimed: int = 0
    missing: int = 0
    per_shard: dict[str, int] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """Every completed URL is in the output, once, and nothing else is."""
        return self.missing == 0 and self.unclaimed == 0


def export_shards(
    link: RedisLink, keys: CrawlKeys, shards: Iterable[Path], out: Path
) -> ExportReport:
    """Write the records of ``shards`` to ``out``, each URL once, checked against the claims.

    Raises:
        OSError: a shard cannot be read, or ``out`` cannot be written.
        ValueError: a shard line is not a JSON record with a ``url`` (names FILE:LINE).
    """
    report = ExportReport()
    emitted: set[bytes] = set()
    with out.open("wb") as sink:
        for shard in shards:
            kept = 0
            for batch in _chunks(_read_records(shard), 1000):
                names = [name for name, _ in batch]
                owners = _owners(link, keys, names)
                for (name, line), owner in zip(batch, owners, strict=True):
                    if name in emitted:
                        report.duplicates += 1
                        continue
                    emitted.add(name)
                    if owner is None:
                        report.unclaimed += 1
                    else:
                        report.claimed += 1
                    sink.write(line + b"\n")
                    kept += 1
            report.per_shard[str(shard)] = kept
            report.written += kept
    done = int(link.call(lambda r: r.hlen(keys.done)))
    report.missing = max(0, done - report.claimed)
    return report


def _owners(link: RedisLink, keys: CrawlKeys, names: list[bytes]) -> list[Any]:
    def send(r: redis.Redis) -> list[Any]:
        return list(r.hmget(keys.done, names))

    return link.call(send)


def _read_records(shard: Path) -> Iterator[tuple[bytes, bytes]]:
    with shard.open("rb") as file:
        for number, line in enumerate(file, 1):
            if not line.endswith(b"\n"):
                break  # a torn last line: its worker's state has it, a rerun writes it whole
            try:
                url = orjson.loads(line)["url"]
                key = canonicalize(url)
            except (orjson.JSONDecodeError, KeyError, TypeError, InvalidURL) as exc:
                raise ValueError(f"{shard}:{number}: not a crawl record ({exc})") from exc
            yield digest(key), line.rstrip(b"\n")


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _text(raw: dict[Any, Any]) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in raw.items()}
