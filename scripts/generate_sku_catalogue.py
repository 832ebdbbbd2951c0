"""Generate assessor/knowledge/skus.json from Microsoft's licensing CSV.

Usage: python scripts/generate_sku_catalogue.py [CSV] [OUT]

The CSV is Microsoft's "Product names and service plan identifiers for licensing" table
(default: ../shared/reference/licensing-service-plan-reference.csv). The generated file is
committed so the product never needs the CSV at run time. Rows Microsoft's CSV lacks (the
10-year retention add-on) are added from assessor/knowledge/audit.yaml's `extra_skus`.
"""

from __future__ import annotations

import csv
import json
import sys
from datetime import date
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CSV = ROOT.parent / "shared" / "reference" / "licensing-service-plan-reference.csv"
DEFAULT_OUT = ROOT / "assessor" / "knowledge" / "skus.json"


def build(csv_path: Path) -> dict[str, object]:
    skus: dict[str, dict[str, object]] = {}
    with csv_path.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            sku_id = row["GUID"].strip().lower()
            entry = skus.setdefault(
                sku_id,
                {
                    "sku_id": sku_id,
                    "sku_part_number": row["String_Id"].strip(),
                    "display_name": row["Product_Display_Name"].strip(),
                    "service_plans": [],
                },
            )
            plan = {"id": row["Service_Plan_Id"].strip().lower(), "name": row["Service_Plan_Name"].strip()}
            if plan not in entry["service_plans"]:  # type: ignore[operator]
                entry["service_plans"].append(plan)  # type: ignore[union-attr]
    knowledge = yaml.safe_load((ROOT / "assessor" / "knowledge" / "audit.yaml").read_text(encoding="utf-8"))
    for extra in knowledge.get("extra_skus", []):
        skus.setdefault(
            extra["sku_id"],
            {
                "sku_id": extra["sku_id"],
                "sku_part_number": extra["sku_part_number"],
                "display_name": extra["display_name"],
                "service_plans": extra["service_plans"],
            },
        )
    return {
        "source": "Microsoft Learn: Product names and service plan identifiers for licensing (CSV)",
        "source_file": csv_path.name,
        "generated": date.today().isoformat(),
        "skus": sorted(skus.values(), key=lambda s: str(s["sku_part_number"])),
    }


def main(argv: list[str]) -> int:
    csv_path = Path(argv[1]) if len(argv) > 1 else DEFAULT_CSV
    out = Path(argv[2]) if len(argv) > 2 else DEFAULT_OUT
    doc = build(csv_path)
    out.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out} with {len(doc['skus'])} SKUs")  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
