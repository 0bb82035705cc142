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
    # Columns of 项目支出 目标表 and 自评表 templates; None where the template has no such column.
    nature: Cell | None = None  # 指标性质: ≥ ≤ = 定性
    measure: Cell | None = None  # 度量单位
    weight: Field | None = None  # 权重 / 分值
    score: Field | None = None  # 得分
    actual: Cell | None = None  # 实际完成值 / 完成值
    direction: Cell | None = None  # 指标方向性
    reason: Cell | None = None  # 偏差原因 / 未完成原因分析
    block: str = ""  # 长期 or 年度 when the table has separate indicator blocks


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
    #: A table cut off in the copy (or starting mid-way): the parts not in the file, the last
    #: cell read, and the kinds of rows (指标, 明细 …) that may not all have been read.
    missing: list[str] = field(default_factory=list)
    cut_after: Source | None = None
    partial: list[str] = field(default_factory=list)

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
class FundLine:
    """One line of a funds block: a total (总额, 年度资金总额 …) or one of its parts.

    ``values`` maps a column (金额 for a target table; 年初预算数, 全年预算数, 全年执行数 for a
    self-evaluation) to the cell read there; ``rate`` is the 执行率 as stated. ``parts`` are the
    lines the template puts under this one (其中：财政资金 …; 财政拨款 → 中央/省级/市级/本级).
    """

    label: str  # normalised: 总额, 财政拨款, 中央, 其他资金 …
    label_cell: Cell
    values: dict[str, Field] = field(default_factory=dict)
    rate: Field | None = None
    weight: Field | None = None  # 分值/权重 of the budget-execution line (自评表)
    score: Field | None = None
    parts: list[FundLine] = field(default_factory=list)
    cut_off: bool = False  # the table stops inside this line's parts


@dataclass
class ProjectTable(Table):
    """项目支出绩效目标表 / 申报表, or 项目支出绩效自评表 (``evaluation``), any template.

    Recognised by its labels and columns, not its title; ``missing`` (see :class:`Table`)
    names the parts of the template that were not in the file, so checks that need them can
    say so.
    """

    evaluation: bool = False
    name: Field | None = None
    department: Field | None = None  # 主管部门
    implementer: Field | None = None  # 实施单位
    attribute: Field | None = None  # 项目属性 / 项目类型
    period: Field | None = None  # 实施期 / 起止日期
    funds: FundLine | None = None  # the total line with its parts
    annual_amount: Field | None = None  # 当年度金额, where the table also states a multi-year total
    long_goal: Cell | None = None  # 总体目标 / 实施期目标
    annual_goal: Cell | None = None
    basis: Cell | None = None  # 立项依据 / 政策依据
    indicators: list[Indicator] = field(default_factory=list)
    budget_points: Field | None = None  # 预算执行情况(10分) / the 总额 line's 分值
    budget_score: Field | None = None  # the 总额 line's 得分
    indicator_points: Field | None = None  # 绩效指标(90分): what the indicator weights add up to
    total_points: Field | None = None  # 合计/总分 of the weights
    total_score: Field | None = None  # 合计/总分 of the scores
    details: list[AllocationLine] = field(default_factory=list)  # 支出明细/成本测算
    detail_total: Field | None = None


@dataclass
class AllocationLine:
    """One row of a 分配明细表/资金安排表: who gets it and the amount per column."""

    name: Cell
    amounts: dict[str, Field]
    index: int
    count: Field | None = None  # 人数/数量, where the table has such a column
    rate: Field | None = None  # 标准/单价, where the table has such a column


@dataclass
class AllocationTable(Table):
    """A flat allocation table (序号, 单位/项目, 金额 …) ending in a 合计 row."""

    columns: list[str] = field(default_factory=list)
    lines: list[AllocationLine] = field(default_factory=list)
    total: dict[str, Field] = field(default_factory=dict)
    #: tables with column groups (全年 | 其中:X 小计/提前下达/本次下达 …): each row as a total
    #: line whose parts are the groups' 小计, whose parts are the groups' columns
    grouped: list[FundLine] = field(default_factory=list)


@dataclass
class ProjectList(Table):
    """Several projects in one table: a department total and one row group per project."""

    total: Field | None = None
    projects: list[ProjectTable] = field(default_factory=list)


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
    #: tables of other templates (项目支出 目标表/自评表, allocation tables, project lists), in file order
    others: list[Table] = field(default_factory=list)

    @property
    def display_unit(self) -> str:
        """The unit amounts are shown in: 附件1's, else the first table's, else 万元."""
        if self.overview is not None:
            return self.overview.unit
        first = next(iter(self.tables()), None)
        return first.unit if first is not None else "万元"

    def tables(self) -> Iterator[Table]:
        if self.overview:
            yield self.overview
        if self.summary:
            yield self.summary
        yield from self.directions
        yield from self.others
