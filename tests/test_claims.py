"""Tests for hegui.facts.claims: arithmetic stated in prose.

Each behaviour is tested with sentences from the example filing (examples/shifeng-zzb-2023.txt)
and with made-up sentences of other wording and amounts, including ones that must yield nothing,
so that the extraction is known to follow patterns rather than the example's exact text.
"""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

import pytest

from hegui.facts.claims import (
    AmountClaim,
    Component,
    CountClaim,
    RateClaim,
    RateCountClaim,
    RatioClaim,
    component_amounts,
    extract_claims,
    load_lexicon,
    parse_lexicon,
)
from hegui.facts.model import Money, Source

D = Decimal
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "shifeng-zzb-2023.txt"


def claims_of(text: str, line: int = 1, default_unit: str = "万元"):
    return extract_claims(text, Source("t.txt", line), default_unit)


def of(claims, cls):
    return [c for c in claims if isinstance(c, cls)]


def wan(x: str) -> Money:
    return Money(D(x) * 10000, "万元")


def yuan(x: str) -> Money:
    return Money(D(x), "元")


def components(text: str) -> list[Money]:
    return [c.money for c in component_amounts(claims_of(text))]


# --- the example's cells, verbatim -------------------------------------------------------------

EX_GOAL_COUNTS = "副县以上老干部76名，9个村33名村支“两委”成员，离任村主干176名。"
EX_ORGS = "五个涉老组织经费15万元：比照2022年预算（5万元/个*5个）"
EX_ACTIVITIES = "区县级以上离退休干部全年活动费用13万元；端午节、中秋节、重阳节，八一慰问，三八妇女节，生日、住院、去世等慰问共计27万元。"
EX_HOME = "按市老干局要求2023年建设“老党员之家”1个5万元，"
EX_SERVICE = "按照（株组〔2018〕32号）文件要求，9个村每个村3万元村级服务群众专项经费"
EX_VILLAGE = (
    "1、9个行政村现任村“两委”成员33人，因2021年农村居民可支配收入统计数据还未确定，预计在2023年村干部工资总额"
    "基础上相应增加，初步核定2023年石峰区村干部工资为140万元。\n\n"
    "2、办公经费：9个村每个村5万元办公经费共45万元。\n\n"
    "3、党建经费：9各村每个村4万元党建经费共36万元。"
)
EX_RETIRED = (
    "目前共有离任村主干176名，根据《石峰区离任村干部生活补助实施办法》株石组发〔2017〕8号文件要求，"
    "连续任正职满2届或6年、累计任正职满3届或9年以上，补助300元/月；累计任正职满5届或15年以上，补助400元/月；"
    "连续任副职（正副职）满2届或6年、累计任副职（正副职）满3届或9年以上，补助150元/月；"
    "累计任副职（正副职）满5届或15年以上，补助200元/月。"
)
EX_PENSION = (
    "根据《关于全面开展村党组织书记、村民委员会主任参加基本养老保险补贴工作的通知》（湘组〔2019〕55 号）文件要求。"
    "财政补贴一般采取先缴后补的方式进行，财政补贴标准为每人每年不超过3000元，其中省财政补贴1000元，"
    "市财政补贴1000元，其余由区财政负责按1000月/人/年的标准，予以补助。"
)
EX_PARTY = "党建工作经费（含机关工委）办公费2万元，会议费1万元，印刷费2万元，其他商品服务支出1.5万元"
EX_CADRES = "公务员招录招考、日常管理、干部人事档案管理费用，办公费2万元、会议费、培训费1万元、印刷费1万元、委托业务费1万元、其他商品服务支出2万元"
EX_CENTRE = "在党群服务中心（站点）建设期按照不低于市级投入资金1：2的比例安排建设资金，建成后每年预算运转经费。"
EX_VILLAGE_TEAM = (
    "预计向乡村振兴示范村下派工作队2支6人。根据《关于明确新一轮驻村工作队员待遇保障的通知》和《市派美丽乡村建设工作队驻村帮扶管理办法》"
    "等文件要求，按2000元/人/月落实交通费，按600元/人/年落实人身意外伤害保险。落实后盾单位帮扶资金不少于15万元。"
)


