"""Rows and cells rebuilt from the text layouts filings arrive in, detected from the content.

A text file is cut into blocks, each read by the layout its lines show (never by the file's
name); a notice in prose followed by a table is normal. Every cell keeps the 1-based line range
it was read from. Nothing here raises on odd or cut-off input: a table that stops mid-cell
gives the cells that are there.

The layouts and the grid each one gives (the contract the recogniser relies on):

``tab-dump``
    Word's "save as text" (``examples/shifeng-zzb-2023.txt``): read by
    :mod:`hegui.facts.textdump`, unchanged, whenever at least 30 % of the non-blank lines start
    with a TAB and those lines hold one cell each (rows pasted from Excel, several tabs a line,
    are ``spaced`` rows). Its rows have ``layout == ""``.
``pipe-rows``
    Markdown-like rows ``a | b | c``, with or without outer pipes, padded with ``||||``; one
    :class:`Row` per line, one cell per ``|``-separated part; ``|---|`` separator lines are
    skipped; the trailing empty parts (the padding) are dropped, empty cells inside a row are
    kept. Merged cells were collapsed by whoever copied the table, so a row may be shorter than
    its header: the missing cells are the merged ones, usually on the left (一级指标, 单位名称).
``cell-lines``
    One cell per line ending in `` |`` (a line that is only ``|`` is an empty cell). Lines of
    pipes only (``||||``) pad a row to the table's width; when the block has them, the width is
    the usual ``cells + pipes`` and a row ends at a padding line or when it is full. Without
    them, rows are rebuilt from labels (see "rows from labels" below). Text lines without a
    pipe belong to the next cell (a cell of several lines) or, at the end, are a cut-off cell.
``paragraphs``
    One cell per paragraph, blank lines between. Rows are rebuilt from labels. After a header
    row, a row with more cells than the header had a cell split over paragraphs: the rightmost
    two adjacent text cells are joined (with ``"\\n"``) until it fits.
``spaced``
    Text copied from a PDF: one visual row per line, cells separated by runs of spaces (CJK
    cells hold no spaces); a line with tabs (pasted from Excel) is split at each tab instead,
    its empty cells kept in their columns. A label wrapped onto the next line (``一级`` /
    ``指标``, ``项目资金`` / ``(万元)``) is joined back without a line break (``一级指标``,
    source spanning both lines), except a title's year, which stays a row; a line that starts
    with a column heading after such a wrap continues the header row; a row holding only
    indicator level names (``经济效益`` / ``指标``) is put in front of the row that follows it.
    Under a header with 一级/二级/三级指标, indicator rows are rebuilt as wide as the header
    from its 一级指标 column on: level names in the 一级 or 二级 column, the next cell as the
    三级指标, the values right-aligned to the last value column before a 偏差原因 column (a copy
    loses blank target and actual values, never the 分值 and 得分), blank cells elsewhere.
    Lone cells (``指标2:``, ``……``, ``(50分)``) are left as one-cell rows.
``flat``
    A whole form run together in one stream (text extracted from a PDF without layout). The
    stream is cut at the labels of ``labels.yaml`` (``flat_labels``): each label gives a row
    ``[label, value]``; after the indicator header (一级指标二级指标三级指标指标目标值) rows are
    ``[一级, 二级, 三级, 指标值]`` split at level names and at values such as ``=300天`` or
    ``≥95%``, an inherited level being a blank ``continuation`` cell. Cells carry the lines of
    the stream they were cut from.
``prose``
    Anything else: one single-cell row per non-blank line.

Rows from labels: in layouts that lost their row ends, a cell whose label is in
``row_starts`` (``labels.yaml``) starts a new row, unless every cell of the row so far is a
heading (``heads``: 绩效指标 | 一级指标 …, 产出指标 | 数量指标 …); a table title or 附件 label
starts a row; after a header beginning with 序号, the next sequence number starts a row.
"""

from __future__ import annotations

import codecs
import os
import re
from collections import Counter
from dataclasses import dataclass

from hegui.facts.errors import InputError
from hegui.facts.files import file_size, read_bytes
from hegui.facts.limits import check_text
from hegui.facts.model import Cell, Grid, Row, Source
from hegui.facts.normalize import Vocabulary, label_key, vocabulary
from hegui.facts.textdump import DEFAULT_MAX_BYTES, _parse, _too_large, decode_text

