"""Reader for Excel workbooks (.xlsx): every visible sheet's cells as rows of a :class:`Grid`.

The recogniser (:mod:`hegui.facts.tables`) finds tables by their labels, so this reader only
has to hand it the cells in reading order, with the properties a reviewer sees on screen:

* one :class:`Row` per sheet row, one :class:`Cell` per column from A to the sheet's last used
  column, so that columns stay aligned (blank cells included; fully blank rows dropped);
* a merged range keeps its text in the anchor (top-left) cell, whose locator names the whole
  range (``附件1!A2:F2``); every other position of the range is a blank ``continuation`` cell;
* numbers as exact decimal text, with the unit their number format shows (``0.00"万元"`` gives
  ``939.28万元``, ``0%`` gives ``95%``); dates as ``2023年12月31日``; booleans as 是/否;
* a formula whose result was never saved, or whose result is an error value, becomes a blank
  cell with a ``problem``: it is never read as zero.

The file is checked by :mod:`hegui.facts.ooxml` (zip directory, sizes, DTDs) before openpyxl
sees a byte, and whatever openpyxl raises becomes an :class:`InputError` naming the file.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import io
import os
import re
import warnings
import zipfile
import zlib
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from xml.parsers import expat

from hegui.facts.errors import InputError
from hegui.facts.files import read_bytes
from hegui.facts.limits import MAX_CELLS, MAX_EMPTY_COLUMNS
from hegui.facts.model import Cell, Grid, Row, Source
from hegui.facts.ooxml import MAX_FILE_BYTES, check_all_xml_parts, open_checked_zip

#: Grid positions (rows × columns) one sheet may produce. A real 绩效目标表 is a few hundred
#: rows by a dozen columns; a stray value in column XFD or a merge over a million rows would
#: otherwise make the reader build millions of blank cells.
MAX_GRID_CELLS = 2_000_000
MAX_MERGES = 100_000

# SpreadsheetML main namespaces: transitional (what Excel and WPS write) and strict.
_MAIN_NS = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",
)
_SEP = "\x1f"  # expat joins namespace and local name with this; it never occurs in either
_TAGS = {kind: {f"{ns}{_SEP}{kind}" for ns in _MAIN_NS} for kind in ("row", "c", "f", "v", "mergeCell")}

_COORD = re.compile(r"^\$?([A-Za-z]{1,3})\$?([0-9]{1,7})$")
_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def read_xlsx(path: str | os.PathLike, data: bytes | None = None) -> Grid:
    """Read the visible sheets of an .xlsx workbook into one :class:`Grid`, in workbook order.

    ``data``, when given, is the file's content already read; ``path`` is then only used for
    provenance and messages. Every cell's :class:`Source` has ``file=str(path)`` and a
    ``locator`` such as ``附件3-5!B9`` (``附件1!A2:F2`` for the anchor of a merged range).
    Raises :class:`InputError` (and nothing else) for a file that is missing, too large, not an
    .xlsx, encrypted, damaged, hostile (zip or entity bomb) or without any data.
    """
    name = os.fsdecode(path)
    if data is None:
        data = read_bytes(name, MAX_FILE_BYTES)
    else:
        data = bytes(data)
    archive = open_checked_zip(name, data, "xlsx")
    check_all_xml_parts(name, archive)
    try:
        _check_sheet_parts(name, archive)
        workbook = _load(name, data)
        try:
            rows: list[Row] = []
            hidden: list[str] = []
            for sheet in workbook.worksheets:
                # Hidden and "very hidden" sheets are skipped: in these workbooks they hold
                # drop-down lists, templates or last year's copy, which the person reviewing the
                # filing neither sees on screen nor gets in print. Reading them would make phantom
                # tables (a hidden copy of 附件3-1 would count twice).
                if sheet.sheet_state != "visible":
                    hidden.append(sheet.title)
                    continue
                rows.extend(_read_sheet(name, archive, sheet))
        finally:
            workbook.close()
    finally:
        archive.close()
    if not rows:
        note = f"（隐藏的工作表“{'”“'.join(hidden)}”不读取，请取消隐藏后再提交）" if hidden else ""
        raise InputError(name, f"工作簿中没有任何数据{note}")
    return Grid(path=name, rows=rows)


# --- loading ----------------------------------------------------------------------------------


def _why(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


def _check_sheet_parts(name: str, archive: zipfile.ZipFile) -> None:
    """Refuse a workbook that lists a sheet whose part is missing.

    openpyxl silently skips such a sheet, and a filing would lose a whole 附件 unnoticed.
    """
    # openpyxl is imported where it is used, not at the top: it adds ~40 ms (measured with
    # ``python -X importtime``, after hegui.facts is loaded) to every run, and a run that
    # reads only text dumps never needs it.
    from openpyxl.reader.workbook import WorkbookParser

    present = set(archive.namelist())
    try:
        parser = WorkbookParser(archive, "xl/workbook.xml")
        parser.parse()
        sheets = [(sheet.name, rel.target) for sheet, rel in parser.find_sheets()]
    except Exception as exc:
        raise InputError(
            name,
            f"Excel 工作簿已损坏或结构不完整，无法读取工作表目录（{_why(exc)}）。请用 Excel 或 WPS 打开后重新保存再提交。",
        ) from None
    for title, target in sheets:
        if target not in present:
            raise InputError(
                name,
                f"文件已损坏：缺少工作表“{title}”的内容部件“{target}”。请用 Excel 或 WPS 打开后重新保存再提交。",
                title,
            )


def _load(name: str, data: bytes):
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            # openpyxl warns about extensions it ignores (data validation, slicers); they say
            # nothing about the filing and would only clutter a reviewer's terminal.
            warnings.simplefilter("ignore")
            # Read-only mode streams each sheet instead of building it in memory; data_only
            # gives the results Excel saved for formulas (formulas themselves are found by
            # _scan_sheet, so one load suffices).
            return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except InputError:
        raise
    except Exception as exc:  # openpyxl raises anything from KeyError to XML syntax errors
        raise InputError(
            name, f"Excel 工作簿已损坏或结构不完整，无法读取（{_why(exc)}）。请用 Excel 或 WPS 打开后重新保存再提交。"
        ) from None


# --- one sheet ----------------------------------------------------------------------------------


@dataclass
class _Merge:
    min_row: int
    min_col: int
    max_row: int
    max_col: int
    ref: str


@dataclass
class _SheetScan:
    """What read-only openpyxl does not tell: merged ranges and formulas without a saved result."""

    merges: list[_Merge] = field(default_factory=list)
    uncached: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, col) -> "=SUM(...)"


def _read_sheet(name: str, archive: zipfile.ZipFile, sheet) -> list[Row]:
    title = sheet.title
    # openpyxl keeps the part name of a read-only sheet private; it is needed to read the
    # merged ranges, which read-only worksheets do not expose.
    part = getattr(sheet, "_worksheet_path", None)
    if not part:
        raise InputError(name, f"无法定位工作表“{title}”的内容部件", title)
    scan = _scan_sheet(name, archive, part.lstrip("/"), title)

    values: dict[int, dict[int, tuple[str, str]]] = {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for count, cell in enumerate(_existing_cells(sheet)):
                if count >= MAX_CELLS:
                    raise InputError(name, f"工作表“{title}”的单元格超过上限 {MAX_CELLS} 个，拒绝读取。", title)
                value = cell.value
                if value is None:
                    continue
                text, problem = _cell_text(cell)
                if text.strip() or problem:
                    values.setdefault(cell.row, {})[cell.column] = (text, problem)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(
            name, f"工作表“{title}”已损坏，无法读取（{_why(exc)}）。请用 Excel 或 WPS 打开后重新保存再提交。", title
        ) from None
    for (r, c), formula in scan.uncached.items():
        values.setdefault(r, {})[c] = (
            "",
            f"公式“{formula}”没有保存计算结果（请在 Excel 中重新计算并保存）",
        )
    if not values:
        return []
    return _materialise(name, title, values, scan.merges)


def _existing_cells(sheet) -> Iterator:
    """The cells the sheet XML holds, streamed, and nothing else.

    ``iter_rows`` pads every row to the widest one and yields an empty row for every row
    number skipped, so one cell at XFD1048576 costs a million rows of 16,384 cells. The sheet
    parser behind it gives only what is there; the declared ``<dimension>`` is never used
    (it may lie, and read-only mode would then drop every cell outside it).
    """
    from openpyxl.cell.read_only import ReadOnlyCell
    from openpyxl.worksheet._reader import WorkSheetParser

    with sheet._get_source() as source:
        parser = WorkSheetParser(
            source,
            sheet._shared_strings,
            data_only=sheet.parent.data_only,
            epoch=sheet.parent.epoch,
            date_formats=sheet.parent._date_formats,
            timedelta_formats=sheet.parent._timedelta_formats,
        )
        for _index, row in parser.parse():
            for cell in row:
                yield ReadOnlyCell(sheet, **cell)


def _kept_columns(values: dict[int, dict[int, tuple[str, str]]], width: int) -> list[int]:
    """Columns 1..width without the inside of any gap of more than MAX_EMPTY_COLUMNS unused
    columns: the grid's extent comes from the cells that exist, not from how far apart they are."""
    used = sorted({c for cols in values.values() for c in cols} | {width})
    kept: list[int] = []
    previous = 0
    for column in used:
        if column - previous - 1 > MAX_EMPTY_COLUMNS:
            kept.append(previous + 1)  # one empty column marks the gap
        else:
            kept.extend(range(previous + 1, column))
        kept.append(column)
        previous = column
    return kept


