"""Recognise 附件1/2/3-x in a grid of cells and build the typed :class:`Filing`.

Tables and fields are found by their labels (部门名称, 项目金额, 一级指标 …), never by fixed
positions, so extra title rows, spacer rows or a different 附件 order do not matter. The
grid may come from any reader; only :class:`~hegui.facts.model.Grid` is assumed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from itertools import pairwise

from hegui.facts.errors import InputError
from hegui.facts.model import (
    Cell,
    Direction,
    ExpenseDetail,
    Field,
    Filing,
    Footer,
    Grid,
    Indicator,
    Overview,
    Row,
    Source,
    Summary,
    SummaryRow,
    Table,
    WorkPlan,
)
from hegui.facts.recognise_projects import describe_tables, recognise
from hegui.facts.values import parse_indicator_value, parse_money, parse_number

_LABEL = re.compile(r"^附件\s*([0-9一二三四五六七八九]+)(?:\s*[-－—–]\s*([0-9]+))?\s*$")
_TITLE_YEAR = re.compile(r"(\d{4})\s*年")
_UNIT = re.compile(r"(?:金额)?单位[:：]\s*(万元|元|千元|亿元)|[（(]\s*(万元|元)\s*[)）]")

TITLE_KINDS = {
    "部门整体支出绩效目标表": "overview",
    "专项资金预算绩效目标汇总表": "summary",
    "专项资金支出方向绩效目标表": "direction",
}
INCOME_LABELS = [
    "一般公共预算拨款",
    "政府性基金拨款",
    "国有资本经营预算拨款",
    "财政专户管理资金",
    "单位资金",
    "其他资金",
]
EXPENSE_LABELS = ["基本支出", "项目支出"]
SECTION_STARTS = ("支出明细及测算", "单位负责人签字", "填表人", "年度绩效指标", "年度重点工作计划", "部门职责概述")


_LABEL_UNIT = re.compile(r"[（(](万元|元|千元|亿元)[)）]$")


def norm(text: str) -> str:
    """Label text without whitespace, 其中 prefixes, trailing colons and a unit suffix.

    一体化 exports write money labels with their unit (``项目金额（万元）``); the label is
    the same one, and :func:`label_unit` gives the unit.
    """
    text = re.sub(r"\s+", "", text)
    text = re.sub(r"^其中[:：]", "", text)
    text = text.rstrip(":：")
    if len(text) > 4:  # a bare "（万元）" line is a unit note, not a label
        text = _LABEL_UNIT.sub("", text).rstrip(":：")
    return text


def label_unit(text: str) -> str:
    """The money unit a label carries (``资金总额（万元）`` → 万元), or ""."""
    match = _LABEL_UNIT.search(re.sub(r"\s+", "", text).rstrip(":："))
    return match.group(1) if match else ""


def _cell_lines(cell: Cell) -> list[tuple[str, Source]]:
    lines = cell.text.split("\n")
    out = []
    offset = 0
    for line in lines:
        out.append((line, cell.source.narrowed(cell.text, offset, offset + max(len(line), 1))))
        offset += len(line) + 1
    return out


def _is_boundary_line(line: str) -> bool:
    stripped = line.strip()
    return bool(_LABEL.match(stripped)) or (any(t in stripped for t in TITLE_KINDS) and len(stripped) < 40)


def _split_embedded_labels(rows: list[Row]) -> list[Row]:
    """Split cells in which a dump ran a 附件 label or title into the previous table's footer.

    Word dumps put untabbed lines (``附件2``, a title) into the preceding cell; a label must
    start its own row for the table boundaries to be found.
    """
    out: list[Row] = []
    for row in rows:
        pending: list[Cell] = []
        for cell in row.cells:
            lines = _cell_lines(cell)
            cut = [i for i, (line, _) in enumerate(lines) if i > 0 and _is_boundary_line(line)]
            if not cut:
                pending.append(cell)
                continue
            bounds = [0, *cut, len(lines)]
            for part_index, (start, end) in enumerate(pairwise(bounds)):
                chunk = lines[start:end]
                text = "\n".join(line for line, _ in chunk).strip("\n")
                first = next((src for line, src in chunk if line.strip()), chunk[0][1])
                last = next((src for line, src in reversed(chunk) if line.strip()), chunk[-1][1])
                piece = Cell(text, first.spanning(last))
                if part_index == 0:
                    pending.append(piece)
                else:
                    if pending:
                        out.append(Row(pending))
                    pending = [piece]
        if pending:
            out.append(Row(pending))
    return out


@dataclass
class _Segment:
    label: str
    kind: str
    rows: list[Row]
    source: Source


def _segments(grid: Grid) -> list[_Segment]:
    rows = _split_embedded_labels(grid.rows)
    starts: list[tuple[int, str]] = []
    for index, row in enumerate(rows):
        first = row.nonblank()
        if first and _LABEL.match(first[0].stripped) and len(first) == 1:
            starts.append(
                (index, re.sub(r"\s+", "", first[0].stripped).replace("－", "-").replace("—", "-").replace("–", "-"))
            )
    if not starts:
        # No 附件 labels: fall back to the titles, each title starting a table.
        for index, row in enumerate(rows):
            if any(t in norm(c.text) for c in row.cells for t in TITLE_KINDS):
                starts.append((index, ""))
    segments: list[_Segment] = []
    for n, (index, label) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(rows)
        body = rows[index:end]
        kind = ""
        for row in body[:12]:
            for cell in row.cells:
                for title, title_kind in TITLE_KINDS.items():
                    if title in norm(cell.text):
                        kind = title_kind
                        break
        src = body[0].source.spanning(body[-1].source)
        # A labelled part without one of the three titles may be a table of another template
        # (a 项目支出绩效目标表 filed with the 附件): recognised by structure later.
        segments.append(_Segment(label, kind or "other", body, src))
    return segments


# --- label lookup ----------------------------------------------------------------------------


def _find_cell(rows: list[Row], label: str, *, prefix: bool = False) -> tuple[int, int] | None:
    target = norm(label)
    for r, row in enumerate(rows):
        for c, cell in enumerate(row.cells):
            text = norm(cell.text)
            if text == target or (prefix and text.startswith(target)):
                return r, c
    return None


def _value_after(rows: list[Row], label: str, unit: str, *, money: bool = False, prefix: bool = False) -> Field | None:
    """The value labelled ``label``: text after the label in its cell, else the next cell."""
    found = _find_cell(rows, label, prefix=prefix)
    if not found:
        return None
    r, c = found
    label_cell = rows[r].cells[c]
    unit = label_unit(label_cell.text) or unit
    tail = re.sub(r"\s+", "", label_cell.text)
    tail = re.sub(r"^其中[:：]", "", tail)[len(norm(label)) :].lstrip(":：")
    if _LABEL_UNIT.fullmatch(tail.rstrip(":：")):
        tail = ""  # 项目金额（万元）: the suffix is the label's unit, not its value
    following = [cell for cell in rows[r].cells[c + 1 :] if not cell.continuation]
    if tail:
        value = Cell(tail, label_cell.source)
    elif following:
        value = following[0]
    else:
        value = Cell("", label_cell.source)
    parsed = parse_money(value.stripped, unit) if money and value.stripped else None
    return Field(norm(label), value, parsed)


def _unit_of(rows: list[Row]) -> str:
    for row in rows[:20]:
        for cell in row.cells:
            match = _UNIT.search(re.sub(r"\s+", "", cell.text))
            if match:
                return match.group(1) or match.group(2)
    return "万元"


def _title(rows: list[Row]) -> Cell | None:
    for row in rows[:12]:
        for cell in row.cells:
            if any(t in norm(cell.text) for t in TITLE_KINDS):
                return cell
    return None


def _department(rows: list[Row]) -> Field | None:
    for label in ("部门名称", "项目主管部门", "填报单位"):
        found = _value_after(rows, label, "万元")
        if found and found.text and not found.text.startswith(("（盖章）", "(盖章)")):
            return found
    for row in rows[:12]:
        for cell in row.cells:
            text = re.sub(r"\s+", "", cell.text)
            match = re.search(r"(?:项目主管部门|填报单位)[:：](?:[（(]盖章[)）])?(.+)", text)
            if match and match.group(1):
                return Field("项目主管部门", Cell(match.group(1), cell.source))
    return None


def _footer(rows: list[Row]) -> Footer:
    footer = Footer()
    patterns = {
        "signatory": r"单位负责人签字[:：][ \t]*([^\s]*)",
        "preparer": r"填表人[:：][ \t]*([^\s]+)",
        "phone": r"联系电话[:：][ \t]*([0-9\-－—]+)",
    }
    for row in rows:
        for cell in row.cells:
            for line, src in _cell_lines(cell):
                for attr, pattern in patterns.items():
                    match = re.search(pattern, line)
                    if match and getattr(footer, attr) is None:
                        label = pattern.split("[")[0]
                        setattr(footer, attr, Field(label, Cell(match.group(1), src)))
    return footer


def _rejoin(rows: list[Row], width: int) -> list[Row]:
    """Rejoin table rows that a dump broke at a blank line inside a row.

    A Word row whose cell ends in blank lines is dumped as two rows; the pieces are rejoined
    when their cell counts add up to no more than the header's width and the second piece
    does not start like a new row (new data rows start with the blank merged first column).
    """
    out: list[Row] = []
    for row in rows:
        if (
            out
            and len(out[-1].cells) < width
            and row.cells
            and not row.cells[0].is_blank
            and len(out[-1].cells) + len(row.cells) <= width
            and not any(norm(row.cells[0].text).startswith(s) for s in SECTION_STARTS)
        ):
            out[-1] = Row(out[-1].cells + row.cells)
        else:
            out.append(Row(list(row.cells)))
    return out


def _header(rows: list[Row], required: list[str]) -> tuple[int, dict[str, int]] | None:
    """The header row holding every ``required`` label, with their columns.

    Exports from the 一体化 system often spread a header over two rows (绩效指标 above
    一级/二级/三级指标); a pair of consecutive rows is read as one header when no single
    row has all labels. Returns the index of the header's last row.
    """

    def columns_of(names: list[list[str]]) -> dict[str, int]:
        # An exact label wins over a prefix: 支出明细 is its own column, not the section head
        # 支出明细及测算说明 further left.
        found: dict[str, int] = {}
        for want in required:
            exact = [c for c, options in enumerate(names) if want in options]
            prefix = [c for c, options in enumerate(names) if any(name.startswith(want) for name in options)]
            if exact or prefix:
                found[want] = (exact or prefix)[0]
        return found

    for r, row in enumerate(rows):
        found = columns_of([[norm(c.text)] for c in row.cells])
        if len(found) == len(required):
            return r, found
    for r, (row, below) in enumerate(pairwise(rows)):
        pair = [
            [norm(a.text)] + ([norm(below.cells[i].text)] if i < len(below.cells) else [])
            for i, a in enumerate(row.cells)
        ]
        found = columns_of(pair)
        if len(found) == len(required):
            return r + 1, found
    return None


def _section_end(rows: list[Row], start: int) -> int:
    for r in range(start, len(rows)):
        # A leading column of bare row numbers (retyped forms often have one) is not a label.
        labels = [c for c in rows[r].cells if not c.is_blank and not re.fullmatch(r"\d+", c.stripped)]
        first = labels[0] if labels else None
        if first and any(norm(first.text).startswith(s) for s in SECTION_STARTS):
            return r
    return len(rows)


def _cell(row: Row, index: int | None, fallback: Source) -> Cell:
    if index is not None and index < len(row.cells):
        return row.cells[index]
    return Cell("", fallback)


def _indicators(rows: list[Row], unit: str) -> list[Indicator]:
    header = _header(rows, ["一级指标", "二级指标", "三级指标", "指标值"])
    if not header:
        return []
    start, cols = header
    header_rows = rows[max(0, start - 1) : start + 1]
    optional = {}
    for label in ("绩效标准", "指标性质", "度量单位"):
        found = _header(header_rows, [label])
        optional[label] = found[1][label] if found else None
    std_col = optional["绩效标准"]
    width = len(rows[start].cells)
    end = _section_end(rows, start + 1)
    body = _rejoin(rows[start + 1 : end], width)
    out: list[Indicator] = []
    last1: Cell | None = None
    last2: Cell | None = None
    for row in body:
        if all(c.is_blank for c in row.cells):
            continue
        src = row.source
        l1, l2 = _cell(row, cols["一级指标"], src), _cell(row, cols["二级指标"], src)
        # Merged 一级/二级 cells are dumped blank: they inherit from the row above.
        if l1.is_blank and last1 is not None:
            l1 = last1
        if l2.is_blank and last2 is not None:
            l2 = last2
        last1, last2 = l1, l2
        value = _cell(row, cols["指标值"], src)
        value = _flat_value(row, value, optional["指标性质"], optional["度量单位"], src)
        out.append(
            Indicator(
                level1=l1,
                level2=l2,
                level3=_cell(row, cols["三级指标"], src),
                value=value,
                parsed=parse_indicator_value(value.stripped, unit),
                standard=_cell(row, std_col, src) if std_col is not None else None,
                row_source=src,
            )
        )
    return out


_NATURE = {
    "≥": "≥",
    "≤": "≤",
    "=": "",
    "＝": "",
    "＞": ">",
    ">": ">",
    "＜": "<",
    "<": "<",
    "大于等于": "≥",
    "小于等于": "≤",
    "等于": "",
}


def _flat_value(row: Row, value: Cell, nature_col: int | None, unit_col: int | None, src: Source) -> Cell:
    """The 指标值 as written in the form (≤15万元), rebuilt from an export's split columns.

    一体化 exports put the comparator (指标性质: ≥ ≤ = 定性) and the unit (度量单位) in
    columns of their own; the value keeps the 指标值 cell's provenance.
    """
    if nature_col is None and unit_col is None:
        return value
    nature = norm(_cell(row, nature_col, src).text) if nature_col is not None else ""
    unit = norm(_cell(row, unit_col, src).text) if unit_col is not None else ""
    text = value.stripped
    if not text or nature.startswith("定性"):
        return value
    prefix = _NATURE.get(nature, "")
    if unit and not text.endswith(unit):
        text += unit
    # As written, too, when a reader repaired the cell's script (the raw text keeps its own form).
    raw = f"{prefix}{value.raw.strip()}{unit}" if value.raw else ""
    return replace(value, text=prefix + text, raw=raw)


def _is_total(text: str) -> bool:
    return norm(text) in ("合计", "总计", "小计")


def _details(rows: list[Row], unit: str) -> tuple[list[ExpenseDetail], Field | None]:
    header = _header(rows, ["支出内容简介", "支出明细", "金额", "支出测算依据"])
    if not header:
        return [], None
    start, cols = header
    unit = label_unit(_cell(rows[start], cols["金额"], rows[start].source).text) or unit
    width = len(rows[start].cells)
    end = _section_end(rows, start + 1)
    body = _rejoin(rows[start + 1 : end], width)
    details: list[ExpenseDetail] = []
    total: Field | None = None
    for row in body:
        if all(c.is_blank for c in row.cells):
            continue
        texts = [c.stripped for c in row.cells]
        total_at = next((i for i, t in enumerate(texts) if _is_total(t)), None)
        if total_at is not None:
            # The 合计 label spans the merged text columns, so its amount is the first number after it.
            for cell in row.cells[total_at + 1 :]:
                money = parse_money(cell.stripped, unit) if cell.stripped else None
                if money:
                    total = Field("合计", cell, money)
                    break
            else:
                total = Field("合计", Cell("", row.cells[total_at].source))
            continue
        src = row.source
        amount_cell = _cell(row, cols["金额"], src)
        details.append(
            ExpenseDetail(
                intro=_cell(row, cols["支出内容简介"], src),
                detail=_cell(row, cols["支出明细"], src),
                amount=Field(
                    "金额", amount_cell, parse_money(amount_cell.stripped, unit) if amount_cell.stripped else None
                ),
                basis=_cell(row, cols["支出测算依据"], src),
                index=len(details) + 1,
            )
        )
    return details, total


def _goal(rows: list[Row], label: str) -> Cell | None:
    field = _value_after(rows, label, "万元")
    return field.cell if field else None


def _overview(seg: _Segment) -> Overview:
    unit = _unit_of(seg.rows)
    rows = seg.rows
    table = Overview(label=seg.label or "附件1", title=_title(rows), unit=unit, source=seg.source, footer=_footer(rows))
    table.department = _department(rows)
    table.total = _value_after(rows, "资金总额", unit, money=True, prefix=True)
    table.income = [f for f in (_value_after(rows, x, unit, money=True) for x in INCOME_LABELS) if f]
    table.expense = [f for f in (_value_after(rows, x, unit, money=True) for x in EXPENSE_LABELS) if f]
    duties = _value_after(rows, "部门职责概述", unit)
    table.duties = duties.cell if duties else None
    header = _header(rows, ["事项", "责任单位", "工作目标"])
    if header:
        start, cols = header
        end = _section_end(rows, start + 1)
        for row in _rejoin(rows[start + 1 : end], len(rows[start].cells)):
            if all(c.is_blank for c in row.cells):
                continue
            src = row.source
            table.work_plans.append(
                WorkPlan(
                    _cell(row, cols["事项"], src), _cell(row, cols["责任单位"], src), _cell(row, cols["工作目标"], src)
                )
            )
    table.indicators = _indicators(rows, unit)
    return table


_SEQ = re.compile(r"^[0-9一二三四五六七八九十]+$")


def _summary(seg: _Segment) -> Summary:
    unit = _unit_of(seg.rows)
    rows = seg.rows
    table = Summary(label=seg.label or "附件2", title=_title(rows), unit=unit, source=seg.source, footer=_footer(rows))
    table.department = _department(rows)
    header = _header(rows, ["序号", "支出方向", "金额"])
    if not header:
        return table
    start, cols = header
    unit = label_unit(_cell(rows[start], cols["金额"], rows[start].source).text) or unit
    goal_cols = _header(rows[start : start + 1], ["实施期绩效目标"])
    annual_cols = _header(rows[start : start + 1], ["年度绩效目标"])
    end = _section_end(rows, start + 1)
    for row in _rejoin(rows[start + 1 : end], len(rows[start].cells)):
        texts = [c.stripped for c in row.cells]
        if not any(texts):
            continue
        src = row.source
        amount_cell = _cell(row, cols["金额"], src)
        if any(_is_total(t) for t in texts):
            table.total = Field(
                "合计", amount_cell, parse_money(amount_cell.stripped, unit) if amount_cell.stripped else None
            )
            continue
        seq_cell = _cell(row, cols["序号"], src)
        seq = parse_number(seq_cell.stripped) if _SEQ.match(seq_cell.stripped) else None
        table.rows.append(
            SummaryRow(
                seq=int(seq) if seq is not None else len(table.rows) + 1,
                seq_cell=seq_cell,
                name=_cell(row, cols["支出方向"], src),
                amount=Field(
                    "金额", amount_cell, parse_money(amount_cell.stripped, unit) if amount_cell.stripped else None
                ),
                period_goal=_cell(row, goal_cols[1]["实施期绩效目标"], src) if goal_cols else None,
                annual_goal=_cell(row, annual_cols[1]["年度绩效目标"], src) if annual_cols else None,
            )
        )
    return table


def _direction(seg: _Segment, order: int) -> Direction:
    unit = _unit_of(seg.rows)
    rows = seg.rows
    match = _LABEL.match(seg.label) if seg.label else None
    seq = int(match.group(2)) if match and match.group(2) else order
    table = Direction(
        label=seg.label or f"附件3-{seq}",
        title=_title(rows),
        unit=unit,
        source=seg.source,
        footer=_footer(rows),
        seq=seq,
    )
    table.department = _department(rows)
    table.name = _value_after(rows, "支出方向（子项）", unit) or _value_after(rows, "支出方向", unit, prefix=True)
    table.parent_fund = _value_after(rows, "所属专项", unit)
    table.amount = _value_after(rows, "项目金额", unit, money=True)
    table.period = _value_after(rows, "项目实施期", unit)
    table.period_goal = _goal(rows, "实施期绩效目标")
    table.annual_goal = _goal(rows, "年度绩效目标")
    table.indicators = _indicators(rows, unit)
    table.details, table.detail_total = _details(rows, unit)
    return table


def _end_source(source: Source) -> Source:
    """The last line or cell of ``source``."""
    if source.locator:
        return Source(source.file, locator=source.locator.split(" 至 ")[-1])
    return Source(source.file, source.end_line or source.line)


def _mark_cut_off(tables: list[Table]) -> None:
    """A filing cut off mid-table: record what the last table lacks, instead of refusing it.

    What was read is checked as usual; checks that need the missing part (a sum over the
    detail lines, the indicator categories) report "cannot verify" and name it.
    """
    last = tables[-1]
    has_footer = last.footer.preparer is not None or last.footer.signatory is not None
    if has_footer:
        return
    missing: list[str] = []
    partial: list[str] = []
    if isinstance(last, Direction):
        if not last.indicators:
            missing.append("年度绩效指标")
        if not last.details and last.detail_total is None:
            missing.append("支出明细及测算说明")
            partial += ["指标", "明细"]  # cut before the details: the indicators may be partial
    elif isinstance(last, Overview) and not last.indicators:
        missing.append("年度绩效指标")
        partial.append("指标")
    elif isinstance(last, Summary) and last.total is None:
        missing.append("合计行")
        partial.append("汇总行")
    if missing:
        last.missing = [*missing, "表尾（单位负责人签字/填表人）"]
        last.cut_after = _end_source(last.source)
        last.partial = partial


def _other_templates(grid: Grid) -> Filing:
    """A filing of other templates (项目支出 目标表/自评表 …), recognised by structure.

    A table cut off part-way is read as far as it goes; only a file in which no table at all
    is recognised is refused, saying what was seen.
    """
    others = recognise(grid)
    if not others:
        seen = describe_tables(grid)
        if seen:
            shown = "；".join(seen[:5]) + ("……" if len(seen) > 5 else "")
            why = f"找到{len(seen)}个表格，均不是绩效目标表或绩效自评表：{shown}"
        else:
            why = "文件中没有表格（没有绩效目标表标题，也没有项目名称、资金、绩效指标等栏目）"
        raise InputError(grid.path, f"未识别到预算绩效目标表：{why}")
    year, year_source = None, None
    for row in grid.rows[:60]:
        for cell in row.cells:
            match = re.search(r"(\d{4})\s*年", cell.text)
            if match and ("表" in cell.text or "年度" in cell.text):
                year, year_source = int(match.group(1)), cell.source
                break
        if year is not None:
            break
    department = ""
    for table in others:
        for candidate in [table, *getattr(table, "projects", [])]:
            dept = getattr(candidate, "department", None)
            if isinstance(dept, Field) and dept.text and not department:
                department = re.sub(r"\s+", "", dept.text)
    return Filing(
        path=grid.path,
        year=year,
        year_source=year_source,
        department=department,
        encoding=grid.encoding,
        others=others,
    )


def _relabel(table: Table, label: str) -> None:
    old = table.label
    table.label = label
    for member in getattr(table, "projects", []):
        member.label = label + member.label[len(old) :]


def build_filing(grid: Grid) -> Filing:
    """Recognise the tables in ``grid`` and return the typed filing.

    Raises :class:`InputError` when the grid contains no recognisable table; a table cut off
    part-way is read as far as it goes (see :func:`_mark_cut_off`).
    """
    found = _segments(grid)
    segments = [seg for seg in found if seg.kind != "other"]
    if not segments:
        return _other_templates(grid)
    tables: list[Table] = []
    directions = 0
    others: list[Table] = []
    for seg in found:
        if seg.kind == "other":
            found_here = recognise(Grid(grid.path, seg.rows, grid.encoding))
            for n, table in enumerate(found_here, start=1):
                if seg.label and not table.label.startswith("附"):
                    # The 附件 label names it (附件4, or 附件4-2 for a second table under it).
                    _relabel(table, seg.label if len(found_here) == 1 else f"{seg.label}-{n}")
                others.append(table)
    for seg in segments:
        if seg.kind == "overview":
            tables.append(_overview(seg))
        elif seg.kind == "summary":
            tables.append(_summary(seg))
        else:
            directions += 1
            tables.append(_direction(seg, directions))
    _mark_cut_off(tables)
    year, year_source = None, None
    for table in tables:
        if table.title is not None:
            match = _TITLE_YEAR.search(table.title.text)
            if match:
                year, year_source = int(match.group(1)), table.title.source
                break
    department = ""
    for table in tables:
        dept = getattr(table, "department", None)
        if dept is not None and dept.text:
            department = re.sub(r"\s+", "", dept.text)
            break
    filing = Filing(path=grid.path, year=year, year_source=year_source, department=department, encoding=grid.encoding)
    for table in tables:
        if isinstance(table, Overview) and filing.overview is None:
            filing.overview = table
        elif isinstance(table, Summary) and filing.summary is None:
            filing.summary = table
        elif isinstance(table, Direction):
            filing.directions.append(table)
    filing.directions.sort(key=lambda d: d.seq)
    filing.others = others
    return filing
