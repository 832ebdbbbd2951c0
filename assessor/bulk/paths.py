"""Output layout of a bulk run, with tenant directories that can never escape the output root.

``DIR/<safe-tenant-dir>/`` holds ``evidence.json``, ``result.json`` and the reports of one tenant.
The directory name is derived from the tenant key: characters outside ``[A-Za-z0-9._-]`` become
``_``, leading dots are dropped, and a short hash of the key is appended whenever the name had to
be changed (so ``../../x`` and ``__x`` cannot collide). The resolved path is checked to lie
directly under the root.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from assessor.errors import UsageError

STATE_FILE = "bulk-state.jsonl"
RESULT_FILE = "result.json"
PORTFOLIO_FILES = ("portfolio.json", "portfolio.csv", "portfolio.html")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
MAX_NAME = 80


def safe_dir_name(key: str) -> str:
    """A file-system-safe, collision-free directory name for a tenant key."""
    cleaned = _UNSAFE.sub("_", key).lstrip(".")[:MAX_NAME] or "tenant"
    if cleaned == key and cleaned not in PORTFOLIO_FILES and cleaned != STATE_FILE:
        return cleaned
    suffix = hashlib.sha256(key.encode("utf-8")).hexdigest()[:8]
    return f"{cleaned}-{suffix}"


def tenant_dir(root: Path, key: str) -> Path:
    """``root/<safe name>``, guaranteed to be a direct child of ``root``."""
    base = root.resolve()
    candidate = (base / safe_dir_name(key)).resolve()
    if candidate.parent != base:
        raise UsageError(f"tenant {key!r} would be written outside {root}")
    return candidate
