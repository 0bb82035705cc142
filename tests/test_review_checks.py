"""What a 财政 reviewer marks on the example filing (issue 12), with the reasoning, once each.

Every defect issue 12 lists is worked out here from the tables themselves and must be reported
exactly once; every sum, tie-out and rate that holds is kept as a negative control. A control
whose parameter came from the example (a rate known only from the filing's quotation) is listed
apart and does not count as evidence that the rule works.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from hegui.cli import main
from hegui.engine.findings import STATUS_FAIL
from hegui.facts.read import read_filing
from hegui.facts.review import MAX_TERM_CHARS, TermsError, load_terms, parse_terms, token_pattern


@pytest.fixture(scope="module")
def findings(evaluator, example_path):
    return [f for f in evaluator.check(read_filing(example_path)).findings if f.status == STATUS_FAIL]


def _variant(tmp_path: Path, example_text: str, old: str, new: str) -> Path:
    assert old in example_text
    path = tmp_path / "variant.txt"
    path.write_text(example_text.replace(old, new), encoding="utf-8")
    return path


# -- the defects of issue 12's “Why”, each with the finding that reports it ------------------------

#: (rule, table, the filing's words the finding quotes): one row per defect.
REVIEWER_FINDINGS = {
    # Slogan values: no number, a verb phrase (review-terms.yaml: slogans, slogan_verbs).
    ("QG-QLT-001", "附件1", "提升服务"),
    ("QG-QLT-001", "附件1", "深入推进，强化管理"),
    ("QG-QLT-001", "附件3-1", "维护稳定"),
    ("QG-QLT-001", "附件3-1", "提升幸福感"),
    ("QG-QLT-001", "附件3-2", "强化管理"),
    ("QG-QLT-001", "附件3-2", "提升功能"),
    ("QG-QLT-001", "附件3-3", "推进队伍建设"),
    ("QG-QLT-001", "附件3-3", "高质量发展"),
    ("QG-QLT-001", "附件3-4", "推进队伍建设"),
    ("QG-QLT-001", "附件3-4", "高质量发展"),
    ("QG-QLT-001", "附件3-5", "强化管理"),
    ("QG-QLT-001", "附件3-5", "提升功能"),
    # “≥95%” on an indicator named after a goal sentence (3-1's “…落实比例 100%” is a ratio: not here).
    ("QG-QLT-003", "附件1", "深学笃用习近平新时代中国特色社会主义思想，坚持固本强基，不断推进基层党组织建设…：≥95%"),
    ("QG-QLT-003", "附件3-2", "强化党建引领，不断提高基层党组织组织力：≥95%"),
    ("QG-QLT-003", "附件3-3", "坚持固本强基，夯实基层基础，加强干部队伍建设，推进公务员管理实效，有效激发人才…：≥95%"),
    ("QG-QLT-003", "附件3-4", "推进“动力党建·活力家园”建设基层党建组织：≥95%"),
    ("QG-QLT-003", "附件3-5", "建设美丽乡村，促进乡村振兴：≥95%"),
    # 附件1's 产出数量 cell holds four counts (76名, 9个村, 33名, 176名).
    ("QG-QLT-006", "附件1", "副县以上老干部76名，9个村33名村支“两委”成员，离任村主干176名。"),
    # Goals naming quantities no indicator takes up (3-1: its indicators are 76人, 100%, a date, ≤70万元).
    ("QG-COH-001", "附件3-1", "5个涉老组织"),
    ("QG-COH-001", "附件3-1", "18个离退休干部党支部"),
    # The same 效益/满意度 text in several directions: one finding per group of identical rows.
    ("QG-COH-002", "附件1", "满意度指标“受益党员干部和服务对象满意度：≥90%”在附件1、附件3-2、附件3-5完全相同"),
    (
        "QG-COH-002",
        "附件3-2",
        "社会效益指标“强化党建引领，引导各方党员参与到社会治理：强化管理”在附件3-2、附件3-5完全相同",
    ),
    (
        "QG-COH-002",
        "附件3-2",
        "可持续影响指标“强化党建引领，不断提高基层党组织的政治功能和服务功能：提升功能”在附件3-2、附件3-5完全相同",
    ),
    (
        "QG-COH-002",
        "附件3-3",
        "社会效益指标“推进基层党组织和党员、领导班子和干部队伍、人才队伍建设：推进队伍建设”在附件3-3、附件3-4完全相同",
    ),
    (
        "QG-COH-002",
        "附件3-3",
        "可持续影响指标“为石峰高质量发展提供坚强的组织保障：高质量发展”在附件3-3、附件3-4完全相同",
    ),
    ("QG-COH-002", "附件3-3", "满意度指标“党员、干部等满意度：≥90%”在附件3-3、附件3-4完全相同"),
    # Funded directions missing from 附件1's 年度重点工作计划 (its three plans: 老干部服务, 村级组织运转,
    # 党建、干部、人才、公务员管理): 城市基层党建 (180万) and 驻村工作队 (20万) are in none of them.
    ("QG-COH-005", "附件3-4", "城市基层党建工作经费"),
    ("QG-COH-005", "附件3-5", "驻村工作队员待遇保障"),
    # Spending lines no goal or indicator of their table names: 3-2's goals speak of 工资、办公、党建、
    # 离任补助 and its indicators of 两委成员 pay; neither the 27万 村级服务群众专项经费 nor the
    # 养老保险补贴 appears. (3-5's line is covered by “下派工作队2支6人”, 3-3's 党建 by “党建、人才…”.)
    ("QG-COH-006", "附件3-2", "村级服务群众专项经费"),
    ("QG-COH-006", "附件3-2", "村主干（仅村书记）养老保险补贴"),
    # Text defects a reviewer marks in seconds.
    ("QG-HYG-001", "附件3-2", "1000月/人/年"),  # 元 missing
    ("QG-HYG-002", "附件3-2", "9各村"),  # 个 written 各
    ("QG-HYG-003", "附件3-4", "，推进“动力党建·活力家园”建设基层党建组织，建设基层党建…"),  # starts with “，”
    ("QG-HYG-004", "附件3-4", "建设基层党建组织"),  # “…建设基层党建组织，建设基层党建组织建设…”
    ("QG-HYG-006", "附件2", "《关于》（株组〔2018〕93号）"),  # a title that is only a function word
    ("QG-HYG-007", "附件3-2", "株组〔2018〕32号"),  # “按照（株组〔2018〕32号）文件要求”: 文号 with no title
    ("QG-HYG-008", "附件2", "《推进“动力党建·活力家园”建设提出如下实施意见》"),
    ("QG-HYG-008", "附件2", "《关于印发<株洲市乡村振兴驻村工作队管理办法><株洲市乡村振兴驻村工作队考核办法>的通知》"),
    ("QG-HYG-008", "附件2", "《市派美丽乡村建设工作队驻村帮扶管理办法》（另有1处同样引用）"),  # once for two places
    ("QG-HYG-008", "附件3-5", "《关于明确新一轮驻村工作队员待遇保障的通知》"),
    ("QG-HYG-010", "附件3-3", "会议费、培训费1万元"),  # two items, one amount
    ("QG-HYG-012", "附件1", "其他资金、政府性基金拨款"),  # blank where 0 is meant (info)
}

#: 单位负责人签字 is blank under every one of the seven tables (info: stamps cannot be seen in text).
SIGNATURE_TABLES = {"附件1", "附件2", "附件3-1", "附件3-2", "附件3-3", "附件3-4", "附件3-5"}


def test_every_listed_defect_is_reported(findings):
    found = {(f.rule_id, f.table, f.actual) for f in findings}
    assert sorted(REVIEWER_FINDINGS - found) == []


def test_reviewer_rules_report_nothing_else(findings):
    """The quality, goal and citation rules that REVIEWER_FINDINGS covers fire only there."""
    covered = {rule for rule, _, _ in REVIEWER_FINDINGS}
    found = {(f.rule_id, f.table, f.actual) for f in findings if f.rule_id in covered}
    assert found == REVIEWER_FINDINGS


def test_a_document_cited_two_ways_is_named_in_one_finding(findings):
    """附件2 row 五 cites 《关于》（株组〔2018〕93号）; 附件3-5 (the same direction) cites
    《关于明确新一轮驻村工作队员待遇保障的通知》 with no 文号. The truncated citation's finding says
    both, so the two-ways defect is not a second finding."""
    (short,) = [f for f in findings if f.rule_id == "QG-HYG-006"]
    assert "《关于明确新一轮驻村工作队员待遇保障的通知》（株组〔2018〕93号）" in short.message
    assert not [f for f in findings if f.rule_id == "QG-HYG-009"]


def test_blank_signatures_once_per_table(findings):
    tables = Counter(f.table for f in findings if f.rule_id == "QG-HYG-011")
    assert tables == Counter(SIGNATURE_TABLES)
    assert {f.severity for f in findings if f.rule_id == "QG-HYG-011"} == {"info"}


@pytest.mark.parametrize(
    "words",
    [
        "1000月/人/年",
        "9各村",
        "《关于》",
        "会议费、培训费1万元",
        "市派美丽乡村建设工作队驻村帮扶管理办法",
    ],
)
def test_each_text_defect_is_one_finding(findings, words):
    """No duplicate findings for one defect, across every rule (the old QG-TXT rules are gone)."""
    assert len([f for f in findings if words in f.actual]) == 1


def test_the_repeated_phrase_is_one_finding(findings):
    # Other findings quote the same goal sentence for other defects; the repetition itself is one.
    assert [f.actual for f in findings if f.rule_id == "QG-HYG-004"] == ["建设基层党建组织"]


def test_no_finding_for_not_applicable_rows_twice(findings):
    """“无直接经济效益 … 绩效标准 无” is one info per table (QG-QLT-010), not also a bad standard."""
    assert not [f for f in findings if f.rule_id in ("QG-QLT-002", "QG-QLT-013")]
    na = [f for f in findings if f.rule_id == "QG-QLT-010"]
    assert sorted(f.table for f in na) == ["附件1", "附件3-1", "附件3-2", "附件3-3", "附件3-4", "附件3-5"]
    assert all(f.severity == "info" for f in na)


def test_messages_say_what_was_seen_where_and_what_would_satisfy(findings):
    typo = next(f for f in findings if f.rule_id == "QG-HYG-001")
    assert typo.location.endswith(":455")
    assert "1000月/人/年" in typo.message and "1000元/人/年" in typo.message
    slogan = next(f for f in findings if f.rule_id == "QG-QLT-001" and f.actual == "提升幸福感")
    assert slogan.location.endswith(":279")
    assert "比较符＋数值＋单位" in slogan.expected


def test_severity_discipline(findings):
    """Errors only for what the filing proves; the reviewer-level packs warn or advise."""
    for f in findings:
        if f.rule_id.startswith(("QG-QLT-", "QG-HYG-", "QG-COH-")):
            assert f.severity in ("warning", "info"), f.rule_id


# -- honest rates ------------------------------------------------------------------------------------


def test_village_team_checked_with_the_filings_own_rates(findings):
    """2000×6×12 + 600×6 + 15万 = 29.76万 > 20万, with the rates the 测算说明 states (line 831)."""
    zz = next(f for f in findings if f.rule_id == "ZZ-ZCDY-001")
    evidence = {e.name: e for e in zz.evidence}
    assert evidence["交通费标准"].value == "2000元/人/月"
    assert "按2000元/人/月落实交通费" in evidence["交通费标准"].text
    assert evidence["交通费标准"].location.endswith(":831")
    assert not [f for f in findings if f.rule_id in ("ZZ-ZCDY-002", "ZZ-ZCDY-003")]


def test_a_stated_rate_that_differs_from_the_policy_is_named(evaluator, tmp_path, example_text):
    """The filing writes 200元/人/月: the budget holds against its own rate
    (200×6×12 + 600×6 + 15万 = 16.80万 ≤ 20万), and the rate disagrees with the policy's 2000."""
    path = _variant(tmp_path, example_text, "按2000元/人/月落实交通费", "按200元/人/月落实交通费")
    found = [f for f in evaluator.check(read_filing(path)).findings if f.status == STATUS_FAIL]
    assert not [f for f in found if f.rule_id == "ZZ-ZCDY-001"]
    (rate,) = [f for f in found if f.rule_id == "ZZ-ZCDY-002"]
    assert rate.severity == "warning"
    assert "200元/人/月" in rate.message and "2000元/人/月" in rate.message and "株组〔2018〕93号" in rate.message
    assert rate.actual == "200元/人/月"
    # 原文 is the filing's sentence, never the rule's quote.
    texts = [e.text for e in rate.evidence if e.name == "写明交通费标准"]
    assert texts and "按200元/人/月落实交通费" in texts[0]


