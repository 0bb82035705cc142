"""Reader for saved web pages (.html/.htm): every ``<table>`` as rows of cells, the text around
them through the text layouts.

* each ``<tr>`` of a table is a :class:`Row`; ``rowspan``/``colspan`` are expanded as the .xlsx
  reader does: the text stays in the top-left position and the other positions of the span are
  blank ``continuation`` cells, so columns stay aligned;
* a cell's text is its text with ``<br>``, ``<p>``, ``<div>`` and ``<li>`` as line breaks; a
  table nested in a cell is flattened into that cell's text, one line per nested row;
* locators are ``表N 第r行 第c列`` (N counts the page's top-level tables, c the grid column after
  spans are expanded); a ``<caption>`` is a one-cell row before the table, ``表N 标题``;
* text outside tables (a notice, a title above the table, a table pasted as text in ``<pre>``)
  is read by :mod:`hegui.facts.layouts`; its cells carry the line of the page's source it came
  from.

The standard library's :class:`html.parser.HTMLParser` is used: it is maintained with Python,
tolerant of the broken markup government CMS pages are full of (unclosed ``<td>``, stray
``</p>``), and adds no dependency.
"""

from __future__ import annotations

import codecs
import os
import re
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser

from hegui.facts.errors import InputError
from hegui.facts.files import file_size, read_bytes
from hegui.facts.layouts import decode_any, parse_text
from hegui.facts.limits import check_text
from hegui.facts.model import Cell, Grid, Row, Source
from hegui.facts.textdump import DEFAULT_MAX_BYTES, _reject_binary, _too_large
from hegui.facts.xlsx import MAX_GRID_CELLS

#: A span larger than this is clamped: real forms never span more rows or columns.
MAX_SPAN = 1000

_SKIP = frozenset({"script", "style", "head", "title", "noscript", "template", "svg"})
_BREAKS = frozenset(
    {"br", "p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section", "article", "pre", "hr"}
)


def read_html(path: str | os.PathLike, data: bytes | None = None, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Grid:
    """Read a saved web page into a :class:`Grid` (see the module docstring)."""
    name = os.fsdecode(path)
    from_disk = data is None
    data = read_bytes(name, max_bytes) if data is None else bytes(data)
    if len(data) > max_bytes:
        raise _too_large(name, max(file_size(name, len(data)) if from_disk else 0, len(data)), max_bytes)
    text, encoding = _decode(name, data)
    check_text(name, text)
    parser = _Parser()
    parser.feed(text)
    parser.close()
    rows: list[Row] = []
    try:
        for kind, payload in parser.parts:
            if kind == "text":
                rows.extend(_text_rows(name, payload))  # type: ignore[arg-type]
            else:
                rows.extend(_table_rows(name, payload))  # type: ignore[arg-type]
    except _TooLarge as exc:
        raise InputError(name, str(exc)) from None
    return Grid(path=name, rows=rows, encoding=encoding)


_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.IGNORECASE)
_DEFAULT_FAMILY = {"utf-8", "utf8", "gbk", "gb2312", "gb18030", "x-gbk", "cp936"}


def _decode(name: str, data: bytes) -> tuple[str, str]:
    """The page's text: in the charset its ``<meta>`` declares when that is neither UTF-8 nor a
    GB charset (Big5 pages from Hong Kong and Taiwan mirrors, which GB18030 would misread
    without an error), else as the text reader decodes (UTF-8, then GB18030)."""
    match = _CHARSET.search(data[:4096])
    declared = match.group(1).decode("ascii").lower() if match else ""
    if declared and declared not in _DEFAULT_FAMILY and not data.startswith(codecs.BOM_UTF8):
        _reject_binary(name, data)
        try:
            text = data.decode(declared)
        except (LookupError, UnicodeDecodeError):
            pass
        else:
            return text.replace("\r\n", "\n").replace("\r", "\n"), declared
    return decode_any(name, data)


class _TooLarge(Exception):
    pass


@dataclass
class _HtmlCell:
    chunks: list[str] = field(default_factory=list)
    rowspan: int = 1
    colspan: int = 1

    @property
    def text(self) -> str:
        lines = [re.sub(r"[ \t\r\f\v\xa0\u3000]+", " ", line).strip() for line in "".join(self.chunks).split("\n")]
        while lines and not lines[0]:
            lines.pop(0)
        while lines and not lines[-1]:
            lines.pop()
        return "\n".join(lines)


@dataclass
class _Table:
    number: int
    rows: list[list[_HtmlCell]] = field(default_factory=list)
    cell: _HtmlCell | None = None
    caption: _HtmlCell | None = None


