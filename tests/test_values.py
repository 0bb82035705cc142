"""Table-driven tests for hegui.facts.values: numbers, money and 指标值."""

from __future__ import annotations

from decimal import Decimal, localcontext

import pytest

from hegui.facts.model import IndicatorValue, Money
from hegui.facts.units import format_decimal, format_money
from hegui.facts.values import normalize_width, parse_indicator_value, parse_money, parse_number

D = Decimal


# --- parse_number ------------------------------------------------------------------------------

NUMBERS = [
    ("939.28", D("939.28")),
    ("582.90", D("582.90")),
    ("0", D(0)),
    ("  70  ", D(70)),
    ("-5", D(-5)),
    ("1,200", D(1200)),
    ("1,234,567.5", D("1234567.5")),
    ("１２", D(12)),  # full-width digits
    ("１２．５", D("12.5")),  # full-width point
    ("五", D(5)),
    ("十", D(10)),
    ("十八", D(18)),
    ("二十", D(20)),
    ("两", D(2)),
    ("一百二十", D(120)),
    ("一百零五", D(105)),
    ("一百二", D(120)),  # colloquial: the trailing digit is in the next lower place
    ("两万五", D(25000)),
    ("三千零五十", D(3050)),
    ("一亿二千万", D(120000000)),
    ("二〇二三", D(2023)),  # digit by digit, as years are written
    ("零", D(0)),
    ("三点五", D("3.5")),
]

NOT_NUMBERS = [
    "",
    "   ",
    "abc",
    "15万元",
    "95%",
    "1.",
    ".5",
    "2,3",
    "1,00",
    "十十",
    "百",
    "万",
    "二三十",
    "两两",
    "一万二万",
    "五个",
    "12abc",
]


@pytest.mark.parametrize(("text", "expected"), NUMBERS)
def test_parse_number(text: str, expected: Decimal) -> None:
    value = parse_number(text)
    assert isinstance(value, Decimal)
    assert value == expected


@pytest.mark.parametrize("text", NOT_NUMBERS)
def test_parse_number_rejects(text: str) -> None:
    assert parse_number(text) is None


# --- parse_money -------------------------------------------------------------------------------

MONEY = [
    # text, default unit, yuan, written unit
    ("939.28", "万元", D("9392800"), "万元"),
    ("939.28", "元", D("939.28"), "元"),
    ("15万元", "万元", D(150000), "万元"),
    ("15万元", "元", D(150000), "万元"),  # a written unit beats the default
    ("2000元", "万元", D(2000), "元"),
    ("1.5万元", "万元", D(15000), "万元"),
    ("0.355万元", "万元", D(3550), "万元"),
    ("15万", "元", D(150000), "万元"),
    ("3千元", "万元", D(3000), "千元"),
    ("1.2亿元", "万元", D(120000000), "亿元"),
    ("五万元", "万元", D(50000), "万元"),
    ("１５万元", "万元", D(150000), "万元"),
    ("15 万元", "万元", D(150000), "万元"),
    ("¥300", "万元", D(300), "元"),
    ("￥300元", "万元", D(300), "元"),
    ("1,200元", "万元", D(1200), "元"),
]


@pytest.mark.parametrize(("text", "default", "yuan", "unit"), MONEY)
def test_parse_money(text: str, default: str, yuan: Decimal, unit: str) -> None:
    money = parse_money(text, default)
    assert money == Money(yuan, unit)
    assert isinstance(money.yuan, Decimal)


@pytest.mark.parametrize("text", ["", "abc", "万元", "元", "95%", "15万人", "2023年"])
def test_parse_money_rejects(text: str) -> None:
    assert parse_money(text) is None


def test_parse_money_is_exact() -> None:
    # 0.1 + 0.2 style drift would show up here if a float slipped in.
    basic, project = parse_money("356.38"), parse_money("582.90")
    assert basic.yuan + project.yuan == parse_money("939.28").yuan == D("9392800")
    assert parse_money("0.1", "元").yuan + parse_money("0.2", "元").yuan == D("0.3")


def test_parse_money_bad_default_unit() -> None:
    with pytest.raises(ValueError):
        parse_money("5", "美元")


# --- parse_indicator_value ---------------------------------------------------------------------

