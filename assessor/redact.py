"""One redaction step for every text that can reach evidence, reports, logs or error output.

Services sometimes echo what they were sent — an error body quoting the ``Authorization`` header,
a proxy page, a misconfigured test server. Whatever an error says, these never pass on:

- the secret values this process was given (client secrets, certificate passwords, bearer
  tokens), registered by the credential factory as it reads them;
- anything shaped like a bearer header or a JWT;
- control characters (a NUL-filled or binary error body): each run becomes one space.
"""

from __future__ import annotations

import json
import re
import threading

REDACTED = "<redacted>"
MIN_SECRET_LENGTH = 6  # shorter values would blank ordinary words
_BEARER = re.compile(r"(?i)\bbearer\s+[A-Za-z0-9\-._~+/]+=*")
_CONTROL_RUN = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
# In a JSON text, a superset of what redact() can change: "bearer", "eyJ" (any case), and control
# characters (escaped by JSON as \u00XX or \n-style escapes below 0x20; DEL and C1 characters
# appear as is). Searched piecewise: plain substring tests are about three times faster than one
# case-insensitive alternation over a whole evidence document.
_HINT_ESCAPE = re.compile(r"\\(?:[uU]00[01]|[bfnrtBFNRT])")
_HINT_C1 = re.compile(r"[\x7f-\x9f]")
_secrets: set[str] = set()
_by_length: tuple[str, ...] = ()  # the secrets, longest first (rebuilt when one is registered)
_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Never let ``value`` appear in any text this process writes (idempotent)."""
    if value is not None and len(value.strip()) >= MIN_SECRET_LENGTH:
        global _by_length
        with _lock:
            _secrets.add(value.strip())
            _by_length = tuple(sorted(_secrets, key=len, reverse=True))


def redact(text: str) -> str:
    """``text`` with registered secrets, bearer headers and JWTs replaced by ``<redacted>``."""
    if not text:
        return text
    for secret in _by_length:
        if secret in text:
            text = text.replace(secret, REDACTED)
    text = _BEARER.sub(f"Bearer {REDACTED}", text)
    return _CONTROL_RUN.sub(" ", _JWT.sub(REDACTED, text))


def may_need_redaction(text: str) -> bool:
    """Whether :func:`redact` could change some string whose JSON encoding is inside ``text``
    (False means it certainly cannot: no secret, JSON-escaped or not, no "bearer", no "eyJ", no
    control character)."""
    if "\\" in text and _HINT_ESCAPE.search(text):
        return True
    if ("\x7f" in text) if text.isascii() else (_HINT_C1.search(text) is not None):
        return True
    lowered = text.lower()
    if "bearer" in lowered or "eyj" in lowered:
        return True
    return any(s in text or json.dumps(s, ensure_ascii=False)[1:-1] in text for s in _by_length)


def redact_optional(text: str | None) -> str | None:
    return None if text is None else redact(text)
