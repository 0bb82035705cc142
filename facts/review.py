"""What a 财政 reviewer notices in the text of a filing, as facts rules can report.

The arithmetic rules need numbers; a reviewer also reads the words: slogan values such as
“提升服务”, a “≥95%” on an indicator named after a goal sentence, “1000月/人/年”, “9各村”, a
citation with no 文号. This module reads the facts already built for a filing (so it works for
every table kind whose indicators and goals use the documented fields) and adds:

* ``observed(E, Field, Code, Seen, Want)`` — entity E's field Field shows the pattern Code;
  Seen quotes the filing, Want says what would satisfy the rule. Rules report them with
  ``check: {observed: Code}`` (:mod:`hegui.engine.checks.observed`).
* ``text(明细, 补贴对象, …)`` / ``number(明细, 补贴岗位数, N)`` — which village posts a pension
  subsidy line covers, read from its own words.
* ``count`` facts that tie a count in an indicator value (“33人”) to the object named in its
  三级指标 (“…村支“两委”成员…”), so the cross-table agreement rule compares them.

Every word list lives in ``review-terms.yaml`` (policy staff edit it). Matching is by plain
substring or prefix, plus one token ``{数字}`` (1–3 digits); the few regular expressions here
are fixed in code, built only from escaped list entries, and every entry is length-limited,
so nothing a user writes is ever compiled as a pattern or run as code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from typing import Any, TypeVar

import yaml

from hegui.facts.claims import load_lexicon
from hegui.facts.values import squash

T = TypeVar("T")

OBSERVED = "observed"
MAX_TERM_CHARS = 40
MAX_TERMS = 500
MAX_TEXT_CHARS = 4000  # longer cells are cut before the quadratic repeated-phrase search
#: What Terms.memo may hold, in characters of the texts it is keyed by plus MEMO_ENTRY_CHARS per
#: entry (the key, the result): a few MB at most, whatever the cells' length, so a long batch
#: or service stays flat in memory.
MEMO_CHARS = 2_000_000
MEMO_ENTRY_CHARS = 64

_PUNCT = frozenset("，,。.、；;：:！!？?（）()“”\"'‘’《》<>〈〉【】[]—-…·/ \t\r\n")
_DROP_PUNCT = {ord(ch): None for ch in _PUNCT}
_DIGIT = re.compile(r"\d")
_NUMBER_WITH_UNIT = re.compile(r"\d+(?:\.\d+)?\s*(?:%|％|[^\d\s，,、；;。.≥≤<>＝=]{1,3})")
_DOCNO = re.compile(r"[\u4e00-\u9fff]{1,12}\s*[〔\[［(（]\s*\d{4}\s*[〕\]］)）]\s*\d{1,4}\s*号")
_TITLE = re.compile(r"《([^《》]{0,160})》")
_MONEY = re.compile(r"\d+(?:\.\d+)?\s*(?:万元|元|千元|亿元)")


class TermsError(ValueError):
    """``review-terms.yaml`` has an entry that breaks the limits (named in the message)."""


@dataclass(frozen=True)
class Terms:
    """The word lists of ``review-terms.yaml``."""

    lists: dict[str, tuple[str, ...]]
    maps: dict[str, dict[str, Any]] = field(default_factory=dict)
    numbers: dict[str, int] = field(default_factory=dict)
    _memo: _Memo = field(default_factory=lambda: _Memo(), init=False, repr=False, compare=False)

    def __getitem__(self, name: str) -> tuple[str, ...]:
        return self.lists.get(name, ())

    def forget(self) -> None:
        """Empty what :meth:`memo` remembers."""
        self._memo.found.clear()
        self._memo.chars = 0

    def memo(self, fn: Callable[..., T], *args: Hashable) -> T:
        """``fn(*args, self)``, computed once per distinct ``args`` (texts, as a rule).

        Kept on the terms because the result depends on them and on ``args`` only, never on
        the filing: every filing repeats the template's texts (标题, 指标 names, 计划标准 …),
        and re-checking one repeats all of them. Bounded: emptied when full, which changes
        nothing but the time it takes. ``fn`` must depend on nothing but ``args`` and the
        terms, and return something immutable (tuples): one result serves every filing.
        """
        key = (fn, *args)
        memo = self._memo
        found = memo.found.get(key)
        if found is None:
            found = fn(*args, self)
            size = MEMO_ENTRY_CHARS + sum(len(a) for a in args if isinstance(a, str))
            if memo.chars + size > MEMO_CHARS:
                self.forget()
            memo.found[key] = found
            memo.chars += size
        return found


class _Memo:
    """What :meth:`Terms.memo` remembers, and its size (see MEMO_CHARS)."""

    def __init__(self) -> None:
        self.found: dict[tuple, Any] = {}
        self.chars = 0


def parse_terms(text: str, where: str = "review-terms.yaml") -> Terms:
    """Validate and load a terms file: lists of short plain strings, a few maps and numbers."""
    data = yaml.safe_load(text) or {}
    if not isinstance(data, dict):
        raise TermsError(f"{where}：顶层应为映射")
    lists: dict[str, tuple[str, ...]] = {}
    maps: dict[str, dict[str, Any]] = {}
    numbers: dict[str, int] = {}

    def check_term(key: str, term: Any) -> str:
        if not isinstance(term, str) or not term:
            raise TermsError(f"{where}：{key} 中的“{term}”应为非空文字")
        if len(term) > MAX_TERM_CHARS:
            raise TermsError(f"{where}：{key} 中的“{term[:20]}…”超过{MAX_TERM_CHARS}个字")
        return term

    for key, value in data.items():
        if isinstance(value, list):
            if len(value) > MAX_TERMS:
                raise TermsError(f"{where}：{key} 超过{MAX_TERMS}项")
            lists[key] = tuple(check_term(key, t) for t in value)
        elif isinstance(value, dict):
            maps[key] = {}
            for k, v in value.items():
                check_term(key, k)
                if isinstance(v, list):
                    maps[key][k] = tuple(check_term(key, t) for t in v)
                else:
                    maps[key][k] = check_term(key, v)
        elif isinstance(value, int) and 0 < value <= 1000:
            numbers[key] = value
        else:
            raise TermsError(f"{where}：{key} 应为列表、映射或1–1000的整数")
    return Terms(lists, maps, numbers)


@lru_cache(maxsize=1)
def load_terms() -> Terms:
    """The terms shipped as ``hegui/facts/review-terms.yaml``."""
    text = resources.files("hegui.facts").joinpath("review-terms.yaml").read_text(encoding="utf-8")
    return parse_terms(text)


def token_pattern(term: str) -> re.Pattern[str]:
    """A list entry as a pattern: literal text, with ``{数字}`` standing for 1–3 digits."""
    parts = term.split("{数字}")
    return re.compile(r"\d{1,3}".join(re.escape(p) for p in parts))


def _plain(text: str) -> str:
    return text.translate(_DROP_PUNCT)


def _short(text: str, limit: int = 60) -> str:
    text = squash(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Index:
    """The facts of one filing, indexed the way the detectors read them."""

    def __init__(self, facts: list[tuple], raw: dict[tuple[str, str], str]) -> None:
        self.kind: dict[str, str] = {}
        self.text: dict[tuple[str, str], str] = {}
        self.number: dict[tuple[str, str], Decimal] = {}
        self.amount: dict[tuple[str, str], Decimal] = {}
        self.missing: set[tuple[str, str]] = set()
        # (table, kind of row) whose rows the copy cut off: the last row read may have lost its tail.
        self.partial: set[tuple[str, str]] = set()
        self.parent: dict[str, str] = {}
        self.table: dict[str, str] = {}
        self.children: dict[str, list[str]] = {}
        self.pair: dict[str, str] = {}  # 附件2 row ↔ its 附件3: one direction described twice
        self.raw = raw
        # Read by several detectors: worked out once per filing.
        self._of_kind: dict[str, tuple[str, ...]] = {}
        self._by_kind: dict[str, list[str]] | None = None
        self._texts: list[tuple[str, str, str]] | None = None
        kind, text, number, amount = self.kind, self.text, self.number, self.amount
        parent, table, children, pair = self.parent, self.table, self.children, self.pair
        # The commonest predicates first (text is ~40 % of a filing's facts; within and count,
        # which no detector reads, are the next): this loop runs over every fact.
        for fact in facts:
            name = fact[0]
            if name == "text":
                text[(fact[1], fact[2])] = fact[3]
            elif name == "within" or name == "count":
                continue
            elif name == "rel":
                relation = fact[2]
                if relation == "所属":
                    parent[fact[1]] = fact[3]
                    children.setdefault(fact[3], []).append(fact[1])
                elif relation == "所属表":
                    table[fact[1]] = fact[3]
                elif relation in ("对应附件3", "对应汇总行"):
                    pair[fact[1]] = fact[3]
            elif name == "entity":
                kind[fact[1]] = fact[2]
            elif name == "number":
                number[(fact[1], fact[2])] = fact[3]
            elif name == "amount":
                amount[(fact[1], fact[2])] = fact[3]
            elif name == "missing":
                self.missing.add((fact[1], fact[2]))
            elif name == "unreadable_field":
                self.partial.add((fact[1], fact[2]))
        for kids in self.children.values():
            kids.sort(key=_natural)

    def of_kind(self, kind: str) -> tuple[str, ...]:
        if self._by_kind is None:
            # One pass over the entities for every kind: the detectors ask for five or six.
            self._by_kind = {}
            for entity, k in self.kind.items():
                self._by_kind.setdefault(k, []).append(entity)
        found = self._of_kind.get(kind)
        if found is None:
            found = self._of_kind[kind] = tuple(sorted(self._by_kind.get(kind, ()), key=_natural))
        return found

    def written(self, entity: str, field_name: str) -> str:
        """The field as the filing wrote it (whitespace kept), else its squashed text."""
        return self.raw.get((entity, field_name), "") or self.text.get((entity, field_name), "")


@lru_cache(maxsize=8192)  # entity ids follow the templates (附件3-1/指标3): the same ones recur
def _natural(name: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name))


class _Out:
    def __init__(self) -> None:
        self.facts: list[tuple] = []
        self.seen: set[tuple] = set()

    def observe(self, entity: str, field_name: str, code: str, seen: str, want: str) -> None:
        key = (entity, field_name, code, seen)
        if key not in self.seen:
            self.seen.add(key)
            self.facts.append((OBSERVED, entity, field_name, code, seen, want))


# --- indicator quality ------------------------------------------------------------------------

_INDICATOR_TEXT = ("三级指标", "指标值")


def _is_slogan(value: str, terms: Terms) -> bool:
    plain = _plain(value)
    if not plain or _DIGIT.search(value):
        return False
    if plain in terms["slogans"]:
        return True
    pieces = [p for p in re.split(r"[，,、；;。.\s]+", value) if p]
    return bool(pieces) and all(any(p.startswith(v) for v in terms["slogan_verbs"]) for p in pieces)


def _not_applicable(value: str, terms: Terms) -> bool:
    # Entries are non-empty: starting with one includes being equal to it.
    return _plain(value).startswith(terms["not_applicable"])


def _indicators(ix: _Index, out: _Out, terms: Terms, prov: Any) -> None:
    na_rows: dict[str, list[str]] = {}
    for ind in ix.of_kind("指标"):
        value = ix.written(ind, "指标值").strip()
        name = ix.written(ind, "三级指标").strip()
        category = ix.text.get((ind, "指标类别"), "")
        unit = ix.text.get((ind, "单位"), "")
        comparator = ix.text.get((ind, "比较符"), "")
        kind = ix.text.get((ind, "值类型"), "")
        number = ix.number.get((ind, "指标数值"))
        standard = ix.text.get((ind, "绩效标准"), "")
        table = ix.table.get(ind, ix.parent.get(ind, ""))
        if (ind, "指标值") in ix.missing:
            # A row that is only a template number ("指标1:/") is marked not applicable, and the
            # last row read before a cut may have lost its value to the cut, not to the filer.
            if name and not _empty_row_name(name) and not _cut_after(ix, ind, table):
                out.observe(ind, "指标值", "指标值空白", _short(name), "填写“比较符＋数值＋单位”或分级分档的定性值")
            continue
        state, seen = terms.memo(
            _indicator_review,
            value,
            name,
            category,
            unit,
            comparator,
            kind,
            number,
            standard,
            (ind, "指标金额") in ix.amount,
        )
        if state == _SKIP:
            continue
        if state == _NOT_APPLICABLE:
            level2 = ix.written(ind, "二级指标").strip() or category
            note = _short(level2, 20) + "：" + _short(value, 20)
            if standard:
                note += f"（绩效标准“{standard}”）"
            na_rows.setdefault(table, []).append(note)
            # The table-level finding points at its first not-applicable row.
            source = prov.source(ind, "指标值")
            if source is not None and (table, "绩效指标") not in prov.value_source:
                prov.value_source[(table, "绩效指标")] = source
            continue
        for field_name, code, quote, want, monthly in seen:
            # 按月发放只写年末 also needs the table's spending to be monthly: not the texts' to say.
            if monthly and not (ix.number.get((ind, "月")) == 12 and _monthly(ix, table, terms)):
                continue
            out.observe(ind, field_name, code, quote, want)
    for table, rows in sorted(na_rows.items()):
        out.observe(
            table, "绩效指标", "不适用作指标", "；".join(rows), "写明“不适用”并说明理由，或设置可衡量的效益指标"
        )


_SKIP, _NOT_APPLICABLE, _CHECKED = 0, 1, 2


def _indicator_review(
    value: str,
    name: str,
    category: str,
    unit: str,
    comparator: str,
    kind: str,
    number: Decimal | None,
    standard: str,
    has_amount: bool,
    terms: Terms,
) -> tuple[int, tuple[tuple[str, str, str, str, bool], ...]]:
    """What an indicator row's own words show: whether it is skipped (blank, a bare template
    number) or not applicable, else its observations as (field, code, quote, want, monthly),
    ``monthly`` marking the one that also needs the table's spending to be monthly."""
    allowed_standards = ("计划标准", "行业标准", "历史标准", "其他标准")
    if not value or _empty_row_name(name):
        return _SKIP, ()
    if _not_applicable(value, terms) or _not_applicable(name, terms):
        return _NOT_APPLICABLE, ()
    found: list[tuple[str, str, str, str, bool]] = []

    def note(field_name: str, code: str, quote: str, want: str, monthly: bool = False) -> None:
        found.append((field_name, code, quote, want, monthly))

    if _is_slogan(value, terms):
        note(
            "指标值",
            "口号式取值",
            _short(value),
            "比较符＋数值＋单位（如“≥95%”“≤70万元”“76人”）或分级分档的定性值",
        )
    elif not _DIGIT.search(value) and _plain(value) not in terms["graded_values"] and kind != "date":
        note("指标值", "无数字", _short(value), "写出可衡量的数值（比较符＋数值＋单位）或分级分档的定性值")
    if standard and standard not in allowed_standards:
        note("绩效标准", "绩效标准不在允许范围", standard, "计划标准、行业标准、历史标准或其他标准")
    if unit == "%":
        plain_name = _plain(name)
        sentence = len(plain_name) > terms.numbers.get("ratio_name_max_chars", 30) or bool(re.search(r"[。；;]", name))
        ratio_name = not sentence and any(w in plain_name for w in terms["ratio_words"])
        # A …率 under 数量指标 (“发放覆盖率 100%”) is a ratio, not a count written as %.
        if ratio_name:
            pass
        elif category == "数量指标":
            note(
                "指标值",
                "数量写成百分比",
                f"{_short(name, 30)}：{value}",
                "数量指标写成“数值＋计数单位”（如“76人”“9个村”）",
            )
        else:
            note(
                "三级指标",
                "百分比指标名称不是比率",
                f"{_short(name, 40)}：{value}",
                "三级指标写成可计算的比率（…率、…比例），如“待遇落实率”",
            )
        if comparator in ("≥", ">", "＞") and number == 100:
            note(
                "指标值",
                "百分百下限",
                f"{_short(name, 30)}：{value}",
                "写“=100%”，或设为可以区分好坏的下限（如“≥98%”）",
            )
        if comparator in ("≥", ">", "＞") and any(w in plain_name for w in terms["low_is_good"]):
            note(
                "比较符",
                "比率方向写反",
                f"{_short(name, 30)}：{value}",
                "越低越好的比率用“≤”（如“投诉率≤2%”）",
            )
    percent = "%" in value or "％" in value or "百分" in value
    if category == "满意度指标" and _DIGIT.search(value) and not percent:
        note("指标值", "单位不符", f"{_short(name, 30)}：{value}", "满意度写成百分比（如“≥90%”）")
    if category == "时效指标" and kind == "number" and not any(u in value for u in terms["time_units"]):
        note(
            "指标值",
            "单位不符",
            f"{_short(name, 30)}：{value}",
            "时效指标写完成时点或“天、工作日、%”等时间单位",
        )
    if category == "质量指标" and re.search(r"\d\s*[^\d\s%％/]{1,3}/", value) and not percent:
        note(
            "指标值",
            "单位不符",
            f"{_short(name, 30)}：{value}",
            "质量指标写合格率、达标率等比率，或分级分档的定性值",
        )
    if category == "成本指标" and kind == "number" and not has_amount and unit:
        note("指标值", "单位不符", f"{_short(name, 30)}：{value}", "成本指标写金额（如“≤70万元”）")
    if category == "数量指标" and has_amount:
        note(
            "指标值",
            "投入作产出",
            f"{_short(name, 30)}：{value}",
            "数量指标写产出的数量（人、个、次……），资金是投入，放在成本指标",
        )
    if category == "成本指标" and comparator in ("≥", ">", "＞"):
        note("比较符", "成本比较符", f"{_short(name, 30)}：{value}", "成本指标用“≤”控制上限")
    if kind != "date":
        pieces = [p for p in re.split(r"[，,、；;。]+", value) if _NUMBER_WITH_UNIT.search(p)]
        if len(pieces) >= 2:
            note("指标值", "一格多值", _short(value), "每个三级指标只写一个可计量的对象，分成几行")
    if category == "时效指标" and kind == "date":
        note(
            "指标值",
            "按月发放只写年末",
            f"{_short(name, 20)}：{value}",
            "按月发放的支出，时效指标写“每月按时足额发放”或每月的发放日",
            monthly=True,
        )
    return _CHECKED, tuple(found)