# text → (kind, comparator, number, unit)
NUMBER_VALUES = [
    # comparator symbols, half and full width
    ("≥95%", "≥", D(95), "%"),
    ("≤939.28万元", "≤", D("939.28"), "万元"),
    ("＝100%", "=", D(100), "%"),
    ("=100%", "=", D(100), "%"),
    ("＞5人", ">", D(5), "人"),
    (">5人", ">", D(5), "人"),
    ("＜3次", "<", D(3), "次"),
    ("<3次", "<", D(3), "次"),
    ("≧90%", "≥", D(90), "%"),
    ("≦20万元", "≤", D(20), "万元"),
    (">=80%", "≥", D(80), "%"),
    ("<=10万元", "≤", D(10), "万元"),
    ("≥ 95 %", "≥", D(95), "%"),
    # comparator words before the value
    ("不低于95%", "≥", D(95), "%"),
    ("不少于76人", "≥", D(76), "人"),
    ("不小于90％", "≥", D(90), "%"),
    ("达到100%", "≥", D(100), "%"),
    ("不超过70万元", "≤", D(70), "万元"),
    ("不高于5%", "≤", D(5), "%"),
    ("不多于3次", "≤", D(3), "次"),
    ("大于90%", ">", D(90), "%"),
    ("高于90%", ">", D(90), "%"),
    ("小于5%", "<", D(5), "%"),
    ("低于5%", "<", D(5), "%"),
    # comparator words after the value
    ("95%以上", "≥", D(95), "%"),
    ("76人以上", "≥", D(76), "人"),
    ("20万元以内", "≤", D(20), "万元"),
    ("5%以下", "≤", D(5), "%"),
    # no comparator
    ("100%", "", D(100), "%"),
    ("95％", "", D(95), "%"),
    ("百分之九十五", "", D(95), "%"),
    ("70万元", "", D(70), "万元"),
    ("2000元", "", D(2000), "元"),
    ("1.5万元", "", D("1.5"), "万元"),
    ("五万元", "", D(5), "万元"),
    ("76人", "", D(76), "人"),
    ("76名", "", D(76), "名"),  # unit kept as written
    ("3个大项目", "", D(3), "个"),
    ("5个街道所辖范围基层党建组织", "", D(5), "个"),
    ("2支", "", D(2), "支"),
    ("9个村", "", D(9), "个"),
    ("176户", "", D(176), "户"),
    ("3家", "", D(3), "家"),
    ("4项", "", D(4), "项"),
    ("12次", "", D(12), "次"),
    ("2所", "", D(2), "所"),
    ("五个", "", D(5), "个"),
    ("十八个", "", D(18), "个"),
    ("１２人", "", D(12), "人"),
    ("1.2万人", "", D(12000), "人"),
    ("3年", "", D(3), "年"),
    ("2023", "", D(2023), ""),
    ("约95%", "", D(95), "%"),
    ("95%左右", "", D(95), "%"),
    ("100%完成", "", D(100), "%"),
    ("≥95%(计划标准)", "≥", D(95), "%"),
    # a label before the comparator
    ("完成率≥95%", "≥", D(95), "%"),
    ("满意度不低于90%", "≥", D(90), "%"),
    ("总费用≤939.28", "≤", D("939.28"), "万元"),  # label says money: default unit
    ("到达率≥95%", "≥", D(95), "%"),  # 达 inside the label is no comparator
]


@pytest.mark.parametrize(("text", "comparator", "number", "unit"), NUMBER_VALUES)
def test_indicator_numbers(text: str, comparator: str, number: Decimal, unit: str) -> None:
    value = parse_indicator_value(text)
    assert value == IndicatorValue(text, "number", comparator=comparator, number=number, unit=unit)


def test_indicator_default_money_unit() -> None:
    assert parse_indicator_value("总费用≤939.28", default_money_unit="元").unit == "元"
    assert parse_indicator_value("≤939.28").unit == ""  # nothing says it is money
    with pytest.raises(ValueError):
        parse_indicator_value("1", default_money_unit="美元")


