"""Read a filing from a file, whatever reader its format needs."""

from __future__ import annotations

import os
from pathlib import Path

from hegui.facts.docx import read_docx
from hegui.facts.errors import InputError
from hegui.facts.model import Filing, Grid
from hegui.facts.tables import build_filing
from hegui.facts.textdump import read_text_dump
from hegui.facts.xlsx import read_xlsx

_LEGACY = {
    ".xls": "这是旧版 Excel 97-2003 工作簿（.xls），不支持。请用 Excel 或 WPS 打开后“另存为” .xlsx 格式（Excel 工作簿），再提交。",
    ".doc": "这是旧版 Word 97-2003 文档（.doc），不支持。请用 Word 或 WPS 打开后“另存为” .docx 格式，再提交。",
    ".et": "这是 WPS 表格专用格式（.et），不支持。请“另存为” .xlsx 格式再提交。",
    ".wps": "这是 WPS 文字专用格式（.wps），不支持。请“另存为” .docx 格式再提交。",
}


def read_grid(path: str | os.PathLike, registry=None) -> Grid:
    """The cells of ``path``, by its extension: a plugin's reader, .xlsx, .docx, else a text dump.

    A plugin reader that raises anything but :class:`InputError` is reported as this file's
    error, naming the plugin; other files are not affected.
    """
    suffix = Path(path).suffix.lower()
    if registry is not None and suffix in registry.readers:
        read, plugin = registry.readers[suffix]
        try:
            return read(path)
        except InputError:
            raise
        except Exception as exc:  # third-party code: contain it to this filing
            raise InputError(str(path), f"插件“{plugin}”读取文件时出错：{type(exc).__name__}: {exc}") from exc
    if suffix in _LEGACY:
        raise InputError(str(path), _LEGACY[suffix])
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx(path)
    if suffix == ".docx":
        return read_docx(path)
    return read_text_dump(path)


def read_filing(path: str | os.PathLike, registry=None) -> Filing:
    """Read ``path`` into a :class:`Filing`; raises :class:`~hegui.facts.errors.InputError`."""
    return build_filing(read_grid(path, registry))
