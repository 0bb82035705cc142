"""Read a filing from a file, whatever reader its format needs.

Binary formats are told by their first bytes as well as by their suffix (a PDF saved as
``.txt`` is still a PDF); text is read by :mod:`hegui.facts.layouts`, which finds the layout of
each block from the content. Every grid then goes through :func:`hegui.facts.normalize.repair_grid`
(traditional characters, pinyin garbling), which keeps the written text of every cell it changes.
"""

from __future__ import annotations

import os
from pathlib import Path

from hegui.facts.csv_reader import read_csv
from hegui.facts.docx import read_docx
from hegui.facts.errors import InputError
from hegui.facts.html import read_html
from hegui.facts.layouts import read_text
from hegui.facts.limits import check_grid, check_magnitudes
from hegui.facts.model import Filing, Grid
from hegui.facts.normalize import repair_grid
from hegui.facts.tables import build_filing
from hegui.facts.xlsx import read_xlsx

#: Formats hegui does not read, with the advice it gives (a batch still picks such files up in
#: a folder, so that each is reported with this advice rather than silently skipped).
LEGACY_REFUSED = {
    ".doc": "这是旧版 Word 97-2003 文档（.doc），不支持。请用 Word 或 WPS 打开后“另存为” .docx 格式，再提交。",
    ".et": "这是 WPS 表格专用格式（.et），不支持。请“另存为” .xlsx 格式再提交。",
    ".wps": "这是 WPS 文字专用格式（.wps），不支持。请“另存为” .docx 格式再提交。",
}
#: Suffixes :func:`read_grid` reads (besides plugin readers); any other suffix is read as text.
#: A folder scan (a batch, ``hegui impact``) takes :data:`FOLDER_SUFFIXES`: the same without
#: the prose suffixes (.md, .text), which in an intake folder are notes, not filings.
READABLE_SUFFIXES = (
    ".txt",
    ".text",
    ".md",
    ".csv",
    ".htm",
    ".html",
    ".xhtml",
    ".xls",
    ".xlsx",
    ".xlsm",
    ".docx",
    ".pdf",
)
FOLDER_SUFFIXES = tuple(s for s in READABLE_SUFFIXES if s not in (".md", ".text"))

_PDF = b"%PDF"
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
_HTML_SUFFIXES = (".htm", ".html", ".xhtml")


def _head(path: str | os.PathLike) -> bytes:
    """The first bytes of the file; b"" when it cannot be opened (the reader then says why)."""
    try:
        with open(path, "rb") as handle:
            return handle.read(64)
    except (OSError, ValueError):
        return b""


def read_grid(path: str | os.PathLike, registry=None) -> Grid:
    """The cells of ``path``: a plugin's reader for its suffix, else the reader its content and
    suffix call for (.pdf, .xls, .xlsx/.xlsm, .docx, .html/.htm, .csv), else text in any layout.

    A plugin reader that raises anything but :class:`InputError` is reported as this file's
    error, naming the plugin; other files are not affected.
    """
    suffix = Path(path).suffix.lower()
    if registry is not None and suffix in registry.readers:
        read, plugin = registry.readers[suffix]
        try:
            grid = read(path)
        except InputError:
            raise
        except (Exception, SystemExit, KeyboardInterrupt) as exc:
            # Third-party code: contained to this filing, an exit included (sys.exit(0) in a
            # reader would otherwise end the run with 0 and no report).
            raise InputError(str(path), f"插件“{plugin}”读取文件时出错：{type(exc).__name__}: {exc}") from exc
        check_grid(grid)
        return grid
    if suffix in LEGACY_REFUSED:
        raise InputError(str(path), LEGACY_REFUSED[suffix])
    grid = _read(path, suffix)
    check_grid(grid)
    return repair_grid(grid)


def _read(path: str | os.PathLike, suffix: str) -> Grid:
    head = _head(path)
    if head.startswith(_PDF) or suffix == ".pdf":
        from hegui.facts.pdf import read_pdf

        return read_pdf(path)
    if suffix == ".xls" or (head.startswith(_OLE2) and suffix not in (".xlsx", ".xlsm", ".docx")):
        from hegui.facts.xls import read_xls

        return read_xls(path)
    if head.startswith(_ZIP) and suffix not in (".xlsx", ".xlsm", ".docx"):
        raise InputError(
            str(path),
            f"文件内容是 Excel/Word 文件（.xlsx/.docx，ZIP 压缩格式），但扩展名是“{suffix or '（无扩展名）'}”。"
            "请把扩展名改为 .xlsx 或 .docx 后再提交。",
        )
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx(path)
    if suffix == ".docx":
        return read_docx(path)
    if suffix in _HTML_SUFFIXES or head.lstrip(b"\xef\xbb\xbf \t\r\n").lower().startswith(
        (b"<!doctype html", b"<html")
    ):
        return read_html(path)
    if suffix == ".csv":
        return read_csv(path)
    return read_text(path)


def read_filing(path: str | os.PathLike, registry=None) -> Filing:
    """Read ``path`` into a :class:`Filing`; raises :class:`~hegui.facts.errors.InputError`,
    also for a file over a budget of :mod:`hegui.facts.limits` or stating an absurd amount."""
    filing = build_filing(read_grid(path, registry))
    check_magnitudes(filing)
    return filing
