"""One benchmark run of everything issue 14 asks about, measured the same way every time.

Run from the repository root with the Python that runs hegui::

    .venv/bin/python bench/run_all.py                 # full sizes (about 10 min on 2 idle cores)
    .venv/bin/python bench/run_all.py --quick         # small sizes, under 2 min: a smoke test
    .venv/bin/python bench/run_all.py --json          # JSON on stdout, the table on stderr
    .venv/bin/python bench/run_all.py --out r.json    # table on stdout, JSON also written to r.json
    .venv/bin/python bench/run_all.py --sections warm,anchor,cold --profile

Sections (``--sections``, default all):

* ``warm``: warm per-filing phases of a check of the example (read, build facts, assert, query,
  findings, retract), with the built-in rules and with a generated set of 100 rules;
* ``anchor``: the raw pyDatalog anchor (``anchor.py warm``, run by path in a subprocess with this
  Python) at 100 rules, and the ratio hegui / anchor;
* ``scaling``: hegui's warm check and the anchor at 25, 50, 100 and 200 rules: ratio per point and
  the slope (ms per extra rule) of each;
* ``cold``: wall time of whole processes (median of N, interleaved): ``hegui --help``, ``hegui
  check`` of one filing, the same with 100 rules, ``anchor.py cold --rules 100``, bare Python;
* ``batch``: ``hegui check DIR --jobs 1|2`` over 200 and 2,000 generated filings: filings/s and
  peak RSS (parent, workers, whole tree);
* ``service``: ``hegui serve`` on a free loopback port, requests/s and latency p50/p90 at 1 and 4
  concurrent clients (bounded request count; the harness starts and stops the server).

hegui is driven through its console script and public entry points wherever that is possible, so
the harness keeps working while the internals move. The two places that must import internals are
:func:`load_checker` and :func:`check_phases` (phase split of ``Evaluator.check``); if the latter no
longer matches hegui it reports why and the whole-check figures still come out.

The anchor is looked up at ``--anchor``, ``$HEGUI_ANCHOR``, ``../shared/bench/anchor.py`` or
``../../shared/bench/anchor.py`` relative to the repository root; when none exists the run says so
and the ratios are left out (null in JSON).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import hashlib
import http.client
import importlib.util
import io
import json
import math
import os
import platform
import pstats
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "shifeng-zzb-2023.txt"
SCHEMA = "hegui-bench/1"  # bump when the JSON shape changes incompatibly
SECTIONS = ("warm", "anchor", "scaling", "cold", "batch", "service")
PHASES = ("facts", "assert", "query", "findings", "retract")
_ANCHOR_LINE = re.compile(r"anchor warm:\s*([0-9.]+)\s*ms/filing")


# --- sizes -----------------------------------------------------------------------------------------

FULL: dict[str, Any] = {
    "warm_iterations": 15,
    "warm_warmup": 3,
    "rules": 100,
    "scaling_rules": (25, 50, 100, 200),
    "anchor_filings": 100,
    "anchor_rounds": 5,
    "cold_runs": 7,
    "batch_sizes": (200, 2000),
    "batch_jobs": (1, 2),
    "service_requests": 60,
    "service_clients": (1, 4),
    "service_workers": (1, 2),
}
QUICK: dict[str, Any] = {
    "warm_iterations": 5,
    "warm_warmup": 2,
    "rules": 100,
    "scaling_rules": (25, 100),
    "anchor_filings": 20,
    "anchor_rounds": 3,
    "cold_runs": 3,
    "batch_sizes": (10, 40),
    "batch_jobs": (1, 2),
    "service_requests": 12,
    "service_clients": (1, 4),
    "service_workers": (1, 2),
}


# --- small helpers ---------------------------------------------------------------------------------


def ms(ns: float) -> float:
    return ns / 1_000_000


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..1): the smallest value with ≥ q of samples at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def stat_ms(samples_ns: list[int]) -> dict[str, float]:
    return {
        "median_ms": round(ms(statistics.median(samples_ns)), 3),
        "p90_ms": round(ms(percentile(samples_ns, 0.9)), 3),
        "n": len(samples_ns),
    }


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def slope(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of y over x (ms per extra rule); None for fewer than two points."""
    if len(points) < 2:
        return None
    mean_x = statistics.fmean(x for x, _ in points)
    mean_y = statistics.fmean(y for _, y in points)
    var = sum((x - mean_x) ** 2 for x, _ in points)
    if not var:
        return None
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / var


def load_average() -> list[float] | None:
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


def hegui_command() -> list[str]:
    """The ``hegui`` console script next to this Python (what users run), else ``python -m hegui``."""
    script = Path(sys.executable).with_name("hegui")
    return [str(script)] if script.exists() else [sys.executable, "-m", "hegui"]


def hegui_env() -> dict[str, str]:
    """The environment of hegui subprocesses: built-in rule packs only (``HEGUI_PLUGINS`` empty).

    Installed district plugins differ from machine to machine (the example plugin is installed in
    development, maybe not elsewhere); without them every subprocess checks the same 39 rules as
    the in-process warm figures, wherever the bench runs.
    """
    return {**os.environ, "HEGUI_PLUGINS": ""}


def _bench_module(name: str):
    """A sibling bench script imported by path (bench/ is not a package)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# --- the anchor ------------------------------------------------------------------------------------


def find_anchor(explicit: str | None) -> tuple[Path | None, str]:
    """The anchor script, and where it was looked for when it is missing."""
    if explicit:
        path = Path(explicit)
        return (path, "") if path.is_file() else (None, f"--anchor {explicit}: no such file")
    candidates = []
    if os.environ.get("HEGUI_ANCHOR"):
        candidates.append(Path(os.environ["HEGUI_ANCHOR"]))
    candidates += [
        ROOT.parent / "shared" / "bench" / "anchor.py",
        ROOT.parent.parent / "shared" / "bench" / "anchor.py",
    ]
    for path in candidates:
        if path.is_file():
            return path.resolve(), ""
    return None, "anchor.py not found (looked at " + ", ".join(str(p) for p in candidates) + "); ratios skipped"


def timed_process(cmd: list[str], env: dict[str, str] | None = None) -> tuple[int, str, str, int, int]:
    """Run ``cmd``; its exit code, stdout, stderr, wall ns and CPU ns (user + system, reaped children included).

    CPU time comes from ``os.wait4``: on a machine other work keeps busy it moves far less than
    wall time, since it leaves out the time the process waited for a core.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter_ns()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter_ns() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    return proc.returncode, stdout, stderr, wall, round((usage.ru_utime + usage.ru_stime) * 1e9)


