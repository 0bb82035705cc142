"""`hegui why` takes whatever `hegui check` printed: the finding id, the rule id, the location."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from hegui.cli import main
from hegui.engine.select import select
from hegui.facts.read import read_filing


def _make_xlsx():
    # --import-mode=importlib puts nothing on sys.path; load the generator by file (as test_xlsx does).
    if "make_xlsx" not in sys.modules:
        spec = importlib.util.spec_from_file_location("make_xlsx", Path(__file__).parent / "make_xlsx.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["make_xlsx"] = module
        spec.loader.exec_module(module)
    return sys.modules["make_xlsx"]


@pytest.fixture(scope="module")
def explained(evaluator, example_path):
    return evaluator.check(read_filing(example_path), explain=True)


def test_text_output_shows_each_finding_id(example_path, explained):
    output = CliRunner().invoke(main, ["check", str(example_path)]).output
    printed = re.findall(r"^    \S+  ([A-Z]+(?:-[A-Z]+)*-\d+@[0-9a-f]{8})  ", output, re.M)
    assert sorted(printed) == sorted(f.id for f in explained.findings)


def test_every_printed_id_and_location_is_accepted_by_why(example_path, explained):
    # Every id and location `check` prints selects that finding; select() is what `hegui why`
    # resolves a selector with, so each is tried in-process (one check), and the command itself
    # on a sample of both kinds.
    by_id = {f.id: f for f in explained.findings}
    output = CliRunner().invoke(main, ["check", str(example_path)]).output
    printed = [m.groups() for m in re.finditer(r"^    (\S+)  (\S+@[0-9a-f]{8})  ", output, re.M)]
    assert printed
    for location, finding_id in printed:
        assert select(explained, finding_id).finding is by_id[finding_id]
        # A location means what stands there: the finding, or the item on that line or cell
        # (select raises SelectionError, which `why` reports with exit 2, for anything else).
        target = select(explained, location)
        assert target.finding is not None or target.findings or target.entity, location
    for selector in (*printed[0], *printed[len(printed) // 2], *printed[-1]):
        result = CliRunner().invoke(main, ["why", str(example_path), selector])
        assert result.exit_code == 0, (selector, result.output)


def test_rule_id_with_one_finding_selects_it(explained):
    target = select(explained, "ZZ-ZCDY-001")
    assert target.finding is not None and target.finding.rule_id == "ZZ-ZCDY-001"


def test_rule_id_with_several_findings_explains_each(example_path, explained):
    ids = [f.id for f in explained.findings if f.rule_id == "QG-X-003"]
    assert len(ids) == 3
    assert [f.id for f in select(explained, "QG-X-003").findings] == ids
    result = CliRunner().invoke(main, ["why", str(example_path), "QG-X-003", "--format", "json"])
    document = json.loads(result.output)
    assert document["findings"] == ids
    assert [t["subject"]["item"] for t in document["explanations"]] == [
        "村级组织运转经费",
        "业务性专项经费",
        "驻村工作队队员待遇保障",
    ]
    text = CliRunner().invoke(main, ["why", str(example_path), "QG-X-003"]).output
    assert text.count("QG-X-003 ") == 3


def test_a_line_still_means_the_item_there(explained):
    target = select(explained, "741")
    assert target.finding is None and explained.facts.provenance.item_of[target.entity] == "驻村工作队员待遇保障"
    assert select(explained, "741-745").entity == target.entity


def test_workbook_locations_as_printed(tmp_path, evaluator):
    path = _make_xlsx().write_form_xlsx(tmp_path / "form.xlsx")
    result = evaluator.check(read_filing(path), explain=True)
    finding = next(f for f in result.findings if f.rule_id == "ZZ-ZCDY-001")
    assert finding.location == f"{path}:附件3-5!B5:C5"
    for selector in (finding.location, "附件3-5!B5:C5", finding.id):
        assert select(result, selector).finding == finding
    why = CliRunner().invoke(main, ["why", str(path), "附件3-5!B5:C5"])
    assert why.exit_code == 0 and "2000元/人/月 × 6人 × 12月/年" in why.output
    # Every location and id check prints for the workbook is accepted, with or without the file.
    for f in result.findings:
        for selector in (f.location, f.location.split(":", 1)[1], f.id):
            target = select(result, selector)
            named = [target.finding.id] if target.finding else [n.id for n in target.findings]
            assert f.id in named or target.entity == f.subject, selector
    shared = [f for f in result.findings if f.location.endswith(":附件1!B5:E5")]
    assert len({f.subject for f in shared}) > 1  # the blank 资金总额 cell: several items' findings
    assert [f.id for f in select(result, "附件1!B5:E5").findings] == [f.id for f in shared]


def test_html_and_xlsx_reports_carry_the_explanation_without_asking(example_path, tmp_path):
    from openpyxl import load_workbook

    html = CliRunner().invoke(main, ["check", "--format", "html", str(example_path)]).output
    assert "推导过程" in html and "2000元/人/月 × 6人 × 12月/年 = 144000元 = 14.40万元" in html
    out = tmp_path / "report.xlsx"
    CliRunner().invoke(main, ["check", "--format", "xlsx", "-o", str(out), str(example_path)])
    comments = [
        c.comment.text for ws in load_workbook(out).worksheets for row in ws.iter_rows() for c in row if c.comment
    ]
    assert any("2000元/人/月 × 6人 × 12月/年" in text for text in comments)
    plain = CliRunner().invoke(main, ["check", "--format", "json", str(example_path)]).output
    assert '"explanation"' not in plain  # JSON stays as it was: explanations only with --explain
