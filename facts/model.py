"""The typed filing model: what a filing says, each value with where it was read.

Readers (text dump now; Excel and Word later) produce a :class:`Grid` of cells; the recogniser
in :mod:`hegui.facts.tables` turns the grid into a :class:`Filing`. Every value keeps its
:class:`Source`, so a finding can point a reviewer at the exact line or cell.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True, order=True)
class Source:
    """Where a value was read: a file and a 1-based line range (text dumps).

    ``locator`` is free for formats whose natural address is not a line (``Sheet1!B7``).
    """

    file: str
    line: int = 0
    end_line: int = 0
    locator: str = ""

    def __str__(self) -> str:
        if self.locator:
            return f"{self.file}:{self.locator}"
        if not self.line:
            return self.file
        if self.end_line and self.end_line != self.line:
            return f"{self.file}:{self.line}-{self.end_line}"
        return f"{self.file}:{self.line}"

    def spanning(self, last: Source) -> Source:
        """From this source to ``last``: a line range, a cell range on one sheet, or both locators."""
        if self.locator or last.locator:
            if self.locator == last.locator or not last.locator:
                return Source(self.file, locator=self.locator)
            start = self.locator.split(" 至 ")[0]
            end = last.locator.split(" 至 ")[-1]
            sheet_a, _, cell_a = start.rpartition("!")
            sheet_b, _, cell_b = end.rpartition("!")
            if sheet_a and sheet_a == sheet_b:  # Sheet!A1 … Sheet!E26 → Sheet!A1:E26
                return Source(self.file, locator=f"{sheet_a}!{cell_a.split(':')[0]}:{cell_b.split(':')[-1]}")
            return Source(self.file, locator=f"{start} 至 {end}")
        return Source(self.file, self.line, last.end_line or last.line)

    @property
    def place(self) -> str:
        """Where in the file, without the file name: 第12行, 第12-14行 or the locator."""
        if self.locator:
            return self.locator
        if self.end_line and self.end_line != self.line:
            return f"第{self.line}-{self.end_line}行"
        return f"第{self.line}行" if self.line else ""

    def narrowed(self, text: str, start: int, end: int) -> Source:
        """The lines of ``text[start:end]`` when ``text`` was read from this source's lines."""
        if not self.line or self.locator:
            return self
        first = self.line + text.count("\n", 0, start)
        last = self.line + text.count("\n", 0, max(start, end - 1))
        return Source(self.file, first, last)


@dataclass(frozen=True)
class Cell:
    """One table cell: its text as written (newlines kept) and where it came from.

    ``continuation`` marks a position covered by a merged cell whose text sits in another
    cell (Excel and Word keep such positions so that columns stay aligned). ``problem``
    says why a value could not be read although the cell is not blank (a formula whose
    result was never saved): such a cell is never read as zero.

    ``raw`` is the text exactly as the filing wrote it when the reader changed it to make it
    readable (traditional characters converted to simplified, pinyin garbling removed; see
    :mod:`hegui.facts.normalize`); it is "" when ``text`` is already as written, so that
    evidence can quote the filing as written (:attr:`as_written`).
    """

    text: str
    source: Source
    continuation: bool = False
    problem: str = ""
    raw: str = ""

    @property
    def as_written(self) -> str:
        """The cell's text as the filing wrote it (before any script or garbling repair)."""
        return self.raw or self.text

    @property
    def stripped(self) -> str:
        return self.text.strip()

    @property
    def is_blank(self) -> bool:
        return not self.text.strip()


@dataclass
class Row:
    """One row of cells. ``layout`` names the text layout it was rebuilt from (pipe-rows,
    cell-lines, paragraphs, spaced, flat, prose; see :mod:`hegui.facts.layouts`), and is "" for
    rows that are the file's own: the tab dump, .xlsx/.xls sheets, .docx/.html/.pdf tables, CSV."""

    cells: list[Cell]
    layout: str = ""

    @property
    def source(self) -> Source:
        first = self.cells[0].source if self.cells else Source("")
        last = self.cells[-1].source if self.cells else first
        return first.spanning(last)

    def texts(self) -> list[str]:
        return [c.stripped for c in self.cells]

    def nonblank(self) -> list[Cell]:
        return [c for c in self.cells if not c.is_blank]


