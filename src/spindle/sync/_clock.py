"""The clock type shared by the time-dependent primitives."""

from collections.abc import Callable

__all__ = ["Clock"]

#: A monotonic clock: a callable returning seconds as a float, such as :func:`time.monotonic`.
#: Only differences between readings matter; tests pass a fake that they advance by hand.
Clock = Callable[[], float]
