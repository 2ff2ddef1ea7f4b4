"""Reading the URLs a user gives: arguments and files of one URL a line.

Rules, shared by ``spindle crawl`` (seeds) and ``spindle fetch`` (URLs):

* blank lines and lines starting with ``#`` are skipped; a ``#`` after white space starts a
  comment (``http://a.test/  # home``), while a ``#`` inside a URL is its fragment;
* every URL must be an absolute http(s) URL with a host (see :mod:`spindle.crawl.core.urls`);
  a bad one is reported as ``FILE:LINE: reason``, or with the argument itself;
* ``user:password@`` in a URL becomes HTTP Basic credentials for that URL's host, and is
  taken out of the URL, so it never reaches an output.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from spindle.crawl.core.urls import InvalidURL, host_key, normalize, split_credentials
from spindle.crawl.engines.request import Credentials

__all__ = ["SeedError", "Seeds", "read_seeds"]

_COMMENT = re.compile(r"\s#.*$")


class SeedError(ValueError):
    """A URL or a file of URLs that cannot be used; the message says where and why."""


@dataclass(frozen=True, slots=True)
class Seeds:
    """The URLs given (in request form, without credentials) and the credentials they carried,
    by host key."""

    urls: tuple[str, ...]
    credentials: dict[str, Credentials] = field(default_factory=dict)


def read_seeds(urls: Iterable[str], files: Iterable[Path] = ()) -> Seeds:
    """The URLs given as arguments, then those of each file, in order.

    Raises:
        SeedError: a URL is unusable, a file cannot be read, or one host is given two
            different sets of credentials.

    >>> read_seeds(["http://ann:pw@a.test/x#top"])
    Seeds(urls=('http://a.test/x',), credentials={'http://a.test': Credentials(user='ann')})
    """
    found: list[tuple[str, str | None]] = [(url, None) for url in urls]
    for path in files:
        found += _lines(path)
    seeds: list[str] = []
    credentials: dict[str, Credentials] = {}
    for raw, line in found:
        bare, pair = split_credentials(raw)
        where = line or repr(bare)  # an argument is named without its credentials
        try:
            url = normalize(bare)
        except InvalidURL as exc:
            reason = str(exc).removeprefix(f"{bare}: ")
            raise SeedError(f"{where}: {reason}") from exc
        if pair is not None:
            try:
                login = Credentials(*pair)
            except ValueError as exc:
                raise SeedError(f"{where}: {exc}") from exc
            host = host_key(url)
            if credentials.setdefault(host, login) != login:
                raise SeedError(f"{where}: {host} is given two different sets of credentials")
        seeds.append(url)
    return Seeds(tuple(seeds), credentials)


def _lines(path: Path) -> list[tuple[str, str | None]]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SeedError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise SeedError(f"cannot read {path}: {exc.strerror}") from exc
    lines: list[tuple[str, str | None]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = _COMMENT.sub("", line).strip()
        if stripped and not stripped.startswith("#"):
            lines.append((stripped, f"{path}:{number}"))
    return lines
