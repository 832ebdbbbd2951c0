"""Golden files: every format on the example evidence, byte for byte (fixed generated_at, --date)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from assessor.engine.model import Report
from assessor.report import RENDERERS, RenderOptions
from assessor.report.prices import parse_prices
from assessor.report.pseudonymize import pseudonymize_report
from tests.helpers.report import hostile_doc
from tests.helpers.support import assess_doc, fresh_python

MINE = ("html", "md", "csv", "sarif", "junit")
PRICES = parse_prices(
    {
        "currency": "EUR",
        "source": "test quote",
        "as_of": "2026-11",
        "skus": {
            "SPE_E5": 54.75,
            "ENTERPRISEPREMIUM": "35.70",
            "INFORMATION_PROTECTION_COMPLIANCE": {"per_seat_month": 10.3},
        },
    }
)
CASES = {
    # case name: (evidence, profile, pseudonymise, prices, formats)
    "mixed-aa23": ("mixed-e5-e3-priority-trap", "cisa-aa23-193a", False, None, MINE),
    "mixed-el2-prices": ("mixed-e5-e3-priority-trap", "omb-m-21-31-el2", False, PRICES, ("html", "md")),
    "gov-scuba": ("gcc-high-no-exchange", "cisa-scuba", False, None, MINE),
    "e3-scuba-pseudonymized": ("e3-standard-ingestion-off", "cisa-scuba", True, None, ("md", "csv", "sarif")),
    "northwind-aa23": ("northwind-storm-like", "cisa-aa23-193a", False, None, ("html", "md")),
}
EXT = {"html": "html", "md": "md", "csv": "csv", "sarif": "sarif.json", "junit": "junit.xml"}
KEY = b"golden-test-key"


def _params() -> list[tuple[str, str]]:
    return [(case, fmt) for case, spec in CASES.items() for fmt in spec[4]]


@pytest.mark.parametrize(("case", "fmt"), _params())
def test_golden(
    case: str, fmt: str, report_for: Callable[[str, str], Report], golden: Callable[[str, str], None]
) -> None:
    evidence, profile, pseudo, prices, _ = CASES[case]
    report = report_for(evidence, profile)
    if pseudo:
        report = pseudonymize_report(report, KEY)
    options = RenderOptions(pseudonymize_key=KEY if pseudo else None, prices=prices)
    text = RENDERERS[fmt]().render(report, options)
    golden(f"{case}.{EXT[fmt]}", text)


# A report rendered in two fresh interpreters with different hash seeds (so set and dict orders
# that depend on hashing differ between them) must be byte for byte the one rendered here: a check
# within one process could not see such an order.
_RENDER_ALL = """
import json, sys
from tests.helpers.support import assess_doc, example
from assessor.report import RENDERERS, RenderOptions
report = assess_doc(example("mixed-e5-e3-priority-trap"), "cisa-aa23-193a")
report = report.model_copy(update={"tool_version": "0.0.0-golden"})
print(json.dumps({fmt: RENDERERS[fmt]().render(report, RenderOptions()) for fmt in sys.argv[1:]}))
"""


def test_rendering_is_deterministic_across_processes(report_for: Callable[[str, str], Report]) -> None:
    formats = (*MINE, "json")
    report = report_for("mixed-e5-e3-priority-trap", "cisa-aa23-193a")
    here = {fmt: RENDERERS[fmt]().render(report, RenderOptions()) for fmt in formats}
    for seed in ("1", "4242"):
        there = json.loads(fresh_python(_RENDER_ALL, *formats, hash_seed=seed))
        for fmt in formats:
            assert there[fmt] == here[fmt], f"{fmt} differs with PYTHONHASHSEED={seed}"


@pytest.mark.parametrize("case", [case for case, spec in CASES.items() if "html" in spec[4]])
def test_report_json_is_the_documents_json_dumps(
    case: str, report_for: Callable[[str, str], Report], hostile_report: Report
) -> None:
    """report.json is written in one pass by pydantic-core: byte for byte what the json module writes
    for the report's JSON document (two spaces, non-ASCII kept)."""
    evidence, profile, *_ = CASES[case]
    for report in (report_for(evidence, profile), hostile_report):
        expected = json.dumps(report.to_json_dict(), indent=2, ensure_ascii=False) + "\n"
        assert RENDERERS["json"]().render(report, RenderOptions()) == expected


@pytest.fixture(scope="module")
def hostile_report() -> Report:
    return assess_doc(hostile_doc(), "cisa-aa23-193a")
