"""Streaming aggregation: counts, distinct users, first/last seen across timestamp formats, AppIds."""

from __future__ import annotations

from datetime import datetime, timezone

from assessor.collect.probe.aggregate import OperationTally, ProbeTally


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def test_first_and_last_seen_across_formats() -> None:
    tally = OperationTally(track_app_ids=False)
    for raw in [
        "2024-01-02T00:00:00Z",
        "2024-01-01T00:00:00.500Z",
        "2024-01-03T00:00:00+01:00",
        "2024-01-01T00:00:01Z",
        "2024-01-02T23:30:00Z",
        None,
        "not a time",
    ]:
        tally.add({"createdDateTime": raw})
    assert tally.bounds() == (_at("2024-01-01T00:00:00.500"), _at("2024-01-02T23:30:00"))
    assert tally.records == 7


def test_users_are_case_insensitive_and_fall_back_to_user_id() -> None:
    tally = OperationTally(track_app_ids=False)
    tally.add({"userPrincipalName": "Ann@Contoso.com"})
    tally.add({"userPrincipalName": "ann@contoso.com"})
    tally.add({"userId": "bob@contoso.com"})
    tally.add({})
    assert len(tally.users) == 2 and tally.records == 4


def test_app_ids_counted_for_mailitemsaccessed_only() -> None:
    tally = ProbeTally(["MailItemsAccessed", "Send"])
    for app in ["A", "a", "B", None]:
        data = {"AppId": app} if app else {"ClientAppId": "C"}
        tally.add({"operation": "MailItemsAccessed", "auditData": data})
    tally.add({"operation": "Send", "auditData": {"AppId": "A"}})
    tally.add({"operation": "mailitemsaccessed", "auditData": "not an object"})
    obs = tally.observations(top=2)
    mia = obs["MailItemsAccessed"]
    assert mia.records == 5 and mia.distinct_app_ids == 3
    assert [(a.app_id, a.count) for a in mia.top_app_ids] == [("a", 2), ("b", 1)]
    assert obs["Send"].distinct_app_ids is None and obs["Send"].top_app_ids == []
    assert tally.total == 6


def test_operations_never_seen_are_reported_as_zero() -> None:
    obs = ProbeTally(["SearchQueryInitiatedExchange"]).observations(top=10)
    zero = obs["SearchQueryInitiatedExchange"]
    assert (zero.records, zero.distinct_users, zero.first_seen, zero.last_seen) == (0, 0, None, None)


def test_mailbox_events_count_the_mailbox_owner() -> None:
    tally = OperationTally(track_app_ids=True)
    tally.add({"userPrincipalName": "delegate@contoso.com", "auditData": {"MailboxOwnerUPN": "Boss@contoso.com"}})
    tally.add({"userId": "app@contoso.com", "auditData": {"MailboxOwnerUPN": "boss@contoso.com"}})
    assert tally.users == {"boss@contoso.com"}


def test_records_are_counted_by_their_workload_in_both_spellings() -> None:
    """Graph's ``service`` or the classic schema's ``auditData.Workload`` (a JSON string in exports)."""
    from assessor.collect.probe.aggregate import ProbeTally

    tally = ProbeTally(["SearchQueryInitiatedSharePoint"])
    records = [
        {"operation": "SearchQueryInitiatedSharePoint", "service": "SharePoint", "userPrincipalName": "a@x.example"},
        {
            "Operation": "SearchQueryInitiatedSharePoint",
            "AuditData": '{"Workload": "OneDrive", "UserId": "b@x.example"}',
        },
        {"operation": "SearchQueryInitiatedSharePoint", "userPrincipalName": "c@x.example"},
    ]
    tally.add_page(records)
    observed = tally.observations(top=5)["SearchQueryInitiatedSharePoint"]
    assert observed.workloads == {"OneDrive": 1, "SharePoint": 1, "unknown": 1}
