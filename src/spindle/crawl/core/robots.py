"""The robots.txt decision of one host, as a state machine (RFC 9309, section 2.3).

Transition table (``status`` of the host's robots state):

==============  ==============================================  ===========================
from            fact                                            to
==============  ==============================================  ===========================
UNKNOWN         the robots.txt fetch is handed out              PENDING
PENDING         2xx                                             READY, rules parsed (2.3.1.1)
PENDING         3xx with a Location, five redirects or fewer    REDIRECTED (2.3.1.2)
                so far
PENDING         3xx beyond five redirects, or without a         READY, allow all (2.3.1.2,
                usable Location; 4xx other than 429             2.3.1.3)
PENDING         5xx, 429, or a failure that may pass            RETRY until ``retry_at``,
                (timeout, connection)                           disallow all (2.3.1.4)
PENDING         the same after the last try, or a failure       UNREACHABLE, disallow all
                that will not pass (DNS, TLS, not HTTP ...)     (2.3.1.4)
REDIRECTED      the redirect target's fetch is handed out       PENDING
RETRY           ``retry_at`` comes and the fetch is handed out  PENDING
==============  ==============================================  ===========================

Until a host is READY or UNREACHABLE none of its URLs leave the frontier: an undecided host
is never treated as allowing everything. The decision then holds for the whole crawl (RFC
9309 asks for no more than a 24-hour cache; a resumed crawl reuses a decision younger than
that). Redirects are followed here, not by the engine, even to another host (2.3.1.2), and
the redirect fetches are paced as the host's own fetches.
"""

from __future__ import annotations

import enum

from spindle.crawl.core.errors import MisuseError
from spindle.crawl.core.robots_rules import ALLOW_ALL, DISALLOW_ALL, MAX_ROBOTS_BYTES, RobotsRules
from spindle.crawl.core.urls import InvalidURL, resolve
from spindle.crawl.core.values import Failure, Outcome, RecordError, RobotsDecision, SkipReason

__all__ = ["MAX_ROBOTS_BYTES", "ROBOTS_MAX_REDIRECTS", "HostRobots", "RobotsStatus"]

ROBOTS_MAX_REDIRECTS = 5


class RobotsStatus(enum.Enum):
    """Where a host's robots.txt decision stands."""

    UNKNOWN = "unknown"
    PENDING = "pending"
    REDIRECTED = "redirected"
    RETRY = "retry"
    READY = "ready"
    UNREACHABLE = "unreachable"


_MAY_FETCH = frozenset({RobotsStatus.UNKNOWN, RobotsStatus.REDIRECTED, RobotsStatus.RETRY})


