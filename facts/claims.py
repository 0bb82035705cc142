"""Arithmetic stated in prose: counts, amounts, rates, rate × count and ratios.

A 测算说明 cell explains an amount in sentences such as "9个村每个村5万元办公经费共45万元" or
"五个涉老组织经费15万元：比照2022年预算（5万元/个*5个）". :func:`extract_claims` turns such prose
into structured claims, each with its character span and a :class:`Source` narrowed to the
lines of that span, so that rules can check the arithmetic (5万元 × 5个 = 25万元, not 15万元)
and point the reviewer at the sentence.

Extraction is pattern-based: numbers (Arabic, full-width or Chinese) followed by a money unit,
a counter (个 名 人 支 村 …) or a "/per" chain; 每-phrases, 标准, 共计/合计, 不少于/不超过 and 其中
around them decide what each amount is. Which noun a count counts is looked up in the lexicon
``entities.yaml``, which policy staff can extend without touching code.

Every regular expression here is a flat alternation or a single quantified character class,
so matching is linear in the text length.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from hegui.facts.model import Money, Source
from hegui.facts.units import COUNTER_SYNONYMS, MONEY_SCALES
from hegui.facts.values import CN_NUMERAL_CHARS, COUNTER_WORDS, normalize_width, parse_number

__all__ = [
    "AmountClaim",
    "Claim",
    "Component",
    "CountClaim",
    "EntityKind",
    "Lexicon",
    "RateClaim",
    "RateCountClaim",
    "RatioClaim",
    "component_amounts",
    "extract_claims",
    "load_lexicon",
    "parse_lexicon",
]


# --- claims ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CountClaim:
    """``number`` things counted with ``counter`` (名 is normalised to 人), e.g. 离任村主干176名."""

    number: Decimal
    counter: str
    noun: str  # the noun phrase next to the count, "" when there is none
    entity: str | None  # lexicon kind of the noun, None when unknown
    start: int
    end: int
    source: Source
    text: str
    sentence: int = 0  # index of the sentence within the text given to extract_claims


@dataclass(frozen=True)
class RateCountClaim:
    """A rate per X times a count of X in the same sentence (9个村每个村3万元 → 27万元)."""

    rate: Money
    per: str
    count: Decimal
    count_counter: str
    product_yuan: Decimal
    stated: Money | None  # the amount the sentence says this calculation comes to, if any
    start: int
    end: int
    source: Source
    text: str
    sentence: int = 0


@dataclass(frozen=True)
class AmountClaim:
    """A plain amount: a ``component`` of the line, the sentence's ``total`` (共…), or a bound
    (``minimum`` after 不少于/不低于/至少, ``maximum`` after 不超过/最高)."""

    money: Money
    role: str  # "component" | "total" | "minimum" | "maximum"
    label: str
    start: int
    end: int
    source: Source
    text: str
    sentence: int = 0


@dataclass(frozen=True)
class RateClaim:
    """An amount per something (2000元/人/月, 每个村3万元, 补贴标准为每人每年3000元)."""

    money: Money
    per: tuple[str, ...]  # e.g. ("人", "月"); () for a 标准 whose dimension is not written
    label: str
    headcount: Decimal | None  # a person count stated with the rate (补助300元/月，共20人)
    start: int
    end: int
    source: Source
    text: str
    sentence: int = 0


@dataclass(frozen=True)
class RatioClaim:
    """A ratio such as 不低于市级投入资金1：2 (left 1, right 2, comparator ≥)."""

    left: Decimal
    right: Decimal
    label: str
    comparator: str  # ≥ ≤ > < = or "" when none was written
    start: int
    end: int
    source: Source
    text: str
    sentence: int = 0


Claim = CountClaim | RateCountClaim | AmountClaim | RateClaim | RatioClaim


@dataclass(frozen=True)
class Component:
    """One amount a sentence says the expense line is made of (see :func:`component_amounts`)."""

    money: Money
    label: str
    claim: AmountClaim | RateCountClaim  # where it was read
    start: int
    end: int
    source: Source


# --- lexicon -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntityKind:
    """A kind of counted thing: its name, the dimension its count has, and what it is called."""

    name: str
    unit: str
    nouns: tuple[str, ...]


_QUOTES = str.maketrans("", "", "“”\"'‘’「」『』")


def _plain(text: str) -> str:
    """Quotes removed: 村“两委”成员 and 村两委成员 are the same noun."""
    return text.translate(_QUOTES)


def _norm_counter(counter: str) -> str:
    return COUNTER_SYNONYMS.get(counter, counter)


class Lexicon:
    """Nouns → entity kinds; the longest noun wins, and 人-counts only match 人-kinds."""

    def __init__(self, kinds: Iterable[EntityKind]) -> None:
        self.kinds: dict[str, EntityKind] = {}
        nouns: dict[str, EntityKind] = {}
        for kind in kinds:
            self.kinds[kind.name] = kind
            for noun in kind.nouns:
                key = _plain(noun)
                if key in nouns and nouns[key].name != kind.name:
                    raise ValueError(f"实体词表中“{noun}”同时属于“{nouns[key].name}”和“{kind.name}”")
                nouns[key] = kind
        self._nouns = sorted(nouns.items(), key=lambda kv: -len(kv[0]))
        # A phrase can only start (end) with the nouns that start (end) with its first (last)
        # character: looked up by that character, in the order above, the first match is the
        # one the whole list gives. A noun that is all quotes is empty and matches anything,
        # so then every lookup reads the whole list.
        self._by_first: dict[str, list[tuple[str, EntityKind]]] | None = None
        self._by_last: dict[str, list[tuple[str, EntityKind]]] | None = None
        if all(noun for noun, _ in self._nouns):
            self._by_first, self._by_last = {}, {}
            for noun, kind in self._nouns:
                self._by_first.setdefault(noun[0], []).append((noun, kind))
                self._by_last.setdefault(noun[-1], []).append((noun, kind))

    def match(self, phrase: str, counter: str = "", at_end: bool = False) -> tuple[EntityKind, str] | None:
        """The kind of the longest lexicon noun ``phrase`` starts with (ends with if ``at_end``).

        With a ``counter``, only kinds of the same sort are considered: a count in 人/名/位
        matches kinds whose unit is 人, any other counter matches the other kinds.
        """
        key = _plain(phrase)
        person = _norm_counter(counter) == "人" if counter else None
        nouns = self._nouns
        if self._by_first is not None and self._by_last is not None:
            nouns = (self._by_last if at_end else self._by_first).get(key[-1:] if at_end else key[:1], [])
        for noun, kind in nouns:
            if person is not None and (kind.unit == "人") != person:
                continue
            if key.endswith(noun) if at_end else key.startswith(noun):
                return kind, noun
        return None


def parse_lexicon(text: str) -> Lexicon:
    """Build a :class:`Lexicon` from YAML text (``kinds: {name: {unit: …, nouns: […]}}``)."""
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or not isinstance(data.get("kinds"), dict):
        raise ValueError("实体词表须有 kinds: 映射")
    kinds = []
    for name, body in data["kinds"].items():
        if not isinstance(body, dict):
            raise ValueError(f"实体“{name}”须写 unit 和 nouns")
        unit, nouns = body.get("unit"), body.get("nouns")
        if not isinstance(unit, str) or not unit:
            raise ValueError(f"实体“{name}”缺少 unit")
        if not isinstance(nouns, list) or not nouns or not all(isinstance(n, str) and n for n in nouns):
            raise ValueError(f"实体“{name}”的 nouns 须为非空字符串列表")
        kinds.append(EntityKind(str(name), unit, tuple(nouns)))
    return Lexicon(kinds)


@lru_cache(maxsize=1)
def load_lexicon() -> Lexicon:
    """The lexicon shipped as ``hegui/facts/entities.yaml``."""
    text = resources.files("hegui.facts").joinpath("entities.yaml").read_text(encoding="utf-8")
    return parse_lexicon(text)


# --- vocabulary --------------------------------------------------------------------------------

_MONEY_UNITS = ("亿元", "万元", "千元", "元")
_MONEY_FIRST = frozenset("亿万千元")

#: Measure words that make a number a count in prose, longest first (人次 before 人): the
#: indicator-value counters (hegui.facts.values) less those that in running text mostly follow a
#: number that counts nothing funded: 满2届 and 第3轮 are terms and rounds, 2023年起 is a start,
#: 第2节 a section; the rest (株, 头, 棵 …) have not been seen counting a funded item in a 测算
#: text yet. 各 right after a number is the common typo for 个 and is handled apart.
_NOT_PROSE_COUNTERS = frozenset(
    {"届", "轮", "起", "节", "课", "例", "宗", "只", "株", "单", "头", "块", "把", "棵", "家次"}
)
_COUNTERS: tuple[str, ...] = tuple(sorted(COUNTER_WORDS - _NOT_PROSE_COUNTERS, key=lambda c: -len(c)))
#: After a number these are durations or parts of a date, not counts (3个月 is no count of 月).
_NOT_COUNTS = ("个月", "个百分点", "个工作日", "个小时", "个季度", "个星期", "个年度", "个学时", "个课时")

#: Dimensions a rate can be per: after "/" (元/人/月) or after 每 (每人每年).
_PER_WORDS: tuple[str, ...] = tuple(
    sorted(
        set(_COUNTERS)
        | {"年", "月", "日", "天", "周", "季度", "季", "小时", "学时", "课时", "社区", "街道", "组织", "党支部"},
        key=lambda w: -len(w),
    )
)


def _by_first_char(words: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """``words`` grouped by their first character, each group in the order of ``words``."""
    assert all(words), "an empty word would match anywhere"
    groups: dict[str, list[str]] = {}
    for word in words:
        groups.setdefault(word[0], []).append(word)
    return {first: tuple(group) for first, group in groups.items()}


# Which counter or per-word follows a number is asked for every number of every claim cell:
# only the words starting with the character there can match, and the first of those in the
# list's order is the one the whole list would give.
_COUNTERS_BY_FIRST = _by_first_char(_COUNTERS)
_PER_WORDS_BY_FIRST = _by_first_char(_PER_WORDS)


def _word_at(t: str, pos: int, by_first: dict[str, tuple[str, ...]]) -> str:
    """The first word (in its list's order) that ``t`` has at ``pos``, else ""."""
    for word in by_first.get(t[pos : pos + 1], ()):
        if t.startswith(word, pos):
            return word
    return ""


_PER_SYNONYMS = {"季": "季度"}
#: Measure words after 每 that need a noun to say what is counted (每个村, 每名队员).
_CLASSIFIERS = frozenset(["个", "名", "位", "家", "所", "支", "项", "条", "件", "套", "台", "座", "间"])

#: Words before an amount that make it the sentence's total.
_TOTAL_WORDS = (
    "共计", "合计", "总计", "累计", "总共", "一共", "共", "总额", "总金额", "总经费", "总费用",
    "总投资", "总预算", "总资金", "=",
)  # fmt: skip
_MIN_WORDS = ("不少于", "不低于", "至少", "不小于", "最低", "不得少于", "不得低于", "保底", "≥", ">=", ">")
_MAX_WORDS = (
    "不超过", "不高于", "不大于", "最高", "最多", "不得超过", "不得高于", "上限", "控制在", "封顶",
    "≤", "<=", "<",
)  # fmt: skip
#: Filler between such a word and the amount (共计约27万元, 工资为140万元).
_SOFT_WORDS = ("约为", "大约", "约", "为", "是", "需要", "需", "达到", "达", "预计")
_MIN_AFTER = ("及以上", "以上", "起")
_MAX_AFTER = ("以内", "以下", "之内", "封顶", "为限")

#: Comparator words before a ratio (按照不低于市级投入资金1：2的比例). Multi-character only, so
#: that place names such as 达州 cannot pose as 达.
_RATIO_COMPARATORS = (
    ("不低于", "≥"), ("不少于", "≥"), ("不小于", "≥"), ("至少", "≥"),
    ("不超过", "≤"), ("不高于", "≤"), ("不大于", "≤"), ("最高", "≤"),
    ("大于", ">"), ("高于", ">"), ("小于", "<"), ("低于", "<"), ("等于", "="),
)  # fmt: skip

#: Units after a number that make it neither a count nor an amount (2023年, 8号, 满2届, 95%).
_OTHER_UNITS = frozenset("年月日号天周届岁时点%倍度期")
#: Those of them that no counter or money unit starts with: a number right before one is
#: "other" whatever its value, so _classify need not parse it.
_OTHER_ONLY = _OTHER_UNITS - set(_COUNTERS_BY_FIRST) - _MONEY_FIRST - {"个", "各"}

_OPERATORS = ("*", "×", "x", "X", "乘", "乘以")

# Characters that end a noun phrase next to a count. Quotes are kept: 村支“两委”成员.
_NOUN_STOP = frozenset(",.、:;。!?()[]{}【】《》〔〕<>*×/+=~·… \t\r\n每的及和与或等")
_NOUN_MAX = 12
#: Words between a noun and the count after it (离任村干部共45名, 党员约80人).
_NOUN_TAIL_FILLERS = ("共计", "合计", "总计", "共有", "共", "约", "计", "有", "为", "达", "是")
#: Words before a noun that are not part of it (目前共有离任村主干176名 → 离任村主干).
_NOUN_FILLERS = ("目前", "现有", "共有", "共计", "合计", "总计", "另有", "其中", "共", "约", "有", "和", "及")

# Punctuation trimmed from label ends. Quotes are not: 建设“老党员之家” keeps its closing quote.
_LABEL_PUNCT = " \t\r\n,.、:;。!?，、：；。！？…·-—*×/=＝"
_LABEL_LEAD = ("其中", "另外", "以及", "另", "和", "及", "并", "按照", "依照", "依据", "按", "的")
_LABEL_TAIL = _TOTAL_WORDS + _MIN_WORDS + _MAX_WORDS + _SOFT_WORDS + ("标准为", "标准", "按照", "按", "的")
# Which tail word a label ends with is the first in _LABEL_TAIL's order; only the words ending
# in the label's last character can be it, and they keep that order here.
_LABEL_TAIL_BY_LAST: dict[str, tuple[str, ...]] = {}
for _word in _LABEL_TAIL:
    _LABEL_TAIL_BY_LAST[_word[-1]] = (*_LABEL_TAIL_BY_LAST.get(_word[-1], ()), _word)
del _word

# --- regular expressions (linear: no nested quantifiers) ---------------------------------------

_CN_START = "零〇一二两三四五六七八九十"
_NUMBER = re.compile(rf"\d[\d,]*(?:\.\d+)?|[{_CN_START}][{CN_NUMERAL_CHARS}]*")
_SENTENCE_END = re.compile(r"[。;!?\n]")
_RATIO_SEPARATOR = re.compile("[:比]")
_CLAUSE_CUT = re.compile("[,、:。;!?\n]")
# Enumeration markers 1、 2. (3) 一、 ① at the start of a line or after punctuation.
_ENUMERATION = re.compile(
    r"(?:^|(?<=[\s。;,:、!?]))(?:\d{1,2}[、.](?!\d)|\(\d{1,2}\)|[一二三四五六七八九十]{1,2}、|[\u2460-\u2473])",
    re.MULTILINE,
)
_LEADING_ENUMERATION = re.compile(r"\d{1,2}[、.](?!\d)|\(\d{1,2}\)|[一二三四五六七八九十]{1,2}、|[\u2460-\u2473]")
_ENUMERATION_FIRST = frozenset("(（一二三四五六七八九十")


def _may_enumerate(s: str) -> bool:
    """Whether ``s`` can start with a _LEADING_ENUMERATION, judged by its first character as
    written: labels are trimmed in a loop, and most start with a letter, so the regex (and the
    width folding it needs) is skipped for them. isdigit() accepts every \\d and more."""
    c = s[:1]
    return bool(c) and (c.isdigit() or c in _ENUMERATION_FIRST or "\u2460" <= c <= "\u2473")


# A lone 一 is far more often part of a word (统一, 新一轮, 一般) than a count; it counts only
# after one of these characters or after a non-letter.
_LONE_ONE_AFTER = frozenset("共有计为含约达建设置购配办开举组派选招录聘签增和及与或、")


# --- scanning ----------------------------------------------------------------------------------


@dataclass
class _Token:
    """A number in the text and what follows it."""

    start: int
    end: int  # after the unit and any "/per" chain
    kind: str  # "money" | "count" | "other"
    value: Decimal | None = None
    unit: str = ""  # money: 万元/元 …; count: the counter as written (各 read as 个)
    per: tuple[str, ...] = ()
    implied: bool = False  # a bare number after 共计/合计 read in the default unit
    bound: int = 0  # end of the count's noun when the noun follows it
    noun: str = ""
    entity: str | None = None
    sentence: int = -1
    clause: int = -1


@dataclass
class _Every:
    """A 每-phrase (每个村, 每人每年 is two of them) and the dimension it names."""

    start: int
    end: int
    dim: str


@dataclass
class _Money:
    token: _Token
    rate: bool = False
    per: tuple[str, ...] = ()
    role: str = "component"
    breakdown: bool = False  # an amount after 其中 that splits a rate
    label: str = ""


def _cuts(t: str) -> list[tuple[int, int]]:
    """The spans cut out between sentences (terminators, enumeration markers), in order."""
    cuts = [(m.start(), m.end()) for m in _SENTENCE_END.finditer(t)]
    cuts += [(m.start(), m.end()) for m in _ENUMERATION.finditer(t)]
    cuts.sort()
    return cuts


def _sentences(t: str, cuts: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sentence spans: what lies between the ``cuts`` (see :func:`_cuts`)."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for cs, ce in [*cuts, (len(t), len(t))]:
        if cs > pos:
            s, e = pos, cs
            while s < e and t[s].isspace():
                s += 1
            while e > s and t[e - 1].isspace():
                e -= 1
            if e > s:
                if spans and _starts_with_qizhong(t[s:e]):
                    # "经费15万元。其中办公费5万元…" splits the previous sentence's amount: keep
                    # it in that sentence so the breakdown is not counted twice.
                    spans[-1] = (spans[-1][0], e)
                else:
                    spans.append((s, e))
        pos = max(pos, ce)
    return spans


def _clauses(t: str, start: int, end: int, protected: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Split a sentence on ， 、 ： — not inside a ratio (1：2) or between digits (1,000).

    Sentence terminators split too: a sentence continued by 其中 contains one.
    """
    spans, s = [], start
    protected_starts = [ps for ps, _ in protected]
    for m in _CLAUSE_CUT.finditer(t, start, end):  # a C scan instead of a loop over characters
        i, c = m.start(), m.group()
        if _inside(protected, protected_starts, i):
            continue
        if c == "," and 0 < i < len(t) - 1 and t[i - 1].isdigit() and t[i + 1].isdigit():
            continue
        if i > s:
            spans.append((s, i))
        s = i + 1
    if end > s:
        spans.append((s, end))
    return spans


def _ratios(t: str) -> list[tuple[int, int, Decimal, Decimal]]:
    """1：2 / 1:1 / 1比2 that the text calls a ratio (比例, 配比, 配套 nearby, or written 比).

    Scans outwards from each separator instead of using a regex, so that long digit runs cost
    linear time.
    """
    found = []
    for m in _RATIO_SEPARATOR.finditer(t):  # a C scan: most texts have no separator
        i, c = m.start(), m.group()
        le = i - 1 if i and t[i - 1] == " " else i
        ls = le
        while ls > 0 and (t[ls - 1].isdigit() or t[ls - 1] == "."):
            ls -= 1
        rs = i + 2 if t[i + 1 : i + 2] == " " else i + 1
        re_ = rs
        while re_ < len(t) and (t[re_].isdigit() or t[re_] == "."):
            re_ += 1
        left, right = parse_number(t[ls:le]) if le > ls else None, parse_number(t[rs:re_]) if re_ > rs else None
        if left is None or right is None or (ls and t[ls - 1] == ":"):
            continue
        near = t[re_ : re_ + 6] + t[max(0, ls - 10) : ls]
        if c == "比" or any(w in near for w in ("比例", "配比", "配套")):
            found.append((ls, re_, left, right))
    return found


def _inside(spans: list[tuple[int, int]], starts: list[int], pos: int) -> bool:
    """Whether ``pos`` lies in one of the sorted, non-overlapping ``spans``."""
    i = bisect.bisect_right(starts, pos) - 1
    return i >= 0 and pos < spans[i][1]


def _numbers(t: str, protected: list[tuple[int, int]], default_unit: str) -> list[_Token]:
    tokens: list[_Token] = []
    protected = sorted(protected)
    starts = [ps for ps, _ in protected]
    pos = 0
    while True:
        m = _NUMBER.search(t, pos)
        if not m:
            return tokens
        s, e = m.span()
        text = m.group(0)
        if text[0].isdigit() and "," in text:
            value = parse_number(text)
            if value is None or text.endswith(","):
                e = s + text.index(",")  # "300,共20人": the comma ends the number
                text = t[s:e]
        pos = e
        if _inside(protected, starts, s):
            continue
        tok = _classify(t, s, e, text, default_unit)
        if tok.kind == "other" and not text[0].isdigit():
            continue  # a numeral inside a word (两委, 五老, 统一) is no boundary for nouns
        tokens.append(tok)
        pos = max(pos, tok.end)


def _classify(t: str, s: int, e: int, text: str, default_unit: str) -> _Token:
    """What the number t[s:e] is, judging by the characters right after it."""
    arabic = text[0].isdigit()
    if not arabic and text[-1] in "万亿" and len(text) > 1 and t.startswith("元", e):
        e -= 1  # 五万元: 万 belongs to the unit
        text = text[:-1]
    if t[e : e + 1] in _OTHER_ONLY:
        return _Token(s, e + 1, "other")  # 2023年, 8号: the commonest numbers in 测算 prose
    # A plain run of digits (the regex has already folded widths and cut off a trailing comma)
    # is its own decimal literal: parse_number would find the same value by way of two regexes.
    value = Decimal(text) if arabic and "," not in text else parse_number(text)
    prev = t[s - 1] if s else ""
    if value is None or prev in ("第", "每", "初", "周"):
        return _other(t, s, e)
    pos = e + 1 if t[e : e + 1] == " " else e
    nxt = t[pos : pos + 1]
    if nxt in _MONEY_FIRST:  # every money unit starts with one of these characters
        for unit in _MONEY_UNITS:
            if t.startswith(unit, pos):
                end, per = _per_chain(t, pos + len(unit))
                return _Token(s, end, "money", value, unit, per)
        if arabic and nxt in ("万", "亿") and not _is_letter(t[pos + 1 : pos + 2]):
            end, per = _per_chain(t, pos + 1)
            return _Token(s, end, "money", value, nxt + "元", per)  # "15万，" is 15万元
    if nxt == "个" and t.startswith(_NOT_COUNTS, pos):
        return _other(t, s, e)
    scale = Decimal(1)
    if t[pos : pos + 1] in ("万", "亿") and t.startswith(_COUNTERS, pos + 1):
        scale, pos = Decimal(10**4 if t[pos] == "万" else 10**8), pos + 1
    counter = "个" if t[pos : pos + 1] == "各" else _word_at(t, pos, _COUNTERS_BY_FIRST)
    if counter:
        if text == "一" and prev and _is_letter(prev) and prev not in _LONE_ONE_AFTER:
            return _other(t, s, e)
        end = pos + (1 if t[pos] == "各" else len(counter))
        return _Token(s, end, "count", value * scale, counter, bound=end)
    if (
        arabic
        and _after_total_word(t, s)
        and not _is_letter(t[pos : pos + 1])
        and t[pos : pos + 1] not in ("%", ".")
        and not t[pos : pos + 1].isdigit()
    ):
        return _Token(s, e, "money", value, default_unit, implied=True)
    return _other(t, s, e)


def _other(t: str, s: int, e: int) -> _Token:
    """Not a count or an amount (2023年, 12月, 8号, 95%): the token still spans its unit so that
    the noun of a later count does not start with it."""
    return _Token(s, e + 1 if t[e : e + 1] in _OTHER_UNITS else e, "other")


def _per_chain(t: str, pos: int) -> tuple[int, tuple[str, ...]]:
    """Read "/人/月" after an amount: the end position and the dimensions."""
    per: list[str] = []
    while t[pos : pos + 1] == "/" or (per and t[pos : pos + 1] == "·"):
        word = _word_at(t, pos + 1, _PER_WORDS_BY_FIRST)
        if not word:
            break
        per.append(_PER_SYNONYMS.get(word, _norm_counter(word)))
        pos += 1 + len(word)
    return pos, tuple(per)


def _is_letter(c: str) -> bool:
    return bool(c) and (c.isalpha() or "\u4e00" <= c <= "\u9fff")


def _after_total_word(t: str, s: int) -> bool:
    before = t[max(0, s - 6) : s].rstrip(" :")
    return before.endswith(("共计", "合计", "总计", "总共", "一共"))


def _everies(t: str, lexicon: Lexicon) -> list[_Every]:
    """Every 每-phrase in the text with the dimension it names (每个村 → 村, 每名队员 → 人)."""
    found = []
    pos = t.find("每")
    while pos >= 0:
        p = pos + 1
        if t.startswith("一", p):
            p += 1
        word = _word_at(t, p, _PER_WORDS_BY_FIRST)
        if word:
            end = p + len(word)
            dim = _PER_SYNONYMS.get(word, _norm_counter(word))
            if word in _CLASSIFIERS:
                noun = _noun_after(t, end, len(t))
                hit = lexicon.match(noun, word) if noun else None
                if hit:
                    dim = hit[0].unit
                    end += _matched_length(t, end, hit[1])
            found.append(_Every(pos, end, dim))
        pos = t.find("每", pos + 1)
    return found


def _matched_length(t: str, start: int, plain_noun: str) -> int:
    """Length in ``t`` of ``plain_noun`` starting at ``start``, counting the quotes it skips."""
    i, n = start, 0
    while i < len(t) and n < len(plain_noun):
        if t[i] == plain_noun[n]:
            n += 1
        i += 1
    return i - start


_OPEN_QUOTES = "“‘「『"
_CLOSE_QUOTES = "”’」』"


def _noun_after(t: str, start: int, limit: int) -> str:
    end, depth = start, 0
    while end < limit and end - start < _NOUN_MAX:
        c = t[end]
        if c in _NOUN_STOP or c.isdigit():
            break
        # A closing quote without its opening one closes a phrase the count sits in:
        # “两项待遇” → 待遇, not 待遇”.
        depth += (c in _OPEN_QUOTES) - (c in _CLOSE_QUOTES)
        if depth < 0:
            break
        if c == "共" and (t[end + 1 : end + 2].isdigit() or t[end + 1 : end + 2] in ("计", "有")):
            break
        end += 1
    return t[start:end]


def _noun_before(t: str, start: int, limit: int) -> str:
    begin, depth = start, 0
    while begin > limit and start - begin < _NOUN_MAX:
        c = t[begin - 1]
        if c in _NOUN_STOP or c.isdigit():
            break
        depth += (c in _CLOSE_QUOTES) - (c in _OPEN_QUOTES)
        if depth < 0:
            break  # an opening quote whose phrase the count is in
        begin -= 1
    noun = t[begin:start]
    changed = True
    while changed:
        changed = False
        if noun.startswith(_NOUN_FILLERS):  # one C call; the loop strips them in list order
            for filler in _NOUN_FILLERS:
                if noun.startswith(filler):
                    noun, changed = noun[len(filler) :], True
        if noun.endswith(_NOUN_TAIL_FILLERS):
            for filler in _NOUN_TAIL_FILLERS:
                if noun.endswith(filler):
                    noun, changed = noun[: -len(filler)], True
    return noun


def _name_counts(t: str, tokens: list[_Token], clause_spans: list[tuple[int, int]], lexicon: Lexicon) -> None:
    """Find the noun and entity of each count: after the counter, else before the number."""
    prev_end = 0
    for tok in tokens:
        if tok.kind == "count":
            cs, ce = clause_spans[tok.clause]
            after = _noun_after(t, tok.end, ce)
            before = _noun_before(t, tok.start, max(cs, prev_end))
            hit_after = lexicon.match(after, tok.unit) if after else None
            hit_before = lexicon.match(before, tok.unit, at_end=True) if before and not hit_after else None
            if hit_after:
                # The phrase may run on (9个行政村现任村“两委”成员33人): only the lexicon noun
                # belongs to this count, the rest may be the noun of the next one.
                tok.noun, tok.entity = after, hit_after[0].name
                tok.bound = tok.end + _matched_length(t, tok.end, hit_after[1])
            elif hit_before:
                tok.noun, tok.entity = before, hit_before[0].name
            else:
                tok.noun = after or before
                if after:
                    tok.bound = tok.end + len(after)
        prev_end = tok.bound or tok.end


def _count_dims(tok: _Token, lexicon: Lexicon) -> set[str]:
    """Dimensions a count can multiply a rate by: its counter, its kind's unit and name."""
    dims = {_norm_counter(tok.unit)}
    if tok.entity:
        dims |= {lexicon.kinds[tok.entity].unit, tok.entity}
    if tok.noun:
        dims.add(_plain(tok.noun))
    return dims


# --- labels and roles --------------------------------------------------------------------------


def _clean_label(text: str) -> str:
    """Trim punctuation, numbering and connective words (共计, 不少于, 按 …) from both ends."""
    s = text
    while True:
        old = s
        s = s.strip(_LABEL_PUNCT)
        if s.endswith(("(", "（")):
            s = s[:-1]
        if s.startswith((")", "）")):
            s = s[1:]
        m = _LEADING_ENUMERATION.match(normalize_width(s)) if _may_enumerate(s) else None
        if m:
            s = s[m.end() :]
        if s.startswith(_LABEL_LEAD):  # one C call; the loop finds which word, in list order
            for word in _LABEL_LEAD:
                if s.startswith(word):
                    s = s[len(word) :]
                    break
        if s.endswith(_LABEL_TAIL):
            for word in _LABEL_TAIL_BY_LAST[s[-1]]:
                if s.endswith(word):
                    s = s[: -len(word)]
                    break
        if s == "计":
            s = ""
        if s == old:
            return s


def _ends_with_total(text: str) -> bool:
    """共计/合计 … before an amount; a lone 计 only when it is not the end of a word (统计)."""
    if text.endswith(_TOTAL_WORDS):
        return True
    return text.endswith("计") and (len(text) == 1 or not _is_letter(text[-2]))


def _role(before: str, after: str) -> str:
    b = before.rstrip(" (")
    for _ in range(3):
        if _ends_with_total(b):
            return "total"
        if b.endswith(_MIN_WORDS):
            return "minimum"
        if b.endswith(_MAX_WORDS):
            return "maximum"
        soft = next((w for w in _SOFT_WORDS if b.endswith(w)), "")
        if not soft:
            break
        b = b[: -len(soft)]
    a = after.lstrip(" ")
    if a.startswith(_MIN_AFTER):
        return "minimum"
    if a.startswith(_MAX_AFTER):
        return "maximum"
    return "component"


def _label(
    text: str,
    region: tuple[int, int],
    amount_end: int,
    next_start: int,
    index: _Index,
) -> str:
    """The words the amount is for: before it in its clause, else right after it.

    Counts and 每-phrases at the end of the text before the amount describe the calculation,
    not the thing paid for ("9个村每个村3万元村级服务群众专项经费" → 村级服务群众专项经费).
    """
    rs, re_ = region
    end = re_
    changed = True
    while changed:
        changed = False
        while rs < end and text[rs] in _LABEL_PUNCT:
            rs += 1
        item = index.every_at_start.get(rs)
        if item is not None and item.end <= end:
            rs, changed = item.end, True
        while end > rs and text[end - 1] in _LABEL_PUNCT:
            end -= 1
        if text.endswith(_LABEL_TAIL, rs, end):  # one C call; the loop finds which word
            for word in _LABEL_TAIL_BY_LAST[text[end - 1]]:
                if end - len(word) >= rs and text.startswith(word, end - len(word)):
                    end, changed = end - len(word), True
                    break
        item = index.every_at_end.get(end)
        if item is not None and item.start >= rs:
            end, changed = item.start, True
        tok = index.count_at_bound.get(end)
        if tok is not None and tok.start >= rs:
            end, changed = tok.start, True
    before = _clean_label(text[rs:end])
    if before:
        return before
    after = _clean_label(text[amount_end:next_start])
    return after or _clean_label(text[region[0] : region[1]])


# --- extraction --------------------------------------------------------------------------------


class _Index:
    """Sentences, clauses and tokens of one text, grouped so that every lookup is cheap."""

    def __init__(
        self,
        t: str,
        protected: list[tuple[int, int]],
        cuts: list[tuple[int, int]],
        numbers: list[_Token],
        lexicon: Lexicon,
    ) -> None:
        """``numbers`` are the tokens :func:`_numbers` finds outside ``protected`` and ``cuts``."""
        self.sentence_spans = _sentences(t, cuts)
        self.sentence_starts = [ss for ss, _ in self.sentence_spans]
        self.clause_spans: list[tuple[int, int]] = []
        self.clause_sentence: list[int] = []
        self.sentence_clauses: list[list[int]] = []
        for si, (ss, se) in enumerate(self.sentence_spans):
            self.sentence_clauses.append([])
            for span in _clauses(t, ss, se, protected):
                self.sentence_clauses[si].append(len(self.clause_spans))
                self.clause_spans.append(span)
                self.clause_sentence.append(si)
        self.clause_starts = [cs for cs, _ in self.clause_spans]

        self.tokens: list[_Token] = []
        for tok in numbers:
            ci = self.clause_of(tok.start)
            if ci < 0:
                continue  # in a cut: enumeration marker or between clauses
            tok.clause, tok.sentence = ci, self.clause_sentence[ci]
            self.tokens.append(tok)
        _name_counts(t, self.tokens, self.clause_spans, lexicon)
        self.by_clause: dict[int, list[_Token]] = {}
        self.by_sentence: dict[int, list[_Token]] = {}
        for tok in self.tokens:
            self.by_clause.setdefault(tok.clause, []).append(tok)
            self.by_sentence.setdefault(tok.sentence, []).append(tok)
        self.counts = [tok for tok in self.tokens if tok.kind == "count"]
        self.count_at_bound = {tok.bound or tok.end: tok for tok in self.counts}

        self.everies = _everies(t, lexicon)
        self.every_starts = [x.start for x in self.everies]
        self.every_at_start = {x.start: x for x in self.everies}
        self.every_at_end = {x.end: x for x in self.everies}

    def clause_of(self, pos: int) -> int:
        ci = bisect.bisect_right(self.clause_starts, pos) - 1
        return ci if ci >= 0 and pos < self.clause_spans[ci][1] else -1

    def sentence_of(self, pos: int) -> int:
        si = bisect.bisect_right(self.sentence_starts, pos) - 1
        return si if si >= 0 and pos < self.sentence_spans[si][1] else -1

    def everies_in(self, start: int, end: int) -> list[_Every]:
        i = bisect.bisect_left(self.every_starts, start)
        found = []
        while i < len(self.everies) and self.everies[i].start < end:
            if self.everies[i].end <= end:
                found.append(self.everies[i])
            i += 1
        return found


def extract_claims(
    text: str, source: Source, default_unit: str = "万元", *, lexicon: Lexicon | None = None
) -> list[Claim]:
    """Every claim stated in ``text`` (a cell read from ``source``), sorted by start.

    ``default_unit`` is the table's money unit, used for a bare number after 共计/合计/总计.
    ``lexicon`` defaults to the shipped ``entities.yaml``.
    """
    if default_unit not in MONEY_SCALES:
        raise ValueError(f"无法识别的金额单位“{default_unit}”")
    lexicon = lexicon or load_lexicon()
    if _NUMBER.search(text) is None:
        # Every claim starts at a number (a ratio too: it is two), and the text as written has
        # one where the folded text has one (\d takes full-width digits, nothing folds into a
        # digit). Most cells read for claims (指标 names, qualitative values, goals) have none.
        return []
    t = normalize_width(text)
    ratio_matches = _ratios(t)
    protected = [(rs, re_) for rs, re_, _, _ in ratio_matches]
    cuts = _cuts(t)
    numbers = _numbers(t, protected + cuts, default_unit)
    if not ratio_matches and all(tok.kind == "other" for tok in numbers):
        return []  # only years, dates, percentages …: no count or amount to claim anything
    index = _Index(t, protected, cuts, numbers, lexicon)

    if "\n" in text:

        def make_source(start: int, end: int) -> Source:
            return source.narrowed(text, start, end)

    else:  # one line: every span narrows to the same source, made once
        one_line = source.narrowed(text, 0, 0)

        def make_source(start: int, end: int) -> Source:
            return one_line

    claims: list[Claim] = []
    for tok in index.counts:
        claims.append(
            CountClaim(
                number=tok.value,  # type: ignore[arg-type]
                counter=_norm_counter(tok.unit),
                noun=tok.noun,
                entity=tok.entity,
                start=tok.start,
                end=tok.end,
                source=make_source(tok.start, tok.end),
                text=text[tok.start : tok.end],
                sentence=tok.sentence,
            )
        )

    monies = _classify_amounts(t, text, index)
    heads: _Headcounts | None = None  # only a rate asks for its headcount
    for item in monies:
        tok = item.token
        money = Money(tok.value * MONEY_SCALES[tok.unit], tok.unit)  # type: ignore[operator]
        common: dict[str, Any] = {
            "start": tok.start,
            "end": tok.end,
            "source": make_source(tok.start, tok.end),
            "text": text[tok.start : tok.end],
            "sentence": tok.sentence,
        }
        if item.rate:
            heads = heads or _Headcounts(index)
            claims.append(RateClaim(money=money, per=item.per, label=item.label, headcount=heads.of(tok), **common))
        else:
            claims.append(AmountClaim(money=money, role=item.role, label=item.label, **common))

    claims += _rate_counts(text, monies, index, lexicon, make_source)

    for s, e, left, right in ratio_matches:
        ci = index.clause_of(s)
        cs = index.clause_spans[ci][0] if ci >= 0 else s
        label, comparator = _ratio_label(text[cs:s])
        claims.append(
            RatioClaim(
                left=left,
                right=right,
                label=label,
                comparator=comparator,
                start=s,
                end=e,
                source=make_source(s, e),
                text=text[s:e],
                sentence=index.sentence_of(s),
            )
        )

    order = {CountClaim: 0, RateCountClaim: 1, RateClaim: 2, AmountClaim: 3, RatioClaim: 4}
    claims.sort(key=lambda c: (c.start, c.end, order[type(c)]))
    return claims


def _classify_amounts(t: str, text: str, index: _Index) -> list[_Money]:
    """Decide for each amount whether it is a rate (and per what) or a plain amount (and its role)."""
    result: list[_Money] = []
    if all(tok.kind != "money" for tok in index.tokens):
        return result  # counts only (副县以上老干部76名…)
    everies = index.everies
    for clauses in index.sentence_clauses:
        seen: list[_Money] = []  # amounts of this sentence so far
        parent: _Money | None = None  # the rate a 其中 clause splits
        for ci in clauses:
            cs, ce = index.clause_spans[ci]
            # 其中 only changes something when an amount came before it in the sentence.
            if seen and _starts_with_qizhong(text[cs:ce]):
                if seen[-1].rate:
                    parent = seen[-1] if not seen[-1].breakdown else parent
                elif seen[-1].role == "component":
                    seen[-1].role = "total"  # "经费15万元，其中…": the breakdown adds up to it
            clause_tokens = index.by_clause.get(ci)
            if not clause_tokens:
                continue
            prev_money_end = cs
            for i, tok in enumerate(clause_tokens):
                if tok.kind != "money":
                    continue
                nxt = clause_tokens[i + 1].start if i + 1 < len(clause_tokens) else ce
                region = (prev_money_end, tok.start)
                before = t[region[0] : region[1]]
                per = tuple(x.dim for x in index.everies_in(*region)) if everies else ()
                item = _Money(tok)
                if tok.per or per:
                    item.rate, item.per = True, tuple(dict.fromkeys(per + tok.per))
                elif "标准" in before and not tok.implied:
                    item.rate = True
                elif parent is not None:
                    item.rate, item.per, item.breakdown = True, parent.per, True
                elif tok.implied:
                    item.role = "total"
                else:
                    item.role = _role(before, t[tok.end : nxt])
                item.label = _label(text, region, tok.end, nxt, index)
                seen.append(item)
                result.append(item)
                prev_money_end = tok.end
    return result


def _starts_with_qizhong(clause: str) -> bool:
    """Whether a clause opens with 其中 (after numbering), i.e. splits what came before it."""
    if "其中" not in clause:  # asked of every clause; most have no 其中 anywhere
        return False
    s = clause.lstrip(_LABEL_PUNCT)
    m = _LEADING_ENUMERATION.match(normalize_width(s))
    if m:
        s = s[m.end() :].lstrip(_LABEL_PUNCT)
    return s.startswith("其中")


class _Headcounts:
    """A person count stated with a rate: after it before the next amount, else in its clause."""

    def __init__(self, index: _Index) -> None:
        self.money_starts: dict[int, list[int]] = {}
        self.people: dict[int, list[_Token]] = {}
        self.first_in_clause: dict[int, _Token] = {}
        for tok in index.tokens:
            if tok.kind == "money":
                self.money_starts.setdefault(tok.sentence, []).append(tok.start)
            elif tok.kind == "count" and _norm_counter(tok.unit) == "人":
                self.people.setdefault(tok.sentence, []).append(tok)
                self.first_in_clause.setdefault(tok.clause, tok)
        self.people_starts = {si: [x.start for x in xs] for si, xs in self.people.items()}

    def of(self, tok: _Token) -> Decimal | None:
        people = self.people.get(tok.sentence, [])
        starts = self.people_starts.get(tok.sentence, [])
        monies = self.money_starts.get(tok.sentence, [])
        i = bisect.bisect_right(starts, tok.start)
        j = bisect.bisect_right(monies, tok.start)
        nxt = monies[j] if j < len(monies) else None
        if i < len(people) and (nxt is None or people[i].start < nxt):
            return people[i].value
        same = self.first_in_clause.get(tok.clause)
        return same.value if same is not None else None


def _rate_counts(
    text: str,
    monies: list[_Money],
    index: _Index,
    lexicon: Lexicon,
    make_source,
) -> list[RateCountClaim]:
    """Pair each rate per X with a count of X in its sentence: the one joined to it by × first,
    else the nearest count before it, else the nearest after it."""
    if not index.counts or not any(m.rate and not m.breakdown and len(m.per) == 1 for m in monies):
        return []  # nothing to pair
    by_dim: dict[tuple[int, str], list[_Token]] = {}
    for c in index.counts:
        for dim in _count_dims(c, lexicon):
            by_dim.setdefault((c.sentence, dim), []).append(c)
    starts = {key: [c.start for c in cs] for key, cs in by_dim.items()}

    def joined(a_end: int, b_start: int) -> bool:
        return 0 <= b_start - a_end <= 4 and normalize_width(text[a_end:b_start]).strip() in _OPERATORS

    pairs: list[tuple[_Money, _Token]] = []
    for item in monies:
        tok = item.token
        if not item.rate or item.breakdown or len(item.per) != 1:
            continue
        key = (tok.sentence, item.per[0])
        candidates = by_dim.get(key)
        if not candidates:
            continue
        i = bisect.bisect_left(starts[key], tok.start)
        earlier = candidates[i - 1] if i > 0 else None
        later = candidates[i] if i < len(candidates) else None
        if later is not None and joined(tok.end, later.start):
            chosen = later
        elif earlier is not None and joined(earlier.end, tok.start):
            chosen = earlier
        else:
            fallback = earlier or later
            assert fallback is not None  # candidates is not empty: one of the two exists
            chosen = fallback
        pairs.append((item, chosen))

    pairs_in: dict[int, int] = {}
    for item, _ in pairs:
        pairs_in[item.token.sentence] = pairs_in.get(item.token.sentence, 0) + 1
    stated_in: dict[int, Money | None] = {}
    for si in pairs_in:
        if pairs_in[si] != 1:
            continue  # several calculations: which one a total is for is not said
        amounts = [m for m in monies if m.token.sentence == si and not m.rate]
        totals = [m for m in amounts if m.role == "total"]
        components = [m for m in amounts if m.role == "component"]
        pick = totals[0] if totals else components[0] if len(components) == 1 else None
        if pick is not None:
            stated_in[si] = Money(pick.token.value * MONEY_SCALES[pick.token.unit], pick.token.unit)  # type: ignore[operator]

    claims = []
    for item, count in pairs:
        tok = item.token
        rate = Money(tok.value * MONEY_SCALES[tok.unit], tok.unit)  # type: ignore[operator]
        start, end = min(tok.start, count.start), max(tok.end, count.end)
        claims.append(
            RateCountClaim(
                rate=rate,
                per=item.per[0],
                count=count.value,  # type: ignore[arg-type]
                count_counter=_norm_counter(count.unit),
                product_yuan=rate.yuan * count.value,  # type: ignore[operator]
                stated=stated_in.get(tok.sentence),
                start=start,
                end=end,
                source=make_source(start, end),
                text=text[start:end],
                sentence=tok.sentence,
            )
        )
    return claims


def _ratio_label(before: str) -> tuple[str, str]:
    """Label and comparator of a ratio from the text before it in its clause."""
    comparator, cut, found = "", -1, ""
    for word, symbol in _RATIO_COMPARATORS:
        i = before.rfind(word)
        # The comparator ending last wins; at the same end the longer word (不低于, not 低于).
        if i >= 0 and (i + len(word) > cut or (i + len(word) == cut and len(word) > len(found))):
            comparator, cut, found = symbol, i + len(word), word
    if cut < 0:
        cut = 0
        for word in ("按照", "依照", "依据", "按"):
            i = before.rfind(word)
            if i >= 0:
                cut = i + len(word)
                break
    return _clean_label(before[cut:]), comparator


# --- components --------------------------------------------------------------------------------


def component_amounts(claims: Iterable[Claim]) -> list[Component]:
    """What a 测算说明 says its line's amount is made of, per sentence:

    the sentence's stated total(s) (共/合计 …) if any; else its plain amounts (not rates, not
    minimums or maximums); else the products of its rate × count claims. ``claims`` must come
    from one :func:`extract_claims` call (sentences are numbered per text).
    """
    by_sentence: dict[int, list[Claim]] = {}
    for claim in claims:
        by_sentence.setdefault(claim.sentence, []).append(claim)
    result: list[Component] = []
    for si in sorted(by_sentence):
        items = by_sentence[si]
        amounts = [c for c in items if isinstance(c, AmountClaim)]
        totals = [c for c in amounts if c.role == "total"]
        plain = [c for c in amounts if c.role == "component"]
        if totals or plain:
            for c in totals or plain:
                result.append(Component(c.money, c.label, c, c.start, c.end, c.source))
            continue
        for claim in items:
            if isinstance(claim, RateCountClaim):
                money = Money(claim.product_yuan, claim.rate.written_unit)
                label = next(
                    (r.label for r in items if isinstance(r, RateClaim) and claim.start <= r.start < claim.end), ""
                )
                result.append(Component(money, label, claim, claim.start, claim.end, claim.source))
    result.sort(key=lambda c: c.start)
    return result
