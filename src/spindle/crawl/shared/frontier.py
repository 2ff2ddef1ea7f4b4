"""The frontier in Redis, shared by every worker of a crawl: the same verbs, held in common.

:class:`RedisFrontier` is a :class:`~spindle.crawl.core.frontier.Frontier`, so the scheduler
runs unchanged; what the in-memory frontier keeps in dicts and heaps lives in Redis
(:mod:`.keys`) and changes only inside one Lua script (:mod:`.lua`), atomically. Rules:

* **Politeness is shared.** Each host has one record of its next allowed start, interval
  (``--rate``, raised by Crawl-delay), pause (429/503), block (robots.txt in flight, or its
  retry) and fetches in flight; ``take`` checks and updates it in the same script, so the
  rate and the connection cap hold across all workers together.
* **Time is Redis's.** Scripts read Redis's ``TIME``; a worker sends durations (``until -
  now`` on its own monotonic clock) and turns the durations it gets back into times on its
  own clock. Workers on several machines therefore agree without synchronised clocks; the
  error is the time a call takes to reach Redis.
* **Nothing is popped and lost.** ``take`` leases a fetch slot and a URL to the worker; the
  lease ends with ``finish`` (the slot) and with ``complete``, ``push_retry``, ``putback`` or
  ``settle`` (the URL). A worker's leases last while its heartbeat renews them (every third
  of ``--lease-timeout``); once it stops, the next ``take`` by anyone gives them back: URLs to
  the front of their queues, slots freed, robots.txt blocks lifted.
* **Exactly once.** ``complete`` claims the URL for this worker in ``done``, and keeps the
  claim in ``c:WORKER`` until the worker's state has committed the record (``confirm``);
  a second claim of one URL is refused, and its record dropped.
* **Few round trips.** ``finish``, ``release``, ``settle`` and ``push_retry`` answer nothing,
  so they wait in this process and travel in front of the next call: a page costs three
  round trips (take; finish + complete; the links' admission), plus a share of the
  writer's confirmations and the heartbeat. Every call carries a request id, so a call sent
  again after a lost answer is answered, not run twice.

One thread (the engine's) makes the calls of the protocol; :meth:`beat` (the heartbeat) and
:meth:`confirm` (the writer) may come from others, and neither touches the state kept here.
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Final

import orjson
import redis

from spindle.crawl.core.config import TrapLimits
from spindle.crawl.core.errors import MisuseError
from spindle.crawl.core.frontier import Admission, Lease, Offer
from spindle.crawl.core.traps import counted_under, shape_rule
from spindle.crawl.core.urls import host_key
from spindle.crawl.core.values import Entry, RobotsDecision, TrapRule, TrapTally, Wait
from spindle.crawl.shared.errors import FrontierLost
from spindle.crawl.shared.keys import (
    CrawlKeys,
    decode_entry,
    decode_robots,
    digest,
    encode_entry,
    encode_robots,
)
from spindle.crawl.shared.link import RedisLink
from spindle.crawl.shared.lua import FRONTIER

__all__ = ["ROBOTS_CACHE_SECONDS", "RedisFrontier"]

ROBOTS_CACHE_SECONDS: Final = 24 * 3600  # RFC 9309, 2.4
# Most URLs sent to Redis in one call: keeps a call's arguments well under Redis's limits.
_ADMIT_CHUNK = 1000
_TRAP_CODES: Final = {"c": TrapRule.HOST_PAGE_CAP, "v": TrapRule.QUERY_VARIANTS}

Op = tuple[str | bytes, ...]


class RedisFrontier:
    """:class:`~spindle.crawl.core.frontier.Frontier` in Redis, for worker ``worker``.

    Args:
        link: the connection (it waits while Redis is away).
        keys: the crawl's keys; the crawl must exist (see :func:`.join.open_crawl`).
        worker: this worker's name, unique in the crawl and the same across its restarts.
        traps: the trap-guard limits (the same for every worker: they are in the identity).
        lease: seconds after the last heartbeat before others take this worker's leases.
        poll: how long to wait, when nothing is ready here but other workers hold fetches
            that may queue more, before asking again.
        caller_clock: time the scripts by the ``now`` of each call instead of Redis's clock
            (for tests that drive a frontier with a fake clock; one process only).
    """

    def __init__(
        self,
        link: RedisLink,
        keys: CrawlKeys,
        worker: str,
        *,
        traps: TrapLimits,
        lease: float,
        poll: float = 0.25,
        caller_clock: bool = False,
    ) -> None:
        self._link = link
        self._keys = keys
        self._worker = worker
        self._limits = traps
        self._lease = lease
        self._poll = poll
        self._caller_clock = caller_clock
        self._script = link.client.register_script(FRONTIER)
        self._token = secrets.token_hex(4)
        self._calls = 0
        self._deferred: list[Op] = []
        self._slots: dict[str, list[str]] = {}  # host -> this process's slots, oldest first
        self._taken: dict[str, str] = {}  # key -> payload of each URL leased to this process
        self._seeds: dict[str, str] = {}  # key -> payload of seeds admitted by this process
        self._retries_only = False
        self._queued = 0
        self._seen = 0
        self._charged = 0
        self._last_now = 0.0
        self.calls = 0

    def __repr__(self) -> str:
        return (
            f"<RedisFrontier {self._keys.crawl} worker={self._worker} queued={self._queued} "
            f"in_flight={self.in_flight} taken={len(self._taken)} seen={self._seen}>"
        )

    # -- counts -------------------------------------------------------------------------------

    @property
    def queued(self) -> int:
        """URLs waiting in the whole crawl, as of the last answer from Redis (with the retries
        this process has yet to send)."""
        return self._queued + sum(op[0] == "retry" for op in self._deferred)

    @property
    def in_flight(self) -> int:
        return sum(len(slots) for slots in self._slots.values())

    @property
    def seen(self) -> int:
        """Distinct URLs the whole crawl has seen, as of the last admission."""
        return self._seen

    @property
    def worker(self) -> str:
        """This worker's name in the crawl."""
        return self._worker

    # -- admission ----------------------------------------------------------------------------

    def admit(self, entry: Entry) -> Admission | TrapRule:
        return self.offer([Offer(entry, queue=False)], 0.0)[0]

    def mark_seen(self, key: str) -> bool:
        entry = Entry("", key, 0, None)
        return self.offer([Offer(entry, judge=False)], 0.0)[0] is Admission.NEW

    def offer(self, offers: Sequence[Offer], now: float) -> list[Admission | TrapRule]:
        verdicts: list[Admission | TrapRule] = []
        for start in range(0, len(offers), _ADMIT_CHUNK):
            chunk = offers[start : start + _ADMIT_CHUNK]
            cap = self._limits.max_pages_per_host
            args: list[str | bytes] = [
                "" if cap is None else str(cap),
                str(self._limits.max_query_variants),
            ]
            shapes: list[TrapRule | None] = []
            for offer in chunk:
                entry = offer.entry
                payload = encode_entry(entry) if offer.judge else ""
                if not offer.judge:
                    args += [digest(entry.key), "m", "", "", "", "", "0"]
                    shapes.append(None)
                    continue
                shape = shape_rule(entry.url, self._limits)
                host, variant = counted_under(entry.url)
                mode = "q" if offer.queue else "j"
                args += [
                    digest(entry.key),
                    mode,
                    "" if shape is None else shape.value,
                    host,
                    variant or "",
                    payload,
                    str(entry.depth),
                ]
                shapes.append(shape)
                if entry.depth == 0 and entry.parent is None:
                    self._seeds[entry.key] = payload
            reply = self._call([("admit", *args)], now)
            self._seen = int(reply["n"])
            for code, shape in zip(reply["a"], shapes, strict=True):
                if code == "N":
                    verdicts.append(Admission.NEW)
                elif code == "S":
                    verdicts.append(Admission.SEEN)
                elif code == "s":
                    assert shape is not None
                    verdicts.append(shape)
                else:
                    verdicts.append(_TRAP_CODES[code])
        return verdicts

    def restore(self, traps: TrapTally, charged: int, now: float) -> None:
        """Nothing to do: Redis holds the crawl's seen set, trap counts and budget, not this
        worker."""

    def waiting(self) -> Iterator[Entry]:
        """Nothing: the URLs still queued belong to the crawl, not to this worker (see
        ``spindle frontier status``); reporting them here would list them once per worker."""
        yield from ()

    def push(self, entry: Entry, now: float) -> None:
        payload = encode_entry(entry)
        self._call([("push", host_key(entry.url), payload, str(entry.depth))], now)

    def push_retry(self, entry: Entry, not_before: float, now: float) -> None:
        old = self._taken.pop(entry.key, "")
        delay = repr(max(0.0, not_before - now))
        self._deferred.append(("retry", host_key(entry.url), old, encode_entry(entry), delay))

    # -- the fetch path -----------------------------------------------------------------------

    def take(self, now: float, *, retries_only: bool = False) -> Lease | Wait | None:
        if self._retries_only and not retries_only:
            raise MisuseError("take() was asked for retries only before; it cannot go back")
        self._retries_only = retries_only
        slot = self._new_id()
        reply = self._call([("take", "1" if retries_only else "0", slot)], now)
        if "h" in reply:
            host, payload = reply["h"], reply["e"]
            self._slots.setdefault(host, []).append(slot)
            entry = decode_entry(payload)
            self._taken[entry.key] = payload
            return Lease(host, entry)
        if "w" in reply:
            return Wait(now + max(0.0, float(reply["w"])))
        others = int(reply["sl"]) + int(reply["le"]) - self.in_flight - len(self._taken)
        if others > 0 or (retries_only and int(reply["r"]) > 0):
            return Wait(now + self._poll)  # another worker may yet queue or give back URLs
        return None

    def take_more(self, host: str, now: float) -> Entry | None:
        self._slot(host, newest=True, pop=False)
        reply = self._call([("more", host, "1" if self._retries_only else "0")], now)
        payload = reply["e"]
        if not payload:
            return None
        entry = decode_entry(payload)
        self._taken[entry.key] = payload
        return entry

    def putback(self, host: str, entry: Entry, now: float) -> None:
        payload = self._taken.pop(entry.key, None) or encode_entry(entry)
        self._call([("putback", host, payload, str(entry.depth), str(entry.attempt))], now)

    def release(self, host: str, now: float) -> None:
        self._deferred.append(("release", self._slot(host, newest=True)))

    def sent(self, host: str, at: float | None, now: float) -> None:
        """Nothing: the shared frontier spaces a host's fetches from when each was taken, in
        Redis time (see the README's note on the shared frontier's politeness)."""

    def finish(self, host: str, now: float) -> None:
        self._deferred.append(("finish", self._slot(host, newest=False)))

    def settle(self, key: str) -> None:
        payload = self._taken.pop(key, None)
        if payload is not None:
            self._deferred.append(("settle", payload))

    def complete(self, key: str) -> bool:
        payload = self._taken.pop(key, "")
        claim = payload or self._seeds.get(key) or orjson.dumps([None, key]).decode()
        url = orjson.loads(claim)[0]
        host = host_key(url) if url else ""
        reply = self._call([("complete", host, digest(key), payload, claim)], None)
        return bool(reply["ok"])

    def charge(self, limit: int | None) -> bool:
        if limit is None:
            return True
        return bool(self._call([("charge", str(limit))], None)["ok"])

    def spent(self, limit: int | None) -> bool:
        """From the budget count of the last answer: no round trip. It can lag, never lead;
        :meth:`charge` alone decides whether a page is paid for."""
        return limit is not None and self._charged >= limit

    # -- per-host controls --------------------------------------------------------------------

    def block(self, host: str, until: float, now: float) -> None:
        if until == math.inf:
            op: Op = ("block", host, "inf", "0")
        elif until == -math.inf:
            op = ("block", host, "clear", "0")
        else:
            op = ("block", host, "at", repr(until - now))
        self._call([op], now)

    def pause(self, host: str, until: float, now: float) -> None:
        self._call([("pause", host, repr(max(0.0, until - now)))], now)

    def set_interval(self, host: str, interval: float, now: float) -> None:
        self._call([("interval", host, repr(interval))], now)

    def drain(self, host: str, now: float) -> list[Entry]:
        reply = self._call([("drain", host)], now)
        entries = []
        for payload in reply.get("d") or []:
            entry = decode_entry(payload)
            self._taken[entry.key] = payload
            entries.append(entry)
        return entries

    # -- robots.txt ---------------------------------------------------------------------------

    def robots(self, host: str) -> RobotsDecision | None:
        """The decision another worker shared, if it is younger than a day (RFC 9309, 2.4)."""
        blob = self._link.call(lambda r: r.hget(self._keys.robots, host))
        if not blob:
            return None
        decision = decode_robots(_as_bytes(blob))
        if not 0 <= time.time() - decision.fetched_at < ROBOTS_CACHE_SECONDS:
            return None
        return decision

    def share_robots(self, decision: RobotsDecision) -> None:
        blob = encode_robots(decision)
        self._link.call(lambda r: r.hset(self._keys.robots, decision.host, blob))

    # -- a worker's life ----------------------------------------------------------------------

    def rejoin(self) -> None:
        """Give back what an earlier run of this worker left leased (it was killed), and
        start this run's lease."""
        self._call([("rejoin",)], None)

    def beat(self) -> bool:
        """Renew this worker's leases (from any thread); False when Redis was away."""
        return self._send([("beat",)], "", None, wait=False) is not None

    def flush(self) -> None:
        """Send what waits here (finished fetches, settled URLs, retries)."""
        if self._deferred:
            self._call([("beat",)], None)

    def leave(self) -> None:
        """At the end of a run: send what waits, and give back anything still leased (the
        fetches of an abandoned run), so no one waits for this worker's lease to expire."""
        self._deferred.append(("rejoin",))
        self._call([], None)
        self._link.call(lambda r: r.zrem(self._keys.workers, self._worker))
        self._slots.clear()
        self._taken.clear()

    def claims(self) -> dict[bytes, Entry | str]:
        """This worker's claims not yet confirmed: digest -> the URL's entry (or its key alone,
        for a claim made without one)."""
        raw = self._link.call(lambda r: r.hgetall(self._keys.claims(self._worker)))
        out: dict[bytes, Entry | str] = {}
        for name, claim in raw.items():
            parsed = orjson.loads(claim)
            out[_as_bytes(name)] = parsed[1] if parsed[0] is None else decode_entry(claim)
        return out

    def confirm(self, keys: Iterable[str], *, answered: bool = False, wait: bool = False) -> bool:
        """Forget the claims of ``keys``: their records are committed to this worker's state;
        ``answered`` notes that one of them got an HTTP answer (for the crawl's exit codes).
        From any thread. Without ``wait``, one try: False when Redis was away."""
        digests = [digest(key) for key in keys]
        first: list[Op] = [("answered",)] if answered else []
        for start in range(0, max(1, len(digests)), _ADMIT_CHUNK):
            chunk = digests[start : start + _ADMIT_CHUNK]
            reply = self._send([*first, ("confirm", *chunk)], "", None, wait)
            if reply is None:
                return False
            first = []
        return True

    def answered(self) -> bool:
        """Whether any worker of the crawl has committed a record with an HTTP answer."""
        return bool(self._link.call(lambda r: r.hget(self._keys.meta, "answered")))

    def unclaim(self, name: bytes, claimed: Entry | str) -> None:
        """Drop a claim whose record never reached this worker's state, and queue its URL
        again at the front (reconciliation after a crash)."""
        if isinstance(claimed, Entry):
            op: Op = (
                "unclaim",
                name,
                host_key(claimed.url),
                encode_entry(claimed),
                str(claimed.depth),
                str(claimed.attempt),
            )
        else:
            op = ("unclaim", name, "", "", "0", "1")
        self._call([op], None)

    # -- internals ----------------------------------------------------------------------------

    def _new_id(self) -> str:
        self._calls += 1
        return f"{self._token}.{self._calls}"

    def _slot(self, host: str, *, newest: bool, pop: bool = True) -> str:
        slots = self._slots.get(host)
        if not slots:
            raise MisuseError(f"{host} has no fetch slot taken by this worker")
        if not pop:
            return slots[-1]
        slot = slots.pop() if newest else slots.pop(0)
        if not slots:
            del self._slots[host]
        return slot

    def _call(self, ops: list[Op], now: float | None) -> dict[str, Any]:
        """Send the deferred operations and ``ops`` in one script call; the answer to the last."""
        ops = self._deferred + ops
        self._deferred = []
        reply = self._send(ops, self._new_id(), now, wait=True)
        assert reply is not None  # a waiting send returns or raises
        return reply

    def _send(
        self, ops: list[Op], rid: str, now: float | None, wait: bool
    ) -> dict[str, Any] | None:
        clock = ""
        if self._caller_clock:
            if now is not None:
                self._last_now = now
            clock = repr(self._last_now)
        args: list[str | bytes] = [clock, self._worker, rid, repr(self._lease)]
        for name, *values in ops:
            args += [name, str(len(values)), *values]
        meta = self._keys.meta

        def send(client: redis.Redis) -> bytes:
            result: bytes = self._script(keys=[meta], args=args, client=client)
            return result

        self.calls += 1
        try:
            raw = self._link.call(send) if wait else self._link.try_call(send)
        except redis.ResponseError as exc:
            if str(exc).startswith("NOCRAWL"):
                raise FrontierLost(
                    f"crawl {self._keys.crawl!r} is gone from Redis at {self._link.name} "
                    "(flushed, or restarted without persistence)"
                ) from exc
            raise
        if raw is None:
            return None
        reply: dict[str, Any] = orjson.loads(raw)
        self._queued = int(reply["q"])
        self._charged = int(reply["c"])
        return reply


def _as_bytes(value: bytes | str) -> bytes:
    return value.encode() if isinstance(value, str) else value
