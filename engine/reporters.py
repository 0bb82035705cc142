"""More report formats: SARIF for code-scanning tools, JUnit XML for CI, HTML and an annotated workbook for people.

Every reporter takes the batch of :class:`~hegui.engine.report.FilingOutcome` and the rule
set, like :func:`~hegui.engine.report.to_json`. SARIF, JUnit and HTML are text with no
timestamps or absolute paths the caller did not give, written in a fixed order, so the same
input always gives byte-identical output. The workbook is a zip whose members carry the time
it was written, so only its cell contents are reproducible.

Everything read from a filing is untrusted text: it is escaped for HTML and XML, characters
that XML 1.0 or the xlsx format cannot hold are replaced by U+FFFD, and a cell value that
starts with ``=`` is stored as text, never as a formula.
"""

from __future__ import annotations

import html
import io
import json
import math
import os
import re
import urllib.parse
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hegui import __version__
from hegui.engine.findings import SEVERITY_RANK, STATUS_CANNOT_VERIFY, Finding
from hegui.engine.report import FilingOutcome, _counts
from hegui.engine.rules import SEVERITY_NAMES, Citation, Rule, RuleSet

SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
RESULTS_SHEET = "检查结果"

#: Fill colours (ARGB) of annotated cells: red for errors, orange for warnings, yellow for what
#: could not be verified or is only a hint, grey for findings an active waiver covers.
FILL_COLOURS = {"error": "FFFF7C80", "warning": "FFFFC000", "review": "FFFFFF66", "waived": "FFD9D9D9"}

_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
_STATUS_NAMES = {"fail": "不合规", STATUS_CANNOT_VERIFY: "无法核实"}
# XML 1.0 allows TAB, LF, CR and everything from U+0020 except surrogates and U+FFFE/U+FFFF;
# the text dump allows VT and FF (Word writes them), so they do reach the reporters.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_XLSX_CELL = re.compile(r"^\$?([A-Za-z]{1,3})\$?([0-9]{1,7})$")
_LINES = re.compile(r"^([0-9]+)(?:-([0-9]+))?$")
_DOCX_CELL = re.compile(r"^(.*第[0-9]+行) 第[0-9]+列$")
_LABEL = re.compile(r"^附件[0-9一二三四五六七八九十]+(?:[-－—–][0-9]+)?$")
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def _clean(text: Any) -> str:
    """``text`` as a string XML and xlsx can hold: forbidden control characters become U+FFFD."""
    return _NOT_XML.sub("\ufffd", str(text))


def _rules(ruleset: RuleSet) -> list[Rule]:
    """The rules in the fixed order every reporter uses (by id), so indexes are stable."""
    return sorted(ruleset.rules, key=lambda r: r.id)


def _citation_text(citation: Citation) -> str:
    """A citation as a reviewer reads it: document《title》clause."""
    text = citation.document + (f"《{citation.title}》" if citation.title else "")
    return text + (f" {citation.clause}" if citation.clause else "")


def _citation_dict(citation: Citation) -> dict[str, str]:
    return {
        k: v
        for k, v in (
            ("document", citation.document),
            ("title", citation.title),
            ("clause", citation.clause),
            ("quote", citation.quote),
            ("url", citation.url),
        )
        if v
    }


def _explanation_text(finding: Finding) -> str:
    if finding.explanation is None:
        return ""
    from hegui.engine.explain import render_text

    return render_text(finding.explanation)


def _place(location: str, path: str) -> str:
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


def _xlsx_anchor(place: str) -> tuple[str, str] | None:
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


def _active(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if not f.waived]


# --- SARIF --------------------------------------------------------------------------------------


def _uri(path: str) -> str:
    """The file path as given, as a URI reference: forward slashes, percent-encoded (SARIF §3.10)."""
    return urllib.parse.quote(path.replace("\\", "/"), safe="/")


def _sarif_rule(rule: Rule) -> dict[str, Any]:
    citation = _citation_text(rule.source)
    help_lines = []
    if rule.fix:
        help_lines.append(f"如何改正：{rule.fix}")
    help_lines.append(f"依据：{citation}")
    if rule.source.quote:
        help_lines.append(f"原文：“{rule.source.quote}”")
    properties: dict[str, Any] = {
        "citation": _citation_dict(rule.source),
        "pack": rule.pack,
        "jurisdiction": rule.jurisdiction,
        "subject": rule.subject,
        "severity": rule.severity,
    }
    if rule.tags:
        properties["tags"] = sorted(set(rule.tags))  # a SARIF property bag's tags are unique strings
    return {
        "id": rule.id,
        # SARIF's name is a machine-readable identifier; the human title is shortDescription.
        "name": rule.id,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.description or rule.title},
        "help": {"text": "\n".join(help_lines)},
        "defaultConfiguration": {"level": _SARIF_LEVEL[rule.severity]},
        "properties": properties,
    }


def _sarif_location(place: str, uri: str, index: int, line: int = 0) -> dict[str, Any]:
    """A SARIF location for a place in a filing.

    SARIF regions address text (lines, columns, offsets) or binary bytes; there is no region
    for a spreadsheet cell or a Word table cell. A line place (text dump) becomes a region;
    a cell locator becomes a ``logicalLocation`` named by the locator (kind ``cell`` for
    ``Sheet!C12``, ``tableCell`` for a Word table cell), and the locator is repeated in the
    location's ``properties`` so tools that ignore logical locations still show it.
    """
    physical: dict[str, Any] = {"artifactLocation": {"uri": uri, "index": index}}
    location: dict[str, Any] = {"physicalLocation": physical}
    lines = _LINES.match(place)
    if lines:
        start = int(lines.group(1))
        region = {"startLine": start}
        if lines.group(2) and int(lines.group(2)) > start:
            region["endLine"] = int(lines.group(2))
        physical["region"] = region
    elif place:
        kind = "cell" if _xlsx_anchor(place) else "tableCell" if _DOCX_CELL.match(place) else "text"
        location["logicalLocations"] = [{"fullyQualifiedName": place, "kind": kind, "name": place}]
        location["properties"] = {"cell": place}
    elif line:
        physical["region"] = {"startLine": line}
    return location


