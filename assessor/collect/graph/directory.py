"""Tenant (`/organization`) and licences (`/subscribedSkus`) collectors."""

from __future__ import annotations

from assessor.collect.graph.batch import BatchRequest, send_batch
from assessor.collect.graph.client import GraphConnection
from assessor.collect.graph.outcome import (
    GRAPH_ERRORS,
    Collected,
    GraphFailure,
    NotCollected,
    failure_from,
    not_collected_from,
)
from assessor.collect.graph.paging import rest_of_pages
from assessor.evidence import SubscribedSku, Tenant

ORG_ENDPOINT = "GET /organization"
SKU_ENDPOINT = "GET /subscribedSkus"
SKU_SELECT = [
    "skuId",
    "skuPartNumber",
    "capabilityStatus",
    "appliesTo",
    "consumedUnits",
    "prepaidUnits",
    "servicePlans",
]
SKU_STATUSES = ("Enabled", "Warning", "Suspended", "Deleted", "LockedOut")


async def collect_organization(conn: GraphConnection, cloud: str) -> Collected[Tenant] | NotCollected:
    try:
        answer = (await send_batch(conn, [BatchRequest("organization", "/organization")]))["organization"]
        orgs = [o for o in await rest_of_pages(conn, answer.page(ORG_ENDPOINT), ORG_ENDPOINT) if isinstance(o, dict)]
    except GRAPH_ERRORS as exc:
        return not_collected_from(
            failure_from(exc, ORG_ENDPOINT, conn.settings.request_timeout), "Organization.Read.All", ORG_ENDPOINT
        )
    if not orgs or not orgs[0].get("id"):
        failure = GraphFailure(ORG_ENDPOINT, 200, None, "no organization in the answer", "protocol")
        return NotCollected(failure.describe(), None, ORG_ENDPOINT, failure)
    org = orgs[0]
    verified = [d for d in (org.get("verifiedDomains") or []) if isinstance(d, dict) and d.get("name")]
    domains = [str(d["name"]) for d in verified]
    default = next((str(d["name"]) for d in verified if d.get("isDefault")), None)
    tenant = Tenant(
        id=str(org["id"]), name=org.get("displayName"), domains=domains, default_domain=default, cloud=cloud
    )
    return Collected(tenant, ORG_ENDPOINT)


def _sku(item: object) -> SubscribedSku:
    """A `SubscribedSku` from one Graph JSON object of `/subscribedSkus` (validated in one call: the
    service plans are many, and building each model on its own cost more than the request)."""
    if not isinstance(item, dict):
        raise ValueError(f"a subscribedSkus item that is not an object ({type(item).__name__})")
    status = item.get("capabilityStatus")
    if status not in SKU_STATUSES:
        raise ValueError(f"SKU {item.get('skuPartNumber') or item.get('skuId')}: unknown capabilityStatus {status!r}")
    units = item.get("prepaidUnits") or {}
    plans = item.get("servicePlans") or []
    if not isinstance(units, dict) or not isinstance(plans, list) or not all(isinstance(p, dict) for p in plans):
        raise ValueError(
            f"SKU {item.get('skuPartNumber') or item.get('skuId')}: prepaidUnits or servicePlans malformed"
        )
    return SubscribedSku.model_validate(
        {
            "sku_id": str(item.get("skuId") or "").lower(),
            "sku_part_number": item.get("skuPartNumber"),
            "capability_status": status,
            "applies_to": item.get("appliesTo"),
            "consumed_units": item.get("consumedUnits") or 0,
            "prepaid_units": {
                "enabled": units.get("enabled") or 0,
                "suspended": units.get("suspended") or 0,
                "warning": units.get("warning") or 0,
                "locked_out": units.get("lockedOut") or 0,
            },
            "service_plans": [
                {
                    "service_plan_id": str(p.get("servicePlanId") or "").lower(),
                    "service_plan_name": p.get("servicePlanName"),
                    "provisioning_status": p.get("provisioningStatus"),
                    "applies_to": p.get("appliesTo"),
                }
                for p in plans
            ],
        }
    )


async def collect_skus(conn: GraphConnection) -> Collected[list[SubscribedSku]] | NotCollected:
    url = f"/subscribedSkus?$select={','.join(SKU_SELECT)}"
    try:
        answer = (await send_batch(conn, [BatchRequest("skus", url)]))["skus"]
        skus = [_sku(item) for item in await rest_of_pages(conn, answer.page(SKU_ENDPOINT), SKU_ENDPOINT)]
    except GRAPH_ERRORS as exc:
        return not_collected_from(
            failure_from(exc, SKU_ENDPOINT, conn.settings.request_timeout), "LicenseAssignment.Read.All", SKU_ENDPOINT
        )
    return Collected(skus, SKU_ENDPOINT)
