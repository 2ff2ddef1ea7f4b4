"""Facts about the interpreter and the process that the experiments report and depend on."""

from __future__ import annotations

import os
import platform
import sys
import sysconfig
from dataclasses import dataclass

__all__ = [
    "InterpreterFacts",
    "gil_enabled",
    "interpreter_facts",
    "os_stack_limit",
    "resident_memory_bytes",
    "usable_cpus",
]


def gil_enabled() -> bool:
    """Whether the GIL is on right now (``sys._is_gil_enabled`` on 3.13+; always on before).

    >>> isinstance(gil_enabled(), bool)
    True
    """
    probe = getattr(sys, "_is_gil_enabled", None)
    return True if probe is None else bool(probe())


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one), at least 1."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:
        return os.cpu_count() or 1


@dataclass(frozen=True, slots=True)
class InterpreterFacts:
    """The interpreter the experiments ran on."""

    implementation: str
    version: str
    free_threaded_build: bool
    gil_enabled: bool
    switch_interval: float
    cpu_count: int | None
    usable_cpus: int

    def describe(self) -> str:
        """One line, e.g. ``CPython 3.11.7, GIL on (switch interval 5 ms), 2 CPUs``."""
        if self.gil_enabled:
            gil = f"GIL on (switch interval {self.switch_interval * 1000:g} ms)"
        else:
            gil = "free-threaded, GIL off"
        if self.free_threaded_build and self.gil_enabled:
            gil += " (free-threaded build with the GIL re-enabled)"
        return (
            f"{self.implementation} {self.version}, {gil}, "
            f"{self.usable_cpus} of {self.cpu_count or '?'} CPUs usable"
        )


def interpreter_facts() -> InterpreterFacts:
    """Read the facts of the running interpreter.

    >>> interpreter_facts().usable_cpus >= 1
    True
    """
    return InterpreterFacts(
        implementation=platform.python_implementation(),
        version=platform.python_version(),
        free_threaded_build=bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        gil_enabled=gil_enabled(),
        switch_interval=sys.getswitchinterval(),
        cpu_count=os.cpu_count(),
        usable_cpus=usable_cpus(),
    )


def resident_memory_bytes() -> int:
    """The process's resident set size now (Linux ``/proc/self/statm``).

    Elsewhere it falls back to the peak resident size from ``resource.getrusage``, which only
    grows; deltas taken while memory grows are still meaningful.

    >>> resident_memory_bytes() > 0
    True
    """
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            resident_pages = int(statm.read().split()[1])
        return resident_pages * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        # ru_maxrss is in bytes on macOS and in kibibytes everywhere else.
        return peak if sys.platform == "darwin" else peak * 1024


def os_stack_limit() -> int | None:
    """The soft RLIMIT_STACK in bytes (glibc's default thread stack size), None if unlimited."""
    try:
        import resource
    except ImportError:
        return None
    soft, _hard = resource.getrlimit(resource.RLIMIT_STACK)
    return None if soft == resource.RLIM_INFINITY else soft
