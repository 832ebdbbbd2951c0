"""Tenant (`/organization`) and licences (`/subscribedSkus`) collectors."""

from __future__ import annotations

from typing import Any

from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.subscribed_skus.subscribed_skus_request_builder import SubscribedSkusRequestBuilder

from assessor.collect.graph.client import GraphConnection
from assessor.collect.graph.outcome import (
    GRAPH_ERRORS,
    Collected,
    GraphFailure,
    NotCollected,
    failure_from,
    not_collected_from,
)
from assessor.collect.graph.paging import page_values
from assessor.evidence import PrepaidUnits, ServicePlan, SubscribedSku, Tenant

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


def _text(value: Any) -> str | None:
    return None if value is None else str(value).lower() if _is_guid(value) else str(value)


def _is_guid(value: Any) -> bool:
    return type(value).__name__ == "UUID"


async def collect_organization(conn: GraphConnection, cloud: str) -> Collected[Tenant] | NotCollected:
    try:
        answer = await conn.client.organization.get()
    except GRAPH_ERRORS as exc:
        return not_collected_from(
            failure_from(exc, ORG_ENDPOINT, conn.settings.request_timeout), "Organization.Read.All", ORG_ENDPOINT
        )
    orgs = (answer.value if answer else None) or []
    if not orgs or not orgs[0].id:
        failure = GraphFailure(ORG_ENDPOINT, 200, None, "no organization in the answer", "protocol")
        return NotCollected(failure.describe(), None, ORG_ENDPOINT, failure)
    org = orgs[0]
    domains = [d.name for d in (org.verified_domains or []) if d.name]
    default = next((d.name for d in (org.verified_domains or []) if d.is_default and d.name), None)
    tenant = Tenant(id=str(org.id), name=org.display_name, domains=domains, default_domain=default, cloud=cloud)  # type: ignore[arg-type]
    return Collected(tenant, ORG_ENDPOINT)


def _sku(model: Any) -> SubscribedSku:
    units = model.prepaid_units
    status = model.capability_status if model.capability_status in SKU_STATUSES else None
    if status is None:
        raise ValueError(
            f"SKU {model.sku_part_number or model.sku_id}: unknown capabilityStatus {model.capability_status!r}"
        )
    return SubscribedSku(
        sku_id=_text(model.sku_id) or "",
        sku_part_number=model.sku_part_number,
        capability_status=status,
        applies_to=model.applies_to,
        consumed_units=model.consumed_units or 0,
        prepaid_units=PrepaidUnits(
            enabled=(units.enabled or 0) if units else 0,
            suspended=(units.suspended or 0) if units else 0,
            warning=(units.warning or 0) if units else 0,
            locked_out=(units.locked_out or 0) if units else 0,
        ),
        service_plans=[
            ServicePlan(
                service_plan_id=_text(p.service_plan_id) or "",
                service_plan_name=p.service_plan_name,
                provisioning_status=p.provisioning_status,
                applies_to=p.applies_to,
            )
            for p in (model.service_plans or [])
        ],
    )


async def collect_skus(conn: GraphConnection) -> Collected[list[SubscribedSku]] | NotCollected:
    config = RequestConfiguration(
        query_parameters=SubscribedSkusRequestBuilder.SubscribedSkusRequestBuilderGetQueryParameters(select=SKU_SELECT)
    )
    try:
        answer = await conn.client.subscribed_skus.get(request_configuration=config)
        skus = [_sku(m) for m in page_values(answer, SKU_ENDPOINT)]
    except GRAPH_ERRORS as exc:
        return not_collected_from(
            failure_from(exc, SKU_ENDPOINT, conn.settings.request_timeout), "LicenseAssignment.Read.All", SKU_ENDPOINT
        )
    return Collected(skus, SKU_ENDPOINT)
