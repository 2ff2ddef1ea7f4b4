"""Spindle: exact concurrency primitives, a polite resumable crawler built on them, and a lab.

The package has three parts:

* :mod:`spindle.sync`: the primitives (bounded queue, token bucket, backoff,
  lock-order checker, Banker's algorithm);
* :mod:`spindle.crawl`: the crawler, a sans-I/O core driven by thin engines;
* :mod:`spindle.lab`: classic concurrency experiments, measured on this interpreter.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
