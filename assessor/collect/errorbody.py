"""Error bodies of the Microsoft admin and management APIs, summarised safely (shared by the Exchange
admin API client and the ARM client, which answer errors in the same OData shape).

Bodies are summarised, never echoed raw: a body that is not JSON (the NUL-filled 403 the Exchange
service sends for a cmdlet the app may not run) becomes "non-JSON body, N bytes"; no control
character reaches an error message. The message is taken from ``error.details[0].message``, else
``error.innererror.internalexception.message``, else ``error.message``.
"""

from __future__ import annotations

import json
import re

from assessor.jsontypes import WireObject

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
MAX_ERROR_TEXT = 300


def printable(text: str, limit: int = MAX_ERROR_TEXT) -> str:
    """``text`` without control characters (each run becomes one space), stripped and capped."""
    return re.sub(r" {2,}", " ", _CONTROL.sub(" ", text)).strip()[:limit]


def describe_body(body: bytes | None) -> str:
    """A short description of a body that is not the JSON expected: never the bytes themselves when
    they are binary (a NUL-filled 403), at most a short printable excerpt when they are text."""
    if not body:
        return "empty body"
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return f"non-JSON body, {len(body)} bytes"
    if _CONTROL.search(text.replace("\t", "").replace("\n", "").replace("\r", "")) or not text.strip():
        return f"non-JSON body, {len(body)} bytes"
    excerpt = printable(text, 120)
    return f"non-JSON body, {len(body)} bytes: {excerpt}"


def parse_error_body(body: bytes) -> tuple[str | None, str | None]:
    """(code, message) from an Exchange (or Graph-shaped) error body. A body that is not JSON gives
    (None, "non-JSON body, N bytes…"); JSON without an ``error`` object gives (None, None)."""
    if not body or not body.strip(b" \t\r\n"):
        return None, None
    try:
        doc = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None, describe_body(body)
    return error_of(doc)


def error_of(doc: object) -> tuple[str | None, str | None]:
    """(code, message) of the ``error`` object of a decoded answer; (None, None) if it has none."""
    error = doc.get("error") if isinstance(doc, dict) else None
    if not isinstance(error, dict):
        return None, None
    code = printable(error["code"], 80) if isinstance(error.get("code"), str) else None
    message = _error_message(error)
    return code or None, (printable(message) if message else None)


def _error_message(error: WireObject) -> str | None:
    details = error.get("details")
    if isinstance(details, list) and details and isinstance(details[0], dict):
        message = details[0].get("message")
        if isinstance(message, str) and message.strip():
            return _unwrap_detail(message)
    inner = error.get("innererror") or error.get("innerError")
    if isinstance(inner, dict):
        internal = inner.get("internalexception") or inner.get("internalException")
        if isinstance(internal, dict) and isinstance(internal.get("message"), str):
            return str(internal["message"])[:MAX_ERROR_TEXT]
    message = error.get("message")
    return str(message)[:MAX_ERROR_TEXT] if isinstance(message, str) else None


def _unwrap_detail(message: str) -> str:
    """Detail messages are ``Id|Exception.Type|text`` or a JSON object with a ``Message``."""
    text = message.strip()
    if text.startswith("{"):
        try:
            inner = json.loads(text)
        except json.JSONDecodeError:
            inner = None
        if isinstance(inner, dict) and isinstance(inner.get("Message"), str):
            text = inner["Message"]
    elif text.count("|") >= 2:
        text = text.split("|", 2)[2]
    return text[:MAX_ERROR_TEXT]