def test_example_sentences_are_verbatim() -> None:
    """The constants above are copied from the example; fail loudly if the example changes."""
    text = EXAMPLE.read_text(encoding="utf-8")
    for sentence in (EX_GOAL_COUNTS, EX_ORGS, EX_ACTIVITIES, EX_HOME, EX_SERVICE, EX_RETIRED,
                     EX_PENSION, EX_PARTY, EX_CADRES, EX_CENTRE, EX_VILLAGE_TEAM):  # fmt: skip
        assert sentence in text
    for part in EX_VILLAGE.split("\n\n"):
        assert part in text


# --- counts ------------------------------------------------------------------------------------

# text → [(number, counter, entity, a fragment the noun contains)]
COUNTS = [
    # from the example
    (
        EX_GOAL_COUNTS,
        [
            (76, "人", "老干部", "老干部"),
            (9, "个", "行政村", "村"),
            (33, "人", "村两委成员", "两委"),
            (176, "人", "离任村干部", "离任村主干"),
        ],
    ),
    (
        "指导全区18个离退休干部党支部工作部门抓好离退休干部党建工作，推进老党员之家建设。",
        [(18, "个", "离退休干部党支部", "离退休干部党支部")],
    ),
    ("确保5个涉老组织及老干活动正常开展", [(5, "个", "涉老组织", "涉老组织")]),
    ("五个涉老组织经费（含老年大学工作经费）", [(5, "个", "涉老组织", "涉老组织")]),
    ("预计向乡村振兴示范村下派工作队2支6人。", [(2, "支", "驻村工作队", "工作队"), (6, "人", None, "")]),
    ("3、党建经费：9各村每个村4万元党建经费共36万元。", [(9, "个", "行政村", "村")]),
    ("1、9个行政村现任村“两委”成员33人，", [(9, "个", "行政村", "行政村"), (33, "人", "村两委成员", "两委")]),
    ("5个街道所辖范围基层党建组织", [(5, "个", "街道", "街道")]),
    ("3个大项目", [(3, "个", None, "大项目")]),
    ("76人", [(76, "人", None, "")]),
    # made up
    ("全镇共有十二个行政村", [(12, "个", "行政村", "行政村")]),
    ("慰问离休干部15人、退休干部120名", [(15, "人", "老干部", "离休干部"), (120, "人", "老干部", "退休干部")]),
    ("新建党群服务中心3个", [(3, "个", "党群服务中心", "党群服务中心")]),
    ("选派驻村工作队员8名", [(8, "人", "驻村工作队员", "工作队员")]),
    ("覆盖20个社区", [(20, "个", "社区", "社区")]),
    ("组建3支帮扶工作队", [(3, "支", "驻村工作队", "工作队")]),
    ("现有离任村干部共45名", [(45, "人", "离任村干部", "离任村干部")]),
    ("三个村的党员共计86人", [(3, "个", "行政村", "村"), (86, "人", "党员", "党员")]),
    ("开展培训4期，培训学员300人次", [(4, "期", None, "培训"), (300, "人次", None, "学员")]),
    ("共有村支两委成员二十七位", [(27, "人", "村两委成员", "两委")]),
    ("１２个村", [(12, "个", "行政村", "村")]),
    ("服务群众1.2万人", [(12000, "人", None, "群众")]),
    ("20个离退休干部", [(20, "个", None, "离退休干部")]),  # 个 never counts a 人-kind
    ("确保老干部“两项待遇”落实", [(2, "项", None, "待遇")]),
]


@pytest.mark.parametrize(("text", "expected"), COUNTS)
def test_counts(text: str, expected) -> None:
    counts = of(claims_of(text), CountClaim)
    got = [(c.number, c.counter, c.entity) for c in counts]
    assert got == [(D(n), counter, entity) for n, counter, entity, _ in expected]
    for claim, (_, _, _, fragment) in zip(counts, expected, strict=True):
        assert fragment in claim.noun
        if not fragment:
            assert claim.noun == ""


