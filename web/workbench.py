"""What the workbench page shows for one filing: its tables as read, findings on their cells.

The tables are the filing's own grid (:func:`hegui.facts.read.read_grid`): every cell as the
reader saw it, with its source (line or cell locator). A finding's location and each
evidence location name such a source, so the cells a finding is about are found by place,
the same way the annotated workbook finds them. Explanations are the engine's own trees
(``check(explain=True)``), shown as they are.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from typing import Any

from hegui.engine.findings import SEVERITY_RANK, STATUS_CANNOT_VERIFY, Finding
from hegui.engine.select import printed_place as _place
from hegui.engine.waivers import Waiver, apply_waivers
from hegui.facts.model import Grid, Source

_LABEL = re.compile(r"^附件\s*(\d+(?:\s*-\s*\d+)?)")
_XLSX_CELL = re.compile(r"^(.+)!\$?([A-Za-z]{1,3})\$?(\d+)(?::\$?([A-Za-z]{1,3})\$?(\d+))?$")
_LINES = re.compile(r"^(\d+)(?:-(\d+))?$")

SEVERITY_LABELS = {"error": "错误", "warning": "警告", "info": "提示"}


@dataclass
class CellView:
    id: str
    text: str
    place: str
    continuation: bool
    severity: str = ""  # the worst severity of the findings on it
    findings: list[str] = field(default_factory=list)


@dataclass
class TableView:
    """One 附件 (or one sheet) of the filing, as rows of cells."""

    title: str
    rows: list[list[CellView]]
    width: int


@dataclass
class FindingView:
    finding: Finding
    anchor: str
    cells: list[str]  # ids of the cells it is about
    evidence_cells: list[str]
    decision: Any = None  # a store.Decision

    @property
    def severity_label(self) -> str:
        if self.finding.status == STATUS_CANNOT_VERIFY:
            return "无法核实"
        return SEVERITY_LABELS.get(self.finding.severity, self.finding.severity)


@dataclass
class FilingView:
    sha256: str
    name: str
    number: int
    department: str = ""
    year: int | None = None
    jurisdiction: list[str] = field(default_factory=list)
    error: str = ""
    #: The page's status when the service stopped this filing's check (504 past the time limit,
    #: 422 past the memory cap, 503 busy …); 200 otherwise, an unreadable filing included.
    status: int = 200
    tables: list[TableView] = field(default_factory=list)
    findings: list[FindingView] = field(default_factory=list)
    place_cells: dict[str, str] = field(default_factory=dict)  # place → first cell id, for links

    def cell_of(self, location: str) -> str:
        """The id of the cell a location (``file:741``, ``file:Sheet!B5``) names, or ""."""
        return _find(self.place_cells, _place(location)) if location else ""


def relabel(findings: list[Finding], read_path: str, name: str) -> list[Finding]:
    """The findings with the path the file was read from replaced by its display name everywhere."""

    def swap(value: Any) -> Any:
        if isinstance(value, str):
            return value.replace(read_path, name)
        if isinstance(value, list):
            return [swap(v) for v in value]
        if isinstance(value, tuple):
            return tuple(swap(v) for v in value)
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        return value

    return [
        replace(
            f,
            location=swap(f.location),
            message=swap(f.message),
            evidence=tuple(replace(e, location=swap(e.location)) for e in f.evidence),
            explanation=swap(f.explanation),
        )
        for f in findings
    ]


def decision_waivers(decisions, name: str, department: str) -> list[Waiver]:
    """Waived decisions as the waivers ``hegui check --waivers`` would load from the exported file."""
    return [
        Waiver(d.rule_id, name, d.item, d.note, d.approver, dt.date.fromisoformat(d.expires), "工作台审核结论", 0)
        for d in decisions
        if d.decision == "waived"
    ]


def with_decisions(findings: list[Finding], decisions, name: str, department: str, today: dt.date) -> list[Finding]:
    """Findings with the workbench's waivers applied (listed, counted apart, as the CLI does)."""
    waivers = decision_waivers(decisions, name, department)
    return apply_waivers(findings, name, department, waivers, today) if waivers else findings


def _source_place(source: Source) -> str:
    if source.locator:
        return source.locator
    if not source.line:
        return ""
    return (
        f"{source.line}-{source.end_line}" if source.end_line and source.end_line != source.line else str(source.line)
    )


