"""Mailboxes joined to their users (ExternalDirectoryObjectId ↔ Graph user id): groups split exactly
per licence level, privileged and VIP mailboxes counted per group (assessor.collect.join)."""

from __future__ import annotations

from typing import Any

from assessor.collect.exchange.aggregate import MailboxAggregator
from assessor.collect.interface import Collected
from assessor.collect.join import UserDirectory, join_mailboxes
from assessor.evidence import MailboxAudit

DEFAULTS = {"AuditEnabled": True, "DefaultAuditSet": ["Owner", "Delegate", "Admin"]}


def _row(n: int, oid: str | None, **settings: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "UserPrincipalName": f"user{n}@contoso.example",
        "RecipientTypeDetails": "UserMailbox",
        "AuditOwner": [],
        "AuditDelegate": [],
        "AuditAdmin": [],
        **DEFAULTS,
        **settings,
    }
    if oid is not None:
        row["ExternalDirectoryObjectId"] = oid
    return row


def _oid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def _aggregate(vip: list[str] | None = None) -> MailboxAggregator:
    agg = MailboxAggregator(vip=vip)
    for n in range(6):  # users 0-5: same settings; 0-1 premium, 2-3 expanded, 4 basic, 5 unknown to Graph
        agg.add(_row(n, _oid(n)))
    agg.add(_row(6, None))  # a mailbox without a directory id
    agg.add(_row(7, _oid(7), AuditEnabled=False))
    return agg


def _directory() -> UserDirectory:
    directory = UserDirectory()
    for n, level in [(0, "premium"), (1, "premium"), (2, "expanded"), (3, "expanded"), (4, "basic"), (7, "basic")]:
        directory.add(_oid(n).upper(), level)  # type: ignore[arg-type]
    directory.freeze()
    return directory


def _groups(data: MailboxAudit) -> list[tuple[Any, ...]]:
    MailboxAudit.model_validate(data.model_dump())  # whatever the join gives is valid evidence
    return sorted((c.audit_enabled, c.licence or "-", c.count, c.privileged, c.vip) for c in data.configurations)


def test_groups_split_per_licence_level_with_privileged_counts() -> None:
    data = _aggregate().joined(_directory(), frozenset())
    assert _groups(data) == [
        (False, "basic", 1, 0, None),
        (True, "-", 2, None, None),  # user 5 (not enumerated) and a mailbox without a directory id
        (True, "basic", 1, 0, None),
        (True, "expanded", 2, 0, None),
        (True, "premium", 2, 0, None),
    ]
    roles = ["62e90394-69f5-4237-9190-012177145e10"]
    joined = join_mailboxes(_aggregate().result(), _aggregate(), _directory(), [_oid(1), _oid(7).upper(), "x"], roles)
    assert _groups(joined) == [
        (False, "basic", 1, 1, None),
        (True, "-", 2, None, None),  # a mailbox without a directory id: whose it is cannot be told
        (True, "basic", 1, 0, None),
        (True, "expanded", 2, 0, None),
        (True, "premium", 2, 1, None),
    ]
    assert joined.privileged_roles == roles
    assert joined.total_user_mailboxes == 8


def test_without_a_directory_groups_stay_whole_and_count_privileged_mailboxes() -> None:
    """Summary mode: no per-user licences, so no level; the privileged count still comes from the ids."""
    agg = MailboxAggregator()
    for n in range(3):
        agg.add(_row(n, _oid(n)))
    joined = join_mailboxes(agg.result(), agg, None, [_oid(2)], None)
    assert _groups(joined) == [(True, "-", 3, 1, None)]
    assert joined.privileged_roles == "all"
    assert join_mailboxes(agg.result(), agg, None, None, None).privileged_roles is None


def test_vip_mailboxes_are_counted_by_upn_or_object_id() -> None:
    agg = _aggregate(vip=["USER3@contoso.example", _oid(7)])
    groups = _groups(agg.joined(_directory(), None))
    assert (False, "basic", 1, None, 1) in groups and (True, "expanded", 2, None, 1) in groups
    assert sum(g[4] for g in groups) == 2


def test_an_unfinished_user_enumeration_is_not_used() -> None:
    directory = UserDirectory()
    directory.add(_oid(0), "premium")  # never frozen: the enumeration broke off
    assert all(c.licence is None for c in _aggregate().joined(directory, None).configurations)


def test_samples_follow_their_part_and_plain_results_keep_their_shape() -> None:
    data = _aggregate().joined(_directory(), None)
    premium = next(c for c in data.configurations if c.licence == "premium")
    assert premium.sample == ["user0@contoso.example", "user1@contoso.example"]
    plain = _aggregate().result()
    assert plain.privileged_roles is None
    assert all(c.licence is None and c.privileged is None and c.vip is None for c in plain.configurations)


def test_imported_mailboxes_are_joined_like_collected_ones(tmp_path) -> None:
    """A `Get-Mailbox` export with ExternalDirectoryObjectId (examples/export-exchange-audit.ps1) keeps
    its aggregator for the same join."""
    import json

    from assessor.collect.exchange import read_imports

    path = tmp_path / "Mailbox.json"
    path.write_text(json.dumps([_row(n, _oid(n)) for n in range(5)]), encoding="utf-8")

    class Options:
        imports = (path,)
        users_mode = "detail"

    imported = read_imports(Options())
    assert imported.mailboxes is not None
    outcome = imported.sections["mailboxes"]
    assert isinstance(outcome, Collected) and isinstance(outcome.data, MailboxAudit)
    joined = join_mailboxes(outcome.data, imported.mailboxes, _directory(), [], None)
    assert _groups(joined) == [
        (True, "basic", 1, 0, None),
        (True, "expanded", 2, 0, None),
        (True, "premium", 2, 0, None),
    ]
