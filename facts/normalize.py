"""Labels and text as people write them, made comparable; the written form is always kept.

What filings do to the same words:

* **script**: tables published in Guangdong or Hong Kong style are in traditional characters
  (``績效目標表``). :func:`repair_grid` converts a grid that is mostly traditional to simplified
  with OpenCC's dictionaries (``opencc-python-reimplemented``: pure Python, the upstream
  dictionaries, phrase-level conversion so that 乾隆 is not turned into 干隆) and keeps the
  written text in :attr:`Cell.raw <hegui.facts.model.Cell.raw>`. A simplified filing is
  never converted: OpenCC's t2s would still change a few characters that simplified text uses
  (著, 乾, 覆), so conversion is decided once per grid from how much traditional text it has.
* **pinyin garbling**: some mirror sites annotate characters with their reading, ``學(xué)``,
  ``標(biāo)``; :func:`strip_pinyin` removes an annotation only when it has a tone mark, so that
  ``全年预算数(A)`` and ``(kg)`` stay.
* **units in labels**: ``资金总额（万元）``, ``金额(元)``, ``年度预算数(万元)``:
  :func:`split_label_unit` gives ``("资金总额", "万元")``.
* **table units**: ``单位:元``, ``金额单位：万元``, ``單位:元``, ``单位：万元`` anywhere in a header:
  :func:`table_unit`.
* **checkboxes**: ``√``, ``☑``, ``■``, ``R`` (Wingdings' tick exported as a letter) are checked;
  ``□``, ``☐`` unchecked: :func:`checkbox`, :func:`checked_options`.

Numbers (thousands separators, inline units such as ``250万``, full-width digits, ``≧``/``>=``)
are read by :mod:`hegui.facts.values`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, replace
from importlib import resources

import yaml
from opencc import OpenCC

from hegui.facts.model import Cell, Grid

__all__ = [
    "Vocabulary",
    "checkbox",
    "checked_options",
    "is_traditional",
    "label_key",
    "repair_grid",
    "repair_text",
    "split_label_unit",
    "strip_pinyin",
    "table_unit",
    "to_simplified",
    "vocabulary",
]

# --- label comparison --------------------------------------------------------------------------

_SPACE = re.compile(r"\s+")
_REMARK = re.compile(r"[（(][^（()）]*[)）]$")


@functools.lru_cache(maxsize=8192)
def label_key(text: str) -> str:
    """A label reduced for comparison: no whitespace, no 其中: prefix, no trailing colon or
    bracketed remark (``预算执行情况(10分)`` → ``预算执行情况``, ``实施单位 (盖章)`` → ``实施单位``)."""
    key = _SPACE.sub("", text)
    key = re.sub(r"^其中[:：]", "", key).rstrip(":：")
    previous = None
    while key != previous:
        previous = key
        key = _REMARK.sub("", key).rstrip(":：")
    return key


@dataclass(frozen=True)
class Vocabulary:
    """The label lists of ``labels.yaml``, as sets of :func:`label_key` forms."""

    row_starts: frozenset[str]
    heads: frozenset[str]
    header_labels: frozenset[str]
    level1: frozenset[str]
    level2: frozenset[str]
    flat_labels: tuple[str, ...]
    flat_aliases: dict[str, str]
    flat_indicator_header: tuple[str, ...]
    flat_indicator_value_headers: tuple[str, ...]

    @property
    def levels(self) -> frozenset[str]:
        return self.level1 | self.level2

    @property
    def known(self) -> frozenset[str]:
        """Every label the readers know, for joining a label wrapped over two lines."""
        return self.row_starts | self.heads | self.header_labels | self.level1 | self.level2


@functools.cache
def vocabulary() -> Vocabulary:
    """The readers' label vocabulary, loaded once from ``hegui/facts/labels.yaml``."""
    data = yaml.safe_load(resources.files("hegui.facts").joinpath("labels.yaml").read_text(encoding="utf-8"))

    def keys(name: str) -> frozenset[str]:
        return frozenset(label_key(str(v)) for v in data.get(name) or ())

    return Vocabulary(
        row_starts=keys("row_starts"),
        heads=keys("heads"),
        header_labels=keys("header_labels"),
        level1=keys("level1"),
        level2=keys("level2"),
        flat_labels=tuple(str(v) for v in data.get("flat_labels") or ()),
        flat_aliases={str(k): str(v) for k, v in (data.get("flat_aliases") or {}).items()},
        flat_indicator_header=tuple(str(v) for v in data.get("flat_indicator_header") or ()),
        flat_indicator_value_headers=tuple(str(v) for v in data.get("flat_indicator_value_headers") or ()),
    )


# --- units in labels and headers ---------------------------------------------------------------

_LABEL_UNIT = re.compile(r"^(.*?)\s*[（(]\s*(?:单位[:：]\s*)?(亿元|万元|千元|元)\s*[)）]\s*[:：]?$")
_TABLE_UNIT = re.compile(r"(?:金额|资金|计量)?单\s*位\s*[:：]\s*(亿元|万元|千元|元)")


def split_label_unit(label: str) -> tuple[str, str]:
    """``资金总额（万元）`` → ``("资金总额", "万元")``; a label without a money unit → ``(label, "")``."""
    text = to_simplified(label)  # a label is short: converting it can only help the match
    match = _LABEL_UNIT.match(text.strip())
    if not match or not match.group(1).strip():
        return label.strip(), ""
    return match.group(1).strip(), match.group(2)


