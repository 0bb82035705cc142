"""Tests for the safe check-expression language: numbers with units, names, precedence,
ranges, comparator spellings, unit inference, render, exact evaluation and located errors."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hegui.engine import expr as ex
from hegui.engine.expr import (
    BinOp,
    Comparison,
    ExpressionError,
    Name,
    Neg,
    Num,
    evaluate,
    infer_unit,
    names,
    parse_check,
    render,
)
from hegui.facts.units import DIMENSIONLESS, MONEY, Unit, parse_unit


def U(text: str) -> Unit:
    """The dimension of a unit string (scale dropped)."""
    return parse_unit(text)[1]


def right(text: str):
    """The right-hand side of a single comparison ``x = …``."""
    comparisons = parse_check(text)
    assert len(comparisons) == 1
    return comparisons[0].right


def err(text: str) -> ExpressionError:
    with pytest.raises(ExpressionError) as info:
        parse_check(text)
    return info.value


# --- numbers with units --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written, value, unit",
    [
        ("12月/年", Decimal(12), Unit(0, (("年", -1), ("月", 1)))),
        ("3万元/村/年", Decimal(30000), Unit(1, (("年", -1), ("村", -1)))),
        ("2000元/人/月", Decimal(2000), Unit(1, (("人", -1), ("月", -1)))),
        ("0.5万元", Decimal(5000), MONEY),
        ("3千元", Decimal(3000), MONEY),
        ("1.5亿元", Decimal(150000000), MONEY),
        ("15万元/年", Decimal(150000), Unit(1, (("年", -1),))),
        ("100%", Decimal(100), Unit(0, (("%", 1),))),
        ("2倍", Decimal(2), DIMENSIONLESS),
        ("6名", Decimal(6), Unit(0, (("人", 1),))),  # 名 is a synonym of 人
        ("3元／人", Decimal(3), Unit(1, (("人", -1),))),  # fullwidth slash
        ("7", Decimal(7), DIMENSIONLESS),
        ("0001", Decimal(1), DIMENSIONLESS),
        ("0.000001", Decimal("0.000001"), DIMENSIONLESS),
        ("123456789012345", Decimal(123456789012345), DIMENSIONLESS),  # 15 digits: the limit
    ],
)
def test_number_with_unit_is_in_base_units(written: str, value: Decimal, unit: Unit) -> None:
    node = right(f"x = {written}")
    assert isinstance(node, Num)
    assert node.value == value
    assert isinstance(node.value, Decimal)
    assert node.unit == unit
    assert node.text == written


def test_number_keeps_exact_decimal_scale() -> None:
    node = right("x = 0.355万元")
    assert node.value == Decimal("3550")
    assert right("x = 0.1万元").value == Decimal(1000)  # never via float (0.1 × 10000 = 1000.0000000000001)


def test_unit_must_follow_the_number_directly() -> None:
    # "12 月/年" is the number 12 followed by a separate name 月: a missing operator.
    e = err("x = 12 月/年")
    assert e.column == 8
    assert e.message == "第8个字符“月”多余或缺少运算符"


def test_unknown_unit_after_number_is_an_error_with_column() -> None:
    e = err("x = 3村数")
    assert e.column == 5
    assert e.message == "无法识别的单位“村数”（在“村数”中）（第5个字符）"


# --- names -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("金额 = 标准", ["金额", "标准"]),
        ("项目金额 ≥ 驻村交通费标准 × 队员人数 × 12月/年", ["项目金额", "驻村交通费标准", "队员人数"]),
        ("a_1 = B2 + a_1", ["a_1", "B2"]),
        ("村数2023 = 村数", ["村数2023", "村数"]),  # digits may follow a name
        ("总额 = 甲 + 乙 × 甲", ["总额", "甲", "乙"]),  # first-use order, no repeats
    ],
)
def test_names_in_first_use_order(text: str, expected: list[str]) -> None:
    comparison = parse_check(text)[0]
    found = names(comparison.left)
    found += [n for n in names(comparison.right) if n not in found]
    assert found == expected


def test_chinese_name_is_one_token() -> None:
    assert parse_check("驻村工作队经费 = 标准") == [Comparison(Name("驻村工作队经费"), "=", Name("标准"))]


# --- precedence and parentheses --------------------------------------------------------------------

a, b, c, d = Name("a"), Name("b"), Name("c"), Name("d")


@pytest.mark.parametrize(
    "text, tree",
    [
        ("x = a + b × c", BinOp("+", a, BinOp("*", b, c))),
        ("x = a × b + c", BinOp("+", BinOp("*", a, b), c)),
        ("x = (a + b) × c", BinOp("*", BinOp("+", a, b), c)),
        ("x = （a + b）× c", BinOp("*", BinOp("+", a, b), c)),  # fullwidth parentheses
        ("x = a - b - c", BinOp("-", BinOp("-", a, b), c)),  # left associative
        ("x = a - (b - c)", BinOp("-", a, BinOp("-", b, c))),
        ("x = a ÷ b ÷ c", BinOp("/", BinOp("/", a, b), c)),
        ("x = a / b * c", BinOp("*", BinOp("/", a, b), c)),
        ("x = a * b / c", BinOp("/", BinOp("*", a, b), c)),
        ("x = a + b - c + d", BinOp("+", BinOp("-", BinOp("+", a, b), c), d)),
        ("x = -a × b", BinOp("*", Neg(a), b)),
        ("x = a × -b", BinOp("*", a, Neg(b))),
        ("x = -(a + b)", Neg(BinOp("+", a, b))),
        ("x = --a", Neg(Neg(a))),
        ("x = ((a))", a),
        ("x=a+b*c", BinOp("+", a, BinOp("*", b, c))),  # whitespace is insignificant
    ],
)
def test_precedence_and_parentheses(text: str, tree: ex.Node) -> None:
    assert parse_check(text) == [Comparison(Name("x"), "=", tree)]


def test_operator_spellings_are_equivalent() -> None:
    assert right("x = a × b") == right("x = a * b")
    assert right("x = a ÷ b") == right("x = a / b")


# --- comparators and ranges ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling, canonical",
    [
        ("=", "="),
        ("==", "="),
        ("＝", "="),
        ("≤", "≤"),
        ("<=", "≤"),
        ("≦", "≤"),
        ("≥", "≥"),
        (">=", "≥"),
        ("≧", "≥"),
        ("≠", "≠"),
        ("!=", "≠"),
        ("<", "<"),
        ("＜", "<"),
        (">", ">"),
        ("＞", ">"),
    ],
)
def test_comparator_spellings(spelling: str, canonical: str) -> None:
    assert parse_check(f"a {spelling} b") == [Comparison(a, canonical, b)]
    assert parse_check(f"a{spelling}b") == [Comparison(a, canonical, b)]


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "1 ≤ a ≤ 2",
            [
                Comparison(a, "≥", Num(Decimal(1), DIMENSIONLESS, "1")),
                Comparison(a, "≤", Num(Decimal(2), DIMENSIONLESS, "2")),
            ],
        ),
        ("b <= a < c", [Comparison(a, "≥", b), Comparison(a, "<", c)]),
        ("b < a <= c", [Comparison(a, ">", b), Comparison(a, "≤", c)]),
        ("c ≥ a ≥ b", [Comparison(a, "≤", c), Comparison(a, "≥", b)]),
        ("c > a >= b", [Comparison(a, "<", c), Comparison(a, "≥", b)]),
        (
            "b + 1 ≤ a × 2 ≤ c",
            [
                Comparison(
                    BinOp("*", a, Num(Decimal(2), DIMENSIONLESS, "2")),
                    "≥",
                    BinOp("+", b, Num(Decimal(1), DIMENSIONLESS, "1")),
                ),
                Comparison(BinOp("*", a, Num(Decimal(2), DIMENSIONLESS, "2")), "≤", c),
            ],
        ),
    ],
)
def test_range_is_two_comparisons_with_the_middle_on_the_left(text: str, expected: list[Comparison]) -> None:
    assert parse_check(text) == expected


# --- unit inference --------------------------------------------------------------------------------


def test_rate_times_people_times_months_per_year_is_yuan_per_year() -> None:
    units = {"标准": U("元/人/月"), "人数": U("人")}
    node = right("金额 = 标准 × 人数 × 12月/年")
    assert infer_unit(node, units) == Unit(1, (("年", -1),))
    assert str(infer_unit(node, units)) == "元/年"


def test_rate_without_months_per_year_is_yuan_per_month() -> None:
    units = {"标准": U("元/人/月"), "人数": U("人")}
    assert infer_unit(right("金额 = 标准 × 人数"), units) == U("元/月")


def test_per_village_rate_times_villages() -> None:
    units = {"村数": U("村")}
    assert infer_unit(right("金额 = 3万元/村/年 × 村数"), units) == U("元/年")


def test_division_and_negation_units() -> None:
    units = {"金额": U("元/年"), "人数": U("人")}
    assert infer_unit(right("x = 金额 ÷ 人数"), units) == U("元/人/年")
    assert infer_unit(right("x = -金额"), units) == U("元/年")
    assert infer_unit(right("x = 金额 ÷ 金额"), units) == DIMENSIONLESS


def test_adding_money_and_people_is_an_error() -> None:
    units = {"金额": MONEY, "人数": U("人")}
    with pytest.raises(ExpressionError) as info:
        infer_unit(right("x = 金额 + 人数"), units)
    assert info.value.message == "单位不一致：金额（元）与 人数（人）不能相加"


def test_subtracting_mismatched_units_is_an_error() -> None:
    units = {"年额": U("元/年"), "月额": U("元/月")}
    with pytest.raises(ExpressionError) as info:
        infer_unit(right("x = 年额 - 月额"), units)
    assert info.value.message == "单位不一致：年额（元/年）与 月额（元/月）不能相减"


def test_text_cannot_take_part_in_arithmetic() -> None:
    with pytest.raises(ExpressionError) as info:
        infer_unit(right("x = 名称 + 1"), {"名称": ex.TEXT})
    assert info.value.message == "文本不能参与算术运算"


# --- render ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, rendered",
    [
        ("x = a*b", "a × b"),
        ("x = a/b", "a ÷ b"),
        ("x = a+b", "a + b"),
        ("x = (a+b)*c", "(a + b) × c"),
        ("x = a*(b+c)", "a × (b + c)"),
        ("x = a-(b+c)", "a - (b + c)"),
        ("x = a-(b-c)", "a - (b - c)"),
        ("x = (a*b)+c", "a × b + c"),
        ("x = 标准×人数×12月/年", "标准 × 人数 × 12月/年"),
        ("x = 3万元/村/年 * 村数", "3万元/村/年 × 村数"),
        ("x = -a", "-a"),
    ],
)
def test_render(text: str, rendered: str) -> None:
    assert render(right(text)) == rendered


_VALUES = {"a": Decimal(7), "b": Decimal(3), "c": Decimal(2), "d": Decimal(5)}


@pytest.mark.parametrize(
    "text",
    [
        "x = (a + b) × c",
        "x = a - (b - c)",
        "x = a - (b + c)",
        "x = a ÷ b × c",
        "x = (a - b) ÷ (c + d)",
        "x = a ÷ (b × c)",
        "x = a ÷ (b ÷ c)",
        "x = -(a + b)",
        "x = a × -(b + c)",
    ],
)
def test_render_means_the_same_as_the_expression(text: str) -> None:
    """What a reader sees in an explanation must compute the same value as the rule."""
    node = right(text)
    again = right("x = " + render(node))
    assert evaluate(again, _VALUES) == evaluate(node, _VALUES)


# --- evaluate --------------------------------------------------------------------------------------


def test_decimal_addition_is_exact() -> None:
    total = evaluate(right("x = 0.1 + 0.2"), {})
    assert total == Decimal("0.3")
    assert str(total) == "0.3"
    assert isinstance(total, Decimal)


def test_evaluate_with_names_and_units() -> None:
    node = right("金额 = 标准 × 人数 × 12月/年 + 600 × 人数")
    value = evaluate(node, {"标准": Decimal(2000), "人数": Decimal(6)})
    assert value == Decimal(147600)


def test_evaluate_money_units_in_yuan() -> None:
    assert evaluate(right("x = 3万元/村/年 × 村数"), {"村数": Decimal(5)}) == Decimal(150000)
    assert evaluate(right("x = 0.01万元"), {}) == Decimal(100)


@pytest.mark.parametrize(
    "text, value",
    [
        ("x = 7 - 3 - 2", Decimal(2)),
        ("x = 8 ÷ 4 ÷ 2", Decimal(1)),
        ("x = 2 + 3 × 4", Decimal(14)),
        ("x = (2 + 3) × 4", Decimal(20)),
        ("x = -2 × 3", Decimal(-6)),
        ("x = 1.10 × 3", Decimal("3.30")),
        ("x = 0.000001 × 1000000", Decimal(1)),
    ],
)
def test_evaluate_arithmetic(text: str, value: Decimal) -> None:
    assert evaluate(right(text), {}) == value


# --- errors with columns ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, column, message",
    [
        ("", 0, "检查表达式为空"),
        ("   ", 0, "检查表达式为空"),
        ("金额", 0, "检查表达式需要比较符（= ≤ ≥ < > ≠），例如“金额 = 标准 × 村数”"),
        ("金额 + 1", 0, "检查表达式需要比较符（= ≤ ≥ < > ≠），例如“金额 = 标准 × 村数”"),
        ("金额 = 标准;", 8, "表达式中不允许出现字符“;”（第8个字符）；只能使用名称、数字、单位、+ - × ÷ 和比较符"),
        (
            "__import__('os') = 1",
            12,
            "表达式中不允许出现字符“'”（第12个字符）；只能使用名称、数字、单位、+ - × ÷ 和比较符",
        ),
        ("a = `b`", 5, "表达式中不允许出现字符“`”（第5个字符）；只能使用名称、数字、单位、+ - × ÷ 和比较符"),
        ("a = {b}", 5, "表达式中不允许出现字符“{”（第5个字符）；只能使用名称、数字、单位、+ - × ÷ 和比较符"),
        ('a = "b"', 5, '表达式中不允许出现字符“"”（第5个字符）；只能使用名称、数字、单位、+ - × ÷ 和比较符'),
        ("a = 'b'", 5, "表达式中不允许出现字符“'”（第5个字符）；只能使用名称、数字、单位、+ - × ÷ 和比较符"),
        ("a = b.c", 6, "表达式中不允许出现字符“.”（第6个字符）；只能使用名称、数字、单位、+ - × ÷ 和比较符"),
        ("a = .5", 5, "表达式中不允许出现字符“.”（第5个字符）；只能使用名称、数字、单位、+ - × ÷ 和比较符"),
        ("a = b ** 2", 8, "第8个字符“*”处应为数值、名称或括号"),
        ("a = １２", 5, "请使用半角数字，第5个字符“１”是全角或其他文字的数字"),
        ("a = 1٢", 6, "请使用半角数字，第6个字符“٢”是全角或其他文字的数字"),
        ("a = 1234567890123456", 5, "数字“1234567890123456”过长：整数部分至多15位，小数至多6位"),
        ("a = 1" + "0" * 400, 0, "表达式过长（405个字符，上限400）"),  # the length limit comes first
        ("a = 0.1234567", 5, "数字“0.1234567”过长：整数部分至多15位，小数至多6位"),
        ("a = 1.", 5, "数字“1.”格式不正确"),
        ("a = 1.2.3", 5, "数字“1.2.3”格式不正确"),
        ("a = " + "(" * 17 + "b" + ")" * 17, 22, "表达式嵌套过深（超过16层）"),
        ("a = (b", 7, "第5个字符的括号没有闭合"),
        ("a = b)", 6, "第6个字符“)”多余或缺少运算符"),
        ("a = b c", 7, "第7个字符“c”多余或缺少运算符"),
        ("a =", 4, "表达式不完整：结尾缺少数值或名称"),
        ("a = b +", 8, "表达式不完整：结尾缺少数值或名称"),
        ("a" * 401, 0, "表达式过长（401个字符，上限400）"),
        ("a = 1 = 2 = 3", 11, "比较至多两段，例如“下限 ≤ 金额 ≤ 上限”"),
        ("1 ≤ a ≥ 0", 7, "区间比较的两个比较符方向必须一致，例如“下限 ≤ 金额 ≤ 上限”"),
        ("1 = a = 2", 7, "区间比较的两个比较符方向必须一致，例如“下限 ≤ 金额 ≤ 上限”"),
        ("1 < a ≠ 2", 7, "区间比较的两个比较符方向必须一致，例如“下限 ≤ 金额 ≤ 上限”"),
    ],
)
def test_errors_with_columns(text: str, column: int, message: str | None) -> None:
    e = err(text)
    assert e.column == column
    if message is not None:
        assert e.message == message
        assert str(e) == message


def test_huge_number_is_refused_not_converted() -> None:
    e = err("a = 1" + "0" * 300)
    assert e.column == 5
    assert "过长" in e.message


@pytest.mark.parametrize(
    "text, column",
    [
        ("a = 1 = 2 = 3", 11),  # the third comparator
        ("1 ≤ a ≥ 0", 7),  # the comparator that turns the range around
    ],
)
def test_comparator_errors_point_at_the_offending_comparator(text: str, column: int) -> None:
    assert err(text).column == column


def test_limits_are_inclusive() -> None:
    assert parse_check("a = " + "b" * 396)  # exactly 400 characters
    assert len(err("a = " + "b" * 397).message) > 0
    assert parse_check("a = " + "(" * 16 + "b" + ")" * 16)  # 16 levels of parentheses
    assert parse_check("a = 0.123456")  # 6 decimals
    assert parse_check("a = 0000000000000001")  # leading zeros are not digits of the value


@pytest.mark.parametrize("bad", [None, 12, b"a = b"])
def test_non_text_is_an_empty_expression(bad: object) -> None:
    with pytest.raises(ExpressionError) as info:
        parse_check(bad)  # type: ignore[arg-type]
    assert info.value.message == "检查表达式为空"


def test_expression_error_is_a_value_error() -> None:
    assert issubclass(ExpressionError, ValueError)