def _sarif_result(
    finding: Finding, outcome: FilingOutcome, rule_index: dict[str, int], artifact: int
) -> dict[str, Any]:
    uri = _uri(outcome.path)
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "message": {"text": finding.message},
        "locations": [_sarif_location(_place(finding.location, outcome.path), uri, artifact, finding.line)],
        # The finding id is stable across runs (rule, subject, leg, status): code-scanning
        # services use it to recognise the same result in the next run.
        "partialFingerprints": {"heguiFindingId/v1": finding.id},
    }
    if finding.rule_id in rule_index:
        result["ruleIndex"] = rule_index[finding.rule_id]
    if finding.status == STATUS_CANNOT_VERIFY:
        # SARIF §3.27.9: a result whose kind is not "fail" has level "none". "review" is
        # SARIF's kind for "a person must look at this"; the finding's severity stays in properties.
        result["kind"] = "review"
        result["level"] = "none"
    else:
        result["kind"] = "fail"
        result["level"] = _SARIF_LEVEL[finding.severity]
    related = []
    for evidence in finding.evidence:
        place = _place(evidence.location, outcome.path) if evidence.location else ""
        if not place:
            continue  # a parameter's "规则包 …" or a missing value: not a place in the file
        loc = _sarif_location(place, uri, artifact)
        loc["id"] = len(related)
        loc["message"] = {"text": f"{evidence.name} = {evidence.value}"}
        related.append(loc)
    if related:
        result["relatedLocations"] = related
    properties: dict[str, Any] = {
        "findingId": finding.id,
        "status": finding.status,
        "severity": finding.severity,
        "table": finding.table,
        "item": finding.item,
        "location": finding.location,
        "expected": finding.expected,
        "actual": finding.actual,
        "citation": _citation_dict(finding.citation),
        "pack": finding.pack,
    }
    if finding.evidence:
        properties["evidence"] = [
            {k: v for k, v in (("name", e.name), ("value", e.value), ("location", e.location), ("text", e.text)) if v}
            for e in finding.evidence
        ]
    if finding.explanation is not None:
        properties["explanation"] = finding.explanation
        properties["explanationText"] = _explanation_text(finding)
    if finding.waiver is not None:
        note = finding.waiver
        properties["waiver"] = {
            "status": note.status,
            "reason": note.reason,
            "approvedBy": note.approved_by,
            "expires": note.expires,
            "source": note.source,
        }
        if finding.waived:
            result["suppressions"] = [
                {
                    "kind": "external",  # the waiver lives in a file of its own, not in the filing
                    "status": "accepted",
                    "justification": note.reason,
                    "properties": {"approvedBy": note.approved_by, "expires": note.expires, "source": note.source},
                }
            ]
    result["properties"] = properties
    return result


def sarif_document(outcomes: list[FilingOutcome], ruleset: RuleSet) -> dict[str, Any]:
    """The SARIF 2.1.0 log as a dict (see :func:`to_sarif`)."""
    rules = _rules(ruleset)
    rule_index = {rule.id: i for i, rule in enumerate(rules)}
    artifacts: list[dict[str, Any]] = []
    artifact_of: dict[str, int] = {}
    results: list[dict[str, Any]] = []
    notifications: list[dict[str, Any]] = []
    for outcome in outcomes:
        if outcome.path not in artifact_of:
            artifact_of[outcome.path] = len(artifacts)
            artifact: dict[str, Any] = {"location": {"uri": _uri(outcome.path)}, "roles": ["analysisTarget"]}
            if outcome.filing is not None:
                artifact["encoding"] = outcome.filing.encoding
                artifact["properties"] = {
                    "department": outcome.filing.department,
                    "year": outcome.filing.year,
                    "jurisdiction": list(outcome.jurisdiction),
                    "counts": _counts(outcome.findings),
                }
            artifacts.append(artifact)
        index = artifact_of[outcome.path]
        if outcome.error is not None:
            physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(outcome.path), "index": index}}
            notification: dict[str, Any] = {
                "level": "error",
                "message": {"text": str(outcome.error)},
                "locations": [{"physicalLocation": physical}],
                "descriptor": {"id": "hegui.input-error"},
            }
            if outcome.error.location:
                notification["properties"] = {"location": outcome.error.location}
            notifications.append(notification)
            continue
        results.extend(_sarif_result(f, outcome, rule_index, index) for f in outcome.findings)
    # A file that could not be read means the analysis is incomplete: the run reports it as
    # not fully successful (like exit code 2 of ``hegui check``), with one notification per file.
    invocation: dict[str, Any] = {"executionSuccessful": not notifications}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    all_findings = [f for o in outcomes for f in o.findings]
    run = {
        "tool": {"driver": {"name": "hegui", "version": __version__, "rules": [_sarif_rule(r) for r in rules]}},
        "artifacts": artifacts,
        "invocations": [invocation],
        "results": results,
        "columnKind": "unicodeCodePoints",
        "properties": {
            "packs": list(ruleset.packs),
            "ruleCount": len(rules),
            "files": len(outcomes),
            "inputErrors": len(notifications),
            "counts": _counts(all_findings),
        },
    }
    return {"$schema": SARIF_SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}


