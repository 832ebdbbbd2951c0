"""The event matrix shows coverage, and the MailItemsAccessed AppId baseline is a table (HTML and Markdown)."""

from __future__ import annotations

from typing import Any

from assessor.report import RENDERERS, RenderOptions
from tests.helpers.support import assess_doc, example

APPS = [
    ("00000002-0000-0ff1-ce00-000000000000", 450),
    ("d3590ed6-52b3-4102-aeff-aad2292ab01c", 350),
    ("27922004-5251-4030-b22d-91ecd9a37ea4", 200),
]


def probed(in_scope_users: int | None) -> dict[str, Any]:
    doc = example("e3-standard-ingestion-off")
    doc["exchange"]["admin_audit_log_config"]["data"]["unified_audit_log_ingestion_enabled"] = True
    mia: dict[str, Any] = {
        "records": 1000,
        "distinct_users": 200,
        "distinct_app_ids": 3,
        "first_seen": "2026-11-18T08:00:00Z",
        "last_seen": "2026-11-24T18:00:00Z",
        "top_app_ids": [{"app_id": a, "count": n} for a, n in APPS],
    }
    if in_scope_users is not None:
        mia["in_scope_users"] = in_scope_users
    doc["audit_probe"] = {
        "provenance": {"status": "collected", "source": "probe"},
        "data": {
            "window_start": "2026-11-18T00:00:00Z",
            "window_end": "2026-11-25T00:00:00Z",
            "total_records": 1000,
            "queries": [{"id": "q1", "status": "succeeded", "operations": ["MailItemsAccessed"]}],
            "operations": {"MailItemsAccessed": mia},
        },
    }
    return doc


def render(fmt: str, doc: dict[str, Any]) -> str:
    return RENDERERS[fmt]().render(assess_doc(doc, "baseline"), RenderOptions())


def test_exact_coverage_and_app_id_baseline_in_html_and_markdown() -> None:
    doc = probed(in_scope_users=177)  # 236 in-scope users
    html, markdown = render("html", doc), render("md", doc)
    for text in (html, markdown):
        assert "75.0 %" in text  # 177 / 236
        assert "Client AppId baseline" in text
        for app, _count in APPS:
            assert app in text
        assert "45.0 %" in text and "35.0 %" in text and "20.0 %" in text
    assert "≤ 75.0 %" not in html


def test_coverage_from_counts_is_marked_as_an_upper_bound() -> None:
    doc = probed(in_scope_users=None)
    html, markdown = render("html", doc), render("md", doc)
    assert "≤ 84.7 %" in html and "≤ 84.7 %" in markdown  # 200 accounts / 236 users, at most


def test_summary_names_different_problems() -> None:
    """EVT-01 failing because of AUD-04's mailboxes, or EVT/RET failing because ingestion is off
    (AUD-01), do not take the summary's places from other problems."""
    from assessor.report.view import build_view

    view = build_view(assess_doc(example("mixed-e5-e3-priority-trap"), "cisa-aa23-193a"))
    top = [r.finding.check_id for r in view.top_gaps()]
    assert "AUD-04" in top and "EVT-01" not in top and len(top) == 3
    e3 = build_view(assess_doc(example("e3-standard-ingestion-off"), "cisa-scuba"))
    top = [r.finding.check_id for r in e3.top_gaps()]
    assert "AUD-01" in top and not {"EVT-01", "EVT-02", "RET-01", "RET-02"} & set(top), top


def test_a_retention_priority_trap_is_a_free_fix() -> None:
    from assessor.report.view import build_view

    view = build_view(assess_doc(example("mixed-e5-e3-priority-trap"), "cisa-aa23-193a"))
    ret = next(r for r in view.rows if r.finding.check_id == "RET-01")
    assert ret.finding.status.value == "fail" and ret.finding.evidence["settings_fix"] is True
    assert "RET-01" in [r.finding.check_id for r in view.settings_fixes]
    # Standard users short of a year need licences, not policy edits: not a free fix
    year = build_view(assess_doc(example("e3-standard-ingestion-off"), "omb-m-21-31"))
    assert "RET-01" not in [r.finding.check_id for r in year.settings_fixes]
