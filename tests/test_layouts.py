"""Text layouts: each one rebuilt into rows and cells with line provenance, from small fixtures
made here and from the eight published tables of tests/fixtures/corpus (copied unchanged)."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

import pytest

from hegui.facts.layouts import (
    CELL_LINES,
    FLAT,
    PARAGRAPHS,
    PIPE_ROWS,
    PROSE,
    SPACED,
    TAB_DUMP,
    aligned,
    layouts_of,
    parse_text,
    read_text,
)
from hegui.facts.model import Cell, Grid, Row
from hegui.facts.normalize import label_key, repair_grid, table_unit
from hegui.facts.read import read_grid
from hegui.facts.values import parse_money

CORPUS = Path(__file__).resolve().parent / "fixtures" / "corpus"
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "shifeng-zzb-2023.txt"


def corpus(prefix: str) -> Path:
    (found,) = CORPUS.glob(f"{prefix}_*.txt")
    return found


def grid_of(text: str) -> Grid:
    return Grid("t.txt", parse_text("t.txt", text))


def find(grid: Grid, label: str) -> tuple[Row, int]:
    """The row holding the cell whose label key is ``label``, and the cell's index."""
    for row in grid.rows:
        for index, cell in enumerate(row.cells):
            if label_key(cell.text) == label_key(label):
                return row, index
    raise AssertionError(f"no cell {label!r}")


def after(grid: Grid, label: str) -> Cell:
    """The first non-continuation cell after ``label`` in its row."""
    row, index = find(grid, label)
    return next(c for c in row.cells[index + 1 :] if not c.continuation)


def lines_of(cell: Cell) -> tuple[int, int]:
    return cell.source.line, cell.source.end_line


def texts(row: Row) -> list[str]:
    return [c.text for c in row.cells]


# --- detection ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "prefix, layouts",
    [
        ("03", [CELL_LINES]),
        ("07", [PROSE, CELL_LINES]),
        ("08", [PIPE_ROWS]),
        ("09", [PROSE, FLAT]),
        ("12", [SPACED]),
        ("14", [PARAGRAPHS]),
        ("15", [PIPE_ROWS]),
        ("19", [PIPE_ROWS]),
    ],
)
def test_layout_detected_from_content_not_name(tmp_path, prefix, layouts):
    text = corpus(prefix).read_text(encoding="utf-8")
    assert layouts_of(text) == layouts
    # The same content under a meaningless name reads the same.
    renamed = tmp_path / "upload.dat"
    renamed.write_bytes(corpus(prefix).read_bytes())
    original = read_grid(corpus(prefix))
    assert [texts(r) for r in read_grid(renamed).rows] == [texts(r) for r in original.rows]


def test_the_example_is_still_read_as_a_tab_dump():
    from hegui.facts.textdump import read_text_dump

    assert layouts_of(EXAMPLE.read_text(encoding="utf-8")) == [TAB_DUMP]
    new, old = read_text(EXAMPLE), read_text_dump(EXAMPLE)
    assert [[(c.text, c.source) for c in r.cells] for r in new.rows] == [
        [(c.text, c.source) for c in r.cells] for r in old.rows
    ]


# --- corpus files -----------------------------------------------------------------------------------


def test_corpus_03_cell_per_line_self_evaluation():
    grid = read_grid(corpus("03"))
    assert after(grid, "项目名称").text == "51000021R000000019951-工资性支出"
    assert lines_of(after(grid, "项目名称")) == (9, 9)
    assert after(grid, "主管部门").text == "青神县发展和改革局本级"
    assert after(grid, "实施单位 (盖章)").text == "青神县发展和改革局"
    header, _ = find(grid, "年初预算")
    total, _ = find(grid, "总额")
    by_column = dict(zip(texts(header), aligned(total, len(header.cells)).cells, strict=True))
    assert by_column["年初预算"].text == "238.93" and lines_of(by_column["年初预算"]) == (32, 32)
    assert by_column["调整后预算数"].text == "251.89" and by_column["调整后预算数"].source.line == 33
    assert by_column["预算执行数"].text == "251.89" and by_column["预算执行数"].source.line == 34
    assert by_column["预算执行率"].text == "100.00%" and by_column["预算执行率"].source.line == 35
    assert by_column["权重"].text == "10"
    assert by_column["得分"].text == ""  # an empty `|` line is an empty cell, kept in its place
    indicator, _ = find(grid, "发放(缴纳)覆盖率")
    assert texts(indicator)[:6] == ["产出指标", "数量指标", "发放(缴纳)覆盖率", "=", "100", "%"]
    assert texts(find(grid, "合计")[0])[:2] == ["合计", "100"]
    assert all(r.layout == CELL_LINES for r in grid.rows)


