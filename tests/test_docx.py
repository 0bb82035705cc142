"""The Word reader: layout (merges, paragraphs, nested tables), provenance, hostile files, and
the example filing rebuilt as a .docx reading exactly like its text dump."""

from __future__ import annotations

import io
import re
import sys
import time
import zipfile
from decimal import Decimal
from pathlib import Path

import docx
import openpyxl
import pytest
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn

from hegui.engine.findings import STATUS_FAIL
from hegui.facts.docx import read_docx
from hegui.facts.errors import InputError
from hegui.facts.model import Filing, Grid
from hegui.facts.ooxml import MAX_FILE_BYTES, OLE2_MAGIC
from hegui.facts.read import read_filing

# tests/ is not a package and pytest runs with --import-mode=importlib, so the generator next
# to this file is put on the path explicitly.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_docx import write_docx

# --- small documents ---------------------------------------------------------------------------


def _save(document, tmp_path: Path, name: str = "t.docx") -> Path:
    path = tmp_path / name
    document.save(str(path))
    return path


def _new() -> docx.Document:
    document = docx.Document()
    body = document.element.body
    for child in list(body):  # the default template may start with an empty paragraph
        if child.tag != qn("w:sectPr"):
            body.remove(child)
    return document


def _fill(table, texts: list[list[str]]) -> None:
    for r, row in enumerate(texts):
        for c, text in enumerate(row):
            if text:
                table.cell(r, c).text = text


def _cells(grid: Grid) -> list[list[tuple[str, bool, str]]]:
    return [[(c.text, c.continuation, c.source.locator) for c in row.cells] for row in grid.rows]


def test_horizontal_merge_is_one_cell_at_its_first_grid_column(tmp_path):
    document = _new()
    table = document.add_table(rows=3, cols=4)
    table.cell(0, 0).merge(table.cell(0, 3)).text = "2023年专项资金支出方向绩效目标表"
    table.cell(1, 1).merge(table.cell(1, 2))
    _fill(table, [[], ["项目金额", "70", "", "2023"], ["a", "b", "c", "d"]])
    grid = read_docx(_save(document, tmp_path))
    assert _cells(grid) == [
        [("2023年专项资金支出方向绩效目标表", False, "表1 第1行 第1列")],
        [("项目金额", False, "表1 第2行 第1列"), ("70", False, "表1 第2行 第2列"), ("2023", False, "表1 第2行 第4列")],
        [(t, False, f"表1 第3行 第{i}列") for i, t in enumerate("abcd", start=1)],
    ]


def test_vertical_merge_continues_with_empty_cells(tmp_path):
    document = _new()
    table = document.add_table(rows=3, cols=3)
    table.cell(0, 0).merge(table.cell(2, 0)).text = "年度绩效指标"
    table.cell(1, 1).merge(table.cell(2, 1)).text = "产出指标"
    _fill(table, [["", "一级指标", "二级指标"], ["", "", "产出数量"], ["", "", "产出质量"]])
    grid = read_docx(_save(document, tmp_path))
    assert [[(c.text, c.continuation) for c in row.cells] for row in grid.rows] == [
        [("年度绩效指标", False), ("一级指标", False), ("二级指标", False)],
        [("", True), ("产出指标", False), ("产出数量", False)],
        [("", True), ("", True), ("产出质量", False)],
    ]
    assert grid.rows[2].cells[1].source.locator == "表1 第3行 第2列"


