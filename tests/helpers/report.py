"""Helpers of the report tests: hostile evidence whose strings try script and formula injection."""

from __future__ import annotations

from typing import Any

from tests.helpers.support import example

SCRIPT = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("http://x","y")'


def hostile_doc() -> dict[str, Any]:
    """The mixed example with a tenant name and UPNs carrying a script tag and a spreadsheet formula."""
    doc = example("mixed-e5-e3-priority-trap")
    doc["tenant"]["name"] = f"{SCRIPT} {FORMULA}"
    holders = doc["privileged"]["data"]["holders"]
    holders[0]["user"]["user_principal_name"] = f"{SCRIPT}@contoso.example"
    holders[0]["user"]["display_name"] = FORMULA
    holders[1]["user"]["user_principal_name"] = f"{FORMULA}@contoso.example"
    return doc
