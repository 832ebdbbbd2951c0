"""Least-privilege permissions per evidence section, and a JWT preflight.

When an app-only access token is a JWT, its ``roles`` claim lists the application permissions
granted. :func:`preflight` compares it with :func:`required_permissions` so a run can say up
front which evidence sections will be missing (no signature is checked: this is advice, the
API's answer stays authoritative).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from dataclasses import dataclass

from assessor.jsontypes import WireObject


@dataclass(frozen=True)
class PermissionRequirement:
    section: str
    api: str
    permission: str
    also_sufficient: tuple[str, ...] = ()
    endpoint: str = ""
    note: str | None = None

    def satisfied_by(self, roles: Iterable[str]) -> bool:
        granted = {r.lower() for r in roles}
        return any(p.lower() in granted for p in (self.permission, *self.also_sufficient))


_GRAPH = "Microsoft Graph"
_EXO = "Office 365 Exchange Online"
EXCHANGE_API = _EXO
_EXCHANGE_NOTE = "plus an Entra role such as Global Reader assigned to the app"

REQUIREMENTS: tuple[PermissionRequirement, ...] = (
    PermissionRequirement(
        "tenant",
        _GRAPH,
        "Organization.Read.All",
        ("Directory.Read.All", "Organization.ReadWrite.All", "Directory.ReadWrite.All"),
        "GET /organization",
    ),
    PermissionRequirement(
        "skus",
        _GRAPH,
        "LicenseAssignment.Read.All",
        ("Organization.Read.All", "Directory.Read.All", "Organization.ReadWrite.All", "Directory.ReadWrite.All"),
        "GET /subscribedSkus",
    ),
    PermissionRequirement(
        "users",
        _GRAPH,
        "User.Read.All",
        ("Directory.Read.All", "User.ReadWrite.All", "Directory.ReadWrite.All"),
        "GET /users, /users/$count",
    ),
    PermissionRequirement(
        "privileged",
        _GRAPH,
        "RoleManagement.Read.Directory",
        ("RoleManagement.Read.All", "Directory.Read.All", "RoleManagement.ReadWrite.Directory"),
        "GET /roleManagement/directory/roleAssignments, /directoryRoles",
        "group holders are expanded with GroupMember.Read.All or Directory.Read.All",
    ),
    PermissionRequirement(
        "exchange.admin_audit_log_config",
        _EXO,
        "Exchange.ManageAsApp",
        (),
        "InvokeCommand Get-AdminAuditLogConfig",
        _EXCHANGE_NOTE,
    ),
    PermissionRequirement(
        "exchange.organization_config",
        _EXO,
        "Exchange.ManageAsApp",
        (),
        "InvokeCommand Get-OrganizationConfig",
        _EXCHANGE_NOTE,
    ),
    PermissionRequirement(
        "exchange.bypass",
        _EXO,
        "Exchange.ManageAsApp",
        (),
        "InvokeCommand Get-MailboxAuditBypassAssociation",
        _EXCHANGE_NOTE,
    ),
    PermissionRequirement(
        "exchange.mailboxes", _EXO, "Exchange.ManageAsApp", (), "InvokeCommand Get-Mailbox", _EXCHANGE_NOTE
    ),
    PermissionRequirement(
        "exchange.retention_policies",
        _EXO,
        "Exchange.ManageAsApp",
        (),
        "compliance InvokeCommand Get-UnifiedAuditLogRetentionPolicy",
        "plus the Purview Organization Configuration role (no read-only role works)",
    ),
    PermissionRequirement(
        "log_export",
        "Azure Resource Manager",
        "Reader (Azure RBAC) on the subscriptions holding the Log Analytics workspaces and storage accounts",
        (),
        "GET /subscriptions, …/workspaces, …/tables, …/dataConnectors, …/managementPolicies",
        "and Reader at scope /providers/Microsoft.aadiam for GET /providers/microsoft.aadiam/diagnosticSettings; "
        "ARM tokens carry no roles, so no preflight can tell in advance",
    ),
    PermissionRequirement(
        "audit_probe",
        _GRAPH,
        "AuditLogsQuery.Read.All",
        ("AuditLogsQuery-Exchange.Read.All",),
        "POST /security/auditLog/queries",
        "Global cloud only",
    ),
    PermissionRequirement(
        "applications",
        _GRAPH,
        "Application.Read.All",
        ("Directory.Read.All", "Application.ReadWrite.All", "Directory.ReadWrite.All"),
        "GET /servicePrincipals, /servicePrincipals(appId=…)/appRoleAssignedTo",
        "with the probe: names the mail clients and finds app-only mail permissions",
    ),
)


def required_permissions(sections: Iterable[str] | None = None) -> list[PermissionRequirement]:
    """The least-privilege application permission for each evidence section (optionally filtered)."""
    wanted = set(sections) if sections is not None else None
    return [r for r in REQUIREMENTS if wanted is None or r.section in wanted]


def decode_jwt_claims(token: str) -> WireObject | None:
    """The payload of a JWT (unverified), or None when the token is not a decodable JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return None
    return claims if isinstance(claims, dict) else None


@dataclass(frozen=True)
class PreflightResult:
    app_only: bool
    roles: frozenset[str]
    audience: str | None
    missing: tuple[PermissionRequirement, ...]

    def messages(self, skip: Iterable[str] = ()) -> list[str]:
        """One line per missing permission, leaving out the sections in ``skip`` (not asked for)."""
        return [
            f"token lacks {m.permission} ({m.api}): evidence section {m.section} will not be collected"
            for m in self.missing
            if m.section not in set(skip)
        ]


def preflight(token: str, api: str = _GRAPH) -> PreflightResult | None:
    """Which sections an app-only JWT cannot collect; None when the token is not a JWT or is delegated."""
    claims = decode_jwt_claims(token)
    if claims is None:
        return None
    roles_claim = claims.get("roles")
    app_only = claims.get("idtyp") == "app" or ("scp" not in claims and isinstance(roles_claim, list))
    if not app_only:
        return None
    roles = frozenset(str(r) for r in roles_claim) if isinstance(roles_claim, list) else frozenset()
    missing = tuple(r for r in REQUIREMENTS if r.api == api and not r.satisfied_by(roles))
    aud = claims.get("aud")
    return PreflightResult(True, roles, str(aud) if aud is not None else None, missing)