def test_caption_is_the_label_above_the_table_or_in_its_first_row(tmp_path):
    document = _new()
    document.add_paragraph("附件 3-2")
    document.add_paragraph("2023年专项资金支出方向绩效目标表")
    document.add_table(rows=1, cols=2).cell(0, 0).text = "项目金额"
    document.add_paragraph("")
    # No paragraph above: the previous table's caption does not carry over, the label in the
    # table's first row is used.
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "附件3-3"
    table.cell(1, 1).text = "13.50"
    document.add_paragraph("")
    document.add_table(rows=1, cols=1).cell(0, 0).text = "x"
    document.add_paragraph("这是一个很长很长的说明段落，超过二十个字的部分不进入位置说明")
    document.add_table(rows=1, cols=1).cell(0, 0).text = "y"
    grid = read_docx(_save(document, tmp_path))
    locators = [row.cells[-1].source.locator for row in grid.rows]
    assert locators == [
        "文档开头第1段",
        "文档开头第2段",
        "附件3-2 表1 第1行 第2列",
        "附件3-3 表2 第1行 第2列",
        "附件3-3 表2 第2行 第2列",
        "表3 第1行 第1列",
        "表3之后第1段",
        "这是一个很长很长的说明段落，超过二十个字… 表4 第1行 第1列",
    ]
    assert str(grid.rows[2].cells[1].source) == f"{tmp_path / 't.docx'}:附件3-2 表1 第1行 第2列"


def test_paragraphs_outside_tables_are_one_cell_rows_in_document_order(tmp_path):
    document = _new()
    document.add_paragraph("附件2")
    document.add_paragraph("")
    document.add_paragraph("   ")
    document.add_paragraph("2023年专项资金预算绩效目标汇总表")
    document.add_table(rows=1, cols=2).cell(0, 0).text = "序号"
    document.add_paragraph("填表人：陈光")
    document.add_table(rows=1, cols=1).cell(0, 0).text = "附件3-1"
    grid = read_docx(_save(document, tmp_path))
    assert [[c.text for c in row.cells] for row in grid.rows] == [
        ["附件2"],
        ["2023年专项资金预算绩效目标汇总表"],
        ["序号", ""],
        ["填表人：陈光"],
        ["附件3-1"],
    ]
    assert grid.rows[1].cells[0].source.locator == "文档开头第4段"
    assert grid.rows[3].cells[0].source.locator == "表1之后第1段"


def test_cell_paragraphs_runs_and_breaks(tmp_path):
    document = _new()
    cell = document.add_table(rows=1, cols=1).cell(0, 0)
    first = cell.paragraphs[0]
    first.add_run("1、办公经费")
    first.add_run("：45万元")
    cell.add_paragraph("")
    second = cell.add_paragraph("2、党建经费")
    second.add_run().add_break()
    second.add_run("共36万元")
    grid = read_docx(_save(document, tmp_path))
    assert grid.rows[0].cells[0].text == "1、办公经费：45万元\n\n2、党建经费\n共36万元"


def test_nested_table_is_flattened_into_its_cell(tmp_path):
    document = _new()
    outer = document.add_table(rows=1, cols=2)
    cell = outer.cell(0, 1)
    cell.paragraphs[0].add_run("测算：")
    inner = cell.add_table(rows=2, cols=3)
    inner.cell(0, 0).merge(inner.cell(0, 1)).text = "交通费"
    inner.cell(0, 2).text = "14.4"
    _fill(inner, [[], ["保险", "", "0.36"]])
    outer.cell(0, 0).text = "明细"
    grid = read_docx(_save(document, tmp_path))
    assert len(grid.rows) == 1
    # python-docx, like Word, ends a cell with a paragraph after a nested table.
    assert grid.rows[0].cells[1].text == "测算：\n交通费 14.4\n保险 0.36\n"


def test_revisions_hidden_text_and_content_controls(tmp_path):
    document = _new()
    table = document.add_table(rows=1, cols=1)
    paragraph = table.cell(0, 0).paragraphs[0]
    paragraph.add_run("20")
    hidden = paragraph.add_run("（草稿）")
    hidden.font.hidden = True
    paragraph._p.append(
        parse_xml(f'<w:del {nsdecls("w")} w:id="1" w:author="a"><w:r><w:delText>15</w:delText></w:r></w:del>')
    )
    paragraph._p.append(parse_xml(f'<w:ins {nsdecls("w")} w:id="2" w:author="a"><w:r><w:t>万元</w:t></w:r></w:ins>'))
    # A content control around the whole table, as forms exported from budget systems have.
    tbl = table._tbl
    sdt = parse_xml(f"<w:sdt {nsdecls('w')}><w:sdtPr/><w:sdtContent/></w:sdt>")
    tbl.addprevious(sdt)
    sdt.find(qn("w:sdtContent")).append(tbl)
    grid = read_docx(_save(document, tmp_path))
    assert [[c.text for c in row.cells] for row in grid.rows] == [["20万元"]]


