"""Refresh the bundled list of Microsoft first-party applications (assessor/knowledge/microsoft_apps.json).

Source: merill/microsoft-info (MIT licence, (c) 2023 Merill Fernando), ``_info/MicrosoftApps.csv``,
rebuilt daily from Microsoft Graph (service principals owned by Microsoft's tenants), the Entra
docs' known GUIDs, Microsoft Learn's "Verify first-party Microsoft applications in sign-in
reports" and community additions. The assessor uses it to name the AppIds behind
MailItemsAccessed records that the tenant has no service principal for.

    python scripts/refresh_microsoft_apps.py                      # download the current list
    python scripts/refresh_microsoft_apps.py --csv MicrosoftApps.csv --commit SHA --date YYYY-MM-DD
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
from datetime import date
from pathlib import Path

REPOSITORY = "https://github.com/merill/microsoft-info"
RAW_URL = "https://raw.githubusercontent.com/merill/microsoft-info/main/_info/MicrosoftApps.csv"
TARGET = Path(__file__).resolve().parent.parent / "assessor" / "knowledge" / "microsoft_apps.json"
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def parse(text: str) -> dict[str, str]:
    """AppId → display name; rows without a GUID AppId are skipped; the first name wins."""
    apps: dict[str, str] = {}
    for row in csv.DictReader(io.StringIO(text)):
        app_id = (row.get("AppId") or "").strip().lower()
        name = (row.get("AppDisplayName") or "").strip()
        if GUID.match(app_id) and name and app_id not in apps:
            apps[app_id] = name
    return dict(sorted(apps.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--csv", type=Path, help="a local copy of MicrosoftApps.csv instead of downloading it")
    parser.add_argument("--commit", help="the upstream commit the CSV comes from (recorded as provenance)")
    parser.add_argument("--date", default=date.today().isoformat(), help="the upstream date of the CSV")
    args = parser.parse_args()
    if args.csv is not None:
        text = args.csv.read_text(encoding="utf-8")
    else:
        import httpx

        response = httpx.get(RAW_URL, timeout=60.0, follow_redirects=True)
        response.raise_for_status()
        text = response.text
    apps = parse(text)
    if len(apps) < 1000:
        raise SystemExit(f"only {len(apps)} applications parsed: refusing to replace the bundled list")
    document = {
        "source": f"{REPOSITORY} (_info/MicrosoftApps.csv)",
        "licence": "MIT, (c) 2023 Merill Fernando (see microsoft_apps.LICENSE)",
        "commit": args.commit,
        "as_of": args.date,
        "note": "Microsoft first-party application ids and names, from Microsoft Graph, the Entra docs' "
        "known GUIDs, Microsoft Learn and community additions (upstream README)",
        "apps": apps,
    }
    TARGET.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{len(apps)} applications written to {TARGET}")


if __name__ == "__main__":
    main()
