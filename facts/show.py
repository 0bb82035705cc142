"""What was read from a filing, value by value, each with its source (``hegui facts``).

A reviewer checks the reading here before trusting the findings: every amount, count and
text the rules can see, grouped by table, with the line or cell it came from and the
original text.
"""

from __future__ import annotations

import json
import re
from typing import Any

from hegui.facts.units import format_decimal, format_money
from hegui.facts.vocabulary import ENTITY_KINDS, FactSet

_VALUE_PREDICATES = ("amount", "number", "text", "missing")


def _order(label: str) -> tuple:
    return (0 if label else 1, [int(n) for n in re.findall(r"\d+", label)], label)


def fact_rows(facts: FactSet, unit: str = "万元") -> list[dict[str, Any]]:
    """One row per value: table, entity, kind, field, value as shown, exact value, source, text."""
    prov = facts.provenance
    rows = []
    for fact in facts.facts:
        if fact[0] not in _VALUE_PREDICATES:
            continue
        entity, field = fact[1], fact[2]
        if fact[0] == "amount":
            shown, exact = format_money(fact[3], unit), f"{format_decimal(fact[3])}元"
        elif fact[0] == "number":
            shown = exact = format_decimal(fact[3])
        elif fact[0] == "text":
            shown = exact = fact[3]
        else:
            shown, exact = "（空白）", ""
        source = prov.source(entity, field)
        rows.append(
            {
                "table": prov.table_of.get(entity, ""),
                "entity": entity,
                "kind": prov.kind_of.get(entity, ""),
                "item": prov.item_of.get(entity, ""),
                "field": field,
                "value": shown,
                "exact": exact,
                "source": str(source) if source else "",
                "text": prov.raw_text.get((entity, field), "").strip(),
            }
        )
    rows.sort(key=lambda r: (_order(r["table"]), _entity_order(r["entity"]), _field_order(r["kind"], r["field"])))
    return rows


def _field_order(kind: str, field: str) -> tuple[int, str]:
    """Fields in the order the vocabulary lists them (as on the form), unknown ones last."""
    declared = [f for group in ENTITY_KINDS.get(kind, {}).values() for f in group]
    return (declared.index(field) if field in declared else len(declared), field)


def _entity_order(entity: str) -> list:
    return [(0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", entity)]


def render_json(path: str, rows: list[dict[str, Any]]) -> str:
    return json.dumps({"file": path, "values": rows}, ensure_ascii=False, sort_keys=True, indent=2) + "\n"


def render_table(path: str, rows: list[dict[str, Any]]) -> str:
    """A plain-text listing grouped by table and entity."""
    out = [f"{path}：读取到 {len(rows)} 个值"]
    table = entity = None
    for row in rows:
        if row["table"] != table:
            table = row["table"]
            out.append(f"【{table or '申报'}】")
            entity = None
        if row["entity"] != entity:
            entity = row["entity"]
            out.append(f"  {row['kind']} {row['item'] or entity}")
        text = row["text"].replace("\n", "⏎")
        shown = row["value"] if len(row["value"]) <= 60 else row["value"][:57] + "…"
        line = f"    {row['field']}：{shown}"
        if row["source"]:
            line += f"    ← {row['source']}"
        if text and text != row["value"] and row["field"] not in ("原文",):
            line += f"  “{text if len(text) <= 40 else text[:37] + '…'}”"
        out.append(line)
    return "\n".join(out) + "\n"


__all__ = ["fact_rows", "render_json", "render_table"]
