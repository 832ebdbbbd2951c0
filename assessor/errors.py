"""Typed errors raised at the boundaries. The CLI shows each as one line and exits 2 (or 3)."""

from __future__ import annotations


class AssessorError(Exception):
    """Base of every error the CLI reports as one line."""

    exit_code = 2


class EvidenceError(AssessorError):
    """Evidence (collected, imported or saved) is malformed, of the wrong version, or inconsistent."""


class ProfileError(AssessorError):
    """A requirement profile is unknown or malformed."""


class KnowledgeError(AssessorError):
    """The bundled knowledge base is inconsistent (a packaging defect)."""


class CatalogueError(AssessorError):
    """The check catalogue and the registered check functions disagree (a packaging defect)."""


class ManifestError(AssessorError):
    """A bulk-scan manifest is malformed."""


class UsageError(AssessorError):
    """A command-line argument is invalid (bad tenant id, endpoint, format list…)."""


class CollectionError(AssessorError):
    """Collection failed entirely (nothing usable could be read from the tenant)."""

    exit_code = 3
