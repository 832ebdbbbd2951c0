"""Malformed Graph objects become a section that was not collected (a ValueError or a protocol
GraphFailure, both in GRAPH_ERRORS), never an AttributeError that would escape as a traceback or a
holder silently left out."""

from __future__ import annotations

import pytest

from assessor.collect.graph.directory import _sku
from assessor.collect.graph.outcome import GRAPH_ERRORS, GraphFailure
from assessor.collect.graph.roles import _assignment

GOOD_SKU = {"skuId": "A", "skuPartNumber": "ENTERPRISEPACK", "capabilityStatus": "Enabled"}


@pytest.mark.parametrize(
    "item",
    [
        "not an object",
        {**GOOD_SKU, "prepaidUnits": 5},
        {**GOOD_SKU, "servicePlans": "E3"},
        {**GOOD_SKU, "servicePlans": ["EXCHANGE_S_ENTERPRISE"]},
    ],
)
def test_a_malformed_sku_is_a_graph_error(item: object) -> None:
    with pytest.raises(ValueError) as caught:
        _sku(item)
    assert isinstance(caught.value, GRAPH_ERRORS)


def test_a_well_formed_sku_reads() -> None:
    sku = _sku({**GOOD_SKU, "prepaidUnits": {"enabled": 3}, "servicePlans": [{"servicePlanId": "B"}]})
    assert sku.prepaid_units.enabled == 3 and sku.service_plans[0].service_plan_id == "b"


def test_an_assignment_whose_principal_is_not_an_object_fails_the_read() -> None:
    with pytest.raises(GraphFailure, match="principal is not an object"):
        _assignment({"principalId": "P", "roleDefinitionId": "R", "principal": "user"})
    assert _assignment({"principalId": "P", "roleDefinitionId": "R"}).principal_type == "unknown"
