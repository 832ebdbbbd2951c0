"""Replace personal and organisation names in a Report by stable keyed hashes, once, before rendering.

Applied to the model (not per renderer), so every format — HTML, Markdown, JSON, CSV, SARIF,
JUnit and the terminal — shows the same pseudonyms. With the same key the same name always maps
to the same pseudonym, so an MSP can correlate reports; without the key nobody can reverse them.

What is replaced:
- user principal names and any other e-mail-shaped text anywhere in free text → ``user-<hash>``;
- display names and identities in known places (privileged users without Premium, audit-bypass
  identities, sampled mailboxes, attestation authors) and every occurrence of them in messages;
- the tenant's name, id, domains, and the organisation label of each domain (``contoso`` in
  ``contoso-siem-attestation.pdf`` or ``Contoso SOC``).
Structural fields (check ids, statuses, severities, SKU part numbers, references…) are kept.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import os
import re
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

from assessor.engine.model import Report
from assessor.fileio import atomic_writer

KEY_ENV = "ASSESSOR_PSEUDONYM_KEY"
_T = TypeVar("_T")
EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\-]+@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)+"
)
# Keys whose values are never free text about people or the organisation.
STRUCTURAL_KEYS = frozenset(
    {
        "schema",
        "check_id",
        "area",
        "status",
        "severity",
        "verdict",
        "profile",
        "generated_at",
        "assessment_date",
        "tool_version",
        "summary",
        "references",
        "controls",
        "permissions",
        "evidence_sha256",
        "evidence_integrity",
        "audit_tier",
        "entra",
        "tier_needed",
        "section",
        "sku_part_number",
        "capability_status",
        "option",
        "cost",
        "cloud",
        "rationale",
        "required_actions",
        "missing_by_action",
        "first_seen",
        "last_seen",
    }
)
# Keys whose (string or list-of-string) values are identities: users, mailboxes, people, teams.
IDENTITY_KEYS = frozenset(
    {
        "user_principal_name",
        "users",
        "bypassed",
        "bypass_identities",
        "sample_mailboxes",
        "attested_by",
        "identity",
        "upn",
        "mailbox",
        "mailboxes",
    }
)
GENERIC_LABELS = frozenset({"onmicrosoft", "mail", "www", "com", "org", "net", "gov", "mil", "example", "microsoft"})
MIN_LABEL = 4
MIN_NAME = 3


def resolve_key(env: Mapping[str, str] | None = None) -> tuple[bytes, bool]:
    """The key from ASSESSOR_PSEUDONYM_KEY, else a random one; the flag says whether it is stable."""
    value = (os.environ if env is None else env).get(KEY_ENV, "")
    if value:
        return value.encode("utf-8"), True
    return secrets.token_bytes(32), False


class Pseudonymizer:
    """Keyed, deterministic pseudonyms: ``<kind>-<10 hex digits of HMAC-SHA256(key, kind:value)>``."""

    def __init__(self, key: bytes) -> None:
        if not key:
            raise ValueError("pseudonymisation key must not be empty")
        self._key = key
        self._known: dict[str, str] = {}  # casefolded original -> pseudonym
        self._labels: dict[str, str] = {}
        self._compiled: tuple[tuple[int, int], re.Pattern[str]] | None = None

    def token(self, kind: str, value: str) -> str:
        digest = hmac.new(self._key, f"{kind}:{value.strip().casefold()}".encode(), hashlib.sha256).hexdigest()
        return f"{kind}-{digest[:10]}"

    def identity(self, value: str) -> str:
        """Pseudonym for a user/mailbox identity: UPN-shaped values and names share one namespace each."""
        kind = "user" if EMAIL.fullmatch(value.strip()) else "name"
        return self.remember(value, self.token(kind, value))

    def remember(self, original: str, pseudonym: str) -> str:
        if original.strip():
            self._known[original.strip().casefold()] = pseudonym
        return pseudonym

    def domain(self, value: str) -> str:
        pseudonym = self.token("domain", value) + ".invalid"
        self.remember(value, pseudonym)
        label = value.split(".", 1)[0]
        if len(label) >= MIN_LABEL and label.casefold() not in GENERIC_LABELS:
            self._labels[label.casefold()] = self.token("org", label)
        return pseudonym

    def _pattern(self) -> re.Pattern[str]:
        state = (len(self._known), len(self._labels))
        if self._compiled is None or self._compiled[0] != state:
            names = sorted((re.escape(k) for k in self._known if len(k) >= MIN_NAME), key=len, reverse=True)
            labels = [rf"(?<![A-Za-z0-9]){re.escape(label)}(?![A-Za-z0-9])" for label in self._labels]
            parts = [f"(?P<email>{EMAIL.pattern})", *(f"(?:{x})" for x in [*names, *labels])]
            self._compiled = (state, re.compile("|".join(parts), re.IGNORECASE))
        return self._compiled[1]

    def _replace(self, match: re.Match[str]) -> str:
        found = match.group(0)
        if match.group("email"):
            return self._known.get(found.casefold()) or self.identity(found)
        return self._known.get(found.casefold()) or self._labels.get(found.casefold(), found)

    def text(self, value: str) -> str:
        """Replace known names, any e-mail address, and organisation labels inside free text (one pass)."""
        exact = self._known.get(value.strip().casefold())
        if exact is not None:
            return exact
        return self._pattern().sub(self._replace, value)


def _walk(value: object, key: str | None, on_string: Callable[[str, str | None], str]) -> object:
    if key in STRUCTURAL_KEYS:
        return value
    if isinstance(value, str):
        return on_string(value, key)
    if isinstance(value, list):
        return [_walk(v, key, on_string) for v in value]
    if isinstance(value, dict):
        return {k: _walk(v, k, on_string) for k, v in value.items()}
    return value


def _collect_identities(
    doc: object, p: Pseudonymizer, key: str | None = None, parent: dict[str, object] | None = None
) -> None:
    """First pass: learn every identity from the places that hold them, so messages can be rewritten."""
    if isinstance(doc, dict):
        for k, v in doc.items():
            _collect_identities(v, p, k, doc)
    elif isinstance(doc, list):
        for v in doc:
            _collect_identities(v, p, key, parent)
    elif isinstance(doc, str) and doc.strip():
        is_user_record = parent is not None and "user_principal_name" in parent
        if key in IDENTITY_KEYS or (key == "display_name" and is_user_record):
            p.identity(doc)


def _pseudonymize_tenant(tenant: dict[str, object], p: Pseudonymizer) -> dict[str, object]:
    out = dict(tenant)
    domains = out.get("domains")
    if isinstance(domains, list):
        out["domains"] = [p.domain(d) if isinstance(d, str) else d for d in domains]
    default_domain = out.get("default_domain")
    if isinstance(default_domain, str):
        out["default_domain"] = p.domain(default_domain)
    tenant_id = out.get("id")
    if isinstance(tenant_id, str):
        out["id"] = p.remember(tenant_id, p.token("tenant-id", tenant_id))
    name = out.get("name")
    if isinstance(name, str):
        out["name"] = p.remember(name, p.token("tenant", name))
    for k, v in out.items():
        if k not in ("domains", "default_domain", "id", "name", "cloud") and isinstance(v, str):
            out[k] = p.text(v)
    return out


def _pseudonymize_user_ids(licensing: dict[str, object], p: Pseudonymizer) -> None:
    """Directory object ids of listed users tie a pseudonym back to a person: replace them too."""
    users = licensing.get("privileged_without_premium")
    for user in users if isinstance(users, list) else []:
        if isinstance(user, dict) and isinstance(user.get("id"), str):
            user["id"] = p.remember(user["id"], p.token("object", user["id"]))


def pseudonymize_report(report: Report, key: bytes) -> Report:
    """A copy of `report` with UPNs, display names and tenant names replaced by keyed hashes."""
    p = Pseudonymizer(key)
    doc = report.to_json_dict()
    doc["tenant"] = _pseudonymize_tenant(doc["tenant"], p)
    _pseudonymize_user_ids(doc.get("licensing", {}), p)
    _collect_identities({k: v for k, v in doc.items() if k != "tenant"}, p)

    def on_string(value: str, key: str | None) -> str:
        return p.text(value)

    body = {k: _walk(v, k, on_string) for k, v in doc.items() if k != "tenant"}
    body["tenant"] = doc["tenant"]
    return Report.model_validate(body)


def pseudonymize_user_list(path: Path, key: bytes) -> None:
    """Rewrite a detail-mode per-user gap list (CSV or JSON Lines) with the report's pseudonyms.

    Streams row by row (the list can hold a million users) into a temp file that replaces the
    original only when complete. The user's object id and UPN get the same pseudonyms as in the
    reports made with the same key, so rows still match the report's lists.
    """
    p = Pseudonymizer(key)

    def upn(value: _T) -> _T | str:
        return p.identity(value) if isinstance(value, str) and value else value

    def object_id(value: _T) -> _T | str:
        return p.token("object", value) if isinstance(value, str) and value else value

    with path.open(encoding="utf-8", newline="") as src, atomic_writer(path) as dst:
        if path.suffix.lower() == ".csv":
            reader = csv.reader(src)
            writer = csv.writer(dst)
            header = next(reader, None)
            if header is None:
                return
            writer.writerow(header)
            columns = {name: i for i, name in enumerate(header)}
            for row in reader:
                for name, fn in (("id", object_id), ("userPrincipalName", upn)):
                    i = columns.get(name)
                    if i is not None and i < len(row):
                        row[i] = fn(row[i])
                writer.writerow(row)
        else:
            for line in src:
                if not line.strip():
                    continue
                doc = json.loads(line)
                doc["id"] = object_id(doc.get("id"))
                doc["userPrincipalName"] = upn(doc.get("userPrincipalName"))
                dst.write(json.dumps(doc, ensure_ascii=False) + "\n")
