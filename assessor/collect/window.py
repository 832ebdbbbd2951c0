"""A window of a few event-loop turns that gathers what callers submit side by side.

Collectors that start together (or resume on the same answer) reach a client within a turn or
two, each through its own chain of coroutines. Both `$batch` clients — Graph's
(:class:`assessor.collect.graph.batch.BatchWindow`) and the Exchange admin API's
(:class:`assessor.collect.exchange.client.ExchangeClient`) — hold their requests in a
:class:`TurnWindow`: it stays open for ``turns`` turns after the first submission, then hands every
submission still wanted to ``flush``, run as a task the window keeps a reference to. A submission
that misses the window opens the next one: batching changes how many requests are made, never an
answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class TurnWindow(Generic[T]):
    """Submissions gathered for ``turns`` event-loop turns, then flushed together."""

    def __init__(
        self, turns: int, flush: Callable[[list[T]], Coroutine[Any, Any, None]], wanted: Callable[[T], bool]
    ) -> None:
        self._turns = turns
        self._flush = flush
        self._wanted = wanted  # False for a submission whose caller gave up: it is left out
        self._waiting: list[T] = []
        self._flights: set[asyncio.Task[None]] = set()

    def submit(self, entry: T) -> None:
        self._waiting.append(entry)
        if len(self._waiting) == 1:
            asyncio.get_running_loop().call_soon(self._turn, self._turns)

    def _turn(self, left: int) -> None:
        if left > 0:
            asyncio.get_running_loop().call_soon(self._turn, left - 1)
            return
        entries = [e for e in self._waiting if self._wanted(e)]
        self._waiting = []
        if entries:
            flight = asyncio.get_running_loop().create_task(self._flush(entries))
            self._flights.add(flight)
            flight.add_done_callback(self._flights.discard)