def to_sarif(outcomes: list[FilingOutcome], ruleset: RuleSet) -> str:
    """The batch as a SARIF 2.1.0 log: one run, every rule in ``tool.driver.rules``, one result per finding.

    Failed checks are results of kind ``fail`` with the rule's level (error, warning, note);
    unverifiable ones have kind ``review``; findings under an active waiver carry an external
    suppression with the waiver's reason. Text-dump lines become regions; cells of a workbook
    or a Word table become logical locations (SARIF has no cell regions). Files that could
    not be read are error notifications of the invocation. Sorted keys, trailing newline.
    """
    return json.dumps(sarif_document(outcomes, ruleset), ensure_ascii=False, sort_keys=True, indent=2) + "\n"


# --- JUnit ----------------------------------------------------------------------------------------


def _finding_line(finding: Finding) -> str:
    return _clean(f"{finding.location}  {finding.item}：{finding.message}")


def to_junit(outcomes: list[FilingOutcome], ruleset: RuleSet) -> str:
    """The batch as JUnit XML: a ``<testsuite>`` per filing, a ``<testcase>`` per rule.

    A rule with findings that fail (not under an active waiver) is a ``<failure>`` whose type
    is the worst severity and whose text lists location and message of each; a rule that only
    could not be verified is ``<skipped>``; every other rule passes, including rules that do
    not apply to the filing. Waived findings are listed in the test case's ``<system-out>``
    and never fail it. A file that could not be read is one test case, 读取, with an ``<error>``.
    """
    rules = _rules(ruleset)
    root = ET.Element("testsuites", {"name": "hegui"})
    totals = Counter()
    for outcome in outcomes:
        suite = ET.SubElement(root, "testsuite", {"name": _clean(outcome.path)})
        counts = Counter()
        if outcome.error is not None:
            case = ET.SubElement(suite, "testcase", {"classname": _clean(outcome.path), "name": "读取"})
            error = ET.SubElement(case, "error", {"message": _clean(outcome.error.message), "type": "InputError"})
            error.text = _clean(str(outcome.error))
            counts.update(tests=1, errors=1)
        else:
            filing = outcome.filing
            assert filing is not None
            properties = ET.SubElement(suite, "properties")
            for name, value in (
                ("department", filing.department),
                ("year", filing.year),
                ("jurisdiction", " → ".join(outcome.jurisdiction)),
            ):
                ET.SubElement(
                    properties, "property", {"name": name, "value": _clean(value if value is not None else "")}
                )
            by_rule: dict[str, list[Finding]] = {}
            for finding in outcome.findings:
                by_rule.setdefault(finding.rule_id, []).append(finding)
            known = {r.id for r in rules}
            # A finding of a rule missing from the rule set (a stale report) still gets its case.
            extra = sorted(set(by_rule) - known)
            for rule_id, title in [(r.id, r.title) for r in rules] + [(i, "") for i in extra]:
                findings = by_rule.get(rule_id, [])
                case = ET.SubElement(suite, "testcase", {"classname": _clean(outcome.path), "name": rule_id})
                counts.update(tests=1)
                failing = [f for f in _active(findings) if f.status != STATUS_CANNOT_VERIFY]
                unverifiable = [f for f in _active(findings) if f.status == STATUS_CANNOT_VERIFY]
                waived = [f for f in findings if f.waived]
                if failing:
                    worst = max(failing, key=lambda f: SEVERITY_RANK[f.severity]).severity
                    head = failing[0].message if len(failing) == 1 else f"{len(failing)}项不合规：{title}"
                    failure = ET.SubElement(case, "failure", {"message": _clean(head), "type": worst})
                    failure.text = "\n".join(_finding_line(f) for f in failing)
                    counts.update(failures=1)
                elif unverifiable:
                    head = (
                        unverifiable[0].message if len(unverifiable) == 1 else f"{len(unverifiable)}项无法核实：{title}"
                    )
                    skipped = ET.SubElement(case, "skipped", {"message": _clean(head)})
                    skipped.text = "\n".join(_finding_line(f) for f in unverifiable)
                    counts.update(skipped=1)
                notes = []
                if failing and unverifiable:
                    notes += ["无法核实：" + _finding_line(f) for f in unverifiable]
                notes += [f"已豁免（{_clean(f.waiver.reason)}）：" + _finding_line(f) for f in waived]
                if notes:
                    ET.SubElement(case, "system-out").text = "\n".join(notes)
        for key in ("tests", "failures", "errors", "skipped"):
            suite.set(key, str(counts[key]))
        totals.update(counts)
    for key in ("tests", "failures", "errors", "skipped"):
        root.set(key, str(totals[key]))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# --- HTML ------------------------------------------------------------------------------------------

_CSS = """
body{font-family:"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;margin:2em auto;max-width:60em;padding:0 1em;color:#222;line-height:1.5}
h1{font-size:1.5em;border-bottom:2px solid #444;padding-bottom:.3em}
h2{font-size:1.25em;margin-top:2em;background:#f0f0f0;padding:.3em .5em}
h3{font-size:1.05em;margin-top:1.5em;border-left:4px solid #888;padding-left:.5em}
dl.meta{display:grid;grid-template-columns:max-content auto;gap:.2em 1em;margin:.5em 0}
dl.meta dt{font-weight:bold}dl.meta dd{margin:0}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #bbb;padding:.2em .5em;text-align:left;vertical-align:top}
.finding{border:1px solid #ccc;border-left:6px solid #999;margin:.8em 0;padding:.5em .8em;break-inside:avoid}
.finding.sev-error{border-left-color:#d9363e}.finding.sev-warning{border-left-color:#f29b1d}.finding.sev-info{border-left-color:#e6c300}
.finding.cannot-verify{border-left-color:#e6c300;background:#fffdf0}.finding.waived{border-left-color:#aaa;background:#f6f6f6;color:#555}
.finding p{margin:.25em 0}.finding .head{font-weight:bold}.finding .loc{font-family:monospace;font-weight:normal;color:#555}
.badge{display:inline-block;border-radius:3px;padding:0 .4em;font-size:.85em;color:#fff;background:#777}
.badge.error{background:#d9363e}.badge.warning{background:#f29b1d}.badge.info{background:#b59a00}
.quote{color:#555;font-style:italic}.input-error{border-left:6px solid #d9363e;padding:.5em .8em;background:#fff0f0}
details{margin-top:.4em}summary{cursor:pointer;color:#2a5db0}ol.steps{margin:.2em 0}
.muted{color:#777}footer{margin-top:3em;color:#777;font-size:.9em}
"""


