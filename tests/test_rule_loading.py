"""Tests for rule pack loading: exact Chinese breadcrumbs for each kind of mistake, all
problems of all files reported together, and the built-in packs loading cleanly."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from hegui.engine.checks import CompareCheck
from hegui.engine.rules import RuleLoadError, RuleProblem, RuleSet, load_rules
from hegui.plugins import BUILTIN_PACK_DIRS, builtin_rule_paths

UNKNOWN_KEY = "（拼错的键会让条件被悄悄忽略，所以视为错误）"
RULE_KEYS = (
    "id（规则编号）、title（标题）、severity（严重程度）、tags（标签）、source（政策依据）、description（为什么检查）、"
    "fix（如何改正）、example（不合规示例）、subject（检查对象）、where（适用条件）、inputs（输入）、check（检查）、"
    "tolerance（容差）、message（消息模板）"
)
NOT_A_NAME = "既不是输入也不是参数；应为：inputs 或 parameters 中定义的名称"

# A valid pack, the model of the built-in ones. Line numbers matter: the expected breadcrumbs
# below are computed by hand from this text.
BASE = """\
pack:
  name: 测试
  jurisdiction: 测试
parameters:
  交通费标准:
    unit: 元/人/月
    values:
      - {value: 2000, from: 2021}
rules:
  - id: CS-JT-001
    title: 测试规则
    severity: error
    source:
      document: 测试文件
    subject: 附件3
    where:
      - {field: 名称, contains_any: [驻村工作队]}
    inputs:
      项目金额: {amount: 项目金额}
      队员人数: {count: 人, scope: 本表}
    check: 项目金额 ≥ 交通费标准 × 队员人数 × 12月/年
    message: 项目金额{项目金额}低于{期望}
