"""Readers for .html/.htm, .xls, .csv and .pdf, from small fixtures written here, and the
dispatch in facts/read.py (by first bytes and suffix; text by its layout)."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from pathlib import Path

import pytest

from hegui.facts.errors import InputError
from hegui.facts.model import Cell, Grid
from hegui.facts.read import READABLE_SUFFIXES, read_filing, read_grid
from hegui.facts.values import parse_money

# --- helpers ---------------------------------------------------------------------------------------


def cells(grid: Grid) -> list[Cell]:
    return [cell for row in grid.rows for cell in row.cells]


def cell(grid: Grid, text: str) -> Cell:
    found = [c for c in cells(grid) if c.text == text]
    assert len(found) == 1, f"{text!r}: {[c.text for c in cells(grid)]}"
    return found[0]


def texts(grid: Grid) -> list[list[str]]:
    return [[c.text for c in row.cells] for row in grid.rows]


# --- html -------------------------------------------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>乡村道路</title><style>td {{ border: 1px }}</style>
<script>var x = "<table><tr><td>不是表格</td></tr></table>";</script></head>
<body>
<p>关于下达2024年乡村道路维护资金的通知</p>
<p>附件1</p>
<table border="1">
<tr><td colspan="4">项目支出绩效目标表（2024年度）</td></tr>
<tr><td>项目名称</td><td colspan="3">乡村道路维护</td></tr>
<tr><td>资金总额（万元）</td><td>1,250.50</td><td>其中：财政拨款</td><td>1,000</td></tr>
<tr><th>一级指标</th><th>二级指标</th><th>三级指标</th><th>指标值</th></tr>
<tr><td rowspan="2">产出指标</td><td rowspan="2">数量指标</td><td>维护道路</td><td>&ge;12公里</td></tr>
<tr><td>验收合格率<br>（抽检）</td><td>≧95%</td></tr>
<tr><td>备注</td><td colspan="3"><table><tr><td>甲</td><td>乙</td></tr><tr><td>丙</td></tr></table></td></tr>
</table>
<p>填表人：张三&nbsp;&nbsp;联系电话：0731-1234567</p>
{tail}
</body></html>
"""


def test_html_tables_spans_and_locators(tmp_path):
    path = tmp_path / "page.html"
    path.write_text(PAGE.format(tail=""), encoding="utf-8")
    grid = read_grid(path)
    assert "不是表格" not in [c.text for c in cells(grid)]  # script text is not page text
    notice = cell(grid, "关于下达2024年乡村道路维护资金的通知")
    assert notice.source.line == 5 and not notice.source.locator
    title = cell(grid, "项目支出绩效目标表（2024年度）")
    assert title.source.locator == "表1 第1行 第1列"
    row = next(r for r in grid.rows if r.cells[0].text == "项目名称")
    assert [(c.text, c.continuation, c.source.locator) for c in row.cells] == [
        ("项目名称", False, "表1 第2行 第1列"),
        ("乡村道路维护", False, "表1 第2行 第2列"),
        ("", True, "表1 第2行 第3列"),
        ("", True, "表1 第2行 第4列"),
    ]
    amount = cell(grid, "1,250.50")
    assert amount.source.locator == "表1 第3行 第2列"
    assert parse_money(amount.text, "万元").yuan == Decimal("12505000.00")
    second = next(r for r in grid.rows if len(r.cells) > 2 and r.cells[2].text.startswith("验收合格率"))
    assert [c.continuation for c in second.cells] == [True, True, False, False]
    assert second.cells[2].text == "验收合格率\n（抽检）" and second.cells[3].text == "≧95%"
    assert cell(grid, "≥12公里").source.locator == "表1 第5行 第4列"  # &ge; decoded
    assert cell(grid, "甲 乙\n丙").source.locator == "表1 第7行 第2列"  # nested table flattened
    footer = cell(grid, "填表人：张三")
    assert footer.source.line == 16


def test_html_text_outside_tables_goes_through_the_layouts(tmp_path):
    tail = "<pre>\n一级指标 | 二级指标 | 三级指标 | 指标值\n产出指标 | 质量指标 | 合格率 | ≥95%\n</pre>"
    path = tmp_path / "page.htm"
    path.write_text(PAGE.format(tail=tail), encoding="gb18030")
    grid = read_grid(path)
    assert grid.encoding == "gb18030"
    row = next(r for r in grid.rows if r.cells[0].text == "产出指标" and r.layout == "pipe-rows")
    assert [c.text for c in row.cells] == ["产出指标", "质量指标", "合格率", "≥95%"]
    assert row.cells[3].source.line == 19


