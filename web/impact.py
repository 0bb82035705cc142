"""Impact preview: which filings would gain or lose which findings if a rate or a rule pack changed.

Nothing is changed: the rule set is copied with the new parameter values (or with the new
version of a rule pack in place of the loaded one), both versions are compiled, and every
filing is checked with each. A finding is matched across the two runs by its id (rule,
item, leg, status; see :func:`hegui.engine.findings.finding_id`), so a finding that stays
but whose expected value moves is reported as *changed*, not as lost and gained.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path

from hegui.engine.findings import Finding
from hegui.engine.rules import Parameter, ParameterValue, RuleSet, load_rules
from hegui.facts.errors import InputError
from hegui.facts.model import Filing
from hegui.facts.read import FOLDER_SUFFIXES
from hegui.facts.units import format_decimal, parse_unit

#: Suffixes the built-in readers take; a folder is searched for these (and plugin readers' ones).
BUILTIN_SUFFIXES = FOLDER_SUFFIXES


class ImpactError(ValueError):
    """The requested change cannot be made (unknown parameter, bad value); Chinese message."""


@dataclass(frozen=True)
class ParameterChange:
    """One parameter's value before and after, as written in its unit."""

    key: str
    unit: str
    before: tuple[str, ...]  # each period's value, e.g. ("2000（2021年起）",)
    after: str

    def __str__(self) -> str:
        return f"{self.key}：{'；'.join(self.before)} → {self.after}{self.unit}"


@dataclass
class FilingImpact:
    """What the change does to one filing."""

    path: str
    error: str = ""
    gained: list[Finding] = field(default_factory=list)
    lost: list[Finding] = field(default_factory=list)
    changed: list[tuple[Finding, Finding]] = field(default_factory=list)

    @property
    def affected(self) -> bool:
        return bool(self.gained or self.lost or self.changed)


def parse_assignment(text: str) -> tuple[str, Decimal]:
    """``NAME=VALUE`` (``株洲市:驻村交通费标准=1500``) → (name, value); raises :class:`ImpactError`."""
    name, sep, value = text.partition("=")
    name, value = name.strip(), value.strip()
    if not sep or not name or not value:
        raise ImpactError(f"参数改动“{text}”应写成 名称=数值，如 株洲市:驻村交通费标准=1500")
    if not re.fullmatch(r"[+-]?\d+(\.\d+)?", value):
        raise ImpactError(f"参数改动“{text}”的数值应为十进制数（按参数的单位书写），如 1500 或 0.5")
    try:
        return name, Decimal(value)
    except InvalidOperation:
        raise ImpactError(f"参数改动“{text}”的数值无法识别") from None


def _period_text(value: ParameterValue) -> str:
    if value.start_year and value.end_year:
        span = f"{value.start_year}—{value.end_year}年"
    elif value.start_year:
        span = f"{value.start_year}年起"
    elif value.end_year:
        span = f"至{value.end_year}年"
    else:
        span = "不限年度"
    return f"{format_decimal(value.written)}（{span}）"


def with_parameters(ruleset: RuleSet, changes: Iterable[tuple[str, Decimal]]) -> tuple[RuleSet, list[ParameterChange]]:
    """A copy of ``ruleset`` with each named parameter set to its new value in every period.

    A name is a pack-qualified key (``株洲市:驻村交通费标准``) or a bare name that only one pack
    defines; a bare name several packs define is refused with their keys, because a district
    that overrides the city's rate would otherwise be changed too.
    """
    replaced: dict[str, Parameter] = {}
    report: list[ParameterChange] = []
    for name, value in changes:
        if name in ruleset.parameters:
            param = ruleset.parameters[name]
        else:
            named = ruleset.parameters_named(name)
            if not named:
                import difflib

                close = difflib.get_close_matches(name, [p.name for p in ruleset.parameters.values()], n=3, cutoff=0.4)
                hint = f"；您是不是想找：{'、'.join(close)}" if close else ""
                raise ImpactError(f"没有名为“{name}”的参数{hint}")
            if len(named) > 1:
                keys = "、".join(sorted(p.key for p in named))
                raise ImpactError(f"参数“{name}”在多个规则包中有定义，请写明是哪一个：{keys}")
            param = named[0]
        scale, _ = parse_unit(param.unit_text)
        values = tuple(replace(v, value=value * scale, written=value) for v in param.values)
        replaced[param.key] = replace(param, values=values)
        report.append(
            ParameterChange(
                param.key, param.unit_text, tuple(_period_text(v) for v in param.values), format_decimal(value)
            )
        )
    rules = [
        replace(rule, parameters=tuple(replaced.get(p.key, p) for p in rule.parameters))
        if any(p.key in replaced for p in rule.parameters)
        else rule
        for rule in ruleset.rules
    ]
    parameters = {key: replaced.get(key, param) for key, param in ruleset.parameters.items()}
    return replace(ruleset, rules=rules, parameters=parameters), report


