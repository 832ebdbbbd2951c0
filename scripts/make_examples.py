"""Regenerate the example evidence files in examples/ (deterministic; output committed).

Usage: python scripts/make_examples.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from assessor import __version__
from assessor.evidence import parse_evidence, save_evidence
from assessor.knowledge import load_knowledge

ROOT = Path(__file__).resolve().parent.parent
KB = load_knowledge()
AT = "2026-11-20T09:00:00Z"
PREMIUM = "2f442157-a11c-46b9-ae5b-6e39ff4e5849"
GA = "62e90394-69f5-4237-9190-012177145e10"
EXA = "29232cdf-9323-42fd-ade2-1d097af3e4de"
SECA = "194ae4cb-b126-40b2-bd5b-6091b380977d"


def sku(part: str, status: str, enabled: int, consumed: int) -> dict[str, Any]:
    entry = KB.sku_by_part_number(part)
    assert entry is not None, part
    return {
        "sku_id": entry.sku_id,
        "sku_part_number": part,
        "capability_status": status,
        "applies_to": "User",
        "consumed_units": consumed,
        "prepaid_units": {"enabled": enabled, "suspended": 0, "warning": 0, "locked_out": 0},
        "service_plans": [
            {
                "service_plan_id": p["id"],
                "service_plan_name": p["name"],
                "provisioning_status": "Success",
                "applies_to": "User",
            }
            for p in entry.service_plans
        ],
    }


def collected(source: str, data: Any) -> dict[str, Any]:
    return {"provenance": {"status": "collected", "source": source, "at": AT}, "data": data}


def missing(reason: str, fix: str | None = None, source: str | None = None, requested: bool = True) -> dict[str, Any]:
    return {
        "provenance": {
            "status": "not_collected",
            "reason": reason,
            "fix": fix,
            "source": source,
            "requested": requested,
        }
    }


def user(uid: str, upn: str, name: str, part: str, disabled: list[str] | None = None) -> dict[str, Any]:
    entry = KB.sku_by_part_number(part)
    assert entry is not None
    return {
        "id": uid,
        "user_principal_name": upn,
        "display_name": name,
        "account_enabled": True,
        "user_type": "Member",
        "assigned_licenses": [{"sku_id": entry.sku_id, "disabled_plans": disabled or []}],
    }


def holder(u: dict[str, Any], role: str, name: str) -> dict[str, Any]:
    return {"principal_id": u["id"], "principal_type": "user", "role_template_id": role, "role_name": name, "user": u}


DEFAULT_SET = ["Admin", "Delegate", "Owner"]
EXPORT_NONE = missing(
    "Log forwarding cannot be read from the tenant; no attestation file was given",
    "an attestation (--attest FILE) of SIEM forwarding and the Entra diagnostic settings",
)


def e3_standard() -> dict[str, Any]:
    admin = user("00000000-0000-4000-8000-000000000a01", "admin@northwind.example", "Northwind Admin", "SPE_E3")
    return {
        "schema": "assessor.evidence/1",
        "meta": {
            "tool_version": __version__,
            "collected_at": AT,
            "collector": "example",
            "notes": ["Example: a Standard-only E3 tenant with ingestion off and bypassed mailboxes"],
        },
        "tenant": {
            "id": "6f1c2d3e-0000-4000-8000-00000000e301",
            "name": "Northwind Traders",
            "domains": ["northwind.example"],
            "default_domain": "northwind.example",
            "cloud": "global",
        },
        "skus": collected(
            "GET /subscribedSkus", [sku("SPE_E3", "Enabled", 250, 240), sku("AAD_PREMIUM", "Enabled", 10, 2)]
        ),
        "users": collected(
            "GET /users/$count",
            {
                "mode": "summary",
                "counts": {
                    "total": 262,
                    "enabled_members": 240,
                    "guests": 15,
                    "in_scope": 236,
                    "in_scope_premium": 0,
                    "in_scope_premium_ten_year": 0,
                },
            },
        ),
        "privileged": collected(
            "GET /roleManagement/directory/roleAssignments?$expand=principal",
            {"source": "roleAssignments", "holders": [holder(admin, GA, "Global Administrator")]},
        ),
        "exchange": {
            "admin_audit_log_config": collected(
                "Get-AdminAuditLogConfig", {"unified_audit_log_ingestion_enabled": False}
            ),
            "organization_config": collected("Get-OrganizationConfig", {"audit_disabled": False}),
            "bypass": collected(
                "Get-MailboxAuditBypassAssociation",
                {
                    "total_associations": 241,
                    "bypassed": [
                        {"identity": "svc-backup@northwind.example", "object_type": "User"},
                        {"identity": "svc-archiver@northwind.example", "object_type": "User"},
                    ],
                },
            ),
            "mailboxes": collected(
                "Get-Mailbox",
                {
                    "total_user_mailboxes": 236,
                    "configurations": [
                        {
                            "audit_enabled": True,
                            "default_audit_set": DEFAULT_SET,
                            "audit_owner": [],
                            "audit_delegate": [],
                            "audit_admin": [],
                            "count": 236,
                            "sample": ["alex@northwind.example"],
                        }
                    ],
                },
            ),
            "retention_policies": collected("Get-UnifiedAuditLogRetentionPolicy", {"policies": []}),
        },
        "audit_probe": missing(
            "Event probe not requested (--probe-events)", "AuditLogsQuery.Read.All", requested=False
        ),
        "log_export": EXPORT_NONE,
    }


def mixed_priority_trap() -> dict[str, Any]:
    ga = user("00000000-0000-4000-8000-000000000b01", "ceo-admin@contoso.example", "Global Admin (E3)", "SPE_E3")
    exa = user(
        "00000000-0000-4000-8000-000000000b02", "mail-admin@contoso.example", "Exchange Admin (E3)", "ENTERPRISEPACK"
    )
    seca = user("00000000-0000-4000-8000-000000000b03", "sec-admin@contoso.example", "Security Admin (E5)", "SPE_E5")
    legal = user("00000000-0000-4000-8000-000000000b04", "counsel@contoso.example", "General Counsel (E5)", "SPE_E5")
    return {
        "schema": "assessor.evidence/1",
        "meta": {
            "tool_version": __version__,
            "collected_at": AT,
            "collector": "example",
            "notes": [
                "Example: mixed E5/E3 tenant with a 7-day priority-1 Exchange policy overriding a 1-year "
                "policy, E5 users with M365_ADVANCED_AUDITING in disabledPlans, privileged users on E3"
            ],
        },
        "tenant": {
            "id": "b1e2c3d4-0000-4000-8000-0000000c0501",
            "name": "Contoso Ltd",
            "domains": ["contoso.example", "contoso.onmicrosoft.com"],
            "default_domain": "contoso.example",
            "cloud": "global",
        },
        "skus": collected(
            "GET /subscribedSkus",
            [
                sku("SPE_E5", "Enabled", 120, 112),
                sku("SPE_E3", "Enabled", 400, 388),
                sku("ENTERPRISEPACK", "Enabled", 20, 20),
                sku("INFORMATION_PROTECTION_COMPLIANCE", "Suspended", 50, 0),
            ],
        ),
        "users": collected(
            "GET /users/$count (summary mode)",
            {
                "mode": "summary",
                "counts": {
                    "total": 560,
                    "enabled_members": 512,
                    "guests": 31,
                    "in_scope": 505,
                    "in_scope_premium": 97,
                    "in_scope_premium_ten_year": 0,
                },
                "named": [legal],
            },
        ),
        "privileged": collected(
            "GET /roleManagement/directory/roleAssignments?$expand=principal",
            {
                "source": "roleAssignments",
                "holders": [
                    holder(ga, GA, "Global Administrator"),
                    holder(exa, EXA, "Exchange Administrator"),
                    holder(seca, SECA, "Security Administrator"),
                    {
                        "principal_id": "00000000-0000-4000-8000-000000000b09",
                        "principal_type": "servicePrincipal",
                        "role_template_id": EXA,
                        "role_name": "Exchange Administrator",
                    },
                ],
            },
        ),
        "exchange": {
            "admin_audit_log_config": collected(
                "Get-AdminAuditLogConfig", {"unified_audit_log_ingestion_enabled": True}
            ),
            "organization_config": collected("Get-OrganizationConfig", {"audit_disabled": False}),
            "bypass": collected("Get-MailboxAuditBypassAssociation", {"total_associations": 530, "bypassed": []}),
            "mailboxes": collected(
                "Get-Mailbox",
                {
                    "total_user_mailboxes": 505,
                    "configurations": [
                        {
                            "audit_enabled": True,
                            "default_audit_set": DEFAULT_SET,
                            "count": 489,
                            "sample": ["adele@contoso.example"],
                        },
                        {
                            "audit_enabled": True,
                            "default_audit_set": ["Admin", "Delegate"],
                            "count": 16,
                            "audit_owner": [
                                "HardDelete",
                                "SoftDelete",
                                "MoveToDeletedItems",
                                "Update",
                                "UpdateInboxRules",
                            ],
                            "sample": ["legacy-finance@contoso.example", "old-hr@contoso.example"],
                        },
                    ],
                },
            ),
            "retention_policies": collected(
                "Get-UnifiedAuditLogRetentionPolicy",
                {
                    "policies": [
                        {
                            "name": "Exchange short-term (pilot)",
                            "priority": 1,
                            "retention_duration": "SevenDays",
                            "record_types": ["ExchangeItem", "ExchangeItemAggregated", "ExchangeAdmin"],
                        },
                        {
                            "name": "All Exchange one year",
                            "priority": 5,
                            "retention_duration": "TwelveMonths",
                            "record_types": [
                                "ExchangeItem",
                                "ExchangeItemAggregated",
                                "ExchangeAdmin",
                                "ExchangeItemGroup",
                            ],
                        },
                        {
                            "name": "Legal hold ten years",
                            "priority": 10,
                            "retention_duration": "TenYears",
                            "user_ids": ["counsel@contoso.example"],
                        },
                    ]
                },
            ),
        },
        "audit_probe": missing(
            "Event probe not requested (--probe-events)", "AuditLogsQuery.Read.All", requested=False
        ),
        "log_export": collected(
            "attestation: contoso-siem-attestation.pdf",
            {
                "siem_attested": True,
                "siem_retention_days": 365,
                "attested_by": "Contoso SOC, 2026-10-01",
                "entra_diagnostic_settings": [
                    {
                        "name": "to-sentinel",
                        "destinations": ["Log Analytics: contoso-sentinel"],
                        "categories": ["SignInLogs", "AuditLogs"],
                        "retention_days": 365,
                    }
                ],
            },
        ),
    }


def gcc_high() -> dict[str, Any]:
    ga = user(
        "00000000-0000-4000-8000-000000000d01", "admin@agency.example.gov", "Agency Admin", "SPE_E5_USGOV_GCCHIGH"
    )
    no_exo = (
        "Exchange admin API not reachable with the supplied credentials (401 from outlook.office365.us)",
        "Exchange.ManageAsApp (application) + Global Reader (Entra role)",
    )
    return {
        "schema": "assessor.evidence/1",
        "meta": {
            "tool_version": __version__,
            "collected_at": AT,
            "collector": "example",
            "endpoints": {"graph": "https://graph.microsoft.us/v1.0"},
            "notes": ["Example: a GCC High tenant whose Exchange sections were not collected"],
        },
        "tenant": {
            "id": "c0ffee00-0000-4000-8000-0000000a6e01",
            "name": "Example Agency",
            "domains": ["agency.example.gov"],
            "default_domain": "agency.example.gov",
            "cloud": "gcc-high",
        },
        "skus": collected(
            "GET https://graph.microsoft.us/v1.0/subscribedSkus",
            [sku("SPE_E5_USGOV_GCCHIGH", "Enabled", 60, 55), sku("SPE_E3_USGOV_GCCHIGH", "Warning", 900, 880)],
        ),
        "users": collected(
            "GET /users/$count",
            {
                "mode": "summary",
                "counts": {
                    "total": 990,
                    "enabled_members": 930,
                    "guests": 0,
                    "in_scope": 925,
                    "in_scope_premium": 55,
                    "in_scope_premium_ten_year": 0,
                },
            },
        ),
        "privileged": collected(
            "GET /roleManagement/directory/roleAssignments?$expand=principal",
            {"source": "roleAssignments", "holders": [holder(ga, GA, "Global Administrator")]},
        ),
        "exchange": {
            "admin_audit_log_config": missing(*no_exo, source="Get-AdminAuditLogConfig"),
            "organization_config": missing(*no_exo, source="Get-OrganizationConfig"),
            "bypass": missing(*no_exo, source="Get-MailboxAuditBypassAssociation"),
            "mailboxes": missing(*no_exo, source="Get-Mailbox"),
            "retention_policies": missing(
                "Security & Compliance endpoint not reachable (401 from ps.compliance.protection.office365.us)",
                "Purview Organization Configuration role (it can also delete policies; no read-only role works)",
                source="Get-UnifiedAuditLogRetentionPolicy",
            ),
        },
        "audit_probe": missing("The audit search API exists in the Global cloud only (tenant is gcc-high)"),
        "log_export": EXPORT_NONE,
    }


def main() -> None:
    for name, build in (
        ("e3-standard-ingestion-off", e3_standard),
        ("mixed-e5-e3-priority-trap", mixed_priority_trap),
        ("gcc-high-no-exchange", gcc_high),
    ):
        doc = build()
        evidence = parse_evidence(json.loads(json.dumps(doc)), origin=name)
        save_evidence(evidence, ROOT / "examples" / f"{name}.json")
        print(f"wrote examples/{name}.json")


if __name__ == "__main__":
    main()
