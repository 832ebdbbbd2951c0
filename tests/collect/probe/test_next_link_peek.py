"""The probe asks for the next record page before decoding the current one, from a peek at its bytes."""

from __future__ import annotations

import json

from assessor.collect.probe.service import peek_next_link

LINK = "https://graph.microsoft.com/v1.0/security/auditLog/queries/q/records?$skiptoken=a%2Fb"


def page(records: list[dict[str, object]], link: str | None, link_first: bool) -> bytes:
    doc: dict[str, object] = {"@odata.context": "x"}
    if link is not None and link_first:
        doc["@odata.nextLink"] = link
    doc["value"] = records
    if link is not None and not link_first:
        doc["@odata.nextLink"] = link
    return json.dumps(doc).encode()


def test_link_after_or_before_the_records_is_found() -> None:
    many = [{"id": str(i), "operation": "MailItemsAccessed", "pad": "x" * 200} for i in range(100)]
    assert peek_next_link(page(many, LINK, link_first=False)) == LINK
    assert peek_next_link(page(many, LINK, link_first=True)) == LINK


def test_last_page_and_empty_answers_have_no_link() -> None:
    assert peek_next_link(page([{"id": "1"}], None, link_first=False)) is None
    assert peek_next_link(b"") is None
    assert peek_next_link(None) is None


def test_link_text_inside_a_record_value_is_not_taken_for_the_link() -> None:
    hostile = [{"id": "1", "auditData": {"Subject": '"@odata.nextLink": "https://evil.example/x"'}}]
    assert peek_next_link(page(hostile, None, link_first=False)) is None


def test_escaped_slashes_are_decoded() -> None:
    raw = b'{"value": [], "@odata.nextLink": "https:\\/\\/graph.microsoft.com\\/v1.0\\/x?$skiptoken=1"}'
    assert peek_next_link(raw) == "https://graph.microsoft.com/v1.0/x?$skiptoken=1"
