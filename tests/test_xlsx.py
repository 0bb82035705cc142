"""The Excel reader: cell values and provenance, hostile files, and the example end to end.

Workbooks are built at test time: small ones with openpyxl (or raw XML where the point is
what Excel itself writes), the example filing in its two real-world layouts with
``tests/make_xlsx.py``.
"""

from __future__ import annotations

import datetime
import importlib.util
import io
import re
import struct
import sys
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from hegui.engine.findings import STATUS_FAIL
from hegui.facts.errors import InputError
from hegui.facts.model import Cell, Grid
from hegui.facts.read import read_filing
from hegui.facts.xlsx import read_xlsx

TESTS = Path(__file__).resolve().parent


def _load_helper():
    # --import-mode=importlib puts nothing on sys.path; load the generator by file.
    spec = importlib.util.spec_from_file_location("make_xlsx", TESTS / "make_xlsx.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_xlsx"] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


make_xlsx = sys.modules.get("make_xlsx") or _load_helper()


# --- helpers ------------------------------------------------------------------------------------


def _save(wb: openpyxl.Workbook, path: Path) -> Path:
    wb.save(path)
    return path


def _rows(grid: Grid) -> list[list[Cell]]:
    return [row.cells for row in grid.rows]


def _by_locator(grid: Grid) -> dict[str, Cell]:
    return {cell.source.locator: cell for row in grid.rows for cell in row.cells}