def _e(value: Any) -> str:
    """Escaped text for HTML content or a quoted attribute."""
    return html.escape("" if value is None else str(value), quote=True)


def _html_tree(tree: dict[str, Any]) -> str:
    """An explanation tree as HTML: parameters, inputs with their sources, steps, conclusion."""
    parts: list[str] = []
    verdict = {"fail": "不合规", "pass": "合规", "cannot_verify": "无法核实", "not_applicable": "不适用"}.get(
        tree.get("verdict", ""), ""
    )
    rule = tree.get("rule", {})
    parts.append(f"<p>{_e(rule.get('id', ''))} {_e(rule.get('title', ''))} → <strong>{_e(verdict)}</strong></p>")
    if rule.get("check") and "comparison" not in tree:  # a comparison shows its own expression below
        parts.append(f"<p>检查：{_e(rule['check'])}</p>")
    subject = tree.get("subject", {})
    if subject:
        parts.append(
            f"<p>对象：{_e(subject.get('table', ''))} {_e(subject.get('item', ''))}"
            f' <span class="loc">（{_e(subject.get("location", ""))}）</span></p>'
        )
    params = tree.get("parameters", [])
    if params:
        rows = "".join(
            f"<tr><td>{_e(p.get('name'))}</td><td>{_e(p.get('value') or '—')}</td><td>{_e(p.get('pack'))}</td>"
            f"<td>{_e(p.get('why'))}</td><td>{_e(p.get('source', ''))}</td></tr>"
            for p in params
        )
        parts.append(
            '<table class="params"><tr><th>参数</th><th>取值</th><th>规则包</th><th>为何适用</th><th>依据</th></tr>'
            + rows
            + "</table>"
        )
    inputs = tree.get("inputs", [])
    if inputs:
        rows = []
        for node in inputs:
            text = node.get("text", "")
            shown = f'<span class="quote">“{_e(text)}”</span>' if text and text != node.get("value") else ""
            how = f'<br><span class="muted">{_e(node["how"])}</span>' if node.get("how") else ""
            sub = ""
            if node.get("parts"):
                sub = (
                    "<ul>"
                    + "".join(
                        f'<li>{_e(p.get("name"))} = {_e(p.get("value"))} <span class="loc">← {_e(p.get("location"))}</span></li>'
                        for p in node["parts"]
                    )
                    + "</ul>"
                )
            rows.append(
                f"<tr><td>{_e(node.get('name'))}</td><td>{_e(node.get('value'))}{how}{sub}</td>"
                f'<td class="loc">{_e(node.get("location", ""))}</td><td>{shown}</td></tr>'
            )
        parts.append(
            '<table class="inputs"><tr><th>输入</th><th>值</th><th>来源</th><th>原文</th></tr>'
            + "".join(rows)
            + "</table>"
        )
    missing = tree.get("missing", [])
    if missing:
        parts.append(
            '<ul class="missing">'
            + "".join(f"<li>缺少：{_e(m.get('name'))}（{_e(m.get('looked'))}）</li>" for m in missing)
            + "</ul>"
        )
    steps = tree.get("steps", [])
    if steps:
        parts.append('<ol class="steps">' + "".join(f"<li>计算：{_e(s)}</li>" for s in steps) + "</ol>")
    if "comparison" in tree:
        parts.append(f"<p>检查：{_e(tree['comparison'].get('expression'))}</p>")
        parts.append(f'<p class="conclusion">结论：<strong>{_e(tree["comparison"].get("statement"))}</strong></p>')
    elif tree.get("statement"):
        parts.append(f'<p class="conclusion">结论：<strong>{_e(tree["statement"])}</strong></p>')
    if tree.get("reason"):
        parts.append(f"<p>原因：{_e(tree['reason'])}</p>")
    return "\n".join(parts)


def _html_finding(finding: Finding, anchor: str) -> str:
    classes = ["finding", f"sev-{finding.severity}"]
    if finding.status == STATUS_CANNOT_VERIFY:
        classes.append("cannot-verify")
    if finding.waived:
        classes.append("waived")
    severity = SEVERITY_NAMES.get(finding.severity, finding.severity)
    status = (
        f' <span class="badge">{_e(_STATUS_NAMES[finding.status])}</span>'
        if finding.status == STATUS_CANNOT_VERIFY
        else ""
    )
    out = [
        f'<article class="{" ".join(classes)}" data-rule="{_e(finding.rule_id)}" data-status="{_e(finding.status)}"'
        f' data-severity="{_e(finding.severity)}" id="{_e(anchor)}">',
        f'<p class="head"><span class="loc">{_e(finding.location)}</span> {_e(finding.rule_id)}'
        f' <span class="badge {_e(finding.severity)}">{_e(severity)}</span>'
        f"{status} {_e(finding.item)}</p>",
        f'<p class="message">{_e(finding.message)}</p>',
    ]
    if finding.expected or finding.actual:
        out.append(f'<p class="values">应为：{_e(finding.expected or "—")}；实际：{_e(finding.actual or "—")}</p>')
    cite = f'<p class="citation">依据：{_e(_citation_text(finding.citation))}'
    if finding.citation.quote:
        cite += f'<br><span class="quote">原文：“{_e(finding.citation.quote)}”</span>'
    out.append(cite + "</p>")
    note = finding.waiver
    if note is not None:
        if finding.waived:
            out.append(
                f'<p class="waiver">豁免：{_e(note.reason)}；批准：{_e(note.approved_by)}；有效期至{_e(note.expires)}（{_e(note.source)}）</p>'
            )
        else:
            out.append(f'<p class="waiver">豁免已于{_e(note.expires)}过期，不再适用（{_e(note.source)}）</p>')
    if finding.explanation is not None:
        out.append("<details><summary>推导过程</summary>")
        out.append(_html_tree(finding.explanation))
        out.append("</details>")
    out.append("</article>")
    return "\n".join(out)