_ROW_NUMBER = re.compile(r"^指标\d{1,3}[:：]")


def _empty_row_name(name: str) -> bool:
    """A 三级指标 that is only the template's row number, or that plus "/" or "-" (not applicable)."""
    rest = _ROW_NUMBER.sub("", squash(name))
    return rest.strip("/／-－—") == ""


def _cut_after(ix: _Index, ind: str, table: str) -> bool:
    """Whether ``ind`` is the last indicator read of a table whose indicators the copy cut off."""
    if (table, "指标") not in ix.partial:
        return False
    rows = [i for i in ix.of_kind("指标") if ix.table.get(i, ix.parent.get(i, "")) == table]
    return bool(rows) and rows[-1] == ind


def _monthly(ix: _Index, table: str, terms: Terms) -> bool:
    for rate in ix.of_kind("费率"):
        if ix.table.get(rate) == table and ix.text.get((rate, "计量单位"), "").endswith("月"):
            return True
    for detail in ix.children.get(table, []):
        if ix.kind.get(detail) != "明细":
            continue
        words = "".join(ix.text.get((detail, f), "") for f in ("支出内容简介", "支出明细", "测算说明"))
        if any(w in words for w in terms["monthly_words"]):
            return True
    return False


# --- text hygiene ------------------------------------------------------------------------------