TAB_DUMP = "tab-dump"
PIPE_ROWS = "pipe-rows"
CELL_LINES = "cell-lines"
PARAGRAPHS = "paragraphs"
SPACED = "spaced"
FLAT = "flat"
PROSE = "prose"

#: Share of non-blank lines starting with a TAB from which a file is a Word text dump.
TAB_DUMP_SHARE = 0.3


def read_text(path: str | os.PathLike, data: bytes | None = None, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Grid:
    """Read a text file in any layout into a :class:`Grid` (see the module docstring).

    Raises :class:`~hegui.facts.errors.InputError` only for a file that cannot be text at all
    (missing, too large, empty, binary, unknown encoding); a text without any table gives a
    grid of prose rows, which the recogniser then refuses with what it saw.
    """
    name = os.fsdecode(path)
    from_disk = data is None
    data = read_bytes(name, max_bytes) if data is None else bytes(data)
    if len(data) > max_bytes:
        raise _too_large(name, max(file_size(name, len(data)) if from_disk else 0, len(data)), max_bytes)
    text, encoding = decode_any(name, data)
    return Grid(path=name, rows=parse_text(name, text), encoding=encoding)


def decode_any(name: str, data: bytes) -> tuple[str, str]:
    """:func:`~hegui.facts.textdump.decode_text`, and also UTF-16 with a byte-order mark, which
    is what Excel's "Unicode text" and some CSV exports write (tab-separated rows)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise InputError(
                name, "文件以 UTF-16 标记开头，但其中有不是 UTF-16 的字节，无法解码。请用 UTF-8 重新另存后提交。"
            ) from None
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        if not text.strip():
            raise InputError(name, "文件为空，只有空格、制表符或空行，没有任何内容。")
        check_text(name, text)
        return text, "utf-16"
    return decode_text(name, data)


def parse_text(name: str, text: str, first_line: int = 1, *, tab_dump: bool = True) -> list[Row]:
    """The rows of ``text`` (LF line ends), each layout block read as its lines show.

    ``first_line`` is the file line ``text`` starts at; ``tab_dump=False`` never reads it as a
    Word text dump (text gathered from around the tables of a web page or PDF).
    """
    lines = text.split("\n")
    if tab_dump and first_line == 1 and _is_tab_dump(lines):
        return _parse(name, text)
    rows: list[Row] = []
    for block in detect_blocks(lines):
        rows.extend(_PARSERS[block.layout](name, lines, block, first_line - 1))
    return rows


@dataclass(frozen=True)
class Block:
    """Lines ``start``..``end`` (0-based, inclusive) of one layout."""

    layout: str
    start: int
    end: int


def layouts_of(text: str) -> list[str]:
    """The layouts found in ``text``, in order (for tests and diagnostics)."""
    lines = text.replace("\r\n", "\n").split("\n")
    if _is_tab_dump(lines):
        return [TAB_DUMP]
    return [b.layout for b in detect_blocks(lines)]


def _is_tab_dump(lines: list[str]) -> bool:
    """Word's text dump: many lines start with a TAB, and the tab-led lines hold one cell each.

    Rows pasted from Excel are tab-separated too, and start with a TAB where their first cell
    is empty; they hold several tabs a line and are read as spaced rows instead.
    """
    nonblank = [line for line in lines if line.strip()]
    tabbed = [line for line in nonblank if line.startswith("\t")]
    if not nonblank or len(tabbed) < len(nonblank) * TAB_DUMP_SHARE:
        return False
    several = sum(1 for line in tabbed if "\t" in line[1:].strip("\t"))
    return several <= len(tabbed) * 0.2


# --- blocks ---------------------------------------------------------------------------------------

_PIPE_ONLY = re.compile(r"^\s*\|(?:\s*\|)*\s*$")
_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")
#: Text lines between two pipe lines that still belong to the same pipe block.
_PIPE_GAP = 3


def _is_pipe(line: str) -> bool:
    s = line.strip()
    return bool(s) and (s.startswith("|") or s.endswith("|") or " | " in s)


def detect_blocks(lines: list[str]) -> list[Block]:
    """Cut ``lines`` into blocks of one layout each."""
    pipes = [i for i, line in enumerate(lines) if _is_pipe(line)]
    blocks: list[Block] = []
    regions: list[tuple[int, int]] = []
    for i in pipes:
        if regions and i - regions[-1][1] - 1 <= _PIPE_GAP:
            regions[-1] = (regions[-1][0], i)
        else:
            regions.append((i, i))
    if regions:
        # A table cut off mid-cell: text lines right after the last pipe line, up to the end.
        start, end = regions[-1]
        rest = [i for i in range(end + 1, len(lines)) if lines[i].strip()]
        if (
            rest
            and len(rest) <= 2
            and rest[0] == end + 1
            and all(lines[i].strip() for i in range(end + 1, rest[-1] + 1))
        ):
            regions[-1] = (start, rest[-1])
    position = 0
    for start, end in regions:
        if start > position:
            blocks.extend(_text_blocks(lines, position, start - 1))
        blocks.append(Block(_pipe_layout(lines, start, end), start, end))
        position = end + 1
    if position < len(lines):
        blocks.extend(_text_blocks(lines, position, len(lines) - 1))
    return blocks


def _pipe_layout(lines: list[str], start: int, end: int) -> str:
    counted = multi = 0
    for line in lines[start : end + 1]:
        if not _is_pipe(line) or _PIPE_ONLY.match(line) or _SEPARATOR.match(line):
            continue
        counted += 1
        if len([p for p in _split_pipes(line) if p.strip()]) >= 2:
            multi += 1
    return PIPE_ROWS if counted and multi >= counted * 0.3 else CELL_LINES


def _text_blocks(lines: list[str], start: int, end: int) -> list[Block]:
    """Blocks of a stretch without pipes: flat runs, paragraph cells, or spaced rows/prose."""
    if not any(lines[i].strip() for i in range(start, end + 1)):
        return []
    out: list[Block] = []
    flat = _flat_regex()
    i = start
    plain_start = start
    while i <= end:
        if (
            len(lines[i]) >= 60
            and lines[i].count("。") <= 1
            and len({m.group(0) for m in flat.finditer(lines[i])}) >= 4
        ):
            stop = i
            while stop + 1 <= end and lines[stop + 1].strip():
                stop += 1
            if plain_start < i:
                out.extend(_plain_blocks(lines, plain_start, i - 1))
            out.append(Block(FLAT, i, stop))
            i = stop + 1
            plain_start = i
        else:
            i += 1
    if plain_start <= end:
        out.extend(_plain_blocks(lines, plain_start, end))
    return out


def _plain_blocks(lines: list[str], start: int, end: int) -> list[Block]:
    nonblank = [i for i in range(start, end + 1) if lines[i].strip()]
    if not nonblank:
        return []
    spaced_apart = sum(1 for i in nonblank if i + 1 > end or not lines[i + 1].strip())
    lengths = sorted(len(lines[i].strip()) for i in nonblank)
    if len(nonblank) >= 6 and spaced_apart >= len(nonblank) * 0.8 and lengths[len(lengths) // 2] <= 40:
        return [Block(PARAGRAPHS, start, end)]
    multi = sum(1 for i in nonblank if len(lines[i].split()) >= 2)
    return [Block(SPACED if multi else PROSE, start, end)]


# --- pipe layouts --------------------------------------------------------------------------------


def _split_pipes(line: str) -> list[str]:
    s = line.strip()
    if s.startswith("|"):
        s = s[1:]
    parts = s.split("|")
    if len(parts) > 1 and not parts[-1].strip():
        parts.pop()  # the pipe that ends the line ends the last cell
    return [p.strip() for p in parts]


def _source(name: str, offset: int, first: int, last: int | None = None) -> Source:
    """Source of 0-based lines ``first``..``last`` of a block whose text starts at file line ``offset + 1``."""
    last = first if last is None else last
    return Source(name, offset + first + 1, offset + last + 1)


def _pipe_rows(name: str, lines: list[str], block: Block, offset: int) -> list[Row]:
    rows: list[Row] = []
    for i in range(block.start, block.end + 1):
        line = lines[i]
        if not line.strip() or _PIPE_ONLY.match(line) or _SEPARATOR.match(line):
            continue
        parts = _split_pipes(line) if _is_pipe(line) else [line.strip()]
        while parts and not parts[-1]:
            parts.pop()
        if parts:
            src = _source(name, offset, i)
            rows.append(Row([Cell(p, src) for p in parts], PIPE_ROWS))
    return rows


@dataclass
class _Item:
    text: str
    first: int
    last: int
    filler: int = 0  # pipes of a padding line


def _cell_line_items(lines: list[str], block: Block) -> list[_Item]:
    items: list[_Item] = []
    pending: list[tuple[int, str]] = []  # text lines waiting for the pipe that ends their cell
    for i in range(block.start, block.end + 1):
        line = lines[i]
        if not line.strip():
            continue
        if _PIPE_ONLY.match(line):
            count = line.count("|")
            if pending:
                items.append(_Item("\n".join(t for _, t in pending), pending[0][0], pending[-1][0]))
                pending = []
                count -= 1
            if count == 1:
                items.append(_Item("", i, i))
            elif count > 1:
                items.append(_Item("", i, i, filler=count))
            continue
        if not _is_pipe(line):
            pending.append((i, line.strip()))
            continue
        parts = _split_pipes(line)
        for n, part in enumerate(parts):
            if n == 0 and pending:
                text = "\n".join([*(t for _, t in pending), part]).strip("\n")
                items.append(_Item(text, pending[0][0], i))
                pending = []
            else:
                items.append(_Item(part, i, i))
    if pending:  # cut off mid-cell
        items.append(_Item("\n".join(t for _, t in pending), pending[0][0], pending[-1][0]))
    return items


def _cell_lines(name: str, lines: list[str], block: Block, offset: int) -> list[Row]:
    items = _cell_line_items(lines, block)
    width = _padded_width(items)
    if width:
        groups: list[list[_Item]] = [[]]
        for item in items:
            if item.filler:
                if groups[-1]:
                    groups.append([])
                continue
            groups[-1].append(item)
            if len(groups[-1]) >= width:
                groups.append([])
        cells = [_trim([Cell(it.text, _source(name, offset, it.first, it.last)) for it in g]) for g in groups]
    else:
        stream = [Cell(it.text, _source(name, offset, it.first, it.last)) for it in items if not it.filler]
        cells = _rows_from_labels(stream)
    return [Row(row, CELL_LINES) for row in cells if any(not c.is_blank for c in row)]


def _padded_width(items: list[_Item]) -> int:
    """The table width ``cells + padding pipes`` most padding lines agree on, or 0."""
    widths: Counter[int] = Counter()
    count = 0
    for item in items:
        if item.filler:
            widths[count + item.filler] += 1
            count = 0
        else:
            count += 1
    if not widths:
        return 0
    width, seen = widths.most_common(1)[0]
    return width if seen >= 2 or len(widths) == 1 else 0


# --- rows from labels ----------------------------------------------------------------------------

_TITLE = re.compile(r"(绩效|目标|明细|安排|申报|自评|分配)[^，。；,;]{0,8}表")
_ATTACHMENT = re.compile(r"^附[件表]\s*[0-9一二三四五六七八九十]+(?:\s*[-－—–]\s*\d+)?(?:[:：].*)?$")
# 财务负责人 and 联系电话 are left out: they share the line of 项目负责人 / 填表人 in the forms.
_ROW_START_PREFIXES = ("单位:", "单位：", "金额单位", "报表编号", "项目负责人", "填表人", "单位负责人")
#: A short numbered item (2.项目实施内容及过程概述) heads a row of its own; a long one is a note.
_NUMBERED = re.compile(r"^\d{1,2}[.、．][\u4e00-\u9fff]\S{1,21}$")
_SEQ = re.compile(r"^\d{1,3}$")


def is_title(text: str) -> bool:
    """A table title or 附件 label (``附件2``, ``绩效目标申报表``, ``项目支出绩效自评表(2022年度)``)."""
    key = re.sub(r"\s+", "", text)
    if _ATTACHMENT.match(key):
        return True
    return 4 <= len(key) <= 80 and not key.endswith(("。", "；", ";")) and bool(_TITLE.search(key))


def _starts_row(key: str, vocab: Vocabulary) -> bool:
    return key in vocab.row_starts or key.startswith(_ROW_START_PREFIXES)


def _rows_from_labels(cells: list[Cell], *, split_paragraphs: bool = False) -> list[list[Cell]]:
    vocab = vocabulary()
    rows: list[list[Cell]] = []
    current: list[Cell] = []
    only_heads = True  # every non-blank cell of the current row is a heading
    next_seq = 0  # the sequence number that starts the next row, after a 序号 header
    for cell in cells:
        key = label_key(cell.text)
        start = False
        if current:
            if is_title(cell.text) or (key.startswith(_ROW_START_PREFIXES) and not key.startswith("单位名称")):
                start = True
            elif key in vocab.row_starts or _NUMBERED.match(key):
                start = not only_heads
            elif next_seq and _SEQ.match(key) and int(key) == next_seq:
                start = True
        if start:
            rows.append(current)
            current, only_heads = [], True
        current.append(cell)
        if key and key not in vocab.heads:
            only_heads = False
        if next_seq and len(current) == 1 and _SEQ.match(key) and int(key) == next_seq:
            next_seq += 1
        if key == "序号" and len(current) == 1:
            next_seq = 1
    if current:
        rows.append(current)
    if split_paragraphs:
        rows = _fit_to_headers(rows, vocab)
    return [_trim(row) for row in rows]


def _trim(row: list[Cell]) -> list[Cell]:
    """A title or lone label with empty cells after it (``附表1 | | | |``) is just that cell;
    a label with one empty cell after it keeps it: that is its value, left blank."""
    if len(row) > 2 and not row[0].is_blank and all(c.is_blank for c in row[1:]):
        return row[:1]
    return row


def _is_number_like(text: str) -> bool:
    return bool(re.fullmatch(r"[\s\d.,%％=≥≤<>＜＞≧≦万元个人次/\-]*", text))


def _fit_to_headers(rows: list[list[Cell]], vocab: Vocabulary) -> list[list[Cell]]:
    """Join cells a paragraph break split, in rows wider than the header above them."""
    width = 0
    out = []
    for row in rows:
        keys = [label_key(c.text) for c in row if not c.is_blank]
        if len(keys) >= 3 and (keys[0] == "序号" or sum(k in vocab.header_labels for k in keys) >= len(keys) - 1):
            width = len(row)
        elif keys and not _SEQ.match(keys[0]) and keys[0] not in ("合计", "总计", "小计"):
            width = 0  # a label row ends the table under the header
        while width and len(row) > width:
            pairs = [
                n
                for n in range(len(row) - 1)
                if not row[n].is_blank
                and not row[n + 1].is_blank
                and not _is_number_like(row[n].text)
                and not _is_number_like(row[n + 1].text)
            ]
            if not pairs:
                break
            n = pairs[-1]
            joined = Cell(row[n].text + "\n" + row[n + 1].text, row[n].source.spanning(row[n + 1].source))
            row = [*row[:n], joined, *row[n + 2 :]]
        out.append(row)
    return out


def aligned(row: Row, width: int) -> Row:
    """``row`` padded on the left with blank ``continuation`` cells to ``width`` cells.

    For the recogniser, under a header of ``width`` columns in the layouts that drop merged
    cells (``pipe-rows``, ``cell-lines``, ``spaced``): a merged cell of an indicator or fund
    table is nearly always on the left (一级指标, 预算执行情况, 单位名称), so a short row's cells
    belong to the rightmost columns. A row as wide as ``width`` or wider is returned as it is.
    """
    missing = width - len(row.cells)
    if missing <= 0 or not row.cells:
        return row
    filler = [Cell("", row.cells[0].source, continuation=True) for _ in range(missing)]
    return Row([*filler, *row.cells], row.layout)


# --- paragraphs ----------------------------------------------------------------------------------


def _paragraphs(name: str, lines: list[str], block: Block, offset: int) -> list[Row]:
    stream = [
        Cell(lines[i].strip(), _source(name, offset, i)) for i in range(block.start, block.end + 1) if lines[i].strip()
    ]
    return [Row(row, PARAGRAPHS) for row in _rows_from_labels(stream, split_paragraphs=True) if row]


# --- spaced (PDF copy) ---------------------------------------------------------------------------


def _tab_cells(line: str) -> list[str]:
    """Cells of a tab-separated line, empty ones kept in their columns, trailing ones dropped."""
    cells = [cell.strip() for cell in line.split("\t")]
    while cells and not cells[-1]:
        cells.pop()
    return cells if any(cells) else []


_PAREN_TOKEN = re.compile(r"^[（(][^（()）]{1,12}[)）]$")
_WRAP_MAX = 8


def _wraps(previous: str, token: str, vocab: Vocabulary) -> bool:
    if len(token) > _WRAP_MAX or is_title(previous):
        return False  # a title's year on the next line is a row of its own, as in the table
    if _PAREN_TOKEN.match(token):
        return True
    return label_key(previous + token) in vocab.known


#: Column headings for text at the right end of an indicator table (not a value column).
_TEXT_COLUMNS = frozenset(
    {"偏差原因分析及改进措施", "偏差原因分析", "偏差原因", "未完成原因分析", "未达到指标值原因", "原因", "备注"}
)


def _spaced(name: str, lines: list[str], block: Block, offset: int) -> list[Row]:
    vocab = vocabulary()
    rows: list[list[Cell]] = []
    previous_nonblank = False
    wrapped = False
    for i in range(block.start, block.end + 1):
        # Tab-separated rows (pasted from Excel) keep the spaces inside their cells.
        tokens = _tab_cells(lines[i]) if "\t" in lines[i] else lines[i].split()
        if not tokens:
            previous_nonblank = wrapped = False
            continue
        src = _source(name, offset, i)
        cells = [Cell(t, src) for t in tokens]
        if previous_nonblank and rows and len(tokens) == 1 and _wraps(rows[-1][-1].text, tokens[0], vocab):
            # A label the PDF wrapped: joined without a line break, as the form shows it.
            last = rows[-1][-1]
            rows[-1][-1] = Cell(last.text + tokens[0], last.source.spanning(src))
            wrapped = True
        elif wrapped and rows and label_key(tokens[0]) in vocab.header_labels:
            rows[-1].extend(cells)
            wrapped = False
        else:
            rows.append(cells)
            wrapped = False
        previous_nonblank = True
    out: list[Row] = []
    held: list[Cell] = []
    for row in rows:
        keys = [label_key(c.text) for c in row]
        if all(k in vocab.levels for k in keys):
            held.extend(row)
            continue
        out.append(Row([*held, *row], SPACED if len(row) > 1 or held else PROSE))
        held = []
    if held:
        out.append(Row(held, SPACED))
    return _align_indicators(out, vocab)


def _align_indicators(rows: list[Row], vocab: Vocabulary) -> list[Row]:
    """Indicator rows of a PDF copy put back under their columns.

    A PDF copy drops blank cells and merged cells, so ``质量指标 指标1:工程质量合格 10 10`` does
    not say which columns its numbers are in. Under a header with 一级/二级/三级指标, each row
    becomes as wide as the header from its 一级指标 column on (the columns left of it are a
    merged heading): level names go to the 一级 or 二级 column, the next cell is the 三级指标, and
    the values are right-aligned to the last value column (分值/得分 before a 偏差原因 column),
    because a copy loses the blank target and actual values of a row, not its score. Missing
    positions are blank cells. The block ends at a row starting with another label (总分, 合计)
    or a title.
    """
    out: list[Row] = []
    columns: list[str] = []  # header keys from the 一级指标 column on
    for row in rows:
        keys = [label_key(c.text) for c in row.cells]
        if {"一级指标", "二级指标", "三级指标"} <= set(keys):
            columns = keys[keys.index("一级指标") :]
            out.append(row)
            continue
        first = keys[0] if keys else ""
        if columns and (
            is_title(row.cells[0].text)
            or first.startswith("注")
            or (first in vocab.row_starts and first not in vocab.levels)
        ):
            columns = []
        if not columns or (len(row.cells) == 1 and first not in vocab.levels):
            out.append(row)  # outside the block, or a lone cell: 指标2:, ……, (50分)
            continue
        out.append(_place(row, columns, vocab))
    return out


def _place(row: Row, columns: list[str], vocab: Vocabulary) -> Row:
    width = len(columns)
    text_tail = 0
    while text_tail < width and columns[width - 1 - text_tail] in _TEXT_COLUMNS:
        text_tail += 1
    slots: list[Cell | None] = [None] * width
    cells = list(row.cells)
    while cells and label_key(cells[0].text) in vocab.levels:
        cell = cells.pop(0)
        key = label_key(cell.text)
        # 成本指标 is a 一级 in the 101号 template only when a 二级 follows it (成本指标 | 经济成本指标).
        level1 = key in vocab.level1 and (
            key not in vocab.level2 or (cells and label_key(cells[0].text) in vocab.level2)
        )
        slots[0 if level1 and slots[0] is None and slots[1] is None else 1] = cell
    if cells:
        slots[2] = cells.pop(0)
    first_value = 3
    last_value = width - 1 - text_tail
    room = last_value - first_value + 1
    if len(cells) <= room:
        start = last_value - len(cells) + 1
    else:
        start = first_value
    for n, cell in enumerate(cells):
        if start + n < width:
            slots[start + n] = cell
        else:  # more cells than columns: keep them at the end rather than lose them
            slots.append(cell)
    source = row.cells[0].source
    return Row([cell if cell is not None else Cell("", source) for cell in slots], row.layout)


# --- flat ------------------------------------------------------------------------------------------

_UNITS = (
    "百分比|个百分点|百分点|人次|户次|万元|亿元|千元|元|%|％|天|个|次|人|项|家|场|件|年|月|日|小时|分钟|"
    "平方米|平方公里|公里|千米|米|亩|吨|户|套|台|篇|册|期|批|所|座|处|条|km|KM"
)
_VALUE = rf"[%％]?(?:[=＝≥≤＞＜><≧≦]|>=|<=|二(?=\d))\s*\d[\d,]*(?:\.\d+)?(?:{_UNITS})?"


_FLAT_CACHE: dict[str, re.Pattern[str]] = {}


def _flat_regex() -> re.Pattern[str]:
    """Labels of flattened tables, their OCR variants, titles, level names and values."""
    cached = _FLAT_CACHE.get("re")
    if cached is not None:
        return cached
    vocab = vocabulary()
    header = "".join(map(re.escape, vocab.flat_indicator_header))
    value_heads = "|".join(map(re.escape, vocab.flat_indicator_value_headers))
    labels = sorted({*vocab.flat_labels, *vocab.flat_aliases}, key=len, reverse=True)
    levels = sorted(vocab.levels | {"服务对象满意度"}, key=len, reverse=True)
    pattern = (
        rf"(?P<title>[\u4e00-\u9fff]{{0,24}}?绩效(?:目标|自评)(?:申报)?表[(（]?\d{{4}}年度[)）]?)"
        rf"|(?P<header>{header}(?:{value_heads}))"
        rf"|(?P<label>{'|'.join(map(re.escape, labels))})"
        rf"|(?P<level>{'|'.join(map(re.escape, levels))})"
        rf"|(?P<value>{_VALUE})"
    )
    compiled = re.compile(pattern)
    _FLAT_CACHE["re"] = compiled
    return compiled


def _flat(name: str, lines: list[str], block: Block, offset: int) -> list[Row]:
    vocab = vocabulary()
    # Line breaks in flattened text fall anywhere, inside words and numbers: join the lines and
    # remember where each one starts, to give every cell its lines back.
    starts: list[int] = []
    parts: list[str] = []
    size = 0
    for i in range(block.start, block.end + 1):
        starts.append(size)
        parts.append(lines[i].strip())
        size += len(parts[-1])
    stream = "".join(parts)

    def cell(a: int, b: int, text: str | None = None) -> Cell:
        first = _line_at(starts, a)
        last = _line_at(starts, max(a, b - 1))
        return Cell(
            stream[a:b].strip() if text is None else text,
            _source(name, offset, block.start + first, block.start + last),
        )

    rows: list[list[Cell]] = []
    tokens = list(_flat_regex().finditer(stream))
    indicators = False
    level1: Cell | None = None
    level2: Cell | None = None
    level3_from = -1
    fresh: set[int] = set()  # levels named since the last indicator row (the rest are inherited)

    def gap(a: int, b: int) -> Cell | None:
        return cell(a, b) if stream[a:b].strip() else None

    position = 0
    n = 0
    while n < len(tokens):
        tok = tokens[n]
        kind = tok.lastgroup or ""
        before = gap(position, tok.start())
        if kind == "title":
            if before is not None:
                _flush_text(rows, before, indicators, level1, level2, fresh)
            indicators, level1, level2 = False, None, None
            fresh = set()
            rows.append([cell(tok.start(), tok.end())])
        elif kind == "header":
            if before is not None:
                _flush_text(rows, before, indicators, level1, level2, fresh)
            header_text = tok.group(0)
            names = [*vocab.flat_indicator_header, header_text[len("".join(vocab.flat_indicator_header)) :]]
            cells = []
            at = tok.start()
            for label in names:
                cells.append(cell(at, at + len(label)))
                at += len(label)
            rows.append(cells)
            indicators, level1, level2 = True, None, None
            fresh = set()
        elif indicators and kind == "level":
            text = tok.group(0)
            if before is not None:
                _flush_text(rows, before, indicators, level1, level2, fresh)
                level3_from = -1
            following = tokens[n + 1] if n + 1 < len(tokens) else None
            adjacent_level = following is not None and following.lastgroup == "level" and following.start() == tok.end()
            if (
                level2 is not None
                and before is None
                and level3_from == tok.start()
                and label_key(text) == label_key(level2.text)
            ):
                # 服务对象满意度服务对象满意度: the second is the 三级指标 named like its 二级.
                position = tok.start()
                n += 1
                continue
            if label_key(text) in vocab.level1 and (adjacent_level or label_key(text) not in vocab.level2):
                level1, level2 = cell(tok.start(), tok.end()), None
                fresh = {1}
            else:
                level2 = cell(tok.start(), tok.end())
                fresh.add(2)
                level3_from = tok.end()
        elif indicators and kind == "value":
            level3 = before or Cell("", cell(tok.start(), tok.end()).source)
            rows.append(_indicator_row(level1, level2, level3, cell(tok.start(), tok.end()), fresh))
            fresh = set()
            level3_from = -1
        elif kind == "label":
            if before is not None:
                _flush_text(rows, before, indicators, level1, level2, fresh)
            indicators = False
            value_end = tokens[n + 1].start() if n + 1 < len(tokens) else len(stream)
            label_cell = cell(tok.start(), tok.end())
            value = gap(tok.end(), value_end) or Cell("", label_cell.source)
            rows.append([label_cell, value])
            position = value_end
            n += 1
            continue
        else:  # a value outside the indicator block is part of the text around it
            n += 1
            continue
        position = tok.end()
        n += 1
    tail = gap(position, len(stream))
    if tail is not None:
        _flush_text(rows, tail, indicators, level1, level2, fresh)
    return [Row(row, FLAT) for row in rows if row]


def _indicator_row(
    level1: Cell | None, level2: Cell | None, level3: Cell, value: Cell, fresh: set[int] | None = None
) -> list[Cell]:
    """``[一级, 二级, 三级, 指标值]``; a level not named since the previous row is inherited:
    a blank continuation cell, as a merged cell reads in the other readers."""

    def level(found: Cell | None, number: int) -> Cell:
        if found is not None and (fresh is None or number in fresh):
            return found
        return Cell("", level3.source, continuation=True)

    return [level(level1, 1), level(level2, 2), level3, value]


def _flush_text(
    rows: list[list[Cell]], text: Cell, indicators: bool, level1: Cell | None, level2: Cell | None, fresh: set[int]
) -> None:
    """Text with no label or value after it: a 三级指标 without a value, or a cell of its own."""
    if indicators:
        rows.append(_indicator_row(level1, level2, text, Cell("", text.source), fresh))
        fresh.clear()
    elif rows and len(rows[-1]) == 2 and rows[-1][1].is_blank:
        rows[-1][1] = text
    else:
        rows.append([text])


def _line_at(starts: list[int], offset: int) -> int:
    low, high = 0, len(starts) - 1
    while low < high:
        mid = (low + high + 1) // 2
        if starts[mid] <= offset:
            low = mid
        else:
            high = mid - 1
    return low


# --- prose -----------------------------------------------------------------------------------------


def _prose(name: str, lines: list[str], block: Block, offset: int) -> list[Row]:
    return [
        Row([Cell(lines[i].strip(), _source(name, offset, i))], PROSE)
        for i in range(block.start, block.end + 1)
        if lines[i].strip()
    ]


_PARSERS = {
    PIPE_ROWS: _pipe_rows,
    CELL_LINES: _cell_lines,
    PARAGRAPHS: _paragraphs,
    SPACED: _spaced,
    FLAT: _flat,
    PROSE: _prose,
}