def test_corpus_07_prose_then_cell_lines_with_filler_rows():
    grid = read_grid(corpus("07"))
    prose = [r for r in grid.rows if r.layout == PROSE]
    assert len(prose) == 10 and prose[0].cells[0].source.line == 1
    assert texts(find(grid, "项目名称")[0]) == [
        "项目名称",
        "2021年交通局寨山石坪、鲍家沟果园路",
        "项目负责人及联系电话",
        "刘志龙09125222043",
    ]
    assert texts(find(grid, "年度资金总额:")[0]) == ["资金情况", "年度资金总额:", "500"]
    assert after(grid, "其中:财政拨款").text == "500" and lines_of(after(grid, "其中:财政拨款")) == (38, 38)
    assert after(grid, "其他资金").text == ""  # the `|` line: a value cell left empty
    assert texts(find(grid, "一级指标")[0]) == ["绩", "一级指标", "二级指标", "三级指标", "指标值"]
    assert texts(find(grid, "呼家河至鲍家沟新建水泥路1条")[0]) == ["呼家河至鲍家沟新建水泥路1条", "2km"]
    assert after(grid, "硬化水泥砼公路补助标准").text == "≤120万元"
    # Cut off mid-table: the last cell is there, without its pipe.
    last = grid.rows[-1]
    assert texts(last) == ["效益指标", "经济效益"] and last.cells[-1].source.line == 75


def test_corpus_08_markdown_rows_padding_dropped():
    grid = read_grid(corpus("08"))
    first = grid.rows[0]
    assert len(first.cells) == 11 and first.cells[0].text == "绩效指标(90分)"
    row, _ = find(grid, "成本控制数")
    assert texts(row) == ["产出指标", "经济成本指标", "成本控制数", "≤", "30", "万元", "完成", "90", "90"]
    assert {c.source.line for c in row.cells} == {2}
    assert texts(find(grid, "总额")[0])[1:5] == ["0.00", "3.36", "3.36", "100.00%"]
    assert after(grid, "项目负责人:查小兵").text == "财务负责人:唐勇"
    assert texts(grid.rows[-1]) == ["产出指标", "质量指标", "完成安可产品购买并按要求支付资金", "=", "100"]


def test_corpus_09_flattened_table_cut_at_labels_and_values():
    grid = read_grid(corpus("09"))
    assert after(grid, "一*级项目名称").text == "文化事业发展专项资金"
    assert after(grid, "项目主管部门").text == "嘉峪关市文化和旅游局"
    assert after(grid, "项目完成H期").text == "2023-12-31"  # OCR's H for 日, kept as written
    assert after(grid, "项目总投资").text == "20万元"
    assert after(grid, "政策依据").text == "甘财科[2022]78号" and lines_of(after(grid, "政策依据")) == (3, 4)
    header, _ = find(grid, "一级指标")
    assert texts(header) == ["一级指标", "二级指标", "三级指标", "指标目标值"]
    days, _ = find(grid, "免费开放天数")
    assert texts(days) == ["产出指标", "数量指标", "免费开放天数", "=300天"]
    quality, _ = find(grid, "博物馆绩效考核指标完成率")
    assert quality.cells[0].continuation and texts(quality)[1:] == [
        "质量指标",
        "博物馆绩效考核指标完成率",
        "=100百分比",
    ]
    cost, _ = find(grid, "资金使用效率")
    assert texts(cost) == ["成本指标", "经济成本指标", "资金使用效率", "二100百分比"]
    visitors, _ = find(grid, "免费开放接待观众人数")
    assert texts(visitors)[1:] == ["社会效益指标", "免费开放接待观众人数", "=30000人次"]
    titles = [r for r in grid.rows if "绩效目标表" in r.cells[0].text]
    assert len(titles) == 2  # the second project's table starts after the first one's indicators
    # Cut off mid-word at the end: "174.78万元中央补" spans lines 4-5.
    assert after_last(grid, "项目总投资").text == "174.78万元中央补"


