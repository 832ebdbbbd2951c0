"""The readiness element 'MailItemsAccessed for privileged and VIP mailboxes' decided from the mailbox
groups' privileged/VIP counts (mailboxes joined to their users at collection), without the probe."""

from __future__ import annotations

import copy
from typing import Any

from assessor.profiles import load_profile
from tests.helpers.support import assess_doc, example, not_collected

BASELINE_ROLES = sorted(r.template_id.lower() for r in load_profile("baseline").privileged_roles)
NO_MIA_OWNER = ["ApplyRecord", "HardDelete", "MoveToDeletedItems", "Send", "SoftDelete", "Update"]


def _doc(privileged: tuple[int, int], vip: tuple[int, int] | None, roles: Any = BASELINE_ROLES) -> dict[str, Any]:
    """northwind without the probe, its 64 mailboxes split: 60 auditing MailItemsAccessed, 4 customised
    without it (Owner actions), with the given privileged and VIP counts per group."""
    doc = example("northwind-storm-like")
    doc["audit_probe"] = not_collected("probe not run in this test")
    mbx = doc["exchange"]["mailboxes"]["data"]
    good = mbx["configurations"][0]
    bad = copy.deepcopy(good)
    bad.update(
        count=4, default_audit_set=["Delegate", "Admin"], audit_owner=NO_MIA_OWNER, sample=["legacy@northwind.example"]
    )
    good["count"] = 60
    good["privileged"], bad["privileged"] = privileged
    if vip is not None:
        good["vip"], bad["vip"] = vip
    else:  # no --vip: no VIP list and no VIP counts in the groups
        doc["vip"] = None
        good.pop("vip", None)
        bad.pop("vip", None)
    mbx["configurations"] = [good, bad]
    mbx["privileged_roles"] = roles
    return doc


def _element(doc: dict[str, Any], profile: str = "baseline") -> Any:
    report = assess_doc(doc, profile)
    return next(e for e in report.readiness.elements if e.id == "mailitemsaccessed_privileged")


def test_every_privileged_and_vip_mailbox_audits_passes_without_the_probe() -> None:
    element = _element(_doc((4, 0), (1, 0)))
    assert element.status == "pass" and "(4 privileged and 1 VIP)" in element.detail


def test_a_privileged_mailbox_that_does_not_audit_fails() -> None:
    element = _element(_doc((3, 1), (1, 0)))
    assert element.status == "fail" and "1 privileged" in element.detail


def test_a_vip_mailbox_that_does_not_audit_fails() -> None:
    element = _element(_doc((4, 0), (0, 1)))
    assert element.status == "fail" and "1 VIP" in element.detail


def test_counts_over_every_role_can_pass_but_not_fail() -> None:
    """Counted over every role's holders: a mailbox that does not audit may belong to a holder of a role
    outside the profile's list, so it cannot fail the element; a clean result still passes."""
    assert _element(_doc((4, 0), None, "all")).status == "pass"
    assert _element(_doc((3, 1), None, "all")).status == "unknown"


def test_counts_over_fewer_roles_than_the_profile_decide_nothing() -> None:
    """Counted for two roles only: holders of the profile's other roles are not counted, so no pass."""
    doc = _doc((4, 0), None, BASELINE_ROLES[:2])
    assert _element(doc).status == "unknown"


def test_without_counts_or_with_vip_uncounted_it_stays_unknown() -> None:
    doc = _doc((4, 0), (1, 0))
    for config in doc["exchange"]["mailboxes"]["data"]["configurations"]:
        del config["vip"]  # --vip given, but the groups carry no VIP counts (older evidence)
    assert _element(doc).status == "unknown"
    older = example("northwind-storm-like")
    older["audit_probe"] = not_collected("probe not run in this test")
    assert _element(older).status == "pass"  # every mailbox audits: decided as before, counts or not


def test_auditdisabled_unread_cannot_pass() -> None:
    doc = _doc((4, 0), (1, 0))
    doc["exchange"]["organization_config"] = not_collected("not read in this test")
    assert _element(doc).status != "pass"