@dataclass
class Grid:
    """A document read into rows of cells, before any table is recognised."""

    path: str
    rows: list[Row]
    encoding: str = "utf-8"


# --- parsed values -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Money:
    """An amount in 元 (exact) and the unit it was written in."""

    yuan: Decimal
    written_unit: str


@dataclass(frozen=True)
class IndicatorValue:
    """A parsed 指标值: comparator, number and unit, or a date, or qualitative text."""

    raw: str
    kind: str  # "number" | "date" | "text" | "missing"
    comparator: str = ""  # one of ≥ ≤ = > <, "" when none was written
    number: Decimal | None = None
    unit: str = ""  # as written and normalised: 万元, 元, %, 人, 个 …
    year: int | None = None
    month: int | None = None
    day: int | None = None
    deadline: bool = False  # "2023年12月前": before/by that date


# --- the filing --------------------------------------------------------------------------------


@dataclass
class Field:
    """A labelled value: the label as found, the value cell, and the parsed amount if any."""

    label: str
    cell: Cell | None
    money: Money | None = None

    @property
    def text(self) -> str:
        return self.cell.stripped if self.cell else ""

    @property
    def source(self) -> Source | None:
        return self.cell.source if self.cell else None


@dataclass
class Indicator:
    level1: Cell
    level2: Cell
    level3: Cell
    value: Cell
    parsed: IndicatorValue
    standard: Cell | None = None  # 绩效标准 (附件3 only)
    row_source: Source | None = None


@dataclass
class WorkPlan:
    item: Cell
    owner: Cell
    goal: Cell


@dataclass
class ExpenseDetail:
    """One line of 支出明细及测算说明."""

    intro: Cell
    detail: Cell
    amount: Field
    basis: Cell
    index: int


@dataclass
class Footer:
    signatory: Field | None = None
    preparer: Field | None = None
    phone: Field | None = None


@dataclass
class Table:
    """Common part of every 附件: its label, title, unit and provenance."""

    label: str  # 附件1, 附件2, 附件3-1 …
    title: Cell | None
    unit: str  # 万元 unless the table says otherwise
    source: Source
    footer: Footer = field(default_factory=Footer)

    @property
    def table_id(self) -> str:
        return self.label


@dataclass
class Overview(Table):
    """附件1 部门整体支出绩效目标表."""

    department: Field | None = None
    total: Field | None = None  # 资金总额
    income: list[Field] = field(default_factory=list)  # 按收入性质分
    expense: list[Field] = field(default_factory=list)  # 按支出性质分
    duties: Cell | None = None
    work_plans: list[WorkPlan] = field(default_factory=list)
    indicators: list[Indicator] = field(default_factory=list)


@dataclass
class SummaryRow:
    seq: int
    seq_cell: Cell
    name: Cell
    amount: Field
    period_goal: Cell | None
    annual_goal: Cell | None


@dataclass
class Summary(Table):
    """附件2 专项资金预算绩效目标汇总表."""

    department: Field | None = None
    total: Field | None = None  # 合计
    rows: list[SummaryRow] = field(default_factory=list)


@dataclass
class Direction(Table):
    """附件3-x 专项资金支出方向绩效目标表."""

    seq: int = 0  # the x of 附件3-x
    department: Field | None = None
    name: Field | None = None  # 支出方向（子项）
    parent_fund: Field | None = None  # 所属专项
    amount: Field | None = None  # 项目金额
    period: Field | None = None  # 项目实施期
    period_goal: Cell | None = None
    annual_goal: Cell | None = None
    indicators: list[Indicator] = field(default_factory=list)
    details: list[ExpenseDetail] = field(default_factory=list)
    detail_total: Field | None = None


@dataclass
class Filing:
    path: str
    year: int | None
    year_source: Source | None
    department: str
    overview: Overview | None = None
    summary: Summary | None = None
    directions: list[Direction] = field(default_factory=list)
    encoding: str = "utf-8"

    def tables(self) -> Iterator[Table]:
        if self.overview:
            yield self.overview
        if self.summary:
            yield self.summary
        yield from self.directions
