"""Labels and values as people write them: units in labels and headers, checkboxes, script,
pinyin garbling, and the number forms values.py reads; the written text is always kept."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hegui.facts.model import Cell, Grid, Row, Source
from hegui.facts.normalize import (
    checkbox,
    checked_options,
    is_traditional,
    label_key,
    repair_grid,
    split_label_unit,
    strip_pinyin,
    table_unit,
    traditional_chars,
)
from hegui.facts.values import parse_indicator_value, parse_money


@pytest.mark.parametrize(
    "label, expected",
    [
        ("资金总额（万元）", ("资金总额", "万元")),
        ("金额(元)", ("金额", "元")),
        ("年度预算数(万元)", ("年度预算数", "万元")),
        ("项目金额 （ 单位：万元 ）：", ("项目金额", "万元")),
        ("資金總額（萬元）", ("资金总额", "万元")),
        ("资金总额", ("资金总额", "")),
        ("执行率(B/A)", ("执行率(B/A)", "")),
        ("（万元）", ("（万元）", "")),
    ],
)
def test_split_label_unit(label, expected):
    assert split_label_unit(label) == expected


@pytest.mark.parametrize(
    "text, unit",
    [
        ("单位:元", "元"),
        ("金额单位：万元", "万元"),
        ("單位:元", "元"),
        ("填报单位（盖章）：某局          金额单位：万元", "万元"),
        ("单 位：千元", "千元"),
        ("单位名称", ""),
        ("实施单位：某局", ""),
    ],
)
def test_table_unit_anywhere_in_a_header(text, unit):
    assert table_unit(text) == unit


def test_label_key():
    assert label_key("预算执行情况(10分)") == "预算执行情况"
    assert label_key("实施单位 (盖章)") == "实施单位"
    assert label_key("其中：财政拨款：") == "财政拨款"
    assert label_key("一级\n指标") == "一级指标"


@pytest.mark.parametrize(
    "glyph, state",
    [
        ("√", True),
        ("☑", True),
        ("✔", True),
        ("■", True),
        ("R", True),
        ("□", False),
        ("☐", False),
        ("否", None),
        ("", None),
    ],
)
def test_checkbox_glyphs(glyph, state):
    assert checkbox(f" {glyph} ") is state


def test_checked_options_in_a_line():
    assert checked_options("R新增 □延续") == [("新增", True), ("延续", False)]
    assert checked_options("□经常性 √一次性") == [("经常性", False), ("一次性", True)]
    assert checked_options("项目编号AR12") == []  # an R inside a code is not a tick


def test_pinyin_garbling_stripped_only_with_tone_marks():
    assert strip_pinyin("學(xué)校績效目標(biāo)表") == "學校績效目標表"
    assert strip_pinyin("職(zhí)業(yè)") == "職業"
    assert strip_pinyin("全年预算数(A) 执行率(B/A) 重量(kg)") == "全年预算数(A) 执行率(B/A) 重量(kg)"


def test_traditional_detection_and_simplified_text_left_alone():
    assert is_traditional("中等職業學校國家助學金和免學費補助資金績效目標表")
    assert not is_traditional("显著提升乾隆年间遗址保护水平，覆盖全部村组")  # 著/乾/覆 are simplified too
    assert not is_traditional("")


def test_repair_grid_keeps_the_written_text():
    src = Source("t.txt", 1)
    grid = Grid("t.txt", [Row([Cell("國家助學金績效目標(biāo)表", src), Cell("473,600", src)], "pipe-rows")])
    fixed = repair_grid(grid)
    first, second = fixed.rows[0].cells
    assert first.text == "国家助学金绩效目标表" and first.raw == "國家助學金績效目標(biāo)表"
    assert first.as_written == first.raw
    assert second.text == "473,600" and second.raw == "" and second.as_written == "473,600"
    assert fixed.rows[0].layout == "pipe-rows" and first.source == src


def test_repair_grid_returns_a_simplified_grid_unchanged():
    grid = Grid("t.txt", [Row([Cell("项目支出绩效目标表", Source("t.txt", 1))])])
    assert repair_grid(grid) is grid


def test_traditional_chars_file_is_what_opencc_says():
    from opencc import OpenCC

    converter = OpenCC("t2s")
    chars = [chr(c) for c in range(0x3400, 0xA000)]
    converted = converter.convert("\n".join(chars)).split("\n")
    assert traditional_chars() == "".join(a for a, b in zip(chars, converted, strict=True) if a != b)


@pytest.mark.parametrize(
    "text, unit, yuan, written",
    [
        ("3,309,840.00", "元", "3309840.00", "元"),
        ("3，309，840.00", "元", "3309840.00", "元"),
        ("250万", "元", "2500000", "万元"),
        ("20万元", "元", "200000", "万元"),
        ("１２３．５", "万元", "1235000.0", "万元"),
        ("939.28", "万元", "9392800.00", "万元"),
    ],
)
def test_amounts_as_written_stay_exact(text, unit, yuan, written):
    money = parse_money(text, unit)
    assert money is not None and money.yuan == Decimal(yuan) and money.written_unit == written


@pytest.mark.parametrize(
    "text, comparator, number, unit",
    [
        ("≧95%", "≥", "95", "%"),
        (">=95%", "≥", "95", "%"),
        ("＞90%", ">", "90", "%"),
        ("≦5万元", "≤", "5", "万元"),
        ("<=5万元", "≤", "5", "万元"),
        ("＝100百分比", "=", "100", "%"),
        ("%=99百分比", "=", "99", "%"),
        ("≥ 95 %", "≥", "95", "%"),
        ("１２个", "", "12", "个"),
    ],
)
def test_indicator_values_as_written(text, comparator, number, unit):
    value = parse_indicator_value(text)
    assert (value.kind, value.comparator, value.number, value.unit) == ("number", comparator, Decimal(number), unit)
    assert value.raw == text