def test_html_in_big5_as_its_meta_declares_read_as_simplified(tmp_path):
    page = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=big5"></head><body>'
    page += (
        "<table><tr><td>專項名稱</td><td>學生資助補助經費</td></tr><tr><td>年度金額</td><td>473,600</td></tr></table>"
    )
    path = tmp_path / "big5.htm"
    path.write_bytes((page + "</body></html>").encode("big5"))
    grid = read_grid(path)
    assert grid.encoding == "big5"
    name = cell(grid, "学生资助补助经费")
    assert name.raw == "學生資助補助經費" and name.source.locator == "表1 第1行 第2列"


def test_html_caption_is_a_row_before_its_table(tmp_path):
    path = tmp_path / "caption.html"
    path.write_text(
        "<table><caption>项目支出绩效目标表</caption><tr><td>项目名称</td><td>甲</td></tr></table>", encoding="utf-8"
    )
    grid = read_grid(path)
    assert texts(grid) == [["项目支出绩效目标表"], ["项目名称", "甲"]]
    assert grid.rows[0].cells[0].source.locator == "表1 标题"


def test_html_cut_off_inside_a_table_keeps_what_was_read(tmp_path):
    page = PAGE.format(tail="")
    path = tmp_path / "cut.html"
    path.write_text(page[: page.index("验收合格率") + 3], encoding="utf-8")
    grid = read_grid(path)
    assert cell(grid, "维护道路").source.locator == "表1 第5行 第3列"
    assert cell(grid, "验收合").source.locator == "表1 第6行 第3列"


def test_html_named_txt_is_read_as_html(tmp_path):
    path = tmp_path / "saved.txt"
    path.write_text(PAGE.format(tail=""), encoding="utf-8")
    assert cell(read_grid(path), "乡村道路维护").source.locator == "表1 第2行 第2列"


# --- xls --------------------------------------------------------------------------------------------


def write_xls(path: Path, *, hidden_copy: bool = False) -> Path:
    xlwt = pytest.importorskip("xlwt")
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("附件3-1")
    sheet.write_merge(0, 0, 0, 3, "专项资金支出方向绩效目标表")
    sheet.write(1, 0, "项目金额（万元）")
    sheet.write(1, 1, 939.28, xlwt.easyxf(num_format_str="0.00"))
    sheet.write(1, 2, "完成率")
    sheet.write(1, 3, 0.95, xlwt.easyxf(num_format_str="0%"))
    sheet.write(2, 0, "金额（元）")
    sheet.write(2, 1, 3309840, xlwt.easyxf(num_format_str="#,##0.00"))
    sheet.write(2, 2, "截止日期")
    sheet.write(2, 3, datetime.date(2023, 12, 31), xlwt.easyxf(num_format_str="YYYY-MM-DD"))
    sheet.write_merge(3, 4, 0, 0, "产出指标")
    sheet.write(3, 1, "数量指标")
    sheet.write(3, 2, "覆盖村数")
    sheet.write(3, 3, "≥9个")
    sheet.write(4, 1, "质量指标")
    sheet.write(4, 2, "合格率")
    sheet.write(4, 3, 0.1 + 0.2)  # a float that is not 0.3 in binary: shown as Excel stores it
    sheet.write(6, 0, True)
    if hidden_copy:
        other = book.add_sheet("旧版")
        other.write(0, 0, "去年的表")
        other.visibility = 1
    book.save(str(path))
    return path


def test_xls_cells_merges_formats_and_locators(tmp_path):
    grid = read_grid(write_xls(tmp_path / "old.xls", hidden_copy=True))
    title = cell(grid, "专项资金支出方向绩效目标表")
    assert title.source.locator == "附件3-1!A1:D1"
    assert [c.continuation for c in grid.rows[0].cells] == [False, True, True, True]
    amount = cell(grid, "939.28")
    assert amount.source.locator == "附件3-1!B2" and parse_money(amount.text).yuan == Decimal("9392800.00")
    assert cell(grid, "95%").source.locator == "附件3-1!D2"
    assert cell(grid, "3309840.00").source.locator == "附件3-1!B3"
    assert cell(grid, "2023年12月31日").source.locator == "附件3-1!D3"
    assert cell(grid, "产出指标").source.locator == "附件3-1!A4:A5"
    below = next(r for r in grid.rows if r.cells[1].text == "质量指标")
    assert below.cells[0].continuation and below.cells[0].source.locator == "附件3-1!A5"
    assert cell(grid, "0.30000000000000004").source.locator == "附件3-1!D5"
    assert cell(grid, "是").source.locator == "附件3-1!A7"
    assert "去年的表" not in [c.text for c in cells(grid)]  # hidden sheets are not read