NO_COUNTS = [
    "统一项目管理，进一步提升服务，新一轮帮扶",
    "指导五老组织建设，开展三八妇女节、八一慰问活动",
    "第3个季度完成；3个月内完成；连续任正职满2届或6年",
    "2023年12月底前完成",
    "按照株组〔2018〕32号文件执行",
    "满意度≥95%",
    "一般公共预算拨款",
    "十四五规划",
]


@pytest.mark.parametrize("text", NO_COUNTS)
def test_no_counts(text: str) -> None:
    assert of(claims_of(text), CountClaim) == []


# --- amounts, rates and components -------------------------------------------------------------

# text → the components component_amounts finds
COMPONENTS = [
    # from the example
    (EX_ORGS, [wan("15")]),
    (EX_ACTIVITIES, [wan("13"), wan("27")]),
    (EX_HOME, [wan("5")]),
    (EX_SERVICE, [wan("27")]),
    (EX_VILLAGE, [wan("140"), wan("45"), wan("36")]),
    (EX_RETIRED, []),
    (EX_PENSION, []),
    (EX_PARTY, [wan("2"), wan("1"), wan("2"), wan("1.5")]),
    (EX_CADRES, [wan("2"), wan("1"), wan("1"), wan("1"), wan("2")]),
    (EX_CENTRE, []),
    (EX_VILLAGE_TEAM, []),
    # made up
    ("共12个社区，每个社区补助2万元，合计24万元。", [wan("24")]),
    ("全年培训经费8万元，宣传经费3.5万元", [wan("8"), wan("3.5")]),
    ("宣传资料印制费用2000元；场地租赁费1.2万元", [yuan("2000"), wan("1.2")]),
    ("工作经费15万元，其中办公费5万元，会议费10万元。", [wan("15")]),
    ("经费15万元。其中办公费5万元，会议费10万元。", [wan("15")]),  # 其中 continues the sentence
    ("每人每年3000元。其中省级1000元，市级2000元。", []),
    ("办公费2万元，会议费1万元，共3万元", [wan("3")]),
    ("十二个村每村4万元，计48万元", [wan("48")]),
    ("计划新建党群服务中心3个，每个50万元，共需150万元", [wan("150")]),
    ("按3000元/户的标准补助困难党员家庭40户", [yuan("120000")]),
    ("按600元/人标准，共6人", [yuan("3600")]),
    ("5万元/个*4个=20万元", [wan("20")]),
    ("办公费２万元，会议费１．５万元", [wan("2"), wan("1.5")]),
    ("资金总额一百二十万元", [wan("120")]),
    ("培训经费合计：12.5", [wan("12.5")]),  # bare number after 合计: the table's unit
    ("安排经费不超过20万元", []),
    ("帮扶资金最高5万元；工作经费10万元以上", []),
    ("每名队员每月补贴1500元，共8人。", []),
    ("2023年12月底前完成，共3个项目", []),
    ("按照株组〔2018〕32号文件执行", []),
]


@pytest.mark.parametrize(("text", "expected"), COMPONENTS)
def test_components(text: str, expected: list[Money]) -> None:
    assert components(text) == expected


def test_components_are_components() -> None:
    comps = component_amounts(claims_of(EX_PARTY))
    assert all(isinstance(c, Component) for c in comps)
    assert [c.label for c in comps][1:] == ["会议费", "印刷费", "其他商品服务支出"]
    assert "办公费" in comps[0].label


def test_orgs_arithmetic_error_is_visible() -> None:
    """The example states 15万元 but computes 5万元/个 × 5个 = 25万元."""
    claims = claims_of(EX_ORGS)
    (rc,) = of(claims, RateCountClaim)
    assert rc.rate == wan("5") and rc.per == "个"
    assert rc.count == 5 and rc.count_counter == "个"
    assert rc.product_yuan == D(250000)
    assert rc.stated == wan("15")
    assert rc.text == "5万元/个*5个"
    (rate,) = of(claims, RateClaim)
    assert rate.per == ("个",)
    (amount,) = of(claims, AmountClaim)
    assert (amount.money, amount.role) == (wan("15"), "component")
    assert "涉老组织经费" in amount.label


