"""robots.txt decisions for one host, following RFC 9309.

Transition table (``status`` of the host's robots state):

==============  ==========================================  ===============================
from            fact                                        to
==============  ==========================================  ===============================
UNKNOWN         the scheduler sends the robots.txt fetch    PENDING
PENDING         2xx                                         READY, rules parsed (2.3.1.1)
PENDING         4xx other than 429                          READY, allow all (2.3.1.3)
PENDING         more than 5 redirects                       READY, allow all (2.3.1.2)
PENDING         5xx, 429, network failure                   RETRY, disallow all until the
                                                            retry time (2.3.1.4)
PENDING         the same, after ``retries`` more tries      UNREACHABLE, disallow all
RETRY           the retry time comes                        PENDING (fetched again)
==============  ==========================================  ===============================

Until a host is READY none of its URLs leave the frontier: an undecided host is never treated
as allowing everything. Only the first 500 KiB of a robots.txt are parsed (2.5).
"""

from __future__ import annotations

import enum

from protego import Protego

from spindle.crawl.core.events import Failure, Outcome, Response

__all__ = ["MAX_ROBOTS_BYTES", "HostRobots", "RobotsStatus"]

MAX_ROBOTS_BYTES = 500 * 1024


class RobotsStatus(enum.Enum):
    """Where a host's robots.txt decision stands."""

    UNKNOWN = "unknown"
    PENDING = "pending"
    RETRY = "retry"
    READY = "ready"
    UNREACHABLE = "unreachable"


class HostRobots:
    """The robots.txt state of one host.

    >>> robots = HostRobots("spindle")
    >>> robots.status
    <RobotsStatus.UNKNOWN: 'unknown'>
    >>> robots.start()
    >>> body = b"User-agent: *\\nDisallow: /private/\\nCrawl-delay: 2\\n"
    >>> robots.observe(Response(200, "http://a.test/robots.txt", "text/plain", body, 0.0, 0.0),
    ...                now=0.0, retry_delay=1.0, give_up=False)
    >>> robots.allows("http://a.test/private/x"), robots.allows("http://a.test/public")
    (False, True)
    >>> robots.crawl_delay
    2.0
    """

    __slots__ = ("_rules", "_token", "crawl_delay", "failures", "retry_at", "status")

    def __init__(self, token: str) -> None:
        self._token = token
        self._rules: Protego | None = None
        self.status = RobotsStatus.UNKNOWN
        self.retry_at = 0.0
        self.failures = 0
        self.crawl_delay: float | None = None

    def allow_all(self) -> None:
        """Skip robots.txt for this host (the user asked to ignore robots)."""
        self.status = RobotsStatus.READY

    def start(self) -> None:
        """Record that the robots.txt fetch has been handed out."""
        self.status = RobotsStatus.PENDING

    def observe(self, outcome: Outcome, *, now: float, retry_delay: float, give_up: bool) -> None:
        """Apply the outcome of a robots.txt fetch (the transition table above).

        ``retry_delay`` is how long to wait before asking again after a failure; ``give_up`` says
        this failure exhausts the retries.
        """
        if isinstance(outcome, Response):
            status = outcome.status
            if 200 <= status < 300:
                text = outcome.body[:MAX_ROBOTS_BYTES].decode("utf-8", errors="replace")
                self._rules = Protego.parse(text)
                delay = self._rules.crawl_delay(self._token)
                self.crawl_delay = float(delay) if delay else None
                self.status = RobotsStatus.READY
                return
            if (400 <= status < 500 and status != 429) or 300 <= status < 400:
                self.status = RobotsStatus.READY
                return
        elif isinstance(outcome, Failure) and outcome.kind == "too_many_redirects":
            self.status = RobotsStatus.READY
            return
        self.failures += 1
        if give_up:
            self.status = RobotsStatus.UNREACHABLE
        else:
            self.status = RobotsStatus.RETRY
            self.retry_at = now + retry_delay

    @property
    def decided(self) -> bool:
        """True when URLs of this host may be judged (READY or UNREACHABLE)."""
        return self.status in (RobotsStatus.READY, RobotsStatus.UNREACHABLE)

    def allows(self, url: str) -> bool:
        """Whether ``url`` may be fetched. Only meaningful once :attr:`decided`.

        Longest match wins and Allow wins a tie (RFC 9309, 2.2.2); both are protego's rules.
        """
        if self.status is RobotsStatus.UNREACHABLE:
            return False
        if self._rules is None:
            return True
        return bool(self._rules.can_fetch(url, self._token))
