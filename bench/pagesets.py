"""Which pages each crawler found, compared on equal terms.

Crawlers spell the same page differently (``/`` or ``/index.html``, with or without a
fragment, percent-escaped or not), so URLs are normalised before sets are compared, and the
differences are reported rather than hidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit

__all__ = ["SetDifference", "compare", "hosts", "normalise"]

_EXAMPLES = 3


def normalise(url: str) -> str:
    """One spelling per page: lower-case scheme and host, no fragment, ``d/`` = ``d/index.html``.

    >>> normalise("HTTP://127.0.0.1:8000/a/#top")
    'http://127.0.0.1:8000/a/index.html'
    >>> normalise("http://127.0.0.1:8000/a%20b.html?x=1")
    'http://127.0.0.1:8000/a b.html?x=1'
    """
    parts = urlsplit(url.strip())
    path = unquote(parts.path) or "/"
    if path.endswith("/"):
        path += "index.html"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))


def hosts(urls: set[str]) -> int:
    """How many hosts (host:port) the normalised ``urls`` are on.

    >>> hosts({"http://127.1.0.1:80/", "http://127.1.0.1:80/p/1.html", "http://127.1.0.2:80/"})
    2
    """
    return len({urlsplit(url).netloc for url in urls})


@dataclass(frozen=True, slots=True)
class SetDifference:
    """How one crawler's pages differ from what all the crawlers found together."""

    missing: int
    missing_examples: tuple[str, ...]
    only_here: int
    only_here_examples: tuple[str, ...]

    def describe(self) -> str:
        """A short Markdown-safe summary, with a few paths as examples."""
        if not self.missing and not self.only_here:
            return "same"
        parts = []
        if self.missing:
            parts.append(f"missing {self.missing} (e.g. {', '.join(self.missing_examples)})")
        if self.only_here:
            parts.append(f"only here {self.only_here} (e.g. {', '.join(self.only_here_examples)})")
        return "; ".join(parts)


def _paths(urls: set[str]) -> tuple[str, ...]:
    return tuple(urlsplit(url).path for url in sorted(urls)[:_EXAMPLES])


def compare(found: dict[str, set[str]]) -> dict[str, SetDifference]:
    """Each crawler's set against the union (missing) and against all the others (only here)."""
    union = set().union(*found.values()) if found else set()
    result = {}
    for name, pages in found.items():
        others = set().union(*(other for key, other in found.items() if key != name))
        missing = union - pages
        only_here = pages - others if len(found) > 1 else set()
        result[name] = SetDifference(
            len(missing), _paths(missing), len(only_here), _paths(only_here)
        )
    return result