#: Where each table kind keeps its goals: (long-term goal, annual goal, implementation period).
#: 项目表 is the 项目支出绩效目标表/自评表 kind (i-tablekinds); the checks apply to it as it lands.
_GOAL_LAYOUTS = {
    "附件3": ("实施期绩效目标", "年度绩效目标", "项目实施期"),
    "项目表": ("总体目标", "年度目标", "实施期"),
}
_GOAL_FIELDS = ("实施期绩效目标", "年度绩效目标", "总体目标", "年度目标")


def _texts(ix: _Index) -> list[tuple[str, str, str]]:
    """Every (entity, field, text as written) a reviewer reads, claims excluded, in the order
    the facts were built: a detector whose findings depend on the order sorts what it found
    (a few cells), not every text."""
    if ix._texts is None:
        skip = {"计数", "费率", "测算式", "比例", "测算项"}
        kind, raw = ix.kind, ix.raw
        # ix.written, inlined: this runs for every text of the filing.
        ix._texts = [
            (key[0], key[1], raw.get(key, "") or value)
            for key, value in ix.text.items()
            if kind.get(key[0]) not in skip and key[1] not in ("指标类别", "比较符", "单位", "值类型", "原文")
        ]
    return ix._texts


@dataclass(frozen=True)
class _HygienePatterns:
    unit_typo: re.Pattern[str] | None
    measure: re.Pattern[str] | None
    # The same without their leading \d+, which the regex engine retries at every digit of a
    # cell: every match of the full pattern contains one of these, and most cells have none.
    unit_typo_core: re.Pattern[str] | None
    measure_core: re.Pattern[str] | None
    placeholders: tuple[re.Pattern[str], ...]
    any_placeholder: re.Pattern[str] | None  # matches where some placeholder does: most cells have none