def test_no_stated_rate_uses_the_policy_and_says_so(evaluator, tmp_path, example_text):
    path = _variant(tmp_path, example_text, "按2000元/人/月落实交通费，", "")
    zz = next(f for f in evaluator.check(read_filing(path)).findings if f.rule_id == "ZZ-ZCDY-001")
    assert zz.expected == "≥ 29.76万元"
    evidence = {e.name: e for e in zz.evidence}
    assert evidence["交通费标准"].value == "2000元/人/月"
    assert evidence["交通费标准"].text.startswith("申报未写明该标准，按政策参数")


def test_pension_scope_comes_from_the_lines_words(evaluator, tmp_path, example_text):
    """“村主干（仅村书记）” covers 1 post per village: 1000 × 1 × 9 = 0.90万 < 1.40万. Written as
    “村党组织书记、村民委员会主任” (no phrase list needed) it covers 2: 1000 × 2 × 9 = 1.80万 ≥ 1.40万."""
    example = evaluator.check(read_filing(_example(example_text, tmp_path))).findings
    pension = next(f for f in example if f.rule_id == "HN-YLBX-001")
    assert pension.expected == "≤ 0.90万元"
    both = "\t村党组织书记、村民委员会主任养老保险补贴"
    text = example_text.replace("\t村主干（仅村书记）养老保险补贴", both)
    path = tmp_path / "both.txt"
    path.write_text(text, encoding="utf-8")
    assert not [f for f in evaluator.check(read_filing(path)).findings if f.rule_id == "HN-YLBX-001"]


