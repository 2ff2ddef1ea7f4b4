"""The page store: each 2xx body saved under a directory, in a layout a person can browse.

A URL maps to one file by its text alone (:func:`page_path`), so a page fetched again after a
crash lands in the same file, and the mapping is injective, so two URLs never share one:

=========================================  ================================================
URL                                        file under the save directory
=========================================  ================================================
``http://example.com/docs/0.html``         ``example.com/docs/0.html``
``http://example.com/docs/``               ``example.com/docs/index.html``
``http://example.com/docs``                ``example.com/docs#``
``http://example.com/a.b/c.html``          ``example.com/a.b#/c.html``
``http://example.com/find?q=a/b&n=1``      ``example.com/find?q=a#2Fb&n=1``
``http://example.com/?q=1``                ``example.com/index.html?q=1``
``http://example.com/a/index.html``        ``example.com/a/index#2Ehtml``
``http://example.com:8080/x.css``          ``example.com_8080/x.css``
``https://example.com/x.css``              ``example.com_https/x.css``
``https://example.com:8443/x//y.js``       ``example.com_8443_https/x/#/y.js``
=========================================  ================================================

The rules:

* The first directory is the host, then ``_PORT`` when the port is not the scheme's default,
  then ``_https`` for https (so ``http`` and ``https`` of one host never mix). An ``_`` in a
  host is written ``#5F``, so the name splits back at ``_``.
* Every path segment but the last is a directory; the last is the file, ``index.html`` when
  the path ends in ``/``. The query follows the file name after a ``?``.
* A name is the URL's own text (its ``%`` escapes kept as they are), except that characters a
  file name cannot or should not hold (``/`` in a query, controls, anything outside printable
  ASCII) are written ``#XX``, one per UTF-8 byte. ``#`` is never part of a URL's path or
  query, so Spindle's escapes never mix with the URL's own and every name decodes back
  (:func:`url_of`).
* A file and a directory never share a name, even when both ``/a`` and ``/a/b`` are pages: a
  name that looks like a file (``name.ext``, the extension 1 to 8 letters or digits, not all
  digits) is plain as a file and gets a trailing ``#`` as a directory; any other name is plain
  as a directory and gets a trailing ``#`` as a file without a query. An empty segment is the
  directory ``#``; a last segment that is literally ``index.html`` is ``index#2Ehtml``.
* A name over 240 bytes is cut to 200, followed by ``#`` and the first 16 hex digits of the
  SHA-1 of the whole name; a path over 3000 bytes becomes ``HOST/##/SHA1`` (the SHA-1 of the
  URL). Such names do not decode back, and are unique but for a SHA-1 collision.

Names are case-sensitive, as on Linux. Files are written to a temporary name in their
directory and renamed into place; no path ever leaves the save directory: every directory on
the way is checked to be a real directory (never a symlink), and the resolved target is
checked to be inside the save directory. A page whose place is taken by something Spindle did
not make there (a file where a directory belongs, a symlink) is not saved, and its record says
``"file": null``.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import stat
import string
from pathlib import Path, PurePosixPath
from typing import Final
from urllib.parse import unquote, urlsplit

__all__ = ["PageStore", "page_path", "url_of"]

_SAFE: Final = frozenset(string.ascii_letters + string.digits + "-._~!$&'()*+,;=:@%")
_QUERY_SAFE: Final = _SAFE | {"?"}
_HOST_SAFE: Final = frozenset(string.ascii_lowercase + string.digits + "-.[]:")
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
_INDEX: Final = "index.html"
_INDEX_ESCAPED: Final = "index#2Ehtml"
_LONG_NAME: Final = 240
_CUT: Final = 200
_LONG_PATH: Final = 3000
_ESCAPE: Final = re.compile(r"#([0-9A-F]{2})")
_HASHED: Final = re.compile(r"#[0-9a-f]{16}")


def _escape(text: str, safe: frozenset[str]) -> str:
    """``text`` with every character outside ``safe`` written ``#XX`` per UTF-8 byte."""
    if all(c in safe for c in text):
        return text
    out = []
    for char in text:
        if char in safe:
            out.append(char)
        else:
            out.extend(f"#{byte:02X}" for byte in char.encode("utf-8", "surrogatepass"))
    return "".join(out)


def _unescape(name: str) -> str:
    data = _ESCAPE.sub(lambda m: "%" + m.group(1), name.replace("%", "%25"))
    return unquote(data, encoding="utf-8", errors="surrogatepass")


def _has_extension(segment: str) -> bool:
    """Whether a segment looks like a file name: ``stem.ext``, the extension 1 to 8 ASCII
    letters or digits and not only digits (``v1.2`` is no file name, ``x.tar.gz`` is)."""
    stem, dot, ext = segment.rpartition(".")
    if not (stem and dot and 1 <= len(ext) <= 8):
        return False
    return ext.isascii() and ext.isalnum() and not ext.isdigit()


def _segment(segment: str) -> str:
    if segment in (".", ".."):  # never a step up, even from a URL that was not normalised
        return "#2E" * len(segment)
    return _escape(segment, _SAFE)


def _bounded(name: str) -> str:
    if len(name) <= _LONG_NAME:
        return name
    return f"{name[:_CUT]}#{hashlib.sha1(name.encode()).hexdigest()[:16]}"


def _directory(segment: str) -> str:
    if not segment:
        return "#"
    return _bounded(_segment(segment) + ("#" if _has_extension(segment) else ""))