"""


def mutate(old: str, new: str, text: str = BASE) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def write(folder: Path, text: str, name: str = "p.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(*paths: Path) -> list[RuleProblem]:
    with pytest.raises(RuleLoadError) as info:
        load_rules(list(paths))
    error = info.value
    assert error.problems
    assert str(error) == "\n".join(str(p) for p in error.problems)
    return error.problems


def crumbs(text: str, tmp_path: Path) -> tuple[str, list[str]]:
    """(file name as shown, breadcrumbs) for a one-file pack folder."""
    path = write(tmp_path / "pack", text)
    return str(path), [str(p) for p in problems_of(tmp_path / "pack")]


# --- the model pack --------------------------------------------------------------------------------


def test_base_pack_is_valid(tmp_path: Path) -> None:
    write(tmp_path, BASE)
    ruleset = load_rules([tmp_path])
    assert [r.id for r in ruleset.rules] == ["CS-JT-001"]
    rule = ruleset.rules[0]
    assert rule.pack == "测试" and rule.line == 10 and rule.subject == "附件3" and isinstance(rule.check, CompareCheck)
    assert [i.name for i in rule.inputs] == ["项目金额", "队员人数"]
    assert [p.name for p in rule.parameters] == ["交通费标准"]
    assert ruleset.parameters["测试:交通费标准"].values[0].value == Decimal(2000)
    assert ruleset.packs == ["测试"]


# --- breadcrumbs, one kind of mistake at a time ---------------------------------------------------


def test_unknown_top_level_key_with_did_you_mean(tmp_path: Path) -> None:
    f, found = crumbs(mutate("rules:\n", "rule:\n"), tmp_path)
    assert found == [
        f"{f}:9:1 › 键 rule：未知的键“rule”{UNKNOWN_KEY}；应为：pack（规则包信息）、parameters（参数）、rules（规则列表）；您是不是想写“rules”？",
        f"{f}:1:1 › 键 rules：缺少规则列表或格式不对；应为：rules: 后接以 - 开头的规则",
    ]


def test_unknown_pack_info_key(tmp_path: Path) -> None:
    f, found = crumbs(mutate("jurisdiction: 测试", "jurisdction: 测试"), tmp_path)
    assert found == [
        f"{f}:3:3 › 键 pack.jurisdction：未知的键“jurisdction”{UNKNOWN_KEY}；应为：name（规则包名称）、jurisdiction（适用地区）、description（说明）；您是不是想写“jurisdiction”？"
    ]


def test_unknown_rule_key(tmp_path: Path) -> None:
    f, found = crumbs(mutate("    severity: error\n", "    sevrity: error\n"), tmp_path)
    assert found == [
        f"{f}:12:5 › 规则 CS-JT-001 › 键 sevrity：未知的键“sevrity”{UNKNOWN_KEY}；应为：{RULE_KEYS}；您是不是想写“severity”？",
        f"{f}:10:5 › 规则 CS-JT-001 › 键 severity：缺少必填的键“severity”",
    ]


def test_bad_severity_value(tmp_path: Path) -> None:
    f, found = crumbs(mutate("severity: error", "severity: fatal"), tmp_path)
    assert found == [f"{f}:12:15 › 规则 CS-JT-001 › 键 severity：未知的严重程度“fatal”；应为：error、warning、info"]


def test_misspelt_severity_value_has_suggestion(tmp_path: Path) -> None:
    f, found = crumbs(mutate("severity: error", "severity: eror"), tmp_path)
    assert found == [
        f"{f}:12:15 › 规则 CS-JT-001 › 键 severity：未知的严重程度“eror”；应为：error、warning、info；您是不是想写“error”？"
    ]


def test_missing_source(tmp_path: Path) -> None:
    f, found = crumbs(mutate("    source:\n      document: 测试文件\n", ""), tmp_path)
    assert found == [f"{f}:10:5 › 规则 CS-JT-001 › 键 source：缺少政策依据（source）：每条规则都要写明依据的文件和条款"]


def test_source_without_document(tmp_path: Path) -> None:
    f, found = crumbs(mutate("      document: 测试文件\n", "      clause: 第一条\n"), tmp_path)
    assert found == [f"{f}:14:7 › 规则 CS-JT-001 › 键 source.document：缺少必填的键“document”"]


def test_bad_rule_id_format(tmp_path: Path) -> None:
    f, found = crumbs(mutate("CS-JT-001", "cs-jt-001"), tmp_path)
    assert found == [
        f"{f}:10:9 › 规则 cs-jt-001 › 键 id：规则编号“cs-jt-001”格式不正确；应为：大写字母、数字和连字符，如 ZZ-ZCDY-001"
    ]


def test_duplicate_rule_id_across_two_files(tmp_path: Path) -> None:
    first = write(tmp_path, BASE, "a.yaml")
    second = write(tmp_path, BASE, "b.yaml")
    found = [str(p) for p in problems_of(tmp_path)]
    assert found == [f"{second}:10:1 › 规则 CS-JT-001 › 键 id：规则编号重复：已在 {first}:10 定义"]


def test_unknown_subject_kind(tmp_path: Path) -> None:
    text = mutate("subject: 附件3", "subject: 附件4")
    f, found = crumbs(text, tmp_path)
    assert found[0] == (
        f"{f}:15:14 › 规则 CS-JT-001 › 键 subject：未知的检查对象“附件4”；"
        "应为：申报、附件1、附件2、附件3、汇总行、明细、指标、测算项、测算式、计数、费率、比例、"
        "项目表、资金行、执行行、明细表、项目清单；您是不是想写“附件3”？"
    )


def test_unknown_field_in_where(tmp_path: Path) -> None:
    f, found = crumbs(mutate("field: 名称", "field: 名字"), tmp_path)
    assert found == [
        f"{f}:17:17 › 规则 CS-JT-001 › 键 where[0].field：“附件3”没有名为“名字”的字段；"
        "应为：名称、所属专项、项目实施期、实施期绩效目标、年度绩效目标、部门名称、单位负责人、填表人、联系电话；您是不是想写“名称”？"
    ]


def test_misspelt_condition_operator(tmp_path: Path) -> None:
    f, found = crumbs(mutate("contains_any:", "contians_any:"), tmp_path)
    assert found == [
        f"{f}:17:21 › 规则 CS-JT-001 › 键 where[0].contians_any：未知的键“contians_any”{UNKNOWN_KEY}；"
        "应为：field（字段）、equals（equals）、contains_any（contains_any）、contains_all（contains_all）、excludes_any（excludes_any）、"
        "present（present）、absent（absent）、has_children（has_children）、in_table（in_table）；您是不是想写“contains_any”？",
        f"{f}:17:9 › 规则 CS-JT-001 › 键 where[0]：每个条件须且只须写一种比较；"
        "应为：equals、contains_any、contains_all、excludes_any、present、absent、has_children、in_table",
    ]


def test_unknown_input_field_with_suggestion(tmp_path: Path) -> None:
    f, found = crumbs(mutate("{amount: 项目金额}", "{amount: 项目经费}"), tmp_path)
    assert found == [
        f"{f}:19:22 › 规则 CS-JT-001 › 键 inputs.项目金额.amount：“附件3”没有名为“项目经费”的金额字段；应为：项目金额、明细合计；您是不是想写“项目金额”？"
    ]


def test_unknown_relation_in_input(tmp_path: Path) -> None:
    f, found = crumbs(mutate("{amount: 项目金额}", "{amount: 项目金额, of: 上级}"), tmp_path)
    assert found == [
        f"{f}:19:32 › 规则 CS-JT-001 › 键 inputs.项目金额.of：无法从“附件3”沿关系“上级”找到对象；应为：所属、所属表、对应附件3、对应汇总行、附件1、附件2、申报"
    ]


def test_unknown_name_in_check(tmp_path: Path) -> None:
    f, found = crumbs(mutate("× 12月/年", "× 12月/年 + 其他费用"), tmp_path)
    assert found == [f"{f}:21:12 › 规则 CS-JT-001 › 键 check：表达式中的名称“其他费用”{NOT_A_NAME}"]


def test_misspelt_name_in_check_has_suggestion(tmp_path: Path) -> None:
    f, found = crumbs(mutate("× 队员人数 ×", "× 队员人 ×"), tmp_path)
    assert found == [
        f"{f}:21:12 › 规则 CS-JT-001 › 键 check：表达式中的名称“队员人”{NOT_A_NAME}；您是不是想写“队员人数”？"
    ]


def test_unit_mismatch_monthly_rate_against_yearly_amount(tmp_path: Path) -> None:
    f, found = crumbs(mutate(" × 12月/年\n", "\n"), tmp_path)
    assert found == [
        f"{f}:21:12 › 规则 CS-JT-001 › 键 check：比较两边单位不一致：项目金额 是“元/年”，交通费标准 × 队员人数 是“元/月”；"
        "应为：两边单位相同（预算金额按“元/年”计，按月的标准要乘以“12月/年”）"
    ]


def test_adding_money_and_people_in_check(tmp_path: Path) -> None:
    f, found = crumbs(mutate("× 12月/年", "× 12月/年 + 队员人数"), tmp_path)
    assert found == [
        f"{f}:21:12 › 规则 CS-JT-001 › 键 check：单位不一致：交通费标准 × 队员人数 × 12月/年（元/年）与 队员人数（人）不能相加"
    ]


def test_syntax_error_in_check(tmp_path: Path) -> None:
    f, found = crumbs(mutate("项目金额 ≥ 交通费标准", "项目金额 ≥≥ 交通费标准"), tmp_path)
    assert found == [
        f"{f}:21:12 › 规则 CS-JT-001 › 键 check：第7个字符“≥”处应为数值、名称或括号；应为：如“金额 ≥ 交通费标准 × 人数 × 12月/年”"
    ]


def test_missing_check(tmp_path: Path) -> None:
    f, found = crumbs(mutate("    check: 项目金额 ≥ 交通费标准 × 队员人数 × 12月/年\n", ""), tmp_path)
    assert found == [f"{f}:10:5 › 规则 CS-JT-001 › 键 check：缺少检查（check）"]


def test_unknown_parameter_unit(tmp_path: Path) -> None:
    text = mutate("parameters:\n", "parameters:\n  备用标准:\n    unit: 元/人/越\n    values:\n      - {value: 1}\n")
    f, found = crumbs(text, tmp_path)
    assert found == [
        f"{f}:6:11 › 键 parameters.备用标准.unit：无法识别的单位“越”（在“元/人/越”中）；应为：例如 元/人/月、万元/村/年、人/村"
    ]


def test_parameter_period_until_before_from(tmp_path: Path) -> None:
    f, found = crumbs(mutate("{value: 2000, from: 2021}", "{value: 2000, from: 2021, until: 2019}"), tmp_path)
    assert found == [f"{f}:8:9 › 键 parameters.交通费标准.values[0]：截止年度2019早于起始年度2021"]


def test_parameter_year_out_of_range(tmp_path: Path) -> None:
    f, found = crumbs(mutate("from: 2021", "from: 1980"), tmp_path)
    assert found == [
        f"{f}:8:29 › 键 parameters.交通费标准.values[0].from：年度应为1990到2100之间的整数，实际是数字 1980；应为：例如 2023"
    ]


def test_parameter_value_too_large(tmp_path: Path) -> None:
    f, found = crumbs(mutate("value: 2000,", "value: 1" + "0" * 400 + ","), tmp_path)
    assert found[0] == f"{f}:8:17 › 键 parameters.交通费标准.values[0].value：数值过大"


def test_message_placeholder_that_is_not_an_input_or_parameter(tmp_path: Path) -> None:
    f, found = crumbs(mutate("{期望}", "{标准}"), tmp_path)
    assert found == [
        f"{f}:22:14 › 规则 CS-JT-001 › 键 message：消息模板中的“{{标准}}”不是输入、参数或内置名称；"
        "应为：交通费标准、实际、对象、期望、表、队员人数、项目金额；您是不是想写“交通费标准”？"
    ]


def test_unknown_count_key(tmp_path: Path) -> None:
    f, found = crumbs(mutate("{count: 人, scope: 本表}", "{count: 队员, scope: 本表}"), tmp_path)
    assert found[0] == (
        f"{f}:20:21 › 规则 CS-JT-001 › 键 inputs.队员人数.count：未知的计数对象或量词“队员”；"
        "应为：facts/entities.yaml 中的对象类别或量词；您是不是想写“驻村工作队员”？"
    )


def test_unknown_count_scope(tmp_path: Path) -> None:
    f, found = crumbs(mutate("scope: 本表", "scope: 本页"), tmp_path)
    assert found == [
        f"{f}:20:31 › 规则 CS-JT-001 › 键 inputs.队员人数.scope：未知的计数范围“本页”；应为：本行、本表、全文；您是不是想写“本表”？"
    ]


def test_bad_input_name(tmp_path: Path) -> None:
    text = mutate(
        "      项目金额: {amount: 项目金额}\n",
        '      项目金额: {amount: 项目金额}\n      "金额.x": {amount: 项目金额}\n',
    )
    f, found = crumbs(text, tmp_path)
    assert found == [f"{f}:20:7 › 规则 CS-JT-001 › 键 inputs.金额.x：输入名“金额.x”只能由汉字、字母、数字和下划线组成"]


def test_yaml_syntax_error_with_line_and_column(tmp_path: Path) -> None:
    f, found = crumbs(mutate("    title: 测试规则\n", "    title: [测试规则\n"), tmp_path)
    assert found == [f"{f}:12:13：YAML 语法错误：expected ',' or ']', but got ':'"]


def test_strict_yaml_problem_becomes_a_breadcrumb(tmp_path: Path) -> None:
    f, found = crumbs(mutate("{value: 2000,", "{value: 1e3,"), tmp_path)
    assert found == [
        f"{f}:8:17：“1e3”有歧义（前导零、科学计数法、八/十六进制或时间格式会被不同程序读成不同的数）：请写成普通十进制数，或加引号作为文字"
    ]


def test_empty_file_is_not_a_pack(tmp_path: Path) -> None:
    f, found = crumbs("", tmp_path)
    assert found == [f"{f}:1:1：应为键值对（映射），实际是空值；应为：键: 值 的形式"]


def test_text_where_a_number_is_expected(tmp_path: Path) -> None:
    f, found = crumbs(mutate("value: 2000,", "value: 两千,"), tmp_path)
    assert (
        found[0]
        == f"{f}:8:17 › 键 parameters.交通费标准.values[0].value：应为十进制数，实际是文字“两千”；应为：例如 2000 或 0.5"
    )


# --- cascades: a breadcrumb must not contradict the file ------------------------------------------


@pytest.mark.parametrize(
    "old, new",
    [
        ("subject: 附件3", "subject: 附件4"),  # inputs are skipped when the subject is unknown
        ("{count: 人, scope: 本表}", "{count: 队员, scope: 本表}"),  # an input with an unknown count key is dropped
        ("unit: 元/人/月", "unit: 元/人/越"),  # a parameter with a bad unit is dropped
        ("value: 2000,", "value: 两千,"),  # a parameter whose only value is bad is dropped
    ],
)
def test_no_false_not_an_input_breadcrumb(old: str, new: str, tmp_path: Path) -> None:
    _, found = crumbs(mutate(old, new), tmp_path)
    assert not [c for c in found if "既不是输入也不是参数" in c]
    assert len(found) == 1


# --- whole-set behaviour ---------------------------------------------------------------------------


def test_empty_directory_is_an_error(tmp_path: Path) -> None:
    found = [str(p) for p in problems_of(tmp_path)]
    assert found == [f"{tmp_path}：没有找到任何规则文件（*.yaml）：没有规则就无法判断是否合规"]


def test_directory_with_only_case_files_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "cases: []\n", "x.cases.yaml")
    write(tmp_path, BASE, "notes.yml")  # only *.yaml is a pack
    found = [str(p) for p in problems_of(tmp_path)]
    assert found == [f"{tmp_path}：没有找到任何规则文件（*.yaml）：没有规则就无法判断是否合规"]


def test_no_rules_at_all_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "pack:\n  name: 空\nrules: []\n")
    with pytest.raises(RuleLoadError):
        load_rules([tmp_path])


def test_problems_of_several_files_are_reported_together(tmp_path: Path) -> None:
    a = write(tmp_path, mutate("severity: error", "severity: fatal"), "a.yaml")
    b = write(tmp_path, mutate("CS-JT-001", "CS-JT-002", mutate("field: 名称", "field: 名字")), "b.yaml")
    c = write(tmp_path, "pack: [\n", "c.yaml")
    d = write(tmp_path, mutate("CS-JT-001", "CS-JT-004"), "d.yaml")  # valid: still no partial rule set
    found = [str(p) for p in problems_of(tmp_path)]
    assert [x.split(":")[0] for x in found] == [str(a), str(b), str(c)]
    assert found[0].startswith(f"{a}:12:15 › 规则 CS-JT-001 › 键 severity：")
    assert found[1].startswith(f"{b}:17:17 › 规则 CS-JT-002 › 键 where[0].field：")
    assert found[2] == f"{c}:2:1：YAML 语法错误：expected the node content, but found '<stream end>'"
    assert d.exists()


def test_several_mistakes_in_one_rule_are_all_reported(tmp_path: Path) -> None:
    text = mutate(
        "severity: error", "severity: fatal", mutate("field: 名称", "field: 名字", mutate("{期望}", "{标准}"))
    )
    f, found = crumbs(text, tmp_path)
    assert [c.split("：")[0] for c in found] == [
        f"{f}:12:15 › 规则 CS-JT-001 › 键 severity",
        f"{f}:17:17 › 规则 CS-JT-001 › 键 where[0].field",
        f"{f}:22:14 › 规则 CS-JT-001 › 键 message",
    ]


def test_files_and_folders_can_be_mixed(tmp_path: Path) -> None:
    one = write(tmp_path / "x", BASE, "a.yaml")
    write(tmp_path / "y" / "deep", mutate("CS-JT-001", "CS-JT-002"), "b.yaml")
    ruleset = load_rules([one, tmp_path / "y"])
    assert [r.id for r in ruleset.rules] == ["CS-JT-001", "CS-JT-002"]
    assert ruleset.packs == ["测试"]


def test_missing_file_is_a_breadcrumb(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    found = [str(p) for p in problems_of(missing)]
    assert found == [f"{missing}：无法读取规则文件：No such file or directory"]


# --- RuleProblem format ----------------------------------------------------------------------------


def test_rule_problem_format() -> None:
    full = RuleProblem("a.yaml", 3, 7, "ZZ-X-001", "inputs.金额", "消息", "期望值", "建议")
    assert str(full) == "a.yaml:3:7 › 规则 ZZ-X-001 › 键 inputs.金额：消息；应为：期望值；您是不是想写“建议”？"
    assert str(RuleProblem("a.yaml", 0, 0, "", "", "消息")) == "a.yaml：消息"
    assert str(RuleProblem("a.yaml", 2, 1, "", "rules", "消息")) == "a.yaml:2:1 › 键 rules：消息"


# --- built-in packs --------------------------------------------------------------------------------


def test_every_builtin_pack_loads_without_problems() -> None:
    paths = builtin_rule_paths()
    assert [p.name for p in paths] == list(BUILTIN_PACK_DIRS)
    ruleset = load_rules(paths)
    assert isinstance(ruleset, RuleSet)
    # In the order their files load: rules/national/{arithmetic,coherence,hygiene,indicators,projects,quality}.yaml.
    assert ruleset.packs == [
        "全国",
        "全国·目标指标匹配",
        "全国·文字规范",
        "全国·项目表",
        "全国·指标质量",
        "湖南省",
        "株洲市",
        "石峰区",
    ]
    ids = [r.id for r in ruleset.rules]
    assert len(ids) == len(set(ids)) >= 30
    assert ids == sorted(ids)
    for rule in ruleset.rules:
        assert rule.source.document, rule.id
        assert rule.severity in ("error", "warning", "info")


@pytest.mark.parametrize("pack_dir", BUILTIN_PACK_DIRS)
def test_each_builtin_pack_loads_on_its_own(pack_dir: str) -> None:
    path = next(p for p in builtin_rule_paths() if p.name == pack_dir)
    ruleset = load_rules([path])
    assert ruleset.rules


def test_builtin_rule_without_months_per_year_fails(tmp_path: Path) -> None:
    source = next(p for p in builtin_rule_paths() if p.name == "zhuzhou") / "village.yaml"
    text = source.read_text(encoding="utf-8")
    broken = write(tmp_path, text.replace("交通费标准 × 队员人数 × 12月/年", "交通费标准 × 队员人数"), "village.yaml")
    line = next(n for n, t in enumerate(text.splitlines(), 1) if "交通费标准 × 队员人数 × 12月/年" in t)
    found = [str(p) for p in problems_of(broken)]
    assert found == [
        f"{broken}:{line}:12 › 规则 ZZ-ZCDY-001 › 键 check：单位不一致：交通费标准 × 队员人数（元/月）与 意外伤害保险标准 × 队员人数（元/年）不能相加"
    ]


def test_deeply_nested_rule_file_is_a_breadcrumb(tmp_path: Path) -> None:
    write(tmp_path, "rules: " + "[" * 3000 + "]" * 3000 + "\n")
    found = [str(p) for p in problems_of(tmp_path)]
    assert "嵌套层数超过40层" in found[0]
