"""Reader for PDF filings: the ruled tables of each page as rows of cells, the rest through the
text layouts.

pdfplumber is used rather than pypdf: pypdf gives a page's text only, so a table comes out as
lines of words and its columns are lost, whereas pdfplumber finds a table's cells from its
ruling lines (which every printed 绩效目标表 has) and tells which positions a merged cell
covers. It is pure Python over pdfminer.six (plus pypdfium2 wheels, used only for rendering,
which hegui does not do).

* every table pdfplumber finds is a run of :class:`Row`; a position covered by a merged cell is
  a blank ``continuation`` cell, as in the .xlsx reader; locators are ``第p页 第r行 第c列``
  (``第p页 表t 第r行 第c列`` for the second and later tables of a page);
* the page's text outside its tables (title, ``单位：万元``, notes, a table without rules) is read
  by :mod:`hegui.facts.layouts`; its cells' locators are ``第p页 文字第n行`` (n counts the lines of
  that text on the page);
* a PDF without any text (a scan) is refused with a message saying so.
"""

from __future__ import annotations

import io
import os

from hegui.facts.errors import InputError
from hegui.facts.files import read_bytes
from hegui.facts.layouts import parse_text
from hegui.facts.model import Cell, Grid, Row, Source
from hegui.facts.ooxml import MAX_FILE_BYTES

#: Pages read at most: a 绩效目标表 is a few pages; a 500-page report is not a filing.
MAX_PAGES = 200


def read_pdf(path: str | os.PathLike, data: bytes | None = None) -> Grid:
    """Read a PDF's tables and text into a :class:`Grid` (see the module docstring)."""
    import pdfplumber

    name = os.fsdecode(path)
    data = read_bytes(name, MAX_FILE_BYTES) if data is None else bytes(data)
    if len(data) > MAX_FILE_BYTES:
        raise InputError(name, f"文件太大：超过 {MAX_FILE_BYTES // 1048576} MB。一份绩效目标表不会这么大。")
    if not data.startswith(b"%PDF"):
        raise InputError(name, "扩展名是 .pdf，但文件内容不是 PDF。请确认提交的文件是否正确。")
    rows: list[Row] = []
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            if len(pdf.pages) > MAX_PAGES:
                raise InputError(name, f"PDF 共 {len(pdf.pages)} 页，超过上限 {MAX_PAGES} 页，不像是一份绩效目标表。")
            for number, page in enumerate(pdf.pages, start=1):
                rows.extend(_page_rows(name, number, page))
                page.close()
    except InputError:
        raise
    except Exception as exc:  # pdfminer raises PDFSyntaxError, PSEOF, PDFPasswordIncorrect …
        kind = type(exc).__name__
        if "Password" in kind or "Encrypt" in kind:
            raise InputError(name, "PDF 已加密，无法读取。请提交未加密的 PDF，或提交 Word/Excel 原件。") from None
        raise InputError(
            name, f"PDF 文件已损坏，无法读取（{kind}: {str(exc)[:200]}）。请重新导出 PDF，或提交 Word/Excel 原件。"
        ) from None
    if not any(not cell.is_blank for row in rows for cell in row.cells):
        raise InputError(
            name,
            "PDF 中没有可提取的文字，可能是扫描件或图片。请提交 Word/Excel 原件，或由 Word/WPS 直接导出的 PDF。",
        )
    return Grid(path=name, rows=rows)


def _page_rows(name: str, number: int, page) -> list[Row]:
    tables = sorted(page.find_tables(), key=lambda t: (t.bbox[1], t.bbox[0]))
    parts: list[tuple[float, list[Row]]] = []
    for t_index, table in enumerate(tables, start=1):
        prefix = f"第{number}页" if t_index == 1 else f"第{number}页 表{t_index}"
        rows = []
        for r, values in enumerate(table.extract(), start=1):
            cells = []
            for c, value in enumerate(values, start=1):
                source = Source(name, locator=f"{prefix} 第{r}行 第{c}列")
                if value is None:
                    cells.append(Cell("", source, continuation=True))
                else:
                    cells.append(Cell(value.strip(), source))
            if any(not cell.is_blank for cell in cells):
                rows.append(Row(cells))
        parts.append((table.bbox[1], rows))
    # Text outside the tables, in reading order, placed by its vertical position.
    boxes = [t.bbox for t in tables]

    def outside(obj) -> bool:
        x = (obj.get("x0", 0) + obj.get("x1", 0)) / 2
        y = (obj.get("top", 0) + obj.get("bottom", 0)) / 2
        return not any(x0 <= x <= x1 and top <= y <= bottom for x0, top, x1, bottom in boxes)

    rest = page.filter(outside) if boxes else page
    lines = rest.extract_text_lines() if hasattr(rest, "extract_text_lines") else []
    # Runs of text lines between two tables go through the layouts together, so that a label
    # wrapped over two lines is joined; each cell gets its page line back.
    runs: list[list[tuple[int, dict]]] = []
    edges = sorted(t.bbox[1] for t in tables)
    for line_no, line in enumerate(lines, start=1):
        if not str(line.get("text", "")).strip():
            continue
        zone = sum(1 for edge in edges if edge <= float(line.get("top", 0)))
        if runs and runs[-1][0][1]["zone"] == zone:
            runs[-1].append((line_no, {**line, "zone": zone}))
        else:
            runs.append([(line_no, {**line, "zone": zone})])
    for run in runs:
        text = "\n".join(str(line["text"]).strip() for _, line in run)
        for row in parse_text(name, text, tab_dump=False):
            cells = []
            for cell in row.cells:
                first = run[min(cell.source.line, len(run)) - 1][0]
                last = run[min(cell.source.end_line or cell.source.line, len(run)) - 1][0]
                where = f"第{number}页 文字第{first}行" + (f"至第{last}行" if last != first else "")
                cells.append(Cell(cell.text, Source(name, locator=where), cell.continuation))
            top = float(run[min(row.cells[0].source.line, len(run)) - 1][1].get("top", 0)) if row.cells else 0.0
            parts.append((top, [Row(cells, row.layout)]))
    parts.sort(key=lambda part: part[0])
    return [row for _, rows in parts for row in rows]
