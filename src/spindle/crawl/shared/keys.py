"""Where a shared crawl lives in Redis, and how URLs are written there.

Every key of crawl ``NAME`` starts with ``spindle:{NAME}:``; the braces are Redis Cluster's
hash tag, so all of a crawl's keys live in one slot and every script can touch them together.

======================  ======  ===========================================================
key                     type    holds
======================  ======  ===========================================================
``meta``                hash    identity (the settings every worker must share), epoch
                                (Redis ``TIME`` at creation), default interval and
                                connection cap, counters: queued, retries, slots (fetches
                                in flight), leased (URLs taken and not acknowledged),
                                charged (the page budget), pulse (last heartbeat)
``seen``                set     16-byte BLAKE2b digests of every canonical URL admitted,
                                refused or marked
``done``                hash    digest -> the worker that completed that URL (the claim)
``c:WORKER``            hash    digest -> URL, claims of WORKER not yet confirmed committed
                                to its state (what a restart reconciles)
``ready``               zset    host -> when it may start its next fetch
``hosts``               set     every host with a record
``h:HOST``              hash    next (earliest next start), interval, pause, block
                                (``inf`` while robots.txt is fetched), blocker, inflight,
                                front/back sequence numbers, fetches, done
``q:HOST``              zset    the host's queue: URL -> depth * 2**32 + sequence
``r:HOST``              zset    the host's retries: URL -> not-before time
``w:WORKER``            hash    the worker's leases: ``s:SLOT`` (a fetch slot), ``e:URL``
                                (a URL taken), ``b:HOST`` (a robots.txt block), and the
                                last request id with its answer
``workers``             zset    worker -> lease deadline (renewed by its heartbeat)
``traps``               hash    trap-guard counters: ``h:HOST`` admitted URLs,
                                ``v:HOST/PATH`` query variants
``robots``              hash    host -> the robots.txt decision one worker reached
======================  ======  ===========================================================

A URL in a queue or a lease is its :class:`Entry` as a JSON array (``payload``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import orjson

from spindle.crawl.core.values import Entry, ErrorKind, FetchKind, RobotsDecision, SkipReason

__all__ = [
    "CrawlKeys",
    "check_crawl_id",
    "decode_entry",
    "decode_robots",
    "digest",
    "encode_entry",
    "encode_robots",
]

_CRAWL_ID = re.compile(r"[A-Za-z0-9._-]{1,100}")


def check_crawl_id(name: str) -> str:
    """``name`` when it can name a crawl (letters, digits, ``.``, ``_``, ``-``; 1 to 100).

    Raises:
        ValueError: it cannot.
    """
    if not _CRAWL_ID.fullmatch(name):
        raise ValueError(
            f"{name!r} cannot name a crawl: use 1 to 100 letters, digits, '.', '_' or '-'"
        )
    return name


@dataclass(frozen=True, slots=True)
class CrawlKeys:
    """The Redis keys of one crawl.

    >>> CrawlKeys("docs").meta, CrawlKeys("docs").queue("http://a.test")
    ('spindle:{docs}:meta', 'spindle:{docs}:q:http://a.test')
    """

    crawl: str

    @property
    def prefix(self) -> str:
        """What every key of the crawl starts with."""
        return f"spindle:{{{self.crawl}}}:"

    @property
    def meta(self) -> str:
        return self.prefix + "meta"

    @property
    def seen(self) -> str:
        return self.prefix + "seen"

    @property
    def done(self) -> str:
        return self.prefix + "done"

    @property
    def ready(self) -> str:
        return self.prefix + "ready"

    @property
    def hosts(self) -> str:
        return self.prefix + "hosts"

    @property
    def workers(self) -> str:
        return self.prefix + "workers"

    @property
    def traps(self) -> str:
        return self.prefix + "traps"

    @property
    def robots(self) -> str:
        return self.prefix + "robots"

    def host(self, host: str) -> str:
        return f"{self.prefix}h:{host}"

    def queue(self, host: str) -> str:
        return f"{self.prefix}q:{host}"

    def retries(self, host: str) -> str:
        return f"{self.prefix}r:{host}"

    def worker(self, worker: str) -> str:
        return f"{self.prefix}w:{worker}"

    def claims(self, worker: str) -> str:
        return f"{self.prefix}c:{worker}"


def digest(key: str) -> bytes:
    """The 16-byte name of a canonical URL in Redis (BLAKE2b): for a billion URLs the chance
    that two share one is about 1e-21.

    >>> len(digest("http://a.test/"))
    16
    """
    return hashlib.blake2b(key.encode(), digest_size=16).digest()


def encode_entry(entry: Entry) -> str:
    """An entry as the JSON array stored in Redis (the same entry, the same text).

    >>> encode_entry(Entry("http://a.test/x", "http://a.test/x", 1, "http://a.test/"))
    '["http://a.test/x","http://a.test/x",1,"http://a.test/",1,[],"page"]'
    """
    return orjson.dumps(
        [
            entry.url,
            entry.key,
            entry.depth,
            entry.parent,
            entry.attempt,
            entry.redirect_chain,
            entry.kind.value,
        ]
    ).decode()


def decode_entry(payload: str | bytes) -> Entry:
    """The entry :func:`encode_entry` wrote."""
    url, key, depth, parent, attempt, chain, kind = orjson.loads(payload)
    return Entry(url, key, depth, parent, attempt, tuple(chain), FetchKind(kind))


def encode_robots(decision: RobotsDecision) -> bytes:
    """A robots.txt decision as stored in Redis: a JSON head line, then the file's bytes."""
    reason = None if decision.reason is None else [decision.reason[0].value, decision.reason[1]]
    head = orjson.dumps(
        [decision.host, decision.reachable, decision.body is not None, reason, decision.fetched_at]
    )
    return head + b"\n" + (decision.body or b"")


def decode_robots(blob: bytes) -> RobotsDecision:
    """The decision :func:`encode_robots` wrote."""
    head, _, body = blob.partition(b"\n")
    host, reachable, has_body, reason, fetched_at = orjson.loads(head)
    error = None
    if reason is not None:
        kind: ErrorKind | SkipReason
        try:
            kind = ErrorKind(reason[0])
        except ValueError:
            kind = SkipReason(reason[0])
        error = (kind, reason[1])
    return RobotsDecision(host, reachable, body if has_body else None, error, fetched_at)