@lru_cache(maxsize=8)
def _hygiene_patterns(
    first_terms: tuple[str, ...],
    per_terms: tuple[str, ...],
    typo_terms: tuple[str, ...],
    noun_terms: tuple[str, ...],
    placeholder_terms: tuple[str, ...],
) -> _HygienePatterns:
    """The hygiene detectors' patterns, built from escaped list entries once per word list."""
    first = "|".join(re.escape(t) for t in first_terms)
    per = "|".join(re.escape(t) for t in per_terms)
    unit_typo = re.compile(rf"\d+(?:\.\d+)?(?:{first})/(?:{per})(?:/(?:{first}))?") if first and per else None
    unit_typo_core = re.compile(rf"(?:{first})/(?:{per})") if first and per else None
    nouns = "|".join(re.escape(t) for t in noun_terms)
    wrong = "|".join(re.escape(t) for t in typo_terms)
    measure = re.compile(rf"\d+(?:{wrong})(?:{nouns})") if wrong and nouns else None
    measure_core = re.compile(rf"(?:{wrong})(?:{nouns})") if wrong and nouns else None
    placeholders = tuple(token_pattern(t) for t in placeholder_terms)
    joined = "|".join(f"(?:{p.pattern})" for p in placeholders)
    return _HygienePatterns(
        unit_typo, measure, unit_typo_core, measure_core, placeholders, re.compile(joined) if joined else None
    )


