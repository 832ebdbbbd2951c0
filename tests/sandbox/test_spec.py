"""Tenant specs: deterministic lazy generation, rescaling, reserved keys, validation."""

from __future__ import annotations

import pytest

from assessor.knowledge import load_knowledge
from assessor.sandbox.spec import SpecError, list_tenants, load_spec, load_tenant, parse_spec
from tests.helpers.support import fresh_python

ADVANCED_AUDITING = "2f442157-a11c-46b9-ae5b-6e39ff4e5849"


def test_bundled_tenants_are_listed() -> None:
    assert {"contoso", "fabrikam", "gov"} <= set(list_tenants())


# A digest of what a generated tenant serves: users (every property, in order), SKUs, roles.
_TENANT_DIGEST = """
import hashlib, json, sys
from assessor.sandbox.spec import load_tenant
t = load_tenant(sys.argv[1])
doc = {
    "users": list(t.iter_users()),
    "skus": t.subscribed_skus(),
    "organization": t.organization(),
    "roles": [(a.id, a.role_template_id, a.principal_id) for a in t.role_assignments],
    "directory_roles": t.directory_roles,
}
print(hashlib.sha256(json.dumps(doc).encode()).hexdigest())
"""


@pytest.mark.parametrize("name", ["contoso", "woodgrove"])
def test_generation_is_the_same_in_another_interpreter(name: str) -> None:
    """Generation depends on the spec alone: two fresh interpreters with different hash seeds (set
    and dict orders that depend on hashing differ between them) serve the same tenant, byte for byte."""
    digests = {fresh_python(_TENANT_DIGEST, name, hash_seed=seed).strip() for seed in ("0", "4242")}
    assert len(digests) == 1 and len(digests.pop()) == 64


def test_contoso_is_small_mixed() -> None:
    a = load_tenant("contoso")
    assert a.user_count == 232
    assert len({u["id"] for u in a.iter_users()}) == 232
    skus = {s["skuPartNumber"]: s for s in a.subscribed_skus()}
    assert skus["SPE_E5"]["prepaidUnits"]["enabled"] - skus["SPE_E5"]["consumedUnits"] == 17
    assert skus["ENTERPRISEPACK"]["capabilityStatus"] == "Suspended"
    kb = load_knowledge()
    assert skus["SPE_E5"]["skuId"] == kb.sku_by_part_number("SPE_E5").sku_id


def test_users_are_graph_shaped_and_resolvable() -> None:
    tenant = load_tenant("contoso")
    user = tenant.user(40)
    assert set(user) >= {
        "id",
        "userPrincipalName",
        "displayName",
        "accountEnabled",
        "userType",
        "assignedLicenses",
        "assignedPlans",
    }
    assert tenant.user_by_id(user["id"])["id"] == user["id"]
    assert tenant.user_by_id(user["userPrincipalName"].upper())["id"] == user["id"]
    assert tenant.user_by_id("00000000-0000-4000-8000-000000000000") is None


def test_disabled_plans_and_suspended_skus_give_plan_states() -> None:
    tenant = load_tenant("contoso")
    seg = {s.spec.name: s for s in tenant.segments}
    no_audit = tenant.user(seg["e5-no-audit"].start)
    assert no_audit["assignedLicenses"][0]["disabledPlans"] == [ADVANCED_AUDITING]
    state = {p["servicePlanId"]: p["capabilityStatus"] for p in no_audit["assignedPlans"]}
    assert state[ADVANCED_AUDITING] == "Deleted"
    suspended = tenant.user(seg["o365-suspended"].start)
    assert {p["capabilityStatus"] for p in suspended["assignedPlans"]} == {"Suspended"}


def test_a_million_users_cost_nothing_until_asked_for() -> None:
    tenant = load_tenant("fabrikam", users=1_000_000)
    assert tenant.user_count == 1_000_000
    last = tenant.user(999_999)
    assert tenant.index_of(last["id"]) == 999_999
    with pytest.raises(IndexError):
        tenant.user(1_000_000)


def test_rescaling_keeps_role_holders() -> None:
    small = load_tenant("fabrikam", users=300)
    assert small.user_count == 300
    assert len(small.role_assignments) == len(load_tenant("fabrikam").role_assignments)


def test_reserved_keys_pass_through() -> None:
    spec = load_spec("contoso")
    assert "exchange" in spec.extensions and "audit_log" in spec.extensions
    raw = {
        "id": "11111111-2222-4333-8444-555555555555",
        "name": "t",
        "display_name": "T",
        "domains": ["t.com"],
        "default_domain": "t.com",
        "exchange": {"anything": [1, 2]},
        "audit_log": {"x": 1},
    }
    assert parse_spec(raw).extensions == {"exchange": {"anything": [1, 2]}, "audit_log": {"x": 1}}


@pytest.mark.parametrize(
    "change, message",
    [
        ({"skus": [{"part": "NOT_A_SKU", "units": 1}]}, "unknown SKU"),
        ({"users": [{"name": "a", "count": 1, "licenses": [{"sku": "SPE_E5"}]}]}, "does not hold"),
        ({"roles": [{"role": "Global Administrator", "users": ["nobody[0]"]}]}, "names no user segment"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_bad_specs_are_rejected_with_a_clear_message(change: dict, message: str) -> None:
    raw = {
        "id": "11111111-2222-4333-8444-555555555555",
        "name": "t",
        "display_name": "T",
        "domains": ["t.com"],
        "default_domain": "t.com",
        **change,
    }
    from assessor.sandbox.spec import SandboxTenant

    with pytest.raises(SpecError, match=message):
        SandboxTenant(parse_spec(raw))


def test_unknown_tenant_name() -> None:
    with pytest.raises(SpecError, match="unknown sandbox tenant"):
        load_tenant("nope")
