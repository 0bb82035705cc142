"""Safety checks for Office Open XML files (.xlsx, .docx) before any parser sees them.

A .xlsx or .docx is a zip of XML parts. openpyxl and python-docx trust it; a hostile or
broken file must instead become an :class:`InputError` that names the file. Everything here
reads only the zip directory (declared sizes), never inflates a member, so a 1 MB file that
would expand to gigabytes is refused before it costs anything.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from xml.parsers import expat

from hegui.facts.errors import InputError
from hegui.facts.limits import check_xml_budget

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_MEMBERS = 2000
MAX_MEMBER_BYTES = 100 * 1024 * 1024  # one XML part, uncompressed
MAX_TOTAL_BYTES = 300 * 1024 * 1024  # all parts, uncompressed
MAX_RATIO = 200  # uncompressed / compressed for any part larger than 1 MB

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"

_CONVERT_XLS = "请用 Excel 或 WPS 打开后“另存为” .xlsx 格式（Excel 工作簿），再提交。"
_CONVERT_DOC = "请用 Word 或 WPS 打开后“另存为” .docx 格式，再提交。"


def _legacy_or_encrypted(path: str, data: bytes, kind: str) -> InputError:
    """An OLE2 compound file is either a legacy .xls/.doc or an encrypted OOXML file."""
    if (
        b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00e\x00d\x00P\x00a\x00c\x00k\x00a\x00g\x00e" in data[:1_000_000]
        or b"EncryptedPackage" in data[:1_000_000]
    ):
        return InputError(path, "文件已加密（设置了打开密码），无法读取。请取消密码后重新保存再提交。")
    if kind == "xlsx":
        return InputError(path, "这是旧版 Excel 97-2003 工作簿（.xls），不支持。" + _CONVERT_XLS)
    return InputError(path, "这是旧版 Word 97-2003 文档（.doc），不支持。" + _CONVERT_DOC)


def open_checked_zip(path: str, data: bytes, kind: str) -> zipfile.ZipFile:
    """A zip of ``data`` whose directory has been checked; raises :class:`InputError`.

    ``kind`` is ``"xlsx"`` or ``"docx"`` and decides which main part must exist and which
    advice a legacy file gets.
    """
    if len(data) > MAX_FILE_BYTES:
        raise InputError(path, f"文件过大（{len(data)} 字节，上限 {MAX_FILE_BYTES} 字节）")
    if not data:
        raise InputError(path, "文件为空")
    if data.startswith(OLE2_MAGIC):
        raise _legacy_or_encrypted(path, data, kind)
    if not data.startswith(ZIP_MAGIC):
        expected = "Excel 工作簿（.xlsx）" if kind == "xlsx" else "Word 文档（.docx）"
        raise InputError(
            path, f"不是有效的{expected}：文件内容不是 Office Open XML（zip）格式，可能是改了扩展名的其他文件"
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError) as exc:
        raise InputError(path, f"文件已损坏或不完整（可能在传输中被截断）：{_zip_reason(exc)}") from None
    if len(members) > MAX_MEMBERS:
        raise InputError(path, f"文件结构异常：包含{len(members)}个部件（上限{MAX_MEMBERS}），拒绝读取")
    total = 0
    for member in members:
        if member.flag_bits & 0x1:
            raise InputError(path, "文件已加密，无法读取。请取消密码后重新保存再提交。")
        size, packed = member.file_size, member.compress_size
        total += size
        if size > MAX_MEMBER_BYTES or total > MAX_TOTAL_BYTES:
            raise InputError(
                path,
                f"文件解压后过大（部件“{member.filename}”声明 {size} 字节，全部部件至少 {total} 字节），疑似压缩炸弹，拒绝读取",
            )
        if size > 1_000_000 and size > MAX_RATIO * max(packed, 1):
            raise InputError(
                path,
                f"文件压缩比异常（部件“{member.filename}”由 {packed} 字节解压为 {size} 字节），疑似压缩炸弹，拒绝读取",
            )
    names = {m.filename for m in members}
    main = "xl/workbook.xml" if kind == "xlsx" else "word/document.xml"
    if main not in names:
        other = "word/document.xml" if kind == "xlsx" else "xl/workbook.xml"
        if other in names:
            found = "Word 文档" if kind == "xlsx" else "Excel 工作簿"
            raise InputError(path, f"扩展名与内容不符：这其实是{found}，请改正扩展名")
        raise InputError(path, f"不是有效的{'Excel 工作簿' if kind == 'xlsx' else 'Word 文档'}：缺少 {main}")
    return archive


def _zip_reason(exc: Exception) -> str:
    text = str(exc)
    if "File is not a zip file" in text:
        return "找不到 zip 目录"
    if "Truncated" in text or "truncated" in text:
        return "文件被截断"
    return text or type(exc).__name__


class _PrologDone(Exception):
    """Raised when the root element starts: a DTD can only come before it."""


def check_xml_part(path: str, archive: zipfile.ZipFile, name: str) -> None:
    """Refuse XML parts that declare a DTD or entities: entity expansion ("billion laughs") needs one.

    The prolog is parsed with expat up to the root element's start tag, however long the
    comments before it are; the rest of the part is never read here.
    """

    def refuse(*_args) -> None:
        raise InputError(path, f"文件包含不允许的 XML 实体或文档类型声明（部件“{name}”），疑似实体炸弹，拒绝读取")

    def done(*_args) -> None:
        raise _PrologDone

    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.StartElementHandler = done
    try:
        with archive.open(name) as handle:
            while True:
                chunk = handle.read(65536)
                parser.Parse(chunk, not chunk)
                if not chunk:
                    return
    except _PrologDone:
        return
    except expat.ExpatError as exc:
        raise InputError(
            path, f"文件已损坏：部件“{name}”不是有效的 XML（{expat.errors.messages.get(exc.code, exc)}）"
        ) from None
    except (
        KeyError,
        zipfile.BadZipFile,
        EOFError,
        OSError,
        ValueError,
        zlib.error,
        NotImplementedError,
        RuntimeError,
        LookupError,
    ) as exc:
        # zlib.error: a damaged member; NotImplementedError: an unknown compression method;
        # RuntimeError: zipfile's answer to a member that needs a password; LookupError: an
        # XML declaration naming an encoding that does not exist.
        raise InputError(path, f"文件已损坏：无法读取部件“{name}”（{_zip_reason(exc)}）") from None


def check_all_xml_parts(path: str, archive: zipfile.ZipFile) -> None:
    """:func:`check_xml_part` for every XML part of the package, after its token and tag
    budgets (:func:`hegui.facts.limits.check_xml_budget`): expat before 2.6 spends quadratic
    time on one huge token, so it must never see one."""
    for member in archive.infolist():
        if member.filename.endswith((".xml", ".rels")):
            try:
                check_xml_budget(path, archive, member.filename)
            except (
                zipfile.BadZipFile,
                EOFError,
                OSError,
                ValueError,
                zlib.error,
                NotImplementedError,
                RuntimeError,
            ) as exc:
                raise InputError(path, f"文件已损坏：无法读取部件“{member.filename}”（{_zip_reason(exc)}）") from None
            check_xml_part(path, archive, member.filename)