_PLAIN, _GOAL, _BASIS = 0, 1, 2  # what a field is, as far as the hygiene detectors care


def _hygiene(ix: _Index, out: _Out, terms: Terms) -> None:
    found = []
    remembered = terms._memo.found
    for entity, name, text in _texts(ix):
        if name in _GOAL_FIELDS or name.startswith("工作计划"):
            role = _GOAL
        elif name in ("测算说明", "支出明细"):
            role = _BASIS
        else:
            role = _PLAIN
        seen = remembered.get((_hygiene_of, text, role))  # Terms.memo's lookup, without its call
        if seen is None:
            seen = terms.memo(_hygiene_of, text, role)
        if seen:
            found.append((entity, name, seen))
    # In (entity, field) order, as the detectors always reported; (entity, field) is unique.
    for entity, name, seen in sorted(found, key=lambda f: (f[0], f[1])):
        for code, quote, want in seen:
            out.observe(entity, name, code, quote, want)


def _hygiene_of(text: str, role: int, terms: Terms) -> tuple[tuple[str, str, str], ...]:
    """What the hygiene detectors see in one text: (code, quote, want) in the order they report."""
    typos = terms.maps.get("measure_word_typos", {})
    patterns = _hygiene_patterns(
        terms["unit_typo_first"],
        terms["unit_typo_per"],
        tuple(typos),
        terms["measure_word_nouns"],
        terms["placeholders"],
    )
    unit_typo, measure = patterns.unit_typo, patterns.measure
    unit_core, measure_core = patterns.unit_typo_core, patterns.measure_core
    compact = squash(text)
    found: list[tuple[str, str, str]] = []
    if unit_typo is not None and unit_core is not None and unit_core.search(compact):
        for m in unit_typo.finditer(compact):
            found.append(("单位笔误", m.group(0), f"金额单位写全，如“{_fix_unit(m.group(0), terms)}”"))
    if measure is not None and measure_core is not None and measure_core.search(compact):
        for m in measure.finditer(compact):
            fixed = "".join(
                typos.get(ch, ch) if not ch.isdigit() and i == _first_nondigit(m.group(0)) else ch
                for i, ch in enumerate(m.group(0))
            )
            found.append(("量词笔误", m.group(0), f"“{fixed}”"))
    if patterns.any_placeholder is not None and patterns.any_placeholder.search(compact):
        for pattern in patterns.placeholders:
            left = pattern.search(compact)
            if left:
                found.append(("占位符", left.group(0), "把占位符换成实际内容"))
    if role == _GOAL:
        stripped = compact
        if stripped and stripped[0] in terms["leading_punctuation"]:
            found.append(("句首标点", _short(stripped, 30), "删去句首的标点"))
        phrase = _repeated_phrase(
            _TITLE.sub("《》", stripped[:MAX_TEXT_CHARS]),
            terms.numbers.get("repeated_phrase_min_chars", 6),
            terms.numbers.get("repeated_phrase_max_gap", 3),
        )
        if phrase:
            found.append(("重复短语", phrase, "删去重复的文字"))
    if role == _BASIS:
        for clause in re.split(r"[，,；;。\n]+", text):
            if any(w in clause for w in terms["aggregate_words"]):
                continue
            for items in _lumped_items(clause, terms):
                found.append(
                    (
                        "多项费用一个金额",
                        "、".join(items) + _MONEY.findall(clause[clause.find(items[-1]) :])[0],
                        f"{len(items)}项费用（{'、'.join(items)}）分别写出金额",
                    )
                )
    return tuple(found)


def _first_nondigit(text: str) -> int:
    return next(i for i, ch in enumerate(text) if not ch.isdigit() and ch != ".")


def _fix_unit(seen: str, terms: Terms) -> str:
    i = _first_nondigit(seen)
    return seen[:i] + "元/" + seen[i + 2 :] if seen[i] in terms["unit_typo_first"] and seen[i + 1] == "/" else seen


def _repeated_phrase(text: str, min_chars: int, max_gap: int) -> str:
    """The longest phrase (no punctuation inside) written twice in a row, at most ``max_gap``
    characters apart (“建设基层党建组织，建设基层党建组织”); a phrase that recurs later in a
    different context is ordinary prose, not a slip."""
    if not _repeats_nearby(text, min_chars, 40 + max_gap):
        return ""
    best = ""
    run_end = [0] * len(text)  # where the punctuation-free run holding each position ends
    end = len(text)
    for i in range(len(text) - 1, -1, -1):
        if text[i] in _PUNCT:
            end = i
        run_end[i] = end
    for start in range(len(text)):
        for length in range(max(min_chars, len(best) + 1), min(run_end[start] - start, 40) + 1):
            piece = text[start : start + length]
            after = start + length
            if text.find(piece, after, after + max_gap + length) >= 0:
                best = piece
    return best


