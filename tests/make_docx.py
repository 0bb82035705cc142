"""Rebuild the Word document that ``examples/shifeng-zzb-2023.txt`` was dumped from.

The dump (see :mod:`hegui.facts.textdump`) keeps every cell of every Word table, in order, but
not the table layout. This module puts the layout back the way such a 表式 is drawn in Word:

* one Word table per 附件. 附件1 and 附件3-x carry their label in the table's first row (the
  dump shows that row with six cells); 附件2's label and title are paragraphs above its table
  (the dump runs them, untabbed, into the last cell of 附件1);
* the first column of the 年度预算申请, 年度重点工作计划, 年度绩效指标 and 支出明细及测算说明
  blocks is one vertically merged cell (the dump shows its lower parts as leading empty
  cells), and so is each 一级指标 over its 二级指标 rows;
* a row with fewer cells than the table is wide has horizontally merged cells, laid out as the
  printed form has them (label/value pairs, the 合计 label over the two text columns, …);
* a cell with several paragraphs gets several paragraphs, empty ones included; blank lines
  that the dump wrote after a cell's text are that cell's trailing empty paragraphs, which is
  also why the dump broke a few rows in two (those rows are one row again here);
* consecutive tables are separated by an empty paragraph, as Word requires.

``write_docx(path)`` writes the document; ``order`` and ``extra_title_paragraphs`` write the
variants the recogniser must take in its stride.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import docx
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

from hegui.facts.textdump import read_text_dump

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "shifeng-zzb-2023.txt"

_LABEL = re.compile(r"^附件\s*[0-9一二三四五六七八九]+(?:\s*-\s*[0-9]+)?$")
_TITLES = ("部门整体支出绩效目标表", "专项资金预算绩效目标汇总表", "专项资金支出方向绩效目标表")

# Blocks whose first column is one vertically merged cell over the block's rows.
_MERGED_FIRST_COLUMN = ("年度预算申请", "年度重点工作计划", "年度绩效指标", "支出明细及测算说明")
# Blocks whose rows all have the header's cell count, so a short row was cut by the dump.
_FIXED_WIDTH = ("年度绩效指标", "支出明细及测算说明")
# First cells that start something new: never the second half of a row the dump cut in two.
_STARTS = (*_MERGED_FIRST_COLUMN, "部门名称", "部门职责概述", "单位负责人签字", "填表人", "实施期绩效目标")
_PAIR_LABELS = ("支出方向", "所属专项", "项目金额", "项目实施期")

# Paragraphs a department might put above its tables; none looks like a 附件 label or a title.
_EXTRA_PARAGRAPHS = (
    "石峰区委组织部2023年度预算绩效目标申报材料",
    "（按区财政局统一表式填报）",
    "报送日期：2023年1月",
    "说明：以下各表金额均为预算数",
)


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", text)


@dataclass
class _DumpCell:
    text: str
    first: int  # dump lines, 1-based
    last: int


@dataclass
class _Block:
    """One 附件: the paragraphs above its table, then the table's rows of cell texts."""

    label: str
    paragraphs: list[str] = field(default_factory=list)
    rows: list[list[_DumpCell]] = field(default_factory=list)


@dataclass
class _LaidCell:
    text: str
    column: int  # 0-based grid column
    span: int
    continuation: bool = False  # lower part of a vertical merge


def dump_blocks(path: Path = EXAMPLE) -> list[_Block]:
    """The dump cut into 附件 blocks, label and title text moved out of the cell they ran into."""
    grid = read_text_dump(path)
    blocks: list[_Block] = [_Block("")]
    for row in grid.rows:
        cells = [_DumpCell(c.text, c.source.line, c.source.end_line or c.source.line) for c in row.cells]
        nonblank = [c for c in cells if c.text.strip()]
        if len(nonblank) == 1 and _LABEL.match(nonblank[0].text.strip()):
            blocks.append(_Block(_norm(nonblank[0].text)))
            blocks[-1].rows.append(cells)
            continue
        current: list[_DumpCell] = []
        for cell in cells:
            lines = cell.text.split("\n")
            cut = next((i for i, line in enumerate(lines) if i > 0 and _LABEL.match(line.strip())), None)
            if cut is None:
                current.append(cell)
                continue
            # Untabbed lines after a cell are text below the table: Word's dump cannot tell them
            # from the cell's own paragraphs, but a 附件 label never sits in a 填表人 cell.
            current.append(_DumpCell("\n".join(lines[:cut]).rstrip("\n"), cell.first, cell.first + cut - 1))
            blocks[-1].rows.append(current)
            current = []
            blocks.append(_Block(_norm(lines[cut]), paragraphs=[line for line in lines[cut:] if line.strip()]))
        if current:
            blocks[-1].rows.append(current)
    if not blocks[0].rows and not blocks[0].paragraphs:
        blocks.pop(0)
    return blocks


