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


def select(result, selector: str) -> Target:
    """Resolve ``selector`` against a checked filing.

    Tried in order: a finding id; a table label (附件3-5); a location (``741``, ``file:741``,
    or a cell locator); an item name (exact, then unique substring).
    """
    prov = result.facts.provenance
    for finding in result.findings:
        if finding.id == selector:
            return Target(finding.subject, finding)
    if selector in prov.kind_of and prov.kind_of[selector] in ("附件1", "附件2", "附件3"):
        return Target(selector)
    location = selector.rsplit(":", 1)[-1] if re.fullmatch(r"(.*:)?\d+", selector) else None
    if location is not None:
        line = int(location)
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
    partial = sorted(e for e, i in items.items() if selector in i) if not exact else exact
    if len(partial) == 1:
        return Target(partial[0])
    if partial:
        listed = "；".join(f"{e}（{items[e]}）" for e in partial[:8])
        raise SelectionError(f"“{selector}”对应多个项目，请写得更具体或用表名/行号：{listed}")
    close = difflib.get_close_matches(selector, list(items.values()), n=3, cutoff=0.4)
    hint = f"；您是不是想找：{'、'.join(close)}" if close else ""
    raise SelectionError(f"找不到“{selector}”：既不是发现编号、表名、位置，也不是项目名称{hint}")


#: kinds a reviewer asks about, most specific first
_ITEM_KINDS = ["明细", "指标", "汇总行", "附件3", "附件2", "附件1"]
