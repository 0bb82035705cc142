"""Read time per filing by format and text layout.

Run by hand: ``.venv/bin/python bench/bench_read.py [--iterations N]``. The Office files are
built from the example filing by the same generators the tests use (tests/make_xlsx.py,
tests/make_docx.py); the example's cells are also written out, in a temporary folder, as each
text layout (markdown rows, one cell per line with ``||||`` padding, one cell per paragraph,
space-separated rows, traditional characters with pinyin garbling), as .csv, .html, .xls (xlwt)
and .pdf (reportlab), so every format reads the same full-size filing. The eight published
tables of tests/fixtures/corpus (about 2 KB each, cut off) are timed as they are.

``read_filing`` is grid + table recognition; where the recogniser does not (yet) know a layout's
tables it refuses the file, and the time to that refusal is shown, marked ``(refused)``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import statistics
import sys
import tempfile
import time
from pathlib import Path

from hegui.facts.errors import InputError
from hegui.facts.read import read_filing, read_grid
from hegui.facts.textdump import read_text_dump

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "shifeng-zzb-2023.txt"


def _module(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO / "tests" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _time(fn, iterations: int) -> tuple[float, float]:
    for _ in range(2):
        fn()
    samples = []
    for _ in range(iterations):
        start = time.perf_counter_ns()
        fn()
        samples.append((time.perf_counter_ns() - start) / 1e6)
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.9) - 1)]


CORPUS = REPO / "tests" / "fixtures" / "corpus"


def _example_rows() -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in read_text_dump(EXAMPLE).rows]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _write_layouts(tmp: Path) -> dict[str, Path]:
    """The example's cells written as each text layout and as .csv/.html/.xls/.pdf."""
    import csv
    import html

    rows = _example_rows()
    width = max(len(r) for r in rows)
    out: dict[str, Path] = {}

    def write(name: str, text: str, encoding: str = "utf-8") -> Path:
        path = tmp / name
        path.write_text(text, encoding=encoding)
        return path

    out["text: markdown pipe rows"] = write(
        "pipe.txt",
        "".join("| " + " | ".join(_one_line(c) for c in r) + " |" + "|" * (width - len(r)) + "\n" for r in rows),
    )
    lines = []
    for r in rows:
        lines += [f"{_one_line(c)} |" if c.strip() else "|" for c in r]
        if len(r) < width:
            lines.append("|" * (width - len(r)))
    out["text: cell per line, |||| padding"] = write("cells.txt", "\n".join(lines) + "\n")
    out["text: cell per paragraph"] = write(
        "paragraphs.txt", "\n\n".join(_one_line(c) for r in rows for c in r if c.strip()) + "\n"
    )
    out["text: PDF copy, spaced rows"] = write(
        "spaced.txt", "\n".join("    " + "  ".join(_one_line(c) for c in r if c.strip()) for r in rows) + "\n"
    )
    from opencc import OpenCC

    s2t = OpenCC("s2t")
    traditional = s2t.convert((tmp / "pipe.txt").read_text(encoding="utf-8")).replace("學", "學(xué)")
    out["text: pipe rows, traditional+pinyin"] = write("trad.txt", traditional)
    buffer = tmp / "filing.csv"
    with buffer.open("w", encoding="gb18030", newline="") as handle:
        csv.writer(handle).writerows(rows)
    out["csv (GB18030)"] = buffer
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c).replace(chr(10), '<br>')}</td>" for c in r) + "</tr>\n" for r in rows
    )
    out["html"] = write("filing.html", f"<html><body><p>通知</p><table>\n{body}</table></body></html>\n")
    try:
        import xlwt

        book = xlwt.Workbook(encoding="utf-8")
        sheet = book.add_sheet("filing")
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                sheet.write(r, c, text)
        book.save(str(tmp / "filing.xls"))
        out["xls (xlwt)"] = tmp / "filing.xls"
    except ImportError:
        pass
    with contextlib.suppress(ImportError):
        out["pdf (reportlab)"] = _write_pdf(tmp / "filing.pdf", rows, width)
    return out


def _write_pdf(path: Path, rows: list[list[str]], width: int) -> Path:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    style = ParagraphStyle("zh", fontName="STSong-Light", fontSize=7, leading=8, wordWrap="CJK")
    data = [[Paragraph(_one_line(c), style) for c in r] + [""] * (width - len(r)) for r in rows]
    table = Table(data, colWidths=[500 / width] * width, repeatRows=0)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.3, "black")]))
    SimpleDocTemplate(str(path), pagesize=A4).build([table])
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iterations", type=int, default=20)
    args = parser.parse_args()
    make_xlsx, make_docx = _module("make_xlsx"), _module("make_docx")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        files = {
            "text dump": EXAMPLE,
            "xlsx form, one sheet per 附件": make_xlsx.write_form_xlsx(tmp / "form.xlsx") or tmp / "form.xlsx",
            "xlsx form, stacked": make_xlsx.write_form_xlsx(tmp / "stacked.xlsx", stacked=True) or tmp / "stacked.xlsx",
            "xlsx 一体化 export": make_xlsx.write_export_xlsx(tmp / "export.xlsx") or tmp / "export.xlsx",
            "docx": make_docx.write_docx(tmp / "filing.docx") or tmp / "filing.docx",
        }
        files.update(_write_layouts(tmp))
        files.update({f"corpus {p.name[:2]} ({p.name[3:20]}…)": p for p in sorted(CORPUS.glob("*.txt"))})
        print(f"{'format':<38} {'bytes':>8} {'grid ms (median/p90)':>22} {'read_filing ms (median/p90)':>28}")
        for label, path in files.items():
            grid = _time(lambda path=path: read_grid(path), args.iterations)
            refused = False

            def full(path=path):
                nonlocal refused
                try:
                    read_filing(path)
                except InputError:
                    refused = True

            whole = _time(full, args.iterations)
            note = " (refused)" if refused else ""
            print(
                f"{label:<38} {Path(path).stat().st_size:>8} {grid[0]:>10.1f} / {grid[1]:<9.1f} "
                f"{whole[0]:>13.1f} / {whole[1]:<9.1f}{note}"
            )


if __name__ == "__main__":
    main()
