"""Recognise 项目支出 target tables, self-evaluation tables, allocation tables and project lists.

These templates differ from province to province and year to year, and what arrives is often a
web page or PDF copy with the title cut off, the first rows missing or the end cut away. So
tables are recognised by their *structure* — the labels and column headings they contain —
never by their title, and whatever part of a table is present is read:

* a **self-evaluation** (绩效自评表) has a budget-execution block (年初预算, 调整后/全年预算,
  执行数, 执行率) or an indicator table with 完成值 and 得分 columns;
* a **target table** (绩效目标表/申报表) has a project name and funds, or an indicator table
  (一级/二级/三级指标 with 指标值);
* a **project list** has 项目名称 and 一级指标 as columns of one header row, one row group per
  project with the name and amount on its first row only;
* an **allocation table** (分配明细表/资金安排表) has a 金额 column and a 合计 row.

What a cut-off table lacks is listed in its ``missing`` so that checks needing it can say
"cannot verify" and name the part, rather than pass or refuse the whole file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from hegui.facts.model import (
    AllocationLine,
    AllocationTable,
    Cell,
    Field,
    Footer,
    FundLine,
    Grid,
    Indicator,
    ProjectList,
    ProjectTable,
    Row,
    Source,
    Table,
)
from hegui.facts.values import parse_indicator_value, parse_money, parse_number

# --- labels ------------------------------------------------------------------------------------

_UNIT_SUFFIX = re.compile(r"[（(]\s*(万元|元|千元|亿元)\s*[)）]$")
_POINTS = re.compile(r"[（(]\s*(\d+(?:\.\d+)?)\s*分\s*[)）]")
_ANNOTATION = re.compile(r"[（(]\s*(?:[A-Z](?:/[A-Z])?|盖章|万元|元)\s*[)）]")
_TABLE_UNIT = re.compile(r"(?:金额)?单位[:：]\s*(万元|元|千元|亿元)")


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def label_key(text: str) -> str:
    """A label as compared: no blanks, no 其中 prefix, no colon, no (万元)/(A)/(10分) remarks.

    ``资金总额（万元）``, ``其中:财政资金``, ``全年预算数(A)`` and ``年度资金总额:`` give
    资金总额, 财政资金, 全年预算数 and 年度资金总额.
    """
    text = squash(text)
    text = re.sub(r"^其中[:：]?", "", text)
    text = _POINTS.sub("", text)
    text = _ANNOTATION.sub("", text)
    return text.rstrip(":：")


def label_unit(text: str) -> str:
    """The money unit a label carries (``资金总额（万元）`` → 万元), or ""."""
    match = _UNIT_SUFFIX.search(squash(text).rstrip(":："))
    return match.group(1) if match else ""


def points_of(text: str) -> str:
    """The points a heading states: ``绩效指标(90分)`` → "90"."""
    match = _POINTS.search(squash(text))
    return match.group(1) if match else ""


# Labels of the fund block, by role. The first match in a table is its total line.
FUND_TOTALS = (
    "年度资金总额",
    "资金总额",
    "项目总投资",
    "总金额",
    "项目资金总额",
    "年度金额",
    "预算金额",
    "预算申报数",
    "总额",
)
#: part label as written → normalised name. 其中 lines of 财政拨款 are its own parts.
FUND_PARTS = {
    "财政拨款": "财政拨款",
    "本年财政拨款": "财政拨款",
    "财政资金": "财政资金",
    "财政专户管理资金": "财政专户管理资金",
    "单位资金": "单位资金",
    "其他资金": "其他资金",
    "上年结转资金": "上年结转资金",
    "上年结转": "上年结转资金",
    "中央补助安排": "中央",
    "中央资金": "中央",
    "中央补助": "中央",
    "中央": "中央",
    "省级财政安排": "省级",
    "省级": "省级",
    "省级资金": "省级",
    "市级": "市级",
    "市级资金": "市级",
    "市级财政安排": "市级",
    "县级": "本级",
    "本级": "本级",
    "本级资金": "本级",
    "县级财政安排": "本级",
    "地方资金": "地方资金",
}
_SUBPARTS = {"财政拨款": ("中央", "省级", "市级", "本级")}

_EXEC_COLUMNS = (
    # (field, label prefixes); the first matching field wins for a heading.
    ("年初预算数", ("年初预算",)),
    ("全年预算数", ("调整后预算", "全年预算")),
    ("全年执行数", ("预算执行数", "全年执行数", "执行数")),
    ("执行率", ("预算执行率", "执行率")),
    ("分值", ("分值", "权重")),
    ("得分", ("得分",)),
)

_INDICATOR_COLUMNS = (
    ("一级指标", ("一级指标", "一级目标")),
    ("二级指标", ("二级指标",)),
    ("三级指标", ("三级指标",)),
    ("指标性质", ("指标性质",)),
    ("指标值", ("指标值", "年度指标值", "当年度指标值", "指标目标值", "目标值", "预期指标值")),
    ("度量单位", ("度量单位", "计量单位")),
    ("完成值", ("实际完成值", "完成值", "全年实际值", "实际值")),
    ("分值", ("分值", "权重")),
    ("得分", ("得分",)),
    ("指标方向性", ("指标方向性", "指标方向")),
    ("原因", ("偏差原因", "未完成原因", "原因分析", "未达到指标值原因")),
)

NAME_LABELS = ("项目名称", "二级项目名称", "专项名称", "项目名")
DEPARTMENT_LABELS = ("主管部门", "项目主管部门", "主管单位")
IMPLEMENTER_LABELS = ("实施单位", "项目实施单位", "用款单位", "实施单位（盖章）")
ATTRIBUTE_LABELS = ("项目属性", "项目类型")
PERIOD_LABELS = ("实施期", "项目实施期", "实施期限", "项目期", "起止时间", "项目周期")
LONG_GOAL_LABELS = ("总体目标", "实施期目标", "长期目标", "总体绩效目标", "实施期绩效目标", "总")
ANNUAL_GOAL_LABELS = ("年度目标", "年度绩效目标", "当年度目标", "项目年度目标", "预期目标")
BASIS_LABELS = ("立项依据", "政策依据", "项目立项依据")
#: Rows that end a table (signatures, conclusions); a table that has one was not cut off.
CLOSERS = (
    "项目负责人",
    "财务负责人",
    "填表人",
    "联系电话",
    "评价结论",
    "存在问题",
    "改进措施",
    "审核意见",
    "单位负责人",
)

_TITLE = re.compile(r"(绩效目标表|绩效目标申报表|目标申报表|绩效自评表|自评表|分配明细表|资金安排表|分配表|明细表)")
_ATTACHMENT = re.compile(r"^附(?:件|表)\s*[0-9一二三四五六七八九十]+(?:\s*[-－—–]\s*[0-9]+)?$")


def _field(label: str, cell: Cell | None, unit: str = "", *, money: bool = False) -> Field:
    if cell is None:
        return Field(label, None)
    parsed = parse_money(cell.stripped, unit or "万元") if money and cell.stripped else None
    return Field(label, cell, parsed)


# --- segments ----------------------------------------------------------------------------------


@dataclass
class Segment:
    """Rows of one table: from its title (or the start of the file) to the next title."""

    rows: list[Row]
    title: Cell | None
    label: str  # 附件2, 附表1 … when one precedes the title
    last: bool = False  # the last table of the file: it may have been cut off
    first: bool = False  # no title before it: it may have lost its top


def _title_cell(row: Row) -> Cell | None:
    cells = row.nonblank()
    if not cells or len(cells) > 2:
        return None
    for cell in cells:
        text = squash(cell.text)
        if _TITLE.search(text) and len(text) <= 45:
            return cell
    return None


def split_segments(grid: Grid) -> list[Segment]:
    """The grid cut at table titles; rows before the first title form a headless segment."""
    starts: list[tuple[int, Cell | None, str]] = []
    rows = grid.rows
    for index, row in enumerate(rows):
        title = _title_cell(row)
        if title is None:
            continue
        if starts and starts[-1][0] >= index - 2 and starts[-1][1] is not None:
            # Two title rows in a row (a page heading, then the table's title): one table.
            continue
        label = ""
        begin = index
        for back in range(index - 1, max(-1, index - 3), -1):
            cells = rows[back].nonblank()
            if len(cells) == 1 and _ATTACHMENT.match(squash(cells[0].text)):
                label, begin = squash(cells[0].text), back
                break
        starts.append((begin, title, label))
    segments: list[Segment] = []
    first_start = starts[0][0] if starts else len(rows)
    if first_start > 0:
        segments.append(Segment(rows[:first_start], None, "", first=True))
    for n, (index, title, label) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(rows)
        segments.append(Segment(rows[index:end], title, label))
    if segments:
        segments[-1].last = True
    return segments


# --- lookups -----------------------------------------------------------------------------------


def _keys(row: Row) -> list[str]:
    return [label_key(c.text) for c in row.cells]


def find_label(rows: list[Row], labels: tuple[str, ...]) -> tuple[int, int] | None:
    for r, row in enumerate(rows):
        for c, key in enumerate(_keys(row)):
            if key in labels:
                return r, c
    return None


def value_of(rows: list[Row], labels: tuple[str, ...]) -> tuple[Cell, Cell] | None:
    """(label cell, value cell) for the first of ``labels``: the next cell, else the next row.

    A label that ends its row (a form cell above its text) takes the next row's only cell.
    """
    found = find_label(rows, labels)
    if found is None:
        return None
    r, c = found
    label = rows[r].cells[c]
    rest = [cell for cell in rows[r].cells[c + 1 :] if not cell.continuation]
    if rest:
        if label_key(rest[0].text) in _ALL_LABELS:
            return label, Cell("", label.source)  # 主管部门 | 实施单位 | …: left blank
        return label, rest[0]
    if r + 1 < len(rows):
        below = rows[r + 1].nonblank()
        if len(below) == 1 and label_key(below[0].text) not in _ALL_LABELS:
            return label, below[0]
    return label, Cell("", label.source)


def _unit_of(rows: list[Row], default: str = "万元") -> str:
    for row in rows[:12]:
        for cell in row.cells:
            match = _TABLE_UNIT.search(squash(cell.text))
            if match:
                return match.group(1)
    return default


def _header_columns(row: Row, spec: tuple[tuple[str, tuple[str, ...]], ...]) -> dict[str, int]:
    found: dict[str, int] = {}
    for c, key in enumerate(_keys(row)):
        for name, prefixes in spec:
            if name in found:
                continue
            if any(key.startswith(p) for p in prefixes):
                found[name] = c
                break
    return found


# --- the fund block ----------------------------------------------------------------------------


def _fund_name(key: str) -> tuple[str, str] | None:
    """("total", label) or ("part", normalised part) for a fund label."""
    if key in FUND_TOTALS:
        return "total", key
    if key in FUND_PARTS:
        return "part", FUND_PARTS[key]
    return None


def _exec_block(rows: list[Row], unit: str) -> tuple[FundLine | None, int, int]:
    """The budget-execution block of a self-evaluation: header row, then 总额 and its parts.

    Returns (total line, first row, end row). Header and data rows may be offset by a merged
    first column that a copy collapsed: the value columns are placed relative to the label.
    """
    for r, row in enumerate(rows):
        cols = _header_columns(row, _EXEC_COLUMNS)
        if "年初预算数" not in cols or not ({"全年执行数", "执行率"} & cols.keys()):
            continue
        header_label = min(cols.values()) - 1
        total: FundLine | None = None
        end = r + 1
        for data in rows[r + 1 :]:
            keys = _keys(data)
            at = next((i for i, k in enumerate(keys) if _fund_name(k)), None)
            if at is None:
                if any(keys):
                    break
                end += 1
                continue
            role, name = _fund_name(keys[at])  # type: ignore[misc]
            line = FundLine(name, data.cells[at])
            shift = at - header_label
            for fname, c in cols.items():
                cell = _at(data, c + shift)
                if fname == "执行率":
                    line.rate = Field(fname, cell)
                elif fname == "分值":
                    line.weight = Field(fname, cell)
                elif fname == "得分":
                    line.score = Field(fname, cell)
                else:
                    line.values[fname] = _field(fname, cell, unit, money=True)
            if role == "total" and total is None:
                total = line
            elif total is not None:
                total.parts.append(line)
            end += 1
        return total, r, end
    return None, -1, -1


def _at(row: Row, index: int) -> Cell:
    if 0 <= index < len(row.cells):
        return row.cells[index]
    last = row.cells[-1].source if row.cells else Source("")
    return Cell("", last)


def _target_funds(rows: list[Row], unit: str) -> tuple[FundLine | None, Field | None]:
    """The funds of a target table: its total line, the parts under it, and 当年度金额."""
    total: FundLine | None = None
    annual: Field | None = None
    seen: set[str] = set()
    for row in rows:
        cells = row.cells
        for c, cell in enumerate(cells):
            key = label_key(cell.text)
            if key == "当年度金额" and annual is None:
                value = _next_value(cells, c)
                annual = _field("当年度金额", value, label_unit(cell.text) or unit, money=True)
                continue
            kind = _fund_name(key)
            if kind is None or kind[1] in seen:
                continue
            if kind[0] == "total" and key == "总额":
                continue  # 总额 alone labels a self-evaluation line, handled there
            value = _next_value(cells, c)
            money_unit = label_unit(cell.text) or unit
            line = FundLine(kind[1] if kind[0] == "part" else "资金总额", cell)
            line.values["金额"] = _field("金额", value, money_unit, money=True)
            seen.add(kind[1])
            if kind[0] == "total":
                if total is None:
                    total = line
                continue
            if total is None:
                continue
            parent = next((p for p in total.parts if kind[1] in _SUBPARTS.get(p.label, ())), None)
            (parent.parts if parent else total.parts).append(line)
    return total, annual


def _next_value(cells: list[Cell], c: int) -> Cell:
    """The value right of a label; a further label (预算金额 | 总金额 | 50) is skipped over."""
    for cell in cells[c + 1 :]:
        if cell.continuation:
            continue
        key = label_key(cell.text)
        if key in FUND_TOTALS and key != "总额":
            continue
        return cell
    return Cell("", cells[c].source)


# --- indicators --------------------------------------------------------------------------------


def _indicator_header(rows: list[Row]) -> tuple[int, dict[str, int]] | None:
    for r, row in enumerate(rows):
        cols = _header_columns(row, _INDICATOR_COLUMNS)
        if {"一级指标", "二级指标", "三级指标"} <= cols.keys():
            return r, cols
    return None


_NATURE = {"≥": "≥", "≧": "≥", ">=": "≥", "≤": "≤", "≦": "≤", "<=": "≤", "=": "", "＝": "", ">": ">", "＞": ">"}
_NATURE.update({"<": "<", "＜": "<", "大于等于": "≥", "小于等于": "≤", "等于": ""})


def _indicator_rows(
    rows: list[Row], start: int, cols: dict[str, int], unit: str
) -> tuple[list[Indicator], int, Row | None]:
    """Indicator rows after the header at ``start``; returns (indicators, end, 合计 row).

    Merged 一级/二级 cells are blank (or collapsed away) in a copy: they inherit from above.
    A row shorter than the header lost its leading merged cells; its cells are aligned on the
    right (the last columns are always there).
    """
    width = len(rows[start].cells)
    first_col = min(cols.values())
    out: list[Indicator] = []
    total_row: Row | None = None
    last1: Cell | None = None
    last2: Cell | None = None
    end = len(rows)
    for r in range(start + 1, len(rows)):
        row = rows[r]
        texts = _keys(row)
        nonblank = [t for t in texts if t]
        if not nonblank:
            continue
        if nonblank[0] in ("合计", "总分", "总计") or nonblank[0].startswith(("合计", "总分")):
            total_row = row
            end = r + 1
            break
        if any(nonblank[0].startswith(s) for s in CLOSERS) or _indicator_header([row]) or _title_cell(row):
            end = r
            break
        if len(nonblank) == 1 and r + 1 < len(rows) and _indicator_header([rows[r + 1]]):
            end = r  # the caption of the next indicator block (年度绩效指标)
            break
        if all(_PLACEHOLDER.fullmatch(t) for t in nonblank):
            continue  # the template's empty slots (指标2: ……) and level captions such as (50分)
        cells = list(row.cells)
        # Cells before the indicator columns (a merged 绩效指标 caption) are not indicator data.
        while len(cells) > width - first_col and cells and cells[0].is_blank:
            cells = cells[1:]
        padded = _align(cells, width - first_col, cols, first_col)
        src = row.source

        def at(name: str, padded: list[Cell] = padded) -> Cell | None:
            index = cols.get(name)
            return padded[index - first_col] if index is not None else None

        l1, l2, l3 = at("一级指标"), at("二级指标"), at("三级指标")
        if l1 is None or l1.is_blank:
            l1 = last1 or Cell("", src)
        if l2 is None or l2.is_blank:
            l2 = last2 or Cell("", src)
        last1, last2 = l1, l2
        value = at("指标值") or Cell("", src)
        nature, measure = at("指标性质"), at("度量单位")
        flat = _flat_value(value, nature, measure)
        weight, score = at("分值"), at("得分")
        if len(cells) < width - first_col and _lost_cells(padded, cols, first_col):
            # A copy that dropped blank cells: which value is the 分值 and which the 得分 is
            # not known, so neither is read (sums over them cannot be verified).
            why = "复制时丢失了空白单元格，无法确定各值所在的栏"
            weight = Cell("", weight.source, problem=why) if weight is not None else None
            score = Cell("", score.source, problem=why) if score is not None else None
        out.append(
            Indicator(
                level1=l1,
                level2=l2,
                level3=l3 or Cell("", src),
                value=flat,
                parsed=parse_indicator_value(flat.stripped, unit),
                row_source=src,
                nature=nature,
                measure=measure,
                weight=Field("分值", weight) if weight is not None else None,
                score=Field("得分", score) if score is not None else None,
                actual=at("完成值"),
                direction=at("指标方向性"),
                reason=at("原因"),
            )
        )
    return out, end, total_row


_PLACEHOLDER = re.compile(r"…+|\.{3,}|指标\d+[:：]?|[（(]\d+分[)）]")


def _lost_cells(padded: list[Cell], cols: dict[str, int], first_col: int) -> bool:
    """A short row whose values were packed left of a blank 分值: cells were lost, not blank."""
    weight = cols.get("分值")
    if weight is None or not padded[weight - first_col].is_blank:
        return False
    level3 = cols.get("三级指标", first_col + 2) - first_col
    return any(not c.is_blank for c in padded[level3 + 1 : weight - first_col])


_LEVEL1 = ("产出指标", "效益指标", "满意度指标")
_LEVEL2_WORDS = ("数量", "质量", "时效", "成本", "经济效益", "社会效益", "生态效益", "可持续影响", "满意度")


def _align(cells: list[Cell], width: int, cols: dict[str, int], first_col: int) -> list[Cell]:
    """``cells`` placed under the ``width`` indicator columns.

    A copy drops merged 一级/二级 cells, so a short row starts at the column its first cell
    belongs to: a 一级指标 name, a 二级指标 name, or else the 三级指标. A row cut off at the
    end keeps its first cells in place and lacks the last ones.
    """
    if len(cells) >= width:
        return cells[:width]
    src = cells[0].source if cells else Source("")
    blank = Cell("", src)
    first = label_key(cells[0].text) if cells else ""
    level1 = cols.get("一级指标", first_col) - first_col
    level2 = cols.get("二级指标", first_col + 1) - first_col
    level3 = cols.get("三级指标", first_col + 2) - first_col
    second = label_key(cells[1].text) if len(cells) > 1 else ""
    # 成本指标 is a 一级指标 in the 财预〔2021〕101号 layout (over 经济/社会/生态环境成本指标) and a
    # 二级指标 under 产出指标 in older ones.
    if first.startswith(_LEVEL1) or (first == "成本指标" and "成本" in second):
        start = level1
    elif (first.endswith("指标") and any(w in first for w in _LEVEL2_WORDS)) or first in _LEVEL2_WORDS:
        start = level2
    else:
        start = level3
    if start + len(cells) > width:
        start = width - len(cells)
    return [blank] * start + cells + [blank] * (width - start - len(cells))


def _flat_value(value: Cell, nature: Cell | None, measure: Cell | None) -> Cell:
    """The 指标值 with its 指标性质 and 度量单位 put back (≥ 95 % → ≥95%), keeping its cell."""
    if nature is None and measure is None:
        return value
    text = value.stripped
    comparator = squash(nature.text) if nature is not None else ""
    unit = squash(measure.text) if measure is not None else ""
    if not text or comparator.startswith("定性"):
        return value
    prefix = _NATURE.get(comparator, "")
    if unit and not text.endswith(unit):
        text += unit
    # As written, too, when a reader repaired the cell's script (the raw text keeps its own form).
    raw = f"{prefix}{value.raw.strip()}{unit}" if value.raw else ""
    return replace(value, text=prefix + text, raw=raw)


def _block_name(rows: list[Row], header: int) -> str:
    """长期 or 年度 for an indicator block, from its header row or the caption above it."""
    for r in range(header, max(-1, header - 3), -1):
        text = "".join(squash(c.text) for c in rows[r].cells)
        if "长期" in text or "实施期" in text:
            return "长期"
        if "年度" in text:
            return "年度"
    return ""


def _numbers_after(row: Row, label_at: int) -> list[Cell]:
    return [c for c in row.cells[label_at + 1 :] if parse_number(c.stripped) is not None]


# --- tables ------------------------------------------------------------------------------------

_ALL_LABELS = set(
    NAME_LABELS
    + DEPARTMENT_LABELS
    + IMPLEMENTER_LABELS
    + ATTRIBUTE_LABELS
    + PERIOD_LABELS
    + LONG_GOAL_LABELS
    + ANNUAL_GOAL_LABELS
    + BASIS_LABELS
    + FUND_TOTALS
) | set(FUND_PARTS)


def classify(seg: Segment) -> str:
    """project | evaluation | list | allocation | "" from the labels and columns present."""
    keys = {k for row in seg.rows for k in _keys(row) if k}
    has = lambda *words: any(any(k.startswith(w) for w in words) for k in keys)  # noqa: E731
    header = _indicator_header(seg.rows)
    if header is not None:
        cols = header[1]
        row_keys = set(_keys(seg.rows[header[0]]))
        if "项目名称" in row_keys:
            return "list"
        if "得分" in cols:
            return "evaluation"
    if has("年初预算") and has("执行数", "执行率", "预算执行"):
        return "evaluation"
    if header is not None:
        return "project"
    if (keys & set(NAME_LABELS)) and (keys & (set(FUND_TOTALS) | set(FUND_PARTS) | {"资金情况"})):
        return "project"
    if _allocation_header(seg.rows) is not None or _grouped_header(seg.rows) is not None:
        return "allocation"
    return ""


def _label_for(seg: Segment, n: int) -> str:
    return seg.label or f"表{n}"


def _closed(rows: list[Row]) -> bool:
    return any(label_key(c.text).startswith(CLOSERS) for row in rows for c in row.cells if not c.is_blank)


def _last_source(rows: list[Row]) -> Source | None:
    for row in reversed(rows):
        cells = row.nonblank()
        if cells:
            return cells[-1].source
    return None


def _text_field(rows: list[Row], labels: tuple[str, ...]) -> Field | None:
    found = value_of(rows, labels)
    if found is None:
        return None
    label, value = found
    return Field(label_key(label.text), value)


def _period(rows: list[Row]) -> Field | None:
    found = value_of(rows, PERIOD_LABELS)
    if found is None:
        return None
    _, value = found
    if label_key(value.text) in ("起始年度", "开始年度"):
        start = value_of(rows, ("起始年度", "开始年度"))
        end = value_of(rows, ("到期年度", "结束年度"))
        if start and end:
            return Field(
                "实施期", Cell(f"{start[1].stripped}-{end[1].stripped}", start[1].source.spanning(end[1].source))
            )
    return Field("实施期", value)


def build_project(seg: Segment, label: str, evaluation: bool) -> ProjectTable:
    rows = seg.rows
    unit = _unit_of(rows)
    table = ProjectTable(
        label=label,
        title=seg.title,
        unit=unit,
        source=rows[0].source.spanning(rows[-1].source),
        footer=Footer(),
        evaluation=evaluation,
    )
    table.name = _text_field(rows, NAME_LABELS)
    table.department = _text_field(rows, DEPARTMENT_LABELS)
    table.implementer = _text_field(rows, IMPLEMENTER_LABELS)
    table.attribute = _text_field(rows, ATTRIBUTE_LABELS)
    table.period = _period(rows)
    for labels, attr in ((LONG_GOAL_LABELS, "long_goal"), (ANNUAL_GOAL_LABELS, "annual_goal"), (BASIS_LABELS, "basis")):
        found = value_of(rows, labels)
        if found is not None:
            setattr(table, attr, found[1])
    if evaluation:
        table.funds, _, _ = _exec_block(rows, unit)
        for row in rows:
            for cell in row.cells:
                key = squash(cell.text)
                if key.startswith("预算执行情况") and points_of(key) and table.budget_points is None:
                    table.budget_points = Field("预算执行分值", Cell(points_of(key), cell.source))
    else:
        table.funds, table.annual_amount = _target_funds(rows, unit)
    details = _allocation_header(rows)
    if details is not None:
        # 支出明细/成本测算: lines with their 合计, as in an allocation table.
        d_start, name_col, amount_col = details
        table.details, table.detail_total, _ = read_lines(rows, d_start, name_col, amount_col, unit)
    header = _indicator_header(rows)
    if header is not None:
        start, cols = header
        for cell in rows[start].cells:
            if points_of(cell.text) and table.indicator_points is None:
                table.indicator_points = Field("指标总分值", Cell(points_of(cell.text), cell.source))
        table.indicators, end, total_row = _indicator_rows(rows, start, cols, unit)
        blocks = [(start, table.indicators)]
        while total_row is None and end < len(rows):
            # A second indicator block (长期 then 年度, as some templates have).
            more = _indicator_header(rows[end:])
            if more is None:
                break
            start, cols = end + more[0], more[1]
            block_rows, end, total_row = _indicator_rows(rows, start, cols, unit)
            blocks.append((start, block_rows))
            table.indicators = table.indicators + block_rows
        if len(blocks) > 1:
            for block_start, block_rows in blocks:
                name = _block_name(rows, block_start)
                for indicator in block_rows:
                    indicator.block = name
        if total_row is not None:
            at = next(i for i, c in enumerate(total_row.cells) if not c.is_blank)
            numbers = _numbers_after(total_row, at)
            if numbers:
                table.total_points = Field("总分值", numbers[0])
            if len(numbers) > 1:
                table.total_score = Field("总得分", numbers[1])
        cut = seg.last and not _closed(rows[end:]) and total_row is None
        if cut:
            table.missing.append("绩效指标（表格在此截断）")
            table.cut_after = _last_source(rows)
            table.partial.append("指标")
    elif seg.last and not _closed(rows):
        if table.funds is not None and not table.funds.parts:
            table.missing.append("资金来源分项")
        table.missing.append("绩效目标和绩效指标")
        table.cut_after = _last_source(rows)
        table.partial.append("指标")
    if seg.first and seg.title is None:
        # The copy starts inside the table: what comes before the indicators is lost.
        if table.name is None:
            table.missing.insert(0, "项目名称")
        if evaluation and table.funds is None:
            table.missing.insert(1 if table.missing else 0, "预算执行情况")
    if evaluation and table.funds is not None and table.funds.weight is not None and table.budget_points is None:
        weight = table.funds.weight
        if weight.cell is not None and parse_number(weight.text) is not None:
            table.budget_points = Field("预算执行分值", weight.cell)
    if evaluation and table.funds is not None and table.funds.score is not None:
        table.budget_score = table.funds.score
    if table.funds is not None and table.cut_after is not None and header is None:
        table.funds.cut_off = True
    return table


def build_list(seg: Segment, label: str) -> ProjectList:
    """Several projects in one table: a row group per project, name and amount on its first row."""
    rows = seg.rows
    unit = _unit_of(rows)
    header = _indicator_header(rows)
    assert header is not None
    start, cols = header
    head = _keys(rows[start])
    name_col = head.index("项目名称")
    amount_col = next((i for i, k in enumerate(head) if k.startswith(("预算数", "金额", "预算金额", "资金总额"))), None)
    goal_col = next((i for i, k in enumerate(head) if k.startswith(("年度目标", "绩效目标"))), None)
    table = ProjectList(
        label=label,
        title=seg.title,
        unit=unit,
        source=rows[0].source.spanning(rows[-1].source),
        footer=Footer(),
    )
    width = len(_trimmed(rows[start].cells))
    first_ind = min(cols.values())
    span = width - first_ind  # the indicator columns, always the last ones of a row
    current: ProjectTable | None = None
    for r in range(start + 1, len(rows)):
        row = rows[r]
        cells = _trimmed(row.cells)
        if not cells:
            continue
        keys = [label_key(c.text) for c in cells]
        if keys[0].startswith(("合计", "总计")) or any(keys[0].startswith(s) for s in CLOSERS):
            break
        lead = len(cells) - span
        if lead < 0:
            money = [c for c in cells if re.fullmatch(r"[\d,]+\.\d+", c.stripped)]
            if money and current is None and table.total is None:
                # The department line (820-马踏镇部门 | 8,827,620.53): the whole table's total.
                table.total = _field("合计", money[-1], unit, money=True)
                continue
            if current is None:
                continue
            lead = 0  # an indicator row cut short at its end
        if lead > 0:
            # A project's first row: [单位名称,] 项目名称, 预算数, 年度目标, then its first indicator.
            head_cells = cells[:lead]
            offset = (first_ind - lead) if lead < first_ind else 0

            def pick(
                col: int | None, head_cells: list[Cell] = head_cells, offset: int = offset, lead: int = lead
            ) -> Cell | None:
                if col is None or col - offset < 0 or col - offset >= lead:
                    return None
                return head_cells[col - offset]

            project = ProjectTable(
                label=f"{label}-{len(table.projects) + 1}",
                title=seg.title,
                unit=unit,
                source=row.source,
                footer=Footer(),
            )
            name = pick(name_col)
            project.name = Field("项目名称", name) if name is not None else None
            amount = pick(amount_col)
            if amount is not None:
                line = FundLine("资金总额", amount)
                line.values["金额"] = _field("金额", amount, unit, money=True)
                project.funds = line
            goal = pick(goal_col)
            if goal is not None:
                project.annual_goal = goal
            table.projects.append(project)
            current = project
        if current is None:
            continue
        data = cells[lead:] if lead > 0 else cells
        current.indicators.append(_list_indicator(data, cols, first_ind, row.source, unit, current))
    if seg.last and not _closed(rows):
        table.missing.append("其余项目（表格在此截断）")
        table.cut_after = _last_source(rows)
        table.partial.append("项目表")
        if table.projects:
            last = table.projects[-1]
            last.missing.append("绩效指标（表格在此截断）")
            last.cut_after = table.cut_after
            last.partial.append("指标")
    return table


def _trimmed(cells: list[Cell]) -> list[Cell]:
    out = list(cells)
    while out and out[-1].is_blank:
        out.pop()
    return out


def _list_indicator(
    cells: list[Cell], cols: dict[str, int], first: int, src: Source, unit: str, project: ProjectTable
) -> Indicator:
    def at(name: str) -> Cell | None:
        index = cols.get(name)
        if index is None or index - first >= len(cells):
            return None
        return cells[index - first]

    l1 = at("一级指标") or Cell("", src)
    l2 = at("二级指标") or Cell("", src)
    if project.indicators:
        if l1.is_blank:
            l1 = project.indicators[-1].level1
        if l2.is_blank:
            l2 = project.indicators[-1].level2
    value = at("指标值") or Cell("", src)
    nature, measure = at("指标性质"), at("度量单位")
    flat = _flat_value(value, nature, measure)
    weight = at("分值")
    return Indicator(
        level1=l1,
        level2=l2,
        level3=at("三级指标") or Cell("", src),
        value=flat,
        parsed=parse_indicator_value(flat.stripped, unit),
        row_source=src,
        nature=nature,
        measure=measure,
        weight=Field("分值", weight) if weight is not None else None,
        direction=at("指标方向性"),
    )


# --- allocation tables ---------------------------------------------------------------------------


def _allocation_header(rows: list[Row]) -> tuple[int, int, int] | None:
    """(header row, name column, amount column) of a flat table with a 金额 column and a 合计 row."""
    for r, row in enumerate(rows):
        keys = _keys(row)
        amount = next((i for i, k in enumerate(keys) if k in ("金额", "分配金额", "补助金额", "安排金额")), None)
        if amount is None or len([k for k in keys if k]) < 2:
            continue
        if not any(label_key(c.text) in ("合计", "总计") for later in rows[r + 1 :] for c in later.cells):
            continue
        name = next(
            (i for i, k in enumerate(keys) if k and i != amount and not k.startswith("序号") and i < amount), amount - 1
        )
        return r, name, amount
    return None


def _is_sequence(text: str) -> bool:
    return bool(re.fullmatch(r"[0-9一二三四五六七八九十]+[.、]?", squash(text)))


@dataclass
class _Group:
    name: str
    label_cell: Cell
    subtotal: int  # column of 小计
    parts: list[tuple[int, Cell]]  # (column, heading) of the parts


def _grouped_header(rows: list[Row]) -> tuple[int, int | None, list[_Group]] | None:
    """A two-row header of column groups: ``其中:X`` over ``小计 | part | part``.

    Returns (second header row, column of the overall total or None, groups), in the columns
    of the data rows. A copy that dropped the blank cells of the header (a merged 单位 cell
    over both rows, a group heading over three columns) still gives the groups in order: the
    second row is aligned on the right of the data rows, the group headings taken in order.
    """
    for r in range(1, len(rows)):
        below_row = rows[r]
        below = _keys(below_row)
        if "小计" not in below or r + 1 >= len(rows):
            continue
        data = next((row for row in rows[r + 1 :] if row.nonblank()), None)
        if data is None:
            continue
        width = len(data.cells)
        offset = max(0, width - len(below_row.cells))
        subtotals = [offset + c for c, k in enumerate(below) if k == "小计"]
        top = rows[r - 1]
        top_keys = _keys(top)
        heads = [
            (c, top.cells[c]) for c, k in enumerate(top_keys) if k and squash(top.cells[c].text).startswith("其中")
        ]
        if len(heads) != len(subtotals):
            if len(top.cells) != width or any(c >= width for c in subtotals):
                continue  # a 小计 row wider than the data below it: not a grouped header
            heads = [(c, top.cells[c]) for c in subtotals]
        groups: list[_Group] = []
        for n, (column, (_, head)) in enumerate(zip(subtotals, heads, strict=True)):
            end = subtotals[n + 1] if n + 1 < len(subtotals) else width
            parts = [
                (c, below_row.cells[c - offset])
                for c in range(column + 1, end)
                if 0 <= c - offset < len(below) and below[c - offset] and below[c - offset] != "小计"
            ]
            groups.append(_Group(label_key(head.text), head, column, parts))
        first_head = heads[0][0]
        before = [c for c in range(1, first_head) if top_keys[c]]
        if len(top.cells) == width:
            total = before[-1] if before else None
        else:
            total = 1 if before and subtotals[0] > 1 else None
        return r, total, groups
    return None


def _build_grouped(seg: Segment, label: str, unit: str) -> AllocationTable | None:
    found = _grouped_header(seg.rows)
    if found is None:
        return None
    start, total_col, groups = found
    rows = seg.rows
    table = AllocationTable(
        label=label,
        title=seg.title,
        unit=unit,
        source=rows[start - 1].source.spanning(rows[-1].source),
        footer=Footer(),
        columns=[g.name for g in groups],
    )
    for row in rows[start + 1 :]:
        cells = row.cells
        if not [c for c in cells if not c.is_blank]:
            continue
        name = cells[0]
        if total_col is not None:
            line = FundLine(label_key(name.text), name)
            line.values["金额"] = _field("金额", _at(row, total_col), unit, money=True)
        else:
            line = FundLine(label_key(name.text), name)
        for group in groups:
            sub = FundLine(group.name, group.label_cell)
            sub.values["金额"] = _field("金额", _at(row, group.subtotal), unit, money=True)
            for column, heading in group.parts:
                part = FundLine(label_key(heading.text), heading)
                part.values["金额"] = _field("金额", _at(row, column), unit, money=True)
                sub.parts.append(part)
            line.parts.append(sub)
        table.grouped.append(line)
    return table


_COUNT_HEADS = ("人数", "数量", "个数", "户数", "受助人数", "学生数", "村数")
_RATE_HEADS = ("标准", "单价", "补助标准", "补贴标准", "单位标准")
_RATE_UNIT = re.compile(r"[（(](万元|元|千元)(?:/[^)）]*)?[)）]")


def _extra_columns(header: Row) -> tuple[int | None, int | None, str]:
    """(count column, rate column, the rate's money unit) of a detail header, where present."""
    count = rate = None
    rate_unit = ""
    for c, cell in enumerate(header.cells):
        key = squash(cell.text)
        if count is None and key.startswith(_COUNT_HEADS):
            count = c
        elif rate is None and key.startswith(_RATE_HEADS):
            rate = c
            match = _RATE_UNIT.search(key)
            rate_unit = match.group(1) if match else ""
    return count, rate, rate_unit


def read_lines(
    rows: list[Row], start: int, name_col: int, amount_col: int, unit: str
) -> tuple[list[AllocationLine], Field | None, bool]:
    """Detail lines under the header at ``start`` and their 合计; the bool says it was cut off.

    A full row is read by column (so an amount such as 15 is not taken for a 序号); a table
    copied one cell per paragraph is read as records that start at a sequence number.
    """
    header = rows[start]
    unit = label_unit(header.cells[amount_col].text) or unit
    count_col, rate_col, rate_unit = _extra_columns(header)
    header_width = len([c for c in header.cells if not c.is_blank])
    lines: list[AllocationLine] = []
    record: list[Cell] = []

    def flush() -> None:
        if not record:
            return
        body = record[1:] if _is_sequence(record[0].text) else record
        amounts = [c for c in body if parse_money(c.stripped, unit) is not None]
        names = [c for c in body if c not in amounts]
        if amounts:
            name = names[0] if names else record[0]
            lines.append(AllocationLine(name, {"金额": _field("金额", amounts[-1], unit, money=True)}, len(lines) + 1))
        record.clear()

    for row in rows[start + 1 :]:
        cells = row.nonblank()
        if not cells:
            continue
        if label_key(cells[0].text) in ("合计", "总计"):
            flush()
            full = len(row.cells) >= len(header.cells)
            value = _at(row, amount_col) if full else (cells[-1] if len(cells) > 1 else Cell("", cells[0].source))
            return lines, _field("合计", value, unit, money=True), False
        if len(row.cells) >= len(header.cells) and len(cells) >= header_width - 1:
            flush()
            line = AllocationLine(
                _at(row, name_col), {"金额": _field("金额", _at(row, amount_col), unit, money=True)}, len(lines) + 1
            )
            if count_col is not None:
                line.count = Field("数量", _at(row, count_col))
            if rate_col is not None:
                line.rate = _field("单价", _at(row, rate_col), rate_unit or unit, money=True)
            lines.append(line)
            continue
        if _is_sequence(cells[0].text) and record:
            flush()
        record.extend(cells)
    flush()
    return lines, None, True


def build_allocation(seg: Segment, label: str) -> AllocationTable:
    rows = seg.rows
    unit = _unit_of(rows)
    found = _allocation_header(rows)
    if found is None:
        grouped = _build_grouped(seg, label, unit)
        assert grouped is not None
        return grouped
    start, name_col, amount_col = found
    table = AllocationTable(
        label=label,
        title=seg.title,
        unit=unit,
        source=rows[start].source.spanning(rows[-1].source),
        footer=Footer(),
        columns=["金额"],
    )
    table.lines, total, cut = read_lines(rows, start, name_col, amount_col, unit)
    if total is not None:
        table.total["金额"] = total
    if cut:
        table.missing.append("合计（表格在此截断）")
        table.cut_after = _last_source(rows)
        table.partial.append("明细")
    return table


# --- entry point -------------------------------------------------------------------------------


def recognise(grid: Grid) -> list[Table]:
    """Every table of the other templates in ``grid``, in file order."""
    out: list[Table] = []
    for seg in split_segments(grid):
        kind = classify(seg)
        n = len(out) + 1
        if kind == "evaluation":
            out.append(build_project(seg, _label_for(seg, n), evaluation=True))
        elif kind == "project":
            out.append(build_project(seg, _label_for(seg, n), evaluation=False))
        elif kind == "list":
            out.append(build_list(seg, _label_for(seg, n)))
        elif kind == "allocation":
            out.append(build_allocation(seg, _label_for(seg, n)))
    return out


def describe_tables(grid: Grid) -> list[str]:
    """Short descriptions of the table-like runs of ``grid`` (rows of two or more cells)."""
    seen: list[str] = []
    run: list[Row] = []
    for row in [*grid.rows, Row([])]:
        if len(row.nonblank()) >= 2:
            run.append(row)
            continue
        if run:
            first = "｜".join(c.stripped for c in run[0].nonblank())
            seen.append(f"{run[0].source.place or '开头'}“{first[:30]}”")
            run = []
    return seen
