"""Find what a reviewer asks about: a finding id, an item name, a table or a location."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from hegui.engine.findings import Finding


class SelectionError(ValueError):
    """Nothing, or more than one thing, matches the selector; the message says which."""


@dataclass
class Target:
    entity: str
    finding: Finding | None = None
    #: every finding a rule id or a printed location names, when it names more than one
    findings: tuple[Finding, ...] = ()


def select(result, selector: str) -> Target:
    """Resolve ``selector`` against a checked filing.

    Tried in order: a finding id; a rule id or a location exactly as ``hegui check`` prints
    it (``file:741``, ``file.xlsx:附件3-5!B5:C5``, with or without the file part); a table
    label (附件3-5); a location (``741``, ``file:741``, or a cell locator); an item name
    (exact, then unique substring).
    """
    prov = result.facts.provenance
    for finding in result.findings:
        if finding.id == selector:
            return Target(finding.subject, finding)
    by_finding = _by_rule_or_location(result, selector.strip())
    if by_finding is not None:
        return by_finding
    if selector in prov.kind_of and prov.kind_of[selector] in ("附件1", "附件2", "附件3"):
        return Target(selector)
    location = selector.rsplit(":", 1)[-1] if re.fullmatch(r"(.*:)?\d+(-\d+)?", selector) else None
    if location is not None:
        line = int(location.split("-")[0])
        hits = [
            (e, s)
            for e, s in prov.entity_source.items()
            if s.line and s.line <= line <= (s.end_line or s.line) and prov.kind_of.get(e) in _ITEM_KINDS
        ]
        if hits:
            # The narrowest entity containing the line: a detail line rather than its whole table.
            entity = min(
                hits, key=lambda h: ((h[1].end_line or h[1].line) - h[1].line, _ITEM_KINDS.index(prov.kind_of[h[0]]))
            )[0]
            return Target(entity)
    for entity, source in prov.entity_source.items():
        if (
            source.locator
            and (selector == source.locator or selector == str(source))
            and prov.kind_of.get(entity) in _ITEM_KINDS
        ):
            return Target(entity)
    items = {e: i for e, i in prov.item_of.items() if prov.kind_of.get(e) in _ITEM_KINDS}
    exact = sorted(e for e, i in items.items() if i == selector)
    if len(exact) == 1:
        return Target(exact[0])
    partial = exact or sorted(e for e, i in items.items() if selector in i)
    if len(partial) == 1:
        return Target(partial[0])
    if partial:
        listed = "；".join(f"{e}（{items[e]}）" for e in partial[:8])
        raise SelectionError(f"“{selector}”对应多个项目，请写得更具体或用表名/行号：{listed}")
    close = difflib.get_close_matches(selector, list(items.values()), n=3, cutoff=0.4)
    hint = f"；您是不是想找：{'、'.join(close)}" if close else ""
    raise SelectionError(f"找不到“{selector}”：既不是发现编号、表名、位置，也不是项目名称{hint}")


def _by_rule_or_location(result, selector: str) -> Target | None:
    """The finding(s) a rule id or a printed location names."""
    hits = [f for f in result.findings if f.rule_id == selector]
    if not hits:
        # A line (``741``, ``file:741-745``) means the item there, as before: every rule on it.
        hits = [
            f
            for f in result.findings
            if selector in (f.location, printed_place(f.location))
            and not re.fullmatch(r"[\d-]+", printed_place(f.location))
        ]
    if not hits:
        return None
    if len(hits) == 1:
        return Target(hits[0].subject, hits[0])
    if len({f.subject for f in hits}) == 1 and hits[0].rule_id != selector:
        return Target(hits[0].subject)  # one item: explain every rule on it
    return Target(hits[0].subject, findings=tuple(hits))  # several: explain each of them


def printed_place(location: str) -> str:
    """A printed location without its file part: ``741``, ``附件3-5!B5:C5``, ``附件3-5 表7 第5行 第2列``.

    A sheet name cannot contain ``:``, so the last ``:`` before the first ``!`` ends the file
    part of a workbook locator; otherwise the file part ends at the last ``:``.
    """
    bang = location.find("!")
    head = location[:bang] if bang >= 0 else location
    colon = head.rfind(":")
    return location[colon + 1 :] if colon >= 0 else location


#: kinds a reviewer asks about, most specific first
_ITEM_KINDS = ["明细", "指标", "汇总行", "附件3", "附件2", "附件1"]