def _example(example_text: str, tmp_path: Path) -> Path:
    path = tmp_path / "example.txt"
    path.write_text(example_text, encoding="utf-8")
    return path


# -- what holds stays silent -------------------------------------------------------------------------

#: Identities that hold in the example, with the arithmetic; each is a negative control.
HOLDING = {
    "QG-SUM-003": "939.28 = 356.38 + 582.90",
    "QG-SUM-004": "70 + 299.40 + 13.50 + 180 + 20 = 582.90",
    "QG-SUM-005": "each 附件3's detail lines add up to its 合计 (25+40+5=70, 27+221+50+1.4=299.40 …)",
    "QG-SUM-006": "each 附件3's 合计 = its 项目金额",
    "QG-X-001": "附件2 合计 582.90 = 附件1 项目支出 582.90",
    "QG-X-002": "Σ 附件3 项目金额 = 582.90",
    "QG-X-004": "each 附件2 row = its 附件3 项目金额",
    "QG-X-005": "every 附件2 row has its 附件3",
    "QG-X-006": "every 附件3 has its 附件2 row",
    # The filing's own declared standards, checked as internal consistency:
    "ZZ-CJFW-001": "每个村3万元 (the filing's rate) × 9村 = 27万 = the line",
}
#: QG-CALC-001 holds for the 办公/党建 standards the filing declares itself (rate × count = stated total).
HOLDING_STATED = ["9个村每个村5万元", "9各村每个村4万元", "9个村每个村3万元"]
#: Holding, but not counted as evidence: the rule's rate is known only from the filing's quotation.
HOLDING_NOT_COUNTED = {
    "ZZ-CJFW-002": "stated 3万/村 = 株组〔2018〕32号 as the filing quotes it",
    "SF-LRCG-001": "176 × 150 × 12 = 31.68万 ≤ 50万 ≤ 176 × 400 × 12 = 84.48万 (tiers quoted by the filing)",
    "HN-YLBX-003": "stated 3000/1000/1000元/人/年 ≤ 3000 (cap quoted by the filing)",
    "SF-LDYZ-001": "1个 × 5万 = 5万 (市老干局要求, known only from the filing)",
}


