"""Hostile inputs of issue 13, generated at test time (nothing large is kept in the repository).

Each writer takes a folder and returns the path it wrote. The sizes are those the issue measured
(19 MB of one-character rows, a 16 MB XML attribute, …) unless a smaller file already crosses the
limit it exercises, so the tests stay fast while still proving the file is refused early.
"""

from __future__ import annotations

import io
import os
import random
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "shifeng-zzb-2023.txt"


def example_text() -> str:
    return EXAMPLE.read_text(encoding="utf-8")


def one_char_rows(folder: Path, megabytes: int = 19) -> Path:
    """``megabytes`` MB of rows of one character each (the issue's 70 s / 3.8 GB case)."""
    path = folder / "one-char-rows.txt"
    path.write_bytes(b"a\n" * (megabytes * 1024 * 1024 // 2))
    return path


def huge_amounts(folder: Path, exponent: int = 28) -> Path:
    """The example with its total and a count at 10**exponent (Decimal's 28 digits overflowed)."""
    text = example_text().replace("939.28", "1" + "0" * exponent).replace("76名", "1" + "0" * exponent + "名")
    path = folder / f"amount-1e{exponent}.txt"
    path.write_text(text, encoding="utf-8")
    return path


def long_label_number(folder: Path, digits: int = 5000) -> Path:
    """The example with 附件3-1 numbered with ``digits`` digits (Python's 4,300-digit int limit)."""
    text = example_text().replace("附件3-1", "附件3-" + "9" * digits, 1)
    path = folder / f"label-{digits}-digits.txt"
    path.write_text(text, encoding="utf-8")
    return path


_CT = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>{overrides}</Types>'
)


def xfd_on_every_sheet(folder: Path, sheets: int = 12) -> Path:
    """A small workbook with a table on each sheet and one cell at XFD1048576 on each of them."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for index in range(sheets):
        ws = wb.create_sheet(f"附件3-{index + 1}")
        ws["A1"] = "专项资金支出方向绩效目标表"
        ws["A2"] = "资金总额"
        ws["B2"] = 10
        ws["XFD1048576"] = "x"
        ws["XFD1"] = "y"
    path = folder / "xfd.xlsx"
    wb.save(path)
    return path


def _zip(path: Path, members: dict[str, bytes], *, stored: bool = False) -> Path:
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(path, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _random_text(size: int, seed: int = 13) -> bytes:
    """Letters that do not compress well, so that the zip's ratio check does not refuse them first."""
    alphabet = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    table = bytes(alphabet[i % len(alphabet)] for i in range(256))
    return random.Random(seed).randbytes(size).translate(table)


def _docx_members(body: bytes) -> dict[str, bytes]:
    overrides = (
        '<Override PartName="/word/document.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    )
    return {
        "[Content_Types].xml": _CT.format(overrides=overrides).encode(),
        "_rels/.rels": (
            b'<?xml version="1.0" encoding="UTF-8"?>'
            b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            b'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
        ),
        "word/document.xml": (
            b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
            + body
            + b"</w:body></w:document>"
        ),
    }


def huge_attribute_docx(folder: Path, megabytes: int = 16) -> Path:
    """A .docx whose one paragraph carries a ``megabytes`` MB attribute (the 87 s case)."""
    body = b'<w:p w:rsidR="' + _random_text(megabytes * 1024 * 1024) + b'"><w:r><w:t>x</w:t></w:r></w:p>'
    return _zip(folder / "attribute.docx", _docx_members(body))


def huge_attribute_xlsx(folder: Path, megabytes: int = 16) -> Path:
    """An .xlsx (written by openpyxl) whose sheet XML gets a ``megabytes`` MB attribute on a cell."""
    from openpyxl import Workbook

    buffer = io.BytesIO()
    wb = Workbook()
    wb.active["A1"] = "资金总额"
    wb.save(buffer)
    members = {}
    with zipfile.ZipFile(buffer) as source:
        for info in source.infolist():
            members[info.filename] = source.read(info.filename)
    sheet = members["xl/worksheets/sheet1.xml"]
    members["xl/worksheets/sheet1.xml"] = sheet.replace(
        b'<c r="A1"', b'<c x="' + _random_text(megabytes * 1024 * 1024) + b'" r="A1"', 1
    )
    return _zip(folder / "attribute.xlsx", members)


def many_elements_docx(folder: Path, elements: int = 3_000_000) -> Path:
    """A .docx of ``elements`` small paragraphs with varied ids (compresses too little for the
    ratio check): the issue's 95 MB of elements, cut to what crosses the element budget."""
    ids = random.Random(7).randbytes(4 * elements).hex().encode()
    parts = [b'<w:p w:rsidR="' + ids[i : i + 8] + b'"/>' for i in range(0, 8 * elements, 8)]
    return _zip(folder / "elements.docx", _docx_members(b"".join(parts)))


def control_char_yaml(folder: Path, char: str = "\x07") -> Path:
    """A rule file with ``char`` (BEL, U+0090) inside a message."""
    path = folder / "rules-ctrl.yaml"
    path.write_text(
        "rules:\n  - id: X-001\n    message: 金额" + char + "超标\n    severity: error\n",
        encoding="utf-8",
    )
    return path


@dataclass
class Run:
    """A finished ``hegui`` subprocess: exit code, output, wall time and its peak RSS."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_rss_mb: float


def run_hegui(*args: str, timeout: float = 60, cwd: Path | None = None) -> Run:
    """Run ``python -m hegui`` in a fresh process (killed after ``timeout`` s: exit code -999); the peak RSS is measured for this child alone
    (it runs under a helper process, so RUSAGE_CHILDREN of the test process does not mix in
    earlier children)."""
    probe = (
        "import resource, subprocess, sys, time\n"
        "t = time.monotonic()\n"
        "try:\n"
        "    p = subprocess.run([sys.executable, '-m', 'hegui', *sys.argv[2:]], capture_output=True,"
        " timeout=float(sys.argv[1]))\n"
        "    code, out, err = p.returncode, p.stdout, p.stderr\n"
        "except subprocess.TimeoutExpired as exc:\n"
        "    code, out, err = -999, exc.stdout or b'', exc.stderr or b''\n"
        "t = time.monotonic() - t\n"
        "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "sys.stderr.buffer.write(err)\n"
        "sys.stdout.buffer.write(out)\n"
        "sys.stderr.write(f'\\n@@probe {code} {t:.3f} {rss}\\n')\n"
    )
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", probe, str(timeout), *args], capture_output=True, text=True, cwd=cwd, env=env
    )
    stderr, _, tail = done.stderr.rpartition("\n@@probe ")
    code, seconds, rss = tail.split()
    return Run(int(code), done.stdout, stderr, float(seconds), int(rss) / 1024)