def table_unit(text: str) -> str:
    """The money unit a header line declares (``单位:元``, ``金额单位：万元``, ``單位:元``), or ""."""
    text = to_simplified(text) if len(text) < 200 or is_traditional(text) else text
    match = _TABLE_UNIT.search(_SPACE.sub("", text))
    return match.group(1) if match else ""


# --- checkboxes -----------------------------------------------------------------------------------

_CHECKED = "√✓✔☑☒■▣●R"
_UNCHECKED = "□☐○◯"
_OPTION = re.compile(rf"([{_CHECKED}{_UNCHECKED}])\s*([^{_CHECKED}{_UNCHECKED}\s]+)")


def checkbox(text: str) -> bool | None:
    """True for a ticked box (``√``, ``☑``, ``■``, or ``R``: Wingdings' tick exported as a
    letter), False for an empty one (``□``, ``☐``), None when ``text`` is not a checkbox."""
    s = text.strip()
    if len(s) != 1:
        return None
    if s in _CHECKED:
        return True
    if s in _UNCHECKED:
        return False
    return None


def checked_options(text: str) -> list[tuple[str, bool]]:
    """Each option of a checkbox line with its state: ``"R新增 □延续"`` → ``[("新增", True), ("延续", False)]``.

    ``R`` counts as a tick only directly before an option word, as exports write it; a line
    without any box glyph gives ``[]``.
    """
    out = []
    for match in _OPTION.finditer(text):
        glyph, option = match.group(1), match.group(2)
        if glyph == "R" and match.start() > 0 and text[match.start() - 1].isalnum():
            continue  # an R inside a word or code, not a tick
        out.append((option, glyph in _CHECKED))
    return out


# --- script and garbling --------------------------------------------------------------------------

_TONES = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
_PINYIN = re.compile(rf"(?<=[\u3400-\u9fff])\((?=[a-zü]*[{_TONES}])[a-zü{_TONES}]{{1,7}}\)")


def strip_pinyin(text: str) -> str:
    """``學(xué)校`` → ``學校``: a bracketed pinyin reading right after a character, with a tone mark."""
    if "(" not in text:
        return text
    return _PINYIN.sub("", text)


@functools.cache
def _converter():
    return OpenCC("t2s")


def to_simplified(text: str) -> str:
    """``text`` in simplified characters (OpenCC t2s, phrase-aware)."""
    return _converter().convert(text)


_HAN = re.compile(r"[\u3400-\u9fff]")
#: Share of Han characters that must be traditional-only for a text to count as traditional.
TRADITIONAL_SHARE = 0.05
_SAMPLE = 20_000


def traditional_chars() -> str:
    """The Han characters OpenCC's t2s changes (U+3400–U+9FFF), from OpenCC's own dictionary.

    Kept as data (``traditional_chars.txt``) because deriving it takes a quarter of a second,
    which every read would pay; ``tests/test_normalize.py`` checks the file against OpenCC.
    """
    return _traditional_data()[0]


@functools.cache
def _traditional_data() -> tuple[str, re.Pattern[str]]:
    text = resources.files("hegui.facts").joinpath("traditional_chars.txt").read_text(encoding="utf-8")
    chars = "".join(line for line in text.splitlines() if line and not line.startswith("#"))
    return chars, re.compile("[" + re.escape(chars) + "]")


def is_traditional(text: str) -> bool:
    """Whether ``text`` is written in traditional characters (judged on its first 20,000 characters).

    A few characters that t2s changes also occur in simplified writing (乾, 著, 瞭), so a text
    counts as traditional only when at least 3 and at least 5 % of its Han characters are ones
    t2s changes.
    """
    sample = text[:_SAMPLE]
    changed = len(_traditional_data()[1].findall(sample))
    if changed < 3:
        return False
    return changed >= len(_HAN.findall(sample)) * TRADITIONAL_SHARE


def repair_text(text: str, traditional: bool) -> str:
    """``text`` with pinyin garbling removed and, when ``traditional``, converted to simplified."""
    text = strip_pinyin(text)
    return to_simplified(text) if traditional else text


def repair_grid(grid: Grid) -> Grid:
    """The grid with every cell's text readable: pinyin garbling removed and, when the grid is
    mostly traditional, converted to simplified. Cells that change keep their written text in
    ``raw``; a grid that needs no repair is returned as it is (same object)."""
    sample = []
    size = 0
    garbled = False
    for row in grid.rows:
        for cell in row.cells:
            if cell.text:
                sample.append(cell.text)
                size += len(cell.text)
                garbled = garbled or (_PINYIN.search(cell.text) is not None)
        if size > _SAMPLE:
            break
    traditional = is_traditional(strip_pinyin("\n".join(sample)))
    if not traditional and not garbled:
        return grid
    rows = []
    for row in grid.rows:
        cells = []
        for cell in row.cells:
            fixed = repair_text(cell.text, traditional) if cell.text else cell.text
            cells.append(replace(cell, text=fixed, raw=cell.as_written) if fixed != cell.text else cell)
        rows.append(replace(row, cells=cells))
    return replace(grid, rows=rows)


def repair_cell(cell: Cell, traditional: bool) -> Cell:
    """One cell repaired as :func:`repair_grid` does, keeping the written text in ``raw``."""
    fixed = repair_text(cell.text, traditional)
    return cell if fixed == cell.text else replace(cell, text=fixed, raw=cell.as_written)