def _materialise(
    name: str, title: str, values: dict[int, dict[int, tuple[str, str]]], merges: list[_Merge]
) -> list[Row]:
    data_rows = sorted(values)
    width = max(max(cols) for cols in values.values())
    for m in merges:
        anchor = values.get(m.min_row, {}).get(m.min_col)
        if anchor is not None:
            # A title merged across the table is part of it even where no column has data.
            width = max(width, m.max_col)
    columns = _kept_columns(values, width)
    if len(columns) * len(data_rows) > MAX_GRID_CELLS:
        raise InputError(
            name,
            f"工作表“{title}”的数据范围过大（{len(data_rows)}行×{len(columns)}列），不像是绩效目标表；"
            "请删除表格以外的内容（如远处的单元格或整列合并）后再提交",
            title,
        )

    # Position -> merge it belongs to, only for the rows that are kept.
    covered: dict[tuple[int, int], _Merge] = {}
    budget = MAX_GRID_CELLS
    for m in merges:
        lo, hi = bisect_left(data_rows, m.min_row), bisect_right(data_rows, m.max_row)
        first, last = bisect_left(columns, m.min_col), bisect_right(columns, m.max_col)
        for r in data_rows[lo:hi]:
            for c in columns[first:last]:
                covered.setdefault((r, c), m)
            budget -= max(0, last - first)
        if budget < 0:
            raise InputError(name, f"工作表“{title}”的合并单元格范围过大，拒绝读取", title)

    rows: list[Row] = []
    for r in data_rows:
        row_values = values[r]
        cells: list[Cell] = []
        for c in columns:
            coord = f"{_column_letter(c)}{r}"
            merge = covered.get((r, c))
            if merge is not None and (r, c) != (merge.min_row, merge.min_col):
                cells.append(Cell("", Source(name, locator=f"{title}!{coord}"), continuation=True))
                continue
            locator = f"{title}!{merge.ref}" if merge is not None else f"{title}!{coord}"
            text, problem = row_values.get(c, ("", ""))
            cells.append(Cell(text, Source(name, locator=locator), problem=problem))
        if all(cell.is_blank and not cell.problem for cell in cells):
            continue  # only continuation positions of a merge from a row above
        rows.append(Row(cells))
    return rows


