"""Units of measure for amounts, counts and rates, with exact Decimal arithmetic.

Money is stored in 元 (the base unit) so that arithmetic across 元 and 万元 is exact; a unit
string such as ``万元/人/年`` carries a scale (10000) and a dimension vector (元¹·人⁻¹·年⁻¹).
Rules are checked for dimensional consistency when they are loaded, so a rate per month
can never be silently compared with a yearly amount.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from decimal import Context, Decimal, getcontext, localcontext

#: Money units and their value in 元.
MONEY_SCALES: dict[str, Decimal] = {
    "元": Decimal(1),
    "千元": Decimal(1000),
    "万元": Decimal(10000),
    "亿元": Decimal(100000000),
}

#: Counters that name the same dimension. 名/位 count people exactly like 人; 次 and 项 stay
#: distinct because "3次" and "3人" are different things.
COUNTER_SYNONYMS: dict[str, str] = {"名": "人", "位": "人", "户": "户"}

#: Dimensions a unit string may use besides money. Anything else is a unit error, so that a
#: typo such as ``元/人/越`` is reported when the rule is loaded rather than ignored.
KNOWN_DIMENSIONS = frozenset(
    [
        "人",
        "个",
        "村",
        "支",
        "家",
        "所",
        "项",
        "次",
        "户",
        "套",
        "台",
        "件",
        "场",
        "期",
        "批",
        "处",
        "座",
        "年",
        "月",
        "日",
        "天",
        "季度",
        "社区",
        "街道",
        "组织",
        "党支部",
        "%",
    ]
)


class UnitError(ValueError):
    """A unit string that cannot be understood, or units that do not combine."""


@dataclass(frozen=True, order=True)
class Unit:
    """A dimension vector: exponents of money (元) and of each counted dimension.

    ``Unit()`` is dimensionless. Units compare by dimension only; scale lives in the value.
    """

    money: int = 0
    dims: tuple[tuple[str, int], ...] = ()

    @staticmethod
    def _make(money: int, dims: dict[str, int]) -> Unit:
        return Unit(money, tuple(sorted((d, e) for d, e in dims.items() if e)))

    def __mul__(self, other: Unit) -> Unit:
        dims = dict(self.dims)
        for d, e in other.dims:
            dims[d] = dims.get(d, 0) + e
        return Unit._make(self.money + other.money, dims)

    def __truediv__(self, other: Unit) -> Unit:
        return self * Unit(-other.money, tuple((d, -e) for d, e in other.dims))

    @property
    def is_money(self) -> bool:
        return self.money == 1 and not self.dims

    def __str__(self) -> str:
        num = (["元"] if self.money > 0 else []) + [d for d, e in self.dims if e > 0 for _ in range(e)]
        den = (["元"] if self.money < 0 else []) + [d for d, e in self.dims if e < 0 for _ in range(-e)]
        text = "·".join(num) or ("1" if den else "无量纲")
        return text + "".join("/" + d for d in den)


DIMENSIONLESS = Unit()
MONEY = Unit(1)


_UNIT_PART = re.compile(r"\s*([^/\s]+)\s*")


def parse_unit(text: str) -> tuple[Decimal, Unit]:
    """Parse ``万元/人/月``-style unit text into (scale to base units, Unit).

    The first part may be a money unit (元, 万元 …) or a counter; every later part is a
    denominator. Raises :class:`UnitError` with a Chinese message for anything else.
    """
    if text.strip() in ("倍", "1"):
        return Decimal(1), DIMENSIONLESS
    parts = text.replace("／", "/").split("/")
    if not parts or any(not p.strip() for p in parts):
        raise UnitError(f"无法识别的单位“{text}”")
    scale = Decimal(1)
    unit = DIMENSIONLESS
    for index, raw in enumerate(parts):
        part = raw.strip()
        if part in MONEY_SCALES:
            factor, piece = MONEY_SCALES[part], MONEY
        else:
            name = COUNTER_SYNONYMS.get(part, part)
            if name not in KNOWN_DIMENSIONS:
                raise UnitError(f"无法识别的单位“{part}”（在“{text}”中）")
            factor, piece = Decimal(1), Unit(0, ((name, 1),))
        if index == 0:
            scale, unit = factor, piece
        else:
            scale, unit = scale / factor, unit / piece
    return scale, unit


@dataclass(frozen=True)
class Quantity:
    """An exact value in base units (元 for money) with its dimension and the unit it was written in."""

    value: Decimal
    unit: Unit
    written_unit: str = ""

    @classmethod
    def of(cls, number: Decimal | int | str, unit_text: str) -> Quantity:
        scale, unit = parse_unit(unit_text)
        return cls(Decimal(number) * scale, unit, unit_text)

    def __str__(self) -> str:
        return format_quantity(self.value, self.unit, self.written_unit)


@functools.lru_cache(maxsize=256)
def _scale(unit_text: str) -> Decimal:
    # Findings show each amount in one of a handful of units: parsing the unit text again for
    # every amount cost more than the division.
    return parse_unit(unit_text)[0]


def to_unit(value: Decimal, unit_text: str) -> Decimal:
    """Express a base-unit value in ``unit_text`` (e.g. 元 → 万元)."""
    return value / _scale(unit_text)


def _room(value: Decimal) -> int:
    """A precision that holds every digit of ``value`` and two more decimals: quantize under
    the default 28 digits raises InvalidOperation for a large amount, and a report must be
    able to show whatever a rule computed."""
    return max(28, value.adjusted() + 4, len(value.as_tuple().digits) + 4)


def _has_room(value: Decimal, ctx: Context) -> bool:
    """Whether ``ctx`` already has :func:`_room` for ``value``. Entering a local context cost
    more than the formatting it guards, and a larger precision gives the same digits here
    (nothing is rounded to precision once every digit fits). ``str`` holds every digit of the
    coefficient, so its length bounds their count without taking the number apart."""
    prec = ctx.prec
    return prec >= 28 and value.adjusted() + 4 <= prec and len(str(value)) + 4 <= prec


_ONE = Decimal(1)
_CENT = Decimal("0.01")


def format_decimal(value: Decimal) -> str:
    """Plain notation without exponent and without trailing zeros (``Decimal('1E+1')`` → ``10``)."""
    if not value.is_finite():
        return str(value)
    if _has_room(value, getcontext()):
        if value == value.to_integral_value():
            return str(value.quantize(_ONE))
        return format(value.normalize(), "f")
    with localcontext() as ctx:
        ctx.prec = _room(value)
        if value == value.to_integral_value():
            return str(value.quantize(_ONE))
        return format(value.normalize(), "f")


def format_money(value_yuan: Decimal, unit_text: str = "万元") -> str:
    """Money in the filing's unit: two decimals when exact at two places, else every digit.

    Never rounds silently: 0.355 万元 is shown as ``0.355万元``, not ``0.36万元``.
    """
    amount = to_unit(value_yuan, unit_text)
    if not amount.is_finite():
        return f"{amount}{unit_text}"
    if _has_room(amount, getcontext()):
        cents = amount.quantize(_CENT)
    else:
        with localcontext() as ctx:
            ctx.prec = _room(amount)
            cents = amount.quantize(_CENT)
    shown = f"{cents:.2f}" if cents == amount else format_decimal(amount)
    return f"{shown}{unit_text}"


def format_quantity(value: Decimal, unit: Unit, written_unit: str = "") -> str:
    if written_unit:
        try:
            scale, parsed = parse_unit(written_unit)
        except UnitError:
            scale, parsed = Decimal(1), None
        if parsed == unit:
            return f"{format_decimal(value / scale)}{written_unit}"
    if unit.is_money:
        return format_money(value)
    return f"{format_decimal(value)}{'' if unit == DIMENSIONLESS else unit}"
