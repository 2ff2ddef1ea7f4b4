"""A small site for the archive tests: plain, gzip-encoded, chunked, redirected, missing,
retried and oversized pages, and a file next to a directory of the same name.

:func:`archive_site` routes it on a fault server and returns what each 2xx path sends: the
decoded body, and the body as it goes over the wire (gzip bytes for the gzip page)."""

from __future__ import annotations

import gzip
from dataclasses import dataclass

from tests.support.faultserver import (
    FaultServer,
    huge,
    page,
    raw,
    redirect,
    robots,
    sequence,
    verbatim,
)

MAX_BYTES = 1024
BIG = 5000
LINKS = (
    "/plain.html",
    "/gz.html",
    "/chunked.html",
    "/dir",
    "/dir/",
    "/dir/inner.html",
    "/moved",
    "/missing",
    "/flaky.html",
    "/big.html",
    "/find?q=a/b",
)


@dataclass(frozen=True)
class Sent:
    """A 2xx answer of the site: its decoded body and the body as sent on the wire."""

    decoded: bytes
    wire: bytes


def _body(handler: object) -> bytes:
    reply = handler(None)  # type: ignore[operator]  # the page factories ignore the request
    assert isinstance(reply.body, bytes)
    return reply.body


def archive_site(server: FaultServer) -> dict[str, Sent]:
    """Route the site on ``server``; the 2xx paths (query included) and what they send."""
    sent: dict[str, Sent] = {}

    def html(path: str, *links: str, title: str = "page") -> None:
        handler = page(*links, title=title)
        server.route(path.partition("?")[0], handler)
        body = _body(handler)
        sent[path] = Sent(body, body)

    server.route("/robots.txt", robots("User-agent: *\nDisallow: /private/\n"))
    html("/", *LINKS, title="home")
    html("/plain.html", "/", title="plain")
    html("/dir", title="the file dir")
    html("/dir/", "inner.html", title="the index of dir")
    html("/dir/inner.html", title="inner")
    html("/find?q=a/b", title="found")
    html("/target.html", title="target")

    zipped_page = _body(page("/plain.html", title="gzip"))
    zipped = gzip.compress(zipped_page, mtime=0)
    server.route(
        "/gz.html",
        raw(200, {"Content-Type": "text/html", "Content-Encoding": "gzip"}, zipped),
    )
    sent["/gz.html"] = Sent(zipped_page, zipped)

    chunked_page = _body(page("/plain.html", title="chunked"))
    halves = chunked_page[:100], chunked_page[100:]
    framed = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in halves) + b"0\r\n\r\n"
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n"
    server.route("/chunked.html", verbatim(head + framed))
    sent["/chunked.html"] = Sent(chunked_page, chunked_page)

    server.route("/moved", redirect("/target.html", status=301))
    flaky_page = _body(page(title="flaky"))
    server.route(
        "/flaky.html",
        sequence(
            raw(503, {"Retry-After": "0"}, b"busy"),
            raw(200, {"Content-Type": "text/html"}, flaky_page),
        ),
    )
    sent["/flaky.html"] = Sent(flaky_page, flaky_page)
    server.route("/big.html", huge(BIG))
    sent["/big.html"] = Sent(b"x" * MAX_BYTES, b"x" * BIG)  # kept: the first MAX_BYTES
    return sent