def test_service_rate_times_count() -> None:
    claims = claims_of(EX_SERVICE)
    (rate,) = of(claims, RateClaim)
    assert (rate.money, rate.per) == (wan("3"), ("村",))
    (rc,) = of(claims, RateCountClaim)
    assert (rc.product_yuan, rc.stated, rc.per, rc.count) == (D(270000), None, "村", D(9))
    assert of(claims, AmountClaim) == []


def test_village_cell_totals_and_sources() -> None:
    claims = claims_of(EX_VILLAGE, line=439)
    rcs = of(claims, RateCountClaim)
    assert [(rc.product_yuan, rc.stated) for rc in rcs] == [(D(450000), wan("45")), (D(360000), wan("36"))]
    totals = [a for a in of(claims, AmountClaim) if a.role == "total"]
    assert [(a.money, a.label, a.source.line) for a in totals] == [
        (wan("45"), "办公经费", 441),
        (wan("36"), "党建经费", 443),
    ]
    (salary,) = [a for a in of(claims, AmountClaim) if a.role == "component"]
    assert salary.money == wan("140") and salary.source == Source("t.txt", 439, 439)
    assert "村干部工资" in salary.label
    typo = [c for c in of(claims, CountClaim) if c.text == "9各"]
    assert typo and typo[0].counter == "个" and typo[0].entity == "行政村"


def test_activities_roles() -> None:
    amounts = of(claims_of(EX_ACTIVITIES), AmountClaim)
    assert [(a.money, a.role) for a in amounts] == [(wan("13"), "component"), (wan("27"), "total")]
    assert amounts[0].label == "区县级以上离退休干部全年活动费用"


def test_home_count_then_amount_is_no_rate() -> None:
    claims = claims_of(EX_HOME)
    assert of(claims, RateClaim) == [] and of(claims, RateCountClaim) == []
    (count,) = of(claims, CountClaim)
    assert (count.number, count.entity) == (D(1), "老党员之家")


def test_retired_tier_rates() -> None:
    claims = claims_of(EX_RETIRED)
    rates = of(claims, RateClaim)
    assert [(r.money, r.per, r.headcount) for r in rates] == [
        (yuan("300"), ("月",), None),
        (yuan("400"), ("月",), None),
        (yuan("150"), ("月",), None),
        (yuan("200"), ("月",), None),
    ]
    assert all(r.label == "补助" for r in rates)
    assert of(claims, AmountClaim) == [] and of(claims, RateCountClaim) == []


def test_pension_standard_and_breakdown_are_rates() -> None:
    claims = claims_of(EX_PENSION)
    rates = of(claims, RateClaim)
    assert [(r.money, r.per) for r in rates] == [
        (yuan("3000"), ("人", "年")),
        (yuan("1000"), ("人", "年")),
        (yuan("1000"), ("人", "年")),
    ]
    assert [r.label for r in rates] == ["财政补贴", "省财政补贴", "市财政补贴"]
    assert of(claims, AmountClaim) == []


def test_village_team_rates_and_minimum() -> None:
    claims = claims_of(EX_VILLAGE_TEAM)
    rates = of(claims, RateClaim)
    assert [(r.money, r.per, r.headcount) for r in rates] == [
        (yuan("2000"), ("人", "月"), None),
        (yuan("600"), ("人", "年"), None),
    ]
    assert rates[0].text == "2000元/人/月"
    (minimum,) = of(claims, AmountClaim)
    assert (minimum.money, minimum.role, minimum.label) == (wan("15"), "minimum", "落实后盾单位帮扶资金")