def with_packs(
    ruleset: RuleSet, paths: Iterable[Path], known_jurisdictions: Iterable[str]
) -> tuple[RuleSet, list[str]]:
    """The rule set with the packs in ``paths`` in place of the loaded packs of the same name.

    Packs that are not loaded yet are added. Returns the new rule set and the names of the
    packs replaced or added. Raises :class:`~hegui.engine.rules.RuleLoadError` when the new
    packs, or the whole set with them, do not load.
    """
    known = list(known_jurisdictions)
    paths = [Path(p) for p in paths]
    incoming = load_rules(paths, known_jurisdictions=known)
    pack_of_file = {rule.file: rule.pack for rule in ruleset.rules}
    kept = [
        Path(file)
        for file in ruleset.files
        if pack_of_file.get(file, _pack_of_parameters_file(ruleset, file)) not in incoming.packs
    ]
    return load_rules([*kept, *paths], known_jurisdictions=known), list(incoming.packs)


def _pack_of_parameters_file(ruleset: RuleSet, file: str) -> str:
    # A file with parameters but no rules: load it alone to learn its pack's name.
    try:
        loaded = load_rules([Path(file)])
    except Exception:  # it loaded as part of the whole set; alone it may lack context
        return ""
    return loaded.packs[0] if loaded.packs else ""


def filing_paths(targets: Iterable[str], suffixes: Iterable[str] = BUILTIN_SUFFIXES) -> list[str]:
    """The files named, and the readable files under the folders named, in a stable order."""
    wanted = tuple(s.lower() for s in suffixes)
    out: list[str] = []
    for target in targets:
        if os.path.isdir(target):
            root = Path(target)
            out.extend(
                str(p)
                for p in sorted(root.rglob("*"))
                if p.is_file() and p.suffix.lower() in wanted and not _skipped(p.relative_to(root))
            )
        else:
            out.append(target)
    return list(dict.fromkeys(out))


def _skipped(relative: Path) -> bool:
    """Build output, package metadata and hidden folders hold no filings (their .txt are not tables)."""
    return any(
        part.startswith(".") or part in ("build", "dist", "__pycache__") or part.endswith(".egg-info")
        for part in relative.parts[:-1]
    )


def compare(before: list[Finding], after: list[Finding], path: str) -> FilingImpact:
    """Findings gained, lost and changed (same id, other message, expected or actual value)."""
    old = {f.id: f for f in before}
    new = {f.id: f for f in after}
    impact = FilingImpact(path)
    impact.gained = [f for f in after if f.id not in old]
    impact.lost = [f for f in before if f.id not in new]
    impact.changed = [
        (old[f.id], f)
        for f in after
        if f.id in old
        and (old[f.id].message, old[f.id].expected, old[f.id].actual, old[f.id].severity)
        != (f.message, f.expected, f.actual, f.severity)
    ]
    return impact


def run_impact(
    paths: list[str],
    check_before: Callable[[Filing], list[Finding]],
    check_after: Callable[[Filing], list[Finding]],
    read: Callable[[str], Filing],
    names: dict[str, str] | None = None,
) -> list[FilingImpact]:
    """Check every filing with both rule sets; an unreadable filing becomes its own error line."""
    results = []
    for path in paths:
        shown = (names or {}).get(path, path)
        try:
            filing = read(path)
        except InputError as exc:
            results.append(FilingImpact(shown, error=exc.message))
            continue
        results.append(compare(check_before(filing), check_after(filing), shown))
    return results


def render_text(changes: list[str], impacts: list[FilingImpact]) -> str:
    """The preview for a terminal: the change, then each filing's gained, lost and changed findings."""
    lines = ["改动：", *(f"  {c}" for c in changes), ""]
    for impact in impacts:
        if impact.error:
            lines.append(f"{impact.path}  无法读取：{impact.error}")
            continue
        if not impact.affected:
            lines.append(f"{impact.path}  无变化")
            continue
        lines.append(impact.path)
        for finding in impact.gained:
            lines.append(f"  + 新增  {finding.id}  {finding.location}  {finding.item}")
            lines.append(f"      {finding.message}")
        for finding in impact.lost:
            lines.append(f"  - 消失  {finding.id}  {finding.location}  {finding.item}")
            lines.append(f"      {finding.message}")
        for old, new in impact.changed:
            lines.append(f"  ~ 变化  {new.id}  {new.location}  {new.item}")
            lines.append(f"      改前：{old.message}")
            lines.append(f"      改后：{new.message}")
    gained = sum(len(i.gained) for i in impacts)
    lost = sum(len(i.lost) for i in impacts)
    changed = sum(len(i.changed) for i in impacts)
    affected = sum(1 for i in impacts if i.affected)
    errors = sum(1 for i in impacts if i.error)
    lines.append("")
    lines.append(
        f"申报{len(impacts)}份（无法读取{errors}份），受影响{affected}份：新增发现{gained}项，消失{lost}项，内容变化{changed}项。"
    )
    return "\n".join(lines) + "\n"
