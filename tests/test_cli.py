"""The hegui command as a pipeline calls it: exit codes, JSON, several files, bad input."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from hegui.cli import main
from hegui.reports import report_schema

REPO = Path(__file__).resolve().parent.parent


def _run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_example_exits_1_and_groups_by_table(example_path):
    result = _run("check", str(example_path))
    assert result.exit_code == 1
    out = result.output
    assert out.index("【附件1】") < out.index("【附件2】") < out.index("【附件3-1】") < out.index("【附件3-5】")
    # Each finding shows its id (RULE-ID@hash), which `hegui why FILE ID` takes.
    assert re.search(rf"{re.escape(str(example_path))}:741  ZZ-ZCDY-001@[0-9a-f]{{8}}  错误", out)
    assert "29.76万元" in out and "20.00万元" in out
    assert "【无法核实】" in out


def test_fail_on_thresholds(example_path, tmp_path, mutate, errors_fixed):
    assert _run("check", "--fail-on", "never", str(example_path)).exit_code == 0
    # A filing with warnings only: fix everything the example gets wrong except the citation.
    # The village team gets 30万元, raised consistently through every table that sums it.
    clean = mutate(
        {
            **errors_fixed,
            532: "\t≤13.50万元",
        }
    )
    path = tmp_path / "clean.txt"
    path.write_text(clean, encoding="utf-8")
    assert _run("check", str(path)).exit_code == 0  # only warnings remain (citation, cannot verify)
    assert _run("check", "--fail-on", "warning", str(path)).exit_code == 1


def test_json_is_valid_and_byte_identical(example_path):
    first = _run("check", "--format", "json", str(example_path))
    second = _run("check", "--format", "json", str(example_path))
    assert first.exit_code == 1
    assert first.output == second.output
    document = json.loads(first.output)
    jsonschema.validate(document, report_schema())
    finding = next(f for f in document["filings"][0]["findings"] if f["rule_id"] == "ZZ-ZCDY-001")
    assert finding["expected"] == "≥ 29.76万元" and finding["actual"] == "20.00万元"
    assert finding["citation"]["document"].startswith("关于明确新一轮驻村工作队员待遇保障的通知")


def test_bad_file_reported_others_still_checked(example_path, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x00\x01binary\x00")
    result = _run("check", "--format", "json", str(bad), str(example_path))
    assert result.exit_code == 2
    document = json.loads(result.stdout)
    jsonschema.validate(document, report_schema())
    statuses = [f["status"] for f in document["filings"]]
    assert statuses == ["error", "checked"]
    assert str(bad) in document["filings"][0]["file"]
    assert document["filings"][1]["counts"]["error"] > 0


@pytest.mark.parametrize(
    "content, words",
    [
        (b"", "空"),
        (b"\x00\x01\x02", "二进制"),
        # Plain prose is read (text layouts) and then refused by the recogniser for want of a table.
        ("这是一封普通的信，没有任何表格。".encode(), "绩效目标表"),
        ("\t附件1\n\n\t部门名称\t某部门\n".encode(), "未识别"),
    ],
)
def test_bad_input_exit_2_with_chinese_message(tmp_path, content, words):
    path = tmp_path / "x.txt"
    path.write_bytes(content)
    result = _run("check", str(path))
    assert result.exit_code == 2
    assert str(path) in result.output and words in result.output


def test_truncated_filing_is_read_as_far_as_it_goes(tmp_path, example_text):
    # Cut inside 附件3-5's indicators (issue 11): what was read is checked, and the checks that
    # need the missing part are "cannot verify", naming it; the file is not refused.
    path = tmp_path / "cut.txt"
    path.write_text("\n".join(example_text.split("\n")[:770]), encoding="utf-8")
    result = _run("check", "--format", "json", str(path))
    assert result.exit_code == 1
    findings = json.loads(result.output)["filings"][0]["findings"]
    cut = [f for f in findings if f["table"] == "附件3-5" and f["status"] == "cannot_verify"]
    assert {f["rule_id"] for f in cut} == {"QG-IND-001", "QG-SUM-005", "QG-SUM-006"}
    assert all("第770行之后截断" in f["message"] and "支出明细及测算说明" in f["message"] for f in cut)
    # Everything before the cut is checked as in the whole filing.
    assert {"QG-SUM-007", "QG-CALC-001", "ZZ-ZCDY-001"} <= {f["rule_id"] for f in findings}


def test_gbk_filing_gives_the_same_findings(example_path, example_text, tmp_path):
    path = tmp_path / "gbk.txt"
    path.write_bytes(example_text.encode("gbk"))
    utf8 = json.loads(_run("check", "--format", "json", str(example_path)).output)
    gbk = json.loads(_run("check", "--format", "json", str(path)).output)

    def strip(doc):
        return [(f["rule_id"], f["line"], f["message"]) for f in doc["filings"][0]["findings"]]

    assert strip(utf8) == strip(gbk)
    assert gbk["filings"][0]["encoding"] == "gb18030"


def test_invalid_rules_stop_the_run(tmp_path, example_path):
    pack = tmp_path / "bad.yaml"
    pack.write_text("pack: {name: 测试}\nrules:\n  - id: T-001\n    titel: x\n", encoding="utf-8")
    result = _run("check", "--rules", str(pack), str(example_path))
    assert result.exit_code == 2
    assert "titel" in result.output and "title" in result.output


def test_usage_error_is_exit_2():
    assert _run("check").exit_code == 2
    assert _run("check", "--format", "xml", "x.txt").exit_code == 2


def test_console_script_installed(example_path):
    exe = shutil.which("hegui", path=str(Path(sys.executable).parent))
    assert exe, "the hegui console script is not installed next to this Python"
    done = subprocess.run([exe, "check", str(example_path)], capture_output=True, text=True)
    assert done.returncode == 1 and "ZZ-ZCDY-001" in done.stdout


def test_facts_lists_every_value_with_its_source(example_path):
    result = _run("facts", str(example_path))
    assert result.exit_code == 0
    assert f"项目金额：20.00万元    ← {example_path}:741" in result.output
    assert f"资金总额：（空白）    ← {example_path}:21" in result.output
    document = json.loads(_run("facts", "--format", "json", str(example_path)).output)
    by_key = {(v["entity"], v["field"]): v for v in document["values"]}
    amount = by_key[("附件3-2/明细4", "金额")]
    assert (amount["value"], amount["exact"], amount["source"]) == ("1.40万元", "14000元", f"{example_path}:454")
    assert by_key[("附件1", "资金总额")]["value"] == "（空白）"
    assert (
        _run("facts", "--format", "json", str(example_path)).output
        == _run("facts", "--format", "json", str(example_path)).output
    )


def test_facts_on_bad_input_is_exit_2(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    result = _run("facts", str(path))
    assert result.exit_code == 2 and str(path) in result.output


def test_batch_options_give_the_same_report(example_path, tmp_path, mutate):
    folder = tmp_path / "intake"
    folder.mkdir()
    (folder / "a.txt").write_text(mutate({}), encoding="utf-8")
    (folder / "b.txt").write_text(mutate({741: "\t30"}), encoding="utf-8")
    (folder / "c.txt").write_bytes(b"\x00binary")
    sequential = _run("check", "--format", "json", str(folder / "a.txt"), str(folder / "b.txt"), str(folder / "c.txt"))
    results = tmp_path / "results.jsonl"
    batch = _run("check", "--format", "json", "--jobs", "2", "--timeout", "60", "--results", str(results), str(folder))
    assert batch.exit_code == sequential.exit_code == 2
    assert batch.stdout == sequential.stdout
    lines = [json.loads(line) for line in results.read_text(encoding="utf-8").splitlines()]
    assert sorted(line["file"] for line in lines) == sorted(str(folder / n) for n in ("a.txt", "b.txt", "c.txt"))
    resumed = _run("check", "--format", "json", "--results", str(results), "--resume", str(folder))
    assert resumed.stdout == sequential.stdout


def test_jsonl_lines_follow_the_report_schema(example_path, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"")
    result = _run("check", "--format", "jsonl", str(example_path), str(bad))
    lines = [json.loads(line) for line in result.output.splitlines()]
    schema = report_schema()
    for line in lines[:-1]:
        jsonschema.validate(line, {"$ref": "#/$defs/filing", "$defs": schema["$defs"]})
    assert [line["status"] for line in lines[:-1]] == ["checked", "error"]
    assert lines[-1]["summary"]["counts"]["files"] == 2


def test_a_changed_rule_file_is_loaded_again_in_the_same_process(tmp_path, example_path):
    """The CLI keeps the rule sets it compiled (tests and embedding programs run many commands
    in one process); a rule file edited in between, even within the same clock tick and to the
    same size, must never be served from that cache."""
    pack = tmp_path / "village.yaml"
    original = (REPO / "rules" / "zhuzhou" / "village.yaml").read_text(encoding="utf-8")
    assert "ZZ-ZCDY-001" in original and "ZZ-ZCDY-009" not in original
    pack.write_text(original, encoding="utf-8")
    first = _run("check", "--rules", str(pack), "--format", "json", str(example_path))
    assert "ZZ-ZCDY-001" in first.output
    assert _run("check", "--rules", str(pack), "--format", "json", str(example_path)).output == first.output
    pack.write_text(original.replace("ZZ-ZCDY-001", "ZZ-ZCDY-009"), encoding="utf-8")  # same size
    second = _run("check", "--rules", str(pack), "--format", "json", str(example_path))
    assert "ZZ-ZCDY-009" in second.output and "ZZ-ZCDY-001" not in second.output
    listed = _run("rules", "list", "--rules", str(pack)).output
    assert "ZZ-ZCDY-009" in listed and "ZZ-ZCDY-001" not in listed
