"""Reader for Word filings (.docx): the body's tables and paragraphs as a :class:`Grid`.

The grid follows the text dump's conventions (see :mod:`hegui.facts.textdump`) so the
recogniser sees the same thing whichever file a department submitted:

* every table row is a :class:`Row`; a cell spanning several grid columns (``w:gridSpan``, or
  the legacy ``w:hMerge``) is one cell, as Word shows it;
* the lower parts of a vertically merged cell (``w:vMerge`` without ``val="restart"``) are
  kept as empty cells marked ``continuation`` so that the columns of a row stay aligned;
* a paragraph outside any table (a 附件 label, a title, a 填表人 line under the table) that
  has text is a one-cell row, in document order;
* a cell's text is its paragraphs joined with ``"\\n"``, empty paragraphs kept; a table nested
  in a cell is flattened into that text, one line per nested row.

Each cell's :class:`Source` has a ``locator`` such as ``附件3-2 表4 第5行 第2列``: the caption
of the table, its 1-based number in the document, the row and the grid column.

The bytes are checked by :mod:`hegui.facts.ooxml` before python-docx parses them; anything
wrong with the file raises :class:`~hegui.facts.errors.InputError` and nothing else.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
import zlib
from collections.abc import Iterator

from lxml import etree

from hegui.facts.errors import InputError
from hegui.facts.files import read_bytes
from hegui.facts.model import Cell, Grid, Row, Source
from hegui.facts.ooxml import MAX_FILE_BYTES, check_all_xml_parts, open_checked_zip

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"

_P, _TBL, _TR, _TC = _W + "p", _W + "tbl", _W + "tr", _W + "tc"
# Wrappers that may hold paragraphs, tables, rows or cells without changing what they are:
# content controls and custom XML, which forms exported from budget systems often use.
_SDT, _SDT_CONTENT, _CUSTOM_XML = _W + "sdt", _W + "sdtContent", _W + "customXml"
_VAL = _W + "val"

# Runs and text inside these are not what a reader of the page sees as the paragraph's text:
# deleted or moved-away revisions, the fallback copy of a drawing (its mc:Choice twin already
# holds the same text) and floating text boxes, which are not part of the table's text flow.
_SKIPPED_ANCESTORS = frozenset(
    {_W + "del", _W + "moveFrom", _W + "txbxContent", _MC + "Fallback", _W + "pPr", _W + "rPr"}
)
_SYM = _W + "sym"
_TEXT_TAGS = {_W + "t": None, _SYM: None, _W + "tab": "\t", _W + "br": "\n", _W + "cr": "\n", _W + "noBreakHyphen": "-"}

# Word's Insert ▸ Symbol with the Symbol font writes <w:sym w:font="Symbol" w:char="F0B3"/>
# instead of the character: the low byte is a position in Adobe's Symbol encoding. Dropping
# it would turn "≥95%" into "95%", so the signs a filing uses are mapped; anything else marks
# the cell as unreadable rather than guessing.
_SYMBOL_FONT = {
    0x20: " ",
    0x25: "%",
    0x28: "(",
    0x29: ")",
    0x2B: "+",
    0x2D: "−",
    0x2E: ".",
    0x2F: "/",
    0x3C: "<",
    0x3D: "=",
    0x3E: ">",
    0xA3: "≤",
    0xA5: "∞",
    0xB0: "°",
    0xB1: "±",
    0xB3: "≥",
    0xB4: "×",
    0xB7: "•",
    0xB8: "÷",
    0xB9: "≠",
    0xBB: "≈",
    0xBC: "…",
    0xD7: "·",
}

_LABEL = re.compile(r"^附件\s*[0-9一二三四五六七八九]+(?:\s*[-－—–]\s*[0-9]+)?$")
_CAPTION_CHARS = 20


def read_docx(path: str | os.PathLike, data: bytes | None = None) -> Grid:
    """Read a Word filing into a :class:`Grid` of rows and cells with table/row/column provenance.

    ``data``, when given, is the file's content already read; ``path`` is then only used for
    provenance and messages. Raises :class:`InputError` (and nothing else) for a file that is
    missing, too large, not a .docx (legacy .doc, encrypted, a renamed .xlsx, not a zip),
    damaged, hostile (zip or entity bomb) or without any table.
    """
    name = os.fsdecode(path)
    data = read_bytes(name, MAX_FILE_BYTES) if data is None else bytes(data)
    archive = open_checked_zip(name, data, "docx")
    try:
        check_all_xml_parts(name, archive)
    except (zlib.error, NotImplementedError, RuntimeError) as exc:
        # A damaged deflate stream, or a compression method zipfile cannot read (Deflate64,
        # AES); check_all_xml_parts only turns zipfile's own errors into InputError.
        raise InputError(name, f"文件已损坏，无法解压：{_reason(exc)}") from None
    _check_main_part_type(name, archive)
    try:
        # Imported here: python-docx is only needed for Word files (it adds ~20-40 ms to every
        # start, measured with ``python -X importtime``), and the module shares its name.
        import docx

        document = docx.Document(io.BytesIO(data))
        body = document.element.body
        rows, tables, texts = _Walker(name).walk(body)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(name, f"Word 文档已损坏，无法读取：{_reason(exc)}") from None
    if not tables:
        if texts:
            raise InputError(
                name,
                f"文档中没有表格（只有{texts}段文字）：预算绩效目标表须以 Word 表格填写，请使用规定的表式。",
            )
        raise InputError(name, "文档中没有表格，也没有任何文字：文档是空的。")
    return Grid(path=name, rows=rows)


_DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"


def _check_main_part_type(name: str, archive: zipfile.ZipFile) -> None:
    """Refuse macro-enabled documents and templates with advice, before python-docx calls them broken.

    They hold the same WordprocessingML, but python-docx opens only plain documents, and a
    .docm/.dotx renamed to .docx is something the filer can fix by saving again.
    """
    try:
        info = archive.getinfo("[Content_Types].xml")
        if info.file_size > 1_000_000:
            return  # python-docx will judge it; reading a huge part here is not worth it
        root = etree.fromstring(archive.read(info), etree.XMLParser(resolve_entities=False, no_network=True))
    except (
        KeyError,
        etree.LxmlError,
        zipfile.BadZipFile,
        zlib.error,
        NotImplementedError,
        RuntimeError,
        EOFError,
        OSError,
    ):
        return  # missing or broken: python-docx reports it below
    for override in root.iter(_CT + "Override"):
        if override.get("PartName", "").lower() == "/word/document.xml":
            kind = override.get("ContentType", "")
            if kind != _DOCX_MAIN and ("macroEnabled" in kind or "template" in kind):
                raise InputError(
                    name,
                    "这是启用宏的 Word 文档（.docm）或 Word 模板（.dotx/.dotm），不是普通 Word 文档。"
                    "请用 Word 或 WPS 打开后“另存为” .docx 格式，再提交。",
                )


def _reason(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    if len(text) > 120:
        text = text[:120] + "…"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# --- walking the body --------------------------------------------------------------------------


def _blocks(parent) -> Iterator:
    """The paragraphs and tables directly in ``parent``, looking through content controls."""
    for child in parent:
        tag = child.tag
        if tag in (_P, _TBL):
            yield child
        elif tag in (_SDT, _CUSTOM_XML, _SDT_CONTENT):
            inner = child.find(_SDT_CONTENT) if tag == _SDT else child
            if inner is not None:
                yield from _blocks(inner)


def _children(parent, tag: str) -> Iterator:
    """Elements ``tag`` directly in ``parent`` or inside content-control wrappers (rows, cells)."""
    for child in parent:
        if child.tag == tag:
            yield child
        elif child.tag in (_SDT, _CUSTOM_XML, _SDT_CONTENT):
            inner = child.find(_SDT_CONTENT) if child.tag == _SDT else child
            if inner is not None:
                yield from _children(inner, tag)


def _paragraph_text(p, problems: list[str]) -> str:
    """The visible text of a paragraph: its runs concatenated, tabs and line breaks kept.

    Symbols that cannot be read are described in ``problems``.
    """
    parts: list[str] = []
    for element in p.iter(*_TEXT_TAGS):
        if _skipped(element, p):
            continue
        if element.tag == _SYM:
            parts.append(_symbol(element, problems))
            continue
        fixed = _TEXT_TAGS[element.tag]
        parts.append((element.text or "") if fixed is None else fixed)
    return "".join(parts)


def _symbol(sym, problems: list[str]) -> str:
    font, char = sym.get(_W + "font", ""), sym.get(_W + "char", "")
    try:
        code = int(char, 16)
    except ValueError:
        code = -1
    if "symbol" in font.lower() and (code >> 8) in (0x00, 0xF0) and (code & 0xFF) in _SYMBOL_FONT:
        return _SYMBOL_FONT[code & 0xFF]
    if 0x20 <= code < 0xE000 or 0xF900 <= code <= 0x10FFFF:
        # A real Unicode character that Word chose to write as a symbol.
        return chr(code)
    problems.append(f"含有无法识别的插入符号（字体“{font}”，代码 {char}）")
    return "\ufffd"


def _skipped(element, stop) -> bool:
    run = None
    node = element.getparent()
    while node is not None and node is not stop:
        if node.tag in _SKIPPED_ANCESTORS:
            return True
        if node.tag == _W + "r" and run is None:
            run = node
        node = node.getparent()
    # Hidden text (w:vanish) is not printed and not seen by whoever reviews the filing.
    if run is not None:
        vanish = run.find(f"{_W}rPr/{_W}vanish")
        if vanish is not None and vanish.get(_VAL, "true") not in ("0", "false", "off"):
            return True
    return False


def _int_val(parent, path: str, default: int) -> int:
    element = parent.find(path) if parent is not None else None
    if element is None:
        return default
    try:
        return max(int(element.get(_VAL, default)), 0)
    except ValueError:
        return default


def _cell_text(tc, problems: list[str]) -> str:
    lines: list[str] = []
    for block in _blocks(tc):
        if block.tag == _P:
            lines.append(_paragraph_text(block, problems))
        else:
            lines.extend(_flatten(block, problems))
    return "\n".join(lines)


def _flatten(tbl, problems: list[str]) -> list[str]:
    """A nested table as lines: one per row, its cells' texts separated by a space."""
    lines = []
    for tr in _children(tbl, _TR):
        cells = list(_row_cells(tr))
        problems.extend(problem for _, _, problem in cells if problem)
        texts = [text for _, text, _ in cells if text is not None and text.strip()]
        if texts:
            lines.append(" ".join(texts))
    return lines


