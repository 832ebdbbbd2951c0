"""The Python parts of the HTML report (value, badge, plural, the findings' rows and cards) escape every value they are given and
render exactly what the Jinja macros they replaced rendered."""

from __future__ import annotations

from datetime import date

from markupsafe import Markup

from assessor.catalogue import load_catalogue
from assessor.engine.model import AssumptionRef, CollectionEntry, Finding, Status
from assessor.report.templating import (
    assumption_row_html,
    assumption_rows_html,
    badge_html,
    collection_row_html,
    collection_rows_html,
    finding_detail_html,
    finding_details_html,
    finding_row_html,
    finding_rows_html,
    plural_html,
    value_html,
)
from assessor.report.view import Row
from assessor.vocabulary import Severity

HOSTILE = '<script>alert("x")</script>&'
ESCAPED = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&amp;"


def test_values_of_every_shape() -> None:
    assert value_html(None) == '<span class="null">unknown (null)</span>'
    assert value_html(True) == '<span class="mono">true</span>'
    assert value_html(False) == '<span class="mono">false</span>'
    assert value_html(1234) == '<span class="mono">1,234</span>'
    assert value_html(2.25) == '<span class="mono">2.2</span>'
    assert value_html({}) == '<span class="null">none</span>'
    assert value_html([]) == '<span class="null">none</span>'
    assert value_html({"a": [1, None]}) == (
        '<dl class="kv"><dt>a</dt><dd><ul class="vals"><li><span class="mono">1</span></li>'
        '<li><span class="null">unknown (null)</span></li></ul></dd></dl>'
    )


def test_tenant_text_is_escaped_at_every_depth() -> None:
    assert value_html(HOSTILE) == ESCAPED
    assert (
        value_html({HOSTILE: [HOSTILE]})
        == f'<dl class="kv"><dt>{ESCAPED}</dt><dd><ul class="vals"><li>{ESCAPED}</li></ul></dd></dl>'
    )
    assert badge_html(HOSTILE, HOSTILE, HOSTILE) == f'<span class="badge st-{ESCAPED}">{ESCAPED} {ESCAPED}</span>'
    assert plural_html(1, HOSTILE, "many") == f"1 {ESCAPED}"
    assert plural_html(2, "one", HOSTILE) == f"2 {ESCAPED}"
    assert plural_html(None, "user", "users") == "unknown users"


def _hostile_row(meta: bool) -> Row:
    finding = Finding(
        check_id=HOSTILE,
        title=HOSTILE,
        area=HOSTILE,
        status=Status.FAIL,
        severity=Severity.HIGH,
        message=HOSTILE,
        evidence={HOSTILE: [HOSTILE, {"k": HOSTILE}]},
        remediation=HOSTILE,
        references=[HOSTILE, f"https://example.com/{HOSTILE}"],
        controls=[HOSTILE],
        rationale=HOSTILE,
        permissions=[HOSTILE],
        fix=HOSTILE,
        assumptions=[HOSTILE],
    )
    return Row(finding=finding, meta=load_catalogue()[0] if meta else None)


def test_finding_parts_escape_every_value() -> None:
    for meta in (True, False):
        row = _hostile_row(meta)
        for html in (finding_row_html(row), finding_detail_html(row, None)):
            assert "<script>" not in html
            assert ESCAPED in html
        detail = finding_detail_html(row, None)
        assert f'<a href="https://example.com/{ESCAPED}" rel="noreferrer noopener">' in detail
        assert f'<a href="#assumption-{ESCAPED}" class="mono">{ESCAPED}</a>' in detail
        # every value once, the check id and the title twice, the link and assumption texts twice
        assert detail.count(ESCAPED) == 18
        assert finding_row_html(row).count(ESCAPED) == 7


def test_memoised_escaping_never_takes_markup_for_text() -> None:
    # Markup("<b>") == "<b>" as strings: the memo must not hand one's HTML to the other
    for first, second in ((Markup("<b>x</b>"), "<b>x</b>"), ("<b>x</b>", Markup("<b>x</b>"))):
        results = {type(v): value_html(v) for v in (first, second)}
        assert results[str] == "&lt;b&gt;x&lt;/b&gt;"
        assert results[Markup] == "<b>x</b>"


def test_assumption_and_collection_rows_escape_every_value() -> None:
    assumption = AssumptionRef(
        id=HOSTILE,
        statement=HOSTILE,
        source=HOSTILE,
        holds_from=date(2024, 1, 1),
        confidence="primary",
        checks=[HOSTILE],
    )
    html = assumption_row_html(assumption)
    assert "<script>" not in html and html.count(ESCAPED) == 5
    entry = CollectionEntry(section=HOSTILE, status=HOSTILE, source=HOSTILE, reason=HOSTILE, fix=HOSTILE, file=HOSTILE)
    html = collection_row_html(entry)
    assert "<script>" not in html and html.count(ESCAPED) == 6
    assert '<span class="badge st-unknown">✗ ' in html
    bare = collection_row_html(CollectionEntry(section="users", status="collected"))
    assert '<span class="badge st-pass">✓ collected</span>' in bare
    assert bare.count("—") == 2  # no source, no reason or fix


def test_tables_are_their_rows_in_order() -> None:
    rows = [_hostile_row(True), _hostile_row(False)]
    assert finding_rows_html(rows) == "".join(finding_row_html(r) for r in rows)
    assert finding_details_html(rows, None) == "".join(finding_detail_html(r, None) for r in rows)
    assert finding_rows_html([]) == "" and collection_rows_html([]) == "" and assumption_rows_html([]) == ""
    entries = [CollectionEntry(section=HOSTILE, status="collected"), CollectionEntry(section="b", status="x")]
    assert collection_rows_html(entries) == "".join(collection_row_html(e) for e in entries)


def test_a_severity_outside_the_vocabulary_is_escaped() -> None:
    finding = _hostile_row(False).finding.model_copy(update={"severity": HOSTILE})  # no validation
    html = finding_row_html(Row(finding=finding, meta=None))
    assert f'<span class="sev sev-{ESCAPED}">{ESCAPED}</span>' in html
