"""A user-supplied price list (``--prices FILE``): licence prices are never invented by the tool.

Format (YAML or JSON), prices per seat per month::

    currency: EUR                 # default currency for entries that do not name one
    as_of: "2026-11"              # optional: when the prices were quoted
    source: "Reseller quote 4711" # optional: where they come from
    skus:                         # SKU part number -> price per seat per month
      SPE_E5: 54.75
      INFORMATION_PROTECTION_COMPLIANCE: {per_seat_month: 10.30, currency: EUR}

The loaded form is a plain dict ``{"currency", "as_of", "source", "skus": {part: {"per_seat_month":
Decimal, "currency": str}}}`` carried in :class:`RenderOptions.prices`.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TypedDict

import yaml

from assessor.errors import UsageError
from assessor.yamlsafe import safe_load_bounded

CURRENCY = re.compile(r"^[A-Z]{3}$")
PART_NUMBER = re.compile(r"^[A-Za-z0-9_.\-]{2,80}$")


class SkuPrice(TypedDict):
    per_seat_month: Decimal
    currency: str


class PriceList(TypedDict):
    """A validated ``--prices`` file, as carried in :class:`RenderOptions.prices`."""

    currency: str | None
    as_of: str | None
    source: str | None
    skus: dict[str, SkuPrice]


def _price(value: object, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise UsageError(f"--prices: {where}: price must be a number")
    try:
        price = Decimal(str(value))
    except InvalidOperation:
        raise UsageError(f"--prices: {where}: {value!r} is not a number") from None
    if not price.is_finite() or price < 0:
        raise UsageError(f"--prices: {where}: price must be a non-negative number")
    return price


def _currency(value: object, where: str) -> str:
    if not isinstance(value, str) or not CURRENCY.match(value):
        raise UsageError(f"--prices: {where}: currency must be a three-letter ISO 4217 code like EUR or USD")
    return value


def parse_prices(doc: object) -> PriceList:
    """Validate a price-list document; raise UsageError with one line saying what to fix."""
    if not isinstance(doc, dict) or not isinstance(doc.get("skus"), dict) or not doc["skus"]:
        raise UsageError("--prices: expected a mapping with 'skus: {SKU_PART_NUMBER: price per seat per month}'")
    unknown = sorted(set(doc) - {"currency", "as_of", "source", "skus"})
    if unknown:
        raise UsageError(f"--prices: unknown key(s) {', '.join(unknown)} (allowed: currency, as_of, source, skus)")
    default = _currency(doc["currency"], "currency") if "currency" in doc else None
    skus: dict[str, SkuPrice] = {}
    for part, entry in doc["skus"].items():
        if not isinstance(part, str) or not PART_NUMBER.match(part):
            raise UsageError(f"--prices: {part!r} is not a SKU part number")
        if isinstance(entry, dict):
            extra = sorted(set(entry) - {"per_seat_month", "currency"})
            if extra or "per_seat_month" not in entry:
                raise UsageError(f"--prices: {part}: give per_seat_month (and optionally currency)")
            price = _price(entry["per_seat_month"], part)
            currency = _currency(entry["currency"], part) if "currency" in entry else default
        else:
            price, currency = _price(entry, part), default
        if currency is None:
            raise UsageError(f"--prices: {part}: no currency (set a top-level 'currency' or one per SKU)")
        skus[part] = {"per_seat_month": price, "currency": currency}
    return {
        "currency": default,
        "as_of": _text(doc.get("as_of")),
        "source": _text(doc.get("source")),
        "skus": skus,
    }


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def load_prices(path: Path) -> PriceList:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise UsageError(f"--prices: cannot read {path}: {err.strerror or err}") from None
    try:
        doc = json.loads(text) if path.suffix.lower() == ".json" else safe_load_bounded(text)
    except (ValueError, yaml.YAMLError) as err:
        raise UsageError(
            f"--prices: {path} is not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {str(err).splitlines()[0]}"
        ) from None
    return parse_prices(doc)


def format_money(amount: Decimal | None, currency: str | None) -> str:
    if amount is None:
        return "—"
    return f"{amount:,.2f} {currency or ''}".strip()
