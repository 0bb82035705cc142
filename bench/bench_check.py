"""Benchmark: how long hegui takes to read and check one filing.

Run by hand from the repository root::

    .venv/bin/python bench/bench_check.py                 # readable table
    .venv/bin/python bench/bench_check.py --json          # machine-readable
    .venv/bin/python bench/bench_check.py --iterations 20 --filings 8 --rules 100
    .venv/bin/python bench/bench_check.py --profile       # + cProfile of one warm check

What it measures (see bench/README.md):

1. the example filing (``examples/shifeng-zzb-2023.txt``) with the built-in rule packs:
   read (text → Grid → Filing), check (``Evaluator.check``) and total, warm;
2. a generated rule set of about ``--rules`` rules (the built-in packs with rules duplicated
   under new ids, compare rules pointing at copies of their parameters with varied values)
   and generated filings (the example with amounts changed, a direction renamed, detail and
   indicator lines added or removed …), read from files with ``read_filing``, warm;
3. one-time costs: importing hegui, loading the rule packs and compiling them.

Warm means: each measured call is preceded by ``--warmup`` unmeasured calls on the same
input. Timings use ``time.perf_counter_ns``; medians and p90 (nearest rank) are over
``--iterations`` measured calls. Generation is seeded (``--seed``), so every run builds the
same rules and filings. Money stays ``Decimal`` throughout; only timings are floats.

Nothing here is imported by hegui; it only uses hegui's public entry points.
"""

from __future__ import annotations

import time

_T_IMPORT = time.perf_counter_ns()

import argparse  # noqa: E402
import copy  # noqa: E402
import cProfile  # noqa: E402
import functools  # noqa: E402
import gc  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import pstats  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from decimal import Decimal  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

_T_STDLIB = time.perf_counter_ns()

import yaml  # noqa: E402

from hegui.engine.evaluate import Evaluator  # noqa: E402
from hegui.engine.rules import RuleSet, load_rules  # noqa: E402
from hegui.facts.errors import InputError  # noqa: E402
from hegui.facts.model import Filing, Grid  # noqa: E402
from hegui.facts.read import read_filing  # noqa: E402
from hegui.facts.tables import build_filing  # noqa: E402
from hegui.facts.textdump import read_text_dump  # noqa: E402
from hegui.plugins import builtin_rule_paths  # noqa: E402
from hegui.plugins.manager import build_registry  # noqa: E402

IMPORT_NS = time.perf_counter_ns() - _T_STDLIB  # hegui + pyDatalog + PyYAML, first import

ROOT = Path(__file__).resolve().parent.parent
#: The built-in packs' jurisdictions (installed plugins play no part in these timings).
REGISTRY = build_registry(entry_points=False)
EXAMPLE = ROOT / "examples" / "shifeng-zzb-2023.txt"
TARGET_MS = 10.0  # warm, per filing (read + check)
RULE_ID = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$")  # as in hegui.engine.rules


# --- statistics ----------------------------------------------------------------------------------


def ms(ns: int | float) -> float:
    return ns / 1_000_000


