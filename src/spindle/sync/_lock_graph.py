"""The lock-order graph behind :mod:`spindle.sync.lock_order`: edges, cycles, held locks."""

from __future__ import annotations

import itertools
import os
import sys
import threading
from collections import deque
from typing import Protocol, cast

__all__ = ["LockOrderChecker", "LockOrderViolation"]

# An edge is attributed to the first frame outside these: the line that took the lock, directly
# or through a Spindle primitive (a queue's put, say), rather than the primitive's insides.
_SYNC_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_THREADING_FILE = threading.__file__


class NamedLock(Protocol):
    """A lock as the graph sees it: just its name."""

    @property
    def name(self) -> str: ...


class LockOrderViolation(RuntimeError):
    """An acquisition would close a cycle in the lock-order graph: a potential deadlock.

    Attributes:
        cycle: the lock names along the cycle, starting and ending with the lock whose
            acquisition raised, e.g. ``("a", "b", "a")``.
        locations: one ``file:line`` per edge ``cycle[i] -> cycle[i + 1]``: where that edge was
            first seen; the last one is the acquisition that raised.

    >>> print(LockOrderViolation(("a", "b", "a"), ("x.py:3", "y.py:9")))
    lock order cycle a -> b -> a (a potential deadlock); edges first seen:
    a -> b at x.py:3; b -> a at y.py:9 (this acquisition)
    """

    def __init__(self, cycle: tuple[str, ...], locations: tuple[str, ...]) -> None:
        self.cycle = cycle
        self.locations = locations
        edges = "; ".join(
            f"{before} -> {after} at {location}"
            for (before, after), location in zip(itertools.pairwise(cycle), locations, strict=True)
        )
        super().__init__(
            f"lock order cycle {' -> '.join(cycle)} (a potential deadlock); "
            f"edges first seen: {edges} (this acquisition)"
        )

    def __reduce__(self) -> tuple[type[LockOrderViolation], tuple[tuple[str, ...], ...]]:
        return type(self), (self.cycle, self.locations)


class LockOrderChecker:
    """A thread-safe graph of "held A while acquiring B" edges, and each thread's held locks.

    Locks report to the checker they were created with; locks of different checkers never see
    each other. The graph only grows, until :meth:`reset`.

    >>> from spindle.sync import OrderedLock
    >>> checker = LockOrderChecker()
    >>> outer, inner = OrderedLock("outer", checker=checker), OrderedLock("inner", checker=checker)
    >>> with outer, inner:
    ...     checker.held()
    ('outer', 'inner')
    >>> list(checker.edges())
    [('outer', 'inner')]
    """

    def __init__(self) -> None:
        # A plain lock: the checker's own lock is not part of any checked order.
        self._graph_lock = threading.Lock()
        self._edges: dict[tuple[str, str], str] = {}
        # Successors as insertion-ordered dicts, so the cycle reported is the same on every run.
        self._successors: dict[str, dict[str, None]] = {}
        self._local = threading.local()

    def edges(self) -> dict[tuple[str, str], str]:
        """Return a copy of the graph: ``(held, acquired)`` -> where that edge was first seen."""
        with self._graph_lock:
            return dict(self._edges)

    def reset(self) -> None:
        """Forget every edge. Which locks each thread holds is untouched (they are still held)."""
        with self._graph_lock:
            self._edges.clear()
            self._successors.clear()

    def held(self) -> tuple[str, ...]:
        """Names of the locks this checker sees the calling thread hold, in acquisition order."""
        return tuple(lock.name for lock in self._held_list())

    def _held_list(self) -> list[NamedLock]:
        try:
            return cast("list[NamedLock]", self._local.held)
        except AttributeError:
            held: list[NamedLock] = []
            self._local.held = held
            return held

    def _before_blocking(self, lock: NamedLock, held: list[NamedLock]) -> None:
        """Record an edge from every held lock to ``lock``; raise if one would close a cycle."""
        location: str | None = None
        for holding in held:
            edge = (holding.name, lock.name)
            if edge in self._edges:  # the common case: an order already known, no lock needed
                continue
            if location is None:
                location = _acquisition_site()
            self._add_edge(edge, location)

    def _add_edge(self, edge: tuple[str, str], location: str) -> None:
        held_name, acquired_name = edge
        with self._graph_lock:
            if edge in self._edges:
                return
            path = self._path(acquired_name, held_name)
            if path is not None:
                seen = tuple(self._edges[step] for step in itertools.pairwise(path))
                raise LockOrderViolation((*path, acquired_name), (*seen, location))
            self._edges[edge] = location
            self._successors.setdefault(held_name, {})[acquired_name] = None

    def _path(self, start: str, goal: str) -> list[str] | None:
        """A shortest path of known edges from ``start`` to ``goal`` (``[start]`` if equal)."""
        came_from: dict[str, str | None] = {start: None}
        frontier = deque([start])
        while frontier:
            node = frontier.popleft()
            if node == goal:
                path = [node]
                while (previous := came_from[path[-1]]) is not None:
                    path.append(previous)
                return path[::-1]
            for successor in self._successors.get(node, {}):
                if successor not in came_from:
                    came_from[successor] = node
                    frontier.append(successor)
        return None


def _is_plumbing(filename: str) -> bool:
    return filename == _THREADING_FILE or os.path.dirname(filename) == _SYNC_PACKAGE_DIR


def _acquisition_site() -> str:
    frame = sys._getframe(1)
    while _is_plumbing(frame.f_code.co_filename) and frame.f_back is not None:
        frame = frame.f_back
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"