def after_last(grid: Grid, label: str) -> Cell:
    rows = [r for r in grid.rows if r.cells and label_key(r.cells[0].text) == label_key(label)]
    return rows[-1].cells[1]


def test_corpus_12_pdf_copy_wrapped_labels_rejoined_indicator_rows_under_their_columns():
    grid = read_grid(corpus("12"))
    assert after(grid, "项目名称").text == "水旱灾害防御经费"
    header, index = find(grid, "一级指标")
    assert header.cells[index].text == "一级指标" and lines_of(header.cells[index]) == (18, 19)
    assert texts(header)[index + 1 : index + 3] == ["二级指标", "三级指标"]  # line 20 continues the header
    assert texts(find(grid, "年度资金总额:")[0]) == ["年度资金总额:", "880", "880", "880", "10", "10"]
    assert texts(find(grid, "项目资金(万元)")[0])[1:3] == ["年初预算数", "全年预算数(A)"]
    assert texts(find(grid, "项目支出绩效自评表")[0]) == ["项目支出绩效自评表"]  # its year stays a row
    # Rows from the 一级指标 column on: 一级, 二级, 三级, 年度指标值, 实际完成值, 分值, 得分, 偏差原因.
    quantity, _ = find(grid, "指标1:完成中型灌区节水改造项目数量")
    assert texts(quantity) == ["", "数量指标", "指标1:完成中型灌区节水改造项目数量", "1", "1", "10", "10", ""]
    quality, _ = find(grid, "指标1:工程质量合格")
    assert texts(quality) == ["", "质量指标", "指标1:工程质量合格", "", "", "10", "10", ""]  # scores right
    assert quality.cells[5].source.line == 29
    cost, _ = find(grid, "指标1:资金执行在预算范围内")
    assert texts(cost)[:2] == ["", "成本指标"]  # a 二级 here: no 二级 follows it
    satisfaction, _ = find(grid, "指标1:服务对象满意度")
    assert texts(satisfaction) == [
        "满意度指标(10分)",
        "服务对象满意度指标",
        "指标1:服务对象满意度",
        "90%",
        "100%",
        "10",
        "10",
        "",
    ]
    assert lines_of(satisfaction.cells[0]) == (63, 64) and lines_of(satisfaction.cells[1]) == (65, 66)
    economic, _ = find(grid, "指标1:全市安全度汛")
    assert texts(economic)[1] == "经济效益指标" and lines_of(economic.cells[1]) == (43, 44)
    lone = [texts(r) for r in grid.rows if len(r.cells) == 1]
    assert ["(50分)"] in lone and ["指标2:"] in lone and ["……"] in lone  # left to the recogniser
    assert texts(find(grid, "总分")[0]) == ["总分", "100", "100"]  # the block ends at 总分


def test_corpus_14_paragraph_cells():
    grid = read_grid(corpus("14"))
    header, _ = find(grid, "序号")
    assert texts(header) == ["序号", "县(市、区)", "资助项目内容", "金额"]
    first, _ = find(grid, "肇庆市民政局开展“福彩杯”\n公益创投活动")
    assert texts(first) == ["1", "肇庆市民政局", "肇庆市民政局开展“福彩杯”\n公益创投活动", "15"]
    assert lines_of(first.cells[2]) == (21, 23)
    assert texts(find(grid, "合计")[0]) == ["合计", "50"]
    assert texts(find(grid, "预算金额")[0]) == ["预算金额", "总金额", "50万元", "当年度金额", "50万元"]
    assert after(grid, "主管部门").text == "肇庆市民政局" and after(grid, "主管部门").source.line == 56
    assert texts(find(grid, "一级指标")[0]) == ["绩效指标", "一级指标", "二级指标", "三级指标", "当年度指标值"]
    assert texts(grid.rows[-1]) == ["产出指标", "数量指标", "满足开展"]  # cut off


