"""One paging guard for every page stream of the collection (Graph, the audit probe, the Exchange admin
API, ARM).

A service that hands back a next link it already gave, or a page that starts with the item another
page started with (a link back to page 1, whose URL the client built itself), would otherwise keep
a collector reading forever; so would a list without end. :class:`PageGuard` notices all three and
raises the error its client uses for a protocol failure (``fail``), so a looping stream becomes a
``not_collected`` section with the reason instead of a hang or a silently repeated count.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

LOOP = "repeats a page already read (a paging loop)"
CAME_BACK = "the page stream came back to a page already read (a paging loop)"

S = TypeVar("S", bound=Sequence[object])


class PageGuard:
    """The next links and first items of one page stream.

    ``fail(message)`` builds the client's own error; ``link_name`` is how the service names its next
    link in messages (``@odata.nextLink``, ``nextLink``); ``start`` is the first page's URL (a link back
    to it is a loop too); ``max_pages`` bounds the stream (None: no bound beyond loop detection)."""

    def __init__(
        self,
        fail: Callable[[str], Exception],
        *,
        link_name: str = "@odata.nextLink",
        start: str | None = None,
        max_pages: int | None = None,
    ) -> None:
        self._fail = fail
        self._link_name = link_name
        self._links: set[str] = {start} if start is not None else set()
        self._pages = 1 if start is not None else 0
        self._firsts: set[str] = set()
        self._max_pages = max_pages

    def follow(self, link: str) -> str:
        """``link`` when it is new (and the stream within its bound); else the client's error."""
        if link in self._links:
            raise self._fail(f"{self._link_name} {LOOP}")
        if self._max_pages is not None and self._pages >= self._max_pages:
            raise self._fail(f"more than {self._max_pages} pages; stopped")
        self._links.add(link)
        self._pages += 1
        return link

    def page(self, values: S, key: str = "id") -> S:
        """``values`` when their first item (by ``key``: a dict key or an attribute) opened no page before."""
        if values:
            first = _key_of(values[0], key)
            if first is not None:
                if str(first) in self._firsts:
                    raise self._fail(CAME_BACK)
                self._firsts.add(str(first))
        return values


def _key_of(item: object, key: str) -> object:
    return item.get(key) if isinstance(item, dict) else getattr(item, key, None)
