"""Numbers, money and 指标值 as written in a filing, parsed into exact values.

Filings mix Arabic digits, full-width digits (``１２``) and Chinese numerals (``十八``, ``两``);
amounts come with or without a money unit; 指标值 cells carry comparators written as symbols
(``≥``) or words (``不低于``), percentages, counts, deadlines (``2023年12月前``) or plain prose.
Everything numeric is a :class:`~decimal.Decimal`: a float would turn 939.28万元 into a value
that no longer adds up to the table total.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal, InvalidOperation

from hegui.facts.model import IndicatorValue, Money
from hegui.facts.units import MONEY_SCALES

__all__ = [
    "CN_NUMERAL_CHARS",
    "COMPARATOR_WORDS",
    "normalize_width",
    "parse_indicator_value",
    "parse_money",
    "parse_number",
]

# --- character normalisation -------------------------------------------------------------------

# One character in, one character out, so that offsets into the normalised text are offsets into
# the original text too (claims.py relies on this to report spans). NFKC would also fold
# full-width forms, but it expands some characters (㎡ → m2) and would shift every later offset.
_WIDTH: dict[int, int] = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_WIDTH.update(
    {
        0x3000: 0x20,  # ideographic space
        ord("≧"): ord("≥"),
        ord("≦"): ord("≤"),
        ord("﹪"): ord("%"),
        ord("﹤"): ord("<"),
        ord("﹥"): ord(">"),
        ord("﹦"): ord("="),
    }
)


# str.translate looks every character up in _WIDTH (a Python dict): a C scan for the characters
# it changes is a tenth of that, and many texts (≥95%, 2023年12月前, names) have none.
_FOLDED = re.compile("[" + "".join(re.escape(chr(cp)) for cp in sorted(_WIDTH)) + "]")


def squash(text: str) -> str:
    """Whitespace-free text, as names are compared (no fuzzy matching)."""
    # str.split() drops exactly the characters re's \s matches (both use Unicode isspace; a
    # test checks every code point) at a third of the cost of re.sub, and every text is squashed.
    return "".join(text.split())


def normalize_width(text: str) -> str:
    """Fold full-width ASCII (``１２．５％``) and ≧/≦ to their plain forms, keeping the length."""
    return text.translate(_WIDTH) if _FOLDED.search(text) else text


# --- numbers -----------------------------------------------------------------------------------

_CN_DIGITS = {
    "零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4,
    "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}  # fmt: skip
_CN_SMALL = {"十": 10, "百": 100, "千": 1000}
_CN_BIG = {"万": 10**4, "亿": 10**8}
CN_NUMERAL_CHARS = "".join(_CN_DIGITS) + "".join(_CN_SMALL) + "".join(_CN_BIG)

_ARABIC = re.compile(r"([+-]?)(\d[\d,]*)(?:\.(\d+))?")
_CHINESE = re.compile(rf"([{CN_NUMERAL_CHARS}]+)(?:点([零〇一二三四五六七八九]+))?")


def _chinese_int(text: str) -> int | None:
    """Value of a Chinese integer numeral (``一百二十``, ``两万五``, ``二〇二三``), else None."""
    if not text:
        return None
    if all(c in _CN_DIGITS for c in text):
        if len(text) == 1:
            return _CN_DIGITS[text]
        # Digit by digit, as years are written (二〇二三); 两 is never used that way.
        if "两" in text:
            return None
        return int("".join(str(_CN_DIGITS[c]) for c in text))
    high = 0  # completed 亿 groups
    wan = 0  # completed 万 group below 亿
    section = 0  # the part below 万 being read
    digit: int | None = None
    last_small = 10**5  # units inside a section must decrease: 二十百 is not a number
    last_mult = 0  # multiplier of the last unit, for the abbreviation 一百二 = 120
    zero_seen = False
    for c in text:
        if c in _CN_DIGITS:
            if digit is not None:
                return None
            if _CN_DIGITS[c] == 0:
                zero_seen = True
                continue
            digit = _CN_DIGITS[c]
        elif c in _CN_SMALL:
            mult = _CN_SMALL[c]
            if mult >= last_small:
                return None
            if digit is None:
                if mult != 10:  # only 十 may stand alone (十八); 百 or 千 alone is not a number
                    return None
                digit = 1
            section += digit * mult
            digit, last_small, last_mult, zero_seen = None, mult, mult, False
        else:
            mult = _CN_BIG[c]
            if digit is not None:
                section += digit
                digit = None
            if section == 0:
                return None
            if mult == 10**8:
                high = (high + wan + section) * mult
                wan = 0
            else:
                if wan:
                    return None  # 一万二万
                wan = section * mult
            section, last_small, last_mult, zero_seen = 0, 10**5, mult, False
    if digit is not None:
        # 一百二 means 120 and 两万五 25000: a trailing digit right after a unit (no 零 between)
        # counts in the next lower place. 十二 gives 10 + 2 either way.
        if last_mult and not zero_seen:
            section += digit * last_mult // 10
        else:
            section += digit
    return high + wan + section


def _arabic(sign: str, digits: str, frac: str | None) -> Decimal | None:
    groups = digits.split(",")
    if len(groups) > 1 and (not 1 <= len(groups[0]) <= 3 or any(len(g) != 3 for g in groups[1:])):
        return None  # "2,3" is a list, not a number
    try:
        return Decimal(sign + "".join(groups) + ("." + frac if frac else ""))
    except InvalidOperation:  # pragma: no cover - the regex only lets digits through
        return None


def parse_number(text: str) -> Decimal | None:
    """The number ``text`` is, or None.

    Accepts Arabic (``939.28``, ``1,200``), full-width (``１２``) and Chinese numerals (``五``,
    ``十八``, ``二十``, ``两``, ``一百二十``, ``三点五``). Anything else, including a number with
    a unit (``15万元``), is None: use :func:`parse_money` or :func:`parse_indicator_value`.
    """
    s = normalize_width(text).strip()
    m = _ARABIC.fullmatch(s)
    if m:
        return _arabic(m.group(1), m.group(2), m.group(3))
    m = _CHINESE.fullmatch(s)
    if m:
        whole = _chinese_int(m.group(1))
        if whole is None:
            return None
        if m.group(2):
            frac = "".join(str(_CN_DIGITS[c]) for c in m.group(2))
            return Decimal(f"{whole}.{frac}")
        return Decimal(whole)
    return None


# --- money -------------------------------------------------------------------------------------

# Longest first so that 万元 is not read as 元.
_MONEY_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("亿元", "亿元"),
    ("万元", "万元"),
    ("千元", "千元"),
    ("元", "元"),
    ("万", "万元"),  # "15万" in a money cell means 15万元
    ("亿", "亿元"),
)


def _check_money_unit(unit: str) -> None:
    if unit not in MONEY_SCALES:
        raise ValueError(f"无法识别的金额单位“{unit}”")


def parse_money(text: str, default_unit: str = "万元") -> Money | None:
    """An amount such as ``939.28`` (in ``default_unit``), ``15万元``, ``2000元``, ``1.5万元``.

    Returns :class:`Money` with the exact value in 元 and the unit it was written in
    (``default_unit`` when none was written), or None when ``text`` is not an amount.
    """
    _check_money_unit(default_unit)
    s = normalize_width(text).strip()
    unit = ""
    if s[:1] in ("¥", "￥"):
        s, unit = s[1:].strip(), "元"
    for suffix, name in _MONEY_SUFFIXES:
        if s.endswith(suffix):
            s, unit = s[: -len(suffix)].strip(), name
            break
    number = parse_number(s)
    if number is None:
        return None
    unit = unit or default_unit
    return Money(number * MONEY_SCALES[unit], unit)


# --- 指标值 --------------------------------------------------------------------------------------

_SYMBOLS: tuple[tuple[str, str], ...] = (
    (">=", "≥"), ("<=", "≤"), ("≥=", "≥"), ("≤=", "≤"), ("==", "="),
    ("≥", "≥"), ("≤", "≤"), ("=", "="), (">", ">"), ("<", "<"),
)  # fmt: skip

#: Comparator words written before a value, longest first so that 不低于 wins over 低于.
COMPARATOR_WORDS: tuple[tuple[str, str], ...] = tuple(
    sorted(
        {
            "不低于": "≥", "不少于": "≥", "不小于": "≥", "大于等于": "≥", "大于或等于": "≥",
            "不得低于": "≥", "不得少于": "≥", "至少": "≥", "达到": "≥", "达": "≥", "最低": "≥",
            "不超过": "≤", "不高于": "≤", "不多于": "≤", "不大于": "≤", "小于等于": "≤",
            "小于或等于": "≤", "不得超过": "≤", "不得高于": "≤", "控制在": "≤", "最多": "≤",
            "最高": "≤",
            "大于": ">", "高于": ">", "超过": ">", "多于": ">",
            "小于": "<", "低于": "<", "少于": "<",
            "等于": "=",
        }.items(),
        key=lambda kv: -len(kv[0]),
    )
)  # fmt: skip

#: Comparator words written after a value (95%以上).
_SUFFIX_WORDS: tuple[tuple[str, str], ...] = (
    ("及以上", "≥"), ("以上", "≥"), ("及以下", "≤"), ("以下", "≤"),
    ("以内", "≤"), ("之内", "≤"),
)  # fmt: skip

#: Cells that say "nothing was filled in" rather than stating a value.
_PLACEHOLDERS = frozenset({"/", "-", "--", "—", "——", "…", "……", "...", "N/A", "n/a", "NA", "null", "空"})

#: Counters (measure words): a noun may follow them (3个大项目, 5个街道所辖范围…).
COUNTER_WORDS = frozenset(
    [
        "个",
        "名",
        "人",
        "位",
        "支",
        "村",
        "户",
        "家",
        "所",
        "项",
        "次",
        "人次",
        "户次",
        "家次",
        "套",
        "台",
        "件",
        "场",
        "期",
        "批",
        "处",
        "座",
        "间",
        "栋",
        "本",
        "册",
        "份",
        "篇",
        "条",
        "张",
        "辆",
        "类",
        "种",
        "门",
        "节",
        "课",
        "例",
        "起",
        "宗",
        "块",
        "株",
        "棵",
        "头",
        "只",
        "部",
        "把",
        "组",
        "队",
        "班",
        "单",
        "轮",
        "届",
    ]
)
#: Measure units: nothing but a comparator word or a bracketed remark may follow them, so that
#: "2023年13月" is not read as 2023 years.
_MEASURES = frozenset(
    [
        "个百分点",
        "百分点",
        "平方米",
        "平方公里",
        "立方米",
        "公里",
        "千米",
        "米",
        "公顷",
        "亩",
        "吨",
        "千克",
        "公斤",
        "小时",
        "分钟",
        "学时",
        "课时",
        "季度",
        "天",
        "日",
        "周",
        "月",
        "年",
        "岁",
        "倍",
    ]
)
#: Words that may follow any value without making it prose (95%左右, 100%完成).
_TRAILING_WORDS = ("左右", "完成", "达标", "到位", "落实", "覆盖")
#: Every unit, longest first (个百分点 before 个, 人次 before 人).
_UNITS: tuple[str, ...] = tuple(sorted(COUNTER_WORDS | _MEASURES, key=lambda u: -len(u)))

_NUMBER_PREFIX = re.compile(rf"[+-]?\d[\d,]*(?:\.\d+)?|[{CN_NUMERAL_CHARS}]+(?:点[零〇一二三四五六七八九]+)?")
_PERCENT_WORDS = re.compile(r"百分之([零〇一二两三四五六七八九十百点]+|\d+(?:\.\d+)?)")

_DEADLINE = r"(之前|以前|前|以内|之内|内|为止|止)?(?:完成|完工|全部完成|实施完毕|完毕)?"
_DATE_CN = re.compile(r"(?:(\d{4})年度?)?(?:(\d{1,2})月份?(?:(\d{1,2})[日号])?)?(底|末)?" + _DEADLINE)
_DATE_ISO = re.compile(r"(\d{4})[-/.](\d{1,2})(?:[-/.](\d{1,2}))?" + _DEADLINE)
_YEAR_END = re.compile(r"(?:本|当|今)?年(底|末)" + _DEADLINE)

# Words in a label before the comparator that say the value is money (总费用≤939.28).
_MONEY_CUES = ("费", "金额", "资金", "经费", "成本", "预算", "投资", "款")


def _date_value(raw: str, rest: str, comparator: str) -> IndicatorValue | None:
    year = month = day = None
    end_word = deadline_word = ""
    m = _DATE_CN.fullmatch(rest)
    if m and (m.group(1) or m.group(2)):
        year = int(m.group(1)) if m.group(1) else None
        month = int(m.group(2)) if m.group(2) else None
        day = int(m.group(3)) if m.group(3) else None
        end_word, deadline_word = m.group(4) or "", m.group(5) or ""
        if end_word and month is None:
            month = 12  # 2023年底 is the end of December
        if end_word and day is not None:
            return None  # 12月31日底 is not a date
    else:
        m = _DATE_ISO.fullmatch(rest)
        if m and ("." not in rest[:8] or m.group(3) or m.group(4)):  # 2023.12 alone is a number
            year, month = int(m.group(1)), int(m.group(2))
            day = int(m.group(3)) if m.group(3) else None
            deadline_word = m.group(4) or ""
        else:
            m = _YEAR_END.fullmatch(rest)
            if not m:
                return None
            month, end_word, deadline_word = 12, m.group(1), m.group(2) or ""
    if month is not None and not 1 <= month <= 12:
        return None
    if day is not None:
        try:
            datetime.date(year or 2000, month or 1, day)  # 2000 is a leap year: 2月29日 passes
        except ValueError:
            return None
    deadline = bool(deadline_word) or comparator in ("≤", "<")
    return IndicatorValue(raw, "date", comparator=comparator, year=year, month=month, day=day, deadline=deadline)


def _split_comparator(s: str) -> tuple[str, str]:
    for symbol, comparator in _SYMBOLS:
        if s.startswith(symbol):
            return comparator, s[len(symbol) :]
    for word, comparator in COMPARATOR_WORDS:
        if s.startswith(word):
            return comparator, s[len(word) :]
    return "", s


def _suffix_comparator(tail: str) -> tuple[str, str]:
    for word, comparator in _SUFFIX_WORDS:
        if tail.startswith(word):
            return comparator, tail[len(word) :]
        if tail.endswith(word):
            return comparator, tail[: -len(word)]
    return "", tail


def _value(raw: str, s: str, default_money_unit: str, money_cue: bool) -> IndicatorValue | None:
    """Parse ``s`` (whitespace removed) as comparator + value, or None when it is not one."""
    comparator, rest = _split_comparator(s)
    if rest.startswith("约"):
        rest = rest[1:]  # 约95% is still 95%; no comparator is implied
    if not rest:
        return None
    date = _date_value(raw, rest, comparator)
    if date is not None:
        return date
    unit = ""
    m = _PERCENT_WORDS.match(rest)
    if m:
        number, unit, tail = parse_number(m.group(1)), "%", rest[m.end() :]
    else:
        m = _NUMBER_PREFIX.match(rest)
        if not m:
            return None
        text, tail = m.group(0), rest[m.end() :]
        # 五万元: the numeral regex swallows 万, which belongs to the unit here.
        if text[-1] in "万亿" and tail.startswith("元") and len(text) > 1:
            text, tail = text[:-1], text[-1] + tail
        number = parse_number(text)
        if tail[:1] in ("万", "亿") and number is not None and tail[1:].startswith(_UNITS):
            # 1.2万人: 万 scales a count here, it is not 万元.
            number, tail = number * (10**4 if tail[0] == "万" else 10**8), tail[1:]
        if tail.startswith("%"):
            unit, tail = "%", tail[1:]
        elif tail.startswith("百分比"):  # 一体化 exports write the unit out: =100百分比
            unit, tail = "%", tail[3:]
        else:
            for suffix, name in _MONEY_SUFFIXES:
                if tail.startswith(suffix):
                    unit, tail = name, tail[len(suffix) :]
                    break
            else:
                for name in _UNITS:
                    if tail.startswith(name):
                        unit, tail = name, tail[len(name) :]
                        break
    if number is None:
        return None
    after, tail = _suffix_comparator(tail)
    comparator = comparator or after
    for word in _TRAILING_WORDS:
        if tail == word:
            tail = ""
    # Only a counter may be followed by its noun (3个大项目). After any other unit, or no unit,
    # trailing text means this was not a value: "12abc", "2023版", "2023年13月".
    if tail and unit not in COUNTER_WORDS and not tail.startswith("("):
        return None
    if not unit and money_cue:
        unit = default_money_unit
    return IndicatorValue(raw, "number", comparator=comparator, number=number, unit=unit)


def parse_indicator_value(text: str, default_money_unit: str = "万元") -> IndicatorValue:
    """Parse a 指标值 cell into an :class:`IndicatorValue` (never raises on bad input).

    * comparator symbols (≥ ≤ = > < and full-width/≧≦ forms) or words (不低于, 不超过, 大于,
      低于 …, and 以上/以内/以下 after the value) normalised to ``≥ ≤ = > <``;
    * ``95%``, ``≥939.28万元`` (number kept in the written unit), ``76人``, ``3个大项目``;
    * dates ``2023年12月前``, ``2023年底前``, ``2023年12月31日前``, ``2023年`` → kind ``date``;
    * blank or a placeholder (``/``, ``—``) → kind ``missing``; never zero;
    * anything else, including ``无`` and ``无直接经济效益``, → kind ``text``.

    A bare number gets ``default_money_unit`` only when a label before the comparator says it
    is money (``总费用≤939.28``); otherwise its unit stays "" because nothing says what it counts.
    """
    _check_money_unit(default_money_unit)
    s = re.sub(r"\s+", "", normalize_width(text))
    if not s:
        return IndicatorValue(text, "missing")
    if s in _PLACEHOLDERS:
        return IndicatorValue(text, "missing")
    if len(s) > 1 and s[0] == "%" and s[1] in "=≥≤<>":
        s = s[1:]  # a flattened 度量单位 column run into the value: %=99百分比
    value = _value(text, s, default_money_unit, money_cue=False)
    if value is not None:
        return value
    # A label in front (完成率≥95%, 总费用不超过939.28万元): split at the first comparator and
    # accept only if everything after it is a value.
    for cut in _comparator_positions(s):
        label = s[:cut]
        cue = any(word in label for word in _MONEY_CUES)
        value = _value(text, s[cut:], default_money_unit, money_cue=cue)
        if value is not None:
            return value
    return IndicatorValue(text, "text")


def _comparator_positions(s: str) -> list[int]:
    """Where a comparator could start after a label, leftmost first (到达率≥95%: 达, then ≥)."""
    positions = {s.find(sym) for sym, _ in _SYMBOLS} | {s.find(w) for w, _ in COMPARATOR_WORDS}
    return sorted(p for p in positions if p > 0)
