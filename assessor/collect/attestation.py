"""Log-export attestations: what the tenant cannot tell us about where its logs go.

Forwarding of the unified audit log to a SIEM or archive cannot be read from Microsoft 365, so
EXP-01 and RET-03/04 rely on an attestation the admin or auditor writes (YAML or JSON)::

    siem_attested: true
    siem_retention_days: 913
    attested_by: "SOC lead, ticket SEC-1234, 2026-10-01"
    note: "UAL via Office 365 Management Activity API into Sentinel; 2.5 years in archive tier"
    entra_diagnostic_settings:
      - {name: to-sentinel, destinations: ["Log Analytics: soc"], categories: [SignInLogs, AuditLogs],
         retention_days: 730}

It becomes the evidence's ``log_export`` section with provenance ``imported`` (the file name) — or,
when the evidence already holds what was read from Azure Resource Manager, it is added beside it:
reports then say which figure is **read** and which **attested**, and a read value wins. An
attestation cannot carry an ``azure`` part (that is only ever read).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from assessor.collect.interface import Collected, SourceResult, section_of
from assessor.errors import EvidenceError
from assessor.evidence import Evidence, LogExport, Section, describe_validation_error
from assessor.yamlsafe import safe_load_bounded

MAX_ATTESTATION_BYTES = 1024 * 1024


def load_attestation(path: str | Path) -> Section[LogExport]:
    p = Path(path)
    try:
        if p.stat().st_size > MAX_ATTESTATION_BYTES:
            raise EvidenceError(f"{p}: attestation file is larger than 1 MiB")
        raw: object = safe_load_bounded(p.read_text(encoding="utf-8"))
    except OSError as err:
        raise EvidenceError(f"{p}: cannot read attestation ({err.strerror})") from None
    except UnicodeDecodeError:
        raise EvidenceError(f"{p}: attestation is not UTF-8 text") from None
    except yaml.YAMLError:
        raise EvidenceError(f"{p}: attestation is not valid YAML/JSON") from None
    if not isinstance(raw, dict):
        raise EvidenceError(f"{p}: an attestation must be a mapping")
    for key in ("azure", "attestation_file"):
        if key in raw:
            raise EvidenceError(f"{p}: {key}: not allowed in an attestation (it is recorded by the assessor)")
    raw = {**raw, "attestation_file": p.name}
    try:
        data = LogExport.model_validate(raw)
    except ValidationError as err:
        raise EvidenceError(f"{p}: {describe_validation_error(err)}") from None
    return Section[LogExport].model_validate(
        {"provenance": {"status": "imported", "file": p.name, "source": "attestation"}, "data": data}
    )


def attach(evidence: Evidence, attested: Section[LogExport]) -> Evidence:
    """The evidence with an attestation as its log_export section — kept beside what was read from
    Azure when there is such a read (its provenance stays the read's: reports say read vs attested)."""
    current = evidence.log_export.data
    if current is not None and current.azure is not None and attested.data is not None:
        merged = attested.data.model_copy(update={"azure": current.azure})
        section = Section[LogExport].model_validate({"provenance": evidence.log_export.provenance, "data": merged})
        return evidence.model_copy(update={"log_export": section})
    return evidence.model_copy(update={"log_export": attested})


def with_attestation(evidence: Evidence, path: str | Path) -> Evidence:
    """The evidence with the attestation file's log_export section attached (see :func:`attach`)."""
    return attach(evidence, load_attestation(path))


@dataclass(frozen=True)
class AttestationSource:
    """An attestation file as a source of evidence under the one contract of
    :mod:`assessor.collect.interface`: its ``log_export`` section, provenance ``imported``.

    The file is read and validated when the source is built (:meth:`read`), so a bad file is a
    usage error before any tenant is contacted, and :meth:`collect` cannot fail.
    """

    file: str
    data: LogExport
    name: str = "attestation"

    @classmethod
    def read(cls, path: str | Path) -> AttestationSource:
        section = load_attestation(path)
        assert section.data is not None  # load_attestation returns data or raises
        return cls(Path(path).name, section.data)

    async def collect(self) -> SourceResult[LogExport]:
        return SourceResult({"log_export": Collected(self.data, "attestation", file=self.file)})


async def attested_section(source: AttestationSource) -> Section[LogExport]:
    """The ``log_export`` section an attestation source yields, as the evidence records it."""
    result = await source.collect()
    return Section[LogExport].model_validate(section_of(result.sections["log_export"]))