@pytest.mark.parametrize(
    "data, words",
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2000), "Excel 97-2003"),
        (b"not an excel file at all", "Excel 97-2003"),
    ],
)
def test_broken_xls_is_an_input_error(tmp_path, data, words):
    path = tmp_path / "bad.xls"
    path.write_bytes(data)
    with pytest.raises(InputError) as info:
        read_grid(path)
    assert words in info.value.message and info.value.path == str(path)


# --- csv --------------------------------------------------------------------------------------------

CSV = '项目名称,乡村道路维护,,\n资金总额（万元）,"1,250.50",其中：财政拨款,"1,000"\n一级指标,二级指标,三级指标,指标值\n产出指标,数量指标,"维护道路\n（含桥涵）",≥12公里\n'


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_encodings_quotes_and_lines(tmp_path, encoding):
    path = tmp_path / "table.csv"
    path.write_bytes(CSV.encode(encoding))
    grid = read_grid(path)
    assert texts(grid)[0] == ["项目名称", "乡村道路维护"]  # padding commas dropped
    amount = cell(grid, "1,250.50")
    assert amount.source.line == 2 and parse_money(amount.text).yuan == Decimal("12505000.00")
    multi = cell(grid, "维护道路\n（含桥涵）")
    assert (multi.source.line, multi.source.end_line) == (4, 5)
    assert cell(grid, "≥12公里").source.line == 4


@pytest.mark.parametrize("name", ["unicode.txt", "unicode.csv"])
def test_excel_unicode_text_utf16_tab_separated(tmp_path, name):
    path = tmp_path / name
    path.write_bytes("项目名称\t乡村道路维护\r\n资金总额（万元）\t250\r\n".encode("utf-16"))
    grid = read_grid(path)
    assert grid.encoding == "utf-16"
    assert texts(grid) == [["项目名称", "乡村道路维护"], ["资金总额（万元）", "250"]]
    assert cell(grid, "250").source.line == 2


def test_csv_with_semicolons_and_a_cut_off_quote(tmp_path):
    path = tmp_path / "cut.csv"
    path.write_text('项目名称;道路\n金额;"12\n', encoding="utf-8")
    grid = read_grid(path)
    assert texts(grid)[0] == ["项目名称", "道路"]
    assert texts(grid)[1][0] == "金额"


# --- pdf --------------------------------------------------------------------------------------------


def write_pdf(path: Path) -> Path:
    pytest.importorskip("reportlab")
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Table, TableStyle

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    style = ParagraphStyle("zh", fontName="STSong-Light", fontSize=10)
    rows = [
        ["项目名称", "乡村道路维护", "", ""],
        ["资金总额（万元）", "250", "其中：财政拨款", "200"],
        ["一级指标", "二级指标", "三级指标", "指标值"],
        ["产出指标", "数量指标", "维护道路", "≥12公里"],
        ["", "", "验收合格率", "≥95%"],
    ]
    table = Table(rows)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), "STSong-Light"),
                ("GRID", (0, 0), (-1, -1), 0.5, "black"),
                ("SPAN", (1, 0), (3, 0)),
                ("SPAN", (0, 3), (0, 4)),
                ("SPAN", (1, 3), (1, 4)),
            ]
        )
    )
    story = [Paragraph("项目支出绩效目标表（2024年度）", style), Paragraph("单位：万元", style), table]
    story += [PageBreak(), Paragraph("填表人：张三", style)]
    SimpleDocTemplate(str(path), pagesize=A4).build(story)
    return path


def test_pdf_tables_and_text_with_page_locators(tmp_path):
    grid = read_grid(write_pdf(tmp_path / "filing.pdf"))
    assert cell(grid, "项目支出绩效目标表（2024年度）").source.locator == "第1页 文字第1行"
    assert cell(grid, "单位：万元").source.locator == "第1页 文字第2行"
    assert cell(grid, "乡村道路维护").source.locator == "第1页 第1行 第2列"
    assert cell(grid, "250").source.locator == "第1页 第2行 第2列"
    merged = next(r for r in grid.rows if len(r.cells) > 2 and r.cells[2].text == "验收合格率")
    assert [c.continuation for c in merged.cells] == [True, True, False, False]
    assert merged.cells[3].text == "≥95%" and merged.cells[3].source.locator == "第1页 第5行 第4列"
    assert cell(grid, "填表人：张三").source.locator == "第2页 文字第1行"
    titles = [r.cells[0].text for r in grid.rows]
    assert titles.index("项目支出绩效目标表（2024年度）") < titles.index("项目名称")  # reading order