@functools.cache
def _column_letter(index: int) -> str:
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _column_index(letters: str) -> int:
    index = 0
    for ch in letters.upper():
        index = index * 26 + ord(ch) - 64
    return index


def _coordinate(text: str) -> tuple[int, int] | None:
    match = _COORD.match(text)
    if not match:
        return None
    row, col = int(match.group(2)), _column_index(match.group(1))
    if not (1 <= row <= 1_048_576 and 1 <= col <= 16_384):
        return None
    return row, col


# --- the sheet XML: merged ranges and formulas ---------------------------------------------------


class _Refused(Exception):
    pass


def _scan_sheet(name: str, archive: zipfile.ZipFile, part: str, title: str) -> _SheetScan:
    """Merged ranges and formulas without a saved result, read from the sheet part with expat.

    The DTD check of :mod:`hegui.facts.ooxml` has run, but only on each part's first bytes; a
    DOCTYPE or entity declaration anywhere is refused here as well, so nothing is expanded.
    """
    scan = _SheetScan()
    state: dict[str, Any] = {
        "row": 0,
        "col": 0,
        "cell": None,
        "type": "",
        "has_f": False,
        "has_v": False,
        "v_text": False,
        "f_attrs": None,
    }
    f_text: list[str] = []
    collecting = [""]  # "f" or "v" while inside one of them
    masters: dict[str, tuple[str, str]] = {}  # shared formula index -> (formula, origin cell)
    bad_refs: list[str] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag in _TAGS["c"]:
            ref = attrs.get("r")
            position = _coordinate(ref) if ref else None
            if position is None:
                # Cells without a reference follow the previous one (openpyxl does the same).
                position = (state["row"], state["col"] + 1)
            state["row"], state["col"] = position
            state["cell"] = position
            state["type"] = attrs.get("t", "n")
            state["has_f"] = state["has_v"] = state["v_text"] = False
        elif tag in _TAGS["row"]:
            ref = attrs.get("r")
            state["row"] = int(ref) if ref and ref.isdigit() else state["row"] + 1
            state["col"] = 0
        elif tag in _TAGS["f"] and state["cell"] is not None:
            state["has_f"] = True
            state["f_attrs"] = attrs
            f_text.clear()
            collecting[0] = "f"
        elif tag in _TAGS["v"] and state["cell"] is not None:
            state["has_v"] = True
            collecting[0] = "v"
        elif tag in _TAGS["mergeCell"]:
            ref = attrs.get("ref", "")
            merge = _merge_range(ref)
            if merge is None:
                bad_refs.append(ref)
            elif len(scan.merges) >= MAX_MERGES:
                raise _Refused(f"工作表“{title}”的合并单元格超过{MAX_MERGES}个，拒绝读取")
            else:
                scan.merges.append(merge)

    def end(tag: str) -> None:
        if tag in _TAGS["f"] or tag in _TAGS["v"]:
            collecting[0] = ""
        elif tag in _TAGS["c"] and state["cell"] is not None:
            position = state["cell"]
            if state["has_f"]:
                formula = _formula(position, state["f_attrs"] or {}, "".join(f_text), masters)
                # openpyxl and other writers save <v></v> for "not calculated"; only a text
                # result (t="str") may legitimately be empty.
                cached = state["v_text"] or (state["has_v"] and state["type"] == "str")
                if not cached and formula is not None:
                    scan.uncached[position] = formula
            state["cell"] = None

    def chars(data: str) -> None:
        if collecting[0] == "f":
            f_text.append(data)
        elif collecting[0] == "v" and data.strip():
            state["v_text"] = True

    def refuse_dtd(*_args) -> None:
        raise _Refused(f"工作表“{title}”包含不允许的 XML 实体声明（DOCTYPE），疑似实体炸弹，拒绝读取")

    parser = expat.ParserCreate(namespace_separator=_SEP)
    parser.buffer_text = True
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.StartDoctypeDeclHandler = refuse_dtd
    parser.EntityDeclHandler = refuse_dtd
    try:
        with archive.open(part) as handle:
            parser.ParseFile(handle)
    except _Refused as exc:
        raise InputError(name, str(exc), title) from None
    except KeyError:
        raise InputError(name, f"文件已损坏：缺少工作表“{title}”的内容部件“{part}”", title) from None
    except expat.ExpatError as exc:
        raise InputError(
            name, f"工作表“{title}”的内容已损坏（XML 第{exc.lineno}行：{expat.ErrorString(exc.code)}）", title
        ) from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, RuntimeError, NotImplementedError) as exc:
        # zlib.error: damaged compressed data; BadZipFile: a CRC mismatch found at the end.
        raise InputError(name, f"工作表“{title}”的内容无法解压，文件已损坏（{_why(exc)}）", title) from None
    if bad_refs:
        raise InputError(name, f"合并单元格范围“{bad_refs[0]}”无效，文件已损坏", title)
    return scan