def test_corpus_15_several_projects_amounts_in_yuan():
    grid = read_grid(corpus("15"))
    assert table_unit(grid.rows[1].cells[0].text) == "元"
    header, _ = find(grid, "单位名称")
    assert len(header.cells) == 12
    project, index = find(grid, "村组干部报酬")
    amount = project.cells[index + 1]
    assert amount.text == "3,309,840.00" and lines_of(amount) == (5, 5)
    assert parse_money(amount.text, "元").yuan == Decimal("3309840.00")
    follow, _ = find(grid, "维持时效")
    assert [c.text for c in aligned(follow, 12).cells][4:8] == ["产出指标", "时效指标", "维持时效", "≥"]
    second, index = find(grid, "基层组织活动经费")
    assert aligned(second, 12).cells[0].continuation and second.cells[index + 1].text == "660,000.00"


def test_corpus_19_traditional_with_pinyin_made_simplified_raw_kept():
    grid = read_grid(corpus("19"))
    assert table_unit(grid.rows[2].cells[0].as_written) == "元"  # 單位:元
    header, index = find(grid, "其中:国家助学金")
    cell = header.cells[index]
    assert cell.raw == "其中:國家助學(xué)金" and cell.as_written == cell.raw
    school, _ = find(grid, "乐昌市中等职业技术学校")
    assert school.cells[0].raw == "樂昌市中等職業(yè)技術(shù)學(xué)校"
    assert school.cells[5].text == "473,600" and school.cells[5].source.line == 6
    assert parse_money(school.cells[5].text, "元").yuan == Decimal(473600)
    assert after(grid, "专项名称").text.startswith("学生资助补助经费(中等职业学校")
    assert find(grid, "绩效指标")[0].cells[1].text == "一级目标"
    assert after(grid, "中职免学费应受助学生数").text == "100%"


# --- own fixtures: awkward cases --------------------------------------------------------------------


def test_markdown_with_and_without_outer_pipes_and_separator_lines():
    grid = grid_of(
        "说明文字，不是表格。\n\n"
        "| 项目名称 | 乡村道路 | ||||\n"
        "|---|---|---|\n"
        "一级指标 | 二级指标 | 三级指标 | 指标值\n"
        "产出指标 | 数量指标 |  | ≥12公里 ||||\n"
    )
    assert [r.layout for r in grid.rows] == [PROSE, PIPE_ROWS, PIPE_ROWS, PIPE_ROWS]
    assert texts(grid.rows[1]) == ["项目名称", "乡村道路"]
    assert texts(grid.rows[3]) == ["产出指标", "数量指标", "", "≥12公里"]  # inner empty cell kept
    assert [c.source.line for c in grid.rows[3].cells] == [6, 6, 6, 6]


def test_cell_lines_multi_line_cell_and_cut_off_cell():
    grid = grid_of("项目名称 |\n道路\n维护项目 |\n|\n主管部门 |\n交通运")
    assert texts(grid.rows[0]) == ["项目名称", "道路\n维护项目", ""]
    assert lines_of(grid.rows[0].cells[1]) == (2, 3)
    assert texts(grid.rows[1]) == ["主管部门", "交通运"] and grid.rows[1].cells[1].source.line == 6


def test_cell_lines_filler_gives_the_width():
    grid = grid_of("附件1 |\n|\n|\n|\n标题 |\n|||\n项目名称 |\n甲 |\n||\n其他资金 |\n|\n||\n")
    # 附件1 and its three empty cells make a full row (width 4); a lone label drops its blanks.
    assert [texts(r) for r in grid.rows] == [["附件1"], ["标题"], ["项目名称", "甲"], ["其他资金", ""]]


def test_spaced_rows_with_tabs_and_wrapped_parenthesis():
    grid = grid_of("项目资金\n(万元)\n年初预算数\t全年预算数\n年度资金总额:  100  90\n")
    assert texts(grid.rows[0]) == ["项目资金(万元)", "年初预算数", "全年预算数"]
    assert texts(grid.rows[1]) == ["年度资金总额:", "100", "90"] and grid.rows[1].cells[2].source.line == 4