def _html_outcome(outcome: FilingOutcome, number: int) -> str:
    out = [f'<section class="filing" id="filing-{number}">', f"<h2>{_e(outcome.path)}</h2>"]
    if outcome.error is not None:
        where = f"（{_e(outcome.error.location)}）" if outcome.error.location else ""
        out.append(f'<p class="input-error">无法读取{where}：{_e(outcome.error.message)}</p>')
        out.append("</section>")
        return "\n".join(out)
    filing = outcome.filing
    assert filing is not None
    out.append('<dl class="meta">')
    out.append(f"<dt>部门</dt><dd>{_e(filing.department or '（未识别部门）')}</dd>")
    out.append(f"<dt>预算年度</dt><dd>{_e(filing.year or '？')}</dd>")
    out.append(f"<dt>适用地区</dt><dd>{_e(' → '.join(outcome.jurisdiction) or '—')}</dd>")
    out.append("</dl>")
    if outcome.jurisdiction == ["全国"]:
        out.append(
            '<p class="muted">注意：未能从部门名称识别所属地区，只检查了全国通用规则；可用 --district 指定。</p>'
        )
    counts = _counts(outcome.findings)
    out.append(
        f'<p class="counts">共{counts["total"]}项：错误{counts["error"]}，警告{counts["warning"]}，提示{counts["info"]}'
        f"（其中无法核实{counts['cannot_verify']}）；另有已豁免{counts['waived']}项</p>"
    )
    if not outcome.findings:
        out.append("<p>未发现问题。</p>")
    failures = [f for f in _active(outcome.findings) if f.status != STATUS_CANNOT_VERIFY]
    unverifiable = [f for f in _active(outcome.findings) if f.status == STATUS_CANNOT_VERIFY]
    waived = [f for f in outcome.findings if f.waived]
    serial = 0

    def anchor() -> str:
        nonlocal serial
        serial += 1
        return f"f{number}-{serial}"

    table = None
    for finding in failures:
        if finding.table != table or serial == 0:
            table = finding.table
            out.append(f"<h3>{_e(table or '全文')}</h3>")
        out.append(_html_finding(finding, anchor()))
    if unverifiable:
        out.append('<h3 class="cannot-verify">无法核实</h3>')
        out.extend(_html_finding(f, anchor()) for f in unverifiable)
    if waived:
        out.append('<h3 class="waived">已豁免（仍列出，不计入结果）</h3>')
        out.extend(_html_finding(f, anchor()) for f in waived)
    out.append("</section>")
    return "\n".join(out)


def to_html(outcomes: list[FilingOutcome], ruleset: RuleSet) -> str:
    """One self-contained HTML page (inline CSS, no scripts, no external resources).

    Per filing: department, year and jurisdiction, counts, findings grouped by table (each an
    ``<article class="finding" data-rule="RULE-ID">`` with location, severity, message,
    citation and the derivation in a ``<details>``), then what could not be verified, what is
    waived, and files that could not be read. All text from filings is HTML-escaped.
    """
    all_findings = [f for o in outcomes for f in o.findings]
    counts = _counts(all_findings)
    errors = sum(1 for o in outcomes if o.error)
    out = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>预算绩效目标表合规检查报告</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        "<h1>预算绩效目标表合规检查报告</h1>",
        f'<p class="summary">检查文件{len(outcomes)}个（无法读取{errors}个），规则{len(ruleset.rules)}条'
        f"（规则包：{_e('、'.join(ruleset.packs) or '—')}）；发现{len(all_findings)}项："
        f"错误{counts['error']}，警告{counts['warning']}，提示{counts['info']}（其中无法核实{counts['cannot_verify']}），已豁免{counts['waived']}。</p>",
    ]
    if len(outcomes) > 1:
        out.append(
            '<ul class="toc">'
            + "".join(f'<li><a href="#filing-{n}">{_e(o.path)}</a></li>' for n, o in enumerate(outcomes, 1))
            + "</ul>"
        )
    out.extend(_html_outcome(o, n) for n, o in enumerate(outcomes, 1))
    out.append(f"<footer>hegui {_e(__version__)}</footer>")
    out.append("</body>")
    out.append("</html>")
    return "\n".join(out) + "\n"


# --- the annotated workbook -----------------------------------------------------------------------


def _put(cell, value: Any) -> None:
    """Write ``value`` into an openpyxl cell as data, never as a formula.

    openpyxl turns any string starting with ``=`` into a formula; filing text is untrusted, so
    strings are written as strings (``data_type = "s"``) after forbidden characters are replaced.
    """
    if value is None:
        cell.value = None
        return
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        cell.value = value
        return
    text = _clean(value)[:32767]  # the most characters one xlsx cell holds
    cell.value = text
    cell.data_type = "s"