def test_holding_identities_are_silent(findings):
    fired = {f.rule_id for f in findings}
    assert not fired & set(HOLDING)
    assert not fired & set(HOLDING_NOT_COUNTED)
    calc = {f.item for f in findings if f.rule_id == "QG-CALC-001"}
    assert calc == {"5万元/个*5个"}  # 5×5 = 25 ≠ the stated 15: the one that fails
    assert not calc & set(HOLDING_STATED)


def test_indicator_counts_tied_to_their_objects_agree(evaluator, example_path):
    """3-1's “76人” counts 老干部 (its 三级指标 names them) = 附件1's 76名; 3-2's “33人” counts
    村两委成员 = 33名 elsewhere. Tied, they are compared, and they agree: no new QG-X-007."""
    result = evaluator.check(read_filing(example_path))
    tied = {(f[2], f[3]) for f in result.facts.facts if f[0] == "count" and "/指标" in f[1] and "/指标值#" in f[1]}
    assert {("老干部", 76), ("村两委成员", 33)} <= tied
    assert [f.item for f in result.findings if f.rule_id == "QG-X-007"] == ["离退休干部党支部"]


def test_the_example_fitted_quotas_are_gone(ruleset):
    ids = {r.id for r in ruleset.rules}
    assert not ids & {"SF-CJBG-001", "SF-CJDJ-001", "SF-SLZZ-001", "HN-YLBX-002"}
    params = {p.name for p in ruleset.parameters.values()}
    assert not params & {"村级办公经费标准", "村级党建经费标准", "涉老组织经费标准", "仅书记每村人数"}


