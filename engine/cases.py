"""Rule tests written as data: named pass_/fail_ cases next to each rule pack.

A pack ``village.yaml`` has its cases in ``village.cases.yaml``::

    cases:
      ZZ-ZCDY-001:
        pass_six_members_fully_funded:
          filing: {…a small filing written inline…}
        fail_six_members_underfunded:
          filing: {…}
          fail: [驻村工作队员待遇保障]        # exactly the items that must fail
          messages: ["29.76万元"]            # fragments the messages must contain
          cannot_verify: []                 # optional: items that must be cannot-verify

A case may instead name a filing file (``file: ../fixtures/x.txt``, relative to the case
file). The inline form mirrors the tables (附件1, 附件2, 附件3 …) and every value keeps the
line of the case file it was written on, so a failing case points at its own YAML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from hegui.engine.findings import STATUS_CANNOT_VERIFY, STATUS_FAIL, Finding
from hegui.engine.packfiles import case_files_under
from hegui.engine.rules import RuleProblem, RuleSet, _check_keys, _Ctx, _describe, _mapping, _suggest, load_root
from hegui.engine.strictyaml import Located, LocatedList, Mark, YamlProblem, load_text
from hegui.facts.errors import InputError
from hegui.facts.limits import check_magnitudes
from hegui.facts.model import (
    Cell,
    Direction,
    ExpenseDetail,
    Field,
    Filing,
    Footer,
    Indicator,
    Overview,
    Source,
    Summary,
    SummaryRow,
    WorkPlan,
)
from hegui.facts.read import read_filing
from hegui.facts.values import parse_indicator_value, parse_money

CASE_KEYS = {
    "filing": "内联申报",
    "file": "申报文件",
    "fail": "必须不合规的项目",
    "cannot_verify": "必须无法核实的项目",
    "messages": "消息须包含",
    "description": "说明",
}
FILING_KEYS = {
    "年度": "预算年度",
    "部门": "部门名称",
    "单位": "金额单位",
    "附件1": "部门整体支出绩效目标表",
    "附件2": "专项资金预算绩效目标汇总表",
    "附件3": "专项资金支出方向绩效目标表列表",
}
OVERVIEW_KEYS = {
    "资金总额": "",
    "一般公共预算拨款": "",
    "政府性基金拨款": "",
    "国有资本经营预算拨款": "",
    "财政专户管理资金": "",
    "单位资金": "",
    "其他资金": "",
    "基本支出": "",
    "项目支出": "",
    "部门职责概述": "",
    "重点工作": "",
    "绩效指标": "",
    "单位负责人": "",
}
SUMMARY_KEYS = {"合计": "", "行": ""}
ROW_KEYS = {"序号": "", "名称": "", "金额": "", "实施期绩效目标": "", "年度绩效目标": ""}
DIRECTION_KEYS = {
    "序号": "",
    "名称": "",
    "所属专项": "",
    "项目金额": "",
    "项目实施期": "",
    "实施期绩效目标": "",
    "年度绩效目标": "",
    "绩效指标": "",
    "支出明细": "",
    "明细合计": "",
    "单位负责人": "",
}
DETAIL_KEYS = {"支出内容简介": "", "支出明细": "", "金额": "", "测算说明": ""}
INCOME = ("一般公共预算拨款", "政府性基金拨款", "国有资本经营预算拨款", "财政专户管理资金", "单位资金", "其他资金")


@dataclass
class Case:
    rule_id: str
    name: str
    file: str
    line: int
    expect_fail: tuple[str, ...]
    expect_cannot: tuple[str, ...] | None
    messages: tuple[str, ...]
    filing: Filing | None = None
    filing_file: Path | None = None

    @property
    def kind(self) -> str:
        return "pass" if self.name.startswith("pass_") else "fail"


@dataclass
class CaseResult:
    case: Case
    ok: bool
    problems: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


class _Inline:
    """Builds a :class:`Filing` from an inline YAML mapping; problems go to ``ctx``."""

    def __init__(self, ctx: _Ctx, file: str) -> None:
        self.ctx = ctx
        self.file = file
        self.unit = "万元"

    def src(self, mark: Mark | None) -> Source:
        return Source(self.file, mark.line if mark else 0)

    def cell(self, node: Located | LocatedList, key: Any, path: str) -> Cell:
        if isinstance(node, Located):
            value, mark = node.get(key), node.value_marks.get(key, node.mark)
        else:
            value, mark = node[key], node.item_marks[key]
        if value is None:
            return Cell("", self.src(mark))
        if isinstance(value, (str, Decimal)) and not isinstance(value, bool):
            return Cell(str(value), self.src(mark))
        self.ctx.problem(mark, path, f"应为文字或数字，实际是{_describe(value)}")
        return Cell("", self.src(mark))

    def money_field(self, node: Located, key: str, path: str) -> Field | None:
        if key not in node:
            return None
        cell = self.cell(node, key, f"{path}.{key}")
        money = parse_money(cell.stripped, self.unit) if cell.stripped else None
        if cell.stripped and money is None:
            self.ctx.problem(
                node.value_marks.get(key),
                f"{path}.{key}",
                f"“{cell.stripped}”不是金额",
                "数字（按金额单位）或带单位的金额，如 20 或 20万元",
            )
        return Field(key, cell, money)

    def text_field(self, node: Located, key: str, path: str) -> Field | None:
        return Field(key, self.cell(node, key, f"{path}.{key}")) if key in node else None

    def text_cell(self, node: Located, key: str, path: str) -> Cell | None:
        return self.cell(node, key, f"{path}.{key}") if key in node else None

    def indicators(self, node: Located, path: str) -> list[Indicator]:
        raw = node.get("绩效指标")
        if raw is None:
            return []
        if not isinstance(raw, LocatedList):
            self.ctx.problem(
                node.value_marks.get("绩效指标"),
                f"{path}.绩效指标",
                "应为列表",
                "- [一级指标, 二级指标, 三级指标, 指标值, 绩效标准]",
            )
            return []
        out = []
        for index, item in enumerate(raw):
            ipath = f"{path}.绩效指标[{index}]"
            if not isinstance(item, LocatedList) or len(item) not in (4, 5):
                self.ctx.problem(
                    raw.item_marks[index],
                    ipath,
                    "每个指标写成4或5项的列表",
                    "[一级指标, 二级指标, 三级指标, 指标值, 绩效标准]",
                )
                continue
            cells = [self.cell(item, i, ipath) for i in range(len(item))]
            out.append(
                Indicator(
                    cells[0],
                    cells[1],
                    cells[2],
                    cells[3],
                    parse_indicator_value(cells[3].stripped, self.unit),
                    cells[4] if len(cells) == 5 else None,
                    self.src(raw.item_marks[index]),
                )
            )
        return out

    def listing(self, node: Located, key: str, path: str) -> list[tuple[Located, str]]:
        raw = node.get(key)
        if raw is None:
            return []
        if not isinstance(raw, LocatedList):
            self.ctx.problem(node.value_marks.get(key), f"{path}.{key}", "应为列表")
            return []
        out = []
        for index, item in enumerate(raw):
            ipath = f"{path}.{key}[{index}]"
            mapping = _mapping(self.ctx, item, raw.item_marks[index], ipath)
            if mapping is not None:
                out.append((mapping, ipath))
        return out

    def filing(self, node: Located, path: str) -> Filing:
        _check_keys(self.ctx, node, FILING_KEYS, path)
        self.unit = str(node.get("单位") or "万元")
        year = node.get("年度")
        if not isinstance(year, Decimal):
            self.ctx.problem(node.value_marks.get("年度", node.mark), f"{path}.年度", "缺少预算年度", "如 2023")
            year = None
        elif not (year == year.to_integral_value() and 1900 <= year <= 2200):
            self.ctx.problem(node.value_marks.get("年度", node.mark), f"{path}.年度", "预算年度不合理", "如 2023")
            year = None
        department = str(node.get("部门") or "")
        filing = Filing(
            self.file, int(year) if year is not None else None, self.src(node.value_marks.get("年度")), department
        )
        dept = Field("部门名称", Cell(department, self.src(node.value_marks.get("部门")))) if department else None
        if isinstance(node.get("附件1"), Located):
            o, opath = node["附件1"], f"{path}.附件1"
            _check_keys(self.ctx, o, OVERVIEW_KEYS, opath)
            table = Overview("附件1", None, self.unit, self.src(node.value_marks["附件1"]), Footer(), department=dept)
            table.total = self.money_field(o, "资金总额", opath)
            table.income = [f for f in (self.money_field(o, k, opath) for k in INCOME) if f]
            table.expense = [f for f in (self.money_field(o, k, opath) for k in ("基本支出", "项目支出")) if f]
            table.duties = self.text_cell(o, "部门职责概述", opath)
            for plan, ppath in self.listing(o, "重点工作", opath):
                table.work_plans.append(
                    WorkPlan(
                        self.cell(plan, "事项", ppath),
                        self.cell(plan, "责任单位", ppath),
                        self.cell(plan, "工作目标", ppath),
                    )
                )
            table.indicators = self.indicators(o, opath)
            table.footer = Footer(signatory=self.text_field(o, "单位负责人", opath))
            filing.overview = table
        if isinstance(node.get("附件2"), Located):
            s, spath = node["附件2"], f"{path}.附件2"
            _check_keys(self.ctx, s, SUMMARY_KEYS, spath)
            summary = Summary("附件2", None, self.unit, self.src(node.value_marks["附件2"]), Footer(), department=dept)
            summary.total = self.money_field(s, "合计", spath)
            for n, (row, rpath) in enumerate(self.listing(s, "行", spath), start=1):
                _check_keys(self.ctx, row, ROW_KEYS, rpath)
                seq = row.get("序号")
                summary.rows.append(
                    SummaryRow(
                        int(seq) if isinstance(seq, Decimal) else n,
                        self.cell(row, "序号", rpath),
                        self.cell(row, "名称", rpath),
                        self.money_field(row, "金额", rpath) or Field("金额", Cell("", self.src(row.mark))),
                        self.text_cell(row, "实施期绩效目标", rpath),
                        self.text_cell(row, "年度绩效目标", rpath),
                    )
                )
            filing.summary = summary
        for n, (d, dpath) in enumerate(self.listing(node, "附件3", path), start=1):
            _check_keys(self.ctx, d, DIRECTION_KEYS, dpath)
            seq = d.get("序号")
            seq = int(seq) if isinstance(seq, Decimal) else n
            direction = Direction(f"附件3-{seq}", None, self.unit, self.src(d.mark), Footer(), seq=seq, department=dept)
            direction.name = self.text_field(d, "名称", dpath)
            direction.parent_fund = self.text_field(d, "所属专项", dpath)
            direction.amount = self.money_field(d, "项目金额", dpath)
            direction.period = self.text_field(d, "项目实施期", dpath)
            direction.period_goal = self.text_cell(d, "实施期绩效目标", dpath)
            direction.annual_goal = self.text_cell(d, "年度绩效目标", dpath)
            direction.indicators = self.indicators(d, dpath)
            for index, (line, lpath) in enumerate(self.listing(d, "支出明细", dpath), start=1):
                _check_keys(self.ctx, line, DETAIL_KEYS, lpath)
                direction.details.append(
                    ExpenseDetail(
                        self.cell(line, "支出内容简介", lpath),
                        self.cell(line, "支出明细", lpath),
                        self.money_field(line, "金额", lpath) or Field("金额", Cell("", self.src(line.mark))),
                        self.cell(line, "测算说明", lpath),
                        index,
                    )
                )
            direction.detail_total = self.money_field(d, "明细合计", dpath)
            direction.footer = Footer(signatory=self.text_field(d, "单位负责人", dpath))
            filing.directions.append(direction)
        return filing


def _items(ctx: _Ctx, node: Located, key: str, path: str) -> tuple[str, ...] | None:
    if key not in node:
        return None
    value = node[key]
    if isinstance(value, LocatedList) and all(isinstance(v, str) for v in value):
        return tuple(value)
    ctx.problem(node.value_marks.get(key), f"{path}.{key}", f"应为文字列表，实际是{_describe(value)}", "[项目名称, …]")
    return ()


def load_case_file(path: Path, ruleset: RuleSet, problems: list[RuleProblem]) -> list[Case]:
    """The cases of one ``*.cases.yaml`` file; problems are appended as breadcrumbs."""
    ctx = _Ctx(str(path))
    root = load_root(ctx, path, "用例文件")
    cases: list[Case] = []
    if root is not None:
        _check_keys(ctx, root, {"cases": "规则测试用例"}, "")
        # An empty mapping where the file's was unusable (its problem is recorded): nothing to loop over.
        by_rule = _mapping(ctx, root.get("cases"), root.value_marks.get("cases", root.mark), "cases") or Located()
        known = [r.id for r in ruleset.rules]
        for rule_id, named in by_rule.items():
            ctx.rule_id = rule_id
            if rule_id not in known:
                ctx.problem(
                    by_rule.key_marks[rule_id],
                    f"cases.{rule_id}",
                    f"没有编号为“{rule_id}”的规则",
                    "已加载规则的编号",
                    _suggest(rule_id, known),
                )
                continue
            named = _mapping(ctx, named, by_rule.value_marks[rule_id], f"cases.{rule_id}") or Located()
            for name, spec in named.items():
                cpath = f"cases.{rule_id}.{name}"
                if not name.startswith(("pass_", "fail_")):
                    ctx.problem(named.key_marks[name], cpath, f"用例名“{name}”须以 pass_ 或 fail_ 开头")
                    continue
                spec = _mapping(ctx, spec, named.value_marks[name], cpath)
                if spec is None:
                    continue
                _check_keys(ctx, spec, CASE_KEYS, cpath)
                fail = _items(ctx, spec, "fail", cpath) or ()
                if name.startswith("fail_") and not fail and not spec.get("cannot_verify"):
                    ctx.problem(spec.mark, cpath, "fail_ 用例须在 fail 中写明哪些项目不合规")
                if name.startswith("pass_") and fail:
                    ctx.problem(spec.value_marks.get("fail"), f"{cpath}.fail", "pass_ 用例不能有不合规项目")
                case = Case(
                    rule_id,
                    name,
                    str(path),
                    named.key_marks[name].line,
                    fail,
                    _items(ctx, spec, "cannot_verify", cpath),
                    _items(ctx, spec, "messages", cpath) or (),
                )
                if ("filing" in spec) == ("file" in spec):
                    ctx.problem(spec.mark, cpath, "用例须且只须写 filing（内联申报）或 file（申报文件）之一")
                    continue
                if "filing" in spec:
                    inline = _mapping(ctx, spec["filing"], spec.value_marks["filing"], f"{cpath}.filing")
                    if inline is not None:
                        case.filing = _Inline(ctx, str(path)).filing(inline, f"{cpath}.filing")
                else:
                    case.filing_file = (path.parent / str(spec["file"])).resolve()
                cases.append(case)
    problems.extend(ctx.problems)
    return cases


def case_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            files.extend(case_files_under(path))
        elif path.name.endswith(".cases.yaml"):
            files.append(path)
    return files


def run_case(case: Case, evaluator) -> CaseResult:
    """Check the case's filing with the whole rule set and compare the rule's findings."""
    try:
        if case.filing is not None:
            filing = case.filing
        elif case.filing_file is not None:
            filing = read_filing(case.filing_file)
        else:  # the loader gives every case one or the other
            return CaseResult(case, False, ["用例没有申报（filing 或 filing_file）"])
    except InputError as exc:
        return CaseResult(case, False, [f"无法读取申报：{exc}"])
    # A case filing that names no department belongs to the rule's own jurisdiction, so a
    # district's case exercises its rule together with the city, province and national ones.
    rule = evaluator.ruleset.by_id(case.rule_id)
    district = None if filing.department or rule is None else rule.jurisdiction
    findings = [f for f in evaluator.check(filing, district=district).findings if f.rule_id == case.rule_id]
    failed = sorted({f.item for f in findings if f.status == STATUS_FAIL})
    cannot = sorted({f.item for f in findings if f.status == STATUS_CANNOT_VERIFY})
    problems = []
    if failed != sorted(set(case.expect_fail)):
        problems.append(f"不合规项目应为 {sorted(set(case.expect_fail))}，实际为 {failed}")
    if case.expect_cannot is not None and cannot != sorted(set(case.expect_cannot)):
        problems.append(f"无法核实项目应为 {sorted(set(case.expect_cannot))}，实际为 {cannot}")
    for fragment in case.messages:
        if not any(fragment in f.message for f in findings):
            problems.append(f"消息中应含“{fragment}”，实际消息：{[f.message for f in findings] or '（无）'}")
    return CaseResult(case, not problems, problems, findings)


def inline_filing_from_text(text: str, name: str = "filing.json") -> Filing:
    """A filing written in the inline form (YAML or JSON text), as used by the HTTP service.

    Raises :class:`InputError` naming ``name`` with every problem as a breadcrumb.
    """
    ctx = _Ctx(name)
    try:
        data = load_text(text)
    except YamlProblem as exc:
        where = f"第{exc.mark.line}行第{exc.mark.column}列" if exc.mark else ""
        raise InputError(name, exc.message, where) from None
    node = _mapping(ctx, data, Mark(1, 1), "")
    filing = _Inline(ctx, name).filing(node, "") if node is not None else None
    if ctx.problems or filing is None:
        raise InputError(
            name,
            "；".join(p.message + (f"（{p.key_path}，第{p.line}行）" if p.key_path else "") for p in ctx.problems)
            or "不是申报",
        )
    check_magnitudes(filing)
    return filing
