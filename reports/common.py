"""Helpers the report formats share: rule order, citations, places in a file, XML-safe text.

A finding's location is ``{file}:{place}``; several formats need the place alone (a line
range of a text dump, a cell of a workbook, a cell of a Word table) to point at it in their
own way, so the parsing of places lives here once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from hegui.engine.explain import render_text
from hegui.engine.findings import STATUS_CANNOT_VERIFY, Finding
from hegui.engine.rules import Citation, Rule, RuleSet

#: How a finding's status reads in a report for people.
STATUS_NAMES = {"fail": "不合规", STATUS_CANNOT_VERIFY: "无法核实"}
# XML 1.0 allows TAB, LF, CR and everything from U+0020 except surrogates and U+FFFE/U+FFFF;
# the text dump allows VT and FF (Word writes them), so they do reach the reporters.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_XLSX_CELL = re.compile(r"^\$?([A-Za-z]{1,3})\$?([0-9]{1,7})$")
LINE_RANGE = re.compile(r"^([0-9]+)(?:-([0-9]+))?$")
DOCX_CELL = re.compile(r"^(.*第[0-9]+行) 第[0-9]+列$")


def xml_safe(text: Any) -> str:
    """``text`` as a string XML and xlsx can hold: forbidden control characters become U+FFFD."""
    return _NOT_XML.sub("\ufffd", str(text))


def rules_by_id(ruleset: RuleSet) -> list[Rule]:
    """The rules in the fixed order every reporter uses (by id), so indexes are stable."""
    return sorted(ruleset.rules, key=lambda r: r.id)


def citation_text(citation: Citation) -> str:
    """A citation as a reviewer reads it: document《title》clause."""
    text = citation.document + (f"《{citation.title}》" if citation.title else "")
    return text + (f" {citation.clause}" if citation.clause else "")


def citation_dict(citation: Citation) -> dict[str, str]:
    """A citation's non-empty fields, as SARIF property bags carry it."""
    return {
        k: v
        for k, v in (
            ("document", citation.document),
            ("title", citation.title),
            ("clause", citation.clause),
            ("quote", citation.quote),
            ("url", citation.url),
            ("basis", citation.basis),
        )
        if v
    }


def explanation_text(finding: Finding) -> str:
    """A finding's derivation as the text ``hegui why`` prints; empty without ``--explain``."""
    if finding.explanation is None:
        return ""
    return render_text(finding.explanation)


def place_in_file(location: str, path: str) -> str:
    """The part of a finding or evidence location after its file: ``741``, ``Sheet!B5:C5``, ``附件3-5 表7 第5行 第2列``.

    Locations are written ``{file}:{place}`` with the file as the caller gave it; when the
    prefix is not ``path`` (a location from another spelling of the path), a trailing line
    range is recognised, and else the text after the last ``:`` before the first ``!`` (sheet
    names cannot contain ``:``, so that colon separates the file from an xlsx locator).
    """
    if location.startswith(path + ":"):
        return location[len(path) + 1 :]
    if location == path:
        return ""
    match = re.search(r":([0-9]+(?:-[0-9]+)?)$", location)
    if match:
        return match.group(1)
    bang = location.find("!")
    if bang > 0 and ":" in location[:bang]:
        return location[location.rindex(":", 0, bang) + 1 :]
    return ""


def xlsx_anchor(place: str) -> tuple[str, str] | None:
    """(sheet, top-left cell) of an xlsx locator ``Sheet!C12``, ``Sheet!C12:E12`` or ``A!B1 至 C!D4``."""
    first = place.split(" 至 ")[0]
    sheet, bang, cells = first.rpartition("!")
    if not bang or not sheet:
        return None
    top_left = cells.split(":")[0]
    match = _XLSX_CELL.match(top_left)
    if not match:
        return None
    return sheet, f"{match.group(1).upper()}{match.group(2)}"


def not_waived(findings: Iterable[Finding]) -> list[Finding]:
    """The findings that count: those no active waiver covers."""
    return [f for f in findings if not f.waived]
