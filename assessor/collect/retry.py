"""One retry policy for every HTTP client of the collection (Graph, Exchange admin API, ARM).

A throttled or briefly unavailable service is asked again, honouring ``Retry-After`` (seconds or
an HTTP date; 0 included), else after an exponential back-off; each wait is capped, and the total
waited is bounded per client by a :class:`RetryBudget`, so a throttled tenant cannot stall a run.
When a retry is refused the client raises its typed error, and the source turns it into a
``not_collected`` section.

The clients differ only in what they retry: Graph goes through the SDK's retry middleware, which
retries :data:`GRAPH_RETRY_STATUSES`; the admin API and ARM clients retry
:data:`RETRY_STATUSES` and transport failures with the same budget.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

# 429 and the 5xx answers the admin API and ARM send while a backend is busy or being switched
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# what the msgraph-sdk's retry middleware retries (kiota's DEFAULT_RETRY_STATUS_CODES)
GRAPH_RETRY_STATUSES = frozenset({429, 503, 504})
_TWO_VALUES = re.compile(r"^\s*(\d+)\s*,\s*\d+\s*$")  # a header sent twice and joined by a proxy


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long one client may retry (one policy per tenant, shared by its clients)."""

    max_retries: int = 4
    max_wait_per_retry: float = 30.0
    max_total_wait: float = 120.0
    backoff_base: float = 0.5

    def backoff(self, attempt: int) -> float:
        """The wait before retry ``attempt`` (0-based) when the service named none."""
        return float(min(self.backoff_base * 2**attempt, self.max_wait_per_retry))


@dataclass
class RetryBudget:
    """Seconds of retry waiting left for one client (shared by all its requests), and what it spent."""

    policy: RetryPolicy = field(default_factory=RetryPolicy)
    remaining: float = field(init=False)
    retries: int = 0
    waited: float = 0.0
    exhausted: bool = False

    def __post_init__(self) -> None:
        self.remaining = self.policy.max_total_wait

    def take(self, seconds: float) -> bool:
        """Spend ``seconds`` on one retry, if the budget has them."""
        if seconds > self.remaining:
            self.exhausted = True
            return False
        self.remaining -= seconds
        self.waited += seconds
        self.retries += 1
        return True

    def after_answer(self, attempt: int, retry_after: float | None) -> float | None:
        """The wait before retrying an answer that asked for a retry, or None when none is left:
        the retries are spent, the service asked for more than one wait may last, or the budget is."""
        wait = retry_after if retry_after is not None else self.policy.backoff(attempt)
        if attempt >= self.policy.max_retries or wait > self.policy.max_wait_per_retry or not self.take(wait):
            return None
        return wait

    def after_transport_error(self, attempt: int) -> float | None:
        """The wait before retrying a request that got no answer (timeout, refused), or None."""
        wait = self.policy.backoff(attempt)
        if attempt >= self.policy.max_retries or not self.take(wait):
            return None
        return wait

    async def pause_after_transport_error(self, attempt: int, error: BaseException) -> None:
        """Sleep before retrying a request that got no answer, or raise ``error`` when no retry is left."""
        wait = self.after_transport_error(attempt)
        if wait is None:
            raise error
        await asyncio.sleep(wait)


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (a number, or an HTTP date), never negative;
    None when it is absent or unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    joined = _TWO_VALUES.match(text)
    if joined:
        text = joined.group(1)
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


@dataclass
class BudgetStats:
    """A client's request statistics, reporting the retries and the waiting of its :class:`RetryBudget`
    (read from the budget, never copied)."""

    budget: RetryBudget = field(default_factory=RetryBudget)  # the client's, whose spending it reports
    requests: int = 0
    pages: int = 0

    @property
    def retries(self) -> int:
        return self.budget.retries

    @property
    def waited(self) -> float:
        return self.budget.waited
