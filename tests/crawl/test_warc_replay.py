"""Our WARCs replayed by pywb, the archive's real reader: ``wb-manager init`` and ``add`` in a
temporary directory, ``wayback`` on a free 127.0.0.1 port, pages fetched in identity mode
(``id_``: no rewriting) and compared byte for byte with what the server sent.

Two WARCs go into one collection, so pywb starts once (about 2 s, the bulk of this module's
time): one from a real crawl of the archive site, and one written from synthetic exchanges
that carry a wire capture (a gzip-encoded page, a chunked page), so the wire path is replayed
whether or not the fetchers capture the wire yet. wayback runs without ``--live``,
``--record`` or ``--proxy`` and with the default configuration, so it only reads the
collection's files and never fetches anything.
"""

from __future__ import annotations

import gzip
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import pytest
from rich.console import Console

from spindle.crawl.core import CrawlConfig
from spindle.crawl.core.values import Fetch, FetchKind, Response, Wire
from spindle.crawl.runner import RunOptions, run_crawl
from spindle.crawl.store.warc import WarcArchive
from tests.crawl.archive_site import MAX_BYTES, Sent, archive_site
from tests.support.faultserver import FaultServer, page
from tests.support.pywb import replayed, wayback
from tests.support.warc import assert_one_record_per_member, read_records, warcio_check

pytestmark = pytest.mark.slow

WIRE_HOST = "http://wire.test"
GZIPPED = page("/", title="zipped on the wire")(None).body  # type: ignore[arg-type]
CHUNKED = page("/", title="chunked on the wire")(None).body  # type: ignore[arg-type]
assert isinstance(GZIPPED, bytes)
assert isinstance(CHUNKED, bytes)


@dataclass
class Replay:
    port: int
    sent: dict[str, tuple[str, Sent]]  # URL -> (14-digit timestamp, what the server sent)

    def get(self, url: str, *, gzip_ok: bool = True) -> tuple[bytes, Message]:
        """The replayed body and headers (see :func:`tests.support.pywb.replayed`)."""
        return replayed(self.port, self.sent[url][0], url, gzip_ok=gzip_ok)


def _wire_warc(path: Path) -> dict[str, Sent]:
    """A WARC of two exchanges as a fetcher that captures the wire would hand them over."""
    asked = (("Host", "wire.test"), ("User-Agent", "spindle/test"))
    zipped = gzip.compress(GZIPPED, mtime=0)
    half = len(CHUNKED) // 2
    exchanges = [
        (
            "/gz.html",
            (("Content-Type", "text/html"), ("Content-Encoding", "gzip")),
            GZIPPED,
            Wire("/gz.html", asked, "HTTP/1.1", "OK", zipped, True),
        ),
        (
            "/chunked.html",
            (("Content-Type", "text/html"), ("Transfer-Encoding", "chunked")),
            CHUNKED,
            Wire("/chunked.html", asked, "HTTP/1.1", "OK", CHUNKED[:half] + CHUNKED[half:], True),
        ),
    ]
    warc = WarcArchive(path, info=[("software", "spindle/test")])
    warc.start(None, resumed=False)
    batch = []
    for i, (target, headers, body, wire) in enumerate(exchanges):
        url = WIRE_HOST + target
        fetch = Fetch(i, url, url, FetchKind.PAGE, 0, None, 1, 1 << 20)
        batch.append((fetch, Response(200, headers, body, 0.01, 1764086866.0 + i, wire=wire)))
    warc.write(batch)
    warc.close()
    return {
        WIRE_HOST + "/gz.html": Sent(GZIPPED, zipped),
        WIRE_HOST + "/chunked.html": Sent(CHUNKED, CHUNKED),
    }


def _crawl_warc(path: Path, out: Path) -> dict[str, Sent]:
    with FaultServer() as server:
        sent = archive_site(server)
        config = CrawlConfig(seeds=(server.url("/"),), rate=0, max_bytes=MAX_BYTES, timeout=5)
        options = RunOptions(out=str(out), warc=path, workers=4, overwrite=True)
        summary = run_crawl(config, options, Console(quiet=True, stderr=True))
        assert summary.failure is None
        return {server.url(p): s for p, s in sent.items() if p != "/big.html"}


def _stamps(path: Path) -> dict[str, str]:
    """The 14-digit timestamp of the last response record of each URL."""
    stamps = {}
    for record in read_records(path):
        if record.type == "response":
            date = record.headers["WARC-Date"]
            stamps[record.headers["WARC-Target-URI"]] = "".join(c for c in date if c.isdigit())[:14]
    return stamps


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replay]:
    root = tmp_path_factory.mktemp("replay")
    crawled, wired = root / "crawl.warc.gz", root / "wire.warc.gz"
    sent = {**_crawl_warc(crawled, root / "out.jsonl"), **_wire_warc(wired)}
    stamps: dict[str, str] = {}
    for path in (crawled, wired):
        warcio_check(path)
        assert_one_record_per_member(path)
        stamps |= _stamps(path)
    with wayback(root, [crawled, wired]) as port:
        yield Replay(port, {url: (stamps[url], body) for url, body in sent.items()})


def test_every_page_of_a_real_crawl_replays_as_sent(replay: Replay) -> None:
    # pywb's index key (SURT) drops a trailing slash, so /dir and /dir/ are one URL to it
    # and either may answer; each is in the WARC once (test_archive_cli checks that).
    crawled = [
        url
        for url in replay.sent
        if not url.startswith(WIRE_HOST) and not url.endswith(("/dir", "/dir/"))
    ]
    assert len(crawled) == 8
    for url in crawled:
        body, headers = replay.get(url)
        sent = replay.sent[url][1]
        if headers["Content-Encoding"] == "gzip":  # the record kept the wire's encoding
            assert body == sent.wire, url
        else:  # no wire capture: the decoded body
            assert headers["Content-Encoding"] is None
            assert body == sent.decoded, url


def test_a_gzip_page_replays_with_its_encoding(replay: Replay) -> None:
    body, headers = replay.get(WIRE_HOST + "/gz.html")
    assert headers["Content-Encoding"] == "gzip"
    assert body == gzip.compress(GZIPPED, mtime=0)  # the bytes that went over the wire
    body, headers = replay.get(WIRE_HOST + "/gz.html", gzip_ok=False)
    assert headers["Content-Encoding"] is None
    assert headers["X-Archive-Orig-Content-Encoding"] == "gzip"
    assert body == GZIPPED


def test_a_chunked_page_replays_whole(replay: Replay) -> None:
    body, headers = replay.get(WIRE_HOST + "/chunked.html")
    assert body == CHUNKED
    assert headers["Content-Length"] == str(len(CHUNKED))
    assert headers["X-Spindle-Transfer-Encoding"] == "chunked"


def test_a_url_never_crawled_is_not_found(replay: Replay) -> None:
    stamp = replay.sent[WIRE_HOST + "/gz.html"][0]
    address = f"http://127.0.0.1:{replay.port}/coll/{stamp}id_/{WIRE_HOST}/never.html"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with pytest.raises(urllib.error.HTTPError) as caught:
        opener.open(address, timeout=10)
    assert caught.value.code == 404