def anchor_warm(anchor: Path, rules: int, filings: int, rounds: int) -> float:
    """Median ms per filing of the raw pyDatalog anchor, warm, run by path with this Python."""
    return anchor_warm_cpu(anchor, rules, filings, rounds, cpu=False)[0]


def anchor_warm_cpu(
    anchor: Path, rules: int, filings: int, rounds: int, cpu: bool = True
) -> tuple[float, float | None]:
    """The anchor's warm wall ms per filing (its own figure) and, with ``cpu``, its CPU ms per filing.

    The anchor prints wall time only. Its CPU time per filing is the difference between the
    process's CPU time with ``rounds`` rounds and with one round over the same filings, divided
    by the extra checks: start-up, rule compilation and filing generation cancel out.
    """

    def once(n: int) -> tuple[float, int]:
        cmd = [sys.executable, str(anchor), "warm", "--rules", str(rules), "--filings", str(filings)]
        code, stdout, stderr, _wall, cpu_ns = timed_process([*cmd, "--rounds", str(n)])
        found = _ANCHOR_LINE.search(stdout)
        if code != 0 or not found:
            raise RuntimeError(f"{' '.join(cmd)} failed ({code}): {(stderr or stdout)[-500:]}")
        return float(found.group(1)), cpu_ns

    wall_ms, cpu_many = once(rounds)
    if not cpu or rounds < 2:
        return wall_ms, None
    _, cpu_one = once(1)
    return wall_ms, round(ms((cpu_many - cpu_one) / ((rounds - 1) * filings)), 3)


# --- hegui internals: the only two adapters --------------------------------------------------------


def load_checker(rule_dirs: list[Path] | None):
    """A compiled checker for the built-in packs (``None``) or the packs under ``rule_dirs``."""
    from hegui.engine.evaluate import Evaluator
    from hegui.engine.rules import load_rules
    from hegui.plugins import builtin_rule_paths
    from hegui.plugins.manager import build_registry

    ruleset = load_rules(list(rule_dirs) if rule_dirs else builtin_rule_paths())
    return Evaluator(ruleset, build_registry(entry_points=False)), len(ruleset.rules)


def check_phases(checker, filing) -> tuple[dict[str, int], list[str]]:
    """``Evaluator.check(filing)`` done step by step with a clock between the steps.

    The one function here that knows how a check works inside (it mirrors
    ``hegui.engine.evaluate.Evaluator.check`` and ``hegui.engine.datalog.Program.evaluate`` of the
    code it was written against). Returns ns per phase and the finding ids, which the caller
    compares with the real ``Evaluator.check`` so a drift from hegui is noticed, not measured.
    """
    from hegui.engine import datalog, evaluate
    from hegui.engine.compiler import OUTCOME, OUTCOME_ARITY, presence_facts

    clock = time.perf_counter_ns
    t0 = clock()
    chain = checker.registry.chain_for(filing.department, None)
    factset = evaluate.filing_facts(filing)
    facts = (
        factset.raw
        + checker.param_facts(filing.year, chain)
        + checker.jurisdiction_facts(chain)
        + checker.match_facts(factset.raw)
        + presence_facts(factset.raw, checker.compiled.precomputed)
    )
    t1 = clock()
    program = checker.compiled.program
    with program._lock, datalog._collector_paused():
        program._ensure_active()
        wanted = program.fact_filter({OUTCOME: OUTCOME_ARITY})
        clauses = datalog.assert_facts(program.fact_clauses(facts, wanted))
        t2 = clock()
        try:
            answers: list[tuple] = []
            if OUTCOME in program._heads:
                answers = sorted(program.ask(OUTCOME, OUTCOME_ARITY), key=datalog._row_key)
            t3 = clock()
        finally:
            datalog.retract_facts(clauses)
            t4 = clock()
    findings = evaluate._FindingBuilder(checker, filing, factset, chain).build(answers)
    t5 = clock()
    phases = {"facts": t1 - t0, "assert": t2 - t1, "query": t3 - t2, "retract": t4 - t3, "findings": t5 - t4}
    return phases, [f.id for f in findings]


# --- generated inputs ------------------------------------------------------------------------------


def generate_rules(out_dir: Path, count: int, seed: int = 2023) -> int:
    """``count`` rules in ``out_dir``: bench_check's copies of the built-in packs, trimmed when fewer.

    Above the built-in count, bench_check copies rules round-robin under new ids. Below it, rules
    are dropped round-robin over the pack files (one from each in turn, last rule first) so every
    kind of rule stays represented; a pack left without rules is removed. Returns the rule count.
    """
    import yaml

    bench_check = _bench_module("bench_check")
    out_dir.mkdir(parents=True, exist_ok=True)
    bench_check.generate_rule_packs(out_dir, count, random.Random(f"{seed}:rules"))
    files = sorted(out_dir.rglob("*.yaml"))
    docs = {path: yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader) for path in files}

    def rules_of(root) -> Any:
        return next(value for key, value in root.value if key.value == "rules")

    total = sum(len(rules_of(root).value) for root in docs.values())
    while total > count:
        for path in files:
            seq = rules_of(docs[path])
            if total > count and seq.value:
                seq.value.pop()
                total -= 1
    for path, root in docs.items():
        if not rules_of(root).value:
            path.unlink()
        else:
            text = yaml.serialize(root, Dumper=yaml.SafeDumper, allow_unicode=True, width=100_000)
            path.write_text(text, encoding="utf-8")
    return total


def filing_variant(lines: list[str], i: int) -> str:
    """The example with amounts, a village count and the year changed (as bench_batch.py does)."""
    lines = list(lines)
    lines[28] = f"\t{900 + i % 80}.{(i * 7) % 100:02d}"
    lines[30] = f"\t{356 + i // 80}.38"
    lines[60] = lines[60].replace("9个村", f"{7 + i % 5}个村")
    year = (2022, 2023, 2024)[i % 3]
    for n in (7, 132):
        lines[n] = lines[n].replace("2023年", f"{year}年", 1)
    return "\n".join(lines)