def test_centre_ratio() -> None:
    claims = claims_of(EX_CENTRE)
    assert of(claims, AmountClaim) == [] and of(claims, CountClaim) == []
    (ratio,) = of(claims, RatioClaim)
    assert (ratio.left, ratio.right, ratio.comparator) == (D(1), D(2), "≥")
    assert "市级投入资金" in ratio.label
    assert ratio.text == "1：2"


# made-up rate sentences


def test_rate_headcount_from_following_clause() -> None:
    (rate,) = of(claims_of("补助300元/月，共20人"), RateClaim)
    assert (rate.money, rate.per, rate.headcount) == (yuan("300"), ("月",), D(20))
    (rate,) = of(claims_of("补助300元/月"), RateClaim)
    assert rate.headcount is None


def test_rate_per_from_every_phrases() -> None:
    (rate,) = of(claims_of("每名队员每月补贴1500元，共8人。"), RateClaim)
    assert (rate.money, rate.per, rate.headcount) == (yuan("1500"), ("人", "月"), D(8))
    (rate,) = of(claims_of("每户每年补助800元"), RateClaim)
    assert rate.per == ("户", "年")
    (rate,) = of(claims_of("每个涉老组织补助2万元"), RateClaim)
    assert rate.per == ("个",)  # the kind's unit


def test_rate_count_stated_mismatch_made_up() -> None:
    (rc,) = of(claims_of("每个涉老组织经费4万元，共6个涉老组织，合计25万元"), RateCountClaim)
    assert (rc.product_yuan, rc.stated, rc.count) == (D(240000), wan("25"), D(6))


def test_rate_count_with_slash_per_village() -> None:
    (rc,) = of(claims_of("11个村，按2万元/村安排，共22万元"), RateCountClaim)
    assert (rc.per, rc.count, rc.product_yuan, rc.stated) == ("村", D(11), D(220000), wan("22"))


def test_two_rates_in_one_sentence_are_not_given_one_total() -> None:
    claims = claims_of("9个村每个村5万元，3个社区每个社区2万元，共51万元")
    rcs = of(claims, RateCountClaim)
    assert [(rc.per, rc.count, rc.product_yuan) for rc in rcs] == [("村", D(9), D(450000)), ("个", D(3), D(60000))]
    assert all(rc.stated is None for rc in rcs)
    assert components("9个村每个村5万元，3个社区每个社区2万元，共51万元") == [wan("51")]


def test_breakdown_after_rate_made_up() -> None:
    claims = claims_of("每人每月补助500元，其中市级承担300元，区级承担200元")
    assert [(r.money, r.per) for r in of(claims, RateClaim)] == [
        (yuan("500"), ("人", "月")),
        (yuan("300"), ("人", "月")),
        (yuan("200"), ("人", "月")),
    ]
    assert of(claims, AmountClaim) == []


def test_bounds_made_up() -> None:
    amounts = of(claims_of("帮扶资金最高5万元；工作经费10万元以上；奖补资金至少8000元；宣传费≤3万元"), AmountClaim)
    assert [(a.money, a.role) for a in amounts] == [
        (wan("5"), "maximum"),
        (wan("10"), "minimum"),
        (yuan("8000"), "minimum"),
        (wan("3"), "maximum"),
    ]


def test_default_unit_for_bare_total() -> None:
    (a,) = of(claims_of("培训经费合计：12.5", default_unit="元"), AmountClaim)
    assert (a.money, a.role) == (yuan("12.5"), "total")
    with pytest.raises(ValueError):
        claims_of("x", default_unit="美元")


RATIOS = [
    ("按1:1比例配套资金", D(1), D(1), ""),
    ("市县两级按不高于2比1配套", D(2), D(1), "≤"),
    ("区级资金按照不少于省级补助资金1：1.5的比例配套", D(1), D("1.5"), "≥"),
]


@pytest.mark.parametrize(("text", "left", "right", "comparator"), RATIOS)
def test_ratios_made_up(text: str, left: Decimal, right: Decimal, comparator: str) -> None:
    (ratio,) = of(claims_of(text), RatioClaim)
    assert (ratio.left, ratio.right, ratio.comparator) == (left, right, comparator)


