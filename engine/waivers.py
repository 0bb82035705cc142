"""Waivers: approved exceptions that keep a finding visible but stop it failing the check.

A waiver names the rule, the filing (file name or 部门), the item, why, who approved it
and until when. A waived finding is listed and counted apart, never dropped; an expired
waiver no longer applies and the finding says so.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from dataclasses import dataclass, replace
from pathlib import Path

from hegui.engine.findings import Finding
from hegui.engine.rules import RuleLoadError, _check_keys, _Ctx, _mapping, _text, load_root
from hegui.engine.strictyaml import LocatedList

WAIVER_KEYS = {
    "rule": "规则编号",
    "filing": "申报文件名或部门",
    "item": "项目",
    "reason": "理由",
    "approved_by": "批准人",
    "expires": "有效期至（YYYY-MM-DD）",
}


@dataclass(frozen=True)
class Waiver:
    rule: str
    filing: str
    item: str
    reason: str
    approved_by: str
    expires: dt.date
    file: str
    line: int

    def matches(self, finding: Finding, path: str, department: str) -> bool:
        name = Path(path).name
        return (
            finding.rule_id == self.rule
            and (fnmatch.fnmatchcase(name, self.filing) or self.filing == department)
            and finding.item == self.item
        )


@dataclass(frozen=True)
class WaiverNote:
    """What a waiver did to a finding: ``active`` waives it, ``expired`` no longer does."""

    status: str
    reason: str
    approved_by: str
    expires: str
    source: str


def load_waivers(path: Path) -> list[Waiver]:
    """Strictly load a waiver file; raises :class:`RuleLoadError` with breadcrumbs."""
    ctx = _Ctx(str(path))
    root = load_root(ctx, path, "豁免文件")
    waivers: list[Waiver] = []
    if root is not None:
        _check_keys(ctx, root, {"waivers": "豁免列表"}, "")
        items = root.get("waivers")
        if not isinstance(items, LocatedList):
            ctx.problem(root.mark, "waivers", "缺少豁免列表", "waivers: 后接以 - 开头的豁免")
            items = LocatedList()
        for index, item in enumerate(items):
            path_key = f"waivers[{index}]"
            node = _mapping(ctx, item, items.item_marks[index], path_key)
            if node is None:
                continue
            _check_keys(ctx, node, WAIVER_KEYS, path_key)
            values = {k: _text(ctx, node, k, path_key) for k in WAIVER_KEYS}
            try:
                expires = dt.date.fromisoformat(values["expires"]) if values["expires"] else None
            except ValueError:
                expires = None
                ctx.problem(
                    node.value_marks.get("expires"),
                    f"{path_key}.expires",
                    f"日期“{values['expires']}”格式不对",
                    "YYYY-MM-DD，如 2024-06-30",
                )
            if all(values.values()) and expires is not None:
                waivers.append(
                    Waiver(
                        values["rule"],
                        values["filing"],
                        values["item"],
                        values["reason"],
                        values["approved_by"],
                        expires,
                        str(path),
                        node.mark.line,
                    )
                )
    if ctx.problems:
        raise RuleLoadError(ctx.problems)
    return waivers


def apply_waivers(
    findings: list[Finding], path: str, department: str, waivers: list[Waiver], today: dt.date
) -> list[Finding]:
    """The findings with a :class:`WaiverNote` on each one a waiver names."""
    out = []
    for finding in findings:
        waiver = next((w for w in waivers if w.matches(finding, path, department)), None)
        if waiver is not None:
            status = "active" if today <= waiver.expires else "expired"
            note = WaiverNote(
                status, waiver.reason, waiver.approved_by, waiver.expires.isoformat(), f"{waiver.file}:{waiver.line}"
            )
            finding = replace(finding, waiver=note)
        out.append(finding)
    return out