def _span(value: str | None) -> int:
    try:
        return max(1, min(int((value or "1").strip() or 1), MAX_SPAN))
    except ValueError:
        return 1


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[tuple[str, object]] = []
        self.tables: list[_Table] = []  # open tables, innermost last
        self.count = 0
        self.skip = 0
        self.lines: list[tuple[int, str]] = []  # text outside tables: (source line, text)
        self.line_text: list[str] = []
        self.line_at = 0

    # text outside tables --------------------------------------------------------------------

    def _break_text(self) -> None:
        if self.line_text:
            self.lines.append((self.line_at, "".join(self.line_text)))
            self.line_text = []

    def _flush_text(self) -> None:
        self._break_text()
        if any(text.strip() for _, text in self.lines):
            self.parts.append(("text", self.lines))
        self.lines = []

    # events -----------------------------------------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip += 1
            return
        if self.skip:
            return
        if tag == "table":
            if not self.tables:
                self._flush_text()
                self.count += 1
            self.tables.append(_Table(self.count))
            return
        if not self.tables:
            if tag in _BREAKS:
                self._break_text()
            return
        table = self.tables[-1]
        if tag == "caption":
            table.caption = table.cell = _HtmlCell()
        elif tag == "tr":
            table.rows.append([])
            table.cell = None
        elif tag in ("td", "th"):
            if not table.rows:
                table.rows.append([])
            values = dict(attrs)
            table.cell = _HtmlCell(rowspan=_span(values.get("rowspan")), colspan=_span(values.get("colspan")))
            table.rows[-1].append(table.cell)
        elif tag in _BREAKS and table.cell is not None:
            table.cell.chunks.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            return
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
            return
        if self.skip:
            return
        if tag == "table" and self.tables:
            table = self.tables.pop()
            if self.tables:  # nested: flattened into the enclosing cell, one line per row
                outer = self.tables[-1]
                flat = "\n".join(" ".join(c.text for c in row if c.text) for row in table.rows)
                if outer.cell is not None:
                    outer.cell.chunks.append("\n" + flat + "\n")
            else:
                self.parts.append(("table", table))
                self.line_at = self.getpos()[0]
            return
        if self.tables:
            table = self.tables[-1]
            if tag in ("td", "th", "caption"):
                table.cell = None
            elif tag in _BREAKS and tag != "tr" and table.cell is not None:
                table.cell.chunks.append("\n")
        elif tag in _BREAKS:
            self._break_text()

    def handle_data(self, data: str) -> None:
        if self.skip or not data:
            return
        if self.tables:
            cell = self.tables[-1].cell
            if cell is not None:
                cell.chunks.append(data)
            return
        line = self.getpos()[0]
        pieces = data.split("\n")
        for n, piece in enumerate(pieces):
            if n:
                self._break_text()
            if piece.strip():
                if not self.line_text:
                    self.line_at = line + n
                self.line_text.append(piece)

    def close(self) -> None:
        super().close()
        # An unclosed <script> or <style> would make handle_endtag ignore the closing of
        # the tables below (and this loop never end).
        self.skip = 0
        while self.tables:  # a page cut off inside a table: keep what was read
            self.handle_endtag("table")
        self._flush_text()


def _text_rows(name: str, lines: list[tuple[int, str]]) -> list[Row]:
    """Text outside tables through the text layouts, each cell given its page line back."""
    kept = [(line, text.strip()) for line, text in lines if text.strip()]
    if not kept:
        return []
    rows = parse_text(name, "\n".join(text for _, text in kept), tab_dump=False)
    out = []
    for row in rows:
        cells = []
        for cell in row.cells:
            first = kept[min(cell.source.line, len(kept)) - 1][0]
            last = kept[min(cell.source.end_line or cell.source.line, len(kept)) - 1][0]
            cells.append(replace(cell, source=Source(name, first, last)))
        out.append(replace(row, cells=cells))
    return out


def _table_rows(name: str, table: _Table) -> list[Row]:
    """The table's rows with spans expanded into continuation cells."""
    grid: dict[tuple[int, int], Cell] = {}
    budget = MAX_GRID_CELLS
    width = 0
    for r, row in enumerate(table.rows):
        c = 0
        for cell in row:
            while (r, c) in grid:
                c += 1
            budget -= cell.rowspan * cell.colspan
            if budget < 0:
                raise _TooLarge(f"表{table.number}的合并单元格范围过大，拒绝读取")
            rows_spanned = min(cell.rowspan, len(table.rows) - r)
            for dr in range(rows_spanned):
                for dc in range(cell.colspan):
                    where = Source(name, locator=f"表{table.number} 第{r + dr + 1}行 第{c + dc + 1}列")
                    if dr == 0 and dc == 0:
                        grid[(r, c)] = Cell(cell.text, where)
                    else:
                        grid[(r + dr, c + dc)] = Cell("", where, continuation=True)
            c += cell.colspan
            width = max(width, c)
    out = []
    if table.caption is not None and table.caption.text:
        out.append(Row([Cell(table.caption.text, Source(name, locator=f"表{table.number} 标题"))]))
    for r in range(len(table.rows)):
        cells = [
            grid.get((r, c)) or Cell("", Source(name, locator=f"表{table.number} 第{r + 1}行 第{c + 1}列"))
            for c in range(width)
        ]
        if all(cell.is_blank for cell in cells):
            continue
        out.append(Row(cells))
    return out
