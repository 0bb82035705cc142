"""Read a filing from a file, whatever reader its format needs."""

from __future__ import annotations

import os
from pathlib import Path

from hegui.facts.errors import InputError
from hegui.facts.model import Filing, Grid
from hegui.facts.tables import build_filing
from hegui.facts.textdump import read_text_dump

_LEGACY = {
    ".xls": "这是旧版 Excel 97-2003 工作簿（.xls），不支持。请用 Excel 或 WPS 打开后“另存为” .xlsx 格式（Excel 工作簿），再提交。",
    ".doc": "这是旧版 Word 97-2003 文档（.doc），不支持。请用 Word 或 WPS 打开后“另存为” .docx 格式，再提交。",
    ".et": "这是 WPS 表格专用格式（.et），不支持。请“另存为” .xlsx 格式再提交。",
    ".wps": "这是 WPS 文字专用格式（.wps），不支持。请“另存为” .docx 格式再提交。",
}


def read_grid(path: str | os.PathLike) -> Grid:
    """The cells of ``path``, by its extension: .xlsx, .docx, else a text dump."""
    suffix = Path(path).suffix.lower()
    if suffix in _LEGACY:
        raise InputError(str(path), _LEGACY[suffix])
    if suffix in (".xlsx", ".xlsm"):
        from hegui.facts.xlsx import read_xlsx

        return read_xlsx(path)
    if suffix == ".docx":
        from hegui.facts.docx import read_docx

        return read_docx(path)
    return read_text_dump(path)


def read_filing(path: str | os.PathLike) -> Filing:
    """Read ``path`` into a :class:`Filing`; raises :class:`~hegui.facts.errors.InputError`."""
    return build_filing(read_grid(path))
