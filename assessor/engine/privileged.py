"""Which roles make a user privileged for this assessment: the profile's list, or Entra's own flag.

A profile lists privileged roles with a reason each (the baseline: roles that reach mail, audit
settings or other administrators' credentials). With ``privileged_source: entra-isprivileged`` the
roles are instead those whose definition Entra marks ``isPrivileged`` (Graph beta). Either way the
figures are computed from one list; when that list cannot be known — the flag was not read, a
definition came without it, or the holders were read for other roles — the role holders count as
not collected for this assessment, so every figure that depends on them is unknown, never a pass.

The report shows both lists side by side (:func:`compare_definitions`) and names the one used.
"""

from __future__ import annotations

from assessor.engine.model import PrivilegedDefinitionFigures
from assessor.evidence import Evidence, PrivilegedRoles, Provenance, RoleDefinition, Section
from assessor.profiles import PrivilegedRole, Profile

DEFINITIONS_FIX = "RoleManagement.Read.Directory (Graph beta roleDefinitions, for isPrivileged)"
ENTRA_DEFINITION = "Entra's own privileged flag: the roles whose definition has isPrivileged true (Graph beta)"
ENTRA_REASON = "Entra marks the role privileged (isPrivileged)"


def _definitions(evidence: Evidence) -> tuple[list[RoleDefinition] | None, str]:
    """The role definitions, or None with why they are not usable."""
    section = evidence.role_definitions
    if section is None:
        return None, "the evidence predates reading role definitions"
    if section.data is None:
        return None, f"role definitions were not collected: {section.provenance.reason}"
    unflagged = [d.display_name or d.id for d in section.data.definitions if d.is_privileged is None]
    if unflagged:
        return None, f"{len(unflagged)} role definition(s) came without isPrivileged ({', '.join(unflagged[:3])})"
    return section.data.definitions, ""


def entra_flagged(evidence: Evidence) -> list[PrivilegedRole] | None:
    """The roles Entra marks privileged, as profile roles (None when the flag is not known for all)."""
    definitions, _why = _definitions(evidence)
    if definitions is None:
        return None
    return [
        PrivilegedRole(name=d.display_name or d.id, template_id=d.template_id or d.id, reason=ENTRA_REASON)
        for d in sorted(definitions, key=lambda d: (d.display_name or d.id).lower())
        if d.is_privileged
    ]


def _unread(roles: set[str], section: Section[PrivilegedRoles]) -> list[str] | None:
    """The roles whose holders were not read (None: which were read is not recorded)."""
    data = section.data
    if data is None or data.roles_read is None:
        return None
    if data.roles_read == "all":
        return []
    return sorted(roles - {r.lower() for r in data.roles_read})


def _without_holders(evidence: Evidence, reason: str, fix: str) -> Evidence:
    section: Section[PrivilegedRoles] = Section(
        provenance=Provenance(
            status="not_collected", reason=reason, fix=fix, source=evidence.privileged.provenance.source
        )
    )
    return evidence.model_copy(update={"privileged": section})


def resolve_privileged(evidence: Evidence, profile: Profile) -> tuple[Evidence, Profile]:
    """The evidence and profile the figures are computed from: the profile's privileged roles replaced by
    the ones its definition names, and the role holders set aside when they cannot answer for them."""
    if profile.privileged_source == "entra-isprivileged":
        flagged = entra_flagged(evidence)
        if flagged is None:
            _defs, why = _definitions(evidence)
            reason = f"Entra's isPrivileged flag, which this profile uses, is not known: {why}"
            return _without_holders(evidence, reason, DEFINITIONS_FIX), profile
        profile = profile.model_copy(update={"privileged_roles": flagged})
    wanted = {r.template_id.lower() for r in profile.privileged_roles}
    unread = _unread(wanted, evidence.privileged)
    if evidence.privileged.data is not None and (unread or (unread is None and profile.privileged_source != "roles")):
        what = f"{len(unread)} of the profile's privileged roles" if unread else "the roles this profile uses"
        reason = f"the role holders were read for other roles: holders of {what} were not read"
        return _without_holders(
            evidence, reason, "collect again with this profile (RoleManagement.Read.Directory)"
        ), profile
    return evidence, profile


def definition_used(profile: Profile) -> str:
    return ENTRA_DEFINITION if profile.privileged_source == "entra-isprivileged" else profile.privileged_definition


def compare_definitions(evidence: Evidence, profile: Profile) -> PrivilegedDefinitionFigures:
    """The profile's listed roles beside the roles Entra flags, and which definition the figures use."""
    listed = {r.template_id.lower(): r.name for r in profile.privileged_roles}
    flagged_roles = entra_flagged(evidence)
    flagged = {r.template_id.lower(): r.name for r in flagged_roles} if flagged_roles is not None else None
    _defs, why = _definitions(evidence)
    return PrivilegedDefinitionFigures(
        used=profile.privileged_source,
        definition=definition_used(profile),
        listed=sorted(listed.values()),
        entra_flagged=sorted(flagged.values()) if flagged is not None else None,
        listed_not_flagged=sorted(n for t, n in listed.items() if t not in flagged) if flagged is not None else None,
        flagged_not_listed=sorted(n for t, n in flagged.items() if t not in listed) if flagged is not None else None,
        entra_unavailable=why or None,
    )
