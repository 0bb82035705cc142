"""The JUnit XML report, for CI systems that show test results.

Text from filings is made XML-safe (characters XML 1.0 cannot hold become U+FFFD) and
escaped; the same input gives byte-identical XML.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator, Sequence

from hegui.engine.findings import SEVERITY_RANK, STATUS_CANNOT_VERIFY, Finding
from hegui.engine.rules import Rule, RuleSet
from hegui.reports.common import not_waived, rules_by_id, xml_safe
from hegui.reports.outcome import FilingOutcome
from hegui.reports.registry import ReportContext, Reporter
from hegui.reports.source import Outcomes

_COUNTS = ("tests", "failures", "errors", "skipped")
_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
#: Stands for the root's children when its start and end tags are written around streamed suites.
_CHILDREN = "\x00children\x00"


def _finding_line(finding: Finding) -> str:
    return xml_safe(f"{finding.location}  {finding.item}：{finding.message}")


def _suite(outcome: FilingOutcome, rules: list[Rule]) -> tuple[ET.Element, Counter[str]]:
    """One filing's ``<testsuite>`` (its counts set) and those counts."""
    suite = ET.Element("testsuite", {"name": xml_safe(outcome.path)})
    counts: Counter[str] = Counter()
    if outcome.error is not None:
        case = ET.SubElement(suite, "testcase", {"classname": xml_safe(outcome.path), "name": "读取"})
        error = ET.SubElement(case, "error", {"message": xml_safe(outcome.error.message), "type": "InputError"})
        error.text = xml_safe(str(outcome.error))
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
            ET.SubElement(properties, "property", {"name": name, "value": xml_safe(value if value is not None else "")})
        by_rule: dict[str, list[Finding]] = {}
        for finding in outcome.findings:
            by_rule.setdefault(finding.rule_id, []).append(finding)
        known = {r.id for r in rules}
        # A finding of a rule missing from the rule set (a stale report) still gets its case.
        extra = sorted(set(by_rule) - known)
        for rule_id, title in [(r.id, r.title) for r in rules] + [(i, "") for i in extra]:
            findings = by_rule.get(rule_id, [])
            case = ET.SubElement(suite, "testcase", {"classname": xml_safe(outcome.path), "name": rule_id})
            counts.update(tests=1)
            failing = [f for f in not_waived(findings) if f.status != STATUS_CANNOT_VERIFY]
            unverifiable = [f for f in not_waived(findings) if f.status == STATUS_CANNOT_VERIFY]
            waived = [f for f in findings if f.waived]
            if failing:
                worst = max(failing, key=lambda f: SEVERITY_RANK[f.severity]).severity
                head = failing[0].message if len(failing) == 1 else f"{len(failing)}项不合规：{title}"
                failure = ET.SubElement(case, "failure", {"message": xml_safe(head), "type": worst})
                failure.text = "\n".join(_finding_line(f) for f in failing)
                counts.update(failures=1)
            elif unverifiable:
                head = unverifiable[0].message if len(unverifiable) == 1 else f"{len(unverifiable)}项无法核实：{title}"
                skipped = ET.SubElement(case, "skipped", {"message": xml_safe(head)})
                skipped.text = "\n".join(_finding_line(f) for f in unverifiable)
                counts.update(skipped=1)
            notes = []
            if failing and unverifiable:
                notes += ["无法核实：" + _finding_line(f) for f in unverifiable]
            notes += [f"已豁免（{xml_safe(f.waiver.reason)}）：" + _finding_line(f) for f in waived]
            if notes:
                ET.SubElement(case, "system-out").text = "\n".join(notes)
    for key in _COUNTS:
        suite.set(key, str(counts[key]))
    return suite, counts


def _root(totals: Counter[str]) -> ET.Element:
    root = ET.Element("testsuites", {"name": "hegui"})
    for key in _COUNTS:
        root.set(key, str(totals[key]))
    return root


def to_junit(outcomes: list[FilingOutcome], ruleset: RuleSet) -> str:
    """The batch as JUnit XML: a ``<testsuite>`` per filing, a ``<testcase>`` per rule.

    A rule with findings that fail (not under an active waiver) is a ``<failure>`` whose type
    is the worst severity and whose text lists location and message of each; a rule that only
    could not be verified is ``<skipped>``; every other rule passes, including rules that do
    not apply to the filing. Waived findings are listed in the test case's ``<system-out>``
    and never fail it. A file that could not be read is one test case, 读取, with an ``<error>``.
    """
    rules = rules_by_id(ruleset)
    suites = [_suite(outcome, rules) for outcome in outcomes]
    root = _root(sum((counts for _, counts in suites), Counter()))
    root.extend(suite for suite, _ in suites)
    ET.indent(root)
    return _XML_DECLARATION + ET.tostring(root, encoding="unicode") + "\n"


def stream(outcomes: Outcomes, context: ReportContext) -> Iterator[str]:
    """:func:`render`'s XML in pieces, one ``<testsuite>`` at a time.

    The root element states the totals, so ``outcomes`` is read twice: once to count, once to
    write. The pieces are what :func:`to_junit` writes for the whole tree: each suite indented
    one level, the root's start and end tags around them.
    """
    rules = rules_by_id(context.ruleset)
    if not len(outcomes):
        yield to_junit([], context.ruleset)
        return
    totals: Counter[str] = Counter()
    for outcome in outcomes:
        totals.update(_suite(outcome, rules)[1])
    root = _root(totals)
    root.text = _CHILDREN
    start, end = ET.tostring(root, encoding="unicode").split(_CHILDREN)
    yield _XML_DECLARATION + start
    for outcome in outcomes:
        suite, _ = _suite(outcome, rules)
        ET.indent(suite, level=1)
        yield "\n  " + ET.tostring(suite, encoding="unicode")
    yield "\n" + end + "\n"


def render(outcomes: Sequence[FilingOutcome], context: ReportContext) -> str:
    """JUnit XML for CI: a ``<testsuite>`` per filing and a ``<testcase>`` per rule, failing
    with the rule's findings, skipped when it could only not be verified; an unreadable file
    is one test case with an ``<error>``.
    """
    return to_junit(list(outcomes), context.ruleset)


REPORTER = Reporter("junit", "application/xml", ".xml", False, render, stream=stream)