# text → (comparator, year, month, day, deadline)
DATE_VALUES = [
    ("2023年12月前", "", 2023, 12, None, True),
    ("2023年12月底前", "", 2023, 12, None, True),
    ("2023年底前", "", 2023, 12, None, True),
    ("2023年末", "", 2023, 12, None, False),
    ("2023年12月31日前", "", 2023, 12, 31, True),
    ("2023年12月31日之前", "", 2023, 12, 31, True),
    ("2023年6月30号以前", "", 2023, 6, 30, True),
    ("2023年", "", 2023, None, None, False),
    ("2023年度", "", 2023, None, None, False),
    ("2023年12月", "", 2023, 12, None, False),
    ("２０２３年１２月前", "", 2023, 12, None, True),
    ("2023年12月底前完成", "", 2023, 12, None, True),
    ("2023年内", "", 2023, None, None, True),
    ("12月底前", "", None, 12, None, True),
    ("年底前", "", None, 12, None, True),
    ("2023-12-31", "", 2023, 12, 31, False),
    ("2023/6", "", 2023, 6, None, False),
    ("2023.12.31前", "", 2023, 12, 31, True),
    ("≤2023年12月", "≤", 2023, 12, None, True),
    ("2024年2月29日前", "", 2024, 2, 29, True),
]


@pytest.mark.parametrize(("text", "comparator", "year", "month", "day", "deadline"), DATE_VALUES)
def test_indicator_dates(text: str, comparator: str, year, month, day, deadline: bool) -> None:
    value = parse_indicator_value(text)
    assert value == IndicatorValue(
        text, "date", comparator=comparator, year=year, month=month, day=day, deadline=deadline
    )


MISSING = ["", " ", "\t\n", "　", "/", "—", "——", "-", "N/A"]


@pytest.mark.parametrize("text", MISSING)
def test_indicator_missing_is_not_zero(text: str) -> None:
    value = parse_indicator_value(text)
    assert value.kind == "missing"
    assert value.number is None
    assert value.raw == text


TEXTS = [
    "无",  # an explicit "none" is a statement, like 无直接经济效益, not a blank cell
    "无直接经济效益",
    "无直接生态效益",
    "提升服务",
    "深入推进，强化管理",
    "计划标准",
    "abc",
    "12abc",  # a number followed by no unit
    "2023版",
    "≥",  # a comparator without a value
    "≥abc",
    "%%",
    "十十个",  # not a numeral
    "2023年13月",  # no such month
    "2023年2月30日前",  # no such day
    "2023年12月31日底",
    "一般",
    "一级指标",  # a numeral inside a word, no counter after it
]


@pytest.mark.parametrize("text", TEXTS)
def test_indicator_text(text: str) -> None:
    value = parse_indicator_value(text)
    assert value.kind == "text", value
    assert value.raw == text
    assert value.number is None and value.year is None


def test_indicator_keeps_raw_exactly() -> None:
    raw = "  ≥９５％ "
    value = parse_indicator_value(raw)
    assert value.raw == raw
    assert (value.kind, value.comparator, value.number, value.unit) == ("number", "≥", D(95), "%")


def test_indicator_numbers_are_decimal() -> None:
    for text, *_ in NUMBER_VALUES:
        assert isinstance(parse_indicator_value(text).number, Decimal)


def test_normalize_width_keeps_length() -> None:
    text = "≧９５％，≦２０万元（ａ）　"
    folded = normalize_width(text)
    assert len(folded) == len(text)
    assert folded == "≥95%,≤20万元(a) "


# --- showing amounts -----------------------------------------------------------------------------

SHOWN = [
    # 3550元 is 0.355万元: not exact at two places, so every digit, never 0.36
    (format_money, (D(3550), "万元"), "0.355万元"),
    (format_money, (D(24000), "万元"), "2.40万元"),
    (format_money, (D("0.5"), "元"), "0.50元"),
    # 27 digits before the point and two after: more than the default 28-digit precision holds
    (format_money, (D("1E+26"), "元"), "100000000000000000000000000.00元"),
    (format_decimal, (D("1E+1"),), "10"),
    (format_decimal, (D("1E+30"),), "1" + "0" * 30),
    (format_decimal, (D("2.500"),), "2.5"),
    # 30 significant digits: normalizing under 28 digits would round the last two away
    (format_decimal, (D("1234567890.12345678901234567890"),), "1234567890.1234567890123456789"),
]


@pytest.mark.parametrize(("show", "args", "expected"), SHOWN)
def test_amounts_are_shown_with_every_digit(show, args, expected: str) -> None:
    assert show(*args) == expected


def test_showing_a_number_ignores_a_lower_precision_of_the_caller() -> None:
    with localcontext() as ctx:
        ctx.prec = 6
        assert format_decimal(D("123456789.125")) == "123456789.125"
        assert format_decimal(D("1234567E+3")) == "1234567000"