def _rejoin(rows: list[list[_DumpCell]]) -> list[list[_DumpCell]]:
    """Rows the dump broke at a cell's trailing empty paragraphs, joined again.

    The dump writes an empty paragraph as an empty line, which also ends a row; the blank lines
    between two rows beyond the first one are thus empty paragraphs at the end of the row's last
    cell. Inside a fixed-width block a short row followed by a row that does not start with the
    merged first column is one Word row cut in two: all those blank lines are paragraphs.
    """
    out: list[list[_DumpCell]] = []
    section, width = "", 0
    for row in rows:
        first = _norm(row[0].text) if row else ""
        if out:
            prev = out[-1]
            blanks = row[0].first - prev[-1].last - 1
            fragment = (
                section in _FIXED_WIDTH
                and first
                and not first.startswith(_STARTS)
                and len(prev) < width
                and len(prev) + len(row) <= width
            )
            tail = prev[-1]
            extra = blanks if fragment else max(blanks - 1, 0)
            prev[-1] = _DumpCell(tail.text + "\n" * extra, tail.first, tail.last)
            if fragment:
                prev.extend(row)
                continue
        if first:
            section = next((s for s in _MERGED_FIRST_COLUMN if first.startswith(s)), "")
            width = len(row)
        out.append(list(row))
    return out


def _spans(texts: list[str], width: int, section: str) -> list[int]:
    """How many grid columns each cell of a row covers, as the printed form lays them out."""
    n = len(texts)
    if n >= width:
        return [1] * n
    if n == 1:
        return [width]
    norm = [_norm(t) for t in texts]
    if n == 2 and norm[1].startswith("金额单位"):
        # 项目主管部门 on the left, the unit in the right-hand corner.
        return [width - 2, 2]
    if n == 4 and norm[0].startswith(_PAIR_LABELS) and norm[2].startswith(_PAIR_LABELS):
        # Two label/value pairs: each value covers the columns up to the next label.
        left = (width - 2) // 2
        return [1, left, 1, width - 2 - left]
    if section.startswith("支出明细") and n == 4 and norm[1] in ("合计", "总计", "小计"):
        # 合计 covers 支出内容简介 and 支出明细; the amount stays under 金额.
        return [1, 2, 1, width - 4]
    if norm[1:] == ["按收入性质分", "按支出性质分"]:
        # Each heading over its label and amount columns.
        return [1, 2, width - 3]
    return [1] * (n - 1) + [width - n + 1]


def _layout(rows: list[list[_DumpCell]]) -> tuple[int, list[list[_LaidCell]]]:
    width = max(len(row) for row in rows)
    laid: list[list[_LaidCell]] = []
    section = ""
    for index, row in enumerate(rows):
        texts = [c.text for c in row]
        first = _norm(texts[0])
        if first:
            section = next((s for s in _MERGED_FIRST_COLUMN if first.startswith(s)), "")
        cells: list[_LaidCell] = []
        column = 0
        for position, (text, span) in enumerate(zip(texts, _spans(texts, width, section), strict=True)):
            cell = _LaidCell(text, column, span)
            if section and index and not text.strip():
                above = _cell_at(laid[-1], column)
                # The merged first column; in 年度绩效指标 also the 一级指标 over its rows.
                merged = position == 0 or (section == "年度绩效指标" and position == 1 and first == "")
                if merged and above is not None and above.span == span:
                    cell.continuation = True
            cells.append(cell)
            column += span
        laid.append(cells)
    return width, laid


