"""The annotated workbook: the filing's cells with every finding's cell filled and commented.

The workbook is a zip whose members carry the time it was written, so only its cell contents
are reproducible. Everything read from a filing is untrusted text: characters the xlsx
format cannot hold are replaced by U+FFFD, and a cell value that starts with ``=`` is stored
as text, never as a formula.

openpyxl is imported where a workbook is written, not at the top: importing it takes about
85 ms, more than half of ``hegui``'s start-up, and every command imports this module through
the report registry.
"""

from __future__ import annotations

import io
import math
import os
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hegui.engine.findings import SEVERITY_RANK, STATUS_CANNOT_VERIFY, Finding
from hegui.engine.rules import SEVERITY_NAMES, RuleSet
from hegui.facts.errors import InputError
from hegui.facts.ooxml import MAX_FILE_BYTES, check_all_xml_parts, open_checked_zip
from hegui.facts.read import read_grid
from hegui.reports.common import (
    DOCX_CELL,
    LINE_RANGE,
    STATUS_NAMES,
    citation_text,
    explanation_text,
    not_waived,
    place_in_file,
    xlsx_anchor,
    xml_safe,
)
from hegui.reports.outcome import FilingOutcome
from hegui.reports.registry import ReportContext, Reporter

RESULTS_SHEET = "检查结果"

#: Fill colours (ARGB) of annotated cells: red for errors, orange for warnings, yellow for what
#: could not be verified or is only a hint, grey for findings an active waiver covers.
FILL_COLOURS = {"error": "FFFF7C80", "warning": "FFFFC000", "review": "FFFFFF66", "waived": "FFD9D9D9"}

_LABEL = re.compile(r"^附件[0-9一二三四五六七八九十]+(?:[-－—–][0-9]+)?$")
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def _put(cell, value: Any) -> None:
    """Write ``value`` into an openpyxl cell as data, never as a formula.

    openpyxl turns any string starting with ``=`` into a formula; filing text is untrusted, so
    strings are written as strings (``data_type = "s"``) after forbidden characters are replaced.
    """
    if value is None:
        cell.value = None
        return
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        cell.value = value
        return
    text = xml_safe(value)[:32767]  # the most characters one xlsx cell holds
    cell.value = text
    cell.data_type = "s"


def _sheet_title(text: str, taken: set[str]) -> str:
    """A valid, unique sheet title from ``text`` (≤31 characters, none of []:*?/\\)."""
    base = _SHEET_BAD.sub("_", xml_safe(text)).strip("'").strip() or "表"
    base = base[:31]
    title = base
    n = 2
    while title.lower() in taken:
        suffix = f"({n})"
        title = base[: 31 - len(suffix)] + suffix
        n += 1
    taken.add(title.lower())
    return title


@dataclass
class _Mark:
    """The findings that point at one cell of the workbook."""

    sheet: str
    cell: str
    findings: list[Finding] = field(default_factory=list)


def _tone(findings: list[Finding]) -> str:
    """The fill of a cell: the most serious of its findings; waived ones only when nothing else."""
    live = not_waived(findings)
    if any(f.status != STATUS_CANNOT_VERIFY and f.severity == "error" for f in live):
        return "error"
    if any(f.status != STATUS_CANNOT_VERIFY and f.severity == "warning" for f in live):
        return "warning"
    if live:
        return "review"
    return "waived"


def _finding_note(finding: Finding) -> str:
    status = "已豁免" if finding.waived else STATUS_NAMES.get(finding.status, finding.status)
    lines = [
        f"{finding.rule_id}（{SEVERITY_NAMES.get(finding.severity, finding.severity)}，{status}）{finding.item}",
        finding.message,
        f"依据：{citation_text(finding.citation)}",
    ]
    if finding.waiver is not None:
        note = finding.waiver
        lines.append(
            f"豁免：{note.reason}；批准：{note.approved_by}；有效期至{note.expires}"
            if finding.waived
            else f"豁免已于{note.expires}过期，不再适用"
        )
    explanation = explanation_text(finding)
    if explanation:
        lines.append(explanation)
    return "\n".join(lines)