# -- catalogue ---------------------------------------------------------------------------------------


def test_catalogue_marks_rates_known_only_from_a_filing():
    listing = CliRunner().invoke(main, ["rules", "list"]).output
    lines = {line.split()[0]: line for line in listing.splitlines() if line.strip()}
    for rule in ("ZZ-ZCDY-001", "ZZ-CJFW-001", "HN-YLBX-001", "SF-LDYZ-001", "SF-LRCG-001"):
        assert "〔申报引用〕" in lines[rule], rule
    assert "〔表式〕" in lines["QG-SUM-004"]
    page = CliRunner().invoke(main, ["rule", "SF-LDYZ-001"]).output
    assert "依据性质：申报引用（标准仅见于申报文本对政策的引用，政策原文未核实）" in page
    assert "老党员之家建设标准 = 5万元/个/年" in page and "〔申报引用" in page


# -- data lists are bounded and never patterns -------------------------------------------------------


def test_shipped_terms_respect_the_limits():
    terms = load_terms()
    assert terms["slogans"] and all(len(t) <= MAX_TERM_CHARS for lst in terms.lists.values() for t in lst)


def test_terms_file_limits_are_enforced():
    with pytest.raises(TermsError, match="超过40个字"):
        parse_terms("slogans: [" + "提" * 41 + "]")
    with pytest.raises(TermsError, match="应为非空文字"):
        parse_terms("slogans: [1]")


def test_list_entries_are_literal_text():
    # Regular-expression syntax in a list entry is matched literally; {数字} is the only token.
    assert token_pattern("a.*b").search("a.*b") and not token_pattern("a.*b").search("axxb")
    assert token_pattern("指标{数字}:").search("指标12:") and not token_pattern("指标{数字}:").search("指标x:")


