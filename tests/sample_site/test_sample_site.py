"""The sample site: deterministic, fully reachable, and served for real on 127.0.0.1."""

from __future__ import annotations

import re
import socket
import urllib.error
import urllib.request
from collections import deque
from urllib.parse import urldefrag, urljoin

import pytest

from spindle.sample_site import SiteSpec, render, serve_in_thread
from tests.crawl.e2e import run_spindle

_HREF = re.compile(rb'href="([^"]+)"')


def _links(spec: SiteSpec, path: str) -> list[str]:
    base = "http://site.test" + path
    found = []
    for href in _HREF.findall(render(spec, path).body):
        url, _ = urldefrag(urljoin(base, href.decode()))
        if url.startswith("http://site.test/"):
            found.append(url[len("http://site.test") :])
    return found


@pytest.mark.parametrize("pages", [1, 2, 7, 300])
def test_every_page_is_reachable_from_the_home_page_within_log_depth(pages: int) -> None:
    spec = SiteSpec(pages=pages)
    depth = {"/": 0}
    queue = deque(["/"])
    while queue:
        path = queue.popleft()
        if render(spec, path).status != 200 or not path.endswith(("/", ".html")):
            continue
        for link in _links(spec, path):
            if link not in depth:
                depth[link] = depth[path] + 1
                queue.append(link)
    docs = {p for p in depth if p.startswith("/docs/") and render(spec, p).status == 200}
    assert docs == {f"/docs/{n}.html" for n in range(pages)}
    assert max(depth[p] for p in docs) <= pages.bit_length() + 1


def test_the_same_spec_renders_the_same_bytes_and_seeds_vary_links() -> None:
    spec = SiteSpec(pages=50, links_per_page=12, page_bytes=3_000)
    assert render(spec, "/docs/7.html") == render(SiteSpec(50, 12, 3_000), "/docs/7.html")
    assert _links(spec, "/docs/7.html") != _links(SiteSpec(50, 12, 3_000, seed=1), "/docs/7.html")
    assert len(_links(spec, "/docs/7.html")) == 12 + 1  # the chapter links and "Home"


@pytest.mark.parametrize("page_bytes", [0, 2_000, 20_000, 300_000])
def test_pages_are_about_the_size_asked_for(page_bytes: int) -> None:
    body = render(SiteSpec(pages=10, page_bytes=page_bytes), "/docs/3.html").body
    assert page_bytes <= len(body) <= page_bytes + 1_000


@pytest.mark.parametrize(
    ("path", "status", "content_type"),
    [
        ("/robots.txt", 200, "text/plain"),
        ("/files/report.pdf", 200, "application/pdf"),
        ("/old-home", 301, "text/html"),
        ("/docs/10.html", 404, "text/html"),
        ("/docs/01.html", 404, "text/html"),
        ("/docs/x.html", 404, "text/html"),
    ],
)
def test_the_corners_a_polite_crawler_must_handle(
    path: str, status: int, content_type: str
) -> None:
    reply = render(SiteSpec(pages=10), path)
    assert (reply.status, reply.content_type) == (status, content_type)


def test_bad_specs_are_refused() -> None:
    with pytest.raises(ValueError, match="pages must be at least 1"):
        SiteSpec(pages=0)
    with pytest.raises(ValueError, match="cannot be negative"):
        SiteSpec(page_bytes=-1)


def test_served_over_http_with_counts() -> None:
    with serve_in_thread(SiteSpec(pages=3)) as site:
        with urllib.request.urlopen(f"{site.base_url}/docs/2.html") as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{site.base_url}/docs/3.html")
        assert missing.value.code == 404
        assert site.requests == 2


def test_serve_sample_on_a_busy_port_exits_2_with_one_line() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_spindle("serve-sample", "--port", str(port), timeout=30)
    assert result.returncode == 2
    err = result.stderr.decode()
    assert f"cannot listen on 127.0.0.1:{port}" in err
    assert len(err.strip().splitlines()) == 1
