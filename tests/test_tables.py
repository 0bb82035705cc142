"""Recognising the tables of a filing by their labels, and the typed model built from them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hegui.facts.errors import InputError
from hegui.facts.read import read_filing
from hegui.facts.tables import build_filing
from hegui.facts.textdump import read_text_dump


@pytest.fixture(scope="module")
def filing(example_path):
    return read_filing(example_path)


def test_header(filing):
    assert filing.department == "石峰区委组织部"
    assert filing.year == 2023 and filing.year_source.line == 8
    assert [d.label for d in filing.directions] == ["附件3-1", "附件3-2", "附件3-3", "附件3-4", "附件3-5"]


def test_overview_budget_split(filing):
    o = filing.overview
    assert o.unit == "万元"
    assert o.total is not None and o.total.text == "" and o.total.money is None  # blank is missing, not zero
    income = {f.label: f.money.yuan if f.money else None for f in o.income}
    assert income == {"一般公共预算拨款": Decimal("9392800"), "政府性基金拨款": None, "其他资金": None}
    expense = {f.label: f.money.yuan for f in o.expense}
    assert expense == {"基本支出": Decimal("3563800"), "项目支出": Decimal("5829000")}
    assert o.income[0].source.line == 29
    assert [p.item.stripped for p in o.work_plans][1] == "做好村级组织运转工作，保障村级运行经费"
    assert len(o.indicators) == 9
    assert o.footer.preparer.text == "陈光" and o.footer.phone.text == "22629616"


def test_merged_indicator_levels_inherit_from_above(filing):
    levels = [(i.level1.stripped, i.level2.stripped) for i in filing.directions[0].indicators]
    assert levels[0] == ("产出指标", "产出数量")
    assert levels[3] == ("产出指标", "产出成本")
    assert levels[5] == ("效益指标", "社会效益")
    assert levels[-1][1] == "社会公众及服务对象满意度"


def test_indicator_row_split_by_blank_lines_is_rejoined(filing):
    # 附件3-1 可持续影响: the value and standard follow two blank lines in the dump.
    row = filing.directions[0].indicators[7]
    assert row.level2.stripped == "可持续影响"
    assert row.value.stripped == "提升幸福感" and row.standard.stripped == "历史标准"
    cost = filing.directions[2].indicators[3]
    assert (cost.parsed.comparator, cost.parsed.number, cost.parsed.unit) == ("≤", Decimal("15"), "万元")


def test_summary_rows(filing):
    s = filing.summary
    assert s.total.money.yuan == Decimal("5829000")
    assert [(r.seq, r.name.stripped, r.amount.money.yuan) for r in s.rows] == [
        (1, "老干部专项经费", Decimal("700000")),
        (2, "村级组织运转经费", Decimal("2994000")),
        (3, "业务性专项经费", Decimal("135000")),
        (4, "城市基层党建工作经费", Decimal("1800000")),
        (5, "驻村工作队队员待遇保障", Decimal("200000")),
    ]


def test_direction_and_details(filing):
    d = filing.directions[1]
    assert d.name.text == "村级组织运转专项经费" and d.parent_fund.text == "村级组织运转专项经费"
    assert d.amount.money.yuan == Decimal("2994000") and d.period.text == "2023"
    assert [x.amount.money.yuan for x in d.details] == [Decimal(v) for v in ("270000", "2210000", "500000", "14000")]
    assert d.detail_total.money.yuan == Decimal("2994000") and d.detail_total.source.line == 460
    # The multi-paragraph 测算 cell keeps its three paragraphs and its line range.
    basis = d.details[1].basis
    assert basis.source.line == 439 and basis.source.end_line == 443
    assert basis.text.count("\n\n") == 2


def _rebuilt(text: str, tmp_path):
    path = tmp_path / "variant.txt"
    path.write_text(text, encoding="utf-8")
    return build_filing(read_text_dump(path))


def _blocks(example_text: str) -> list[str]:
    """The example cut at its 附件 labels (the first block is 附件1)."""
    lines = example_text.split("\n")
    starts = [0, 131, 188, 323, 467, 598, 722]  # 0-based lines of 附件1, 2, 3-1 … 3-5
    return ["\n".join(lines[a:b]) for a, b in zip(starts, [*starts[1:], len(lines)], strict=True)]


def test_attachment_order_does_not_matter(example_text, tmp_path):
    blocks = _blocks(example_text)
    # 附件2's label sits inside 附件1's footer cell; give it its own line so it can move.
    blocks[1] = "\t" + blocks[1]
    shuffled = "\n\n".join([blocks[4], blocks[1], blocks[6], blocks[0], blocks[2], blocks[5], blocks[3]])
    filing = _rebuilt(shuffled, tmp_path)
    assert [d.label for d in filing.directions] == ["附件3-1", "附件3-2", "附件3-3", "附件3-4", "附件3-5"]
    assert filing.summary.total.money.yuan == Decimal("5829000")
    assert filing.overview.expense[1].money.yuan == Decimal("5829000")


def test_extra_title_and_spacer_rows(example_text, tmp_path):
    text = example_text.replace("\t部门名称\n", "\t（本表由部门填写）\n\n\t\n\t\n\n\t部门名称\n", 1)
    text = text.replace("\t项目金额\n\t299.40", "\t备注\n\t无\n\n\t\n\n\t项目金额\n\t299.40", 1)
    filing = _rebuilt(text, tmp_path)
    assert filing.department == "石峰区委组织部"
    assert filing.directions[1].amount.money.yuan == Decimal("2994000")


def test_titles_without_attachment_labels(example_text, tmp_path):
    text = "\n".join(line for line in example_text.split("\n") if not line.strip().startswith("附件"))
    filing = _rebuilt(text, tmp_path)
    assert filing.overview is not None and filing.summary is not None
    assert len(filing.directions) == 5


def test_not_a_filing(tmp_path):
    path = tmp_path / "memo.txt"
    path.write_text("\t会议纪要\n\t参会人员\n", encoding="utf-8")
    with pytest.raises(InputError, match="未识别到预算绩效目标表"):
        build_filing(read_text_dump(path))
