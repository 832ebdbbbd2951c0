"""The Python parts of the HTML report (value, badge, plural) escape every value they are given and
render exactly what the Jinja macros they replaced rendered."""

from __future__ import annotations

from assessor.report.templating import badge_html, plural_html, value_html

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