class HostRobots:
    """The robots.txt state of one host.

    >>> from spindle.crawl.core.values import Response
    >>> robots = HostRobots("http://a.test", "spindle")
    >>> robots.status, robots.start()
    (<RobotsStatus.UNKNOWN: 'unknown'>, 'http://a.test/robots.txt')
    >>> body = b"User-agent: *\\nDisallow: /private/\\nCrawl-delay: 2\\n"
    >>> robots.observe(Response(200, (), body, 0.0, 0.0), now=0.0, retry_delay=1.0, give_up=False)
    >>> robots.allows("http://a.test/private/x"), robots.allows("http://a.test/public")
    (False, True)
    >>> robots.rules.crawl_delay
    2.0
    """

    __slots__ = (
        "_body",
        "_token",
        "chain",
        "failures",
        "host",
        "reason",
        "retry_at",
        "rules",
        "status",
        "url",
    )

    def __init__(self, host: str, token: str) -> None:
        self.host = host
        self._token = token
        self._body: bytes | None = None
        self.status = RobotsStatus.UNKNOWN
        self.url = f"{host}/robots.txt"
        self.chain: tuple[str, ...] = ()
        self.rules: RobotsRules = DISALLOW_ALL
        self.retry_at = 0.0
        self.failures = 0
        self.reason: RecordError | None = None

    def __repr__(self) -> str:
        return f"<HostRobots {self.url} {self.status.value} failures={self.failures}>"

    @property
    def needs_fetch(self) -> bool:
        """True when the next fetch of this host must be its robots.txt (or a redirect of it)."""
        return self.status in _MAY_FETCH

    @property
    def decided(self) -> bool:
        """True when URLs of this host may be judged (READY or UNREACHABLE)."""
        return self.status in (RobotsStatus.READY, RobotsStatus.UNREACHABLE)

    def allow_all(self) -> None:
        """Skip robots.txt for this host (the user asked to ignore robots)."""
        self.rules = ALLOW_ALL
        self.status = RobotsStatus.READY

    def start(self) -> str:
        """Record that the robots.txt fetch is handed out; return the URL to fetch.

        Raises:
            MisuseError: no robots.txt fetch is due.
        """
        if not self.needs_fetch:
            raise MisuseError(f"no robots.txt fetch is due for {self.url} ({self.status.value})")
        self.status = RobotsStatus.PENDING
        return self.url

    def observe(self, outcome: Outcome, *, now: float, retry_delay: float, give_up: bool) -> None:
        """Apply the outcome of the robots.txt fetch (the transition table above).

        ``retry_delay`` is how long to wait before asking again after a failure; ``give_up``
        says this failure used the last try.

        Raises:
            MisuseError: no robots.txt fetch is pending.
        """
        if self.status is not RobotsStatus.PENDING:
            raise MisuseError(f"no robots.txt fetch is pending for {self.url}")
        if isinstance(outcome, Failure):
            self._failed(outcome, now=now, retry_delay=retry_delay, give_up=give_up)
            return
        status = outcome.status
        if 200 <= status < 300:
            self._body = outcome.body[:MAX_ROBOTS_BYTES]
            self._decide(RobotsRules.parse(self._body, self._token))
        elif 300 <= status < 400:
            self._redirect(outcome.location)
        elif 400 <= status < 500 and status != 429:
            self._decide(ALLOW_ALL)
        else:
            reason = (SkipReason.ROBOTS_UNREACHABLE, f"{self.url} answered HTTP {status}")
            self._retry_or_give_up(reason, now=now, retry_delay=retry_delay, give_up=give_up)

    def allows(self, url: str) -> bool:
        """Whether ``url`` (request form) may be fetched. Only meaningful once :attr:`decided`."""
        return self.rules.allows(url)

    def decision(self, fetched_at: float) -> RobotsDecision:
        """The decision reached, to keep in the state.

        Raises:
            MisuseError: no decision was reached yet.
        """
        if not self.decided:
            raise MisuseError(f"no robots.txt decision for {self.host} yet ({self.status.value})")
        reachable = self.status is RobotsStatus.READY
        return RobotsDecision(self.host, reachable, self._body, self.reason, fetched_at)

    def restore(self, decision: RobotsDecision) -> None:
        """Take up a decision an earlier run of the crawl reached."""
        self._body = decision.body
        self.reason = decision.reason
        if not decision.reachable:
            self.rules = DISALLOW_ALL
            self.status = RobotsStatus.UNREACHABLE
        elif decision.body is None:
            self._decide(ALLOW_ALL)
        else:
            self._decide(RobotsRules.parse(decision.body, self._token))

    def _failed(self, failure: Failure, *, now: float, retry_delay: float, give_up: bool) -> None:
        reason = (failure.kind, f"{self.url}: {failure.message}")
        give_up = give_up or not failure.retryable
        self._retry_or_give_up(reason, now=now, retry_delay=retry_delay, give_up=give_up)

    def _retry_or_give_up(
        self, reason: RecordError, *, now: float, retry_delay: float, give_up: bool
    ) -> None:
        self.failures += 1
        self.reason = reason
        if give_up:
            self.rules = DISALLOW_ALL
            self.status = RobotsStatus.UNREACHABLE
        else:
            self.status = RobotsStatus.RETRY
            self.retry_at = now + retry_delay

    def _redirect(self, location: str | None) -> None:
        if location is None or len(self.chain) >= ROBOTS_MAX_REDIRECTS:
            self._decide(ALLOW_ALL)
            return
        try:
            target = resolve(self.url, location)
        except InvalidURL:
            self._decide(ALLOW_ALL)
            return
        self.chain = (*self.chain, self.url)
        self.url = target
        self.status = RobotsStatus.REDIRECTED

    def _decide(self, rules: RobotsRules) -> None:
        self.rules = rules
        self.status = RobotsStatus.READY