MAIN_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def raw_xlsx(sheets: list[tuple[str, str, str]], shared: list[str] | str | None = None) -> bytes:
    """A minimal .xlsx from raw XML, to write exactly what Excel (or a hostile tool) writes.

    ``sheets`` holds (name, sheetData-and-more XML or a whole part, state); ``shared`` the
    shared strings, or a whole sharedStrings part.
    """
    ct = [
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    ]
    rels = [
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    ]
    entries, parts = [], {}
    for i, (name, body, state) in enumerate(sheets, 1):
        ct.append(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        )
        rels.append(f'<Relationship Id="rId{i}" Type="{REL}/worksheet" Target="worksheets/sheet{i}.xml"/>')
        entries.append(
            f'<sheet name="{name}" sheetId="{i}"{f" state={chr(34)}{state}{chr(34)}" if state else ""} r:id="rId{i}"/>'
        )
        whole = body.startswith(("<?xml", "<!"))
        parts[f"xl/worksheets/sheet{i}.xml"] = (
            body if whole else f'<?xml version="1.0" encoding="UTF-8"?><worksheet {MAIN_NS}>{body}</worksheet>'
        )
    if shared is not None:
        n = len(sheets) + 1
        ct.append(
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        )
        rels.append(f'<Relationship Id="rId{n}" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>')
        parts["xl/sharedStrings.xml"] = (
            shared
            if isinstance(shared, str)
            else f'<?xml version="1.0" encoding="UTF-8"?><sst {MAIN_NS}>'
            + "".join(f"<si><t>{s}</t></si>" for s in shared)
            + "</sst>"
        )
    parts["[Content_Types].xml"] = "".join(ct) + "</Types>"
    parts["_rels/.rels"] = (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    parts["xl/_rels/workbook.xml.rels"] = "".join(rels) + "</Relationships>"
    parts["xl/workbook.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook {MAIN_NS}><sheets>{"".join(entries)}</sheets></workbook>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return out.getvalue()


def _one_sheet(body: str, shared: list[str] | None = None, name: str = "表") -> bytes:
    return raw_xlsx([(name, body, "")], shared)


# --- values and provenance ------------------------------------------------------------------------


def test_merged_ranges_give_an_anchor_and_continuations(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "附件1"
    ws["A1"] = "2023年部门整体支出绩效目标表"
    ws.merge_cells("A1:C1")
    ws["A2"] = "年度绩效指标"
    ws.merge_cells("A2:A4")
    ws["B2"], ws["C2"] = "一级指标", "指标值"
    ws["B3"], ws["C3"] = "产出指标", "≥95%"
    ws["C4"] = "≤15万元"
    path = _save(wb, tmp_path / "merged.xlsx")
    grid = read_xlsx(path)
    rows = _rows(grid)
    assert [len(r) for r in rows] == [3, 3, 3, 3]
    title = rows[0][0]
    assert title.text == "2023年部门整体支出绩效目标表" and not title.continuation
    assert title.source.file == str(path) and title.source.locator == "附件1!A1:C1"
    assert [(c.text, c.continuation, c.source.locator) for c in rows[0][1:]] == [
        ("", True, "附件1!B1"),
        ("", True, "附件1!C1"),
    ]
    assert rows[1][0].source.locator == "附件1!A2:A4" and rows[1][0].text == "年度绩效指标"
    assert [(c.continuation, c.source.locator) for c in (rows[2][0], rows[3][0])] == [
        (True, "附件1!A3"),
        (True, "附件1!A4"),
    ]
    # A blank cell that is not merged is an ordinary blank cell with its own address.
    blank = rows[3][1]
    assert (blank.text, blank.continuation, blank.source.locator) == ("", False, "附件1!B4")
    assert str(rows[3][2].source) == f"{path}:附件1!C4"


def test_formula_without_saved_result_is_a_problem_never_zero(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "附件3-1"
    ws["C5"], ws["C6"] = 25, 40
    ws["C9"] = "=SUM(C5:C8)"  # openpyxl saves formulas without a result, like many generators
    cell = _by_locator(read_xlsx(_save(wb, tmp_path / "formula.xlsx")))["附件3-1!C9"]
    assert cell.text == "" and cell.is_blank and not cell.continuation
    assert cell.problem == "公式“=SUM(C5:C8)”没有保存计算结果（请在 Excel 中重新计算并保存）"


def test_formula_as_excel_writes_it_without_a_value_and_shared_formulas():
    # Excel omits <v> for a formula it never calculated; a shared formula's other cells carry
    # only the index, and the message shows the formula as it reads in that cell.
    body = (
        '<sheetData><row r="1"><c r="A1"><v>2</v></c><c r="B1"><v>3</v></c>'
        '<c r="C1"><f t="shared" ref="C1:C2" si="0">A1*B1</f></c></row>'
        '<row r="2"><c r="A2"><v>4</v></c><c r="B2"><v>5</v></c><c r="C2"><f t="shared" si="0"/></c></row></sheetData>'
    )
    cells = _by_locator(read_xlsx("formula.xlsx", _one_sheet(body)))
    assert cells["表!C1"].problem.startswith("公式“=A1*B1”没有保存计算结果")
    assert cells["表!C2"].problem.startswith("公式“=A2*B2”没有保存计算结果")
    assert cells["表!C1"].text == cells["表!C2"].text == ""


def test_formula_with_saved_result_reads_the_result():
    body = (
        '<sheetData><row r="1"><c r="A1"><f>SUM(B1:B2)</f><v>582.9</v></c>'
        # Excel stores binary noise of a sum; it shows and computes with 15 digits: 582.9.
        '<c r="B1"><f>0.1*5829</f><v>582.90000000000009</v></c>'
        '<c r="C1" t="str"><f>IF(1,"","x")</f><v></v></c>'  # an empty text result is a value
        '<c r="D1" t="e"><f>1/0</f><v>#DIV/0!</v></c></row></sheetData>'
    )
    cells = _by_locator(read_xlsx("cached.xlsx", _one_sheet(body)))
    assert (cells["表!A1"].text, cells["表!A1"].problem) == ("582.9", "")
    assert cells["表!B1"].text == "582.9"
    assert (cells["表!C1"].text, cells["表!C1"].problem) == ("", "")
    assert cells["表!D1"].text == "" and "#DIV/0!" in cells["表!D1"].problem


@pytest.mark.parametrize(
    "value, number_format, expected",
    [
        (939.28, '0.00"万元"', "939.28万元"),
        (20, '0.00"万元"', "20.00万元"),
        (2000, '#,##0"元"', "2000元"),
        (76, '0"人"', "76人"),
        (100, "0\\元", "100元"),
        (0.95, "0%", "95%"),
        (1, "0%", "100%"),
        (0.955, "0.0%", "95.5%"),
        (582.9, "0.00", "582.90"),
        (13.456, "0.00", "13.456"),  # padded to the format, never rounded to it
        (12345, '#,##0,"千元"', "12.345千元"),  # a trailing comma shows thousands
        (5, '"¥"#,##0.00', "¥5.00"),
        (3, "[$¥-804]#,##0.00", "¥3.00"),
        (-12, "#,##0_);[Red](#,##0)", "-12"),
        (1234567, "#,##0", "1234567"),
        (2023, "General", "2023"),
    ],
)
def test_number_formats_carry_units_and_percents(tmp_path, value, number_format, expected):
    wb = openpyxl.Workbook()
    wb.active["B2"] = value
    wb.active["B2"].number_format = number_format
    cell = _by_locator(read_xlsx(_save(wb, tmp_path / "fmt.xlsx")))["Sheet!B2"]
    assert (cell.text, cell.problem) == (expected, "")


def test_floats_are_read_exactly(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    for col, value in zip("ABCDE", (0.1, 0.1 + 0.2, 1e-05, 299.4, 1.4), strict=True):
        ws[f"{col}1"] = value
    cells = [c.text for c in read_xlsx(_save(wb, tmp_path / "floats.xlsx")).rows[0].cells]
    assert cells == ["0.1", "0.3", "0.00001", "299.4", "1.4"]
    assert Decimal(cells[0]) == Decimal("0.1")


def test_dates_booleans_and_text(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = datetime.date(2023, 12, 31)
    ws["B1"] = datetime.datetime(2023, 1, 5, 0, 0)
    ws["C1"] = True
    ws["D1"] = False
    ws["E1"] = "年度预算申请\n（万元）"
    cells = [c.text for c in read_xlsx(_save(wb, tmp_path / "dates.xlsx")).rows[0].cells]
    assert cells == ["2023年12月31日", "2023年1月5日", "是", "否", "年度预算申请\n（万元）"]


def test_escaped_control_characters_and_line_ends():
    # Excel writes a CR inside text as _x000D_; a cell's lines end up joined by "\n" alone.
    body = '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t xml:space="preserve">填表人：陈光_x000D_\n联系电话：22629616</t></is></c></row></sheetData>'
    assert read_xlsx("escaped.xlsx", _one_sheet(body)).rows[0].cells[0].text == "填表人：陈光\n联系电话：22629616"


def test_rows_are_aligned_and_blank_rows_dropped(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "附件1"
    ws["D3"] = "最后一列"
    ws["B5"] = 1
    grid = read_xlsx(_save(wb, tmp_path / "aligned.xlsx"))
    assert [[c.source.locator for c in row.cells] for row in grid.rows] == [
        ["Sheet!A1", "Sheet!B1", "Sheet!C1", "Sheet!D1"],
        ["Sheet!A3", "Sheet!B3", "Sheet!C3", "Sheet!D3"],
        ["Sheet!A5", "Sheet!B5", "Sheet!C5", "Sheet!D5"],
    ]


def test_declared_dimension_that_lies_drops_nothing(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"], ws["C7"], ws["F20"] = "附件1", "项目金额", 70
    path = _save(wb, tmp_path / "dimension.xlsx")
    # Rewrite the sheet's <dimension> as some generators leave it: A1:A1.
    source = zipfile.ZipFile(path)
    patched = io.BytesIO()
    with zipfile.ZipFile(patched, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data, count = re.subn(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:A1"/>', data)
                assert count == 1
            out.writestr(info.filename, data)
    path.write_bytes(patched.getvalue())
    check = openpyxl.load_workbook(path, read_only=True)
    assert check.active.calculate_dimension() == "A1:A1"  # what read-only mode would trust
    check.close()
    cells = _by_locator(read_xlsx(path))
    assert (cells["Sheet!C7"].text, cells["Sheet!F20"].text) == ("项目金额", "70")


def test_hidden_sheets_are_skipped(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "附件1"
    wb.active["A1"] = "看得见"
    hidden = wb.create_sheet("下拉列表")
    hidden["A1"] = "隐藏"
    hidden.sheet_state = "hidden"
    very = wb.create_sheet("旧版")
    very["A1"] = "非常隐藏"
    very.sheet_state = "veryHidden"
    wb.create_sheet("附件2")["B1"] = "第二张"
    grid = read_xlsx(_save(wb, tmp_path / "hidden.xlsx"))
    assert [c.stripped for row in grid.rows for c in row.cells if c.stripped] == ["看得见", "第二张"]
    assert {c.source.locator.split("!")[0] for row in grid.rows for c in row.cells} == {"附件1", "附件2"}


def test_sheets_are_concatenated_in_workbook_order(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "附件2"
    wb.active["A1"] = "二"
    wb.create_sheet("附件1")["A1"] = "一"
    assert [row.cells[0].text for row in read_xlsx(_save(wb, tmp_path / "order.xlsx")).rows] == ["二", "一"]


def test_data_argument_is_used_instead_of_reading_the_file(tmp_path):
    wb = openpyxl.Workbook()
    wb.active["A1"] = "内存中"
    buffer = io.BytesIO()
    wb.save(buffer)
    grid = read_xlsx(tmp_path / "nowhere.xlsx", buffer.getvalue())
    assert grid.path == str(tmp_path / "nowhere.xlsx") and grid.rows[0].cells[0].text == "内存中"


# --- hostile and broken files ----------------------------------------------------------------------


def _small_xlsx() -> bytes:
    wb = openpyxl.Workbook()
    wb.active["A1"] = "附件1"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _declared_size_bomb() -> bytes:
    """A small valid zip whose central directory declares a 4 GB sheet part."""
    data = bytearray(_small_xlsx())
    target = b"xl/worksheets/sheet1.xml"
    offset = data.find(b"PK\x01\x02")
    while offset >= 0:
        name_length = struct.unpack_from("<H", data, offset + 28)[0]
        if data[offset + 46 : offset + 46 + name_length] == target:
            struct.pack_into("<I", data, offset + 24, 0xFFFFFFF0)  # uncompressed size
            return bytes(data)
        offset = data.find(b"PK\x01\x02", offset + 4)
    raise AssertionError("sheet part not found")


def _ratio_bomb() -> bytes:
    """20 MB of zeros in about 20 KB: the ratio, not the size, gives it away."""
    base = zipfile.ZipFile(io.BytesIO(_small_xlsx()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in base.infolist():
            archive.writestr(info.filename, base.read(info.filename))
        archive.writestr("xl/media/padding.xml", b"\0" * (20 * 1024 * 1024))
    return out.getvalue()


def _fake_ole2(stream_names: list[str]) -> bytes:
    """A compound-file header and a directory sector naming ``stream_names`` (UTF-16LE)."""
    header = bytearray(512)
    header[:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHH", header, 24, 0x3E, 3, 0xFFFE)
    directory = bytearray()
    for name in ["Root Entry", *stream_names]:
        entry = bytearray(128)
        encoded = name.encode("utf-16-le")
        entry[: len(encoded)] = encoded
        struct.pack_into("<H", entry, 64, len(encoded) + 2)
        directory += entry
    return bytes(header) + bytes(directory) + b"\0" * 1024


_BILLION_LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
    '<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>'
)


def _docx_bytes() -> bytes:
    import docx

    buffer = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("附件1")
    document.save(buffer)
    return buffer.getvalue()


HOSTILE = {
    "not_a_zip": (lambda: "附件1\t部门名称\n这不是 Excel 文件\n".encode(), "不是有效的Excel 工作簿"),
    "empty_file": (lambda: b"", "文件为空"),
    "truncated": (lambda: _small_xlsx()[: len(_small_xlsx()) // 2], "损坏或不完整"),
    "encrypted": (lambda: _fake_ole2(["EncryptionInfo", "EncryptedPackage"]), "加密"),
    "legacy_xls": (lambda: _fake_ole2(["Workbook", "\x05SummaryInformation"]), "另存为"),
    "zip_bomb_declared_4gb": (_declared_size_bomb, "压缩炸弹"),
    "zip_bomb_ratio": (_ratio_bomb, "压缩炸弹"),
    "entity_bomb": (
        lambda: _one_sheet(
            '<?xml version="1.0"?>'
            + _BILLION_LAUGHS
            + f'<worksheet {MAIN_NS}><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol4;</t></is></c></row></sheetData></worksheet>'
        ),
        "实体",
    ),
    # The DOCTYPE comes after 5 KB of comment, past the first bytes ooxml looks at.
    "entity_bomb_late_in_sheet": (
        lambda: _one_sheet(
            '<?xml version="1.0"?><!--'
            + "x" * 5000
            + "-->"
            + _BILLION_LAUGHS
            + f'<worksheet {MAIN_NS}><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol4;</t></is></c></row></sheetData></worksheet>'
        ),
        "实体",
    ),
    "docx_renamed": (_docx_bytes, "扩展名与内容不符"),
    "no_sheets": (lambda: raw_xlsx([]), "工作簿中没有任何数据"),
    "only_empty_sheets": (
        lambda: raw_xlsx([("附件1", "<sheetData/>", ""), ("附件2", '<sheetData><row r="3"/></sheetData>', "")]),
        "工作簿中没有任何数据",
    ),
    "only_hidden_data": (
        lambda: raw_xlsx(
            [
                ("空", "<sheetData/>", ""),
                ("附件1", '<sheetData><row r="1"><c r="A1"><v>1</v></c></row></sheetData>', "hidden"),
            ]
        ),
        "隐藏的工作表“附件1”",
    ),
    "malformed_sheet_xml": (lambda: _one_sheet('<sheetData><row r="1"><c r="A1"><v>1</v></c></row>'), "已损坏"),
    "bad_shared_string_index": (
        lambda: _one_sheet('<sheetData><row r="1"><c r="A1" t="s"><v>7</v></c></row></sheetData>', ["一"]),
        "已损坏",
    ),
    "bad_number": (lambda: _one_sheet('<sheetData><row r="1"><c r="A1"><v>12abc</v></c></row></sheetData>'), "已损坏"),
    "bad_cell_reference": (
        lambda: _one_sheet('<sheetData><row r="1"><c r="1A"><v>1</v></c></row></sheetData>'),
        "已损坏",
    ),
    "bad_merge_reference": (
        lambda: _one_sheet(
            '<sheetData><row r="1"><c r="A1"><v>1</v></c></row></sheetData><mergeCells count="1"><mergeCell ref="A1:ZZZZ"/></mergeCells>'
        ),
        "合并单元格",
    ),
    "missing_sheet_part": (
        lambda: _without(_small_xlsx(), "xl/worksheets/sheet1.xml"),
        "缺少工作表",
    ),
    "missing_content_types": (lambda: _without(_small_xlsx(), "[Content_Types].xml"), "损坏"),
    "damaged_sheet_data": (lambda: _damaged_member(), "损坏"),
}


def _damaged_member() -> bytes:
    """A sheet part whose compressed data is damaged past the first bytes ooxml reads."""
    wb = openpyxl.Workbook()
    for r in range(1, 3000):
        wb.active.cell(r, 1, f"第{r}行的内容 {r * 7919 % 10007}")
    buffer = io.BytesIO()
    wb.save(buffer)
    data = bytearray(buffer.getvalue())
    archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
    info = archive.getinfo("xl/worksheets/sheet1.xml")
    name_length, extra_length = struct.unpack_from("<HH", data, info.header_offset + 26)
    start = info.header_offset + 30 + name_length + extra_length
    for offset in range(start + info.compress_size * 3 // 4, start + info.compress_size * 3 // 4 + 64):
        data[offset] ^= 0x5A
    return bytes(data)


def _without(data: bytes, member: str) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            if info.filename != member:
                archive.writestr(info.filename, source.read(info.filename))
    return out.getvalue()


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_and_broken_files_raise_input_error_only(tmp_path, case):
    build, words = HOSTILE[case]
    path = tmp_path / f"申报_{case}.xlsx"
    path.write_bytes(build())
    with pytest.raises(InputError) as caught:
        read_filing(path)
    assert str(path) in str(caught.value)
    assert words in str(caught.value), str(caught.value)
    # The same bytes handed over in memory fail the same way.
    with pytest.raises(InputError):
        read_xlsx(path, path.read_bytes())


def test_stray_cell_far_away_does_not_widen_the_grid(tmp_path):
    # One stray value in column XFD used to make 200 rows × 16,384 columns of blank cells (and
    # one at XFD1048576 a million empty rows): the grid's extent now comes from the cells that
    # exist, the gap between them cut to one empty column, and every cell keeps its own address.
    path = tmp_path / "stray.xlsx"
    path.write_bytes(
        _one_sheet(
            '<sheetData><row r="1"><c r="A1"><v>1</v></c><c r="XFD1"><v>2</v></c></row>'
            + "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(2, 201))
            + '<row r="1048576"><c r="XFD1048576"><v>3</v></c></row></sheetData>'
        )
    )
    grid = read_xlsx(path)
    assert len(grid.rows) == 201
    assert {len(row.cells) for row in grid.rows} == {3}
    first, last = grid.rows[0].cells, grid.rows[-1].cells
    assert [c.text for c in first] == ["1", "", "2"]
    assert [c.source.locator for c in first] == ["表!A1", "表!B1", "表!XFD1"]
    assert last[2].text == "3" and last[2].source.locator == "表!XFD1048576"


def test_entity_declared_late_in_shared_strings_is_refused(tmp_path):
    shared = (
        '<?xml version="1.0"?><!--' + "x" * 5000 + '--><!DOCTYPE sst [<!ENTITY a "注入">]>'
        f"<sst {MAIN_NS}><si><t>&a;</t></si></sst>"
    )
    path = tmp_path / "late-entity.xlsx"
    path.write_bytes(_one_sheet('<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData>', shared))
    with pytest.raises(InputError, match="实体"):
        read_xlsx(path)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(InputError, match="找不到文件"):
        read_xlsx(tmp_path / "nothing.xlsx")
    folder = tmp_path / "folder.xlsx"
    folder.mkdir()
    with pytest.raises(InputError, match="文件夹"):
        read_xlsx(folder)


def test_workbook_without_a_recognisable_table(tmp_path):
    wb = openpyxl.Workbook()
    wb.active["A1"], wb.active["B1"] = "姓名", "电话"
    wb.active["A2"], wb.active["B2"] = "陈光", 22629616
    path = _save(wb, tmp_path / "通讯录.xlsx")
    with pytest.raises(InputError, match="未识别到预算绩效目标表") as caught:
        read_filing(path)
    assert str(path) in str(caught.value)


# --- the example, end to end ---------------------------------------------------------------------

FORM_VARIANTS = {
    "one_sheet_per_table": {},
    "stacked": {"stacked": True},
    "extra_title_rows": {"extra_title_rows": 3},
    "spacer_rows": {"spacer_rows": True},
    "remarks_column": {"extra_column": True},
    "margin_column": {"extra_column": "margin"},
    "changed_order": {"order": ["附件3-2", "附件1", "附件3-5", "附件2", "附件3-1", "附件3-4", "附件3-3"]},
    "stacked_everything": {
        "stacked": True,
        "spacer_rows": True,
        "extra_title_rows": 2,
        "extra_column": True,
        "order": ["附件2", "附件1", "附件3-5", "附件3-4", "附件3-3", "附件3-2", "附件3-1"],
    },
    "row_number_column": {"extra_column": "numbers"},
}


def _variant_param(name: str):
    marks = []
    return pytest.param(name, marks=marks, id=name)


VARIANT_PARAMS = [_variant_param(name) for name in FORM_VARIANTS]


@pytest.fixture(scope="module")
def workbooks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("xlsx")
    paths = {
        name: make_xlsx.write_form_xlsx(folder / f"form-{name}.xlsx", **kwargs)
        for name, kwargs in FORM_VARIANTS.items()
    }
    paths["export"] = make_xlsx.write_export_xlsx(folder / "export.xlsx")
    return paths


@pytest.fixture(scope="module")
def reference(evaluator, example_path):
    filing = read_filing(example_path)
    return filing, evaluator.check(filing).findings


@pytest.fixture(scope="module")
def results(evaluator, workbooks):
    """(filing, findings) per workbook, read and checked once."""
    cache: dict[str, tuple] = {}

    def get(name: str):
        if name not in cache:
            filing = read_filing(workbooks[name])
            cache[name] = (filing, evaluator.check(filing).findings)
        return cache[name]

    return get


def _squash(text: str | None) -> str:
    return re.sub(r"\s+", "", text or "")


def _money(field) -> tuple[Decimal, str] | None:
    # The amount and the unit it was written in; the cell text may differ (a number format
    # shows 939.28 as 939.28万元), the amount may not.
    return (field.money.yuan, field.money.written_unit) if field is not None and field.money is not None else None


def _parsed(value) -> tuple:
    # raw is what the cell said; whitespace aside it must match too, but it is compared apart.
    return (
        value.kind,
        value.comparator,
        value.number,
        value.unit,
        value.year,
        value.month,
        value.day,
        value.deadline,
        _squash(value.raw),
    )


def _model(filing, *, table_departments: bool = True, detail_text: bool = True) -> dict:
    """Everything the rules see of a filing, without provenance."""
    out: dict = {"department": filing.department, "year": filing.year}
    o = filing.overview
    out["附件1"] = {
        "unit": o.unit,
        "department": _squash(o.department.text),
        "total": (_money(o.total), _squash(o.total.text) if o.total else None),
        "income": [(f.label, _money(f)) for f in o.income],
        "expense": [(f.label, _money(f)) for f in o.expense],
        "duties": _squash(o.duties.text),
        "work_plans": [(_squash(w.item.text), _squash(w.owner.text), _squash(w.goal.text)) for w in o.work_plans],
        "indicators": [
            (_squash(i.level1.text), _squash(i.level2.text), _squash(i.level3.text), _parsed(i.parsed))
            for i in o.indicators
        ],
    }
    s = filing.summary
    out["附件2"] = {
        "unit": s.unit,
        "total": _money(s.total),
        "rows": [
            (r.seq, _squash(r.name.text), _money(r.amount), _squash(r.period_goal.text), _squash(r.annual_goal.text))
            for r in s.rows
        ],
    }
    if table_departments:
        out["附件2"]["department"] = _squash(s.department.text) if s.department else None
    for d in filing.directions:
        out[d.label] = {
            "seq": d.seq,
            "unit": d.unit,
            "name": _squash(d.name.text),
            "parent_fund": _squash(d.parent_fund.text),
            "amount": _money(d.amount),
            "period": _squash(d.period.text),
            "goals": (_squash(d.period_goal.text), _squash(d.annual_goal.text)),
            "indicators": [
                (
                    _squash(i.level1.text),
                    _squash(i.level2.text),
                    _squash(i.level3.text),
                    _parsed(i.parsed),
                    _squash(i.standard.text) if i.standard else None,
                )
                for i in d.indicators
            ],
            "details": [
                (
                    _squash(x.intro.text),
                    _squash(x.detail.text) if detail_text else None,
                    _money(x.amount),
                    _squash(x.basis.text),
                )
                for x in d.details
            ],
            "detail_total": _money(d.detail_total),
        }
        if table_departments:
            out[d.label]["department"] = _squash(d.department.text) if d.department else None
    for table in filing.tables():
        f = table.footer
        out[f"{table.label} footer"] = tuple(_squash(x.text) if x else None for x in (f.signatory, f.preparer, f.phone))
    return out


def _keys(findings) -> set[tuple]:
    return {(f.rule_id, f.table, f.item, f.status, f.expected, f.actual) for f in findings}


def test_reference_is_what_the_example_says(reference):
    # Guards the comparison below against comparing two empty models.
    filing, findings = reference
    model = _model(filing)
    assert model["department"] == "石峰区委组织部" and model["year"] == 2023
    assert [d.label for d in filing.directions] == ["附件3-1", "附件3-2", "附件3-3", "附件3-4", "附件3-5"]
    assert model["附件3-5"]["amount"] == (Decimal("200000"), "万元")
    assert sum(len(model[d.label]["indicators"]) for d in filing.directions) == 45
    assert len(findings) == 79


@pytest.mark.parametrize("variant", VARIANT_PARAMS)
def test_form_layout_reads_as_the_text_dump(reference, results, variant):
    filing, _ = results(variant)
    expected, got = _model(reference[0]), _model(filing)
    for key in expected:
        assert got.get(key) == expected[key], key
    assert got == expected


@pytest.mark.parametrize("variant", VARIANT_PARAMS)
def test_form_layout_gives_the_same_findings(reference, results, workbooks, variant):
    _, findings = results(variant)
    assert _keys(findings) == _keys(reference[1])
    path = str(workbooks[variant])
    for finding in findings:
        assert finding.location.startswith(path + ":"), finding.location
        assert re.search(r"!\$?[A-Z]{1,3}[0-9]+(:[A-Z]{1,3}[0-9]+)?$", finding.location), finding.location


def test_form_amounts_are_numbers_with_units_in_formats(workbooks):
    # The generator must write what departments write: numbers, some with unit formats.
    wb = openpyxl.load_workbook(workbooks["one_sheet_per_table"])
    numbers = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, (int, float))]
    assert len(numbers) >= 20
    formats = {c.number_format for c in numbers}
    assert '0.00"万元"' in formats and "0%" in formats and '0"人"' in formats
    assert wb.sheetnames == ["附件1", "附件2", "附件3-1", "附件3-2", "附件3-3", "附件3-4", "附件3-5"]
    assert wb["附件3-1"].merged_cells.ranges  # merges as in Word


def test_form_variants_are_what_they_say(workbooks):
    def sheet_values(name):
        wb = openpyxl.load_workbook(workbooks[name])
        return wb, [[c.value for c in row] for ws in wb.worksheets for row in ws.iter_rows()]

    wb, _ = sheet_values("stacked")
    assert wb.sheetnames == ["绩效目标表"]
    _, values = sheet_values("extra_title_rows")
    assert values[0][0] == "石峰区委组织部2023年度预算绩效目标申报材料" and values[3][0] == "附件1"
    _, values = sheet_values("spacer_rows")
    assert sum(1 for row in values if not any(v is not None for v in row)) >= 20
    _, values = sheet_values("remarks_column")
    assert sum(row.count("备注") for row in values) >= 10
    _, values = sheet_values("margin_column")
    assert all(row[0] is None for row in values) and values[0][1] == "附件1"
    _, values = sheet_values("row_number_column")
    assert [row[0] for row in values[2:5]] == [1, 2, 3]
    wb, _ = sheet_values("changed_order")
    assert wb.sheetnames[:3] == ["附件3-2", "附件1", "附件3-5"]


def _cell_at(filing_path: Path, location: str) -> tuple[Grid, int, int]:
    grid = read_xlsx(filing_path)
    assert location.startswith(f"{filing_path}:"), location
    locator = location[len(str(filing_path)) + 1 :]
    for r, row in enumerate(grid.rows):
        for c, cell in enumerate(row.cells):
            if cell.source.locator == locator:
                return grid, r, c
    raise AssertionError(f"no cell at {location}")


def _table_of_row(grid: Grid, r: int) -> str:
    """The 附件 label governing row ``r`` (the nearest label row above it)."""
    for row in reversed(grid.rows[: r + 1]):
        texts = [c.stripped for c in row.cells if c.stripped]
        if len(texts) == 1 and re.fullmatch(r"附件[0-9-]+", texts[0]):
            return texts[0]
    raise AssertionError("no 附件 label above")


def _only(findings, rule_id: str):
    matches = [f for f in findings if f.rule_id == rule_id and f.status == STATUS_FAIL]
    assert len(matches) == 1, matches
    return matches[0]


@pytest.mark.parametrize("variant", ["one_sheet_per_table", "stacked", "stacked_everything", "changed_order"])
def test_form_findings_point_at_the_right_cells(results, workbooks, variant):
    _, findings = results(variant)
    path = workbooks[variant]

    village = _only(findings, "ZZ-ZCDY-001")
    grid, r, c = _cell_at(path, village.location)
    row = grid.rows[r].cells
    assert row[c].text == "20.00万元"  # the 项目金额 value cell, with its unit format
    label = next(cell for cell in reversed(row[:c]) if not cell.continuation)
    assert label.stripped == "项目金额"
    assert _table_of_row(grid, r) == "附件3-5"

    cost = _only(findings, "QG-IND-003")
    grid, r, c = _cell_at(path, cost.location)
    assert grid.rows[r].cells[c].stripped == "≤15万元"
    assert "总费用控制" in [cell.stripped for cell in grid.rows[r].cells]
    assert _table_of_row(grid, r) == "附件3-3"
    if variant == "one_sheet_per_table":
        assert village.location == f"{path}:附件3-5!B5:C5"
        assert cost.location == f"{path}:附件3-3!E12"


def test_export_layout_reads_as_the_text_dump(reference, results):
    filing, _ = results("export")
    expected = _model(reference[0], table_departments=False, detail_text=False)
    got = _model(filing, table_departments=False, detail_text=False)
    for key in expected:
        assert got.get(key) == expected[key], key
    assert got == expected


def test_export_layout_gives_the_same_findings(reference, results, workbooks):
    _, findings = results("export")
    assert _keys(findings) == _keys(reference[1])
    path = str(workbooks["export"])
    for finding in findings:
        assert finding.location.startswith(path + ":") and "!" in finding.location, finding.location


def test_export_findings_point_at_the_right_cells(results, workbooks):
    _, findings = results("export")
    path = workbooks["export"]
    village = _only(findings, "ZZ-ZCDY-001")
    grid, r, c = _cell_at(path, village.location)
    assert village.location.startswith(f"{path}:附件3-5!")
    row = grid.rows[r].cells
    assert row[0].stripped == "项目金额" and row[c].stripped == "20"

    cost = _only(findings, "QG-IND-003")
    grid, r, c = _cell_at(path, cost.location)
    assert cost.location.startswith(f"{path}:附件3-3!")
    texts = [cell.stripped for cell in grid.rows[r].cells]
    # The 指标值 cell of the flat table: 15, with ≤ and 万元 in their own columns.
    assert texts[c] == "15" and "≤" in texts and "万元" in texts and "总费用控制" in texts
    header = next(
        row
        for row in grid.rows
        if "指标值" in [cell.stripped for cell in row.cells] and row.cells[0].source.locator.startswith("附件3-3!")
    )
    assert header.cells[c].stripped == "指标值"


def test_export_is_the_flat_system_layout(workbooks):
    wb = openpyxl.load_workbook(workbooks["export"])
    ws = wb["附件3-3"]
    merged = {str(r) for r in ws.merged_cells.ranges}
    values = {c.coordinate: c.value for row in ws.iter_rows() for c in row if c.value is not None}
    top = next(coord for coord, v in values.items() if v == "绩效指标")
    row = int(re.sub(r"[A-Z]", "", top))
    assert f"A{row}:C{row}" in merged and f"D{row}:D{row + 1}" in merged
    assert [values.get(f"{col}{row + 1}") for col in "ABC"] == ["一级指标", "二级指标", "三级指标"]
    assert [values.get(f"{col}{row}") for col in "DEFGH"] == ["指标性质", "指标值", "度量单位", "权重", "绩效标准"]
    natures = {values.get(f"D{r}") for r in range(row + 2, row + 11)}
    assert natures <= {"≥", "≤", "=", "定性"} and {"≥", "≤", "定性"} <= natures
    assert not any(isinstance(v, str) and v.startswith("附件") for v in values.values())  # the label is the sheet name


@pytest.mark.parametrize(
    "text, expected",
    [
        ("≤15万元", ("≤", Decimal("15"), "万元")),
        ("≥95%", ("≥", Decimal("95"), "%")),
        ("76人", ("=", Decimal("76"), "人")),
        ("≤299.40万元", ("≤", Decimal("299.40"), "万元")),
        ("2023年12月前", ("定性", "2023年12月前", "")),
        ("3个大项目", ("定性", "3个大项目", "")),
        ("无直接经济效益", ("定性", "无直接经济效益", "")),
    ],
)
def test_export_splits_indicator_values(text, expected):
    assert make_xlsx.split_indicator(text) == expected


def test_export_tables_have_their_department(results):
    filing, _ = results("export")
    assert _squash(filing.summary.department.text) == "石峰区委组织部"
    assert all(_squash(d.department.text) == "石峰区委组织部" for d in filing.directions)


def _dumped_details() -> dict[str, list[str]]:
    out = {}
    for label in ("附件3-1", "附件3-2", "附件3-3", "附件3-4", "附件3-5"):
        out[label] = [_squash(t) for t in make_xlsx._dumped_details(label)]
    return out


@pytest.mark.parametrize(
    "layout",
    ["one_sheet_per_table", "export"],
)
def test_detail_lines_keep_their_expense_text(results, layout):
    filing, _ = results(layout)
    got = {d.label: [_squash(x.detail.text) for x in d.details] for d in filing.directions}
    assert got == _dumped_details()


def test_messages_name_cells_not_line_zero(results, workbooks):
    _, findings = results("one_sheet_per_table")
    assert not [f.message for f in findings if "第0行" in f.message]
    count = _only(findings, "QG-X-007")
    assert "附件3-1!B7:F7" in count.message and count.location == f"{workbooks['one_sheet_per_table']}:附件3-1!B7:F7"


def test_formula_without_result_is_reported_not_read_as_zero(tmp_path, evaluator, reference):
    path = make_xlsx.write_form_xlsx(tmp_path / "formula.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["附件3-5"]
    label = next(c for row in ws.iter_rows() for c in row if c.value == "项目金额")
    amount = ws.cell(label.row, label.column + 1)
    assert amount.value == 20
    total = next(c for row in ws.iter_rows() for c in row if isinstance(c.value, str) and _squash(c.value) == "合计")
    total_amount = next(c for c in ws[total.row] if isinstance(c.value, (int, float)))
    amount.value = f"={total_amount.coordinate}"  # saved by a program: no result
    wb.save(path)
    filing = read_filing(path)
    direction = next(d for d in filing.directions if d.label == "附件3-5")
    assert direction.amount.money is None and direction.amount.cell.problem
    findings = evaluator.check(filing).findings
    unreadable = [f for f in findings if f.rule_id == "QG-READ-001"]
    assert len(unreadable) == 1
    assert (
        unreadable[0].location
        == f"{path}:附件3-5!{amount.coordinate}:{ws.cell(label.row, label.column + 2).coordinate}"
    )
    assert f"={total_amount.coordinate}" in unreadable[0].message
    # Nothing computed with 0 in its place: the 项目金额 finding is gone, not "0 < 29.76".
    assert not [f for f in findings if f.rule_id == "ZZ-ZCDY-001" and f.status == STATUS_FAIL]
    new_failures = {k[0] for k in _keys(findings) - _keys(reference[1]) if k[3] == STATUS_FAIL}
    # QG-REQ-002 (项目金额未填写) by design: an unreadable cell also counts as missing.
    assert new_failures <= {"QG-READ-001", "QG-REQ-002", "QG-X-002"}
    assert "QG-READ-001" in new_failures


@pytest.fixture(scope="module")
def unreadable_amount(tmp_path_factory, evaluator):
    """The form with 附件3-5's 项目金额 a formula saved without its result."""
    path = make_xlsx.write_form_xlsx(tmp_path_factory.mktemp("unreadable") / "formula.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["附件3-5"]
    label = next(c for row in ws.iter_rows() for c in row if c.value == "项目金额")
    ws.cell(label.row, label.column + 1).value = "=SUM(D19:D19)"
    wb.save(path)
    filing = read_filing(path)
    return path, filing, evaluator.check(filing).findings


def test_sums_do_not_skip_an_unreadable_amount(unreadable_amount):
    _, _, findings = unreadable_amount
    assert not [f for f in findings if f.rule_id == "QG-X-002" and f.status == STATUS_FAIL]


def test_table_level_findings_name_a_sheet_range(unreadable_amount):
    _path, filing, findings = unreadable_amount
    assert all(t.source.locator for t in filing.tables())
    assert all(i.row_source.locator for d in filing.directions for i in d.indicators)
    assert all("!" in f.location for f in findings), [f.location for f in findings if "!" not in f.location]


def test_table_sources_are_one_range(unreadable_amount):
    _path, filing, _ = unreadable_amount
    for table in filing.tables():
        assert re.fullmatch(r"附件[0-9-]+![A-Z]+[0-9]+:[A-Z]+[0-9]+", table.source.locator), table.source.locator