def _cell_key(place: str) -> str:
    """A workbook place's top-left cell (``附件3-5!B5:C5`` → ``附件3-5!B5``); other places unchanged."""
    first = place.split(" 至 ")[0]
    match = _XLSX_CELL.match(first)
    if match:
        return f"{match.group(1)}!{match.group(2).upper()}{match.group(3)}"
    return place


def _find(place_cells: dict[str, str], place: str) -> str:
    if not place:
        return ""
    for key in (place, _cell_key(place)):
        if key in place_cells:
            return place_cells[key]
    match = _LINES.match(place)
    if match:
        return place_cells.get(f"line:{match.group(1)}", "")
    return ""


def _section_title(texts: list[str], sheet: str) -> str | None:
    if sheet:
        return sheet
    if len(texts) == 1:
        first = re.sub(r"\s+", "", texts[0].split("\n")[0])
        if _LABEL.match(first) and len(first) <= 12:
            return first
    return None


def build_view(
    number: int,
    sha256: str,
    name: str,
    grid: Grid,
    filing,
    findings: list[Finding],
    jurisdiction: list[str],
    decisions: dict[str, Any],
) -> FilingView:
    """The page's model of one checked filing: tables, cells marked by findings, findings linked to cells."""
    view = FilingView(
        sha256,
        name,
        number,
        department=filing.department,
        year=filing.year,
        jurisdiction=list(jurisdiction),
    )
    lines_of: list[tuple[int, int, str]] = []
    cells: dict[str, CellView] = {}
    current: TableView | None = None
    serial = 0
    for row in grid.rows:
        texts = [c.stripped for c in row.cells if not c.is_blank]
        first = row.cells[0].source.locator if row.cells else ""
        sheet = first.split("!")[0] if "!" in first else ""
        title = _section_title(texts, sheet)
        if current is None or (title is not None and title != current.title):
            current = TableView(title or "申报", [], 0)
            view.tables.append(current)
        out: list[CellView] = []
        for cell in row.cells:
            serial += 1
            cell_id = f"c{number}-{serial}"
            place = _source_place(cell.source)
            shown = CellView(cell_id, "" if cell.continuation else cell.text, place, cell.continuation)
            out.append(shown)
            cells[cell_id] = shown
            if place:
                view.place_cells.setdefault(place, cell_id)
                view.place_cells.setdefault(_cell_key(place), cell_id)
            if cell.source.line and not cell.source.locator:
                view.place_cells.setdefault(f"line:{cell.source.line}", cell_id)
                lines_of.append((cell.source.line, cell.source.end_line or cell.source.line, cell_id))
        current.rows.append(out)
        current.width = max(current.width, len(out))
    for index, finding in enumerate(findings, start=1):
        place = _place(finding.location)
        targets = _cells_for(view.place_cells, lines_of, place)
        evidence = [c for e in finding.evidence for c in _cells_for(view.place_cells, lines_of, _place(e.location))]
        fv = FindingView(
            finding,
            f"f{number}-{index}",
            targets,
            [c for c in dict.fromkeys(evidence) if c not in targets],
            decisions.get(finding.id),
        )
        view.findings.append(fv)
        severity = "waived" if finding.waived else finding.severity
        for cell_id in targets:
            marked = cells[cell_id]
            marked.findings.append(finding.id)
            if not marked.severity or _rank(severity) > _rank(marked.severity):
                marked.severity = severity
    return view


def _rank(severity: str) -> int:
    return SEVERITY_RANK.get(severity, 0)


def _cells_for(place_cells: dict[str, str], lines_of: list[tuple[int, int, str]], place: str) -> list[str]:
    """The cells a place names: the exact cell, else the cells read from the place's first line."""
    found = _find(place_cells, place)
    match = _LINES.match(place)
    if match:
        first = int(match.group(1))
        starting = [cell_id for start, _end, cell_id in lines_of if start == first]
        if starting:
            return starting
        return [cell_id for start, end, cell_id in lines_of if start <= first <= end][:1]
    return [found] if found else []


def error_view(number: int, sha256: str, name: str, message: str) -> FilingView:
    return FilingView(sha256, name, number, error=message)
