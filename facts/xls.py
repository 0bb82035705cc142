"""Reader for Excel 97–2003 workbooks (.xls), with xlrd: the same grid as the .xlsx reader.

* one :class:`Row` per sheet row of every visible sheet, one :class:`Cell` per column up to
  the sheet's last used column (fully blank rows dropped);
* a merged range keeps its text in the anchor cell, whose locator names the range
  (``附件1!A2:F2``); the other positions are blank ``continuation`` cells;
* numbers as exact decimal text: xlrd gives binary floats, so the shortest decimal that reads
  back as the same float is taken (939.28 stays ``939.28``), padded to the decimals the cell's
  number format shows; a percent format gives ``95%``; dates as ``2023年12月31日``; booleans
  as 是/否; an error value is a blank cell with a ``problem``, never zero.

xlrd (2.x) is maintained for exactly this job: reading the old BIFF format, which openpyxl
does not read. Anything wrong with the file raises :class:`InputError` and nothing else.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import re
from decimal import Decimal, InvalidOperation

from hegui.facts.errors import InputError
from hegui.facts.files import read_bytes
from hegui.facts.model import Cell, Grid, Row, Source
from hegui.facts.ooxml import MAX_FILE_BYTES
from hegui.facts.xlsx import MAX_GRID_CELLS, _column_letter

_ADVICE = "请用 Excel 或 WPS 打开后“另存为” .xlsx 格式再提交。"


def read_xls(path: str | os.PathLike, data: bytes | None = None) -> Grid:
    """Read the visible sheets of an .xls workbook into one :class:`Grid`, in workbook order.

    Locators are ``Sheet!B7`` (``Sheet!A2:F2`` for a merged anchor), as for .xlsx.
    """
    import xlrd

    name = os.fsdecode(path)
    data = read_bytes(name, MAX_FILE_BYTES) if data is None else bytes(data)
    if len(data) > MAX_FILE_BYTES:
        raise InputError(name, f"文件太大：超过 {MAX_FILE_BYTES // 1048576} MB。一份绩效目标表不会这么大。")
    try:
        book = xlrd.open_workbook(file_contents=data, formatting_info=True, on_demand=True, logfile=_Silent())
    except Exception as exc:  # xlrd raises XLRDError, CompDocError, struct.error, IndexError …
        text = str(exc)
        if "encrypt" in text.lower():
            raise InputError(name, "Excel 97-2003 工作簿（.xls）已加密，无法读取。请取消密码保护后再提交。") from None
        raise InputError(
            name,
            f"无法读取这份 Excel 97-2003 工作簿（.xls）：文件已损坏或不是 .xls 格式（{type(exc).__name__}: {text[:200]}）。"
            + _ADVICE,
        ) from None
    rows: list[Row] = []
    hidden: list[str] = []
    try:
        for index in range(book.nsheets):
            sheet = book.sheet_by_index(index)
            if sheet.visibility:  # hidden sheets hold lists and old copies: see the .xlsx reader
                hidden.append(sheet.name)
                continue
            rows.extend(_read_sheet(name, book, sheet))
            book.unload_sheet(index)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(
            name, f"Excel 97-2003 工作簿（.xls）已损坏，无法读取（{type(exc).__name__}: {str(exc)[:200]}）。" + _ADVICE
        ) from None
    finally:
        book.release_resources()
    if not rows:
        note = f"（隐藏的工作表“{'”“'.join(hidden)}”不读取，请取消隐藏后再提交）" if hidden else ""
        raise InputError(name, f"工作簿中没有任何数据{note}")
    return Grid(path=name, rows=rows)


class _Silent:
    """xlrd writes warnings to a log file; they say nothing to the person filing."""

    def write(self, _text: str) -> int:
        return 0


def _read_sheet(name: str, book, sheet) -> list[Row]:
    import xlrd

    title = sheet.name
    if sheet.nrows * sheet.ncols > MAX_GRID_CELLS:
        raise InputError(
            name,
            f"工作表“{title}”的数据范围过大（{sheet.nrows}行×{sheet.ncols}列），不像是绩效目标表；请删除表格以外的内容后再提交",
            title,
        )
    anchors: dict[tuple[int, int], str] = {}
    covered: set[tuple[int, int]] = set()
    for rlo, rhi, clo, chi in sheet.merged_cells:
        rhi, chi = min(rhi, sheet.nrows), min(chi, sheet.ncols)
        if (rhi - rlo) * (chi - clo) > MAX_GRID_CELLS:
            raise InputError(name, f"工作表“{title}”的合并单元格范围过大，拒绝读取", title)
        ref = f"{_column_letter(clo + 1)}{rlo + 1}:{_column_letter(chi)}{rhi}"
        anchors[(rlo, clo)] = ref
        for r in range(rlo, rhi):
            for c in range(clo, chi):
                if (r, c) != (rlo, clo):
                    covered.add((r, c))
    out: list[Row] = []
    for r in range(sheet.nrows):
        cells: list[Cell] = []
        for c in range(sheet.ncols):
            coord = f"{_column_letter(c + 1)}{r + 1}"
            if (r, c) in covered:
                cells.append(Cell("", Source(name, locator=f"{title}!{coord}"), continuation=True))
                continue
            cell = sheet.cell(r, c)
            text, problem = _text(book, cell, xlrd)
            locator = f"{title}!{anchors[(r, c)]}" if (r, c) in anchors else f"{title}!{coord}"
            cells.append(Cell(text, Source(name, locator=locator), problem=problem))
        if all(cell.is_blank and not cell.problem for cell in cells):
            continue
        out.append(Row(cells))
    return out


_DECIMALS = re.compile(r"0\.(0+)")


def _number_format(book, cell) -> str:
    try:
        xf = book.xf_list[cell.xf_index]
        return book.format_map[xf.format_key].format_str or ""
    except (AttributeError, IndexError, KeyError, TypeError):
        return ""


def _text(book, cell, xlrd) -> tuple[str, str]:
    kind = cell.ctype
    if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return "", ""
    if kind == xlrd.XL_CELL_TEXT:
        return str(cell.value), ""
    if kind == xlrd.XL_CELL_BOOLEAN:
        return ("是" if cell.value else "否"), ""
    if kind == xlrd.XL_CELL_ERROR:
        error = xlrd.error_text_from_code.get(cell.value, "错误值")
        return "", f"单元格是错误值 {error}，没有可读取的数值"
    if kind == xlrd.XL_CELL_DATE:
        try:
            year, month, day, *_ = xlrd.xldate_as_tuple(cell.value, book.datemode)
            return f"{datetime.date(year, month, day):%Y}年{month}月{day}日", ""
        except Exception:
            return "", "日期值无法读取"
    return _number(float(cell.value), _number_format(book, cell)), ""


def _number(value: float, number_format: str) -> str:
    try:
        number = Decimal(repr(value))
    except InvalidOperation:
        return repr(value)
    section = number_format.split(";")[0]
    percent = "%" in section
    if percent:
        number = number * 100
    match = _DECIMALS.search(section)
    decimals = len(match.group(1)) if match else None
    if decimals is not None:
        with contextlib.suppress(InvalidOperation):  # more digits than the context holds
            number = number.quantize(Decimal(1).scaleb(-decimals))
    elif number == number.to_integral_value():
        number = number.quantize(Decimal(1))
    else:
        number = number.normalize()
    text = format(number, "f")
    return text + "%" if percent else text
