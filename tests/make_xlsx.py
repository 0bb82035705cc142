"""Build realistic .xlsx filings from the example text dump, at test time.

Two layouts, both as departments actually hand them in:

* :func:`write_form_xlsx`: the Word form retyped into Excel. Each row of the Word table is a
  sheet row; labels sit beside their values; merged cells where Word had them (the title
  across the table, a value across the remaining columns, the first column 年度绩效指标 /
  支出明细及测算说明 and the 一级指标 column merged down their blocks). Amounts are numbers,
  not text, with the 金额单位 stated in a header cell as in the form, and a few cells carry
  their unit in the number format (``0.00"万元"``, ``0"人"``, ``0%``).
* :func:`write_export_xlsx`: the 预算管理一体化系统 export. Header fields as label | value
  rows, indicators as a flat table with explicit columns (指标性质 ≥ ≤ = 定性, 指标值, 度量单位,
  权重, 绩效标准) under a two-row header, detail lines and summary rows as ordinary tables.

The layouts are not shaped to suit the recogniser: what it cannot read is a finding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from hegui.facts.model import Direction, Filing, Indicator, Overview, Summary
from hegui.facts.read import read_filing
from hegui.facts.textdump import read_text_dump
from hegui.facts.values import parse_indicator_value

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "shifeng-zzb-2023.txt"

_LABEL = re.compile(r"^附件\s*[0-9]+(?:\s*[-－—–]\s*[0-9]+)?$")
_TITLES = ("部门整体支出绩效目标表", "专项资金预算绩效目标汇总表", "专项资金支出方向绩效目标表")
# Row heads of the Word form whose first-column cell is merged down over the rows below it.
_BLOCK_HEADS = ("年度预算申请", "年度重点工作计划", "年度绩效指标", "支出明细及测算")
# Sections in which the dump may break one Word row in two at a blank line inside a cell.
_TABLE_HEADS = ("年度绩效指标", "支出明细及测算")
_SECTION_HEADS = ("部门职责概述", "年度重点工作计划", "年度绩效指标", "支出明细及测算", "年度预算申请")
_NUMBER = re.compile(r"^[0-9]+(?:\.[0-9]+)?$")
_PERCENT = re.compile(r"^([0-9]+(?:\.[0-9]+)?)%$")
_PERSONS = re.compile(r"^([0-9]+)人$")

THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="center")


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


# --- the dump, as 附件 blocks of rows -----------------------------------------------------------


def _is_boundary(line: str) -> bool:
    s = _squash(line)
    return bool(_LABEL.match(s)) or (any(t in s for t in _TITLES) and len(s) < 40)


def _split_cell(text: str) -> list[str]:
    """A dumped cell into the pieces that were separate paragraphs outside the table.

    Word dumps the text after a table (the next 附件's label and title) into the table's last
    cell, and the footer's two lines (单位负责人签字 / 填表人) into one cell.
    """
    lines = text.split("\n")
    pieces: list[list[str]] = [[]]
    for i, line in enumerate(lines):
        if i > 0 and (
            _is_boundary(line) or (line.strip().startswith("填表人") and any(text.strip() for text in pieces[-1]))
        ):
            pieces.append([])
        pieces[-1].append(line)
    return ["\n".join(p).strip("\n") for p in pieces if any(text.strip() for text in p)]


def dump_blocks(path: Path = EXAMPLE) -> dict[str, list[list[str]]]:
    """The example's rows (lists of cell texts) per 附件 label, in document order."""
    grid = read_text_dump(path)
    rows: list[list[str]] = []
    for row in grid.rows:
        current: list[str] = []
        for cell in row.cells:
            pieces = _split_cell(cell.text) or [""]
            current.append(pieces[0])
            for piece in pieces[1:]:
                rows.append(current)
                current = [piece]
        rows.append(current)
    blocks: dict[str, list[list[str]]] = {}
    label = None
    for cells in rows:
        if not any(c.strip() for c in cells):
            continue
        nonblank = [c for c in cells if c.strip()]
        if len(nonblank) == 1 and _LABEL.match(_squash(nonblank[0])):
            label = _squash(nonblank[0])
            blocks[label] = []
        if label is not None:
            blocks[label].append(cells)
    return {label: _rejoin(rows) for label, rows in blocks.items()}


def _rejoin(rows: list[list[str]]) -> list[list[str]]:
    """Join the halves of table rows the dump broke at a blank line inside a cell."""
    width = max(len(r) for r in rows[1:])
    out: list[list[str]] = []
    in_table = False
    for cells in rows:
        head = _squash(cells[0])
        if any(head.startswith(h) for h in _TABLE_HEADS):
            in_table = True
        elif len(cells) == 1 or any(head.startswith(h) for h in _SECTION_HEADS):
            in_table = False
        elif in_table and out and cells[0].strip() and len(out[-1]) < width and len(out[-1]) + len(cells) <= width:
            out[-1] = out[-1] + cells
            continue
        out.append(list(cells))
    return out


# --- the form layout ----------------------------------------------------------------------------


@dataclass
class _Put:
    """One cell to write: its first column (1-based, within the table) and width in columns."""

    col: int
    span: int
    text: str


@dataclass
class _Line:
    cells: list[_Put] = field(default_factory=list)
    kind: str = "row"  # row | label | title | full | spacer


def _spans(cells: list[str], width: int) -> list[int]:
    n = len(cells)
    if n >= width:
        extra = [c for c in cells[width:] if c.strip()]
        assert not extra, f"row wider than its table: {cells}"
        return [1] * width
    if n == 1:
        return [width]
    if n == 2:
        # 项目主管部门 … | 金额单位：万元 sit over the table's halves; a label | value row has the
        # value merged across the remaining columns.
        if "单位" in cells[1] and "金额" in cells[1]:
            return [width - 2, 2]
        return [1, width - 1]
    patterns = {
        (5, 3): [1, 2, 2],
        (5, 4): [1, 1, 1, 2],
        (6, 4): [1, 2, 1, 2],
        (6, 5): [1, 1, 1, 1, 2],
        (6, 3): [1, 2, 3],
    }
    return patterns[(width, n)]


def _form_lines(label: str, rows: list[list[str]], *, spacer_rows: bool) -> tuple[list[_Line], int]:
    width = max(len(r) for r in rows[1:])
    lines: list[_Line] = []
    for cells in rows:
        nonblank = [c for c in cells if c.strip()]
        head = _squash(cells[0])
        if len(nonblank) == 1 and _LABEL.match(_squash(nonblank[0])):
            lines.append(_Line([_Put(1, 1, nonblank[0].strip())], "label"))
            continue
        if len(cells) == 1 and any(t in _squash(cells[0]) for t in _TITLES):
            lines.append(_Line([_Put(1, width, cells[0].strip())], "title"))
            if spacer_rows:
                lines.append(_Line(kind="spacer"))
            continue
        if spacer_rows and (
            any(head.startswith(h) for h in _SECTION_HEADS) or (len(cells) == 1 and "单位负责人" in head)
        ):
            lines.append(_Line(kind="spacer"))
        spans = _spans(cells, width)
        col = 1
        puts = []
        for text, span in zip(cells, spans, strict=True):
            puts.append(_Put(col, span, text.rstrip("\n")))
            col += span
        lines.append(_Line(puts, "full" if len(cells) == 1 else "row"))
    return lines, width


def _vertical_merges(lines: list[_Line]) -> list[tuple[int, int, int]]:
    """(first line, last line, column) of the form's vertically merged cells."""
    merges = []

    def at(line: _Line, col: int) -> _Put | None:
        return next((p for p in line.cells if p.col == col), None)

    i = 0
    while i < len(lines):
        line = lines[i]
        first = at(line, 1)
        if line.kind == "row" and first is not None and any(_squash(first.text).startswith(h) for h in _BLOCK_HEADS):
            j = i + 1
            while (
                j < len(lines) and lines[j].kind == "row" and (p := at(lines[j], 1)) is not None and not p.text.strip()
            ):
                j += 1
            if j - 1 > i:
                merges.append((i, j - 1, 1))
            if _squash(first.text).startswith("年度绩效指标"):
                # The 一级指标 column is merged down over its 二级指标 rows.
                k = i + 1
                while k < j:
                    top = at(lines[k], 2)
                    m = k + 1
                    while m < j and (p := at(lines[m], 2)) is not None and not p.text.strip():
                        m += 1
                    if top is not None and top.text.strip() and m - 1 > k:
                        merges.append((k, m - 1, 2))
                    k = m
            i = j
            continue
        i += 1
    return merges


@dataclass
class _Sheet:
    ws: object
    row: int = 1  # next free row
    width: int = 0


def _write_value(cell, text: str, *, label: str, unit_formats: dict) -> None:
    """Write ``text`` the way a person typing it into Excel ends up with it."""
    stripped = text.strip()
    if _NUMBER.match(stripped):
        number: int | float = int(stripped) if "." not in stripped else float(stripped)
        cell.value = number
        decimals = len(stripped.split(".")[1]) if "." in stripped else 0
        cell.number_format = unit_formats.get((label, stripped)) or ("0." + "0" * decimals if decimals else "General")
        return
    m = _PERCENT.match(stripped)
    if m:
        # Typed as 100% Excel stores 1 with a percent format.
        value = Decimal(m.group(1)) / 100
        cell.value = int(value) if value == int(value) else float(value)
        cell.number_format = "0%" if "." not in m.group(1) else "0." + "0" * len(m.group(1).split(".")[1]) + "%"
        return
    m = _PERSONS.match(stripped)
    if m and (label, stripped) in unit_formats:
        cell.value = int(m.group(1))
        cell.number_format = unit_formats[(label, stripped)]
        return
    cell.value = text


# Cells that carry their unit in the number format (the header still says 金额单位：万元).
_UNIT_FORMATS = {
    ("附件3-5", "20"): '0.00"万元"',  # 项目金额 of 附件3-5 and its detail/合计 amounts
    ("附件1", "939.28"): '#,##0.00"万元"',
    ("附件3-1", "76人"): '0"人"',
    ("附件3-5", "6人"): '0"人"',
}


def _place_block(
    sheet: _Sheet,
    label: str,
    lines: list[_Line],
    width: int,
    *,
    col0: int,
    extra: str,
    numbering: list[int],
    notes_col: int,
) -> None:
    ws = sheet.ws
    first_row = sheet.row
    merges = _vertical_merges(lines)
    covered = {(first_row + r, c) for a, b, c in merges for r in range(a + 1, b + 1)}
    for index, line in enumerate(lines):
        r = first_row + index
        if line.kind == "spacer":
            ws.cell(r, col0 + 1).border = BOX  # an empty, bordered row: still blank
            continue
        if extra == "numbers" and line.kind in ("row", "full"):
            numbering[0] += 1
            ws.cell(r, 1, numbering[0])
        for put in line.cells:
            if (r, put.col) in covered:
                continue
            c = col0 + put.col
            cell = ws.cell(r, c)
            if put.text.strip():
                _write_value(cell, put.text, label=label, unit_formats=_UNIT_FORMATS)
            if line.kind in ("row", "full"):
                cell.border = BOX
                cell.alignment = WRAP
            if line.kind == "title":
                cell.font = Font(bold=True, size=16)
                cell.alignment = Alignment(horizontal="center")
            if put.span > 1:
                ws.merge_cells(start_row=r, start_column=c, end_row=r, end_column=c + put.span - 1)
        if extra == "notes" and line.kind == "row":
            note = ws.cell(r, notes_col)
            note.border = BOX
            heads = {"一级指标", "支出内容简介", "事项", "序号"}
            if any(_squash(p.text) in heads for p in line.cells):
                note.value = "备注"
    for a, b, c in merges:
        ws.merge_cells(start_row=first_row + a, start_column=col0 + c, end_row=first_row + b, end_column=col0 + c)
    sheet.row = first_row + len(lines)
    sheet.width = max(sheet.width, width)


_EXTRA_TITLES = (
    "石峰区委组织部2023年度预算绩效目标申报材料",
    "（报区财政局预算绩效管理科）",
    "编制日期：2023年1月",
)


def write_form_xlsx(
    out_path: str | Path,
    *,
    stacked: bool = False,
    extra_title_rows: int = 0,
    spacer_rows: bool = False,
    extra_column: bool | str = False,
    order: list[str] | None = None,
) -> Path:
    """Write the example as the Word form retyped into Excel; returns ``out_path``.

    One 附件 per sheet (named 附件1, 附件2, 附件3-1 …), or all in one sheet when ``stacked``.
    ``extra_title_rows`` rows of heading text open every sheet; ``spacer_rows`` puts blank rows
    after titles, before sections and footers (and between stacked 附件); ``extra_column`` adds
    a column: ``True``/``"notes"`` a 备注 column on the right, ``"numbers"`` a leading column of
    row numbers, ``"margin"`` an empty column A (the table starts in column B); ``order`` lists
    the 附件 labels in the order to write them.
    """
    if extra_column is True:
        extra_column = "notes"
    blocks = dump_blocks()
    labels = order or list(blocks)
    assert sorted(labels) == sorted(blocks), labels
    wb = Workbook()
    wb.remove(wb.active)
    col0 = 1 if extra_column in ("numbers", "margin") else 0
    numbering = [0]
    sheet: _Sheet | None = None
    laid_out = {label: _form_lines(label, blocks[label], spacer_rows=spacer_rows) for label in labels}
    # The 备注 column is one sheet column: after the widest table when tables are stacked.
    widest = max(width for _, width in laid_out.values())
    for label in labels:
        lines, width = laid_out[label]
        notes_col = col0 + (widest if stacked else width) + 1
        if sheet is None or not stacked:
            sheet = _Sheet(wb.create_sheet("绩效目标表" if stacked else label))
            numbering = [0]
            for t in range(extra_title_rows):
                cell = sheet.ws.cell(sheet.row, col0 + 1, _EXTRA_TITLES[t % len(_EXTRA_TITLES)])
                sheet.ws.merge_cells(
                    start_row=sheet.row, start_column=col0 + 1, end_row=sheet.row, end_column=col0 + width
                )
                cell.alignment = Alignment(horizontal="center")
                sheet.row += 1
        elif spacer_rows:
            sheet.row += 2
        _place_block(
            sheet, label, lines, width, col0=col0, extra=extra_column or "", numbering=numbering, notes_col=notes_col
        )
        _column_widths(sheet.ws, col0, width + (1 if extra_column == "notes" else 0))
    out = Path(out_path)
    wb.save(out)
    return out


def _column_widths(ws, col0: int, width: int) -> None:
    for c in range(1, col0 + width + 1):
        ws.column_dimensions[get_column_letter(c)].width = 8 if c <= col0 else 22


# --- the 一体化 export layout --------------------------------------------------------------------


def example_filing() -> Filing:
    """The example text dump read into the model (the reference for every xlsx layout)."""
    return read_filing(EXAMPLE)


_NATURE_OF = {"≥": "≥", "≤": "≤", "=": "=", "": "=", ">": "＞", "<": "＜"}


def split_indicator(text: str, unit: str = "万元") -> tuple[str, str | Decimal, str]:
    """(指标性质, 指标值, 度量单位) as the 一体化 system stores a form's 指标值.

    A number with an optional comparator and unit splits into its parts (``≤15万元`` gives
    ``≤``, 15, ``万元``); dates, prose and numbers with words after them (``3个大项目``) are
    定性 with the whole text as the value, since the system's 度量单位 is a unit, not a phrase.
    """
    parsed = parse_indicator_value(text, unit)
    stripped = text.strip()
    if parsed.kind == "number" and parsed.number is not None:
        number = parsed.number
        shown = format(number, "f")
        rebuilt = f"{parsed.comparator}{shown}{parsed.unit}"
        if _squash(rebuilt) == _squash(stripped):
            return _NATURE_OF[parsed.comparator], number, parsed.unit
    return "定性", stripped, ""


class _Export:
    #: 一体化 exports of some provinces put the unit on every money label (资金总额（万元）)
    #: and print no separate 金额单位 line.
    unit_labels = False

    def __init__(self, ws, width: int) -> None:
        self.ws = ws
        self.width = width
        self.row = 1

    def money(self, label: str) -> str:
        return f"{label}（万元）" if self.unit_labels else label

    def full(self, text: str, *, bold: bool = False, size: int | None = None, align: str = "left") -> int:
        cell = self.ws.cell(self.row, 1, text)
        if self.width > 1:
            self.ws.merge_cells(start_row=self.row, start_column=1, end_row=self.row, end_column=self.width)
        cell.font = Font(bold=bold, size=size or 11)
        cell.alignment = Alignment(horizontal=align, wrap_text=True)
        self.row += 1
        return self.row - 1

    def put(self, col: int, value, *, span: int = 1, number_format: str | None = None, border: bool = True):
        cell = self.ws.cell(self.row, col)
        if value is not None and value != "":
            cell.value = value
        if number_format:
            cell.number_format = number_format
        if border:
            for c in range(col, col + span):
                self.ws.cell(self.row, c).border = BOX
        cell.alignment = WRAP
        if span > 1:
            self.ws.merge_cells(start_row=self.row, start_column=col, end_row=self.row, end_column=col + span - 1)
        return cell

    def field(self, label: str, value, *, number_format: str | None = None) -> None:
        self.put(1, label)
        self.put(2, value, span=self.width - 1, number_format=number_format)
        self.row += 1

    def unit_line(self, left: str = "") -> None:
        if self.unit_labels:
            return
        if left:
            self.put(1, left, span=self.width - 2, border=False)
        cell = self.put(self.width - 1, "金额单位：万元", span=2, border=False)
        cell.alignment = Alignment(horizontal="right")
        self.row += 1


def _money(text: str) -> int | float | None:
    s = text.strip()
    if not s:
        return None
    if _NUMBER.match(s):
        return int(s) if "." not in s else float(s)
    return None


def _money_format(text: str) -> str:
    s = text.strip()
    return "0." + "0" * len(s.split(".")[1]) if "." in s else "General"


def _indicator_table(x: _Export, indicators: list[Indicator], unit: str, *, standard: bool) -> None:
    x.full("年度绩效指标", bold=True)
    # Two-row header: 绩效指标 over the three levels, the other headings merged down both rows.
    heads = ["指标性质", "指标值", "度量单位", "权重"] + (["绩效标准"] if standard else [])
    top, below = x.row, x.row + 1
    x.put(1, "绩效指标", span=3)
    for i, head in enumerate(heads):
        x.put(4 + i, head)
        x.ws.merge_cells(start_row=top, start_column=4 + i, end_row=below, end_column=4 + i)
    x.row += 1
    for i, head in enumerate(["一级指标", "二级指标", "三级指标"]):
        x.put(1 + i, head)
    for i in range(len(heads)):
        x.ws.cell(below, 4 + i).border = BOX
    x.row += 1
    last1 = last2 = None
    run_start = None
    for ind in indicators:
        l1, l2 = _squash(ind.level1.text), _squash(ind.level2.text)
        nature, value, measure = split_indicator(ind.value.text, unit)
        if l1 != last1:
            if run_start is not None and x.row - 1 > run_start:
                x.ws.merge_cells(start_row=run_start, start_column=1, end_row=x.row - 1, end_column=1)
            run_start = x.row
            x.put(1, ind.level1.text.strip())
        else:
            x.put(1, None)
        # A repeated 二级指标 is left blank, as the system prints it.
        x.put(2, ind.level2.text.strip() if (l1, l2) != (last1, last2) else None)
        x.put(3, ind.level3.text.strip())
        x.put(4, nature)
        fmt = None
        if isinstance(value, Decimal):
            # The system stores a number; its display keeps the decimals as entered (299.40).
            decimals = max(0, -value.as_tuple().exponent)
            fmt = "0." + "0" * decimals if decimals else "General"
            value = int(value) if not decimals else float(value)
        x.put(5, value, number_format=fmt)
        x.put(6, measure)
        x.put(7, None)
        if standard:
            x.put(8, ind.standard.text.strip() if ind.standard is not None else None)
        last1, last2 = l1, l2
        x.row += 1
    if run_start is not None and x.row - 1 > run_start:
        x.ws.merge_cells(start_row=run_start, start_column=1, end_row=x.row - 1, end_column=1)


def _footer(x: _Export, table) -> None:
    f = table.footer
    signatory = f.signatory.text if f.signatory else ""
    preparer = f.preparer.text if f.preparer else ""
    phone = f.phone.text if f.phone else ""
    # One line under the table: signature on the left, preparer and phone to the right.
    first = (x.width + 1) // 3 + 1
    second = max(1, (x.width - first + 1) // 2)
    x.put(1, f"单位负责人签字：{signatory}", span=first - 1, border=False)
    x.put(first, f"填表人：{preparer}", span=second, border=False)
    x.put(first + second, f"联系电话：{phone}", span=x.width - first - second + 1, border=False)
    x.row += 1


def _export_overview(wb: Workbook, t: Overview) -> None:
    x = _Export(wb.create_sheet(t.label), 7)
    x.full(t.title.text.strip() if t.title else "部门整体支出绩效目标表", bold=True, size=16, align="center")
    x.unit_line()
    x.field("部门名称", t.department.text.strip() if t.department else "")
    total = t.total.text if t.total else ""
    x.field(
        x.money("资金总额"),
        _money(total) if _money(total) is not None else total.strip(),
        number_format=_money_format(total),
    )
    for f in t.income + t.expense:
        x.field(
            x.money(f.label),
            _money(f.text) if _money(f.text) is not None else f.text,
            number_format=_money_format(f.text),
        )
    x.field("部门职责概述", t.duties.text.strip() if t.duties else "")
    x.full("年度重点工作计划", bold=True)
    x.put(1, "事项")
    x.put(2, "责任单位/科室")
    x.put(3, "工作目标", span=x.width - 2)
    x.row += 1
    for plan in t.work_plans:
        x.put(1, plan.item.text.strip())
        x.put(2, plan.owner.text.strip())
        x.put(3, plan.goal.text.strip(), span=x.width - 2)
        x.row += 1
    _indicator_table(x, t.indicators, t.unit, standard=False)
    _footer(x, t)


def _export_summary(wb: Workbook, t: Summary) -> None:
    x = _Export(wb.create_sheet(t.label), 5)
    x.full(t.title.text.strip() if t.title else "专项资金预算绩效目标汇总表", bold=True, size=16, align="center")
    x.field("项目主管部门", t.department.text.strip() if t.department else "")
    x.unit_line()
    for i, head in enumerate(["序号", "支出方向（子项）", x.money("金额"), "实施期绩效目标", "年度绩效目标"]):
        x.put(1 + i, head)
    x.row += 1
    total = t.total.text if t.total else ""
    x.put(1, None)
    x.put(2, "合计")
    x.put(3, _money(total), number_format=_money_format(total))
    x.put(4, None)
    x.put(5, None)
    x.row += 1
    for row in t.rows:
        x.put(1, row.seq_cell.text.strip())
        x.put(2, row.name.text.strip())
        x.put(3, _money(row.amount.text), number_format=_money_format(row.amount.text))
        x.put(4, row.period_goal.text.strip() if row.period_goal else None)
        x.put(5, row.annual_goal.text.strip() if row.annual_goal else None)
        x.row += 1
    _footer(x, t)


def _export_direction(wb: Workbook, t: Direction) -> None:
    x = _Export(wb.create_sheet(t.label), 8)
    x.full(t.title.text.strip() if t.title else "专项资金支出方向绩效目标表", bold=True, size=16, align="center")
    x.field("项目主管部门", t.department.text.strip() if t.department else "")
    x.unit_line()
    x.field("支出方向（子项）", t.name.text.strip() if t.name else "")
    x.field("所属专项", t.parent_fund.text.strip() if t.parent_fund else "")
    amount = t.amount.text if t.amount else ""
    x.field(x.money("项目金额"), _money(amount), number_format=_money_format(amount))
    period = t.period.text.strip() if t.period else ""
    x.field("项目实施期", int(period) if period.isdigit() else period)
    x.field("实施期绩效目标", t.period_goal.text.strip() if t.period_goal else "")
    x.field("年度绩效目标", t.annual_goal.text.strip() if t.annual_goal else "")
    _indicator_table(x, t.indicators, t.unit, standard=True)
    x.full("支出明细及测算说明", bold=True)
    x.put(1, "支出内容简介", span=2)
    x.put(3, "支出明细", span=2)
    x.put(5, x.money("金额"))
    x.put(6, "支出测算依据及过程说明", span=3)
    x.row += 1
    dumped = _dumped_details(t.label)
    for n, d in enumerate(t.details):
        x.put(1, d.intro.text.strip(), span=2)
        # The 支出明细 text comes from the dump itself, not from the model: the recogniser
        # of the text dump is not the reference for what the export contains.
        x.put(3, dumped[n] if n < len(dumped) else d.detail.text.strip(), span=2)
        x.put(5, _money(d.amount.text), number_format=_money_format(d.amount.text))
        x.put(6, d.basis.text.strip(), span=3)
        x.row += 1
    if t.detail_total is not None:
        x.put(1, "合计", span=4)
        x.put(5, _money(t.detail_total.text), number_format=_money_format(t.detail_total.text))
        x.put(6, None, span=3)
        x.row += 1
    _footer(x, t)


def _dumped_details(label: str) -> list[str]:
    """The 支出明细 column of a 附件3's detail rows, straight from the dump."""
    rows = dump_blocks()[label]
    start = next(i for i, r in enumerate(rows) if _squash(r[0]).startswith("支出明细及测算"))
    column = [_squash(c) for c in rows[start]].index("支出明细")
    out = []
    for r in rows[start + 1 :]:
        if len(r) == 1 or any(_squash(c) == "合计" for c in r):
            break
        out.append(r[column].strip())
    return out


def write_export_xlsx(out_path: str | Path, *, unit_labels: bool = False) -> Path:
    """Write the example as a 预算管理一体化系统 export (one sheet per 附件); returns ``out_path``.

    Sheets are named after their 附件; like the system's exports, the sheets themselves carry
    the table title but no 附件 label. With ``unit_labels``, every money label carries its
    unit (资金总额（万元）, 项目金额（万元）, 金额（万元）) and there is no 金额单位 line.
    """
    _Export.unit_labels = unit_labels
    try:
        return _write_export(out_path)
    finally:
        _Export.unit_labels = False


def _write_export(out_path: str | Path) -> Path:
    filing = example_filing()
    wb = Workbook()
    wb.remove(wb.active)
    if filing.overview:
        _export_overview(wb, filing.overview)
    if filing.summary:
        _export_summary(wb, filing.summary)
    for d in filing.directions:
        _export_direction(wb, d)
    for ws in wb.worksheets:
        for c in range(1, 9):
            ws.column_dimensions[get_column_letter(c)].width = 18
    out = Path(out_path)
    wb.save(out)
    return out