def p90(values: list[int]) -> int:
    """90th percentile, nearest-rank: the smallest value with ≥ 90 % of samples at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def summary(values: list[int]) -> dict[str, float]:
    return {
        "median_ms": round(ms(statistics.median(values)), 3),
        "p90_ms": round(ms(p90(values)), 3),
        "min_ms": round(ms(min(values)), 3),
        "max_ms": round(ms(max(values)), 3),
    }


@dataclass
class FilingTiming:
    name: str
    description: str
    read_ns: list[int] = field(default_factory=list)  # read_filing: text → Grid → Filing
    grid_ns: list[int] = field(default_factory=list)  # its first step alone: text → Grid (read_text_dump)
    build_ns: list[int] = field(default_factory=list)  # its second step alone: Grid → Filing (build_filing)
    check_ns: list[int] = field(default_factory=list)  # Evaluator.check
    total_ns: list[int] = field(default_factory=list)  # read + check
    findings: int = 0
    facts: int = 0
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "description": self.description}
        if self.error:
            out["error"] = self.error
            return out
        out.update(
            findings=self.findings,
            facts=self.facts,
            iterations=len(self.total_ns),
            read_grid=summary(self.grid_ns),
            read_build=summary(self.build_ns),
            read=summary(self.read_ns),
            check=summary(self.check_ns),
            total=summary(self.total_ns),
        )
        return out


NO_GC = False  # set by --no-gc


def time_filing(
    checker: Evaluator, path: Path, name: str, description: str, iterations: int, warmup: int
) -> FilingTiming:
    """Warm timings of reading ``path`` and checking it, measured call by call."""
    gc.collect()
    if NO_GC:
        gc.disable()
    try:
        return _time_filing(checker, path, name, description, iterations, warmup)
    finally:
        gc.enable()


def _time_filing(
    checker: Evaluator, path: Path, name: str, description: str, iterations: int, warmup: int
) -> FilingTiming:
    timing = FilingTiming(name, description)
    clock = time.perf_counter_ns
    for index in range(warmup + iterations):
        t0 = clock()
        try:
            filing = read_filing(path)
        except InputError as exc:
            timing.error = str(exc)
            return timing
        t1 = clock()
        result = checker.check(filing)
        t2 = clock()
        # The two steps of read_filing, timed on their own (not part of the total).
        grid = read_text_dump(path)
        t3 = clock()
        build_filing(grid)
        t4 = clock()
        if index < warmup:
            continue
        timing.read_ns.append(t1 - t0)
        timing.check_ns.append(t2 - t1)
        timing.total_ns.append(t2 - t0)
        timing.grid_ns.append(t3 - t2)
        timing.build_ns.append(t4 - t3)
        timing.findings = len(result.findings)
        timing.facts = len(result.facts.facts)
    return timing


def one_time(label: str, action: Callable[[], Any], repeats: int) -> tuple[dict[str, Any], Any]:
    """First (cold) run of ``action`` and, for ``repeats`` > 1, the median of the runs after it."""
    samples = []
    value = None
    for _ in range(max(1, repeats)):
        gc.collect()
        t0 = time.perf_counter_ns()
        value = action()
        samples.append(time.perf_counter_ns() - t0)
    out: dict[str, Any] = {"what": label, "first_ms": round(ms(samples[0]), 3)}
    if len(samples) > 1:
        out["repeat_median_ms"] = round(ms(statistics.median(samples[1:])), 3)
        out["repeats"] = len(samples) - 1
    return out, value


# --- generated rule packs ------------------------------------------------------------------------

_NAME_CHARS = r"\w\u3400-\u9fff"
_RESOLVER = yaml.resolver.Resolver()
# Multipliers for copied parameter values: exact decimals, never floats.
_FACTORS = tuple(Decimal(f) for f in ("0.5", "0.8", "0.9", "1.1", "1.2", "1.25", "1.5", "2"))


def _scalar(text: str, style: str | None = None) -> yaml.ScalarNode:
    return yaml.ScalarNode(_RESOLVER.resolve(yaml.ScalarNode, text, (True, False)), text, style=style)


def _set_scalar(node: yaml.ScalarNode, text: str) -> None:
    node.value = text
    if node.style is None:
        node.tag = _RESOLVER.resolve(yaml.ScalarNode, text, (True, False))


def _get(mapping: yaml.MappingNode, key: str) -> yaml.Node | None:
    for key_node, value_node in mapping.value:
        if key_node.value == key:
            return value_node
    return None


def _decimal_text(value: Decimal) -> str:
    """A plain decimal the strict rule loader accepts: no exponent, no stray trailing zeros."""
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def _rename(text: str, renames: dict[str, str]) -> str:
    """Replace whole parameter names (not parts of longer names) in a check or message."""
    if not renames:
        return text
    names = sorted(renames, key=len, reverse=True)
    pattern = re.compile(rf"(?<![{_NAME_CHARS}])(" + "|".join(map(re.escape, names)) + rf")(?![{_NAME_CHARS}])")
    return pattern.sub(lambda m: renames[m.group(1)], text)


@dataclass
class _Pack:
    relative: Path
    root: yaml.MappingNode
    params: yaml.MappingNode | None
    rules: yaml.SequenceNode
    originals: list[yaml.MappingNode]


def generate_rule_packs(out_dir: Path, target: int, rng: random.Random) -> dict[str, Any]:
    """Write the built-in packs to ``out_dir`` with rules copied until there are ``target`` rules.

    Copies are made round-robin over all built-in rules (``-B01`` for the first round, ``-B02``
    for the second …), each into its own pack file so the file stays a valid pack. A copied
    compare rule gets copies of the parameters it uses (``名称_B01``) with the value multiplied
    by a seeded factor; its check and message are rewritten to use them.
    """
    packs: list[_Pack] = []
    for folder in builtin_rule_paths():
        for path in sorted(folder.rglob("*.yaml")):
            if path.name.endswith(".cases.yaml"):  # rule tests, not packs
                continue
            root = yaml.compose(path.read_text(encoding="utf-8-sig"), Loader=yaml.SafeLoader)
            rules = _get(root, "rules")
            assert isinstance(rules, yaml.SequenceNode), path
            params = _get(root, "parameters")
            packs.append(_Pack(Path(folder.name) / path.name, root, params, rules, list(rules.value)))
    originals = [(pack, rule) for pack in packs for rule in pack.originals]
    copies, varied_params, compare_copies = 0, 0, 0
    needed = max(0, target - len(originals))
    round_no = 0
    while copies < needed:
        round_no += 1
        suffix = f"B{round_no:02d}"
        for pack, original in originals:
            if copies >= needed:
                break
            rule = copy.deepcopy(original)
            id_node = _get(rule, "id")
            new_id = f"{id_node.value}-{suffix}"
            assert RULE_ID.match(new_id), new_id
            _set_scalar(id_node, new_id)
            title = _get(rule, "title")
            _set_scalar(title, f"{title.value}（副本{suffix}）")
            check = _get(rule, "check")
            if isinstance(check, yaml.ScalarNode):  # a compare rule
                compare_copies += 1
                renames: dict[str, str] = {}
                if pack.params is not None:
                    for key_node, spec in list(pack.params.value):
                        name = key_node.value
                        if not re.search(rf"(?<![{_NAME_CHARS}]){re.escape(name)}(?![{_NAME_CHARS}])", check.value):
                            continue
                        new_name = f"{name}_{suffix}"
                        if _get(pack.params, new_name) is None:
                            clone = copy.deepcopy(spec)
                            values = _get(clone, "values")
                            factor = rng.choice(_FACTORS)
                            for entry in values.value:
                                value_node = _get(entry, "value")
                                _set_scalar(value_node, _decimal_text(Decimal(value_node.value) * factor))
                            pack.params.value.append((_scalar(new_name), clone))
                            varied_params += 1
                        renames[name] = new_name
                _set_scalar(check, _rename(check.value, renames))
                message = _get(rule, "message")
                if message is not None:
                    _set_scalar(message, _rename(message.value, renames))
            pack.rules.value.append(rule)
            copies += 1
    for pack in packs:
        target_path = out_dir / pack.relative
        target_path.parent.mkdir(parents=True, exist_ok=True)
        text = yaml.serialize(pack.root, Dumper=yaml.SafeDumper, allow_unicode=True, width=100_000)
        target_path.write_text(text, encoding="utf-8")
    return {
        "files": len(packs),
        "original_rules": len(originals),
        "copied_rules": copies,
        "compare_copies": compare_copies,
        "varied_parameters": varied_params,
    }


# --- generated filings ---------------------------------------------------------------------------


@dataclass
class _Edit:
    start: int  # 1-based first line replaced; for an insertion the line it goes before
    end: int  # 1-based last line replaced (start - 1 for a pure insertion)
    lines: list[str]


class _Mutator:
    """Line edits of the example text, located through the parsed example (no fixed line numbers)."""

    def __init__(self, lines: list[str], grid: Grid, filing: Filing, rng: random.Random) -> None:
        self.lines = lines
        self.grid = grid
        self.filing = filing
        self.rng = rng
        self.touched: set[int] = set()
        self.edits: list[_Edit] = []

    # -- helpers ----------------------------------------------------------------------------------
    def free(self, first: int, last: int) -> bool:
        return not any(n in self.touched for n in range(first - 1, last + 2))

    def claim(self, first: int, last: int, edit: _Edit) -> None:
        self.touched.update(range(first, last + 1))
        self.edits.append(edit)

    def row_span(self, cells: list[Any]) -> tuple[int, int]:
        """The lines of the grid rows holding ``cells`` (a table row the dump split is rejoined)."""
        first = min(c.source.line for c in cells if c is not None)
        last = max(c.source.end_line or c.source.line for c in cells if c is not None)
        spans = [(r.source.line, r.source.end_line) for r in self.grid.rows if r.cells]
        hit = [(a, b) for a, b in spans if a <= last and b >= first]
        return min(a for a, _ in hit), max(b for _, b in hit)

    def single_line(self, cell: Any) -> bool:
        return (
            cell is not None
            and cell.source.line
            and (cell.source.end_line in (0, cell.source.line))
            and "\n" not in cell.text
        )

    def replace_line(self, number: int, text: str) -> None:
        self.claim(number, number, _Edit(number, number, [text]))

    # -- mutations: each returns a description, or "" when it found nothing to change -------------
    def amounts(self) -> str:
        cells = []
        if self.filing.summary:
            cells += [r.amount.cell for r in self.filing.summary.rows]
            cells.append(self.filing.summary.total.cell if self.filing.summary.total else None)
        for d in self.filing.directions:
            cells += [d.amount.cell if d.amount else None, d.detail_total.cell if d.detail_total else None]
            cells += [x.amount.cell for x in d.details]
        candidates = [
            c
            for c in cells
            if self.single_line(c)
            and re.fullmatch(r"\d+(\.\d+)?", c.stripped)
            and self.lines[c.source.line - 1] == "\t" + c.text
            and self.free(c.source.line, c.source.line)
        ]
        if not candidates:
            return ""
        chosen = self.rng.sample(candidates, min(len(candidates), self.rng.randint(1, 3)))
        shown = []
        for cell in sorted(chosen, key=lambda c: c.source.line):
            old = Decimal(cell.stripped)
            delta = self.rng.choice(
                [Decimal("0.5"), Decimal("1"), Decimal("2.5"), Decimal("10"), Decimal("-1"), Decimal("-0.1")]
            )
            new = old + delta if old + delta > 0 else old + abs(delta)
            self.replace_line(cell.source.line, f"\t{new}")
            shown.append(f"L{cell.source.line} {cell.stripped}→{new}")
        return "金额改动 " + "，".join(shown)

    def rename_direction(self) -> str:
        options = [
            d
            for d in self.filing.directions
            if d.name and self.single_line(d.name.cell) and self.free(d.name.cell.source.line, d.name.cell.source.line)
        ]
        if not options:
            return ""
        direction = self.rng.choice(options)
        cell = direction.name.cell
        line = self.lines[cell.source.line - 1]
        new_name = cell.stripped + self.rng.choice(["（调整）", "工作", "专项", "补助"])
        self.replace_line(cell.source.line, line.replace(cell.stripped, new_name))
        also = ""
        if self.filing.summary and self.rng.random() < 0.5:
            rows = [
                r
                for r in self.filing.summary.rows
                if r.seq == direction.seq
                and self.single_line(r.name)
                and self.free(r.name.source.line, r.name.source.line)
            ]
            if rows:
                row_line = rows[0].name.source.line
                self.replace_line(row_line, self.lines[row_line - 1].replace(rows[0].name.stripped, new_name))
                also = "，附件2同步改名"
        return f"{direction.label} 改名为“{new_name}”{also}"

    def add_detail(self) -> str:
        options = [(d, x) for d in self.filing.directions for x in d.details]
        self.rng.shuffle(options)
        for direction, detail in options:
            first, last = self.row_span([detail.intro, detail.detail, detail.amount.cell, detail.basis])
            if not self.free(first, last):
                continue
            block = list(self.lines[first - 1 : last])
            intro_at = detail.intro.source.line - first
            if block[intro_at].strip():
                block[intro_at] = block[intro_at] + "（追加）"
            self.claim(first, last, _Edit(last + 1, last, ["", *block]))
            return f"{direction.label} 复制明细行“{detail.intro.stripped[:12]}”"
        return ""

    def remove_detail(self) -> str:
        options = [(d, x) for d in self.filing.directions if len(d.details) >= 2 for x in d.details]
        self.rng.shuffle(options)
        for direction, detail in options:
            first, last = self.row_span([detail.intro, detail.detail, detail.amount.cell, detail.basis])
            if last < len(self.lines) and not self.lines[last].strip():
                last += 1  # the blank line that ended the row
            if not self.free(first, last):
                continue
            self.claim(first, last, _Edit(first, last, []))
            return f"{direction.label} 删除明细行“{detail.intro.stripped[:12]}”"
        return ""

    def remove_indicator(self) -> str:
        options = []
        for table in self.filing.tables():
            for ind in getattr(table, "indicators", []):
                first, last = self.row_span([ind.level3, ind.value])
                # Only rows that do not carry the 一级指标 label the rows below inherit.
                if ind.level1.source.line >= first:
                    continue
                options.append((table, ind, first, last))
        self.rng.shuffle(options)
        for table, ind, first, last in options:
            if last < len(self.lines) and not self.lines[last].strip():
                last += 1
            if not self.free(first, last):
                continue
            self.claim(first, last, _Edit(first, last, []))
            return f"{table.label} 删除指标“{ind.level2.stripped}”"
        return ""

    def village_count(self) -> str:
        options = [
            n for n, line in enumerate(self.lines, start=1) if re.search(r"(?<!\d)9个", line) and self.free(n, n)
        ]
        if not options:
            return ""
        number = self.rng.choice(options)
        count = self.rng.choice([8, 10, 11, 12])
        self.replace_line(number, re.sub(r"(?<!\d)9个", f"{count}个", self.lines[number - 1], count=1))
        return f"L{number} “9个”改为“{count}个”"

    def blank_field(self) -> str:
        options = []
        for d in self.filing.directions:
            for label, fld in (("项目实施期", d.period), ("项目金额", d.amount)):
                if (
                    fld is not None
                    and self.single_line(fld.cell)
                    and self.free(fld.cell.source.line, fld.cell.source.line)
                ):
                    options.append((d, label, fld.cell))
        if not options:
            return ""
        direction, label, cell = self.rng.choice(options)
        self.replace_line(cell.source.line, "\t")
        return f"{direction.label} {label}留空"

    def change_year(self) -> str:
        titles = [t.title for t in self.filing.tables() if t.title is not None]
        lines = sorted({c.source.line for c in titles if self.free(c.source.line, c.source.line)})
        if not lines:
            return ""
        year = self.rng.choice([2022, 2024])
        for number in lines:
            self.replace_line(number, self.lines[number - 1].replace(f"{self.filing.year}年", f"{year}年", 1))
        return f"标题年度{self.filing.year}→{year}"

    KINDS = (
        "amounts",
        "rename_direction",
        "add_detail",
        "remove_detail",
        "remove_indicator",
        "village_count",
        "blank_field",
        "change_year",
    )

    def text(self) -> str:
        out = list(self.lines)
        for edit in sorted(self.edits, key=lambda e: e.start, reverse=True):
            out[edit.start - 1 : edit.end] = edit.lines
        return "\n".join(out)


def generate_filings(out_dir: Path, count: int, rng: random.Random) -> list[tuple[Path, str]]:
    """Filing 0 is the example unchanged; filing i applies mutation i (cycling) plus 0–2 random ones."""
    text = EXAMPLE.read_text(encoding="utf-8")
    lines = text.split("\n")
    grid = read_text_dump(EXAMPLE)
    filing = build_filing(grid)
    out: list[tuple[Path, str]] = []
    for index in range(count):
        mutator = _Mutator(lines, grid, filing, rng)
        described: list[str] = []
        if index:
            kinds = [_Mutator.KINDS[(index - 1) % len(_Mutator.KINDS)]]
            others = [k for k in _Mutator.KINDS if k != kinds[0]]
            kinds += rng.sample(others, rng.randint(0, 2))
            fallbacks = [k for k in others if k not in kinds]  # tried in order only if nothing applied
            for kind in kinds + fallbacks:
                if kind in fallbacks and described:
                    break
                done = getattr(mutator, kind)()
                if done:
                    described.append(done)
        path = out_dir / f"gen-{index:02d}.txt"
        path.write_text(mutator.text(), encoding="utf-8")
        out.append((path, "；".join(described) or "原样（示例文件的副本）"))
    return out


# --- profiling -----------------------------------------------------------------------------------


def profile_check(checker: Evaluator, filing: Filing, repeats: int, top: int) -> str:
    for _ in range(2):
        checker.check(filing)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeats):
        checker.check(filing)
    profiler.disable()
    buffer = io.StringIO()
    stats = pstats.Stats(profiler, stream=buffer)
    stats.strip_dirs().sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return buffer.getvalue()


# --- output --------------------------------------------------------------------------------------


def _row(cells: list[str], widths: list[int]) -> str:
    def pad(text: str, width: int, left: bool) -> str:
        # CJK characters take two columns in a terminal.
        shown = sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
        return text + " " * (width - shown) if left else " " * (width - shown) + text

    return "  ".join(pad(c, w, i == 0) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))


def _fmt(stat: dict[str, float]) -> str:
    return f"{stat['median_ms']:.2f} / {stat['p90_ms']:.2f}"


def render_text(results: dict[str, Any]) -> str:
    out: list[str] = []
    cfg = results["config"]
    env = results["environment"]
    out.append(
        f"hegui bench — Python {env['python']} on {env['platform']} ({env['cpu_count']} CPUs, "
        f"load average at start {env['load_average_at_start']})"
    )
    out.append(
        f"warm timings: {cfg['warmup']} warm-up + {cfg['iterations']} measured iterations per filing; "
        f"columns are median / p90 in ms; target ≤ {TARGET_MS:g} ms per filing (read + check)"
    )
    if not cfg["gc_during_timing"]:
        out.append("--no-gc: the cyclic garbage collector was DISABLED while timing filings")
    out.append(
        "read = read_filing (text → Grid → Filing); grid and build are its two steps timed on their own; "
        "check = Evaluator.check; total = read + check"
    )
    out.append("")

    headers = ["filing", "rules", "facts", "findings", "grid", "build", "read", "check", "total", "≤10ms?"]
    widths = [12, 5, 5, 8, 15, 15, 15, 17, 17, 6]

    def lines_for(rows: list[dict[str, Any]], rules: int) -> list[str]:
        text = [_row(headers, widths), _row(["-" * w for w in widths], widths)]
        for r in rows:
            if "error" in r:
                text.append(
                    _row([r["name"], str(rules), "-", "-", "error: " + r["error"][:60], "", "", "", "", ""], widths)
                )
                continue
            ok = "yes" if r["total"]["median_ms"] <= TARGET_MS else "NO"
            text.append(
                _row(
                    [
                        r["name"],
                        str(rules),
                        str(r["facts"]),
                        str(r["findings"]),
                        _fmt(r["read_grid"]),
                        _fmt(r["read_build"]),
                        _fmt(r["read"]),
                        _fmt(r["check"]),
                        _fmt(r["total"]),
                        ok,
                    ],
                    widths,
                )
            )
        return text

    ex = results["example"]
    out.append(f"1. Example filing, built-in rule packs ({ex['rules']} rules)")
    out += lines_for([ex["filing"]], ex["rules"])
    out.append("")

    gen = results["generated"]
    g = gen["rule_generation"]
    out.append(
        f"2. Generated: {gen['rules']} rules ({g['original_rules']} built-in + {g['copied_rules']} copies, "
        f"{g['varied_parameters']} parameters copied with varied values), {len(gen['filings'])} filings"
    )
    out += lines_for(gen["filings"], gen["rules"])
    agg = gen["aggregate"]
    if agg["total"]:
        out.append(
            f"   all generated filings pooled: read {_fmt(agg['read'])}, check {_fmt(agg['check'])}, total {_fmt(agg['total'])} ms"
        )
    out.append("   filings:")
    for r in gen["filings"]:
        out.append(f"     {r['name']}: {r['description']}")
    out.append("")

    out.append("3. One-time costs (ms)")
    for item in results["one_time"]:
        line = f"   {item['what']}: first {item['first_ms']:.1f}"
        if "repeat_median_ms" in item:
            line += f", then median {item['repeat_median_ms']:.1f} over {item['repeats']} repeats"
        out.append(line)
    out.append("")
    out.append(f"bench wall time: {results['wall_s']:.1f} s")
    if results.get("profile"):
        out.append("")
        out.append(results["profile"])
    return "\n".join(out) + "\n"


# --- main ----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark hegui read + check times (warm).")
    parser.add_argument("--iterations", type=int, default=10, help="measured iterations per filing (default 10)")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured warm-up iterations per filing (default 2)")
    parser.add_argument(
        "--filings", type=int, default=6, help="generated filings, the first an unchanged copy (default 6)"
    )
    parser.add_argument("--rules", type=int, default=100, help="rules in the generated rule set (default 100)")
    parser.add_argument(
        "--setup-repeats", type=int, default=3, help="runs of load/compile for the one-time costs (default 3)"
    )
    parser.add_argument("--seed", type=int, default=2023, help="seed for generating rules and filings (default 2023)")
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON instead of the table")
    parser.add_argument("--keep", metavar="DIR", help="write the generated rules and filings to DIR and keep them")
    parser.add_argument(
        "--profile", action="store_true", help="also cProfile warm checks of the example (built-in rules)"
    )
    parser.add_argument(
        "--no-gc",
        action="store_true",
        help="disable Python's cyclic garbage collector while timing filings "
        "(shows its share; the default keeps it on, as in real runs)",
    )
    args = parser.parse_args(argv)
    if args.iterations < 1 or args.warmup < 0 or args.filings < 1 or args.rules < 1:
        parser.error("--iterations, --filings and --rules must be ≥ 1, --warmup ≥ 0")
    if args.keep and Path(args.keep).exists() and any(Path(args.keep).iterdir()):
        parser.error(f"--keep {args.keep}: the folder is not empty (old rule files there would be loaded too)")

    global NO_GC
    NO_GC = args.no_gc
    wall0 = time.perf_counter_ns()
    load_at_start = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
    one_time_costs: list[dict[str, Any]] = [
        {"what": "import hegui (engine, facts, pyDatalog, PyYAML)", "first_ms": round(ms(IMPORT_NS), 3)}
    ]

    # 1. example with the built-in packs ---------------------------------------------------------
    paths = builtin_rule_paths()
    cost, builtin = one_time("load built-in rule packs (load_rules)", lambda: load_rules(paths), args.setup_repeats)
    one_time_costs.append(cost)
    # partial binds the rule set now: `builtin` is deleted below to free it.
    cost, checker = one_time(
        "compile built-in rules (Evaluator(ruleset))",
        functools.partial(Evaluator, builtin, REGISTRY, reuse_compiled=False),
        args.setup_repeats,
    )
    one_time_costs.append(cost)
    cold0 = time.perf_counter_ns()
    cold_result = checker.check(read_filing(EXAMPLE))
    one_time_costs.append(
        {
            "what": "first read + check of the example after compiling (cold)",
            "first_ms": round(ms(time.perf_counter_ns() - cold0), 3),
        }
    )
    assert cold_result.findings is not None
    example = time_filing(checker, EXAMPLE, "example", str(EXAMPLE.relative_to(ROOT)), args.iterations, args.warmup)
    profile_text = ""
    if args.profile:
        profile_text = "cProfile of 5 warm Evaluator.check calls (example, built-in rules):\n" + profile_check(
            checker, read_filing(EXAMPLE), 5, 30
        )
    builtin_rule_count = len(builtin.rules)
    # Only one compiled rule set stays alive, as in a real run: a bigger heap makes every
    # full garbage collection during a check slower.
    del checker, builtin, cold_result

    # 2. generated rules and filings ----------------------------------------------------------------
    with tempfile.TemporaryDirectory(prefix="hegui-bench-") as tmp:
        work = Path(args.keep) if args.keep else Path(tmp)
        rules_dir, filings_dir = work / "rules", work / "filings"
        rules_dir.mkdir(parents=True, exist_ok=True)
        filings_dir.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter_ns()
        # Separate seeded streams: changing --rules does not change the filings and vice versa.
        generation = generate_rule_packs(rules_dir, args.rules, random.Random(f"{args.seed}:rules"))
        filings = generate_filings(filings_dir, args.filings, random.Random(f"{args.seed}:filings"))
        generate_ms = ms(time.perf_counter_ns() - t0)
        cost, generated = one_time(
            f"load generated rule packs (load_rules, {generation['files']} files)",
            lambda: load_rules([rules_dir]),
            args.setup_repeats,
        )
        one_time_costs.append(cost)
        assert isinstance(generated, RuleSet)
        cost, gen_checker = one_time(
            f"compile generated rules ({len(generated.rules)} rules)",
            lambda: Evaluator(generated, REGISTRY, reuse_compiled=False),
            args.setup_repeats,
        )
        one_time_costs.append(cost)
        timings = [
            time_filing(gen_checker, path, path.stem, description, args.iterations, args.warmup)
            for path, description in filings
        ]
    ok = [t for t in timings if not t.error]
    pooled = {
        "read": summary([v for t in ok for v in t.read_ns]) if ok else {},
        "check": summary([v for t in ok for v in t.check_ns]) if ok else {},
        "total": summary([v for t in ok for v in t.total_ns]) if ok else {},
    }

    results: dict[str, Any] = {
        "target_ms_per_filing": TARGET_MS,
        "config": {
            "iterations": args.iterations,
            "warmup": args.warmup,
            "filings": args.filings,
            "rules_target": args.rules,
            "setup_repeats": args.setup_repeats,
            "seed": args.seed,
            "gc_during_timing": not args.no_gc,
        },
        "environment": {
            "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            "platform": platform.platform(terse=True),
            "machine": platform.machine(),
            "cpu_count": os.cpu_count(),
            "load_average_at_start": load_at_start,
        },
        "example": {"rules": builtin_rule_count, "filing": example.as_dict()},
        "generated": {
            "rules": len(generated.rules),
            "parameters": len(generated.parameters),
            "rule_generation": generation,
            "generation_ms": round(generate_ms, 3),
            "filings": [t.as_dict() for t in timings],
            "aggregate": pooled,
        },
        "one_time": one_time_costs,
    }
    results["wall_s"] = round((time.perf_counter_ns() - wall0) / 1e9, 2)
    if args.json:
        if profile_text:
            results["profile"] = profile_text
        print(json.dumps(results, ensure_ascii=False, indent=2))
    else:
        results["profile"] = profile_text
        sys.stdout.write(render_text(results))
    return 1 if any(t.error for t in timings) or example.error else 0


if __name__ == "__main__":
    sys.exit(main())