NOTHING = [
    "2023年12月底前完成",
    "按照株组〔2018〕32号文件执行",
    "同比增长10%，第3个季度完成",
    "统一项目管理，进一步提升服务，新一轮帮扶",
    "上午8:30到岗，下午17:30离岗",
    "连续任正职满2届或6年",
    "深学笃用习近平新时代中国特色社会主义思想，坚持固本强基",
    "建成后每年预算运转经费。",
    "",
    "   \n\n  ",
]


@pytest.mark.parametrize("text", NOTHING)
def test_nothing_to_claim(text: str) -> None:
    assert claims_of(text) == []


# --- general properties ------------------------------------------------------------------------

ALL_TEXTS = [text for text, _ in COMPONENTS] + [text for text, _ in COUNTS] + NOTHING


@pytest.mark.parametrize("text", ALL_TEXTS)
def test_spans_sorted_exact_and_decimal(text: str) -> None:
    claims = claims_of(text)
    assert [c.start for c in claims] == sorted(c.start for c in claims)
    for c in claims:
        assert c.text == text[c.start : c.end]
        assert c.source.file == "t.txt" and c.source.line == 1 + text.count("\n", 0, c.start)
        for name, value in vars(c).items():
            assert not isinstance(value, float), name
            if isinstance(value, Money):
                assert isinstance(value.yuan, Decimal)


def test_source_without_lines_is_kept() -> None:
    source = Source("t.xlsx", locator="Sheet1!D7")
    (claim,) = extract_claims("办公费2万元", source)
    assert claim.source == source


def test_long_inputs_run_in_linear_time() -> None:
    nasty = "1" * 20000 + ":" + "每" * 20000 + "9个" * 5000 + "," * 20000 + "1、" * 5000 + "万元/" * 5000
    started = time.perf_counter()
    extract_claims(nasty, Source("t.txt", 1))
    assert time.perf_counter() - started < 10


# --- lexicon -----------------------------------------------------------------------------------


def test_lexicon_kinds() -> None:
    lexicon = load_lexicon()
    expected = {
        "行政村": "村", "村两委成员": "人", "离任村干部": "人", "老干部": "人", "涉老组织": "个",
        "离退休干部党支部": "个", "党支部": "个", "驻村工作队": "支", "街道": "个", "社区": "个",
    }  # fmt: skip
    for name, unit in expected.items():
        assert lexicon.kinds[name].unit == unit


def test_lexicon_longest_noun_wins_and_quotes_are_ignored() -> None:
    lexicon = load_lexicon()
    assert lexicon.match("离退休干部党支部工作", "个")[0].name == "离退休干部党支部"
    assert lexicon.match("离退休干部", "人")[0].name == "老干部"
    assert lexicon.match("现任村“两委”成员", "人", at_end=True)[0].name == "村两委成员"
    assert lexicon.match("离任村干部", "人", at_end=True)[0].name == "离任村干部"
    assert lexicon.match("大项目", "个") is None


def test_custom_lexicon() -> None:
    lexicon = parse_lexicon("kinds:\n  学校:\n    unit: 所\n    nouns: [学校, 小学]\n")
    (count,) = of(extract_claims("改造3所小学", Source("t.txt", 1), lexicon=lexicon), CountClaim)
    assert (count.number, count.counter, count.entity) == (D(3), "所", "学校")


@pytest.mark.parametrize(
    "text",
    [
        "kinds:\n  a:\n    unit: 个\n    nouns: [村]\n  b:\n    unit: 个\n    nouns: [村]\n",  # duplicate noun
        "kinds:\n  a:\n    nouns: [村]\n",  # no unit
        "kinds:\n  a:\n    unit: 个\n    nouns: []\n",  # no nouns
        "- just a list\n",
    ],
)
def test_bad_lexicon(text: str) -> None:
    with pytest.raises(ValueError):
        parse_lexicon(text)