def _repeats_nearby(text: str, size: int, distance: int) -> bool:
    """Whether some ``size`` characters occur twice at most ``distance`` apart: a phrase of at
    least ``size`` characters written twice in a row needs that, and most cells have none, so
    the quadratic search of :func:`_repeated_phrase` is skipped for them."""
    last: dict[str, int] = {}
    for i in range(len(text) - size + 1):
        gram = text[i : i + size]
        seen = last.get(gram)
        if seen is not None and i - seen <= distance:
            return True
        last[gram] = i
    return False


def _lumped_items(clause: str, terms: Terms) -> list[list[str]]:
    """Runs of cost names that share one amount (“会议费、培训费1万元” → [会议费, 培训费]).

    The text before each amount, back to the previous amount, lists what the amount pays for;
    two or more names there, each ending in 费/支出, with one amount, is a lumped line.
    """
    out = []
    for segment in _MONEY.split(clause)[:-1]:
        parts = [p for p in re.split(r"[、和及与]", segment) if p]
        if len(parts) < 2:
            continue
        items = [re.sub(r"^.*?[（(]|[）)]", "", p) for p in parts]
        if all(any(i.endswith(e) for e in terms["cost_item_endings"]) for i in items):
            out.append(items)
    return out


# --- citations ---------------------------------------------------------------------------------


def _citations(ix: _Index, out: _Out, terms: Terms) -> None:
    by_number: dict[str, list[tuple[str, str, str]]] = {}
    by_title: dict[str, list[tuple[str, str, str]]] = {}
    no_number: dict[str, list[tuple[str, str]]] = {}
    truncated: list[tuple[str, str, str, str]] = []
    function_words = sorted(terms["citation_function_words"], key=len, reverse=True)
    # A title needs 《, a 文号 needs 号: most cells have neither. What is cited where is
    # gathered in (entity, field) order, which decides which place a finding names.
    citing = sorted((e, n, t) for e, n, t in _texts(ix) if "《" in t or "号" in t)
    for entity, name, text in citing:
        titles, numbers = terms.memo(_cited, text)
        for _start, end, title in titles:
            core = title
            for word in function_words:
                core = core.replace(word, "")
            following = next((n for n in numbers if 0 <= n[0] - end <= 2), None)
            if not _plain(core):
                truncated.append((entity, name, title, following[2] if following else ""))
                continue
            if following is not None:
                by_number.setdefault(following[2], []).append((entity, name, title))
                by_title.setdefault(title, []).append((entity, name, following[2]))
            elif any(title.endswith(e) for e in terms["policy_title_endings"]):
                no_number.setdefault(title, []).append((entity, name))
                by_title.setdefault(title, []).append((entity, name, ""))
        for start, _end, number in numbers:
            if not any(0 <= start - t_end <= 2 for _s, t_end, _t in titles):
                out.observe(entity, name, "文号无标题", number, "先引标题，后引文号：《文件标题》（文号）")
    for entity, name, title, number in truncated:
        # The same direction described in 附件2 and its 附件3 often cites one document two ways: cut
        # short with its 文号 in one, in full without it in the other. Name the likely full title.
        here = {ix.table.get(entity, entity), ix.pair.get(entity, ""), ix.pair.get(ix.table.get(entity, ""), "")}
        here |= {ix.table.get(e, e) for e in list(here) if e}
        likely = sorted(
            {
                t
                for t, spots in no_number.items()
                # cited beside the short one in the same cell, it is another document
                if t.startswith(_plain(title))
                and entity not in {e for e, _n in spots}
                and any(ix.table.get(e, e) in here or e in here for e, _n in spots)
            }
        )
        want = "写出被引用文件的完整标题"
        if len(likely) == 1 and number:
            want += f"；同一支出方向另一处引用《{likely[0]}》却没有文号，若是同一文件，应统一写成《{likely[0]}》（{number}）"
        out.observe(entity, name, "引用标题残缺", f"《{title}》" + (f"（{number}）" if number else ""), want)
    for title, spots in no_number.items():
        entity, name = spots[0]
        more = f"（另有{len(spots) - 1}处同样引用）" if len(spots) > 1 else ""
        out.observe(
            entity, name, "标题无文号", f"《{title}》{more}", "在标题后写出文号：《文件标题》（发文机关〔年份〕序号号）"
        )
    for number, places in by_number.items():
        named = sorted({t for _e, _n, t in places})
        if len(named) > 1:
            entity, name, _t = places[0]
            out.observe(
                entity,
                name,
                "同一文件两种引法",
                f"{number}：" + "、".join(f"《{t}》" for t in named),
                "同一文件各处用同一标题和文号",
            )
    for title, cited in by_title.items():
        written = sorted({n for _e, _f, n in cited if n})
        if len(written) > 1:
            entity, name, _n = cited[0]
            out.observe(
                entity, name, "同一文件两种引法", f"《{title}》：" + "、".join(written), "同一文件各处用同一标题和文号"
            )


def _cited(text: str, _terms: Terms) -> tuple[tuple[tuple[int, int, str], ...], tuple[tuple[int, int, str], ...]]:
    """The 《titles》 and 文号 of one text, each with where it is in the whitespace-free text."""
    compact = squash(text)
    titles = tuple((m.start(), m.end(), m.group(1)) for m in _TITLE.finditer(compact)) if "《" in compact else ()
    numbers = (
        tuple((m.start(), m.end(), _docno(m.group(0))) for m in _DOCNO.finditer(compact)) if "号" in compact else ()
    )
    return titles, numbers


def _docno(text: str) -> str:
    text = squash(text)
    return text.translate(str.maketrans("[［(（]］)）", "〔〔〔〔〕〕〕〕"))