def _annotate(wb, marks: list[_Mark]) -> None:
    """Fill and comment every marked cell; an existing comment is kept above ours."""
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill

    for mark in marks:
        cell = wb[mark.sheet][mark.cell]
        colour = FILL_COLOURS[_tone(mark.findings)]
        cell.fill = PatternFill(fill_type="solid", start_color=colour, end_color=colour)
        # Most serious first: what fails, then what could not be verified, then what is waived.
        ordered = sorted(
            mark.findings, key=lambda f: (f.waived, f.status == STATUS_CANNOT_VERIFY, -SEVERITY_RANK[f.severity])
        )
        text = "\n\n".join(_finding_note(f) for f in ordered)
        if cell.comment is not None and cell.comment.text:
            text = f"{cell.comment.text}\n\n{text}"
        text = xml_safe(text)
        lines = text.split("\n")
        # Size the box to the text (about 30 CJK characters a line at 400pt): Excel's default
        # comment box is too small to read a derivation.
        height = 16 * sum(max(1, math.ceil(len(line) / 30)) for line in lines) + 10
        cell.comment = Comment(text, "hegui", height=min(max(height, 80), 1200), width=420)


def _results_sheet(wb, rows: list[tuple[str, Finding | None, str, _Mark | None]], *, index: int = 0) -> None:
    """The 检查结果 sheet: one row per finding (and per unreadable file), linked to its cell."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.hyperlink import Hyperlink

    taken = {ws.title.lower() for ws in wb.worksheets}
    ws = wb.create_sheet(_sheet_title(RESULTS_SHEET, taken), index)
    heads = [
        "序号",
        "文件",
        "表",
        "位置",
        "标注单元格",
        "规则",
        "严重程度",
        "状态",
        "项目",
        "说明",
        "应为",
        "实际",
        "依据",
        "推导过程",
    ]
    widths = [6, 28, 10, 26, 16, 14, 8, 10, 24, 48, 16, 16, 36, 60]
    for col, (head, width) in enumerate(zip(heads, widths, strict=True), start=1):
        cell = ws.cell(1, col)
        _put(cell, head)
        cell.font = Font(bold=True)
        ws.column_dimensions[cell.column_letter].width = width
    ws.freeze_panes = "A2"
    wrap = Alignment(wrap_text=True, vertical="top")
    for n, (path, finding, error, mark) in enumerate(rows, start=1):
        r = n + 1
        if finding is None:
            values = [n, path, "", "", "", "", "", "无法读取", "", error, "", "", "", ""]
        else:
            status = "已豁免" if finding.waived else STATUS_NAMES.get(finding.status, finding.status)
            target = f"{mark.sheet}!{mark.cell}" if mark else "（未在表格中定位）"
            values = [
                n,
                path,
                finding.table,
                finding.location,
                target,
                finding.rule_id,
                SEVERITY_NAMES.get(finding.severity, finding.severity),
                status,
                finding.item,
                finding.message,
                finding.expected,
                finding.actual,
                citation_text(finding.citation),
                explanation_text(finding),
            ]
        for col, value in enumerate(values, start=1):
            cell = ws.cell(r, col)
            _put(cell, value)
            cell.alignment = wrap
        if finding is not None:
            tone = FILL_COLOURS["waived" if finding.waived else _tone([finding])]
            ws.cell(r, 8).fill = PatternFill(fill_type="solid", start_color=tone, end_color=tone)
        if mark is not None:
            quoted = mark.sheet.replace("'", "''")
            link = ws.cell(r, 5)
            # An internal link (location, no target file) jumps to the annotated cell.
            link.hyperlink = Hyperlink(ref=link.coordinate, location=f"'{quoted}'!{mark.cell}")
            link.font = Font(color="FF0563C1", underline="single")
    if not rows:
        _put(ws.cell(2, 1), "未发现问题。")
    for sheet in wb.worksheets:
        sheet.sheet_view.tabSelected = False
    ws.sheet_view.tabSelected = True
    wb.active = wb.worksheets.index(ws)


def _marks_for(findings: list[Finding], locate) -> tuple[list[_Mark], dict[str, _Mark]]:
    """Group findings by the cell ``locate(finding)`` gives; returns the marks and each finding's mark."""
    marks: dict[tuple[str, str], _Mark] = {}
    mark_of: dict[str, _Mark] = {}
    for finding in findings:
        where = locate(finding)
        if where is None:
            continue
        mark = marks.setdefault(where, _Mark(*where))
        mark.findings.append(finding)
        mark_of[finding.id] = mark
    return list(marks.values()), mark_of