def test_inserted_symbols_are_read_or_flagged(tmp_path):
    document = _new()
    table = document.add_table(rows=1, cols=2)
    sym = '<w:r {ns}><w:sym w:font="{font}" w:char="{char}"/></w:r>'
    good = table.cell(0, 0).paragraphs[0]
    good._p.append(parse_xml(sym.format(ns=nsdecls("w"), font="Symbol", char="F0B3")))
    good.add_run("95%")
    bad = table.cell(0, 1).paragraphs[0]
    bad._p.append(parse_xml(sym.format(ns=nsdecls("w"), font="Wingdings", char="F0FC")))
    bad.add_run("完成")
    first, second = read_docx(_save(document, tmp_path)).rows[0].cells
    # Insert ▸ Symbol writes ≥ as a Symbol-font code: losing it would turn ≥95% into 95%.
    assert (first.text, first.problem) == ("≥95%", "")
    assert second.text == "\ufffd完成" and "Wingdings" in second.problem


# --- hostile and broken files ------------------------------------------------------------------


def _docx_bytes(tmp_path: Path) -> bytes:
    document = _new()
    document.add_paragraph("附件1")
    document.add_table(rows=2, cols=2).cell(0, 0).text = "部门名称"
    return _save(document, tmp_path, "valid.docx").read_bytes()


def _rezip(data: bytes, replace: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, replace.get(info.filename, source.read(info.filename)))
        for name, content in replace.items():
            if name not in source.namelist():
                target.writestr(name, content)
    return out.getvalue()


def _patch_central(data: bytes, member: str, offset: int, value: bytes) -> bytes:
    """Overwrite a field of ``member``'s central-directory entry (what the zip declares)."""
    name = member.encode()
    at = 0
    while True:
        at = data.index(b"PK\x01\x02", at)
        length = int.from_bytes(data[at + 28 : at + 30], "little")
        if data[at + 46 : at + 46 + length] == name:
            return data[: at + offset] + value + data[at + offset + len(value) :]
        at += 4