# --- blanks ------------------------------------------------------------------------------------


def _blanks(ix: _Index, out: _Out) -> None:
    # Only signed tables and 附件1 can be reported: sort those, not every entity (a stable sort
    # of a subsequence keeps the order the full sort gave it).
    signed = {e for e, f in ix.missing if f == "单位负责人"}
    reported = [(e, k) for e, k in ix.kind.items() if k == "附件1" or e in signed]
    for entity, kind in sorted(reported, key=lambda kv: _natural(kv[0])):
        if (entity, "单位负责人") in ix.missing:
            out.observe(
                entity, "单位负责人", "负责人未签字", "（空白）", "单位负责人签字（纸质件另须盖章，文本中看不到签章）"
            )
        if kind == "附件1":
            blank = [f for (e, f) in sorted(ix.missing) if e == entity and f != "资金总额" and _is_money_field(f)]
            if blank:
                out.observe(
                    entity, blank[0], "金额栏空白", "、".join(blank), "没有该项资金时填“0”，空白无法区分“没有”和“漏填”"
                )


def _is_money_field(name: str) -> bool:
    from hegui.facts.vocabulary import ENTITY_KINDS

    return any(name in fields.get("amount", ()) for fields in ENTITY_KINDS.values())


# --- coherence --------------------------------------------------------------------------------


def _coherence(ix: _Index, out: _Out, terms: Terms) -> None:
    # Identical 效益/满意度 rows in different tables: copied, not tailored to the direction.
    groups: dict[tuple[str, str], list[str]] = {}
    for ind in ix.of_kind("指标"):
        category = ix.text.get((ind, "指标类别"), "")
        if not category.endswith("效益指标") and category not in ("满意度指标", "可持续影响指标"):
            continue
        value = ix.text.get((ind, "指标值"), "")
        name = ix.text.get((ind, "三级指标"), "")
        if _not_applicable(value, terms) or not name:
            continue
        groups.setdefault((category, name + "｜" + value), []).append(ind)
    for (category, _text), inds in sorted(groups.items()):
        tables = sorted({ix.table.get(i, "") for i in inds}, key=_natural)
        if len(tables) < 2:
            continue
        first = inds[0]
        name = _short(ix.written(first, "三级指标"), 30)
        value = _short(ix.written(first, "指标值"), 20)
        out.observe(
            first,
            "三级指标",
            "效益指标雷同",
            f"{category}“{name}：{value}”在{'、'.join(tables)}完全相同",
            "按各支出方向的实际效果分别设置",
        )
    # Counts named in a direction's goals that no indicator of the table takes up.
    for kind, (long_goal, annual_goal, period_field) in _GOAL_LAYOUTS.items():
        for table in ix.of_kind(kind):
            _goals(ix, out, table, (long_goal, annual_goal), period_field)


def _goals(ix: _Index, out: _Out, table: str, goals: tuple[str, str], period_field: str) -> None:
    """The goal checks of one table: counts without an indicator, copied or number-free goals."""
    indicator_text = "".join(
        ix.text.get((i, f), "") for i in ix.children.get(table, []) if ix.kind.get(i) == "指标" for f in _INDICATOR_TEXT
    )
    indicator_counts = {
        ix.number.get((c, "数量"))
        for i in ix.children.get(table, [])
        if ix.kind.get(i) == "指标"
        for c in ix.children.get(i, [])
        if ix.kind.get(c) == "计数"
    }
    for goal in goals:
        for claim in ix.children.get(table, []):
            if ix.kind.get(claim) != "计数" or not claim.startswith(f"{table}/{goal}#"):
                continue
            n = ix.number.get((claim, "数量"))
            noun = ix.text.get((claim, "对象"), "")
            raw = ix.text.get((claim, "原文"), "")
            if n is None or not noun:
                continue
            if n in indicator_counts or (noun in indicator_text and re.search(rf"(?<!\d){n}(?!\d)", indicator_text)):
                continue
            seen = raw if noun in raw else raw + noun
            out.observe(table, goal, "目标数量无指标", seen, f"为“{seen}”设置对应的产出指标（如“{noun}数量 {raw}”）")
    period = ix.text.get((table, goals[0]), "")
    annual = ix.text.get((table, goals[1]), "")
    span = ix.text.get((table, period_field), "")
    multi_year = len(set(re.findall(r"\d{4}", span))) > 1
    if period and period == annual and multi_year:
        out.observe(
            table,
            goals[1],
            "实施期与年度目标相同",
            _short(annual, 40),
            "多年期项目的年度目标写本年度要完成的部分",
        )
    no_numbers = [g for g in goals if ix.text.get((table, g)) and not _DIGIT.search(ix.text.get((table, g), ""))]
    if len(no_numbers) == len(goals):
        out.observe(
            table,
            goals[1],
            "目标无数字",
            _short(annual or period, 40),
            "在目标中写明要完成的数量、标准或时限",
        )


# --- facts from the text -----------------------------------------------------------------------


def _pension_scope(ix: _Index, terms: Terms) -> list[tuple]:
    roles: dict[str, tuple[str, ...]] = terms.maps.get("pension_roles", {})
    both = terms["pension_both_roles"]
    only = sorted(terms["pension_only_markers"], key=len, reverse=True)
    facts: list[tuple] = []
    for detail in ix.of_kind("明细"):
        words = "".join(ix.text.get((detail, f), "") for f in ("支出内容简介", "支出明细"))
        if "养老保险" not in words:
            continue
        restricted: set[str] = set()
        mentioned: set[str] = set()
        for role, names in roles.items():
            for noun in sorted(names, key=len, reverse=True):
                at = words.find(noun)
                if at < 0:
                    continue
                mentioned.add(role)
                if any(words[max(0, at - len(m)) : at] == m for m in only):
                    restricted.add(role)
                break
        if restricted:
            covered = restricted
        elif mentioned:
            covered = mentioned | (set(roles) if any(b in words for b in both) else set())
        elif any(b in words for b in both):
            covered = set(roles)
        else:
            continue
        ordered = [r for r in roles if r in covered]
        facts.append(("text", detail, "补贴对象", "、".join(ordered)))
        facts.append(("number", detail, "补贴岗位数", Decimal(len(ordered))))
    return facts