@dataclass
class _Rendered:
    """Where each Source of a grid went in a rendered workbook."""

    exact: dict[str, tuple[str, str]] = field(default_factory=dict)  # place → (sheet, cell)
    lines: list[tuple[int, int, str, str]] = field(default_factory=list)  # (first, last, sheet, cell) of text cells

    def locate(self, place: str) -> tuple[str, str] | None:
        """The cell a place names: the cell read from exactly there, else (lines) the cell
        starting at the place's first line, else a cell whose lines contain it."""
        if not place:
            return None
        if place in self.exact:
            return self.exact[place]
        match = LINE_RANGE.match(place)
        if match:
            first = int(match.group(1))
            for start, _end, sheet, cell in self.lines:
                if start == first:
                    return sheet, cell
            for start, end, sheet, cell in self.lines:
                if start <= first <= end:
                    return sheet, cell
        return None


def _source_place(source) -> str:
    if source.locator:
        return source.locator
    if not source.line:
        return ""
    return (
        f"{source.line}-{source.end_line}" if source.end_line and source.end_line != source.line else str(source.line)
    )


def _row_label(row) -> str:
    """What column A shows for a rendered row: where in the file it was read."""
    source = row.cells[0].source if row.cells else None
    if source is None:
        return ""
    if source.locator:
        anchor = xlsx_anchor(source.locator)
        if anchor:
            return f"{anchor[0]} 第{re.sub(r'[A-Z]+', '', anchor[1])}行"
        match = DOCX_CELL.match(source.locator)
        return match.group(1) if match else source.locator
    place = row.source.place
    return place


def _sheet_key(row) -> tuple[str | None, bool]:
    """(the sheet this row starts, whether the *next* row starts a new one).

    Workbook cells go to a sheet named after the sheet they were read from. Text dumps and
    Word documents start a new sheet at each 附件 label: a row whose only text is the label,
    or (text dumps) a footer cell that ran on into the next 附件's label, after which the next
    row starts the new sheet.
    """
    first = row.cells[0].source.locator if row.cells else ""
    anchor = xlsx_anchor(first) if first else None
    if anchor:
        return anchor[0], False
    texts = [c.stripped for c in row.cells if not c.is_blank]
    if len(texts) == 1:
        lines = [re.sub(r"\s+", "", line) for line in texts[0].split("\n") if line.strip()]
        if lines and _LABEL.match(lines[0]):
            return lines[0], False
        for line in lines[1:]:
            if _LABEL.match(line):
                return None, True
    return None, False


