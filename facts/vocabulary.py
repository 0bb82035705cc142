"""The Datalog fact vocabulary, and the translation of a :class:`Filing` into facts.

Facts are plain tuples ``(predicate, args...)``; only :mod:`hegui.engine.datalog` hands them
to pyDatalog. Every fact about a value has its source recorded in a :class:`Provenance`
index, so findings and explanations can point at the line or cell it came from.

``docs/facts.md`` is generated from :data:`PREDICATES` and :data:`ENTITY_KINDS`
(``hegui facts-doc``); a test keeps it current.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from hegui.facts.claims import (
    CountClaim,
    RateClaim,
    RateCountClaim,
    RatioClaim,
    component_amounts,
    extract_claims,
)
from hegui.facts.model import (
    AllocationLine,
    AllocationTable,
    Cell,
    Direction,
    Field,
    Filing,
    FundLine,
    Indicator,
    Overview,
    ProjectList,
    ProjectTable,
    Source,
    Summary,
    Table,
)
from hegui.facts.review import load_terms, review_facts
from hegui.facts.units import COUNTER_SYNONYMS, MONEY_SCALES
from hegui.facts.values import parse_number, squash

FILING = "申报"  # the entity that stands for the filing as a whole
WHOLE = "全文"  # the scope that contains every claim

#: predicate → (argument names, meaning). The engine asserts exactly these.
PREDICATES: dict[str, tuple[tuple[str, ...], str]] = {
    "entity": (
        ("E", "Kind"),
        "E 是一个 Kind 类的对象（附件1、附件2、附件3、项目表、资金行、执行行、明细表、项目清单、汇总行、明细、指标、测算项、测算式、计数、费率、比例、申报）。",
    ),
    "amount": (("E", "Field", "Yuan"), "E 的金额字段 Field，以元为单位的精确 Decimal。"),
    "number": (("E", "Field", "N"), "E 的数值字段 Field（人数、序号、年份、百分数等），Decimal。"),
    "text": (("E", "Field", "Text"), "E 的文字字段 Field，已去除空白。"),
    "missing": (("E", "Field"), "E 有 Field 这一栏，但未填写（空白不当作零）。"),
    "rel": (("E", "Relation", "Target"), "E 与 Target 的关系：所属（上级对象）、所属表、对应附件3、对应汇总行。"),
    "count": (("C", "Key", "N"), "计数陈述 C 说某类对象（Key 为对象类别或量词，如 行政村 或 人）有 N 个。"),
    "within": (("C", "Scope"), "陈述 C 出现在 Scope 之内：所在对象、所在表，或“全文”。"),
    "param": (("Key", "Value"), "参数 Key 在本申报预算年度的取值（由规则包按有效期选定）。"),
    "matches": (("E", "Field", "Needle"), "E 的文字字段 Field 含有规则中写明的词 Needle（引擎在评估前计算）。"),
    "in_jurisdiction": (
        ("J",),
        "申报属于地区 J 或其下级（申报的地区链：区 → 市 → 省 → 全国）；规则包只对其地区链中的申报适用。",
    ),
    "reference": (("Name", "Value"), "申报所属地区的参考数据（如行政村个数），由插件注册，就近的地区优先。"),
    "unreadable": (
        ("Location", "Why"),
        "Location 处的单元格有内容但读不出值（如公式没有保存计算结果）；该值同时记为 missing，不当作零。",
    ),
    "unreadable_field": (
        ("E", "Field"),
        "E 的字段 Field 读不出值；含有它的求和无法核实，而不是把它当作零。Field 为对象类别（如 指标）时，"
        "表示 E 的这类下级对象因表格截断而未读全，对它们的求和无法核实。",
    ),
}

#: entity kind → fields by type. Rules may only name these fields; the compiler checks.
ENTITY_KINDS: dict[str, dict[str, tuple[str, ...]]] = {
    FILING: {"number": ("年度",), "text": ("部门",)},
    "附件1": {
        "amount": (
            "资金总额",
            "一般公共预算拨款",
            "政府性基金拨款",
            "国有资本经营预算拨款",
            "财政专户管理资金",
            "单位资金",
            "其他资金",
            "基本支出",
            "项目支出",
        ),
        "text": ("部门名称", "部门职责概述", "单位负责人", "填表人", "联系电话"),
    },
    "附件2": {"amount": ("合计",), "text": ("部门名称", "单位负责人", "填表人", "联系电话")},
    "汇总行": {"amount": ("金额",), "number": ("序号",), "text": ("名称", "实施期绩效目标", "年度绩效目标")},
    "附件3": {
        "amount": ("项目金额", "明细合计"),
        "number": ("序号", "项目实施期"),
        "text": (
            "名称",
            "所属专项",
            "项目实施期",
            "实施期绩效目标",
            "年度绩效目标",
            "部门名称",
            "单位负责人",
            "填表人",
            "联系电话",
        ),
    },
    "明细": {
        "amount": ("金额", "单价"),
        "number": ("序号", "数量"),
        "text": ("支出内容简介", "支出明细", "测算说明"),
    },
    "指标": {
        "amount": ("指标金额",),
        "number": ("指标数值", "年", "月", "分值", "得分"),
        "text": (
            "一级指标",
            "二级指标",
            "指标类别",
            "三级指标",
            "指标值",
            "比较符",
            "单位",
            "值类型",
            "绩效标准",
            "指标性质",
            "度量单位",
            "完成值",
            "指标方向性",
            "指标块",
        ),
    },
    "测算项": {"amount": ("金额",), "text": ("名称",)},
    "测算式": {"amount": ("乘积", "声明金额", "单价"), "number": ("数量",), "text": ("计量单位", "原文")},
    "计数": {"number": ("数量",), "text": ("对象", "量词", "原文")},
    "费率": {"amount": ("单价", "年度金额"), "number": ("人数",), "text": ("计量单位", "名称", "原文")},
    "比例": {"number": ("左项", "右项"), "text": ("名称", "比较符", "原文")},
    "项目表": {
        "amount": ("资金总额", "当年度金额", "明细合计"),
        "number": ("指标总分值", "预算执行分值", "预算执行得分", "总分值", "总得分"),
        "text": ("表类", "项目名称", "主管部门", "实施单位", "项目属性", "实施期", "总体目标", "年度目标", "立项依据"),
    },
    "资金行": {"amount": ("金额",), "text": ("名称", "层级", "有分项金额")},
    "执行行": {
        "amount": ("年初预算数", "全年预算数", "全年执行数"),
        "number": ("执行率", "执行率容差"),
        "text": ("名称", "层级", "执行率", "有分项金额"),
    },
    "明细表": {"amount": ("合计",), "text": ("名称",)},
    "项目清单": {"amount": ("合计",), "text": ("名称",)},
}
TABLE_KINDS = ("附件1", "附件2", "附件3")
#: Tables of other templates. Sums ``over`` them follow 所属 (the projects of one list), unlike
#: TABLE_KINDS, whose sums take every such table of the filing.
OTHER_TABLE_KINDS = ("项目表", "明细表", "项目清单")
RELATIONS = ("所属", "所属表", "对应附件3", "对应汇总行")

#: 二级指标 as written → the category of the national indicator framework.
INDICATOR_CATEGORIES = {
    "数量": "数量指标",
    "质量": "质量指标",
    "时效": "时效指标",
    "成本": "成本指标",
    "经济效益": "经济效益指标",
    "社会效益": "社会效益指标",
    "生态效益": "生态效益指标",
    "可持续影响": "可持续影响指标",
    "满意度": "满意度指标",
}


def indicator_category(level2: str) -> str:
    """Canonical category for a 二级指标 such as 产出数量 or 社会公众及服务对象满意度."""
    text = squash(level2)
    for key, category in INDICATOR_CATEGORIES.items():
        if key in text:
            return category
    return text


@dataclass
class Provenance:
    """Where each entity and each of its values came from, and how to show it."""

    entity_source: dict[str, Source] = field(default_factory=dict)
    value_source: dict[tuple[str, str], Source] = field(default_factory=dict)
    raw_text: dict[tuple[str, str], str] = field(default_factory=dict)
    table_of: dict[str, str] = field(default_factory=dict)
    item_of: dict[str, str] = field(default_factory=dict)
    kind_of: dict[str, str] = field(default_factory=dict)
    related: dict[tuple[str, str], str] = field(default_factory=dict)
    positions: dict[str, int] = field(default_factory=dict)  # source text → reading order
    #: table → what of it could not be read (cut off, cells lost), for "cannot verify" messages
    cut_off: dict[str, str] = field(default_factory=dict)

    def position(self, location: str) -> int:
        """Reading order of a location, so findings sort by position whatever the address form."""
        return self.positions.get(location, len(self.positions))

    def remember(self, source: Source | None) -> None:
        if source is not None:
            self.positions.setdefault(str(source), len(self.positions))

    def follow(self, entity: str, relation: str) -> str | None:
        """The entity reached from ``entity`` by ``relation`` (所属, 所属表, 对应附件3 …) or a table kind."""
        if not relation:
            return entity
        if (entity, relation) in self.related:
            return self.related[(entity, relation)]
        matches = sorted(e for e, k in self.kind_of.items() if k == relation)
        return matches[0] if len(matches) == 1 else None

    def source(self, entity: str, field_name: str | None = None) -> Source | None:
        if field_name is not None and (entity, field_name) in self.value_source:
            return self.value_source[(entity, field_name)]
        return self.entity_source.get(entity)


@dataclass
class FactSet:
    """A filing's facts and where each value came from.

    ``raw`` holds the facts once each, in the order the builder produced them (deterministic,
    since the traversal is); ``facts`` is the same facts in a canonical sorted order, computed
    on first use only: sorting stringifies every fact, and checking a filing never needs it.
    """

    raw: list[tuple] = field(default_factory=list)
    provenance: Provenance = field(default_factory=Provenance)
    _sorted: list[tuple] | None = field(default=None, repr=False, compare=False)

    @property
    def facts(self) -> list[tuple]:
        """Every fact, sorted by (type name, text) of each argument: for display and explanations."""
        if self._sorted is None:
            self._sorted = sorted(self.raw, key=_fact_key)
        return self._sorted


class _Builder:
    def __init__(self, filing: Filing) -> None:
        self.lost: dict[str, list[str]] = {}  # table → rows whose cells a copy lost
        self.unique: dict[tuple, None] = {}  # the facts built, once each (set by build)
        self.filing = filing
        self.out = FactSet()
        self.prov = self.out.provenance
        self.containing_table: dict[str, str] = {}
        # Facts go straight onto the list: a method per fact cost a Python call for each of about
        # 1,600 per filing (7 % of building them); only a rel also updates the provenance (rel).
        self.fact = self.out.raw.append
        self.units: dict[str, str] = {}  # table label → its unit (the first table of a label wins)
        for t in filing.tables():
            self.units.setdefault(t.label, t.unit)

    def rel(self, entity: str, relation: str, target: str) -> None:
        self.fact(("rel", entity, relation, target))
        self.prov.related[(entity, relation)] = target

    # -- primitives ---------------------------------------------------------------------------
    def entity(
        self, eid: str, kind: str, source: Source | None, table: str, item: str, parent: str | None = None
    ) -> None:
        self.fact(("entity", eid, kind))
        self.prov.kind_of[eid] = kind
        self.prov.remember(source)
        if source is not None:
            self.prov.entity_source[eid] = source
        self.prov.table_of[eid] = table
        self.prov.item_of[eid] = item
        if parent is not None:
            self.rel(eid, "所属", parent)
            parent_kind = self.prov.kind_of.get(parent)
            is_table = parent_kind in TABLE_KINDS or parent_kind in OTHER_TABLE_KINDS
            parent_table = parent if is_table else self.containing_table.get(parent)
            if parent_table:
                self.containing_table[eid] = parent_table
                self.rel(eid, "所属表", parent_table)

    def unreadable(self, eid: str, name: str, cell: Cell | None) -> None:
        if cell is not None and cell.problem:
            where = str(cell.source)
            self.fact(("unreadable", where, f"{name}：{cell.problem}"))
            self.fact(("unreadable_field", eid, name))
            self.prov.entity_source[where] = cell.source
            self.prov.table_of[where] = self.prov.table_of.get(eid, "")
            self.prov.item_of[where] = self.prov.item_of.get(eid, eid)

    def field(self, eid: str, name: str, fld: Field | None, *, money: bool) -> None:
        if fld is None:
            return
        if fld.cell is not None and fld.cell.problem:
            self.unreadable(eid, name, fld.cell)
        src = fld.source
        self.prov.remember(src)
        if src is not None:
            self.prov.value_source[(eid, name)] = src
            self.prov.raw_text[(eid, name)] = fld.text
        if money:
            if fld.money is not None:
                self.fact(("amount", eid, name, fld.money.yuan))
            elif not fld.text:
                self.fact(("missing", eid, name))
            else:
                # Text where an amount belongs is kept as text so a rule can report it.
                self.fact(("text", eid, name, squash(fld.text)))
        elif fld.text:
            self.fact(("text", eid, name, squash(fld.text)))
        else:
            self.fact(("missing", eid, name))

    def text(self, eid: str, name: str, cell: Cell | None, *, claims_table: str | None = None) -> None:
        if cell is None:
            return
        self.prov.value_source[(eid, name)] = cell.source
        self.prov.remember(cell.source)
        self.prov.raw_text[(eid, name)] = cell.text
        if cell.problem:
            self.unreadable(eid, name, cell)
        compact = squash(cell.text)
        if not compact:  # blank: squash and strip drop the same characters
            self.fact(("missing", eid, name))
            return
        self.fact(("text", eid, name, compact))
        if claims_table is not None:
            self.claims(eid, name, cell, claims_table)

    def number(self, eid: str, name: str, value: Decimal | int | None, source: Source | None) -> None:
        if value is None:
            return
        self.fact(("number", eid, name, Decimal(value)))
        if source is not None:
            self.prov.value_source[(eid, name)] = source

    # -- claims ---------------------------------------------------------------------------------
    def claims(self, owner: str, field_name: str, cell: Cell, table: str, *, components: bool = False) -> list:
        found = _claims(cell.text, cell.source, self._unit(table))
        for index, claim in enumerate(found, start=1):
            cid = f"{owner}/{field_name}#{index}"
            if isinstance(claim, CountClaim):
                self._count(cid, claim, owner, table)
            elif isinstance(claim, RateCountClaim):
                self.entity(cid, "测算式", claim.source, table, claim.text, owner)
                self.fact(("amount", cid, "乘积", claim.product_yuan))
                self.fact(("amount", cid, "单价", claim.rate.yuan))
                self.fact(("number", cid, "数量", claim.count))
                self.fact(("text", cid, "计量单位", claim.per))
                self.fact(("text", cid, "原文", squash(claim.text)))
                if claim.stated is not None:
                    self.fact(("amount", cid, "声明金额", claim.stated.yuan))
                self._within(cid, owner, table)
            elif isinstance(claim, RateClaim):
                self.entity(cid, "费率", claim.source, table, claim.text, owner)
                self.fact(("amount", cid, "单价", claim.money.yuan))
                self.fact(("text", cid, "计量单位", "/".join(claim.per)))
                self.fact(("text", cid, "名称", squash(claim.label) or "-"))
                self.fact(("text", cid, "原文", squash(claim.text)))
                if claim.headcount is not None:
                    self.fact(("number", cid, "人数", claim.headcount))
                    # A tier stated with its headcount is a rate × count: its yearly total.
                    months = {("月",): 12, ("人", "月"): 12, ("年",): 1, ("人", "年"): 1}.get(tuple(claim.per))
                    if months is not None:
                        self.fact(("amount", cid, "年度金额", claim.money.yuan * claim.headcount * months))
                self._within(cid, owner, table)
            elif isinstance(claim, RatioClaim):
                self.entity(cid, "比例", claim.source, table, claim.text, owner)
                self.fact(("number", cid, "左项", claim.left))
                self.fact(("number", cid, "右项", claim.right))
                self.fact(("text", cid, "名称", squash(claim.label) or "-"))
                self.fact(("text", cid, "比较符", claim.comparator or "="))
                self.fact(("text", cid, "原文", squash(claim.text)))
                self._within(cid, owner, table)
            self.prov.value_source[(cid, "原文")] = claim.source
            self.prov.raw_text[(cid, "原文")] = claim.text
        return list(found)

    def _count(self, cid: str, claim: CountClaim, owner: str, table: str) -> None:
        self.entity(cid, "计数", claim.source, table, claim.text, owner)
        self.fact(("number", cid, "数量", claim.number))
        counter = COUNTER_SYNONYMS.get(claim.counter, claim.counter)
        self.fact(("text", cid, "量词", counter))
        self.fact(("text", cid, "原文", squash(claim.text)))
        keys = {counter}
        if claim.entity:
            keys.add(claim.entity)
            self.fact(("text", cid, "对象", claim.entity))
        for key in sorted(keys):
            self.fact(("count", cid, key, claim.number))
        self._within(cid, owner, table)

    def _within(self, cid: str, owner: str, table: str) -> None:
        self.fact(("within", cid, owner))
        if table != owner:
            self.fact(("within", cid, table))
        self.fact(("within", cid, WHOLE))

    def _unit(self, table: str) -> str:
        return self.units.get(table, "万元")

    def components(self, line: str, cell: Cell, table: str, fallback: Cell | None) -> None:
        """测算项 of a detail line: what its 测算说明 says the amount is made of."""
        found = _claims(cell.text, cell.source, self._unit(table))
        parts = component_amounts(found)
        if not parts and fallback is not None and not fallback.is_blank and squash(fallback.text) != squash(cell.text):
            parts = component_amounts(_claims(fallback.text, fallback.source, self._unit(table)))
        for index, part in enumerate(parts, start=1):
            pid = f"{line}/测算项{index}"
            self.entity(pid, "测算项", part.source, table, part.label or part.claim.text, line)
            self.fact(("amount", pid, "金额", part.money.yuan))
            self.fact(("text", pid, "名称", squash(part.label) or "-"))
            self.prov.value_source[(pid, "金额")] = part.source
            self.prov.raw_text[(pid, "金额")] = part.claim.text

    # -- tables --------------------------------------------------------------------------------
    def footer(self, eid: str, table) -> None:
        f = table.footer
        self.field(eid, "单位负责人", f.signatory, money=False) if f.signatory else None
        self.field(eid, "填表人", f.preparer, money=False) if f.preparer else None
        self.field(eid, "联系电话", f.phone, money=False) if f.phone else None

    def indicators(self, table_id: str, indicators: Iterable[Indicator]) -> None:
        for n, ind in enumerate(indicators, start=1):
            iid = f"{table_id}/指标{n}"
            self.entity(
                iid,
                "指标",
                ind.row_source or ind.value.source,
                table_id,
                squash(ind.level3.text) or squash(ind.level2.text),
                table_id,
            )
            self.text(iid, "一级指标", ind.level1)
            self.text(iid, "二级指标", ind.level2)
            self.fact(("text", iid, "指标类别", indicator_category(ind.level2.text)))
            self.text(iid, "三级指标", ind.level3, claims_table=table_id)
            self.text(iid, "指标值", ind.value, claims_table=table_id)
            if ind.standard is not None:
                self.text(iid, "绩效标准", ind.standard)
            p = ind.parsed
            self.fact(("text", iid, "值类型", p.kind))
            if p.comparator:
                self.fact(("text", iid, "比较符", p.comparator))
            if p.unit:
                self.fact(("text", iid, "单位", COUNTER_SYNONYMS.get(p.unit, p.unit)))
            src = ind.value.source
            if p.kind == "number" and p.number is not None:
                self.number(iid, "指标数值", p.number, src)
                if p.unit in ("万元", "元", "千元", "亿元"):
                    self.fact(("amount", iid, "指标金额", p.number * MONEY_SCALES[p.unit]))
                    self.prov.value_source[(iid, "指标金额")] = src
            if p.kind == "date":
                self.number(iid, "年", p.year, src)
                self.number(iid, "月", p.month, src)
            self.scored(iid, ind)

    def scored(self, iid: str, ind: Indicator) -> None:
        """Columns of the 项目支出 templates: 指标性质, 度量单位, 分值, 得分, 完成值 …"""
        for name, cell in (
            ("指标性质", ind.nature),
            ("度量单位", ind.measure),
            ("完成值", ind.actual),
            ("指标方向性", ind.direction),
        ):
            if cell is not None:
                self.text(iid, name, cell)
        for name, fld in (("分值", ind.weight), ("得分", ind.score)):
            self.points(iid, name, fld)
        if ind.block:
            self.fact(("text", iid, "指标块", ind.block))

    def points(self, eid: str, name: str, fld: Field | None) -> None:
        """A weight or score: a number; "/" or blank is missing, other text stays text."""
        if fld is None or fld.cell is None:
            return
        cell = fld.cell
        self.prov.value_source[(eid, name)] = cell.source
        self.prov.raw_text[(eid, name)] = cell.text
        self.prov.remember(cell.source)
        if cell.problem:
            # Not known (cells lost in a copy): missing, and any sum over it cannot be verified.
            self.fact(("missing", eid, name))
            self.fact(("unreadable_field", eid, name))
            table = self.prov.table_of.get(eid, eid)
            place = cell.source.place or str(cell.source)
            self.lost.setdefault(table, [])
            if place not in self.lost[table]:
                self.lost[table].append(place)
            return
        value = parse_number(cell.stripped) if cell.stripped else None
        if value is not None:
            self.fact(("number", eid, name, value))
        elif cell.stripped in ("", "/", "-", "—", "／"):
            self.fact(("missing", eid, name))
        else:
            self.fact(("text", eid, name, squash(cell.text)))

    def overview(self, t: Overview) -> None:
        tid = t.label
        self.entity(tid, "附件1", t.source, tid, squash(t.department.text) if t.department else tid)
        self.field(tid, "部门名称", t.department, money=False)
        self.field(tid, "资金总额", t.total, money=True) if t.total else self.fact(("missing", tid, "资金总额"))
        for f in t.income + t.expense:
            self.field(tid, f.label, f, money=True)
        self.text(tid, "部门职责概述", t.duties)
        for n, plan in enumerate(t.work_plans, start=1):
            # Work plans are prose about the same entities the tables count.
            self.claims(tid, f"工作计划{n}", plan.goal, tid)
        self.indicators(tid, t.indicators)
        self.footer(tid, t)
        self.cut(tid, t)

    def summary(self, t: Summary) -> None:
        tid = t.label
        self.entity(tid, "附件2", t.source, tid, "专项资金预算绩效目标汇总表")
        self.field(tid, "部门名称", t.department, money=False)
        self.field(tid, "合计", t.total, money=True) if t.total else self.fact(("missing", tid, "合计"))
        for row in t.rows:
            rid = f"{tid}/{row.seq}"
            self.entity(rid, "汇总行", row.name.source, tid, squash(row.name.text) or f"第{row.seq}行", tid)
            self.number(rid, "序号", row.seq, row.seq_cell.source)
            self.text(rid, "名称", row.name)
            self.field(rid, "金额", row.amount, money=True)
            self.text(rid, "实施期绩效目标", row.period_goal, claims_table=tid)
            self.text(rid, "年度绩效目标", row.annual_goal, claims_table=tid)
        self.footer(tid, t)
        self.cut(tid, t)

    def direction(self, t: Direction) -> None:
        tid = t.label
        # A blank name still needs a label a reviewer can find: the 附件 number.
        name = (squash(t.name.text) if t.name else "") or tid
        self.entity(tid, "附件3", t.source, tid, name)
        self.number(tid, "序号", t.seq, t.source)
        self.field(tid, "名称", t.name, money=False)
        self.field(tid, "所属专项", t.parent_fund, money=False)
        self.field(tid, "部门名称", t.department, money=False)
        self.field(tid, "项目金额", t.amount, money=True) if t.amount else self.fact(("missing", tid, "项目金额"))
        if t.period is not None:
            # 项目实施期 is text (2023, 2023-2025, 长期 …); its last year, when it has one, is also a number.
            self.field(tid, "项目实施期", t.period, money=False)
            years = re.findall(r"\d{4}", t.period.text)
            if years:
                self.number(tid, "项目实施期", Decimal(years[-1]), t.period.source)
        self.text(tid, "实施期绩效目标", t.period_goal, claims_table=tid)
        self.text(tid, "年度绩效目标", t.annual_goal, claims_table=tid)
        self.indicators(tid, t.indicators)
        for d in t.details:
            did = f"{tid}/明细{d.index}"
            self.entity(
                did,
                "明细",
                d.amount.source or d.intro.source,
                tid,
                squash(d.intro.text) or squash(d.detail.text) or f"第{d.index}行",
                tid,
            )
            self.number(did, "序号", d.index, d.intro.source)
            self.text(did, "支出内容简介", d.intro)
            self.text(did, "支出明细", d.detail)
            self.text(did, "测算说明", d.basis, claims_table=tid)
            self.field(did, "金额", d.amount, money=True)
            self.components(did, d.basis, tid, d.detail)
        if t.detail_total is not None:
            self.field(tid, "明细合计", t.detail_total, money=True)
        self.footer(tid, t)
        self.cut(tid, t)

    # -- tables of other templates ------------------------------------------------------------
    def cut(self, eid: str, table: Table) -> None:
        """Record what a cut-off table lacks; sums over its partly read rows are then unverifiable."""
        if not table.missing:
            return
        after = table.cut_after
        where = f"表格在{after.place or after}之后截断" if after is not None else "文件从表格中间开始"
        self.prov.cut_off[eid] = f"{where}，未读到：{'、'.join(table.missing)}"
        for kind in table.partial:
            self.fact(("unreadable_field", eid, kind))

    def funds(self, table_id: str, line: FundLine, parent: str, n: list[int], evaluation: bool) -> str:
        n[0] += 1
        lid = f"{table_id}/资金{n[0]}"
        kind = "执行行" if evaluation else "资金行"
        self.entity(lid, kind, line.label_cell.source, table_id, line.label, parent)
        self.fact(("text", lid, "名称", line.label))
        # A line is a total when parts were read under it, or when the copy stops where they begin.
        self.fact(("text", lid, "层级", "合计" if line.parts or line.cut_off else "分项"))
        for column, fld in line.values.items():
            self.field(lid, column, fld, money=True)
            # Which columns have an amount in some part: a blank total is only wrong then.
            if any(p.values.get(column) is not None and p.values[column].money is not None for p in line.parts):
                self.fact(("text", lid, "有分项金额", column))
        if line.rate is not None and line.rate.cell is not None:
            self.rate(lid, line.rate.cell)
        for part in line.parts:
            self.funds(table_id, part, lid, n, evaluation)
        if line.cut_off:
            self.fact(("unreadable_field", lid, kind))
        return lid

    def rate(self, eid: str, cell: Cell) -> None:
        """执行率 as stated, and the rounding it allows: half a unit of its last digit."""
        text = squash(cell.text).replace("％", "%")
        self.prov.value_source[(eid, "执行率")] = cell.source
        self.prov.raw_text[(eid, "执行率")] = cell.text
        if text in ("", "/", "-", "—"):
            self.fact(("missing", eid, "执行率"))
            return
        digits = re.fullmatch(r"(\d+)(?:\.(\d+))?%?", text)
        if digits:
            # The rounding the written digits allow, whether or not the value is usable.
            decimals = len(digits.group(2) or "")
            self.fact(("number", eid, "执行率容差", Decimal(5) / (Decimal(10) ** (decimals + 1))))
            self.prov.value_source[(eid, "执行率容差")] = cell.source
        if digits and text.endswith("%"):
            self.fact(("number", eid, "执行率", Decimal(text[:-1])))
        else:
            # A bare number under 执行率 (a copy that lost a cell) is not read as a percentage.
            self.fact(("text", eid, "执行率", text))

    def project(self, t: ProjectTable, parent: str | None = None) -> None:
        tid = t.label
        name = squash(t.name.text) if t.name is not None and t.name.text else tid
        self.entity(tid, "项目表", t.source, tid, name, parent)
        self.fact(("text", tid, "表类", "自评表" if t.evaluation else "目标表"))
        for label, fld in (
            ("项目名称", t.name),
            ("主管部门", t.department),
            ("实施单位", t.implementer),
            ("项目属性", t.attribute),
            ("实施期", t.period),
        ):
            self.field(tid, label, fld, money=False)
        self.text(tid, "总体目标", t.long_goal, claims_table=tid)
        self.text(tid, "年度目标", t.annual_goal, claims_table=tid)
        self.text(tid, "立项依据", t.basis)
        if t.funds is not None:
            self.funds(tid, t.funds, tid, [0], t.evaluation)
            if not t.evaluation and "金额" in t.funds.values:
                self.field(tid, "资金总额", t.funds.values["金额"], money=True)
        if t.annual_amount is not None:
            self.field(tid, "当年度金额", t.annual_amount, money=True)
        for label, fld in (
            ("指标总分值", t.indicator_points),
            ("预算执行分值", t.budget_points),
            ("预算执行得分", t.budget_score),
            ("总分值", t.total_points),
            ("总得分", t.total_score),
        ):
            self.points(tid, label, fld)
        self.indicators(tid, t.indicators)
        self.detail_lines(tid, t.details)
        if t.detail_total is not None:
            self.field(tid, "明细合计", t.detail_total, money=True)
        self.cut(tid, t)

    def allocation(self, t: AllocationTable) -> None:
        tid = t.label
        self.entity(tid, "明细表", t.source, tid, squash(t.title.text) if t.title else tid)
        if t.title is not None:
            self.text(tid, "名称", t.title)
        self.detail_lines(tid, t.lines)
        if "金额" in t.total:
            self.field(tid, "合计", t.total["金额"], money=True)
        counter = [0]
        for line in t.grouped:
            self.funds(tid, line, tid, counter, False)
        self.cut(tid, t)

    def detail_lines(self, tid: str, lines: list[AllocationLine]) -> None:
        for line in lines:
            did = f"{tid}/明细{line.index}"
            amount = line.amounts.get("金额")
            self.entity(did, "明细", amount.source if amount else line.name.source, tid, squash(line.name.text), tid)
            self.number(did, "序号", line.index, line.name.source)
            self.text(did, "支出内容简介", line.name)
            self.field(did, "金额", amount, money=True)
            self.points(did, "数量", line.count)
            if line.rate is not None:
                self.field(did, "单价", line.rate, money=True)

    def project_list(self, t: ProjectList) -> None:
        tid = t.label
        self.entity(tid, "项目清单", t.source, tid, squash(t.title.text) if t.title else tid)
        self.field(tid, "合计", t.total, money=True)
        for project in t.projects:
            self.project(project, tid)
        self.cut(tid, t)

    def build(self) -> FactSet:
        f = self.filing
        self.entity(FILING, FILING, f.year_source, "", f.department)
        if f.year is not None:
            self.number(FILING, "年度", f.year, f.year_source)
        if f.department:
            self.fact(("text", FILING, "部门", f.department))
        if f.overview:
            self.overview(f.overview)
        if f.summary:
            self.summary(f.summary)
        for d in f.directions:
            self.direction(d)
        for other in f.others:
            if isinstance(other, ProjectTable):
                self.project(other)
            elif isinstance(other, AllocationTable):
                self.allocation(other)
            elif isinstance(other, ProjectList):
                self.project_list(other)
        # 附件2 row n is described by 附件3-n: the numbering, not the name, pairs them, so a
        # renamed direction is reported as a name mismatch rather than as a missing table.
        if f.summary:
            by_seq = {d.seq: d.label for d in f.directions}
            for row in f.summary.rows:
                target = by_seq.get(row.seq)
                if target:
                    rid = f"{f.summary.label}/{row.seq}"
                    self.rel(rid, "对应附件3", target)
                    self.rel(target, "对应汇总行", rid)
        for table, places in self.lost.items():
            note = f"{'、'.join(places)}复制时丢失了空白单元格，分值、得分所在的栏无法确定"
            earlier = self.prov.cut_off.get(table)
            self.prov.cut_off[table] = f"{earlier}；{note}" if earlier else note
        # No duplicates, whatever the traversal did; the order stays the traversal's (deterministic).
        self.unique = dict.fromkeys(self.out.raw)
        self.out.raw = list(self.unique)
        self.out._sorted = None
        return self.out


def _claims(text: str, source: Source, unit: str) -> tuple:
    """The claims of one cell, extracted once per (text, source, unit): claims are immutable,
    and re-checking a filing (the workbench, a why after a check, a service retry) would
    otherwise parse the same prose again, half the cost of building the facts."""
    # Keyed by the source's fields, not the Source: its dataclass __hash__ and __eq__ are
    # Python calls, and this runs for every claim cell of every filing.
    return _claims_at(text, source.file, source.line, source.end_line, source.locator, unit)


@functools.lru_cache(maxsize=4096)
def _claims_at(text: str, file: str, line: int, end_line: int, locator: str, unit: str) -> tuple:
    return tuple(extract_claims(text, Source(file, line, end_line, locator), unit))


def _fact_key(fact: tuple) -> tuple:
    return tuple((type(a).__name__, str(a)) for a in fact)


# --- what a reviewer reads in the words (hegui.facts.review) --------------------------------------
PREDICATES["observed"] = (
    ("E", "Field", "Code", "Seen", "Want"),
    "审核用语检查：E 的字段 Field 出现 Code 所指的问题（如 口号式取值、单位笔误、标题无文号）；Seen 引用申报原文，"
    "Want 说明怎样才合格。词表见 facts/review-terms.yaml。",
)
ENTITY_KINDS["明细"]["text"] += ("补贴对象",)
ENTITY_KINDS["明细"]["number"] += ("补贴岗位数",)


def filing_facts(filing: Filing) -> FactSet:
    """All facts of ``filing`` with their provenance."""
    builder = _Builder(filing)
    out = builder.build()
    plans = [c.text for w in filing.overview.work_plans for c in (w.item, w.goal)] if filing.overview else []
    # The review reads the facts in the builder's order (deterministic); the sorted view
    # stays lazy, for display only.
    extra = review_facts(out.raw, out.provenance, work_plans=plans)
    if extra:
        have = builder.unique  # the builder's facts, already hashed once to drop duplicates
        out.raw = out.raw + [f for f in dict.fromkeys(extra) if f not in have]
        out._sorted = None
    return out


def forget_texts() -> None:
    """Empty what is kept per text between filings (the claims of a cell, the review's findings in
    a text): the next filing's texts are read as if none had been seen before. Results do not
    change; a benchmark uses it to time a filing whose texts are all new, and a long-running
    process may use it to give the memory back."""
    _claims_at.cache_clear()
    load_terms().forget()


def render_facts_doc() -> str:
    """``docs/facts.md``: the predicates and the fields of every entity kind."""
    lines = [
        "# 事实词汇表 (Datalog fact vocabulary)",
        "",
        "由 `python -m hegui.facts.vocabulary > docs/facts.md` 生成，请勿手改；测试会检查它与代码一致。",
        "Generated from `hegui.facts.vocabulary`; a test keeps it in step with the code.",
        "",
        "金额一律以元为单位的精确 Decimal；空白栏目记为 `missing`，不当作零。",
        "Amounts are exact Decimals in 元; a blank field is a `missing` fact, never zero.",
        "",
        "## 谓词 Predicates",
        "",
        "| 谓词 | 参数 | 含义 |",
        "|---|---|---|",
    ]
    for name, (args, meaning) in PREDICATES.items():
        lines.append(f"| `{name}` | {', '.join(args)} | {meaning} |")
    lines += [
        "",
        "## 对象与字段 Entity kinds and fields",
        "",
        "| 对象类别 | 金额字段 (amount) | 数值字段 (number) | 文字字段 (text) |",
        "|---|---|---|---|",
    ]
    for kind, fields in ENTITY_KINDS.items():
        cols = ["、".join(fields.get(t, ())) or "—" for t in ("amount", "number", "text")]
        lines.append(f"| {kind} | {' | '.join(cols)} |")
    lines += [
        "",
        "## 关系 Relations (`rel`)",
        "",
        "- `所属`：明细、指标、汇总行属于其表；测算项、测算式、计数等陈述属于写出它的对象。",
        "- `所属表`：任何对象所在的表（附件1、附件2、附件3-x）。",
        "- `对应附件3` / `对应汇总行`：附件2第n行与附件3-n互相对应（按编号，不按名称）。",
        "",
        "## 其他模板的表 Tables of other templates",
        "",
        "项目支出绩效目标表（申报表）和绩效自评表不论模板，按栏目识别为 `项目表`（`表类` 为 目标表 或 自评表）；"
        "其资金来源是 `资金行`（目标表，字段 金额）或 `执行行`（自评表，字段 年初预算数、全年预算数〔调整后预算数〕、"
        "全年执行数、执行率），总额行的分项以 `所属` 指向总额行，财政拨款的 中央/省级/市级/本级 再指向财政拨款。"
        "`执行率` 是表上写的百分数，`执行率容差` 是其末位的半个单位（100.00% → 0.005）。指标的 `分值`/`得分` 是数，"
        "`指标总分值` 来自“绩效指标(90分)”，`预算执行分值` 来自“预算执行情况(10分)”或总额行的分值。"
        "资金分配明细表/资金安排表是 `明细表`，其行是 `明细`（有人数、标准栏时另有 `数量`、`单价`）；按“其中：X 小计/提前下达/"
        "本次下达”分栏的安排表，每行是一棵 `资金行`（总额 → 各组小计 → 各栏）。一张表列出多个项目时是 `项目清单`，"
        "各项目是其下的 `项目表`。`层级` 为 合计（有分项，或表格在分项处截断）或 分项；`有分项金额` 列出分项中有金额的栏，"
        "合计空白只在这些栏才是错。",
        "",
        "表格被截断时（复制的网页、PDF 只到一半），已读到的部分照常成为事实；`unreadable_field(E, 指标)` 之类表示 E "
        "的这类下级对象没有读全，对它们的求和报告“无法核实”，消息写明表格在哪里截断、缺少哪一部分。",
        "",
        "## 指标类别 Indicator categories (`指标类别`)",
        "",
        "二级指标按关键词归入：" + "、".join(f"{k}→{v}" for k, v in INDICATOR_CATEGORIES.items()) + "。",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover - documentation generator
    print(render_facts_doc(), end="")