def test_pdf_named_txt_is_read_as_pdf_not_refused_as_a_text_dump(tmp_path):
    path = tmp_path / "filing.txt"
    path.write_bytes(write_pdf(tmp_path / "filing.pdf").read_bytes())
    assert cell(read_grid(path), "乡村道路维护").source.locator == "第1页 第1行 第2列"


@pytest.mark.parametrize("data, words", [(b"%PDF-1.7\n", "PDF 文件已损坏"), (b"hello", "不是 PDF")])
def test_broken_pdf_is_an_input_error_never_the_tab_dump_message(tmp_path, data, words):
    path = tmp_path / "bad.pdf"
    path.write_bytes(data)
    with pytest.raises(InputError) as info:
        read_grid(path)
    assert words in info.value.message and "Tab" not in info.value.message


# --- dispatch ---------------------------------------------------------------------------------------


def test_suffixes_and_refusals():
    assert {".html", ".htm", ".xls", ".csv", ".pdf", ".txt"} <= set(READABLE_SUFFIXES)


def test_legacy_doc_still_refused(tmp_path):
    path = tmp_path / "old.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100))
    with pytest.raises(InputError) as info:
        read_grid(path)
    assert "另存为" in info.value.message


def test_zip_content_with_a_text_suffix_names_the_real_format(tmp_path):
    path = tmp_path / "filing.txt"
    path.write_bytes(b"PK\x03\x04" + bytes(100))
    with pytest.raises(InputError) as info:
        read_grid(path)
    assert ".xlsx" in info.value.message and "Tab" not in info.value.message


def test_no_table_at_all_is_refused_by_the_recogniser_not_the_reader(tmp_path):
    path = tmp_path / "letter.txt"
    path.write_text("这是一封普通的信，没有任何表格。\n", encoding="utf-8")
    assert read_grid(path).rows  # read …
    with pytest.raises(InputError) as info:
        read_filing(path)  # … then refused for want of a table
    assert "不是表格文本导出格式" not in info.value.message


def test_the_example_as_csv_gives_the_same_findings(tmp_path, example_path, evaluator):
    """Same cells, another format: the same findings, each pointing at its CSV line."""
    import csv

    from hegui.facts.textdump import read_text_dump

    rows = [[c.text for c in row.cells] for row in read_text_dump(example_path).rows]
    path = tmp_path / "filing.csv"
    with path.open("w", encoding="gb18030", newline="") as handle:
        csv.writer(handle).writerows(rows)
    by_dump = evaluator.check(read_filing(example_path)).findings
    by_csv = evaluator.check(read_filing(path)).findings
    assert by_dump  # the example has findings: the comparison means something

    def key(findings):  # lines differ between the two files; everything else must not
        return sorted((f.rule_id, f.item, f.status, re.sub(r"第\d+(?:-\d+)?行", "第N行", f.message)) for f in findings)

    assert key(by_csv) == key(by_dump)
    assert {f.message for f in by_csv} != {f.message for f in by_dump}  # CSV lines, not the dump's


def test_damaged_files_of_every_format_give_a_grid_or_an_input_error(tmp_path):
    """Truncated and bit-flipped copies of each fixture: never any other exception."""
    import random

    rng = random.Random(11)
    sources = {
        ".html": PAGE.format(tail="").encode("utf-8"),
        ".csv": CSV.encode("gbk"),
        ".xls": write_xls(tmp_path / "ok.xls").read_bytes(),
        ".pdf": write_pdf(tmp_path / "ok.pdf").read_bytes(),
        ".txt": (
            Path(__file__).parent / "fixtures" / "corpus" / "15_jingyan_mata_cunzu_ganbu_markdown.txt"
        ).read_bytes(),
    }
    for suffix, data in sources.items():
        for n in range(12):
            damaged = bytearray(data[: rng.randrange(1, len(data))] if n % 2 else data)
            for _ in range(rng.randrange(1, 8)):
                damaged[rng.randrange(len(damaged))] = rng.randrange(256)
            path = tmp_path / f"d{n}{suffix}"
            path.write_bytes(bytes(damaged))
            try:
                grid = read_grid(path)
            except InputError as exc:
                assert exc.message and exc.path == str(path)
            else:
                assert isinstance(grid, Grid)