def _render_grid(wb, grid, *, prefix: str = "") -> _Rendered:
    """Write a grid's rows into new sheets of ``wb``; column A says where each row was read."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    rendered = _Rendered()
    taken = {ws.title.lower() for ws in wb.worksheets}
    wrap = Alignment(wrap_text=True, vertical="top")
    muted = Font(color="FF808080", size=9)
    ws = None
    current: str | None = None  # the key the open sheet was started for (its title may be shortened)
    pending_label: str | None = None
    start_next = False
    next_row = 1
    for row in grid.rows:
        wanted, breaks_after = _sheet_key(row)
        if wanted is None and start_next:
            # The label sat at the end of the previous row's cell: name the sheet after it.
            wanted = pending_label or "续"
        if ws is None or (wanted is not None and wanted != current):
            ws = wb.create_sheet(_sheet_title(prefix + (wanted or "申报"), taken))
            ws.column_dimensions["A"].width = 14
            current = wanted
            next_row = 1
        start_next = breaks_after
        pending_label = None
        if breaks_after:
            texts = [c.stripped for c in row.cells if not c.is_blank]
            lines = [re.sub(r"\s+", "", line) for line in texts[0].split("\n") if line.strip()]
            pending_label = next((line for line in lines[1:] if _LABEL.match(line)), None)
        label = ws.cell(next_row, 1)
        _put(label, _row_label(row))
        label.font = muted
        label.alignment = wrap
        for index, cell in enumerate(row.cells, start=2):
            target = ws.cell(next_row, index)
            if not cell.continuation:
                _put(target, cell.text)
            target.alignment = wrap
            letter = get_column_letter(index)
            if ws.column_dimensions[letter].width is None or ws.column_dimensions[letter].width < 24:
                ws.column_dimensions[letter].width = 24
            place = _source_place(cell.source)
            if place:
                rendered.exact.setdefault(place, (ws.title, target.coordinate))
            if cell.source.line and not cell.source.locator:
                rendered.lines.append(
                    (cell.source.line, cell.source.end_line or cell.source.line, ws.title, target.coordinate)
                )
        next_row += 1
    return rendered


def _is_xlsx(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in (".xlsx", ".xlsm")


def annotated_workbook(outcome: FilingOutcome, source_path: str | os.PathLike, registry=None) -> bytes:
    """The filing as an .xlsx workbook with every finding's cell filled and commented.

    For an .xlsx (or .xlsm) filing, a copy of the submitted workbook is loaded from its bytes
    (the file itself is never written): each finding whose location is a cell locator
    ``Sheet!C12`` (a range ``Sheet!C12:E12``: its top-left cell) gets a fill (red error,
    orange warning, yellow cannot-verify or info, grey waived) and a comment with rule id,
    message, citation and the derivation. openpyxl keeps values, formulas, styles, merges and
    comments, but not charts, images or macros, and formulas lose their saved results until
    Excel recalculates. For text dumps and .docx filings the cells (``read_grid``) are written
    into new sheets, one per 附件, and the cells read from a finding's location are marked
    the same way. Either way a first sheet 检查结果 lists all findings, linked to their cells;
    if the file can no longer be read, that sheet is all the workbook has.
    """
    from openpyxl import Workbook

    path = os.fsdecode(source_path)
    findings = list(outcome.findings)
    if outcome.error is not None or outcome.filing is None:
        wb = Workbook()
        wb.remove(wb.active)
        error = outcome.error.message if outcome.error is not None else "未读取"
        _results_sheet(wb, [(outcome.path, None, xml_safe(error), None)])
        return _save(wb)
    try:
        if _is_xlsx(path):
            wb = _load_copy(path)
            titles = {ws.title for ws in wb.worksheets}

            def locate(finding: Finding) -> tuple[str, str] | None:
                anchor = xlsx_anchor(_rendered_place(finding, outcome.path, path))
                return anchor if anchor and anchor[0] in titles else None

            marks, mark_of = _marks_for(findings, locate)
        else:
            wb = Workbook()
            wb.remove(wb.active)
            rendered = _render_grid(wb, read_grid(path, registry))
            marks, mark_of = _marks_for(findings, lambda f: rendered.locate(_rendered_place(f, outcome.path, path)))
    except InputError:
        # The file changed or went away since it was checked: the findings are still worth
        # having, listed on their own sheet without cells to mark.
        wb = Workbook()
        wb.remove(wb.active)
        marks, mark_of = [], {}
    _annotate(wb, marks)
    _results_sheet(wb, [(outcome.path, f, "", mark_of.get(f.id)) for f in findings])
    return _save(wb)


def _load_copy(path: str):
    """The submitted workbook loaded from its bytes, after the same safety checks as the reader.

    The bytes are read once and openpyxl works on an in-memory copy, so the file itself is
    never opened for writing; the zip and XML checks of :mod:`hegui.facts.ooxml` (size,
    members, compression ratio, DTDs) run first, as they do before the reader's openpyxl.
    """
    from openpyxl import load_workbook

    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise InputError(path, f"无法读取文件：{exc.strerror or exc}") from None
    archive = open_checked_zip(path, data, "xlsx")
    try:
        check_all_xml_parts(path, archive)
    finally:
        archive.close()
    try:
        with warnings.catch_warnings():
            # openpyxl warns about parts it drops (data-validation extensions, …): not the reviewer's concern
            warnings.simplefilter("ignore")
            return load_workbook(io.BytesIO(data))
    except Exception as exc:  # openpyxl raises many types for damaged files; the reader already accepted this one
        raise InputError(path, f"无法打开工作簿：{type(exc).__name__}") from exc


def _rendered_place(finding: Finding, outcome_path: str, read_path: str) -> str:
    """The place of a finding, whichever spelling of the path (the outcome's or the one read) it uses."""
    place = place_in_file(finding.location, outcome_path)
    if not place and read_path != outcome_path:
        place = place_in_file(finding.location, read_path)
    return place


def _save(wb) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def to_xlsx(outcomes: list[FilingOutcome], ruleset: RuleSet, registry=None) -> bytes:
    """The batch as one .xlsx workbook (bytes), for ``hegui check --format xlsx``.

    One filing: :func:`annotated_workbook` of it (read again from ``outcome.path``). Several:
    a 检查结果 sheet listing every filing's findings and every unreadable file, then each
    checked filing's cells rendered from its grid into sheets named ``{n}-{sheet}`` (n = its
    place in the batch) and annotated the same way. Submitted workbooks are rendered from
    their cells here too (openpyxl cannot copy sheets between workbooks), so formatting and
    merges are not carried over; check a single workbook to get its annotated copy.
    """
    del ruleset  # every finding carries its rule's id, severity and citation
    if len(outcomes) == 1:
        return annotated_workbook(outcomes[0], outcomes[0].path, registry)
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    rows: list[tuple[str, Finding | None, str, _Mark | None]] = []
    all_marks: list[_Mark] = []
    for number, outcome in enumerate(outcomes, start=1):
        if outcome.error is not None or outcome.filing is None:
            rows.append((outcome.path, None, xml_safe(outcome.error.message if outcome.error else "未读取"), None))
            continue
        rendered = _render_grid(wb, read_grid(outcome.path, registry), prefix=f"{number}-")
        marks, mark_of = _marks_for(
            outcome.findings, lambda f, o=outcome, r=rendered: r.locate(place_in_file(f.location, o.path))
        )
        all_marks.extend(marks)
        rows.extend((outcome.path, f, "", mark_of.get(f.id)) for f in outcome.findings)
    _annotate(wb, all_marks)
    _results_sheet(wb, rows)
    return _save(wb)


def render(outcomes: Sequence[FilingOutcome], context: ReportContext) -> bytes:
    """An .xlsx workbook (bytes): a first sheet 检查结果 listing every finding linked to its
    cell, then the filing's own sheets (a copy of a submitted workbook, or the tables of a
    text or Word filing) with each finding's cell filled by severity and commented with rule,
    message, citation and derivation. The submitted file is never modified.
    """
    return to_xlsx(list(outcomes), context.ruleset, context.registry)


REPORTER = Reporter("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx", True, render)
