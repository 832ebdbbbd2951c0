"""One vocabulary each for the words the options, the manifest, the evidence and the reports share.

``StrEnum`` members are strings: they compare equal to, hash like, print and serialise as their
value, so evidence, reports and manifests written before these enums read and write the same text.
"""

from __future__ import annotations

import sys
from enum import Enum

if sys.version_info >= (3, 11):
    from enum import StrEnum
else:  # Python 3.10: the same behaviour (members are their value as text)

    class StrEnum(str, Enum):
        def __str__(self) -> str:
            return str(self.value)

        def __format__(self, spec: str) -> str:
            return format(str(self.value), spec)


class Cloud(StrEnum):
    """The Microsoft 365 cloud a tenant lives in (--cloud; the evidence's tenant.cloud)."""

    GLOBAL = "global"
    GCC = "gcc"
    GCC_HIGH = "gcc-high"
    DOD = "dod"
    CHINA = "china"


class AuthMode(StrEnum):
    """How the collector signs in (--auth)."""

    SECRET = "secret"  # noqa: S105 - the name of a mode
    CERTIFICATE = "certificate"
    DEVICE_CODE = "device-code"
    BROWSER = "browser"
    AZURE_CLI = "azure-cli"
    MANAGED_IDENTITY = "managed-identity"
    DEFAULT = "default"
    TOKEN = "token"  # noqa: S105 - the name of a mode


INTERACTIVE_MODES = frozenset({AuthMode.DEVICE_CODE, AuthMode.BROWSER})  # need a person at the keyboard


class ManifestAuthKind(StrEnum):
    """How a bulk manifest's tenant signs in (``auth.mode``): the non-interactive :class:`AuthMode`
    members (a fleet runs unattended), spelt as the CLI spells them, plus ``multi-tenant-app`` (one
    app consented in every customer tenant: a certificate or secret sign-in per tenant authority).

    Python enums cannot extend one another, so the shared members take their values from
    :class:`AuthMode`: each spelling is written once (``tests/test_vocabulary.py`` pins this)."""

    CERTIFICATE = AuthMode.CERTIFICATE.value
    SECRET = AuthMode.SECRET.value
    MANAGED_IDENTITY = AuthMode.MANAGED_IDENTITY.value
    MULTI_TENANT_APP = "multi-tenant-app"
    TOKEN = AuthMode.TOKEN.value
    AZURE_CLI = AuthMode.AZURE_CLI.value
    DEFAULT = AuthMode.DEFAULT.value


class UsersMode(StrEnum):
    """How users are counted (--users): $count queries, or every user enumerated."""

    SUMMARY = "summary"
    DETAIL = "detail"


class EvidenceUsersMode(StrEnum):
    """How the evidence's ``users`` section was obtained (``users.mode``): counted or enumerated as
    :class:`UsersMode` says (same spellings, taken from it), or ``imported`` from a file."""

    SUMMARY = UsersMode.SUMMARY.value
    DETAIL = UsersMode.DETAIL.value
    IMPORTED = "imported"


CLOUDS: tuple[str, ...] = tuple(c.value for c in Cloud)
AUTH_MODES: tuple[str, ...] = tuple(m.value for m in AuthMode)
MANIFEST_AUTH_KINDS: tuple[str, ...] = tuple(m.value for m in ManifestAuthKind)
USERS_MODES: tuple[str, ...] = tuple(m.value for m in UsersMode)
APP_ONLY_MODES = frozenset({AuthMode.SECRET, AuthMode.CERTIFICATE, AuthMode.MANAGED_IDENTITY})


class Severity(StrEnum):
    """How much a gap matters: the one vocabulary of catalogue, profiles, findings and --fail-on
    (lowest first)."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


SEVERITIES: tuple[Severity, ...] = tuple(Severity)  # lowest first


def inline_enum_schema(enum: type[Enum], title: str) -> dict[str, object]:
    """A field's JSON Schema listing the enum's values in place, as the schemas did when these fields
    were ``Literal`` word lists (pydantic would otherwise refer to the enum's definition and docstring)."""
    return {"enum": [m.value for m in enum], "title": title, "type": "string"}