def _sheet_title(text: str, taken: set[str]) -> str:
    """A valid, unique sheet title from ``text`` (≤31 characters, none of []:*?/\\)."""
    base = _SHEET_BAD.sub("_", _clean(text)).strip("'").strip() or "表"
    base = base[:31]
    title = base
    n = 2
    while title.lower() in taken:
        suffix = f"({n})"
        title = base[: 31 - len(suffix)] + suffix
        n += 1
    taken.add(title.lower())
    return title


@dataclass
class _Mark:
    """The findings that point at one cell of the workbook."""

    sheet: str
    cell: str
    findings: list[Finding] = field(default_factory=list)


def _tone(findings: list[Finding]) -> str:
    """The fill of a cell: the most serious of its findings; waived ones only when nothing else."""
    live = _active(findings)
    if any(f.status != STATUS_CANNOT_VERIFY and f.severity == "error" for f in live):
        return "error"
    if any(f.status != STATUS_CANNOT_VERIFY and f.severity == "warning" for f in live):
        return "warning"
    if live:
        return "review"
    return "waived"


def _finding_note(finding: Finding) -> str:
    status = "已豁免" if finding.waived else _STATUS_NAMES.get(finding.status, finding.status)
    lines = [
        f"{finding.rule_id}（{SEVERITY_NAMES.get(finding.severity, finding.severity)}，{status}）{finding.item}",
        finding.message,
        f"依据：{_citation_text(finding.citation)}",
    ]
    if finding.waiver is not None:
        note = finding.waiver
        lines.append(
            f"豁免：{note.reason}；批准：{note.approved_by}；有效期至{note.expires}"
            if finding.waived
            else f"豁免已于{note.expires}过期，不再适用"
        )
    explanation = _explanation_text(finding)
    if explanation:
        lines.append(explanation)
    return "\n".join(lines)


def _annotate(wb, marks: list[_Mark]) -> None:
    """Fill and comment every marked cell; an existing comment is kept above ours."""
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill

    for mark in marks:
        cell = wb[mark.sheet][mark.cell]
        colour = FILL_COLOURS[_tone(mark.findings)]
        cell.fill = PatternFill(fill_type="solid", start_color=colour, end_color=colour)
        # Most serious first: what fails, then what could not be verified, then what is waived.
        ordered = sorted(
            mark.findings, key=lambda f: (f.waived, f.status == STATUS_CANNOT_VERIFY, -SEVERITY_RANK[f.severity])
        )
        text = "\n\n".join(_finding_note(f) for f in ordered)
        if cell.comment is not None and cell.comment.text:
            text = f"{cell.comment.text}\n\n{text}"
        text = _clean(text)
        lines = text.split("\n")
        # Size the box to the text (about 30 CJK characters a line at 400pt): Excel's default
        # comment box is too small to read a derivation.
        height = 16 * sum(max(1, math.ceil(len(line) / 30)) for line in lines) + 10
        cell.comment = Comment(text, "hegui", height=min(max(height, 80), 1200), width=420)


def _results_sheet(wb, rows: list[tuple[str, Finding | None, str, _Mark | None]], *, index: int = 0) -> None:
    """The 检查结果 sheet: one row per finding (and per unreadable file), linked to its cell."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.hyperlink import Hyperlink

    taken = {ws.title.lower() for ws in wb.worksheets}
    ws = wb.create_sheet(_sheet_title(RESULTS_SHEET, taken), index)
    heads = [
        "序号",
        "文件",
        "表",
        "位置",
        "标注单元格",
        "规则",
        "严重程度",
        "状态",
        "项目",
        "说明",
        "应为",
        "实际",
        "依据",
        "推导过程",
    ]
    widths = [6, 28, 10, 26, 16, 14, 8, 10, 24, 48, 16, 16, 36, 60]
    for col, (head, width) in enumerate(zip(heads, widths), start=1):
        cell = ws.cell(1, col)
        _put(cell, head)
        cell.font = Font(bold=True)
        ws.column_dimensions[cell.column_letter].width = width
    ws.freeze_panes = "A2"
    wrap = Alignment(wrap_text=True, vertical="top")
    for n, (path, finding, error, mark) in enumerate(rows, start=1):
        r = n + 1
        if finding is None:
            values = [n, path, "", "", "", "", "", "无法读取", "", error, "", "", "", ""]
        else:
            status = "已豁免" if finding.waived else _STATUS_NAMES.get(finding.status, finding.status)
            target = f"{mark.sheet}!{mark.cell}" if mark else "（未在表格中定位）"
            values = [
                n,
                path,
                finding.table,
                finding.location,
                target,
                finding.rule_id,
                SEVERITY_NAMES.get(finding.severity, finding.severity),
                status,
                finding.item,
                finding.message,
                finding.expected,
                finding.actual,
                _citation_text(finding.citation),
                _explanation_text(finding),
            ]
        for col, value in enumerate(values, start=1):
            cell = ws.cell(r, col)
            _put(cell, value)
            cell.alignment = wrap
        if finding is not None:
            tone = FILL_COLOURS["waived" if finding.waived else _tone([finding])]
            ws.cell(r, 8).fill = PatternFill(fill_type="solid", start_color=tone, end_color=tone)
        if mark is not None:
            quoted = mark.sheet.replace("'", "''")
            link = ws.cell(r, 5)
            # An internal link (location, no target file) jumps to the annotated cell.
            link.hyperlink = Hyperlink(ref=link.coordinate, location=f"'{quoted}'!{mark.cell}")
            link.font = Font(color="FF0563C1", underline="single")
    if not rows:
        _put(ws.cell(2, 1), "未发现问题。")
    for sheet in wb.worksheets:
        sheet.sheet_view.tabSelected = False
    ws.sheet_view.tabSelected = True
    wb.active = wb.worksheets.index(ws)


def _marks_for(findings: list[Finding], locate) -> tuple[list[_Mark], dict[str, _Mark]]:
    """Group findings by the cell ``locate(finding)`` gives; returns the marks and each finding's mark."""
    marks: dict[tuple[str, str], _Mark] = {}
    mark_of: dict[str, _Mark] = {}
    for finding in findings:
        where = locate(finding)
        if where is None:
            continue
        mark = marks.setdefault(where, _Mark(*where))
        mark.findings.append(finding)
        mark_of[finding.id] = mark
    return list(marks.values()), mark_of


