"""The user's URL filters, applied to every URL the crawl finds (never to the seeds).

Rules, in order; the first that refuses names the :class:`FilterRule`:

``exclude``    the canonical URL matches one of the ``--exclude`` patterns (``re.search``);
``include``    ``--include`` patterns were given and the canonical URL matches none of them;
``no_parent``  with ``--no-parent``, the URL is not under any seed's directory (the seed's path
               up to its last ``/``, on the seed's scheme and host), as ``wget -np`` does.

Patterns are checked when the filters are built, so a bad pattern fails before the crawl.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from spindle.crawl.core.values import FilterRule, Link

__all__ = ["UrlFilters"]


@dataclass(frozen=True, slots=True)
class UrlFilters:
    """Decides which found URLs the user wants crawled.

    >>> filters = UrlFilters.build(exclude=[r"\\?print="], seeds=["http://a.test/docs/x.html"],
    ...                            no_parent=True)
    >>> filters.refuses(Link("http://a.test/docs/y.html", "http://a.test/docs/y.html"))
    >>> filters.refuses(Link("http://a.test/blog/", "http://a.test/blog/"))
    <FilterRule.NO_PARENT: 'no_parent'>
    >>> filters.refuses(Link("http://a.test/docs/y?print=1", "http://a.test/docs/y?print=1"))
    <FilterRule.EXCLUDE: 'exclude'>
    """

    include: tuple[re.Pattern[str], ...] = ()
    exclude: tuple[re.Pattern[str], ...] = ()
    parents: tuple[str, ...] | None = None

    @classmethod
    def build(
        cls,
        *,
        include: Iterable[str] = (),
        exclude: Iterable[str] = (),
        seeds: Iterable[str] = (),
        no_parent: bool = False,
    ) -> UrlFilters:
        """Compile the patterns; ``seeds`` (request form) give the ``--no-parent`` prefixes.

        Raises:
            ValueError: a pattern is not a valid regular expression (the message names it).
        """
        parents = (
            tuple(sorted({seed[: seed.rfind("/") + 1] for seed in seeds})) if no_parent else None
        )
        return cls(_compile(include, "--include"), _compile(exclude, "--exclude"), parents)

    @property
    def active(self) -> bool:
        """Whether any filter was asked for."""
        return bool(self.include or self.exclude or self.parents is not None)

    def refuses(self, link: Link) -> FilterRule | None:
        """The rule that refuses ``link``, or None when it may be crawled."""
        if any(pattern.search(link.key) for pattern in self.exclude):
            return FilterRule.EXCLUDE
        if self.include and not any(pattern.search(link.key) for pattern in self.include):
            return FilterRule.INCLUDE
        if self.parents is not None and not link.url.startswith(self.parents):
            return FilterRule.NO_PARENT
        return None


def _compile(patterns: Iterable[str], flag: str) -> tuple[re.Pattern[str], ...]:
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern))
        except re.error as exc:
            raise ValueError(f"{flag} {pattern!r} is not a regular expression: {exc}") from exc
    return tuple(compiled)
