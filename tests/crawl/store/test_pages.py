"""The page store: the URL-to-file mapping (a table, then properties over generated URLs) and
the writes (whole files, replaced in place, never outside the directory)."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spindle.crawl.core.urls import InvalidURL, normalize
from spindle.crawl.store.pages import PageStore, page_path, url_of

TABLE = [
    ("http://example.com/docs/0.html", "example.com/docs/0.html"),
    ("http://example.com/docs/", "example.com/docs/index.html"),
    ("http://example.com/docs", "example.com/docs#"),
    ("http://example.com/", "example.com/index.html"),
    ("http://example.com/a.b/c.html", "example.com/a.b#/c.html"),
    ("http://example.com/v1.2/x", "example.com/v1.2/x#"),
    ("http://example.com/find?q=a/b&n=1", "example.com/find?q=a#2Fb&n=1"),
    ("http://example.com/find?", "example.com/find?"),
    ("http://example.com/?q=1", "example.com/index.html?q=1"),
    ("http://example.com/a/index.html", "example.com/a/index#2Ehtml"),
    ("http://example.com/a/index.html?x", "example.com/a/index#2Ehtml?x"),
    ("http://example.com:8080/x.css", "example.com_8080/x.css"),
    ("https://example.com/x.css", "example.com_https/x.css"),
    ("https://example.com:8443/x//y.js", "example.com_8443_https/x/#/y.js"),
    ("http://under_score.test/a.txt", "under#5Fscore.test/a.txt"),
    ("http://[::1]:8000/caf%C3%A9.html", "[::1]_8000/caf%C3%A9.html"),
    ("http://example.com/%2E%2E/x.html", "example.com/%2E%2E/x.html"),
    ("http://example.com/.well-known/a.txt", "example.com/.well-known/a.txt"),
]


@pytest.mark.parametrize(("url", "path"), TABLE)
def test_mapping_table(url: str, path: str) -> None:
    assert str(page_path(url)) == path
    assert url_of(path) == url


def test_dot_segments_and_long_names_never_escape() -> None:
    # a URL that was not normalised still cannot step up
    assert page_path("http://a.test/../x/./y").parts == ("a.test", "#2E#2E", "x", "#2E", "y#")
    long = "http://a.test/" + "x" * 300 + ".html?" + "q" * 300
    (host, name) = page_path(long).parts
    assert host == "a.test"
    assert len(name) == 217
    assert name.startswith("x" * 200 + "#")
    assert url_of(page_path(long)) is None  # shortened: no way back
    deep = "http://a.test/" + "/".join(["abcdefghij"] * 400)
    assert page_path(deep).parts[:2] == ("a.test", "##")
    assert url_of(page_path(deep)) is None


_SEGMENT = st.one_of(
    st.sampled_from(["", ".", "..", "index.html", "a", "a.html", "v1.2", "x.tar.gz", "%41", "A"]),
    st.text(min_size=0, max_size=12),
)
_QUERY = st.one_of(st.none(), st.text(max_size=12), st.sampled_from(["", "a=/", "a=%2F", "?"]))
_HOST = st.sampled_from(["a.test", "b_c.test", "a.test:8080", "a.test:443", "[::1]", "xn--ca-y.x"])


@st.composite
def urls(draw: st.DrawFn) -> str | None:
    scheme = draw(st.sampled_from(["http", "https"]))
    host = draw(_HOST)
    segments = draw(st.lists(_SEGMENT, min_size=0, max_size=5))
    query = draw(_QUERY)
    raw = f"{scheme}://{host}/{'/'.join(segments)}" + ("" if query is None else f"?{query}")
    try:
        return normalize(raw)
    except InvalidURL:
        return None


def _checked(url: str) -> PurePosixPath:
    path = page_path(url)
    assert not path.is_absolute()
    assert not {"..", ".", ""} & set(path.parts)
    assert all(0 < len(part.encode()) <= 255 for part in path.parts)
    assert "\x00" not in str(path)
    assert page_path(url) == path  # stable
    return path


@given(st.lists(urls(), min_size=1, max_size=30))
def test_mapping_is_injective_safe_stable_and_files_never_are_directories(
    drawn: list[str | None],
) -> None:
    found = {url for url in drawn if url is not None}
    paths = {url: _checked(url) for url in found}
    assert len(set(paths.values())) == len(paths), "two URLs share a file"
    directories = {parent for path in paths.values() for parent in path.parents}
    assert not directories & set(paths.values()), "a file where a directory must go"
    for url, path in paths.items():
        back = url_of(path)
        assert back is None or back == url
        if all(len(part) != 217 for part in path.parts) and "##" not in path.parts:
            assert back == url


@given(st.text(max_size=40), st.text(max_size=40))
def test_any_text_after_a_host_is_safe(path: str, query: str) -> None:
    try:
        url = normalize(f"http://a.test/{path}?{query}")
    except InvalidURL:
        return
    assert _checked(url).parts[0] == "a.test"


def test_saves_whole_files_and_replaces_them(tmp_path: Path) -> None:
    store = PageStore(tmp_path / "pages")
    assert store.save("http://a.test/a", b"one") == "a.test/a#"
    assert store.save("http://a.test/a/b.html", b"two") == "a.test/a/b.html"
    assert store.save("http://a.test/a/", b"three") == "a.test/a/index.html"
    assert store.save("http://a.test/a", b"again") == "a.test/a#"  # the same file, replaced
    root = tmp_path / "pages"
    assert (root / "a.test/a#").read_bytes() == b"again"
    assert (root / "a.test/a/b.html").read_bytes() == b"two"
    assert (root / "a.test/a/index.html").read_bytes() == b"three"
    left = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert left == ["a.test/a#", "a.test/a/b.html", "a.test/a/index.html"]  # no temporary


def test_never_follows_a_symlink_or_replaces_what_it_did_not_make(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "pages"
    store = PageStore(root)
    (root / "a.test").mkdir()
    os.symlink(outside, root / "a.test" / "docs")
    assert store.save("http://a.test/docs/x.html", b"evil") is None
    assert list(outside.iterdir()) == []
    (root / "a.test" / "file").write_bytes(b"user data")
    assert store.save("http://a.test/file/x.html", b"page") is None
    assert (root / "a.test" / "file").read_bytes() == b"user data"
    os.symlink(outside / "target", root / "a.test" / "y.html")
    assert store.save("http://a.test/y.html", b"evil") is None
    assert not (outside / "target").exists()
    (root / "a.test" / "z.html").mkdir()
    assert store.save("http://a.test/z.html", b"page") is None
    assert store.save("http://a.test/ok.html", b"page") == "a.test/ok.html"