def _cell_at(row: list[_LaidCell], column: int) -> _LaidCell | None:
    return next((c for c in row if c.column == column), None)


def _set_fonts(document) -> None:
    style = document.styles["Normal"]
    style.font.size = Pt(10.5)
    style.font.name = "宋体"
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")


def _write_table(document, rows: list[list[_DumpCell]]) -> None:
    width, laid = _layout(_rejoin(rows))
    table = document.add_table(rows=len(laid), cols=width)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    # Horizontal merges first: a vertical merge needs the same span in every row it covers.
    for r, cells in enumerate(laid):
        for cell in cells:
            if cell.span > 1:
                _at(table, r, cell.column).merge(_at(table, r, cell.column + cell.span - 1))
    for r, cells in enumerate(laid):
        for cell in cells:
            if cell.continuation:
                continue
            bottom = r
            while bottom + 1 < len(laid):
                below = _cell_at(laid[bottom + 1], cell.column)
                if below is None or not below.continuation:
                    break
                bottom += 1
            if bottom > r:
                _at(table, r, cell.column).merge(_at(table, bottom, cell.column))
    for r, cells in enumerate(laid):
        for cell in cells:
            if not cell.continuation:
                _fill(_at(table, r, cell.column), cell.text)


def _at(table, row: int, column: int):
    # table.cell() rebuilds the whole table's cell list on every call; one row is enough.
    return table.rows[row].cells[column]


def _fill(cell, text: str) -> None:
    """One paragraph per line of ``text``, empty lines as empty paragraphs."""
    lines = text.split("\n")
    first = cell.paragraphs[0]
    if lines[0]:
        first.add_run(lines[0])
    if any(title in _norm(text) for title in _TITLES):
        first.alignment = WD_ALIGN_PARAGRAPH.CENTER
        for run in first.runs:
            run.bold = True
    for line in lines[1:]:
        cell.add_paragraph(line)


def _write_paragraph(document, text: str) -> None:
    paragraph = document.add_paragraph(text)
    if any(title in _norm(text) for title in _TITLES):
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        for run in paragraph.runs:
            run.bold = True
            run.font.size = Pt(16)


def write_docx(out_path: str | Path, *, order: list[str] | None = None, extra_title_paragraphs: int = 0) -> Path:
    """Write the example filing as the Word document it was dumped from; returns ``out_path``.

    ``order`` lists the 附件 labels (``"附件3-5"``, ``"附件1"`` …) in the order the tables
    should appear; labels left out are left out of the document. ``extra_title_paragraphs``
    adds that many paragraphs of cover text at the top of the document and above every 附件
    (after 附件2's label paragraph, before its title).
    """
    blocks = dump_blocks()
    if order is not None:
        by_label = {block.label: block for block in blocks}
        unknown = [label for label in order if label not in by_label]
        if unknown:
            raise ValueError(f"unknown 附件 {unknown}; the example has {list(by_label)}")
        blocks = [by_label[label] for label in order]
    extras = [_EXTRA_PARAGRAPHS[i % len(_EXTRA_PARAGRAPHS)] for i in range(extra_title_paragraphs)]

    document = docx.Document()
    _set_fonts(document)
    body = document.element.body
    # The default template's body may hold an empty paragraph; the document starts afresh.
    for child in list(body):
        if child.tag != qn("w:sectPr"):
            body.remove(child)
    for number, block in enumerate(blocks):
        paragraphs = list(block.paragraphs)
        if extras:
            at = 1 if paragraphs else 0
            paragraphs[at:at] = extras
        if number and not paragraphs:
            # Two tables with nothing between them would be one table in Word.
            document.add_paragraph("")
        for text in paragraphs:
            _write_paragraph(document, text)
        _write_table(document, block.rows)
    document.add_paragraph("")
    out = Path(out_path)
    document.save(str(out))
    return out


if __name__ == "__main__":  # pragma: no cover - for looking at the document in Word
    print(write_docx(sys.argv[1] if len(sys.argv) > 1 else "shifeng-zzb-2023.docx"))
