"""Reader for the text dump of a Word filing: one cell per tab-prefixed line, rows split by blank lines.

The format (see ``examples/shifeng-zzb-2023.txt``):

* a line starting with a TAB is a cell; its text is everything after that first tab, spacing kept;
* a blank line ends the row;
* an untabbed, non-blank line continues the previous cell, joined with ``"\\n"``;
* blank lines followed by an untabbed, non-blank line are a paragraph break inside the previous
  cell, not the end of the row (Word cells with several paragraphs dump this way);
* untabbed text before the first cell starts a cell of its own.

Every cell keeps the 1-based line range it was read from. Anything that cannot be read raises
:class:`~hegui.facts.errors.InputError` with a Chinese message for the person who filed it.
"""

from __future__ import annotations

import codecs
import os

from hegui.facts.errors import InputError
from hegui.facts.files import file_size, read_bytes
from hegui.facts.limits import check_text
from hegui.facts.model import Cell, Grid, Row, Source

DEFAULT_MAX_BYTES = 20 * 1024 * 1024

_OFFICE_HINT = "本程序此处只读取表格的文本导出（.txt，每个单元格一行、以 Tab 开头），请先将表格另存为文本后再提交。"

# Files people attach instead of the text dump. Zip and OLE2 get a specific hint because they
# are nearly always the .xlsx/.docx or .xls/.doc original of the very same filing.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "看起来是 Excel/Word 文件（.xlsx/.docx，ZIP 压缩格式），不是文本文件。" + _OFFICE_HINT),
    (b"PK\x05\x06", "看起来是 Excel/Word 文件（.xlsx/.docx，ZIP 压缩格式），不是文本文件。" + _OFFICE_HINT),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "看起来是旧版 Excel/Word 文件（.xls/.doc，OLE2 复合文档格式），不是文本文件。" + _OFFICE_HINT,
    ),
    (b"%PDF", "看起来是 PDF 文件，不是文本文件。" + _OFFICE_HINT),
    (b"{\\rtf", "看起来是 RTF 富文本文件，不是纯文本导出。" + _OFFICE_HINT),
)

# Bytes that never occur in a text dump. TAB, LF, CR, VT and FF are excluded: Word emits VT for
# manual line breaks and FF for page breaks when saving as text.
_CONTROL_BYTES = bytes([*range(0x09), *range(0x0E, 0x20), 0x7F])
_CONTROL_SHARE_LIMIT = 0.05