def test_unknown_observation_code_is_a_load_error(tmp_path):
    pack = tmp_path / "p.yaml"
    pack.write_text(
        "pack: {name: 测试, jurisdiction: 全国}\n"
        "rules:\n"
        "  - id: T-OBS-001\n"
        "    title: t\n"
        "    severity: warning\n"
        "    source: {document: d}\n"
        "    subject: 指标\n"
        "    check: {observed: 口号式取值值}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["rules", "lint", str(pack)])
    assert result.exit_code != 0
    assert "未知的问题类别“口号式取值值”" in result.output and "口号式取值" in result.output


def test_review_facts_apply_to_other_table_kinds():
    """The checks read fields, not table titles: a 项目表 (项目支出绩效目标表, issue 11) whose
    indicators reuse the indicator fields gets the same observations."""
    from hegui.facts.vocabulary import Provenance

    table, ind = "项目表1", "项目表1/指标1"
    facts = [
        ("entity", table, "项目表"),
        ("text", table, "总体目标", "，完善农村供水设施，完善农村供水设施"),
        ("text", table, "年度目标", "完善农村供水设施"),
        ("entity", ind, "指标"),
        ("rel", ind, "所属", table),
        ("rel", ind, "所属表", table),
        ("text", ind, "指标类别", "社会效益指标"),
        ("text", ind, "三级指标", "群众饮水条件"),
        ("text", ind, "指标值", "持续改善"),
        ("text", ind, "值类型", "text"),
    ]
    observed = {(f[1], f[3]) for f in review_facts_for(facts, Provenance())}
    assert {(ind, "口号式取值"), (table, "句首标点"), (table, "重复短语"), (table, "目标无数字")} <= observed


@pytest.mark.parametrize("first", [0, 1], ids=["goal first", "plain first"])
def test_a_remembered_review_of_a_text_does_not_leak_into_another_filing(first):
    """The review of a text is remembered across filings (Terms.memo) with the field's role:
    the same words are a slip in one filing's goal and ordinary prose in another's 立项依据,
    whichever filing is checked first."""
    from importlib import resources

    from hegui.facts.review import review_facts
    from hegui.facts.vocabulary import Provenance

    shipped = resources.files("hegui.facts").joinpath("review-terms.yaml").read_text(encoding="utf-8")
    text = "，完善农村供水设施，完善农村供水设施"  # leading comma, phrase written twice
    filings = [
        [("entity", "项目表1", "项目表"), ("text", "项目表1", "总体目标", text)],
        [("entity", "项目表1", "项目表"), ("text", "项目表1", "立项依据", text)],
    ]

    def codes(facts, terms):
        return sorted(f[3] for f in review_facts(facts, Provenance(), terms=terms) if f[0] == "observed")

    alone = [codes(facts, parse_terms(shipped)) for facts in filings]
    assert {"句首标点", "重复短语"} <= set(alone[0]) and not {"句首标点", "重复短语"} & set(alone[1])
    shared = parse_terms(shipped)
    together = {i: codes(filings[i], shared) for i in (first, 1 - first)}
    assert together == {0: alone[0], 1: alone[1]}


@pytest.mark.parametrize("first", [0, 1], ids=["monthly first", "other first"])
def test_a_remembered_indicator_review_still_reads_its_own_filing(first):
    """An indicator's words are reviewed once (Terms.memo), but what depends on the rest of
    the filing is not remembered: two filings with the same indicator rows differ in whether
    the table pays monthly (按月发放只写年末) and whether the count is an amount (投入作产出)."""
    from importlib import resources

    from hegui.facts.review import review_facts
    from hegui.facts.vocabulary import Provenance

    shipped = resources.files("hegui.facts").joinpath("review-terms.yaml").read_text(encoding="utf-8")
    table, when, count = "附件3-1", "附件3-1/指标1", "附件3-1/指标2"
    rows: list[tuple] = [("entity", table, "附件3")]
    for ind, category, name, value, kind in (
        (when, "时效指标", "补贴发放及时性", "2023年12月前", "date"),
        (count, "数量指标", "补贴村干部人数", "76万元", "number"),
    ):
        rows += [
            ("entity", ind, "指标"),
            ("rel", ind, "所属", table),
            ("rel", ind, "所属表", table),
            ("text", ind, "指标类别", category),
            ("text", ind, "三级指标", name),
            ("text", ind, "指标值", value),
            ("text", ind, "值类型", kind),
        ]
    rows.append(("number", when, "月", Decimal(12)))
    monthly = [
        *rows,
        ("entity", "附件3-1/明细1", "明细"),
        ("rel", "附件3-1/明细1", "所属", table),
        ("text", "附件3-1/明细1", "支出内容简介", "村干部补贴按月发放"),
        ("amount", count, "指标金额", Decimal(760000)),
    ]
    filings = [monthly, rows]

    def codes(facts, terms):
        return sorted((f[1], f[3]) for f in review_facts(facts, Provenance(), terms=terms) if f[0] == "observed")

    alone = [codes(facts, parse_terms(shipped)) for facts in filings]
    wanted = {(when, "按月发放只写年末"), (count, "投入作产出")}
    assert wanted <= set(alone[0]) and not wanted & set(alone[1])
    shared = parse_terms(shipped)
    together = {i: codes(filings[i], shared) for i in (first, 1 - first)}
    assert together == {0: alone[0], 1: alone[1]}


def test_remembered_reviews_are_bounded(monkeypatch):
    """Terms.memo holds at most MEMO_CHARS: the characters of the texts it is keyed by, plus a
    fixed amount per entry. When the next entry would not fit, it starts again empty."""
    from hegui.facts import review

    monkeypatch.setattr(review, "MEMO_ENTRY_CHARS", 1)
    monkeypatch.setattr(review, "MEMO_CHARS", 6)
    terms = parse_terms("slogans: [提升服务]")
    calls = []

    def length(text, terms):
        calls.append(text)
        return len(text)

    texts = ("a", "bb", "a", "ccc", "a", "ccc")
    assert [terms.memo(length, t) for t in texts] == [1, 2, 1, 3, 1, 3]
    # a (2) + bb (3) fit; ccc (4) does not: emptied, so a is worked out again, and ccc is kept.
    assert calls == ["a", "bb", "ccc", "a"]
    assert terms._memo.chars <= 6
    long = "x" * 50  # larger than the whole memo: worked out, never kept beyond the next call
    assert terms.memo(length, long) == 50 and terms._memo.chars == 51
    assert terms.memo(length, "a") == 1 and terms._memo.chars == 2


def review_facts_for(facts, prov):
    from hegui.facts.review import review_facts

    return [f for f in review_facts(facts, prov) if f[0] == "observed"]


def test_forgetting_texts_empties_the_caches_and_changes_no_fact(example_path):
    """forget_texts empties what is kept per text (a cell's claims, the review's results), and the
    next filing's facts are the same as with them kept."""
    from hegui.facts import vocabulary
    from hegui.facts.read import read_filing
    from hegui.facts.review import load_terms

    filing = read_filing(example_path)
    kept = vocabulary.filing_facts(filing).raw
    assert vocabulary._claims_at.cache_info().currsize and load_terms()._memo.found
    vocabulary.forget_texts()
    assert vocabulary._claims_at.cache_info().currsize == 0 and not load_terms()._memo.found
    assert load_terms()._memo.chars == 0
    assert vocabulary.filing_facts(filing).raw == kept


def test_repeated_phrase_prefilter_finds_what_the_full_search_finds():
    """The quick test that lets most cells skip the quadratic search never hides a repeat."""
    import random

    from hegui.facts import review

    def full_search(text: str, min_chars: int, max_gap: int) -> str:
        best = ""
        for start in range(len(text)):
            run = start
            while run < len(text) and text[run] not in review._PUNCT:
                run += 1
            for length in range(max(min_chars, len(best) + 1), min(run - start, 40) + 1):
                piece = text[start : start + length]
                after = start + length
                if text.find(piece, after, after + max_gap + length) >= 0:
                    best = piece
        return best

    rng = random.Random(14)
    found = 0
    words = ["建设", "基层", "党建", "组织", "，", "。", "村", "a", "ab"]

    def piece(n: int) -> str:
        return "".join(rng.choice(words) for _ in range(n))

    for _ in range(400):
        phrase = piece(rng.randint(1, 6))  # written twice, some gap apart, half the time
        twice = phrase + "".join(rng.choice("，村a") for _ in range(rng.randint(0, 5))) + phrase
        text = piece(rng.randint(0, 15)) + (twice if rng.random() < 0.5 else "") + piece(rng.randint(0, 15))
        expected = full_search(text, 6, 3)
        found += bool(expected)
        assert review._repeated_phrase(text, 6, 3) == expected, text
    assert found > 10  # the generated cells do contain repeats