def _file(segment: str, query: str | None) -> str:
    if not segment:
        base = _INDEX
    elif segment == _INDEX:
        base = _INDEX_ESCAPED
    else:
        base = _segment(segment)
    if query is not None:
        return _bounded(f"{base}?{_escape(query, _QUERY_SAFE)}")
    if segment and not _has_extension(segment):
        return _bounded(base + "#")
    return _bounded(base)


def _host_directory(scheme: str, host: str, port: int | None) -> str:
    name = _escape(host, _HOST_SAFE)
    if name in (".", ".."):
        name = "#2E" * len(name)
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        name += f"_{port}"
    return name + ("_https" if scheme == "https" else "")


def page_path(url: str) -> PurePosixPath:
    """The file of ``url`` relative to the save directory (see the module docstring).

    ``url`` is an absolute http(s) URL in request form, as the crawl fetches it.

    Raises:
        ValueError: ``url`` is not an absolute http(s) URL.

    >>> str(page_path("http://example.com/docs/")), str(page_path("http://example.com/docs"))
    ('example.com/docs/index.html', 'example.com/docs#')
    >>> str(page_path("https://example.com:8443/a.b/c.html?x=/y"))
    'example.com_8443_https/a.b#/c.html?x=#2Fy'
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"{url}: not an absolute http(s) URL")
    hostname = parts.hostname
    host = f"[{hostname}]" if ":" in hostname else hostname
    top = _host_directory(scheme, host, parts.port)
    segments = (parts.path or "/").split("/")[1:]
    query = parts.query if "?" in url.split("#", 1)[0] else None
    names = [_directory(s) for s in segments[:-1]]
    names.append(_file(segments[-1], query))
    path = PurePosixPath(top, *names)
    if len(str(path).encode()) > _LONG_PATH:
        return PurePosixPath(top, "##", hashlib.sha1(url.encode()).hexdigest())
    return path


def _shortened(name: str) -> bool:
    return len(name) == _CUT + 17 and _HASHED.fullmatch(name, _CUT) is not None


def url_of(path: PurePosixPath | str) -> str | None:
    """The URL whose file is ``path`` (relative to the save directory): the inverse of
    :func:`page_path`, or None for a path it does not produce or a shortened name.

    >>> url_of("example.com_8443_https/a.b#/c.html?x=#2Fy")
    'https://example.com:8443/a.b/c.html?x=/y'
    >>> url_of("example.com/docs#"), url_of("example.com/index.html")
    ('http://example.com/docs', 'http://example.com/')
    """
    parts = PurePosixPath(path).parts
    if len(parts) < 2 or "##" in parts or any(_shortened(p) for p in parts):
        return None
    top, *labels = parts[0].split("_")
    scheme = "http"
    if labels and labels[-1] == "https":
        scheme = "https"
        labels.pop()
    port = ""
    if labels:
        if len(labels) > 1 or not labels[0].isdigit():
            return None
        port = f":{labels[0]}"
    host = _unescape(top)
    segments = []
    for name in parts[1:-1]:
        if name == "#":
            segments.append("")
            continue
        marked = name.endswith("#")
        segment = _unescape(name[:-1] if marked else name)
        if marked != _has_extension(segment) or not segment:
            return None
        segments.append(segment)
    base, question, query = parts[-1].partition("?")
    marked = not question and base.endswith("#")
    if marked:
        base = base[:-1]
    if base == _INDEX:
        last = ""
    elif base == _INDEX_ESCAPED:
        last = _INDEX
    else:
        last = _unescape(base)
    if not question and bool(last) and marked == _has_extension(last):
        return None
    segments.append(last)
    tail = f"?{_unescape(query)}" if question else ""
    return f"{scheme}://{host}{port}/{'/'.join(segments)}{tail}"


class PageStore:
    """Saves bodies under ``root`` at :func:`page_path` of their URL.

    Called from the writer thread only. ``root`` is created if missing.

    Raises:
        OSError: ``root`` cannot be created.
    """

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self._root = root.resolve()
        self._made: set[Path] = set()

    @property
    def root(self) -> Path:
        """The save directory, resolved."""
        return self._root

    def save(self, url: str, body: bytes) -> str | None:
        """Write ``body`` to the file of ``url`` (replacing it) and return that file relative
        to the root, or None when something Spindle did not make holds its place.

        The body goes to a temporary name in the file's directory first and is renamed into
        place, so the file is always whole.

        Raises:
            OSError: writing failed (a full disk, no permission).
        """
        relative = page_path(url)
        directory = self._directory(relative.parent)
        if directory is None:
            return None
        target = directory / relative.name
        if not os.path.realpath(target).startswith(str(self._root) + os.sep):
            return None
        try:
            if not stat.S_ISREG(os.lstat(target).st_mode):
                return None  # a directory or a symlink holds the name
        except FileNotFoundError:
            pass
        # '#t' is no escape: page_path never makes this name.
        temporary = directory / f"#tmp.{secrets.token_hex(8)}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(body)
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return str(relative)

    def _directory(self, relative: PurePosixPath) -> Path | None:
        """Make the directories of ``relative`` under the root, one at a time, refusing any
        that is not a real directory; None when one is not."""
        current = self._root
        for name in relative.parts:
            current = current / name
            if current in self._made:
                continue
            try:
                os.mkdir(current)
            except FileExistsError:
                if not stat.S_ISDIR(os.lstat(current).st_mode):
                    return None  # a file or a symlink: not ours to replace or follow
            self._made.add(current)
        return current
