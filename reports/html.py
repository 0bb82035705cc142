"""The HTML report: one self-contained page for people (inline CSS, no scripts).

Everything read from a filing is untrusted text and is HTML-escaped; the same input gives
byte-identical HTML.
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Sequence
from typing import Any

from hegui import __version__
from hegui.engine.findings import STATUS_CANNOT_VERIFY, Finding
from hegui.engine.rules import SEVERITY_NAMES, RuleSet
from hegui.reports.common import STATUS_NAMES, citation_text, not_waived
from hegui.reports.outcome import FilingOutcome, counts
from hegui.reports.registry import ReportContext, Reporter
from hegui.reports.source import OutcomeList, Outcomes

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
        input_rows: list[str] = []
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
            input_rows.append(
                f"<tr><td>{_e(node.get('name'))}</td><td>{_e(node.get('value'))}{how}{sub}</td>"
                f'<td class="loc">{_e(node.get("location", ""))}</td><td>{shown}</td></tr>'
            )
        parts.append(
            '<table class="inputs"><tr><th>输入</th><th>值</th><th>来源</th><th>原文</th></tr>'
            + "".join(input_rows)
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
        f' <span class="badge">{_e(STATUS_NAMES[finding.status])}</span>'
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
    cite = f'<p class="citation">依据：{_e(citation_text(finding.citation))}'
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
    tally = counts(outcome.findings)
    out.append(
        f'<p class="counts">共{tally["total"]}项：错误{tally["error"]}，警告{tally["warning"]}，提示{tally["info"]}'
        f"（其中无法核实{tally['cannot_verify']}）；另有已豁免{tally['waived']}项</p>"
    )
    if not outcome.findings:
        out.append("<p>未发现问题。</p>")
    failures = [f for f in not_waived(outcome.findings) if f.status != STATUS_CANNOT_VERIFY]
    unverifiable = [f for f in not_waived(outcome.findings) if f.status == STATUS_CANNOT_VERIFY]
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
    return "".join(stream(OutcomeList(outcomes), ReportContext(ruleset)))


def stream(outcomes: Outcomes, context: ReportContext) -> Iterator[str]:
    """:func:`render`'s page in pieces: the head and totals, the table of contents, then one
    filing's section at a time."""
    ruleset = context.ruleset
    totals = outcomes.totals
    tally = totals.counts
    head = [
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
        f'<p class="summary">检查文件{totals.files}个（无法读取{totals.input_errors}个），规则{len(ruleset.rules)}条'
        f"（规则包：{_e('、'.join(ruleset.packs) or '—')}）；发现{totals.findings}项："
        f"错误{tally['error']}，警告{tally['warning']}，提示{tally['info']}（其中无法核实{tally['cannot_verify']}），已豁免{tally['waived']}。</p>",
    ]
    yield "".join(line + "\n" for line in head)
    if totals.files > 1:
        yield '<ul class="toc">'
        for n, path in enumerate(outcomes.paths, 1):
            yield f'<li><a href="#filing-{n}">{_e(path)}</a></li>'
        yield "</ul>\n"
    for n, outcome in enumerate(outcomes, 1):
        yield _html_outcome(outcome, n) + "\n"
    yield f"<footer>hegui {_e(__version__)}</footer>\n</body>\n</html>\n"


def render(outcomes: Sequence[FilingOutcome], context: ReportContext) -> str:
    """One self-contained HTML page (inline CSS, no scripts, no external resources): per
    filing its department, year, jurisdiction and counts, findings grouped by table with
    location, severity, message, citation and derivation, then what could not be verified,
    what is waived, and files that could not be read.
    """
    return to_html(list(outcomes), context.ruleset)


REPORTER = Reporter("html", "text/html", ".html", False, render, stream=stream)
