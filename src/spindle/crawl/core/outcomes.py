"""What a page fetch's outcome means: retry, redirect, or a final record. Data and small
functions, so each rule can be read and tested on its own.

=====================================  ==========================================
outcome                                verdict
=====================================  ==========================================
a retryable failure, tries left        RETRY (full-jitter backoff)
429, 502, 503, 504, tries left         RETRY; 429 and 503 also pause the host for
                                       ``Retry-After`` (capped) or a backoff delay
any other failure                      FAILED, the failure's kind
429, 502, 503, 504 on the last try     FAILED, ``http_status``
3xx with a ``Location``                REDIRECT: the record names the target, which
                                       is admitted at the same depth (loops, long
                                       chains and bad targets are errors instead)
anything else                          FETCHED: the record, and for 2xx HTML the
                                       page's links at depth + 1
=====================================  ==========================================
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass

from spindle.crawl.core.urls import InvalidURL, canonicalize, resolve
from spindle.crawl.core.values import (
    Entry,
    ErrorKind,
    Failure,
    Fetch,
    Link,
    Observation,
    Outcome,
    PageRecord,
    RecordError,
)

__all__ = [
    "HOST_PAUSE_STATUSES",
    "RETRY_STATUSES",
    "RedirectRefused",
    "Verdict",
    "fetched_record",
    "judge",
    "redirect_target",
    "unfetched_record",
]

RETRY_STATUSES = frozenset({429, 502, 503, 504})
HOST_PAUSE_STATUSES = frozenset({429, 503})


class Verdict(enum.Enum):
    """What to do with a page fetch's outcome."""

    RETRY = "retry"
    FAILED = "failed"
    REDIRECT = "redirect"
    FETCHED = "fetched"


def judge(outcome: Outcome, *, may_retry: bool) -> Verdict:
    """Apply the table in the module docstring; ``may_retry`` says a try is left.

    >>> from spindle.crawl.core.values import Response
    >>> judge(Response(503, (), b"", 0.0, 0.0), may_retry=True)
    <Verdict.RETRY: 'retry'>
    >>> judge(Response(503, (), b"", 0.0, 0.0), may_retry=False)
    <Verdict.FAILED: 'failed'>
    """
    if isinstance(outcome, Failure):
        return Verdict.RETRY if outcome.retryable and may_retry else Verdict.FAILED
    if outcome.status in RETRY_STATUSES:
        return Verdict.RETRY if may_retry else Verdict.FAILED
    if 300 <= outcome.status < 400 and outcome.location:
        return Verdict.REDIRECT
    return Verdict.FETCHED


@dataclass(frozen=True, slots=True)
class RedirectRefused:
    """A redirect that is not followed: why, and where it pointed when that is a URL."""

    error: RecordError
    target: str | None


def redirect_target(fetch: Fetch, location: str, max_redirects: int) -> Link | RedirectRefused:
    """Where a redirect of ``fetch`` leads, or why it is not followed.

    >>> from spindle.crawl.core.values import FetchKind
    >>> old = "http://a.test/old"
    >>> fetch = Fetch(1, old, old, FetchKind.PAGE, 0, None, 1, 1024)
    >>> redirect_target(fetch, "/new?b=1&a=2", 10).url
    'http://a.test/new?b=1&a=2'
    >>> redirect_target(fetch, "http://[::1/", 10).error[0]
    <ErrorKind.BAD_REDIRECT: 'bad_redirect'>
    """
    try:
        url = resolve(fetch.url, location)
    except InvalidURL as exc:
        return RedirectRefused((ErrorKind.BAD_REDIRECT, str(exc)), None)
    target = Link(url, canonicalize(url))
    chain = (*fetch.redirect_chain, fetch.url)
    if target.key in {canonicalize(hop) for hop in chain}:
        return RedirectRefused((ErrorKind.REDIRECT_LOOP, " -> ".join((*chain, url))), url)
    if len(chain) > max_redirects:
        message = f"more than {max_redirects} redirects"
        return RedirectRefused((ErrorKind.TOO_MANY_REDIRECTS, message), url)
    return target


def fetched_record(
    observation: Observation,
    *,
    final_url: str | None = None,
    error: RecordError | None = None,
    collect_links: bool = False,
) -> PageRecord:
    """The record of a URL that was fetched (successfully or not). ``collect_links`` puts the
    page's outlinks in the record (an empty list for a page without any)."""
    fetch, outcome = observation.fetch, observation.outcome
    if isinstance(outcome, Failure):
        return dataclasses.replace(
            _unanswered(fetch.url, fetch.key, fetch.depth, fetch.parent),
            fetched_at=outcome.fetched_at,
            elapsed_ms=outcome.elapsed * 1000.0,
            attempts=fetch.attempt,
            error=error or (outcome.kind, outcome.message),
            redirect_chain=fetch.redirect_chain,
            outlinks=() if collect_links else None,
        )
    page = observation.page
    return PageRecord(
        url=fetch.url,
        key=fetch.key,
        final_url=final_url or fetch.url,
        status=outcome.status,
        depth=fetch.depth,
        parent=fetch.parent,
        content_type=outcome.content_type,
        bytes=len(outcome.body),
        links=page.link_count if page else 0,
        fetched_at=outcome.fetched_at,
        elapsed_ms=outcome.elapsed * 1000.0,
        attempts=fetch.attempt,
        error=error,
        truncated=outcome.truncated,
        noindex=page.noindex if page else False,
        title=page.title if page else None,
        sha1=observation.sha1,
        last_modified=outcome.header("Last-Modified"),
        etag=outcome.header("ETag"),
        redirect_chain=fetch.redirect_chain,
        outlinks=(page.outlinks if page else ()) if collect_links else None,
    )


def unfetched_record(entry: Entry, error: RecordError) -> PageRecord:
    """The record of a seed the crawl never fetched (robots.txt, a trap guard, ...)."""
    record = _unanswered(entry.url, entry.key, entry.depth, entry.parent)
    return dataclasses.replace(record, attempts=entry.attempt - 1, error=error)


def _unanswered(url: str, key: str, depth: int, parent: str | None) -> PageRecord:
    """A record with no HTTP answer: every field about the response empty."""
    return PageRecord(
        url=url,
        key=key,
        final_url=None,
        status=None,
        depth=depth,
        parent=parent,
        content_type=None,
        bytes=0,
        links=0,
        fetched_at=None,
        elapsed_ms=0.0,
        attempts=0,
    )