def read_text_dump(path: str | os.PathLike, data: bytes | None = None, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Grid:
    """Read a text dump into a :class:`Grid` of rows and cells with line provenance.

    ``data``, when given, is the file's content already read; ``path`` is then only used for
    provenance and error messages. Raises :class:`InputError` (and nothing else) for a file
    that is missing, too large, empty, binary, in an unknown encoding or not in this format.
    """
    name = os.fsdecode(path)
    from_disk = data is None
    data = read_bytes(name, max_bytes) if data is None else bytes(data)
    if len(data) > max_bytes:
        raise _too_large(name, max(file_size(name, len(data)) if from_disk else 0, len(data)), max_bytes)
    text, encoding = decode_text(name, data)
    return Grid(path=name, rows=_parse(name, text), encoding=encoding)


def decode_text(path: str, data: bytes) -> tuple[str, str]:
    """Decode ``data`` as UTF-8 (with or without BOM) or GB18030 and normalise line ends to LF.

    Returns ``(text, encoding)`` where encoding is ``"utf-8"``, ``"utf-8-sig"`` or
    ``"gb18030"`` (GBK files report ``"gb18030"``, its superset). Raises :class:`InputError`
    for empty, whitespace-only, binary or undecodable data.
    """
    if not data:
        raise InputError(path, "文件为空，没有任何内容。")
    _reject_binary(path, data)

    if data.startswith(codecs.BOM_UTF8):
        # A UTF-8 BOM is a deliberate declaration; falling back to GB18030 would only turn the
        # bad bytes into wrong characters, so report them instead.
        bom = len(codecs.BOM_UTF8)
        try:
            text, encoding = data[bom:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise InputError(
                path,
                "文件以 UTF-8 标记（BOM）开头，但其中有不是 UTF-8 的字节，无法解码。"
                "已尝试的编码：UTF-8（带 BOM）。请用 UTF-8 重新另存后提交。",
                _line_of(data, bom + exc.start),
            ) from None
    else:
        try:
            text, encoding = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError as utf8_error:
            try:
                text, encoding = data.decode("gb18030"), "gb18030"
            except UnicodeDecodeError:
                raise InputError(
                    path,
                    "无法识别文件编码：既不是 UTF-8，也不是 GB18030/GBK。"
                    "已尝试的编码：UTF-8、GB18030（含 GBK）。请用 UTF-8 重新另存后提交。",
                    _line_of(data, utf8_error.start),
                ) from None
            # GB18030 has a BOM of its own; it is not text either.
            text = text.removeprefix("\ufeff")

    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise InputError(path, "文件为空，只有空格、制表符或空行，没有任何内容。")
    check_text(path, text)
    return text, encoding


def _too_large(name: str, size: int, limit: int) -> InputError:
    return InputError(
        name,
        f"文件太大：{size} 字节（约 {size / 1048576:.1f} MB），超过上限 {limit} 字节"
        f"（约 {limit / 1048576:.1f} MB）。一份绩效目标表的文本导出不会这么大，请确认提交的文件是否正确。",
    )


def _reject_binary(path: str, data: bytes) -> None:
    for magic, message in _MAGIC:
        if data.startswith(magic):
            raise InputError(path, message)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Checked before NUL: UTF-16 text is full of NUL bytes but calling it binary would
        # send the filer looking for the wrong problem.
        raise InputError(
            path, "文件是 UTF-16（Unicode）编码，本程序只接受 UTF-8 或 GBK/GB18030。请用 UTF-8 重新另存后提交。"
        )
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InputError(path, "文件含有二进制数据（NUL 字节），不是文本文件。" + _OFFICE_HINT, _line_of(data, nul))
    controls = len(data) - len(data.translate(None, _CONTROL_BYTES))
    if controls > len(data) * _CONTROL_SHARE_LIMIT:
        raise InputError(
            path,
            f"文件中有大量控制字符（{controls} 个，占 {controls / len(data):.0%}），看起来是二进制文件，不是文本文件。"
            + _OFFICE_HINT,
        )


_LF = b"\n"


def _line_of(data: bytes, offset: int) -> str:
    # Counted on normalised line ends so the number matches what an editor shows for CR files.
    head = data[:offset].replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return f"第{head.count(_LF) + 1}行"


class _OpenCell:
    __slots__ = ("end", "lines", "start")

    def __init__(self, first: str, line: int) -> None:
        self.lines = [first]
        self.start = line
        self.end = line


def _parse(name: str, text: str) -> list[Row]:
    # split("\n"), not splitlines(): splitlines also breaks at VT, FF and U+2028, which Word
    # leaves inside cells.
    lines = text.split("\n")
    if not any(line.startswith("\t") for line in lines):
        raise InputError(
            name,
            "不是表格文本导出格式：没有一行以制表符（Tab）开头。该格式要求每个单元格占一行、"
            "行首是一个 Tab，表格的每一行之间用空行分隔。这份文件可能是把表格内容当作普通文字粘贴的，"
            "请从 Word 表格另存为文本后重新提交。",
        )

    rows: list[list[_OpenCell]] = [[]]
    current: _OpenCell | None = None
    # Blank lines are held back: only the next non-blank line tells whether they ended the row
    # (a tabbed line follows) or were a paragraph break inside the current cell (untabbed text).
    pending: list[str] = []
    for number, line in enumerate(lines, start=1):
        if line.startswith("\t"):
            if pending and rows[-1]:
                rows.append([])
            pending = []
            current = _OpenCell(line[1:], number)
            rows[-1].append(current)
        elif not line.strip():
            pending.append(line)
        elif current is None:
            pending = []
            current = _OpenCell(line, number)
            rows[-1].append(current)
        else:
            current.lines.extend(pending)
            current.lines.append(line)
            current.end = number
            pending = []

    return [Row([Cell("\n".join(c.lines), Source(name, c.start, c.end)) for c in row]) for row in rows if row]