def _row_cells(tr) -> Iterator[tuple[int, str | None, str]]:
    """``(grid column, text, problem)`` of each cell Word shows in the row, 1-based columns.

    ``text`` is None for the lower part of a vertical merge. Legacy horizontal merges
    (``w:hMerge="continue"``) are skipped: their text belongs to the cell on their left.
    """
    column = 1 + _int_val(tr.find(_W + "trPr"), _W + "gridBefore", 0)
    for tc in _children(tr, _TC):
        props = tc.find(_W + "tcPr")
        start = column
        column += max(_int_val(props, _W + "gridSpan", 1), 1)
        if props is not None:
            hmerge = props.find(_W + "hMerge")
            if hmerge is not None and hmerge.get(_VAL, "continue") != "restart":
                continue
            vmerge = props.find(_W + "vMerge")
            if vmerge is not None and vmerge.get(_VAL, "continue") != "restart":
                yield start, None, ""
                continue
        problems: list[str] = []
        text = _cell_text(tc, problems)
        yield start, text, "；".join(dict.fromkeys(problems))


class _Walker:
    def __init__(self, path: str) -> None:
        self.path = path
        self.rows: list[Row] = []
        self.tables = 0
        # Body paragraphs since the previous table, empty ones included (Word shows them as
        # empty lines): "表2之后第3段" is something a reviewer can find on the page.
        self.paragraphs = 0
        self.texts = 0  # body paragraphs with text
        self.since_table: list[str] = []  # texts of paragraphs after the previous table

    def walk(self, body) -> tuple[list[Row], int, int]:
        for block in _blocks(body):
            if block.tag == _P:
                self.paragraph(block)
            else:
                self.table(block)
        return self.rows, self.tables, self.texts

    def paragraph(self, p) -> None:
        self.paragraphs += 1
        problems: list[str] = []
        text = _paragraph_text(p, problems)
        if not text.strip():
            return
        self.texts += 1
        self.since_table.append(text)
        where = f"表{self.tables}之后" if self.tables else "文档开头"
        source = Source(self.path, locator=f"{where}第{self.paragraphs}段")
        self.rows.append(Row([Cell(text, source, problem="；".join(dict.fromkeys(problems)))]))

    def table(self, tbl) -> None:
        self.tables += 1
        self.paragraphs = 0
        raw = [list(_row_cells(tr)) for tr in _children(tbl, _TR)]
        caption = _caption(self.since_table, raw)
        self.since_table = []
        prefix = f"{caption} 表{self.tables}" if caption else f"表{self.tables}"
        for number, cells in enumerate(raw, start=1):
            row = []
            for column, text, problem in cells:
                source = Source(self.path, locator=f"{prefix} 第{number}行 第{column}列")
                if text is None:
                    row.append(Cell("", source, continuation=True))
                else:
                    row.append(Cell(text, source, problem=problem))
            if row:
                self.rows.append(Row(row))


def _caption(paragraphs: list[str], rows: list[list[tuple[int, str | None, str]]]) -> str:
    """What a reviewer calls the table: its 附件 label, else the paragraph just above it.

    A 附件 label among the paragraphs since the previous table wins over a title closer to the
    table; forms that put the label in the table's first row get that label; only then is the
    nearest paragraph used. Paragraphs above the previous table describe that table, not this one.
    """
    labels = [text for text in paragraphs if _LABEL.match(text.strip())]
    if labels:
        return _short(labels[-1])
    for cells in rows[:1]:
        texts = [text.strip() for _, text, _ in cells if text and text.strip()]
        if len(texts) == 1 and _LABEL.match(texts[0]):
            return _short(texts[0])
    return _short(paragraphs[-1]) if paragraphs else ""


def _short(text: str) -> str:
    text = " ".join(text.split())
    if _LABEL.match(text):
        text = re.sub(r"\s+", "", text)
    return text if len(text) <= _CAPTION_CHARS else text[:_CAPTION_CHARS] + "…"