def generate_filings(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = EXAMPLE.read_text(encoding="utf-8").split("\n")
    for i in range(count):
        (folder / f"filing-{i:05d}.txt").write_text(filing_variant(lines, i), encoding="utf-8")
    return folder


# --- 1. warm phases --------------------------------------------------------------------------------


def warm_check(
    checker, path: Path, iterations: int, warmup: int, forget: Callable[[], None] | None = None
) -> dict[str, Any]:
    """Warm timings of one filing: read, the phases of a check, the real ``Evaluator.check``, total.

    ``forget`` runs before each check, untimed: with hegui's ``forget_texts`` every text of the
    filing is new to the check, as in a batch of filings that share no text.
    """
    from hegui.facts.read import read_filing

    samples: dict[str, list[int]] = {k: [] for k in ("read", *PHASES, "check", "check_cpu", "total")}
    phase_error = ""
    findings = 0
    clock = time.perf_counter_ns
    gc.collect()
    for index in range(warmup + iterations):
        t0 = clock()
        filing = read_filing(path)
        t1 = clock()
        # The real check and the step-by-step copy take turns going first, so neither gains
        # from running on the caches and heap the other left behind.
        phases: dict[str, int] = {}
        ids: list[str] | None = None
        if index % 2 and not phase_error:
            if forget:
                forget()
            phases, ids, phase_error = _try_phases(checker, filing)
        if forget:
            forget()
        c2 = time.process_time_ns()
        t2 = clock()
        result = checker.check(filing)
        t3 = clock()
        c3 = time.process_time_ns()
        if not index % 2 and not phase_error:
            if forget:
                forget()
            phases, ids, phase_error = _try_phases(checker, filing)
        if ids is not None and ids != [f.id for f in result.findings]:
            phase_error = "check_phases no longer matches Evaluator.check (different findings): update it"
        findings = len(result.findings)
        if index < warmup:
            continue
        samples["read"].append(t1 - t0)
        samples["check"].append(t3 - t2)
        samples["check_cpu"].append(c3 - c2)
        samples["total"].append(t1 - t0 + t3 - t2)
        if not phase_error:
            for key, value in phases.items():
                samples[key].append(value)
    out: dict[str, Any] = {"finding_count": findings, "iterations": iterations, "warmup": warmup}
    for key, values in samples.items():
        out[key] = stat_ms(values) if values else None
    out["phase_error"] = phase_error or None
    return out


def _try_phases(checker, filing) -> tuple[dict[str, int], list[str] | None, str]:
    """``check_phases``, or why it failed (an internal it relies on moved)."""
    try:
        phases, ids = check_phases(checker, filing)
    except Exception as exc:  # say so and keep the whole-check figures
        return {}, None, f"check_phases failed ({type(exc).__name__}: {exc}): update it to the new internals"
    return phases, ids, ""


def run_warm(cfg: dict[str, Any], work: Path) -> dict[str, Any]:
    builtin, builtin_rules = load_checker(None)
    example_builtin = warm_check(builtin, EXAMPLE, cfg["warm_iterations"], cfg["warm_warmup"])
    example_builtin["rules"] = builtin_rules
    del builtin
    gen, gen_rules = load_checker([rules_dir(work, cfg["rules"])])
    example_gen = warm_check(gen, EXAMPLE, cfg["warm_iterations"], cfg["warm_warmup"])
    example_gen["rules"] = gen_rules
    out = {"example_builtin_rules": example_builtin, "example_generated_rules": example_gen}
    try:
        from hegui.facts.vocabulary import forget_texts
    except ImportError:  # a hegui without per-text caches to empty
        return out
    # The same check with every text new to it: what the per-text caches (claims, review) save
    # on a re-check of the example is left out.
    first = warm_check(gen, EXAMPLE, cfg["warm_iterations"], cfg["warm_warmup"], forget=forget_texts)
    first["rules"] = gen_rules
    first["label"] = "new texts"
    out["example_generated_rules_new_texts"] = first
    return out


def rules_dir(work: Path, count: int) -> Path:
    """The generated rule set of ``count`` rules, built once per run."""
    folder = work / f"rules-{count}"
    if not folder.exists():
        got = generate_rules(folder, count)
        if got != count:
            raise RuntimeError(f"asked for {count} generated rules, got {got}")
    return folder


# --- 2./3. anchor and scaling ----------------------------------------------------------------------


def run_anchor(cfg: dict[str, Any], anchor: Path | None, note: str, warm: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {"path": str(anchor) if anchor else None, "note": note or None, "rules": cfg["rules"]}
    if anchor is None:
        out["warm_ms"] = None
        return out
    out["warm_ms"], out["warm_cpu_ms"] = anchor_warm_cpu(
        anchor, cfg["rules"], cfg["anchor_filings"], cfg["anchor_rounds"]
    )
    out["filings"], out["rounds"] = cfg["anchor_filings"], cfg["anchor_rounds"]
    if warm:
        gen = warm["example_generated_rules"]
        out["ratio_check"] = ratio(gen["check"]["median_ms"], out["warm_ms"])
        out["ratio_check_cpu"] = ratio(gen["check_cpu"]["median_ms"], out["warm_cpu_ms"])
        out["ratio_read_and_check"] = ratio(gen["total"]["median_ms"], out["warm_ms"])
        fresh = warm.get("example_generated_rules_new_texts")
        if fresh:
            out["ratio_check_new_texts"] = ratio(fresh["check"]["median_ms"], out["warm_ms"])
            out["ratio_check_cpu_new_texts"] = ratio(fresh["check_cpu"]["median_ms"], out["warm_cpu_ms"])
    return out


def run_scaling(cfg: dict[str, Any], work: Path, anchor: Path | None) -> dict[str, Any]:
    points = []
    for count in cfg["scaling_rules"]:
        checker, got = load_checker([rules_dir(work, count)])
        timing = warm_check(checker, EXAMPLE, cfg["warm_iterations"], cfg["warm_warmup"])
        del checker
        point: dict[str, Any] = {
            "rules": got,
            "hegui_check_ms": timing["check"]["median_ms"],
            "hegui_check_cpu_ms": timing["check_cpu"]["median_ms"],
            "hegui_query_ms": timing["query"]["median_ms"] if timing["query"] else None,
        }
        point["anchor_ms"], point["anchor_cpu_ms"] = (
            anchor_warm_cpu(anchor, count, cfg["anchor_filings"], cfg["anchor_rounds"]) if anchor else (None, None)
        )
        point["ratio"] = ratio(point["hegui_check_ms"], point["anchor_ms"])
        point["ratio_cpu"] = ratio(point["hegui_check_cpu_ms"], point["anchor_cpu_ms"])
        points.append(point)
    out: dict[str, Any] = {"points": points}
    for suffix, hegui_key, anchor_key in (
        ("", "hegui_check_ms", "anchor_ms"),
        ("_cpu", "hegui_check_cpu_ms", "anchor_cpu_ms"),
    ):
        hegui_slope = slope([(p["rules"], p[hegui_key]) for p in points])
        anchor_slope = slope([(p["rules"], p[anchor_key]) for p in points if p[anchor_key] is not None])
        out[f"hegui_ms_per_rule{suffix}"] = round(hegui_slope, 4) if hegui_slope is not None else None
        out[f"anchor_ms_per_rule{suffix}"] = round(anchor_slope, 4) if anchor_slope is not None else None
        out[f"slope_ratio{suffix}"] = ratio(hegui_slope, anchor_slope)
    return out


# --- 4. cold start ---------------------------------------------------------------------------------


def run_cold(cfg: dict[str, Any], work: Path, anchor: Path | None) -> dict[str, Any]:
    """Whole-process wall times, interleaved round-robin so load changes hit every command alike."""
    hegui = hegui_command()
    out_file = work / "cold-report.json"
    commands: dict[str, list[str]] = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "hegui --help": [*hegui, "--help"],
        "hegui check (built-in rules)": [*hegui, "check", str(EXAMPLE), "--format", "json", "-o", str(out_file)],
        f"hegui check ({cfg['rules']} rules)": [
            *hegui,
            "check",
            str(EXAMPLE),
            "--rules",
            str(rules_dir(work, cfg["rules"])),
            "--format",
            "json",
            "-o",
            str(out_file),
        ],
    }
    if anchor:
        commands[f"anchor cold ({cfg['rules']} rules)"] = [
            sys.executable,
            str(anchor),
            "cold",
            "--rules",
            str(cfg["rules"]),
        ]
    samples: dict[str, list[int]] = {name: [] for name in commands}
    cpu: dict[str, list[int]] = {name: [] for name in commands}
    for _ in range(cfg["cold_runs"]):
        for name, cmd in commands.items():
            code, _out, err, wall_ns, cpu_ns = timed_process(cmd, env=hegui_env())
            samples[name].append(wall_ns)
            cpu[name].append(cpu_ns)
            if code not in (0, 1):  # 1 = findings at error level: a normal check result
                raise RuntimeError(f"{name}: exit {code}: {err[-500:]}")
    runs = {
        name: {
            "first_ms": round(ms(vals[0]), 1),
            **stat_ms(vals),
            "cpu_median_ms": round(ms(statistics.median(cpu[name])), 1),
        }
        for name, vals in samples.items()
    }
    anchor_run = runs.get(f"anchor cold ({cfg['rules']} rules)", {})
    builtin, same = runs["hegui check (built-in rules)"], runs[f"hegui check ({cfg['rules']} rules)"]
    return {
        "command": hegui,
        "runs": runs,
        "ratio_check_builtin": ratio(builtin["median_ms"], anchor_run.get("median_ms")),
        "ratio_check_rules": ratio(same["median_ms"], anchor_run.get("median_ms")),
        "ratio_check_builtin_cpu": ratio(builtin["cpu_median_ms"], anchor_run.get("cpu_median_ms")),
        "ratio_check_rules_cpu": ratio(same["cpu_median_ms"], anchor_run.get("cpu_median_ms")),
    }


# --- 5. batch throughput and memory ----------------------------------------------------------------


def _kib(status: str, key: str) -> int:
    found = re.search(rf"^{key}:\s+(\d+) kB", status, re.M)
    return int(found.group(1)) if found else 0


class TreeMemory:
    """Peak RSS of a process and its descendants, sampled from /proc.

    Why sampling /proc and not only getrusage: ``ru_maxrss`` (of RUSAGE_CHILDREN or os.wait4) is
    the peak of the *single largest* process among a child and its reaped descendants, so it
    cannot tell the parent from its workers nor add them up. ``VmHWM`` in /proc/PID/status is the
    kernel's own high-water mark of each process (a sample catches a process's peak up to the last
    sample before it exits), and summing ``VmRSS`` over the tree at each sample gives the memory
    the whole batch holds at once. The exact wait4 figure is reported next to the samples.
    """

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.pid = pid
        self.interval = interval
        self.hwm: dict[int, int] = {}
        #: CPU seconds (user + system) each process had used at its last sample: on a shared
        #: machine, what each process *needed* (wall time also counts waiting for others' load).
        self.cpu: dict[int, float] = {}
        self.tree_peak_kib = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.available = Path("/proc/self/status").exists()

    def __enter__(self) -> TreeMemory:
        if self.available:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self.available:
            self._thread.join()

    def _descendants(self) -> list[int]:
        parents: dict[int, list[int]] = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as fh:
                    stat = fh.read()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            parents.setdefault(ppid, []).append(int(entry.name))
        out, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            out.append(pid)
            todo += parents.get(pid, [])
        return out

    def _run(self) -> None:
        while not self._stop.is_set():
            total = 0
            for pid in self._descendants():
                try:
                    status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8", errors="replace")
                except OSError:
                    continue
                if _kib(status, "VmHWM"):  # zombies have no memory lines
                    self.hwm[pid] = max(self.hwm.get(pid, 0), _kib(status, "VmHWM"))
                    total += _kib(status, "VmRSS")
                    self.cpu[pid] = max(self.cpu.get(pid, 0.0), _cpu_seconds(pid))
            self.tree_peak_kib = max(self.tree_peak_kib, total)
            self.samples += 1
            self._stop.wait(self.interval)


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` from /proc/PID/stat (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS


def run_batch_once(folder: Path, jobs: int, report: Path) -> dict[str, Any]:
    cmd = [*hegui_command(), "check", str(folder), "--jobs", str(jobs), "--format", "json", "-o", str(report)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=hegui_env())
    with TreeMemory(proc.pid) as memory:
        assert proc.stderr is not None
        stderr = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(cmd)}: exit {proc.returncode}: {stderr.decode(errors='replace')[-500:]}")
    filings = len(list(folder.iterdir()))
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    maxrss_kib = usage.ru_maxrss // (1024 if sys.platform == "darwin" else 1)
    workers = [kib for pid, kib in memory.hwm.items() if pid != proc.pid]
    # A sample misses the parent's growth in its last moments (rendering the report); wait4's
    # exact peak is the parent's whenever it exceeds every worker's.
    parent_kib = memory.hwm.get(proc.pid, 0)
    if maxrss_kib > max(workers, default=0):
        parent_kib = max(parent_kib, maxrss_kib)
    tree_kib = max(memory.tree_peak_kib, parent_kib)
    if not report.exists():
        raise RuntimeError(
            f"{' '.join(cmd)}: exit {proc.returncode}, no report: {stderr.decode(errors='replace')[-500:]}"
        )
    digest = _report_digest(report)
    cpu_s = usage.ru_utime + usage.ru_stime
    worker_cpu = [cpu for pid, cpu in memory.cpu.items() if pid != proc.pid]
    # The parent's own CPU: all of it but what its reaped workers used.
    parent_cpu = max(0.0, cpu_s - sum(worker_cpu)) if worker_cpu else cpu_s
    return {
        "filings": filings,
        "jobs": jobs,
        "seconds": round(seconds, 2),
        "filings_per_s": round(filings / seconds, 1),
        "cpu_s": round(cpu_s, 2),  # parent + reaped workers
        "cpu_parent_s": round(parent_cpu, 2),
        "cpu_workers_s": sorted((round(c, 2) for c in worker_cpu), reverse=True),
        # The wall time this run would take on idle cores, from CPU times: the busiest worker
        # plus everything the parent did (as if none of it overlapped the workers: an upper bound).
        "cpu_critical_path_s": round(max(worker_cpu, default=0.0) + parent_cpu, 2),
        "peak_rss_any_process_mb": round(maxrss_kib / 1024, 1),
        "peak_rss_parent_mb": round(parent_kib / 1024, 1),
        "peak_rss_worker_mb": round(max(workers) / 1024, 1) if workers else None,
        "peak_rss_tree_mb": round(tree_kib / 1024, 1) if memory.available else None,
        "memory_samples": memory.samples,
        "report_sha": digest,
    }


def _report_digest(report: Path) -> str:
    """The report's digest without wall-clock fields, read a line at a time.

    Not ``read_bytes()``: a 2,000-filing report is about 250 MB, and holding it would grow this
    process; the next ``hegui`` is forked from it, and ``wait4``'s ``ru_maxrss`` counts the
    forked image before ``exec``, so the next run's peak would be this process's size, not
    hegui's. (A JSON report puts each key and its number on one line, so no field spans lines.)
    """
    digest = hashlib.sha256()
    with report.open("rb") as handle:
        for line in handle:
            digest.update(_without_timings(line))
    return digest.hexdigest()[:16]


def _without_timings(data: bytes) -> bytes:
    """The report with any wall-clock fields blanked, so reports of two runs can be compared."""
    return re.sub(rb'"(elapsed|duration|seconds|time)[a-z_]*"\s*:\s*[0-9.]+', b'"\\1":0', data)


def run_batch(cfg: dict[str, Any], work: Path) -> dict[str, Any]:
    runs = []
    for size in cfg["batch_sizes"]:
        folder = generate_filings(work / f"filings-{size}", size)
        for jobs in cfg["batch_jobs"]:
            runs.append(run_batch_once(folder, jobs, work / f"batch-{size}-{jobs}.json"))
        shutil.rmtree(folder)
    small, large = min(cfg["batch_sizes"]), max(cfg["batch_sizes"])
    out: dict[str, Any] = {"runs": runs}
    for jobs in cfg["batch_jobs"]:
        a = next(r for r in runs if r["filings"] == small and r["jobs"] == jobs)
        b = next(r for r in runs if r["filings"] == large and r["jobs"] == jobs)
        key = "peak_rss_tree_mb" if b["peak_rss_tree_mb"] else "peak_rss_any_process_mb"
        out[f"memory_growth_jobs{jobs}"] = ratio(b[key], a[key])
        # The goal holds per process: the parent, and the largest worker (none in-process).
        out[f"memory_growth_parent_jobs{jobs}"] = ratio(b["peak_rss_parent_mb"], a["peak_rss_parent_mb"])
        if a["peak_rss_worker_mb"] and b["peak_rss_worker_mb"]:
            out[f"memory_growth_worker_jobs{jobs}"] = ratio(b["peak_rss_worker_mb"], a["peak_rss_worker_mb"])
    for size in cfg["batch_sizes"]:
        per_jobs = {r["jobs"]: r for r in runs if r["filings"] == size}
        if 1 in per_jobs and 2 in per_jobs:
            out[f"speedup_2_vs_1_at_{size}"] = ratio(per_jobs[2]["filings_per_s"], per_jobs[1]["filings_per_s"])
            # On a shared machine wall times carry others' load: the same ratio from CPU times
            # (jobs 1 is one process, so its CPU time is its idle-core wall time).
            out[f"speedup_2_vs_1_cpu_at_{size}"] = ratio(
                per_jobs[1]["cpu_critical_path_s"], per_jobs[2]["cpu_critical_path_s"]
            )
            out[f"same_report_at_{size}"] = per_jobs[1]["report_sha"] == per_jobs[2]["report_sha"]
    return out


# --- 6. service ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def hegui_server(log: Path, workers: int | None = None) -> Iterator[tuple[int, subprocess.Popen]]:
    """``hegui serve`` (with ``workers`` check processes) on a free loopback port, its workers ready;
    stopped (SIGTERM, then SIGKILL) when done."""
    port = free_port()
    cmd = [*hegui_command(), "serve", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    if workers is not None:
        cmd += ["--workers", str(workers)]
    with open(log, "wb") as sink:
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT, env=hegui_env())
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"hegui serve exited {proc.returncode}: {log.read_text(errors='replace')[-500:]}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/healthz")
                answer = conn.getresponse()
                health = json.loads(answer.read()) if answer.status == 200 else {}
                conn.close()
                pool = health.get("workers")
                if health and (pool is None or pool["ready"] == pool["size"]):  # older servers had no pool
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("hegui serve did not answer /healthz within 60 s")
            time.sleep(0.1)
        yield port, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _multipart(path: Path) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return head + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def service_load(port: int, clients: int, requests: int, path: Path) -> dict[str, Any]:
    """``requests`` POST /v1/check of ``path`` shared by ``clients`` threads, each on its own connection.

    A 503 (the service is busy) is retried after 10 ms and counted; a request's latency runs from
    its first attempt to its answer, what a client sees.
    """
    body, content_type = _multipart(path)
    latencies: list[float] = []
    counts = {"ok": 0, "busy_retries": 0, "errors": 0}
    lock = threading.Lock()
    todo = iter(range(requests))

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            while True:
                with lock:
                    if next(todo, None) is None:
                        return
                start = time.perf_counter()
                while True:
                    conn.request("POST", "/v1/check", body=body, headers={"Content-Type": content_type})
                    answer = conn.getresponse()
                    answer.read()
                    if answer.status != 503:
                        break
                    with lock:
                        counts["busy_retries"] += 1
                    time.sleep(0.01)
                elapsed = time.perf_counter() - start
                with lock:
                    if answer.status == 200:
                        counts["ok"] += 1
                        latencies.append(elapsed)
                    else:
                        counts["errors"] += 1
        finally:
            conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    t0 = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - t0
    return {
        "clients": clients,
        "requests": requests,
        **counts,
        "seconds": round(wall, 2),
        "requests_per_s": round(counts["ok"] / wall, 1),
        "latency_p50_ms": round(percentile(latencies, 0.5) * 1000, 1) if latencies else None,
        "latency_p90_ms": round(percentile(latencies, 0.9) * 1000, 1) if latencies else None,
    }


def _server_cpu(proc: subprocess.Popen, memory: TreeMemory) -> tuple[float, float]:
    """CPU seconds so far of the server process and of all its children together."""
    pids = memory._descendants() if memory.available else [proc.pid]
    used = {pid: _cpu_seconds(pid) for pid in pids}
    parent = used.pop(proc.pid, 0.0)
    return parent, sum(used.values())


def run_service(cfg: dict[str, Any], work: Path) -> dict[str, Any]:
    """Each worker count of ``service_workers``: a fresh server, every client level of
    ``service_clients``, and the server's memory (parent and workers, sampled from /proc)."""
    settings = []
    for workers in cfg["service_workers"]:
        results = []
        with hegui_server(work / f"serve-{workers}.log", workers) as (port, proc), TreeMemory(proc.pid) as memory:
            service_load(port, workers or 1, 2 * (workers or 1), EXAMPLE)  # warm-up: each worker's first check
            for clients in cfg["service_clients"]:
                # CPU per request, split between the server (HTTP, uploads) and its workers
                # (checks): what bounds throughput whatever the machine's load.
                before = _server_cpu(proc, memory)
                level = service_load(port, clients, cfg["service_requests"], EXAMPLE)
                after = _server_cpu(proc, memory)
                ok = max(1, level["ok"])
                level["server_cpu_ms_per_request"] = round((after[0] - before[0]) * 1000 / ok, 1)
                level["workers_cpu_ms_per_request"] = round((after[1] - before[1]) * 1000 / ok, 1)
                # Cores the workers had on average: under load (or the kernel's per-session
                # fair share, autogroup) this, not the worker count, caps requests/s.
                level["workers_cores_used"] = round((after[1] - before[1]) / max(level["seconds"], 1e-9), 2)
                results.append(level)
            status = Path(f"/proc/{proc.pid}/status")
            peak = _kib(status.read_text(), "VmHWM") / 1024 if status.exists() else None
        children = [kib for pid, kib in memory.hwm.items() if pid != proc.pid]
        setting: dict[str, Any] = {
            "workers": workers,
            "levels": results,
            "server_peak_rss_mb": round(peak, 1) if peak else None,
            "worker_peak_rss_mb": round(max(children) / 1024, 1) if children else None,
            "tree_peak_rss_mb": round(memory.tree_peak_kib / 1024, 1) if memory.samples else None,
        }
        one = next((r for r in results if r["clients"] == 1), None)
        many = max(results, key=lambda r: r["clients"])
        if one and many is not one:
            setting["throughput_scaling"] = ratio(many["requests_per_s"], one["requests_per_s"])
        settings.append(setting)
    out: dict[str, Any] = {"settings": settings}
    if len(settings) > 1:
        # The goal: throughput grows with worker processes (at the most clients).
        first, last = settings[0], settings[-1]
        best = [max(r["requests_per_s"] for r in s["levels"]) for s in (first, last)]
        out["worker_scaling"] = ratio(best[1], best[0])
    return out


# --- profile ---------------------------------------------------------------------------------------


def profile_warm_check(work: Path, rules: int, repeats: int = 5, top: int = 25) -> dict[str, Any]:
    """cProfile of ``repeats`` warm ``Evaluator.check`` calls of the example at ``rules`` rules."""
    from hegui.facts.read import read_filing

    checker, got = load_checker([rules_dir(work, rules)])
    filing = read_filing(EXAMPLE)
    for _ in range(2):
        checker.check(filing)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeats):
        checker.check(filing)
    profiler.disable()
    stats = pstats.Stats(profiler, stream=io.StringIO())
    total = stats.total_tt  # type: ignore[attr-defined]
    rows = []
    by_area: dict[str, float] = {}
    for (file, line, func), (_cc, calls, tottime, cumtime, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        area = _area(file)
        by_area[area] = by_area.get(area, 0.0) + tottime
        rows.append((tottime, cumtime, calls, f"{_short(file)}:{line}({func})"))
    rows.sort(reverse=True)
    return {
        "rules": got,
        "checks": repeats,
        "ms_per_check": round(total / repeats * 1000, 2),
        "top_self_time": [
            {
                "function": name,
                "self_share": round(t / total, 3),
                "cum_share": round(c / total, 3),
                "calls": n // repeats,
            }
            for t, c, n, name in rows[:top]
        ],
        "top_cumulative": [
            {"function": name, "cum_share": round(c / total, 3), "calls": n // repeats}
            for _t, c, n, name in sorted(rows, key=lambda row: -row[1])[:top]
        ],
        "self_time_by_area": {k: round(v / total, 3) for k, v in sorted(by_area.items(), key=lambda kv: -kv[1])},
    }


def _short(file: str) -> str:
    """A profile entry's file, short: relative to hegui's root or to pyDatalog's package."""
    path = Path(file)
    if path.is_absolute() and path.is_relative_to(ROOT) and ".venv" not in path.parts:
        return str(path.relative_to(ROOT))
    if "pyDatalog" in path.parts:
        return "/".join(path.parts[path.parts.index("pyDatalog") :])
    return path.name if path.is_absolute() else file


def _area(file: str) -> str:
    """Where a profile entry's self time goes: a hegui module, a pyDatalog module, or the rest."""
    path = Path(file)
    if "pyDatalog" in path.parts:
        return "pyDatalog/" + path.stem
    if path.is_absolute() and path.is_relative_to(ROOT) and ".venv" not in path.parts:
        rel = path.relative_to(ROOT)
        return "hegui/" + "/".join((*rel.parts[:-1], rel.stem))
    if file.startswith(("~", "<")):
        return "builtins (C functions)"
    return "stdlib/other"


# --- report ----------------------------------------------------------------------------------------


def _f(value: Any, unit: str = "", digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}f}{unit}"
    return f"{value}{unit}"


def render(results: dict[str, Any]) -> str:
    out: list[str] = []
    env = results["environment"]
    out.append(
        f"hegui bench ({'quick' if results['quick'] else 'full'}) — Python {env['python']}, pyDatalog {env['pydatalog']}, "
        f"{env['cpus']} CPUs, load average {env['load_average_start']} at start, {env['load_average_end']} at end"
    )
    out.append("Figures under load are indicative only; compare ratios measured in one run.")
    anchor = results.get("anchor")
    if anchor and anchor.get("note"):
        out.append(f"! {anchor['note']}")
    warm = results.get("warm")
    if warm:
        out.append("")
        out.append("Warm check of the example, median ms (p90) per filing")
        cols = ("read", *PHASES, "check", "check_cpu", "total")
        out.append(f"  {'rules':>5}  " + "  ".join(f"{c:>15}" for c in cols) + "  findings")
        for row in warm.values():
            cells = [
                f"{row[c]['median_ms']:7.2f} ({row[c]['p90_ms']:6.2f})" if row.get(c) else f"{'—':>15}" for c in cols
            ]
            label = f"  ({row['label']})" if row.get("label") else ""
            out.append(f"  {row['rules']:>5}  " + "  ".join(cells) + f"  {row['finding_count']:>8}{label}")
            if row.get("phase_error"):
                out.append(f"         phases left out: {row['phase_error']}")
        out.append(
            "  check = Evaluator.check as a whole (check_cpu: its CPU time); the phases come from bench's step-by-step copy"
        )
    if anchor and anchor.get("warm_ms") is not None:
        out.append("")
        out.append(
            f"Anchor (raw pyDatalog, {anchor['rules']} rules): {anchor['warm_ms']:.2f} ms/filing "
            f"(CPU {_f(anchor.get('warm_cpu_ms'), ' ms', 2)}); hegui/anchor = {_f(anchor.get('ratio_check'), '×', 2)} "
            f"(check), {_f(anchor.get('ratio_check_cpu'), '×', 2)} (check, CPU time), "
            f"{_f(anchor.get('ratio_read_and_check'), '×', 2)} (read + check)   [goal ≤ 2×]"
        )
        if anchor.get("ratio_check_new_texts") is not None:
            out.append(
                f"  with every text new to the check: {_f(anchor.get('ratio_check_new_texts'), '×', 2)} (check), "
                f"{_f(anchor.get('ratio_check_cpu_new_texts'), '×', 2)} (check, CPU time)"
            )
    scaling = results.get("scaling")
    if scaling:
        out.append("")
        out.append("Rule-count scaling (warm check of the example vs anchor, median ms)")
        out.append(
            f"  {'rules':>5}  {'hegui':>8}  {'query':>8}  {'anchor':>8}  {'ratio':>6}  "
            f"{'hegui cpu':>9}  {'anchor cpu':>10}  {'ratio cpu':>9}"
        )
        for p in scaling["points"]:
            out.append(
                f"  {p['rules']:>5}  {_f(p['hegui_check_ms'], '', 2):>8}  {_f(p['hegui_query_ms'], '', 2):>8}  "
                f"{_f(p['anchor_ms'], '', 2):>8}  {_f(p['ratio'], '×', 2):>6}  {_f(p['hegui_check_cpu_ms'], '', 2):>9}  "
                f"{_f(p['anchor_cpu_ms'], '', 2):>10}  {_f(p['ratio_cpu'], '×', 2):>9}"
            )
        for suffix, label in (("", "wall"), ("_cpu", "CPU")):
            out.append(
                f"  slope ({label}): hegui {_f(scaling['hegui_ms_per_rule' + suffix], ' ms/rule', 3)}, anchor "
                f"{_f(scaling['anchor_ms_per_rule' + suffix], ' ms/rule', 3)}, "
                f"ratio {_f(scaling['slope_ratio' + suffix], '×', 2)}"
            )
    cold = results.get("cold")
    if cold:
        out.append("")
        out.append(
            f"Cold start, whole process wall time in ms: median (p90) of {cold['runs']['hegui --help']['n']}, first run"
        )
        for name, row in cold["runs"].items():
            out.append(
                f"  {name:<32} {row['median_ms']:8.1f} ({row['p90_ms']:8.1f})  first {row['first_ms']:8.1f}"
                f"  CPU {row['cpu_median_ms']:8.1f}"
            )
        out.append(
            f"  hegui check / anchor cold = {_f(cold['ratio_check_builtin'], '×', 2)} (built-in rules), "
            f"{_f(cold['ratio_check_rules'], '×', 2)} (same rule count); CPU time: "
            f"{_f(cold['ratio_check_builtin_cpu'], '×', 2)}, {_f(cold['ratio_check_rules_cpu'], '×', 2)}   [goal ≤ 1.2×]"
        )
    batch = results.get("batch")
    if batch:
        out.append("")
        out.append("Batch: hegui check DIR --jobs N --format json -o FILE (peak RSS in MB)")
        out.append(
            f"  {'filings':>7} {'jobs':>4} {'seconds':>8} {'CPU s':>8} {'parent CPU':>10} {'CPU path':>8} {'filings/s':>9} "
            f"{'parent':>8} {'worker':>8} {'tree':>8} {'any(wait4)':>10}"
        )
        for r in batch["runs"]:
            out.append(
                f"  {r['filings']:>7} {r['jobs']:>4} {r['seconds']:>8.2f} {r['cpu_s']:>8.2f} {r['cpu_parent_s']:>10.2f} "
                f"{r['cpu_critical_path_s']:>8.2f} {r['filings_per_s']:>9.1f} "
                f"{_f(r['peak_rss_parent_mb']):>8} {_f(r['peak_rss_worker_mb']):>8} {_f(r['peak_rss_tree_mb']):>8} "
                f"{r['peak_rss_any_process_mb']:>10.1f}"
            )
        extras = [f"{k} = {v}" for k, v in batch.items() if k != "runs"]
        out.append("  " + "; ".join(extras) + "   [goals: memory growth ≤ 1.1, speed-up ≥ 1.8 on idle cores]")
    service = results.get("service")
    if service:
        out.append("")
        out.append("Service: POST /v1/check of the example, by worker processes and concurrent clients")
        out.append(
            f"  {'workers':>7} {'clients':>7} {'requests':>8} {'ok':>4} {'503 retries':>11} {'req/s':>6} "
            f"{'p50 ms':>8} {'p90 ms':>8} {'CPU ms/req server':>17} {'workers':>7} {'worker cores':>12}"
        )
        for setting in service["settings"]:
            for r in setting["levels"]:
                out.append(
                    f"  {setting['workers'] or 'default':>7} {r['clients']:>7} {r['requests']:>8} {r['ok']:>4} {r['busy_retries']:>11} "
                    f"{r['requests_per_s']:>6.1f} {_f(r['latency_p50_ms']):>8} {_f(r['latency_p90_ms']):>8} "
                    f"{_f(r.get('server_cpu_ms_per_request')):>17} {_f(r.get('workers_cpu_ms_per_request')):>7} "
                    f"{_f(r.get('workers_cores_used'), digits=2):>12}"
                )
        for setting in service["settings"]:
            out.append(
                f"  {setting['workers'] or 'default'} worker(s): peak RSS server {_f(setting['server_peak_rss_mb'])} MB, "
                f"largest worker {_f(setting['worker_peak_rss_mb'])} MB, all at once {_f(setting['tree_peak_rss_mb'])} MB; "
                f"most clients / 1 client = {setting.get('throughput_scaling')}×"
            )
        if "worker_scaling" in service:
            out.append(f"  best req/s with the most workers / with one = {service['worker_scaling']}×")
    profile = results.get("profile")
    if profile:
        out.append("")
        out.append(
            f"Profile: {profile['checks']} warm checks of the example at {profile['rules']} rules, "
            f"{profile['ms_per_check']} ms each under cProfile; self time share by area:"
        )
        for area, share in list(profile["self_time_by_area"].items())[:10]:
            out.append(f"  {share * 100:5.1f}%  {area}")
        out.append("  top functions by self time (self %, cumulative %, calls per check):")
        for row in profile["top_self_time"][:15]:
            out.append(
                f"  {row['self_share'] * 100:5.1f}%  {row['cum_share'] * 100:5.1f}%  {row['calls']:>7}  {row['function']}"
            )
        out.append("  top functions by cumulative time (cumulative %, calls per check):")
        for row in profile["top_cumulative"][:20]:
            out.append(f"  {row['cum_share'] * 100:5.1f}%  {row['calls']:>7}  {row['function']}")
        out.append("  (pyDatalog's resolution is compiled: its time shows as self time of pyParser.ask)")
    out.append("")
    out.append(f"wall time {results['wall_s']:.1f} s")
    return "\n".join(out) + "\n"


# --- main ------------------------------------------------------------------------------------------


def environment() -> dict[str, Any]:
    from importlib import metadata

    def version(name: str) -> str | None:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    return {
        "python": platform.python_version(),
        "executable": sys.executable,
        "platform": platform.platform(terse=True),
        "cpus": os.cpu_count(),
        "hegui": version("hegui"),
        "pydatalog": version("pyDatalog"),
        "load_average_start": load_average(),
    }


def run(
    sections: tuple[str, ...],
    cfg: dict[str, Any],
    *,
    anchor_arg: str | None = None,
    profile: bool = False,
    quick: bool = False,
    log: Callable[[str], None] = lambda _m: None,
) -> dict[str, Any]:
    """Run ``sections`` at the sizes of ``cfg``; the result is the JSON document."""
    wall0 = time.perf_counter()
    anchor, note = find_anchor(anchor_arg)
    results: dict[str, Any] = {"schema": SCHEMA, "quick": quick, "sizes": cfg, "environment": environment()}
    with tempfile.TemporaryDirectory(prefix="hegui-bench-all-") as tmp:
        work = Path(tmp)
        if "warm" in sections:
            log("warm phases …")
            results["warm"] = run_warm(cfg, work)
        if "anchor" in sections:
            log("anchor …")
            results["anchor"] = run_anchor(cfg, anchor, note, results.get("warm"))
        if "scaling" in sections:
            log("rule-count scaling …")
            results["scaling"] = run_scaling(cfg, work, anchor)
        if "cold" in sections:
            log("cold start …")
            results["cold"] = run_cold(cfg, work, anchor)
        if "batch" in sections:
            log("batch …")
            results["batch"] = run_batch(cfg, work)
        if "service" in sections:
            log("service …")
            results["service"] = run_service(cfg, work)
        if profile:
            log("profile …")
            results["profile"] = profile_warm_check(work, cfg["rules"])
    if "anchor" not in results and note:
        results["anchor"] = {"path": None, "note": note, "warm_ms": None}
    results["environment"]["load_average_end"] = load_average()
    results["wall_s"] = round(time.perf_counter() - wall0, 1)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark hegui against the raw pyDatalog anchor (issue 14).")
    parser.add_argument("--quick", action="store_true", help="small sizes (under ~2 min), for a smoke test")
    parser.add_argument("--json", action="store_true", help="JSON on stdout (the table goes to stderr)")
    parser.add_argument("--out", type=Path, help="also write the JSON document to this file")
    parser.add_argument("--anchor", help="path of anchor.py (default: ../shared/bench/anchor.py from the repo root)")
    parser.add_argument(
        "--sections", default=",".join(SECTIONS), help=f"comma-separated subset of {','.join(SECTIONS)}"
    )
    parser.add_argument("--profile", action="store_true", help="also cProfile warm checks of the example at 100 rules")
    parser.add_argument(
        "--service-workers",
        help="comma-separated worker counts for the service section (default 1,2); "
        "'default' starts the server without --workers (its own default; servers before the pool)",
    )
    args = parser.parse_args(argv)
    sections = tuple(s.strip() for s in args.sections.split(",") if s.strip())
    unknown = [s for s in sections if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    cfg = dict(QUICK if args.quick else FULL)
    if args.service_workers:
        cfg["service_workers"] = tuple(
            None if w.strip() == "default" else int(w) for w in args.service_workers.split(",") if w.strip()
        )

    def log(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    results = run(sections, cfg, anchor_arg=args.anchor, profile=args.profile, quick=args.quick, log=log)
    document = json.dumps(results, ensure_ascii=False, indent=2)
    if args.out:
        args.out.write_text(document + "\n", encoding="utf-8")
    if args.json:
        sys.stderr.write(render(results))
        print(document)
    else:
        sys.stdout.write(render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