@dataclass
class _Rendered:
    """Where each Source of a grid went in a rendered workbook."""

    exact: dict[str, tuple[str, str]] = field(default_factory=dict)  # place → (sheet, cell)
    lines: list[tuple[int, int, str, str]] = field(default_factory=list)  # (first, last, sheet, cell) of text cells

    def locate(self, place: str) -> tuple[str, str] | None:
        """The cell a place names: the cell read from exactly there, else (lines) the cell
        starting at the place's first line, else a cell whose lines contain it."""
        if not place:
            return None
        if place in self.exact:
            return self.exact[place]
        match = _LINES.match(place)
        if match:
            first = int(match.group(1))
            for start, _end, sheet, cell in self.lines:
                if start == first:
                    return sheet, cell
            for start, end, sheet, cell in self.lines:
                if start <= first <= end:
                    return sheet, cell
        return None


def _source_place(source) -> str:
    if source.locator:
        return source.locator
    if not source.line:
        return ""
    return (
        f"{source.line}-{source.end_line}" if source.end_line and source.end_line != source.line else str(source.line)
    )


def _row_label(row) -> str:
    """What column A shows for a rendered row: where in the file it was read."""
    source = row.cells[0].source if row.cells else None
    if source is None:
        return ""
    if source.locator:
        anchor = _xlsx_anchor(source.locator)
        if anchor:
            return f"{anchor[0]} 第{re.sub(r'[A-Z]+', '', anchor[1])}行"
        match = _DOCX_CELL.match(source.locator)
        return match.group(1) if match else source.locator
    place = row.source.place
    return place


def _sheet_key(row) -> tuple[str | None, bool]:
    """(the sheet this row starts, whether the *next* row starts a new one).

    Workbook cells go to a sheet named after the sheet they were read from. Text dumps and
    Word documents start a new sheet at each 附件 label: a row whose only text is the label,
    or (text dumps) a footer cell that ran on into the next 附件's label, after which the next
    row starts the new sheet.
    """
    first = row.cells[0].source.locator if row.cells else ""
    anchor = _xlsx_anchor(first) if first else None
    if anchor:
        return anchor[0], False
    texts = [c.stripped for c in row.cells if not c.is_blank]
    if len(texts) == 1:
        lines = [re.sub(r"\s+", "", line) for line in texts[0].split("\n") if line.strip()]
        if lines and _LABEL.match(lines[0]):
            return lines[0], False
        for line in lines[1:]:
            if _LABEL.match(line):
                return None, True
    return None, False


