"""Spider-trap guards: refuse URLs that a generated site could produce without end.

Rules (each refusal is reported as its :class:`~spindle.crawl.core.values.TrapRule`):

``url_too_long``      the canonical URL is longer than ``max_url_length``;
``path_too_deep``     the path has more than ``max_path_depth`` segments;
``repeated_path``     a run of segments repeats back to back more than ``max_repeats`` times
                      (``/a/b/a/b/a/b`` with the default of 2), the relative-link loop;
``query_variants``    one path has already been admitted with ``max_query_variants`` distinct
                      queries, the infinite calendar;
``host_page_cap``     the host already has ``max_pages_per_host`` admitted URLs.
"""

from __future__ import annotations

from collections import Counter

from spindle.crawl.core.config import TrapLimits
from spindle.crawl.core.urls import host_key
from spindle.crawl.core.values import TrapRule, TrapTally

__all__ = ["TrapGuard", "counted_under", "repeated_run", "shape_rule"]


def repeated_run(segments: list[str], max_repeats: int) -> bool:
    """Return True when some run of segments appears more than ``max_repeats`` times in a row.

    >>> repeated_run(["a", "b", "a", "b", "a", "b"], 2)
    True
    >>> repeated_run(["a", "b", "a", "b", "c"], 2)
    False
    """
    n = len(segments)
    need = max_repeats + 1
    for size in range(1, n // need + 1):
        for start in range(n - size * need + 1):
            run = segments[start : start + size]
            if all(
                segments[start + k * size : start + (k + 1) * size] == run for k in range(1, need)
            ):
                return True
    return False


def shape_rule(url: str, limits: TrapLimits) -> TrapRule | None:
    """The rule that refuses ``url`` by its shape alone (length, depth, repeats), or None.

    >>> shape_rule("http://a.test/a/b/a/b/a/b", TrapLimits())
    <TrapRule.REPEATED_PATH: 'repeated_path'>
    """
    if len(url) > limits.max_url_length:
        return TrapRule.URL_TOO_LONG
    segments = [s for s in _path(url).partition("?")[0].split("/") if s]
    if len(segments) > limits.max_path_depth:
        return TrapRule.PATH_TOO_DEEP
    if len(segments) > limits.max_repeats and repeated_run(segments, limits.max_repeats):
        return TrapRule.REPEATED_PATH
    return None


def counted_under(url: str) -> tuple[str, str | None]:
    """The counters an admitted ``url`` adds to: its host, and its host and path when it has
    a query (the query-variant count), else None.

    >>> counted_under("http://a.test/cal?m=1"), counted_under("http://a.test/x")
    (('http://a.test', 'http://a.test/cal'), ('http://a.test', None))
    """
    host = host_key(url)
    path, has_query, _ = _path(url).partition("?")
    return host, host + path if has_query else None


def _path(url: str) -> str:
    rest = url.partition("://")[2]
    return rest[rest.find("/") :] if "/" in rest else "/"


class TrapGuard:
    """Admits or refuses canonical URLs, counting what it has admitted per host and path.

    ``tally`` holds the counts of an earlier run of the crawl (a resume); the guard goes on
    counting from them.
    """

    def __init__(self, limits: TrapLimits, tally: TrapTally | None = None) -> None:
        self._limits = limits
        self._variants: Counter[str] = Counter()
        self._per_host: Counter[str] = Counter()
        if tally is not None:
            self.restore(tally)

    def restore(self, tally: TrapTally) -> None:
        """Add the counts of an earlier run."""
        self._variants.update(tally.variants)
        self._per_host.update(tally.per_host)

    def tally(self) -> TrapTally:
        """The counts so far."""
        return TrapTally(dict(self._per_host), dict(self._variants))

    def check(self, url: str) -> TrapRule | None:
        """Return the rule that refuses ``url``, or None after admitting it.

        Admission is counted: call once per distinct URL.

        >>> guard = TrapGuard(TrapLimits(max_query_variants=1))
        >>> guard.check("http://a.test/cal?m=1"), guard.check("http://a.test/cal?m=2")
        (None, <TrapRule.QUERY_VARIANTS: 'query_variants'>)
        """
        limits = self._limits
        refused = shape_rule(url, limits)
        if refused is not None:
            return refused
        host, variant = counted_under(url)
        cap = limits.max_pages_per_host
        if cap is not None and self._per_host[host] >= cap:
            return TrapRule.HOST_PAGE_CAP
        if variant is not None:
            if self._variants[variant] >= limits.max_query_variants:
                return TrapRule.QUERY_VARIANTS
            self._variants[variant] += 1
        self._per_host[host] += 1
        return None