def _indicator_counts(ix: _Index) -> list[tuple]:
    """A count in an indicator value belongs to the object its 三级指标 names: “33人” under
    “…村支“两委”成员…” is a count of 村两委成员, compared with every other count of them."""
    lexicon = load_lexicon()
    facts: list[tuple] = []
    for ind in ix.of_kind("指标"):
        name = ix.text.get((ind, "三级指标"), "").replace("“", "").replace("”", "").replace("「", "").replace("」", "")
        claims = [c for c in ix.children.get(ind, []) if ix.kind.get(c) == "计数" and c.startswith(f"{ind}/指标值#")]
        if len(claims) != 1 or (claims[0], "对象") in ix.text:
            continue
        claim = claims[0]
        counter = ix.text.get((claim, "量词"), "")
        n = ix.number.get((claim, "数量"))
        # Only a plain count of people (人/名) is tied; the noun must be the one kind the name mentions.
        if n is None or counter != "人":
            continue
        kinds = set()
        for kind in lexicon.kinds.values():
            if kind.unit == "人" and any(noun in name for noun in kind.nouns):
                kinds.add(kind.name)
        # The most specific kind wins, as in the lexicon's longest-name rule.
        if len(kinds) == 1:
            (only,) = kinds
            facts += [("count", claim, only, n), ("text", claim, "对象", only)]
    return facts


def _plan_coverage(ix: _Index, out: _Out, terms: Terms, plans: list[str]) -> None:
    """Each funded direction should appear in 附件1's 年度重点工作计划 (its name or its detail
    lines share a 3-character phrase with a plan, after generic words such as 经费 are removed)."""
    text = "".join(squash(p) for p in plans)
    if not text:
        return
    generic = sorted(terms["direction_generic_words"], key=len, reverse=True)

    def cores(phrase: str) -> list[str]:
        core = _plain(phrase)
        for word in generic:
            core = core.replace(word, "")
        if len(core) == 2:
            return [core]
        return [core[i : i + 3] for i in range(len(core) - 2)]

    for table in ix.of_kind("附件3"):
        name = ix.text.get((table, "名称"), "")
        phrases = [name] + [
            ix.text.get((d, "支出内容简介"), "") for d in ix.children.get(table, []) if ix.kind.get(d) == "明细"
        ]
        if not name or any(w in text for p in phrases if p for w in cores(p)):
            continue
        out.observe(table, "名称", "重点工作未覆盖", name, "在附件1“年度重点工作计划”中写明该支出方向的事项和工作目标")


def _line_coverage(ix: _Index, out: _Out, terms: Terms) -> None:
    """Each spending line should be named by its table's goals or indicators: a line whose key
    phrases (3 characters, generic words removed) appear in neither is money with no target."""
    generic = sorted(terms["line_generic_words"], key=len, reverse=True)
    for kind, goals in ((k, v[:2]) for k, v in _GOAL_LAYOUTS.items()):
        for table in ix.of_kind(kind):
            kids = ix.children.get(table, [])
            targets = "".join(ix.text.get((table, g), "") for g in goals) + "".join(
                ix.text.get((i, f), "") for i in kids if ix.kind.get(i) == "指标" for f in _INDICATOR_TEXT
            )
            if not targets:
                continue
            for line in kids:
                if ix.kind.get(line) != "明细":
                    continue
                intro = ix.text.get((line, "支出内容简介"), "")
                core = _plain(intro)
                for word in generic:
                    core = core.replace(word, "")
                size = 2 if len(core) <= 4 else 3  # a short name (党建工作) is matched by its 2-character words
                windows = [core[i : i + size] for i in range(len(core) - size + 1)]
                if not windows or any(w in targets for w in windows):
                    continue
                out.observe(
                    line, "支出内容简介", "支出无目标指标", intro, "在绩效目标或产出指标中写明这笔支出要完成什么"
                )


def review_facts(
    facts: list[tuple], prov: Any, terms: Terms | None = None, work_plans: list[str] | None = None
) -> list[tuple]:
    """The observations and derived facts for a filing's facts (see the module docstring).

    ``prov`` is the filing's :class:`~hegui.facts.vocabulary.Provenance`: its original texts
    are quoted, and an observation about a whole table is located at the row it is about.
    ``work_plans`` are the texts of 附件1's 年度重点工作计划 (事项 and 工作目标), which are
    read as claims only and so are not among the facts.
    """
    terms = terms or load_terms()
    ix = _Index(facts, prov.raw_text)
    out = _Out()
    _indicators(ix, out, terms, prov)
    _hygiene(ix, out, terms)
    _citations(ix, out, terms)
    _blanks(ix, out)
    _coherence(ix, out, terms)
    _plan_coverage(ix, out, terms, work_plans or [])
    _line_coverage(ix, out, terms)
    return out.facts + _pension_scope(ix, terms) + _indicator_counts(ix)


__all__ = ["OBSERVED", "Terms", "TermsError", "load_terms", "parse_terms", "review_facts", "token_pattern"]