def _merge_range(ref: str) -> _Merge | None:
    first, _, last = ref.partition(":")
    start = _coordinate(first)
    stop = _coordinate(last) if last else start
    if start is None or stop is None:
        return None
    (r1, c1), (r2, c2) = start, stop
    r1, r2 = sorted((r1, r2))
    c1, c2 = sorted((c1, c2))
    return _Merge(r1, c1, r2, c2, f"{_column_letter(c1)}{r1}:{_column_letter(c2)}{r2}")


def _formula(
    position: tuple[int, int], attrs: dict[str, str], text: str, masters: dict[str, tuple[str, str]]
) -> str | None:
    """The formula of a cell as Excel shows it (``=SUM(C5:C9)``), resolving shared formulas."""
    coord = f"{_column_letter(position[1])}{position[0]}"
    if attrs.get("t") == "shared":
        index = attrs.get("si", "")
        if text:
            masters.setdefault(index, ("=" + text, coord))
            return "=" + text
        master = masters.get(index)
        if master is None:
            return "=（共享公式）"
        try:
            from openpyxl.formula.translate import Translator

            return Translator(master[0], master[1]).translate_formula(coord)
        except Exception:  # a formula that cannot be moved is still a formula without a result
            return master[0]
    if attrs.get("t") == "dataTable":
        return "=TABLE()"
    return "=" + text