def _render_grid(wb, grid, *, prefix: str = "") -> _Rendered:
    """Write a grid's rows into new sheets of ``wb``; column A says where each row was read."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    rendered = _Rendered()
    taken = {ws.title.lower() for ws in wb.worksheets}
    wrap = Alignment(wrap_text=True, vertical="top")
    muted = Font(color="FF808080", size=9)
    ws = None
    current: str | None = None  # the key the open sheet was started for (its title may be shortened)
    pending_label: str | None = None
    start_next = False
    next_row = 1
    for row in grid.rows:
        wanted, breaks_after = _sheet_key(row)
        if wanted is None and start_next:
            # The label sat at the end of the previous row's cell: name the sheet after it.
            wanted = pending_label or "续"
        if ws is None or (wanted is not None and wanted != current):
            ws = wb.create_sheet(_sheet_title(prefix + (wanted or "申报"), taken))
            ws.column_dimensions["A"].width = 14
            current = wanted
            next_row = 1
        start_next = breaks_after
        pending_label = None
        if breaks_after:
            texts = [c.stripped for c in row.cells if not c.is_blank]
            lines = [re.sub(r"\s+", "", line) for line in texts[0].split("\n") if line.strip()]
            pending_label = next((line for line in lines[1:] if _LABEL.match(line)), None)
        label = ws.cell(next_row, 1)
        _put(label, _row_label(row))
        label.font = muted
        label.alignment = wrap
        for index, cell in enumerate(row.cells, start=2):
            target = ws.cell(next_row, index)
            if not cell.continuation:
                _put(target, cell.text)
            target.alignment = wrap
            letter = get_column_letter(index)
            if ws.column_dimensions[letter].width is None or ws.column_dimensions[letter].width < 24:
                ws.column_dimensions[letter].width = 24
            place = _source_place(cell.source)
            if place:
                rendered.exact.setdefault(place, (ws.title, target.coordinate))
            if cell.source.line and not cell.source.locator:
                rendered.lines.append(
                    (cell.source.line, cell.source.end_line or cell.source.line, ws.title, target.coordinate)
                )
        next_row += 1
    return rendered


def _is_xlsx(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in (".xlsx", ".xlsm")


def annotated_workbook(outcome: FilingOutcome, source_path: str | os.PathLike, registry=None) -> bytes:
    """The filing as an .xlsx workbook with every finding's cell filled and commented.

    For an .xlsx (or .xlsm) filing, a copy of the submitted workbook is loaded from its bytes
    (the file itself is never written): each finding whose location is a cell locator
    ``Sheet!C12`` (a range ``Sheet!C12:E12``: its top-left cell) gets a fill (red error,
    orange warning, yellow cannot-verify or info, grey waived) and a comment with rule id,
    message, citation and the derivation. openpyxl keeps values, formulas, styles, merges and
    comments, but not charts, images or macros, and formulas lose their saved results until
    Excel recalculates. For text dumps and .docx filings the cells (``read_grid``) are written
    into new sheets, one per 附件, and the cells read from a finding's location are marked
    the same way. Either way a first sheet 检查结果 lists all findings, linked to their cells;
    if the file can no longer be read, that sheet is all the workbook has.
    """
    from openpyxl import Workbook

    path = os.fsdecode(source_path)
    findings = list(outcome.findings)
    if outcome.error is not None or outcome.filing is None:
        wb = Workbook()
        wb.remove(wb.active)
        error = outcome.error.message if outcome.error is not None else "未读取"
        _results_sheet(wb, [(outcome.path, None, _clean(error), None)])
        return _save(wb)
    from hegui.facts.errors import InputError

    try:
        if _is_xlsx(path):
            wb = _load_copy(path)
            titles = {ws.title for ws in wb.worksheets}

            def locate(finding: Finding) -> tuple[str, str] | None:
                anchor = _xlsx_anchor(_rendered_place(finding, outcome.path, path))
                return anchor if anchor and anchor[0] in titles else None

            marks, mark_of = _marks_for(findings, locate)
        else:
            from hegui.facts.read import read_grid

            wb = Workbook()
            wb.remove(wb.active)
            rendered = _render_grid(wb, read_grid(path, registry))
            marks, mark_of = _marks_for(findings, lambda f: rendered.locate(_rendered_place(f, outcome.path, path)))
    except InputError:
        # The file changed or went away since it was checked: the findings are still worth
        # having, listed on their own sheet without cells to mark.
        wb = Workbook()
        wb.remove(wb.active)
        marks, mark_of = [], {}
    _annotate(wb, marks)
    _results_sheet(wb, [(outcome.path, f, "", mark_of.get(f.id)) for f in findings])
    return _save(wb)


def _load_copy(path: str):
    """The submitted workbook loaded from its bytes, after the same safety checks as the reader.

    The bytes are read once and openpyxl works on an in-memory copy, so the file itself is
    never opened for writing; the zip and XML checks of :mod:`hegui.facts.ooxml` (size,
    members, compression ratio, DTDs) run first, as they do before the reader's openpyxl.
    """
    import warnings

    from openpyxl import load_workbook

    from hegui.facts.errors import InputError
    from hegui.facts.ooxml import MAX_FILE_BYTES, check_all_xml_parts, open_checked_zip

    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise InputError(path, f"无法读取文件：{exc.strerror or exc}") from None
    archive = open_checked_zip(path, data, "xlsx")
    try:
        check_all_xml_parts(path, archive)
    finally:
        archive.close()
    try:
        with warnings.catch_warnings():
            # openpyxl warns about parts it drops (data-validation extensions, …): not the reviewer's concern
            warnings.simplefilter("ignore")
            return load_workbook(io.BytesIO(data))
    except Exception as exc:  # openpyxl raises many types for damaged files; the reader already accepted this one
        raise InputError(path, f"无法打开工作簿：{type(exc).__name__}") from exc


def _rendered_place(finding: Finding, outcome_path: str, read_path: str) -> str:
    """The place of a finding, whichever spelling of the path (the outcome's or the one read) it uses."""
    place = _place(finding.location, outcome_path)
    if not place and read_path != outcome_path:
        place = _place(finding.location, read_path)
    return place


def _save(wb) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def to_xlsx(outcomes: list[FilingOutcome], ruleset: RuleSet, registry=None) -> bytes:
    """The batch as one .xlsx workbook (bytes), for ``hegui check --format xlsx``.

    One filing: :func:`annotated_workbook` of it (read again from ``outcome.path``). Several:
    a 检查结果 sheet listing every filing's findings and every unreadable file, then each
    checked filing's cells rendered from its grid into sheets named ``{n}-{sheet}`` (n = its
    place in the batch) and annotated the same way. Submitted workbooks are rendered from
    their cells here too (openpyxl cannot copy sheets between workbooks), so formatting and
    merges are not carried over; check a single workbook to get its annotated copy.
    """
    del ruleset  # every finding carries its rule's id, severity and citation
    if len(outcomes) == 1:
        return annotated_workbook(outcomes[0], outcomes[0].path, registry)
    from openpyxl import Workbook

    from hegui.facts.read import read_grid

    wb = Workbook()
    wb.remove(wb.active)
    rows: list[tuple[str, Finding | None, str, _Mark | None]] = []
    all_marks: list[_Mark] = []
    for number, outcome in enumerate(outcomes, start=1):
        if outcome.error is not None or outcome.filing is None:
            rows.append((outcome.path, None, _clean(outcome.error.message if outcome.error else "未读取"), None))
            continue
        rendered = _render_grid(wb, read_grid(outcome.path, registry), prefix=f"{number}-")
        marks, mark_of = _marks_for(outcome.findings, lambda f, o=outcome: rendered.locate(_place(f.location, o.path)))
        all_marks.extend(marks)
        rows.extend((outcome.path, f, "", mark_of.get(f.id)) for f in outcome.findings)
    _annotate(wb, all_marks)
    _results_sheet(wb, rows)
    return _save(wb)


__all__ = [
    "FILL_COLOURS",
    "RESULTS_SHEET",
    "SARIF_SCHEMA_URI",
    "annotated_workbook",
    "sarif_document",
    "to_html",
    "to_junit",
    "to_sarif",
    "to_xlsx",
]
