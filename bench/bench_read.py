"""Read time per filing by format: text dump, Excel (form and 一体化 export, read-only mode), Word.

Run by hand: ``.venv/bin/python bench/bench_read.py [--iterations N]``. The Office files are
built from the example filing by the same generators the tests use (tests/make_xlsx.py,
tests/make_docx.py), in a temporary folder.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
import time
from pathlib import Path

from hegui.facts.read import read_filing, read_grid

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
        print(f"{'format':<32} {'bytes':>8} {'grid ms (median/p90)':>22} {'read_filing ms (median/p90)':>28}")
        for label, path in files.items():
            grid = _time(lambda: read_grid(path), args.iterations)
            full = _time(lambda: read_filing(path), args.iterations)
            print(
                f"{label:<32} {Path(path).stat().st_size:>8} {grid[0]:>10.1f} / {grid[1]:<9.1f} {full[0]:>13.1f} / {full[1]:<9.1f}"
            )


if __name__ == "__main__":
    main()