# --- values -------------------------------------------------------------------------------------


def _cell_text(cell) -> tuple[str, str]:
    """``(text, problem)`` for a non-empty openpyxl cell."""
    value = cell.value
    if cell.data_type == "e":
        return "", f"单元格是错误值“{value}”（公式计算出错），不能当作数值读取"
    if isinstance(value, str):
        text = _ESCAPE.sub(_unescape, value) if "_x" in value else value
        return text.replace("\r\n", "\n").replace("\r", "\n"), ""
    if isinstance(value, bool):
        return ("是" if value else "否"), ""
    if isinstance(value, (int, float)):
        return _number_text(value, cell.number_format or "General")
    if isinstance(value, datetime.datetime):
        text = f"{value.year}年{value.month}月{value.day}日"
        if value.time() != datetime.time(0):
            text += f" {value.hour}:{value.minute:02d}" + (f":{value.second:02d}" if value.second else "")
        return text, ""
    if isinstance(value, datetime.date):
        return f"{value.year}年{value.month}月{value.day}日", ""
    if isinstance(value, datetime.time):
        return f"{value.hour}:{value.minute:02d}" + (f":{value.second:02d}" if value.second else ""), ""
    if isinstance(value, datetime.timedelta):
        return str(value), ""
    return str(value), ""


def _unescape(match: re.Match) -> str:
    # Excel writes control characters as _x000D_; only those are unescaped, so that text that
    # merely looks like an escape stays as typed.
    code = int(match.group(1), 16)
    return chr(code) if code < 0x20 else match.group(0)


_DIGITS_SHOWN = 15  # Excel shows and computes with 15 significant digits


def _number_text(value: int | float, number_format: str) -> tuple[str, str]:
    if isinstance(value, int):
        number = Decimal(value)
    else:
        if value != value or value in (float("inf"), float("-inf")):
            return "", "单元格的数值无效（不是有限数），不能当作数值读取"
        # repr gives the shortest decimal that reads back as the same float: 0.1 stays 0.1.
        number = Decimal(repr(value))
        if number and len(number.as_tuple().digits) > _DIGITS_SHOWN:
            # A computed result saved as 582.90000000000009 is 582.9 in Excel's own display and
            # arithmetic (15 significant digits); the extra digits are binary noise.
            exponent = number.adjusted() - (_DIGITS_SHOWN - 1)
            number = number.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_UP)
    spec = _format_spec(number_format)
    section = spec[1] if number < 0 and len(spec) > 1 else spec[0]
    shown = number.scaleb(2 * section.percent - 3 * section.thousands)
    text = _plain(shown, section.decimals)
    sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
    # The sign goes after a currency symbol: parse_money reads ¥-5 but not -¥5.
    return f"{section.prefix}{sign}{digits}{section.suffix}", ""


