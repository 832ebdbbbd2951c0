"""Graph page streams: a page must carry its ``value``, and a ``@odata.nextLink`` that repeats a page
already read (a paging loop) ends the stream as a failure instead of looping (the collection's one
:class:`~assessor.collect.paging.PageGuard`, raising :class:`GraphFailure`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Protocol, TypeVar

from kiota_abstractions.method import Method
from kiota_abstractions.request_information import RequestInformation

from assessor.collect.graph.client import GraphConnection, send_bytes
from assessor.collect.graph.outcome import GraphFailure
from assessor.collect.paging import PageGuard
from assessor.jsontypes import WireObject

V_co = TypeVar("V_co", covariant=True)


class SdkPage(Protocol[V_co]):
    """An SDK collection response (``DirectoryRoleCollectionResponse``, …): its ``value`` list."""

    @property
    def value(self) -> Sequence[V_co] | None: ...


class LinkGuard(PageGuard):
    """The paging guard of one Graph page stream: a repeated link, or a page starting with an item
    another page started with (a link back to page 1, whose own URL the SDK builds), raises a
    protocol :class:`GraphFailure` for ``endpoint``."""

    def __init__(self, endpoint: str) -> None:
        super().__init__(lambda why: GraphFailure(endpoint, 200, None, why, "protocol"))
        self.endpoint = endpoint


def page_values(page: SdkPage[V_co] | None, endpoint: str) -> list[V_co]:
    """The ``value`` list of an SDK collection page; a page without one is a protocol failure.

    An empty list is a genuine empty page; a missing ``value`` must not read as "nothing there".
    """
    values = page.value if page is not None else None
    if values is None:
        raise GraphFailure(endpoint, 200, None, "a page without a value array", "protocol")
    return list(values)


def json_values(page: WireObject, endpoint: str) -> list[object]:
    """The ``value`` array of a decoded JSON page (one :meth:`BatchResult.page` or
    :func:`get_json_page` returned, which have checked it); anything else is a protocol failure."""
    values = page.get("value")
    if not isinstance(values, list):
        raise GraphFailure(endpoint, 200, None, "a page without a value array", "protocol")
    return values


async def get_json_page(conn: GraphConnection, info: RequestInformation, endpoint: str) -> WireObject:
    """One collection page through the SDK's adapter and middleware (auth, retry, errors), decoded
    with the json module instead of the SDK's model deserialisation, which costs milliseconds per
    object (every model builds its whole field map). A page without ``value`` is a protocol failure."""
    raw = await send_bytes(conn.adapter, info)
    try:
        doc = json.loads(raw or b"{}")
    except ValueError:
        raise GraphFailure(endpoint, 200, None, "the answer is not valid JSON", "protocol") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("value"), list):
        raise GraphFailure(endpoint, 200, None, "a page without a value array", "protocol")
    return doc


async def rest_of_pages(conn: GraphConnection, first: WireObject, endpoint: str) -> list[object]:
    """The values of a first page (read in `$batch`) and of every page its next links lead to, each
    next page requested on its own through the SDK's adapter, under one :class:`LinkGuard`."""
    guard = LinkGuard(endpoint)
    values = list(guard.page(json_values(first, endpoint)))
    link = first.get("@odata.nextLink")
    while link:
        info = RequestInformation(Method.GET, "{+baseurl}", {})
        info.url = guard.follow(str(link))
        info.headers.try_add("Accept", "application/json")
        page = await get_json_page(conn, info, endpoint)
        values.extend(guard.page(json_values(page, endpoint)))
        link = page.get("@odata.nextLink")
    return values