def _corrupt_member(data: bytes, member: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(member)
    header = info.header_offset
    start = (
        header
        + 30
        + int.from_bytes(data[header + 26 : header + 28], "little")
        + int.from_bytes(data[header + 28 : header + 30], "little")
    )
    middle = start + info.compress_size // 2
    return data[:middle] + bytes(b ^ 0xA5 for b in data[middle : middle + 16]) + data[middle + 16 :]


def _xlsx_bytes() -> bytes:
    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "附件1"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _empty_docx(tmp_path: Path) -> bytes:
    return _save(_new(), tmp_path, "empty.docx").read_bytes()


def _text_only_docx(tmp_path: Path) -> bytes:
    document = _new()
    document.add_paragraph("2023年部门整体支出绩效目标表")
    document.add_paragraph("部门名称：石峰区委组织部")
    return _save(document, tmp_path, "text.docx").read_bytes()


def _entity_bomb() -> bytes:
    # "Billion laughs": each entity ten times the one before; &e; would be 10**5 copies.
    entities = ['<!ENTITY a "haha">'] + [
        f'<!ENTITY {b} "{("&" + a + ";") * 10}">' for a, b in zip("abcd", "bcde", strict=True)
    ]
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE w:document [' + "".join(entities) + "]>\n"
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:body><w:p><w:r><w:t>&e;</w:t></w:r></w:p></w:body></w:document>"
    ).encode()


def _macro_enabled(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        types = archive.read("[Content_Types].xml")
    main = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    return _rezip(
        data, {"[Content_Types].xml": types.replace(main, b"application/vnd.ms-word.document.macroEnabled.main+xml")}
    )


def _truncated(tmp_path: Path) -> bytes:
    data = _docx_bytes(tmp_path)
    return data[: len(data) // 2]


HOSTILE = {
    "not_a_zip": (lambda tmp: "这不是 Word 文档，只是文字。".encode(), "不是有效的Word 文档"),
    "empty_file": (lambda tmp: b"", "文件为空"),
    "truncated": (_truncated, "损坏或不完整"),
    "corrupt_member": (lambda tmp: _corrupt_member(_docx_bytes(tmp), "word/document.xml"), "损坏"),
    "unsupported_compression": (
        lambda tmp: _patch_central(_docx_bytes(tmp), "word/document.xml", 10, b"\x63\x00"),
        "损坏",
    ),
    "macro_enabled": (lambda tmp: _macro_enabled(_docx_bytes(tmp)), "启用宏"),
    "malformed_xml": (
        lambda tmp: _rezip(_docx_bytes(tmp), {"word/document.xml": b"<w:document><w:body><w:p>"}),
        "损坏",
    ),
    "encrypted": (
        lambda tmp: OLE2_MAGIC + bytes(504) + "EncryptedPackage".encode("utf-16-le") + bytes(1024),
        "加密",
    ),
    "encrypted_zip_member": (lambda tmp: _patch_central(_docx_bytes(tmp), "word/document.xml", 8, b"\x01\x00"), "加密"),
    "legacy_doc": (lambda tmp: OLE2_MAGIC + bytes(504) + "WordDocument".encode("utf-16-le") + bytes(1024), ".doc"),
    "zip_bomb": (
        lambda tmp: _patch_central(_docx_bytes(tmp), "word/document.xml", 24, (0xFFFF_FFF0).to_bytes(4, "little")),
        "压缩炸弹",
    ),
    "entity_bomb": (lambda tmp: _rezip(_docx_bytes(tmp), {"word/document.xml": _entity_bomb()}), "实体"),
    "empty_document": (_empty_docx, "文档中没有表格"),
    "text_without_table": (_text_only_docx, "文档中没有表格"),
    "xlsx_renamed": (lambda tmp: _xlsx_bytes(), "扩展名与内容不符"),
    "no_document_part": (
        lambda tmp: _rezip(b"PK\x05\x06" + bytes(18), {"[Content_Types].xml": b"<Types/>"}),
        "缺少 word/document.xml",
    ),
    "too_large": (lambda tmp: b"PK\x03\x04" + bytes(MAX_FILE_BYTES), "文件过大"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_files_raise_input_error_naming_the_file(case, tmp_path):
    build, message = HOSTILE[case]
    path = tmp_path / f"申报_{case}.docx"
    path.write_bytes(build(tmp_path))
    started = time.perf_counter()
    with pytest.raises(InputError) as caught:
        read_filing(path)
    assert time.perf_counter() - started < 5
    assert str(path) in str(caught.value)
    assert message in caught.value.message, caught.value.message


def test_legacy_doc_says_how_to_convert(tmp_path):
    path = tmp_path / "旧版.docx"
    path.write_bytes(OLE2_MAGIC + bytes(2048))
    with pytest.raises(InputError, match=r"另存为.*\.docx"):
        read_docx(path)


def test_data_given_and_missing_file(tmp_path):
    data = _docx_bytes(tmp_path)
    grid = read_docx("上传的文件.docx", data=data)
    assert grid.path == "上传的文件.docx"
    assert grid.rows[1].cells[0].source.locator == "附件1 表1 第1行 第1列"
    with pytest.raises(InputError, match="找不到文件"):
        read_docx(tmp_path / "没有这个文件.docx")


# --- the example filing as a Word document -----------------------------------------------------


def _texts(cell) -> str:
    return cell.stripped if cell is not None else None


def _field(field) -> tuple | None:
    if field is None:
        return None
    return (field.label, field.text, field.money.yuan if field.money else None)


def _indicators(indicators) -> list[tuple]:
    return [
        (_texts(i.level1), _texts(i.level2), _texts(i.level3), _texts(i.value), i.parsed, _texts(i.standard))
        for i in indicators
    ]


def model_values(filing: Filing) -> dict:
    """Everything the filing says, without where it was read: equal for the same filing in any format."""
    out: dict = {"department": filing.department, "year": filing.year, "tables": [t.label for t in filing.tables()]}
    for table in filing.tables():
        values = {"title": _texts(table.title), "unit": table.unit}
        values["footer"] = [_field(f) for f in (table.footer.signatory, table.footer.preparer, table.footer.phone)]
        values["department"] = _field(getattr(table, "department", None))
        if table is filing.overview:
            values["total"] = _field(table.total)
            values["income"] = [_field(f) for f in table.income]
            values["expense"] = [_field(f) for f in table.expense]
            values["duties"] = _texts(table.duties)
            values["work_plans"] = [(_texts(w.item), _texts(w.owner), _texts(w.goal)) for w in table.work_plans]
            values["indicators"] = _indicators(table.indicators)
        elif table is filing.summary:
            values["total"] = _field(table.total)
            values["rows"] = [
                (r.seq, _texts(r.name), _field(r.amount), _texts(r.period_goal), _texts(r.annual_goal))
                for r in table.rows
            ]
        else:
            for name in ("name", "parent_fund", "amount", "period", "detail_total"):
                values[name] = _field(getattr(table, name))
            values["seq"] = table.seq
            values["goals"] = (_texts(table.period_goal), _texts(table.annual_goal))
            values["indicators"] = _indicators(table.indicators)
            values["details"] = [
                (d.index, _texts(d.intro), _texts(d.detail), _field(d.amount), _texts(d.basis)) for d in table.details
            ]
        out[table.label] = values
    return out


def finding_keys(findings) -> set[tuple]:
    return {(f.rule_id, f.table, f.item, f.status, f.expected, f.actual) for f in findings}


@pytest.fixture(scope="module")
def example_docx(tmp_path_factory) -> Path:
    return write_docx(tmp_path_factory.mktemp("docx") / "石峰区委组织部2023.docx")


@pytest.fixture(scope="module")
def text_filing(example_path) -> Filing:
    return read_filing(example_path)


@pytest.fixture(scope="module")
def docx_filing(example_docx) -> Filing:
    return read_filing(example_docx)


def test_generated_document_has_real_merges_and_paragraphs(example_docx):
    with zipfile.ZipFile(example_docx) as archive:
        xml = archive.read("word/document.xml").decode("utf-8")
    assert xml.count("<w:tbl>") == 7
    assert xml.count('w:vMerge w:val="restart"') >= 7 * 2  # first column of every indicator/detail block
    assert "<w:gridSpan" in xml
    document = docx.Document(str(example_docx))
    cell = next(
        c for t in document.tables for row in t.rows for c in row.cells if c.text.startswith("1、9个行政村现任")
    )
    assert [p.text[:2] for p in cell.paragraphs if p.text] == ["1、", "2、", "3、"]


def test_docx_reads_to_the_same_model_values(text_filing, docx_filing):
    assert docx_filing.department == "石峰区委组织部" and docx_filing.year == 2023
    expected, actual = model_values(text_filing), model_values(docx_filing)
    assert actual.keys() == expected.keys()
    for key in expected:
        assert actual[key] == expected[key], key
    # The amounts really are there, not merely equally missing.
    assert docx_filing.summary.total.money.yuan == Decimal("5829000")
    assert [d.amount.money.yuan for d in docx_filing.directions[1].details] == [
        Decimal(v) for v in ("270000", "2210000", "500000", "14000")
    ]


def test_docx_gives_the_same_findings(evaluator, text_filing, docx_filing, example_docx):
    text_findings = evaluator.check(text_filing).findings
    docx_findings = evaluator.check(docx_filing).findings
    assert finding_keys(docx_findings) == finding_keys(text_findings)
    assert len(docx_findings) == len(text_findings) == 79
    for finding in docx_findings:
        assert finding.location.startswith(f"{example_docx}:"), finding.location
        assert re.search(r"表\d+ 第\d+行 第\d+列$", finding.location), finding.location


def _cell_at(filing_path: Path, locator: str):
    from hegui.facts.read import read_grid

    for row in read_grid(filing_path).rows:
        for index, cell in enumerate(row.cells):
            if cell.source.locator == locator:
                return row, index, cell
    raise AssertionError(locator)


def test_findings_point_at_the_cells(evaluator, docx_filing, example_docx):
    findings = {f.rule_id: f for f in evaluator.check(docx_filing).findings if f.status == STATUS_FAIL}
    village = findings["ZZ-ZCDY-001"]
    assert village.location == f"{example_docx}:附件3-5 表7 第5行 第2列"
    row, index, cell = _cell_at(example_docx, "附件3-5 表7 第5行 第2列")
    assert (row.cells[index - 1].stripped, cell.stripped) == ("项目金额", "20")
    pension = findings["HN-YLBX-001"]
    _, _, cell = _cell_at(example_docx, pension.location.split(":", 1)[1])
    assert cell.stripped == "1.4"


@pytest.mark.parametrize(
    "variant",
    [
        {"order": ["附件3-5", "附件3-4", "附件3-3", "附件3-2", "附件3-1", "附件2", "附件1"]},
        {"order": ["附件2", "附件3-3", "附件1", "附件3-1", "附件3-5", "附件3-2", "附件3-4"]},
        {"extra_title_paragraphs": 3},
        {
            "order": ["附件3-2", "附件1", "附件2", "附件3-1", "附件3-3", "附件3-4", "附件3-5"],
            "extra_title_paragraphs": 2,
        },
    ],
    ids=["reversed", "shuffled", "extra_titles", "both"],
)
def test_variants_give_the_same_findings(variant, evaluator, text_filing, tmp_path):
    path = write_docx(tmp_path / "variant.docx", **variant)
    filing = read_filing(path)
    assert model_values(filing) == model_values(text_filing)
    findings = evaluator.check(filing).findings
    assert finding_keys(findings) == finding_keys(evaluator.check(text_filing).findings)
    village = next(f for f in findings if f.rule_id == "ZZ-ZCDY-001")
    table = (variant.get("order") or ["附件1", "附件2", "附件3-1", "附件3-2", "附件3-3", "附件3-4", "附件3-5"]).index(
        "附件3-5"
    ) + 1
    assert village.location == f"{path}:附件3-5 表{table} 第5行 第2列"


# --- what the recogniser and the engine still assume about line numbers -------------------------


def _edited(source: Path, target: Path, table_index: int, drop_rows) -> Path:
    """A copy of ``source`` with some rows of one table removed (python-docx, as a user would)."""
    document = docx.Document(str(source))
    table = document.tables[table_index]
    rows = table._tbl.tr_lst
    for index, tr in enumerate(rows):
        if drop_rows(index, tr.xpath("string(.)")):
            table._tbl.remove(tr)
    document.save(str(target))
    return target


def test_agreement_message_names_the_cells_not_line_zero(evaluator, docx_filing):
    finding = next(f for f in evaluator.check(docx_filing).findings if f.rule_id == "QG-X-007")
    assert "第0行" not in finding.message


def test_finding_about_a_whole_table_points_into_the_table(evaluator, example_docx, tmp_path):
    path = _edited(example_docx, tmp_path / "无生态效益.docx", 2, lambda i, text: "生态效益" in text and i > 7)
    findings = [f for f in evaluator.check(read_filing(path)).findings if f.rule_id == "QG-IND-001"]
    assert [f.table for f in findings] == ["附件3-1"]
    assert "表3" in findings[0].location, findings[0].location


def test_cut_off_table_is_located_by_its_last_row(evaluator, example_docx, tmp_path):
    short = write_docx(tmp_path / "only.docx", order=["附件3-5"])
    path = _edited(short, tmp_path / "截断.docx", 0, lambda i, text: i >= 7)
    # Read as far as it goes (issue 11): the checks that need the cut part cannot be verified,
    # and say where the table stops — a cell, never 第0行.
    (direction,) = read_filing(path).directions
    assert direction.missing and direction.cut_after is not None
    cut = [f for f in evaluator.check(read_filing(path)).findings if "截断" in f.message]
    assert cut and all(f.status == "cannot_verify" for f in cut)
    assert all("第0行" not in f.message and "表1" in f.message for f in cut), [f.message for f in cut]
