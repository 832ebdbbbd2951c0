"""One vocabulary each for the words the options, the manifest, the evidence and the reports share.

``StrEnum`` members are strings: they compare equal to, hash like, print and serialise as their
value, so evidence, reports and manifests written before these enums read and write the same text.
"""

from __future__ import annotations

import sys

if sys.version_info >= (3, 11):
    from enum import StrEnum
else:  # Python 3.10: the same behaviour (members are their value as text)
    from enum import Enum

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


class UsersMode(StrEnum):
    """How users are counted (--users): $count queries, or every user enumerated."""

    SUMMARY = "summary"
    DETAIL = "detail"


CLOUDS: tuple[str, ...] = tuple(c.value for c in Cloud)
AUTH_MODES: tuple[str, ...] = tuple(m.value for m in AuthMode)
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
