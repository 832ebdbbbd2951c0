"""The collection's one retry policy and one paging guard (shared by Graph, the probe, Exchange and ARM)."""

from __future__ import annotations

import pytest

from assessor.collect.paging import PageGuard
from assessor.collect.retry import RetryBudget, RetryPolicy, retry_after_seconds


class Loop(Exception):
    pass


def test_a_retry_waits_as_asked_within_the_caps() -> None:
    budget = RetryBudget(RetryPolicy(max_retries=3, max_wait_per_retry=5.0, max_total_wait=6.0, backoff_base=1.0))
    assert budget.after_answer(0, 0.0) == 0.0  # Retry-After: 0 is honoured, not replaced by a back-off
    assert budget.after_answer(1, None) == 2.0  # no header: 1 s * 2**1
    assert budget.after_answer(1, 9.0) is None  # asked for more than one wait may last
    assert budget.after_answer(2, 4.0) == 4.0
    assert budget.after_answer(2, 1.0) is None and budget.exhausted  # 6 s budget: 0 + 2 + 4 spent
    assert (budget.retries, budget.waited) == (3, 6.0)
    assert RetryBudget(RetryPolicy(max_retries=2)).after_answer(2, 0.0) is None  # retries spent


def test_transport_failures_back_off_exponentially_and_capped() -> None:
    budget = RetryBudget(RetryPolicy(max_retries=10, max_wait_per_retry=3.0, max_total_wait=100.0, backoff_base=1.0))
    assert [budget.after_transport_error(n) for n in range(4)] == [1.0, 2.0, 3.0, 3.0]
    assert budget.after_transport_error(10) is None


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("2", 2.0), ("1.5", 1.5), ("-3", 0.0), ("3, 3", 3.0), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0), ("soon", None)],
)
def test_retry_after_reads_seconds_and_dates(header: str, seconds: float | None) -> None:
    assert retry_after_seconds(header) == seconds


def test_the_guard_refuses_a_repeated_link_a_link_to_the_start_and_a_page_read_before() -> None:
    guard = PageGuard(Loop, start="https://h/list")
    assert guard.follow("https://h/list?page=2") == "https://h/list?page=2"
    with pytest.raises(Loop, match=r"@odata.nextLink repeats a page already read \(a paging loop\)"):
        guard.follow("https://h/list?page=2")
    with pytest.raises(Loop, match="paging loop"):
        guard.follow("https://h/list")
    guard.page([{"id": "a"}, {"id": "b"}])
    guard.page([])
    with pytest.raises(Loop, match="came back to a page already read"):
        guard.page([{"id": "a"}])


def test_the_guard_bounds_a_list_without_end() -> None:
    guard = PageGuard(Loop, link_name="nextLink", start="p1", max_pages=3)
    guard.follow("p2")
    guard.follow("p3")
    with pytest.raises(Loop, match="more than 3 pages; stopped"):
        guard.follow("p4")
