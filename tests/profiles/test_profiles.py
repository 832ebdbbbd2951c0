"""Profiles: built-ins load and differ as documented; bad profiles are ProfileErrors naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from assessor.errors import ProfileError
from assessor.profiles import builtin_profile_ids, load_profile
from tests.helpers.support import EXAMPLES


def test_builtins() -> None:
    ids = builtin_profile_ids()
    for expected in (
        "baseline",
        "cisa-scuba",
        "cisa-aa23-193a",
        "omb-m-21-31",
        "omb-m-21-31-el2",
        "omb-m-21-31-el3",
        "cis-m365",
    ):
        assert expected in ids
    for pid in ids:
        assert load_profile(pid).id == pid


def test_scuba_retention_and_controls() -> None:
    p = load_profile("cisa-scuba")
    assert (p.retention.searchable_days, p.retention.retrievable_days) == (90, 365)
    assert p.checks["AUD-01"].controls == ["MS.SECURITYSUITE.5.1v1"]
    assert p.premium_scope == "none"


def test_omb_levels_extend() -> None:
    el1, el2, el3 = (load_profile(x) for x in ("omb-m-21-31", "omb-m-21-31-el2", "omb-m-21-31-el3"))
    assert el1.retention.retrievable_days == el3.retention.retrievable_days == 913
    assert (el1.premium_scope, el2.premium_scope) == ("privileged", "all")
    assert "LIC-02" in el2.checks and "LIC-02" not in el1.checks
    assert el3.missing_event_status == "fail" and el3.probe_days == 7
    assert el3.search_events_required


def test_user_profile_file(tmp_path: Path) -> None:
    p = tmp_path / "mine.yaml"
    p.write_text(
        yaml.safe_dump(
            {
                "extends": "baseline",
                "id": "mine",
                "name": "Mine",
                "retention": {"searchable_days": 365, "retrievable_days": 730},
                "checks": {"RET-03": {"severity": "low"}, "RET-04": None},
            }
        )
    )
    prof = load_profile(str(p))
    assert prof.retention.searchable_days == 365 and "RET-03" in prof.checks and "RET-04" not in prof.checks


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("id: x\n", "name: Field required"),
        ("[1, 2]", "must be a YAML mapping"),
        ("a: [", "not valid YAML"),
        ("extends: nope\n", "unknown profile 'nope'"),
    ],
)
def test_bad_profiles(tmp_path: Path, content: str, message: str) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text(content)
    with pytest.raises(ProfileError, match=message):
        load_profile(str(p))


def test_bad_field_values(tmp_path: Path) -> None:
    for change, field in [
        ({"required_events": ["Nope"]}, "required_events"),
        ({"checks": {"XYZ-01": {"severity": "high"}}}, "checks"),
        ({"retention": {"searchable_days": 400, "retrievable_days": 100}}, "retention"),
        ({"premium_scope": "some"}, "premium_scope"),
    ]:
        p = tmp_path / "bad.yaml"
        p.write_text(yaml.safe_dump({"extends": "baseline", **change}))
        with pytest.raises(ProfileError, match=f"bad.yaml: {field}"):
            load_profile(str(p))


def test_unknown_builtin() -> None:
    with pytest.raises(ProfileError, match="unknown profile"):
        load_profile("nist-800-53")


@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=300))
def test_arbitrary_text_is_profile_error(text: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    p = tmp_path_factory.mktemp("p") / "fuzz.yaml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(ProfileError):
        load_profile(str(p))


def test_extends_merges_nested_mappings(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "extends: cisa-scuba\nid: mine\nretention: {searchable_days: 365}\n"
        "checks: {EXP-01: null, AUD-01: {severity: low}}\n"
    )
    p = load_profile(str(path))
    assert (p.retention.searchable_days, p.retention.retrievable_days) == (365, 365)  # retrievable from the parent
    assert "EXP-01" not in p.checks and p.checks["AUD-01"].severity == "low"
    assert p.checks["AUD-02"].controls == ["MS.EXO.13.1v1"]  # untouched checks come from the parent


def test_extends_a_profile_file_relative_to_the_child(tmp_path: Path) -> None:
    (tmp_path / "team").mkdir()
    (tmp_path / "base.yaml").write_text("extends: baseline\nid: base\nretention: {searchable_days: 170}\n")
    child = tmp_path / "team" / "child.yaml"
    child.write_text("extends: ../base.yaml\nid: child\npremium_scope: all\n")
    p = load_profile(str(child))
    assert (p.id, p.premium_scope, p.retention.searchable_days) == ("child", "all", 170)
    loop = tmp_path / "loop.yaml"
    loop.write_text("extends: loop.yaml\nid: loop\n")
    with pytest.raises(ProfileError, match="not loop"):
        load_profile(str(loop))
    missing = tmp_path / "orphan.yaml"
    missing.write_text("extends: nowhere.yaml\nid: orphan\n")
    with pytest.raises(ProfileError, match=r"nowhere\.yaml: cannot read profile"):
        load_profile(str(missing))


def test_the_custom_profile_example_loads() -> None:
    p = load_profile(str(EXAMPLES / "custom-profile.yaml"))
    assert p.id == "contoso-internal" and p.retention.retrievable_days == 365 and "EXP-01" not in p.checks