def _plain(number: Decimal, decimals: int) -> str:
    """Exact digits without exponent, padded to the format's decimals but never rounded to them."""
    number = number.normalize()
    exponent = number.as_tuple().exponent  # "n"/"N"/"F" for NaN and infinity: nothing to pad
    if isinstance(exponent, int) and exponent >= -decimals:
        # InvalidOperation: more digits than the context holds; the padding is cosmetic.
        with contextlib.suppress(InvalidOperation):
            number = number.quantize(Decimal(1).scaleb(-decimals))
    text = format(number, "f")
    return text[1:] if text.startswith("-") and not number else text


@dataclass(frozen=True)
class _Section:
    prefix: str = ""
    suffix: str = ""
    decimals: int = 0
    percent: int = 0  # each % multiplies by 100
    thousands: int = 0  # each comma after the last digit divides by 1000


_PLACEHOLDERS = "0#?"
_DROPPED = "()-+ \u3000"  # sign decoration; the sign itself is always written as "-"


@functools.lru_cache(maxsize=512)
def _format_spec(number_format: str) -> tuple[_Section, ...]:
    """The literal text around the number and its scaling, per section of a number format."""
    sections = []
    for section in _split_sections(number_format)[:2]:
        sections.append(_parse_section(section))
    return tuple(sections) or (_Section(),)


def _split_sections(number_format: str) -> list[str]:
    out, current, quoted, i = [], [], False, 0
    while i < len(number_format):
        ch = number_format[i]
        if ch == '"':
            quoted = not quoted
        elif ch == "\\" and not quoted and i + 1 < len(number_format):
            current.append(ch + number_format[i + 1])
            i += 2
            continue
        elif ch == ";" and not quoted:
            out.append("".join(current))
            current = []
            i += 1
            continue
        current.append(ch)
        i += 1
    out.append("".join(current))
    return out


def _parse_section(section: str) -> _Section:
    before: list[str] = []
    after: list[str] = []
    seen_digit = False
    decimals = percent = 0
    in_decimals = False
    commas_pending = 0
    thousands = 0
    i = 0
    text = section
    if text.lower().startswith("general"):
        text = text[7:]
    while i < len(text):
        ch = text[i]
        literal = ""
        if ch == '"':
            close = text.find('"', i + 1)
            close = len(text) if close < 0 else close
            literal, i = text[i + 1 : close], close + 1
        elif ch == "\\":
            literal, i = text[i + 1 : i + 2], i + 2
        elif ch in "_*":
            i += 2  # padding and fill characters take the width of the next one, show nothing
            continue
        elif ch == "[":
            close = text.find("]", i + 1)
            close = len(text) if close < 0 else close
            inner = text[i + 1 : close]
            i = close + 1
            if inner.startswith("$"):
                literal = inner[1:].split("-", 1)[0]  # [$¥-804] is the currency symbol ¥
            else:
                continue  # colours, conditions, [DBNum1]: the value is read as digits anyway
        elif ch in _PLACEHOLDERS:
            seen_digit = True
            if in_decimals:
                decimals += 1
            commas_pending = 0  # commas between digits (#,##0) only group them
            i += 1
            continue
        elif ch == "." and seen_digit and not in_decimals:
            in_decimals = True
            thousands, commas_pending = thousands + commas_pending, 0
            i += 1
            continue
        elif ch == "," and seen_digit:
            commas_pending += 1
            i += 1
            continue
        elif ch == "%":
            percent += 1
            literal, i = "%", i + 1
        elif ch in "Ee" and i + 1 < len(text) and text[i + 1] in "+-":
            i += 2  # scientific notation: the exact value is written out instead
            continue
        elif ch == "@":
            i += 1
            continue
        else:
            literal, i = ch, i + 1
        if literal:
            thousands, commas_pending = thousands + commas_pending, 0
        (after if seen_digit else before).append(literal)
    thousands += commas_pending  # commas after the last digit placeholder scale by 1000
    prefix = "".join(before).strip(_DROPPED)
    suffix = "".join(after).strip(_DROPPED)
    return _Section(prefix, suffix, decimals, percent, thousands)
