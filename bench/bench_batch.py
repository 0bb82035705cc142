"""Batch throughput (filings/s): one worker vs two, from text dumps and from .xlsx.

Run by hand: ``.venv/bin/python bench/bench_batch.py [--filings N] [--repeats R] [--json]``.

Builds ``--filings`` variants of the example in a temporary folder (amounts, a count and the
year changed; full-size filings, all 附件), once as text dumps and once as .xlsx written by
``tests/make_xlsx.py``'s ``write_form_xlsx`` (imported by path, as bench_read.py does). Each
folder is then checked with :func:`hegui.app.batch.run_batch`:

* ``in-process``: ``jobs=1`` without isolation, what ``hegui check`` does today;
* ``1 worker`` / ``2 workers``: supervised worker processes (``--timeout`` per filing).

A figure is wall time of the whole ``run_batch`` call (worker start-up and rule compilation
included, as a pipeline sees it), best of ``--repeats``; filings/s = filings / that time.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from hegui.app.batch import BatchOptions, run_batch

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "shifeng-zzb-2023.txt"


def _module(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO / "tests" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def text_variant(lines: list[str], i: int) -> str:
    """The example with 一般公共预算拨款, 基本支出, a village count and the year changed."""
    lines = list(lines)
    lines[28] = f"\t{900 + i % 80}.{(i * 7) % 100:02d}"
    lines[30] = f"\t{356 + i // 80}.38"
    lines[60] = lines[60].replace("9个村", f"{7 + i % 5}个村")
    year = (2022, 2023, 2024)[i % 3]
    for n in (7, 132):
        lines[n] = lines[n].replace("2023年", f"{year}年", 1)
    return "\n".join(lines)


def build(folder: Path, count: int) -> tuple[Path, Path]:
    """``count`` text variants in ``folder/txt`` and the same filings as .xlsx in ``folder/xlsx``."""
    make_xlsx = _module("make_xlsx")
    original = make_xlsx.dump_blocks
    lines = EXAMPLE.read_text(encoding="utf-8").split("\n")
    txt, xlsx = folder / "txt", folder / "xlsx"
    txt.mkdir()
    xlsx.mkdir()
    try:
        for i in range(count):
            source = txt / f"filing-{i:04d}.txt"
            source.write_text(text_variant(lines, i), encoding="utf-8")
            # write_form_xlsx lays out whatever dump_blocks() returns: point it at this variant.
            make_xlsx.dump_blocks = functools.partial(original, source)
            make_xlsx.write_form_xlsx(xlsx / f"filing-{i:04d}.xlsx", stacked=bool(i % 2))
    finally:
        make_xlsx.dump_blocks = original
    return txt, xlsx


def measure(folder: Path, label: str, *, jobs: int, isolate: bool, timeout: float, repeats: int) -> dict:
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run_batch(
            [folder],
            jobs=jobs,
            isolate=isolate,
            timeout=timeout if isolate else None,
            options=BatchOptions(),
            progress=False,
        )
        best = min(best, time.perf_counter() - start)
    assert result is not None
    summary = result.summary
    return {
        "input": label,
        "mode": "in-process" if not isolate else f"{jobs} worker{'s' if jobs > 1 else ''}",
        "jobs": jobs,
        "filings": summary["filings"],
        "checked": summary["checked"],
        "errors": summary["errors"],
        "seconds": round(best, 3),
        "filings_per_s": round(summary["filings"] / best, 1),
        "json_sha": hash(result.to_json()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark hegui batch throughput.")
    parser.add_argument("--filings", type=int, default=200, help="variants per format (default 200)")
    parser.add_argument("--repeats", type=int, default=1, help="runs per configuration; the best counts (default 1)")
    parser.add_argument("--timeout", type=float, default=60.0, help="per-filing timeout for worker runs (default 60)")
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="hegui-bench-batch-") as tmp:
        t0 = time.perf_counter()
        txt, xlsx = build(Path(tmp), args.filings)
        build_s = time.perf_counter() - t0
        for folder, label in ((txt, "text"), (xlsx, "xlsx")):
            runs = [
                measure(folder, label, jobs=1, isolate=False, timeout=args.timeout, repeats=args.repeats),
                measure(folder, label, jobs=1, isolate=True, timeout=args.timeout, repeats=args.repeats),
                measure(folder, label, jobs=2, isolate=True, timeout=args.timeout, repeats=args.repeats),
            ]
            # Same input, same report, whatever the number of workers.
            identical = len({r.pop("json_sha") for r in runs}) == 1
            for r in runs:
                r["speedup_vs_1_worker"] = round(runs[1]["seconds"] / r["seconds"], 2)
                r["same_report"] = identical
            rows += runs
    env = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
    }
    if args.json:
        print(
            json.dumps(
                {"environment": env, "build_s": round(build_s, 2), "results": rows}, ensure_ascii=False, indent=2
            )
        )
    else:
        print(
            f"hegui batch bench — Python {env['python']}, {env['cpus']} CPUs, load average now {env['load_average']}; "
            f"{args.filings} filings per format (built in {build_s:.1f} s); best of {args.repeats}"
        )
        print(
            f"{'input':<6} {'mode':<11} {'filings':>7} {'errors':>6} {'seconds':>8} {'filings/s':>10} {'vs 1 worker':>12} same report"
        )
        for r in rows:
            print(
                f"{r['input']:<6} {r['mode']:<11} {r['filings']:>7} {r['errors']:>6} {r['seconds']:>8.2f} {r['filings_per_s']:>10.1f} "
                f"{r['speedup_vs_1_worker']:>11.2f}x {'yes' if r['same_report'] else 'NO'}"
            )
    return 0 if all(r["same_report"] and r["errors"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
