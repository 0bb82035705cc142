"""Per-file budgets: how much work one input may cost before it is refused, all in one place.

Every reader is linear in what it is given only while what it is given looks like a filing: a
text of ten million one-character lines, a cell at column XFD that widens every row to 16,384
columns, or a 16 MB XML attribute (which expat before 2.6 buffers quadratically) costs minutes
and gigabytes. The budgets below are checked as early as the reader can know the figure, and an
input over one is refused with a Chinese :class:`~hegui.facts.errors.InputError` naming the file
and the limit.

How far a real filing is inside them: the bundled example (one department, every table kind,
seven tables) is 843 text lines, 1,900 cells and 18 KB; a large department with fifty 附件3
tables is about 8,000 lines and 40,000 cells; its .docx ``document.xml`` holds some 100,000 XML
tags, and no cell is longer than a few thousand characters. Each budget is at least 10× the
largest real figure. Amounts: a district department's budget is about 10^7 元 and China's whole
national budget about 3×10^13 元, so 10^16 元 leaves three orders of magnitude.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import signal
import threading
import zipfile
from collections.abc import Iterator
from decimal import Decimal

from hegui.facts.errors import InputError
from hegui.facts.model import Cell, Grid, IndicatorValue, Money
from hegui.facts.units import MONEY_SCALES

#: Lines of a text file (.txt, .csv, .html after decoding).
MAX_TEXT_LINES = 200_000
#: Rows of the grid a reader gives (every format, plugin readers too).
MAX_ROWS = 200_000
#: Cells of the grid, and non-empty cells a spreadsheet may hold (counted while streaming).
MAX_CELLS = 1_000_000
#: Characters in one cell.
MAX_CELL_CHARS = 200_000
#: Characters between two XML delimiters (``<`` / ``>``): an attribute value or a text node.
MAX_XML_TOKEN = 1024 * 1024
#: XML tags (``<`` characters) in one part of a .xlsx or .docx.
MAX_XML_TAGS = 3_000_000
#: Empty columns in a row of a sheet kept between two used columns: a longer gap (a cell far
#: out at XFD) is cut out of the grid, which keeps each cell's own locator.
MAX_EMPTY_COLUMNS = 20
#: Digits in one run (a number or a label number). No amount, count, date, phone or account
#: number is this long; Python refuses to turn more than 4,300 into an int.
MAX_DIGIT_RUN = 40
#: The largest amount (in 元) and the largest other number (count, rate, in the unit written)
#: a filing may state.
MAX_AMOUNT_YUAN = Decimal(10) ** 16
MAX_NUMBER = Decimal(10) ** 15


def check_text(name: str, text: str) -> None:
    """Refuse a decoded text with more lines than :data:`MAX_TEXT_LINES`."""
    lines = text.count("\n") + 1
    if lines > MAX_TEXT_LINES:
        raise InputError(name, f"文件有 {lines} 行，超过上限 {MAX_TEXT_LINES} 行，不像是一份绩效目标表，拒绝读取。")


_LONG_DIGITS = re.compile(rf"\d{{{MAX_DIGIT_RUN + 1},}}")


def check_grid(grid: Grid) -> None:
    """Refuse a grid over the row, cell, cell-size or digit budgets, naming the first cell over one."""
    if len(grid.rows) > MAX_ROWS:
        raise InputError(grid.path, f"表格共 {len(grid.rows)} 行，超过上限 {MAX_ROWS} 行，拒绝读取。")
    cells = 0
    for row in grid.rows:
        cells += len(row.cells)
        if cells > MAX_CELLS:
            raise InputError(grid.path, f"表格单元格超过上限 {MAX_CELLS} 个，拒绝读取。", row.source.place)
        for cell in row.cells:
            text = cell.text
            if len(text) > MAX_CELL_CHARS:
                raise InputError(
                    grid.path,
                    f"单元格有 {len(text)} 个字符，超过上限 {MAX_CELL_CHARS} 个，拒绝读取。",
                    cell.source.place,
                )
            if len(text) > MAX_DIGIT_RUN and _LONG_DIGITS.search(text):
                raise InputError(
                    grid.path,
                    f"单元格中有超过 {MAX_DIGIT_RUN} 位的数字，不是有效的金额、数量或编号。",
                    cell.source.place,
                )


def _valued(obj, seen: set[int]) -> Iterator[tuple[object, object]]:
    """(value, the object holding it) for every Money and IndicatorValue in a filing, whatever
    table kinds the model has: the walk follows dataclass fields and lists."""
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, (list, tuple)):
        for item in obj:
            yield from _valued(item, seen)
        return
    if not dataclasses.is_dataclass(obj) or isinstance(obj, type):
        return
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name, None)
        if isinstance(value, (Money, IndicatorValue)):
            yield value, obj
        elif isinstance(value, (list, tuple)) or dataclasses.is_dataclass(value):
            yield from _valued(value, seen)


def _place(holder) -> str:
    for attr in ("cell", "value"):
        cell = getattr(holder, attr, None)
        if isinstance(cell, Cell):
            return cell.source.place
    for f in dataclasses.fields(holder):
        cell = getattr(holder, f.name, None)
        if isinstance(cell, Cell):
            return cell.source.place
    return ""


def check_magnitudes(filing) -> None:
    """Refuse a filing stating an amount over :data:`MAX_AMOUNT_YUAN` or another number over
    :data:`MAX_NUMBER`, at the cell that states it."""
    for value, holder in _valued(filing, set()):
        if isinstance(value, Money):
            number, limit, what = value.yuan, MAX_AMOUNT_YUAN, "金额超过 10^16 元"
        else:
            number = value.number  # type: ignore[attr-defined]
            if number is None:
                continue
            unit = value.unit  # type: ignore[attr-defined]
            if unit in MONEY_SCALES:
                number, limit, what = number * MONEY_SCALES[unit], MAX_AMOUNT_YUAN, "金额超过 10^16 元"
            else:
                limit, what = MAX_NUMBER, "数值超过 10^15"
        if abs(number) > limit:
            raise InputError(getattr(filing, "path", ""), f"{what}，大得不合理，请检查是否填错。", _place(holder))


def check_xml_budget(path: str, archive: zipfile.ZipFile, name: str) -> None:
    """Stream one XML part and refuse it when a token (attribute value or text) is longer than
    :data:`MAX_XML_TOKEN` or it has more than :data:`MAX_XML_TAGS` tags — before any XML parser
    (openpyxl, python-docx, expat) sees it."""
    run = 0
    tags = 0
    with archive.open(name) as handle:
        while True:
            chunk = handle.read(1 << 20)
            if not chunk:
                return
            tags += chunk.count(b"<")
            if tags > MAX_XML_TAGS:
                raise InputError(
                    path, f"部件“{name}”的 XML 元素超过上限 {MAX_XML_TAGS} 个，不像是绩效目标表，拒绝读取。"
                )
            pieces = chunk.replace(b">", b"<").split(b"<")
            if len(pieces) == 1:
                run += len(chunk)
                longest = run
            else:
                longest = max(run + len(pieces[0]), max(map(len, pieces[1:-1]), default=0))
                run = len(pieces[-1])
                longest = max(longest, run)
            if longest > MAX_XML_TOKEN:
                raise InputError(
                    path,
                    f"部件“{name}”中有超过 {MAX_XML_TOKEN // 1024 // 1024} MB 的单个 XML 属性或文本，拒绝读取。",
                )


#: Seconds one input may take to be read and checked when nothing else limits it (plain
#: ``hegui check``; batch workers and the service have their own limits). The example takes
#: 0.2 s; an input inside every budget above takes a few seconds at most.
DEFAULT_SECONDS = 120.0
#: Address space of a ``hegui`` process (plain ``hegui check``, the batch workers): a filing
#: inside the budgets needs about 150 MB; past the limit an allocation fails with MemoryError,
#: which becomes that input's error instead of the machine swapping.
MEMORY_BYTES = 1536 * 1024 * 1024


class _Overrun(BaseException):
    """Raised by the alarm inside the check; a BaseException so no ``except Exception`` in
    reader or rule code swallows it on the way out."""


@contextlib.contextmanager
def time_limit(seconds: float | None, name: str) -> Iterator[None]:
    """Stop the block after ``seconds`` with an :class:`InputError` about ``name``.

    A watchdog on SIGALRM: it only works in the main thread of a process (plain ``hegui
    check``, a batch worker), and is a no-op elsewhere (the service's threads) or when
    ``seconds`` is None. C code (a regex, an XML parse) is interrupted when it returns to
    Python, which the budgets above keep short.
    """
    if (
        not seconds
        or not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
        or signal.getitimer(signal.ITIMER_REAL)[0]
    ):
        yield
        return

    def overrun(*_args) -> None:
        raise _Overrun

    previous = signal.signal(signal.SIGALRM, overrun)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except _Overrun:
        raise InputError(name, f"检查超时（超过{seconds:g}秒），已放弃；请检查文件是否异常庞大") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def limit_memory(limit: int = MEMORY_BYTES) -> None:
    """Cap this process's address space at ``limit`` (lower it only; never raise a cap)."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if soft == resource.RLIM_INFINITY or soft > limit:
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, ValueError, OSError):  # not on this platform, or not allowed
        pass