def test_paragraph_layout_stays_in_rows_by_labels():
    text = "\n\n".join(
        ["项目名称", "防汛", "主管部门", "水利局", "绩效指标", "一级指标", "二级指标", "三级指标", "指标值"]
    )
    grid = grid_of(text + "\n\n产出指标\n\n数量指标\n\n堤防巡查\n\n≥30次\n")
    assert [texts(r) for r in grid.rows] == [
        ["项目名称", "防汛"],
        ["主管部门", "水利局"],
        ["绩效指标", "一级指标", "二级指标", "三级指标", "指标值"],
        ["产出指标", "数量指标", "堤防巡查", "≥30次"],
    ]
    assert grid.rows[3].cells[3].source.line == 25


def test_flat_run_own_fixture():
    text = "项目名称乡村公路养护主管部门县交通局项目总投资250万一级指标二级指标三级指标指标值产出指标数量指标养护里程≥120公里质量指标验收合格率≥95%"
    grid = grid_of(text * 1)
    assert layouts_of(text) == [FLAT]
    assert texts(grid.rows[0]) == ["项目名称", "乡村公路养护"]
    assert texts(grid.rows[2]) == ["项目总投资", "250万"]
    assert texts(grid.rows[4]) == ["产出指标", "数量指标", "养护里程", "≥120公里"]
    assert grid.rows[5].cells[0].continuation and texts(grid.rows[5])[1:] == ["质量指标", "验收合格率", "≥95%"]


def test_prose_only_is_read_not_refused():
    grid = grid_of("这是一封普通的信，没有任何表格。\n第二段。")
    assert [texts(r) for r in grid.rows] == [["这是一封普通的信，没有任何表格。"], ["第二段。"]]


@pytest.mark.parametrize("prefix", ["03", "07", "08", "09", "12", "14", "15", "19"])
def test_cut_anywhere_never_raises(prefix):
    text = corpus(prefix).read_text(encoding="utf-8")
    rng = random.Random(prefix)
    for cut in sorted({rng.randrange(1, len(text)) for _ in range(40)} | {1, len(text) // 2}):
        part = text[:cut]
        grid = repair_grid(Grid("cut.txt", parse_text("cut.txt", part)))
        written = "".join(c.as_written for r in grid.rows for c in r.cells)
        tail = part.replace("|", "").rstrip()
        assert not tail or tail[-1] in written  # the cut-off cell is there
        for row in grid.rows:
            for cell in row.cells:
                assert 1 <= cell.source.line <= part.count("\n") + 1


def test_cell_lines_without_padding_short_numbered_items_start_rows():
    grid = read_grid(corpus("03"))
    row, _ = find(grid, "2.项目实施内容及过程概述")
    assert texts(row) == ["2.项目实施内容及过程概述", ""] and row.cells[0].source.line == 20
    assert texts(find(grid, "项目负责人:")[0])[:2] == ["项目负责人:", "财务负责人:"]
    assert texts(grid.rows[0]) == ["报表编号:510000_0013zp"]
    # A long numbered note stays in its row (the 原因 of 总额), numbers never start rows.
    total, _ = find(grid, "总额")
    assert total.cells[-1].text.startswith("1.预算执行率=") and len(total.cells) == 8
    assert texts(find(grid, "财政专户管理资金")[0]) == ["财政专户管理资金", "0.00", "0.00", "0.00", "0.00%", "/", "/"]


def test_rows_pasted_from_excel_are_tab_separated_rows_not_a_word_dump():
    text = "项目名称\t乡村 道路 维护\t\t\n\t数量指标\t养护里程\t≥120公里\n\t质量指标\t验收 合格率\t≥95%\n"
    assert layouts_of(text) == [SPACED]
    grid = grid_of(text)
    assert [texts(r) for r in grid.rows] == [
        ["项目名称", "乡村 道路 维护"],
        ["", "数量指标", "养护里程", "≥120公里"],  # the empty first cell keeps the columns
        ["", "质量指标", "验收 合格率", "≥95%"],
    ]
    assert grid.rows[2].cells[2].source.line == 3
