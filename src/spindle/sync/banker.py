"""The Banker's algorithm: grant a request only if every process could still finish.

A state is *safe* when some order of the processes lets each one, in turn, receive its whole
remaining need from what is free, finish, and return everything it holds. The Banker grants a
request only if the state after it is safe; otherwise the requester waits. Deadlock is avoided
rather than detected: as long as every process eventually releases what it holds once it has
its maximum claim, a safe state always leaves someone able to proceed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from spindle.sync.lock_order import new_condition, new_lock

__all__ = ["Banker", "Decision"]


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer to a request: whether it was granted, and why (one line).

    >>> Banker([1], max_claim=[[1]], allocation=[[0]]).request(0, [1])
    Decision(granted=True, reason='granted: the state stays safe (safe sequence P0)')
    """

    granted: bool
    reason: str


def _amount(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{what} ({value!r}) must be a non-negative integer")
    return value


def _row(values: Sequence[int], what: str, width: int) -> list[int]:
    if len(values) != width:
        raise ValueError(f"{what} has {len(values)} entries, expected {width} (one per resource)")
    return [_amount(value, f"{what} for resource R{r}") for r, value in enumerate(values)]


def _names(sequence: Sequence[int]) -> str:
    return ", ".join(f"P{pid}" for pid in sequence)


class Banker:
    """A resource allocator that keeps the system in a safe state (Dijkstra's Banker).

    Processes are numbered ``P0 .. Pn-1`` and resources ``R0 .. Rm-1``; vectors have one entry
    per resource. ``max_claim[p]`` is the most process ``p`` will ever hold at once; its
    remaining *need* is ``max_claim[p] - allocation[p]``.

    * :meth:`request` answers at once: granted only if within the remaining need, within what
      is available, and the resulting state is safe; otherwise nothing changes.
    * :meth:`acquire` blocks until :meth:`request` would grant, woken by each :meth:`release`.
      Waiters are not served in any particular order.
    * Every method is thread-safe; the lock comes from :func:`~spindle.sync.new_lock`.

    Raises:
        ValueError: a shape or value is wrong; the message names the process and resource,
            e.g. ``allocation of P2 for resource R1 (5) exceeds its maximum claim (3)``.

    >>> banker = Banker(
    ...     available=[3, 3, 2],
    ...     max_claim=[[7, 5, 3], [3, 2, 2], [9, 0, 2], [2, 2, 2], [4, 3, 3]],
    ...     allocation=[[0, 1, 0], [2, 0, 0], [3, 0, 2], [2, 1, 1], [0, 0, 2]],
    ... )
    >>> banker.safe_sequence()
    [1, 3, 4, 0, 2]
    >>> banker.request(1, [1, 0, 2]).reason
    'granted: the state stays safe (safe sequence P1, P3, P4, P0, P2)'
    >>> banker.request(0, [0, 2, 0]).granted, banker.available
    (False, (2, 3, 0))
    """

    def __init__(
        self,
        available: Sequence[int],
        max_claim: Sequence[Sequence[int]],
        allocation: Sequence[Sequence[int]],
    ) -> None:
        if len(available) == 0:
            raise ValueError("available must have one entry per resource, and there are none")
        width = len(available)
        self._available = [
            _amount(value, f"available amount of R{r}") for r, value in enumerate(available)
        ]
        if len(max_claim) != len(allocation):
            raise ValueError(
                f"max_claim has {len(max_claim)} rows but allocation has {len(allocation)}; "
                f"both need one row per process"
            )
        if len(max_claim) == 0:
            raise ValueError("there must be at least one process (one row in max_claim)")
        self._max = [_row(row, f"maximum claim of P{p}", width) for p, row in enumerate(max_claim)]
        self._allocation = [
            _row(row, f"allocation of P{p}", width) for p, row in enumerate(allocation)
        ]
        for p, (held, claim) in enumerate(zip(self._allocation, self._max, strict=True)):
            for r, (amount, most) in enumerate(zip(held, claim, strict=True)):
                if amount > most:
                    raise ValueError(
                        f"allocation of P{p} for resource R{r} ({amount}) exceeds its maximum "
                        f"claim ({most})"
                    )
        self._lock = new_lock("Banker")
        self._released = new_condition(self._lock)
        # Releases only move units between allocation and available, so totals never change; a
        # claim above them can never be met, and then no state is ever safe.
        totals = [sum(column) for column in zip(self._available, *self._allocation, strict=True)]
        self._never_safe = next(
            (
                f"the maximum claim of P{p} for R{r} ({claim[r]}) exceeds the {total} units of "
                f"R{r} in the system, so no state is ever safe"
                for p, claim in enumerate(self._max)
                for r, total in enumerate(totals)
                if claim[r] > total
            ),
            None,
        )

    @property
    def processes(self) -> int:
        """Number of processes."""
        return len(self._max)

    @property
    def resources(self) -> int:
        """Number of resource types."""
        return len(self._available)

    @property
    def available(self) -> tuple[int, ...]:
        """Free units of each resource."""
        with self._lock:
            return tuple(self._available)

    @property
    def allocation(self) -> tuple[tuple[int, ...], ...]:
        """Units each process holds, one row per process."""
        with self._lock:
            return tuple(tuple(row) for row in self._allocation)

    @property
    def max_claim(self) -> tuple[tuple[int, ...], ...]:
        """The most each process may hold, one row per process."""
        return tuple(tuple(row) for row in self._max)

    @property
    def need(self) -> tuple[tuple[int, ...], ...]:
        """What each process may still request: ``max_claim - allocation``."""
        with self._lock:
            return tuple(tuple(self._need(p)) for p in range(self.processes))

    def safe_sequence(self) -> list[int] | None:
        """An order in which every process can finish, or None if the state is unsafe.

        Scans the processes in index order, pass after pass: a process whose need fits in what
        is free runs, finishes and returns its allocation; stops when a pass finds none.

        >>> Banker([1], max_claim=[[2], [1]], allocation=[[1], [0]]).safe_sequence()
        [0, 1]
        >>> Banker([0], max_claim=[[2], [2]], allocation=[[1], [1]]).safe_sequence() is None
        True
        """
        with self._lock:
            return self._safe_sequence()

    def is_safe(self) -> bool:
        """Whether some order lets every process finish (see :meth:`safe_sequence`)."""
        return self.safe_sequence() is not None

    def request(self, pid: int, vector: Sequence[int]) -> Decision:
        """Grant ``vector`` to process ``pid`` now if that keeps the state safe.

        Returns:
            A granted decision (allocation and availability updated), or a refused one naming
            the reason: beyond the remaining need, beyond what is available, or unsafe. A refusal
            changes nothing.

        Raises:
            ValueError: no such process, or ``vector`` has the wrong length or a negative entry.
        """
        with self._lock:
            return self._try_grant(pid, self._checked(pid, vector, "request"))

    def acquire(self, pid: int, vector: Sequence[int], timeout: float | None = None) -> bool:
        """Wait until ``vector`` can be granted to ``pid`` safely, then take it.

        Blocks until a :meth:`request` for it would be granted, re-checking after every release.
        Others must eventually release what they hold for a waiter to be served.

        Returns:
            True once granted; False if ``timeout`` seconds passed first (nothing taken).

        Raises:
            ValueError: as :meth:`request`, or the request can never be granted: it exceeds the
                remaining need, or some maximum claim exceeds what the system has in all.
        """
        if timeout is not None and not timeout >= 0:
            raise ValueError(f"timeout must be None or at least 0, not {timeout!r}")
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            wanted = self._checked(pid, vector, "request")
            if self._never_safe is not None:
                raise ValueError(f"the request of P{pid} can never be granted: {self._never_safe}")
            while True:
                # Checked on every pass: another thread acting for the same process may have
                # taken part of the need while this one waited.
                for r, (amount, most) in enumerate(zip(wanted, self._need(pid), strict=True)):
                    if amount > most:
                        raise ValueError(
                            f"the request of P{pid} can never be granted: {amount} of R{r} "
                            f"exceeds its remaining need of {most}"
                        )
                if self._try_grant(pid, wanted).granted:
                    return True
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._released.wait(remaining)

    def release(self, pid: int, vector: Sequence[int]) -> None:
        """Return ``vector`` from process ``pid`` to the pool, and wake waiting acquirers.

        Raises:
            ValueError: as :meth:`request`, or ``pid`` holds less than ``vector`` of a resource.
        """
        with self._lock:
            returned = self._checked(pid, vector, "release")
            held = self._allocation[pid]
            for r, (amount, holding) in enumerate(zip(returned, held, strict=True)):
                if amount > holding:
                    raise ValueError(f"P{pid} releases {amount} of R{r} but holds only {holding}")
            for r, amount in enumerate(returned):
                held[r] -= amount
                self._available[r] += amount
            self._released.notify_all()

    def __repr__(self) -> str:
        return (
            f"<Banker processes={self.processes} resources={self.resources} "
            f"available={tuple(self._available)}>"
        )

    def _need(self, pid: int) -> list[int]:
        return [
            most - held for most, held in zip(self._max[pid], self._allocation[pid], strict=True)
        ]

    def _checked(self, pid: int, vector: Sequence[int], what: str) -> list[int]:
        if isinstance(pid, bool) or not isinstance(pid, int) or not 0 <= pid < self.processes:
            raise ValueError(f"no process {pid!r}: processes are P0 to P{self.processes - 1}")
        return _row(vector, f"{what} of P{pid}", self.resources)

    def _safe_sequence(self) -> list[int] | None:
        free = list(self._available)
        finished = [False] * self.processes
        sequence: list[int] = []
        progressed = True
        while progressed:
            progressed = False
            for pid in range(self.processes):
                if finished[pid] or any(n > f for n, f in zip(self._need(pid), free, strict=True)):
                    continue
                free = [f + held for f, held in zip(free, self._allocation[pid], strict=True)]
                finished[pid] = True
                sequence.append(pid)
                progressed = True
        return sequence if len(sequence) == self.processes else None

    def _try_grant(self, pid: int, wanted: list[int]) -> Decision:
        """With the lock held: grant ``wanted`` if allowed, else leave everything as it was."""
        for r, (amount, most) in enumerate(zip(wanted, self._need(pid), strict=True)):
            if amount > most:
                return Decision(
                    False,
                    f"refused: P{pid} asks for {amount} of R{r}, more than its remaining need "
                    f"of {most}",
                )
        for r, (amount, free) in enumerate(zip(wanted, self._available, strict=True)):
            if amount > free:
                return Decision(
                    False, f"refused: P{pid} asks for {amount} of R{r} but only {free} available"
                )
        self._move(pid, wanted, sign=1)
        sequence = self._safe_sequence()
        if sequence is None:
            self._move(pid, wanted, sign=-1)
            return Decision(
                False,
                "refused: granting it would leave an unsafe state (no order lets every "
                "process finish)",
            )
        return Decision(True, f"granted: the state stays safe (safe sequence {_names(sequence)})")

    def _move(self, pid: int, amounts: list[int], *, sign: int) -> None:
        """Move ``amounts`` from available to ``pid``'s allocation (``sign=-1``: back)."""
        held = self._allocation[pid]
        for r, amount in enumerate(amounts):
            held[r] += sign * amount
            self._available[r] -= sign * amount
