"""--prices FILE: a user-supplied price list; without it no price is ever shown."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from assessor.cli import cli
from assessor.engine.model import Report
from assessor.errors import UsageError
from assessor.report import RENDERERS, RenderOptions
from assessor.report.prices import load_prices, parse_prices
from assessor.report.view import build_view

ROOT = Path(__file__).resolve().parents[2]


def test_parse_prices_accepts_plain_and_detailed_entries() -> None:
    prices = parse_prices(
        {
            "currency": "EUR",
            "skus": {
                "SPE_E5": 54.75,
                "INFORMATION_PROTECTION_COMPLIANCE": {"per_seat_month": "10.30", "currency": "USD"},
            },
        }
    )
    assert prices["skus"]["SPE_E5"] == {"per_seat_month": Decimal("54.75"), "currency": "EUR"}
    assert prices["skus"]["INFORMATION_PROTECTION_COMPLIANCE"]["currency"] == "USD"


@pytest.mark.parametrize(
    "doc",
    [
        {},
        {"skus": {}},
        {"skus": {"SPE_E5": 1}},  # no currency
        {"currency": "euro", "skus": {"SPE_E5": 1}},
        {"currency": "EUR", "skus": {"SPE_E5": -1}},
        {"currency": "EUR", "skus": {"SPE_E5": "lots"}},
        {"currency": "EUR", "skus": {"SPE_E5": True}},
        {"currency": "EUR", "skus": {"SPE_E5": {"price": 3}}},
        {"currency": "EUR", "skus": {"SPE E5 <x>": 3}},
        {"currency": "EUR", "skus": {"SPE_E5": 3}, "discount": 0.1},
        ["SPE_E5", 3],
    ],
)
def test_parse_prices_rejects_bad_lists(doc: object) -> None:
    with pytest.raises(UsageError, match=r"^--prices: "):
        parse_prices(doc)


def test_load_prices_reads_yaml_and_json(tmp_path: Path) -> None:
    y = tmp_path / "p.yaml"
    y.write_text("currency: EUR\nskus:\n  SPE_E5: 54.75\n", encoding="utf-8")
    j = tmp_path / "p.json"
    j.write_text(json.dumps({"currency": "EUR", "skus": {"SPE_E5": 54.75}}), encoding="utf-8")
    assert load_prices(y) == load_prices(j)
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    with pytest.raises(UsageError, match="not valid JSON"):
        load_prices(bad)
    with pytest.raises(UsageError, match="cannot read"):
        load_prices(tmp_path / "missing.yaml")


def test_costs_are_seats_times_price(report_for: Callable[[str, str], Report]) -> None:
    report = report_for("mixed-e5-e3-priority-trap", "omb-m-21-31-el2")
    prices = parse_prices({"currency": "EUR", "skus": {"SPE_E5": "54.75"}})
    options = build_view(report, prices=prices).options
    assign = next(o for o in options if o.no_cost)
    assert (assign.monthly, assign.seats) == (Decimal(0), 8)
    e5 = next(o for o in options if o.sku_part_number == "SPE_E5")
    assert e5.seats == 400 and e5.monthly == Decimal("21900.00") and e5.annual == Decimal("262800.00")
    unpriced = next(o for o in options if o.sku_part_number == "ENTERPRISEPREMIUM")
    assert unpriced.monthly is None  # never invented


def test_no_price_list_means_no_prices(report_for: Callable[[str, str], Report]) -> None:
    report = report_for("mixed-e5-e3-priority-trap", "omb-m-21-31-el2")
    for fmt in ("html", "md"):
        text = RENDERERS[fmt]().render(report, RenderOptions())
        assert "EUR" not in text and "USD" not in text
        assert "--prices FILE" in text


def test_cli_prices(tmp_path: Path) -> None:
    prices = tmp_path / "prices.yaml"
    prices.write_text("currency: EUR\nskus:\n  SPE_E5: 54.75\n", encoding="utf-8")
    base = [
        "assess",
        "--evidence",
        str(ROOT / "examples/mixed-e5-e3-priority-trap.json"),
        "--profile",
        "omb-m-21-31-el2",
        "--date",
        "2026-11-25",
        "--format",
        "md",
        "--output",
        str(tmp_path / "o"),
    ]
    result = CliRunner().invoke(cli, [*base, "--prices", str(prices)])
    assert result.exit_code == 0, result.output
    assert "21,900.00 EUR" in (tmp_path / "o" / "report.md").read_text(encoding="utf-8")
    prices.write_text("currency: EUR\nskus:\n  SPE_E5: free\n", encoding="utf-8")
    bad = CliRunner().invoke(cli, [*base, "--prices", str(prices)])
    assert isinstance(bad.exception, UsageError) and bad.exception.exit_code == 2
