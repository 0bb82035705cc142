"""`hegui impact`: what a changed rate or rule pack would flip, before the change is made.

The village-team rule (ZZ-ZCDY-001) asks 项目金额 ≥ rate × 队员 × 12 + 600 × 队员 + 15万元, with the
rate the filing itself states, else the policy's 驻村交通费标准 (株组〔2018〕93号); ZZ-ZCDY-002 reports
a stated rate that differs from the policy's. The example's 附件3-5 has 6 members and 20万元 and
states 2000元/人/月:
  its own rate: 2000×6×12 = 14.40万, + 0.36万 + 15万 = 29.76万 > 20万 → fails, whatever the policy says;
  policy 2000 → 1500: the stated 2000 now differs from the policy → ZZ-ZCDY-002 appears.
The same filing with the rate left out ("按规定落实交通费") takes the policy's rate:
  at 2000: 29.76万 > 20万 fails; at 1500: 1500×6×12 = 10.80万, + 0.36万 + 15万 = 26.16万 > 20万 →
  still fails, expected moves. With 27万元 the finding goes away at 1500 (26.16 ≤ 27 < 29.76);
  with 33万元 one appears at 3000 (3000×6×12 = 21.60万, + 0.36 + 15 = 36.96万 > 33万 ≥ 29.76万).
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from hegui.cli import main

RATE = "株洲市:驻村交通费标准"


STATED = "按2000元/人/月落实交通费，"
PROJECT_AMOUNT = 741  # 附件3-5 驻村工作队员待遇保障's 项目金额 (20)
CALCULATION = 831  # its 测算说明, which states the rates


def _impact(*args: str):
    return CliRunner().invoke(main, ["impact", *args])


def _variant(mutate, example_text: str, amount: str | None = None, stated: bool = True) -> str:
    """The example with another 项目金额 and/or the transport rate left out of its 测算说明."""
    lines = example_text.split("\n")
    assert STATED in lines[CALCULATION - 1]
    changes = {}
    if amount is not None:
        changes[PROJECT_AMOUNT] = f"\t{amount}"
    if not stated:
        changes[CALCULATION] = lines[CALCULATION - 1].replace(STATED, "按规定落实交通费，")
    return mutate(changes)


def test_example_states_its_rate_so_the_policy_change_shows_as_a_disagreement(example_path):
    result = _impact("--param", f"{RATE}=1500", str(example_path))
    assert result.exit_code == 1, result.output
    out = result.output
    assert f"{RATE}：2000（2021年起） → 1500元/人/月" in out
    # ZZ-ZCDY-001 is computed with the filing's own 2000元/人/月 before and after: unchanged.
    assert "ZZ-ZCDY-001@" not in out
    assert "+ 新增  ZZ-ZCDY-002@" in out
    assert (
        "测算说明写交通费2000元/人/月，《关于明确新一轮驻村工作队员待遇保障的通知》（株组〔2018〕93号）"
        "规定1500元/人/月，两者不一致"
    ) in out
    assert "受影响1份：新增发现1项，消失0项，内容变化0项" in out


def test_a_filing_that_states_no_rate_takes_the_policy_rate(tmp_path, mutate, example_text):
    path = tmp_path / "no-rate.txt"
    path.write_text(_variant(mutate, example_text, stated=False), encoding="utf-8")
    result = _impact("--param", f"{RATE}=1500", str(path))
    assert result.exit_code == 1, result.output
    out = result.output
    assert "~ 变化  ZZ-ZCDY-001@" in out and "ZZ-ZCDY-002" not in out  # nothing stated to disagree
    assert "改前：项目金额20.00万元，低于按6人、交通费2000元/人/月、保险600元/人/年测算的" in out
    assert "下限合计29.76万元" in out.split("改后")[0]
    assert "改后：项目金额20.00万元，低于按6人、交通费1500元/人/月、保险600元/人/年测算的" in out
    assert "下限合计26.16万元" in out.split("改后")[1]
    assert "受影响1份：新增发现0项，消失0项，内容变化1项" in out


def test_a_folder_shows_which_filings_lose_or_gain_the_finding(tmp_path, mutate, example_text):
    folder = tmp_path / "filings"
    folder.mkdir()
    (folder / "a-27wan.txt").write_text(_variant(mutate, example_text, "27", stated=False), encoding="utf-8")
    (folder / "b-33wan.txt").write_text(_variant(mutate, example_text, "33", stated=False), encoding="utf-8")
    (folder / "c-27wan-stated.txt").write_text(_variant(mutate, example_text, "27"), encoding="utf-8")
    (folder / "notes.md").write_text("not a filing", encoding="utf-8")  # not a suffix hegui reads: skipped
    (folder / "build").mkdir()
    (folder / "build" / "copy.txt").write_text("build output is never a filing", encoding="utf-8")
    lower = _impact("--param", f"{RATE}=1500", str(folder)).output
    assert "a-27wan.txt\n  - 消失  ZZ-ZCDY-001@" in lower
    assert "b-33wan.txt  无变化" in lower  # passes at 2000 and at 1500
    # Its own 2000 still asks 29.76万 > 27万: ZZ-ZCDY-001 stays as it was; the rates now disagree.
    stated = lower.split("c-27wan-stated.txt")[1]
    assert stated.startswith("\n  + 新增  ZZ-ZCDY-002@") and "ZZ-ZCDY-001" not in stated
    assert "申报3份（无法读取0份），受影响2份：新增发现1项，消失1项，内容变化0项" in lower
    higher = _impact("--param", f"{RATE}=3000", str(folder)).output
    assert "b-33wan.txt\n  + 新增  ZZ-ZCDY-001@" in higher
    assert "合计36.96万元" in higher
    assert "~ 变化  ZZ-ZCDY-001@" in higher.split("b-33wan.txt")[0]  # a-27wan fails either way, for more


def test_unchanged_rate_affects_nothing(example_path):
    result = _impact("--param", f"{RATE}=2000", str(example_path))
    assert result.exit_code == 0 and "无变化" in result.output


def test_a_changed_rule_pack_gives_the_same_preview_as_the_parameter(tmp_path, example_path):
    source = Path(__file__).parents[1] / "rules" / "zhuzhou" / "village.yaml"
    text = source.read_text(encoding="utf-8")
    assert "- {value: 2000, from: 2021}" in text
    changed = tmp_path / "village.yaml"
    changed.write_text(text.replace("- {value: 2000, from: 2021}", "- {value: 1500, from: 2021}"), encoding="utf-8")
    by_pack = _impact("--rules", str(changed), str(example_path)).output
    by_param = _impact("--param", f"{RATE}=1500", str(example_path)).output
    assert "规则包“株洲市”换为" in by_pack
    assert by_pack.split("\n\n", 1)[1] == by_param.split("\n\n", 1)[1]


def test_unreadable_filing_is_listed_and_the_others_still_previewed(tmp_path, example_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("这不是表格", encoding="utf-8")
    out = _impact("--param", f"{RATE}=1500", str(bad), str(example_path)).output
    assert "bad.txt  无法读取：" in out and "ZZ-ZCDY-002@" in out


def test_parameter_errors_are_clear(example_path):
    unknown = _impact("--param", "驻村交通标准=1500", str(example_path))
    assert unknown.exit_code == 2 and "没有名为“驻村交通标准”的参数" in unknown.output
    assert "驻村交通费标准" in unknown.output  # did-you-mean
    bad_value = _impact("--param", f"{RATE}=1,500", str(example_path))
    assert bad_value.exit_code == 2 and "十进制数" in bad_value.output
    nothing = _impact(str(example_path))
    assert nothing.exit_code == 2 and "--param" in nothing.output


def test_a_name_several_packs_define_must_be_qualified(example_path):
    # The example district plugin (installed for the tests, as the README says) overrides the
    # city's rate with a parameter of the same name; a bare name would change both.
    result = _impact("--param", "驻村交通费标准=1500", str(example_path))
    assert result.exit_code == 2
    assert "株洲市:驻村交通费标准" in result.output and "荷塘区（示例）:驻村交通费标准" in result.output
