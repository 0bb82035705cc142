"""Batch checking (app/batch.py): supervised workers, streamed results, resume, reports from the spool.

The worker-pool runs are the cost of this file, so they are few and shared: one module-scoped
run of the whole corpus on two workers (good, bad, hanging, crashing and once-killed inputs)
that most tests assert on, one run on a single worker, one interrupted-and-resumed pair, and
one with options. The report formats are compared on a small batch checked in this process.

The corpus is generated into a temporary folder: sixteen small variants of the example
(amounts, counts and years changed; most cut to 附件1–2 so the file stays fast), a few Office
files, corrupt and hostile files (binary, empty, truncated, a zip bomb named .xlsx, an entity
bomb .docx, a legacy .xls), and files that misbehave *inside the worker*. Those are read by a
test-only reader plugin: a real module plus a ``*.dist-info`` folder with an
``entry_points.txt`` in the temporary folder, put on ``sys.path``/``PYTHONPATH`` so that
``importlib.metadata`` finds it in the spawned workers too (monkeypatching this process would
not reach them). Its reader calls ``os._exit(137)`` for ``.kill``, SIGKILLs itself for
``.sigkill``, sleeps for an hour for ``.hang`` and raises for ``.boom``; ``.once`` is SIGKILLed
the first time only (as by the OOM killer); for ``.counted`` it logs the read and reads a text
dump, so a test can count the filings workers really checked.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import io
import json
import multiprocessing
import os
import random
import sys
import textwrap
import time
import weakref
import zipfile
from pathlib import Path

import openpyxl
import pytest

import hegui.app.batch as batch_module
import hegui.engine.evaluate as evaluate_module
from hegui.app.batch import (
    BatchOptions,
    entry_of,
    expand_inputs,
    format_summary,
    outcomes_from_entries,
    read_results,
    run_batch,
)
from hegui.app.checker import Checker
from hegui.engine.evaluate import Evaluator
from hegui.engine.rules import RuleLoadError
from hegui.engine.waivers import Waiver, apply_waivers
from hegui.facts.errors import InputError
from hegui.facts.read import read_filing
from hegui.plugins.manager import PluginError, build_registry, load_registered_rules
from hegui.reports import FilingOutcome, ReportContext, exit_code, reporters_for, to_json, to_text

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "shifeng-zzb-2023.txt"
PLUGIN = "hegui_batch_testplugin"
TIMEOUT = 1.0  # seconds per filing: what a .hang costs; the slowest good one takes ≈0.17 s in a fresh worker (an .xlsx), 6× less
#: Every kind of variant (each cut, each year, the full filing) several times over, and enough
#: filings that each of two workers checks several in a row; the whole corpus is checked twice
#: (in this process for the reference, and by the workers), so its size is the suite's cost.
GOOD_FILINGS = 16

PLUGIN_SOURCE = textwrap.dedent(
    '''
    """Test-only reader plugin whose reader misbehaves inside the batch worker."""
    import os
    import signal
    import time
    from pathlib import Path

    from hegui.plugins.hookspecs import hookimpl


    def _log(event, path=""):
        log = os.environ.get("HEGUI_BATCH_TEST_LOG")
        if log:
            with open(log, "a", encoding="utf-8") as handle:
                handle.write(f"{os.getpid()}\\t{event}\\t{path}\\n")


    def read(path):
        suffix = Path(path).suffix
        if suffix == ".kill":
            os._exit(137)
        if suffix == ".sigkill":
            os.kill(os.getpid(), signal.SIGKILL)
        if suffix == ".hang":
            time.sleep(3600)
        if suffix == ".boom":
            raise RuntimeError("boom")
        if suffix == ".once" and not Path(str(path) + ".died").exists():
            Path(str(path) + ".died").write_text("x")  # killed the first time only: as by OOM
            os.kill(os.getpid(), signal.SIGKILL)
        _log("read", str(path))
        from hegui.facts.textdump import read_text_dump

        return read_text_dump(path)


    @hookimpl
    def hegui_register_readers(register):
        _log("registry")  # once per plugin registry built: once per worker, never per filing
        register((".kill", ".sigkill", ".hang", ".boom", ".counted", ".once"), read)
    '''
)

KILLERS = {  # file name -> the error its worker leaves behind
    # Killed again on the retry alone that every filing whose worker died gets.
    "worker.kill": "检查进程异常退出（退出码137）；已单独重试一次，仍然失败",
    "worker.sigkill": "检查进程异常退出（退出码-9，被信号SIGKILL终止）；已单独重试一次，仍然失败",
    # Named to sort first in bad/: while it holds one worker, the other goes on with quick
    # errors rather than with the killers, whose replacement workers take a while to start.
    "0-worker.hang": f"检查超时（超过{TIMEOUT:g}秒）",
}
#: Each dead worker costs two worker start-ups one after another (its filing is retried alone),
#: the suite's dearest seconds: the big run gets the SIGKILL, the one-worker run the os._exit,
#: so the .kill file lives in a hidden folder that a folder's expansion skips.
OUTSIDE = ".one-worker-only"


# --- fixtures: plugin, corpus, reference --------------------------------------------------------


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory):
    """The test plugin installed for this process and every worker it spawns."""
    site = tmp_path_factory.mktemp("site")
    (site / f"{PLUGIN}.py").write_text(PLUGIN_SOURCE, encoding="utf-8")
    info = site / f"{PLUGIN}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: hegui-batch-testplugin\nVersion: 0.1\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(f"[hegui]\nbatchtest = {PLUGIN}\n", encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(site))
        mp.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])))
        mp.delenv("HEGUI_PLUGINS", raising=False)
        mp.delenv("HEGUI_BATCH_TEST_LOG", raising=False)
        yield mp
    sys.modules.pop(PLUGIN, None)


def _module(name: str):
    spec = importlib.util.spec_from_file_location(f"_batch_{name}", REPO / "tests" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def variant(lines: list[str], i: int) -> str:
    """Filing ``i``: amounts, a count and the year changed; most cut after 附件1 or 附件2 (fast to check)."""
    lines = list(lines)
    lines[28] = f"\t{900 + i % 80}.{(i * 7) % 100:02d}"  # 一般公共预算拨款 (was 939.28)
    lines[30] = f"\t{356 + i % 4}.38"  # 基本支出
    lines[60] = lines[60].replace("9个村", f"{7 + i % 5}个村")
    year = (2022, 2023, 2024)[i % 3]
    for n in (7, 132):  # the titles of 附件1 and 附件2
        lines[n] = lines[n].replace("2023年", f"{year}年", 1)
    cut = len(lines) if i % 100 == 7 else 323 if i % 10 == 0 else 188 if i % 3 == 0 else 131
    return "\n".join(lines[:cut])


def _zip_bomb(path: Path) -> None:
    """A zip that *declares* a 4 GB member: the central directory is patched, nothing is inflated."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", "<worksheet>" + "0" * 5000 + "</worksheet>")
    data = bytearray(buffer.getvalue())
    central = data.rfind(b"PK\x01\x02")  # the last member's central directory header
    data[central + 24 : central + 28] = (0xFFFFFFF0).to_bytes(4, "little")  # its uncompressed size
    path.write_bytes(bytes(data))


def _entity_bomb(path: Path) -> None:
    lol = '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", f'<?xml version="1.0"?>{lol}<w:document>&lol2;</w:document>')


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """``(root, good, bad)``: the folder, the good filings and the bad ones (with what they should say)."""
    root = tmp_path_factory.mktemp("corpus")
    lines = EXAMPLE.read_text(encoding="utf-8").split("\n")
    good: list[Path] = []
    for i in range(GOOD_FILINGS):
        folder = root / f"dept{i % 8}"
        folder.mkdir(exist_ok=True)
        path = folder / f"filing-{i:03d}.txt"
        path.write_text(variant(lines, i), encoding="utf-8")
        good.append(path)
    office = root / "office"
    office.mkdir()
    make_xlsx, make_docx = _module("make_xlsx"), _module("make_docx")
    good += [
        make_xlsx.write_form_xlsx(office / "form.xlsx"),
        make_xlsx.write_form_xlsx(office / "stacked.xlsx", stacked=True),
        make_docx.write_docx(office / "filing.docx"),
    ]
    bad = root / "bad"
    bad.mkdir()
    (bad / "binary.txt").write_bytes(random.Random(7).randbytes(4096))
    (bad / "empty.txt").write_bytes(b"")
    (bad / "truncated.xlsx").write_bytes((office / "form.xlsx").read_bytes()[:3000])
    _zip_bomb(bad / "zipbomb.xlsx")
    _entity_bomb(bad / "entities.docx")
    (bad / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2000))
    (bad / "broken.boom").write_text("x", encoding="utf-8")
    for name in KILLERS:
        (bad / name).write_text("x", encoding="utf-8")
    (root / OUTSIDE).mkdir()
    (bad / "worker.kill").rename(root / OUTSIDE / "worker.kill")
    # Its worker is killed the first time (as by the OOM killer): retried alone, it is checked.
    retry = root / "retry"
    retry.mkdir()
    once = retry / "again.once"
    once.write_text(variant(lines, 1), encoding="utf-8")
    good.append(once)
    # Killers sort last: a worker that dies while other filings are pending is replaced, then
    # its filing gets another worker for the retry alone; dying at the end, it needs only that one.
    (bad / "worker.sigkill").rename(retry / "worker.sigkill")
    # Not filings: never picked up from a folder.
    (root / "dept0" / "~$filing-000.txt").write_text("lock", encoding="utf-8")
    (root / "dept0" / ".hidden.txt").write_text("hidden", encoding="utf-8")
    (root / "dept0" / "notes.rtf").write_text("notes", encoding="utf-8")
    expected_bad = {
        "binary.txt": "不是文本文件",  # the reader's wording for binary data
        "empty.txt": "文件为空",
        "truncated.xlsx": "损坏",
        "zipbomb.xlsx": "压缩炸弹",
        "entities.docx": "实体炸弹",
        "old.xls": "Excel 97-2003",
        "broken.boom": "RuntimeError: boom",
        **{name: words for name, words in KILLERS.items() if name != "worker.kill"},
    }
    paths = {str(bad / name): words for name, words in expected_bad.items()}
    paths[str(retry / "worker.sigkill")] = paths.pop(str(bad / "worker.sigkill"))
    return root, [str(p) for p in good], paths


@pytest.fixture(scope="module")
def reference(plugin_env, corpus):
    """What checking each filing on its own, in this process, gives (as ``hegui check`` does).

    The worker-killing files cannot be checked here (they would kill the test): their entries
    are the errors the supervisor must record.
    """
    root, _good, _bad = corpus
    registry = build_registry()
    ruleset = load_registered_rules(registry)
    checker = Evaluator(ruleset, registry)
    entries: dict[str, dict] = {}
    outcomes: dict[str, FilingOutcome] = {}
    for path in expand_inputs([root], registry):
        if Path(path).name in KILLERS:
            outcome = FilingOutcome(path, error=InputError(path, KILLERS[Path(path).name]))
        else:
            try:
                filing = _read_as_retried(path, registry)
            except InputError as exc:
                outcome = FilingOutcome(path, error=exc)
            else:
                result = checker.check(filing)
                outcome = FilingOutcome(path, filing, result.findings, jurisdiction=result.jurisdiction)
        outcomes[path] = outcome
        entries[path] = entry_of(outcome, ruleset)
    return {"ruleset": ruleset, "entries": entries, "outcomes": outcomes}


def _read_as_retried(path: str, registry):
    """The filing as read in a worker, a .once file as its retry reads it (not killing this process)."""
    marker = Path(path + ".died")
    made = path.endswith(".once") and not marker.exists()
    if made:
        marker.write_text("x")
    try:
        return read_filing(path, registry)
    finally:
        if made:
            marker.unlink()  # the batch's worker must still die on it the first time


def _log_events(log: Path) -> list[tuple[int, str, str]]:
    if not log.exists():
        return []
    return [
        (int(pid), event, path)
        for pid, event, path in (line.split("\t") for line in log.read_text(encoding="utf-8").splitlines())
    ]


@pytest.fixture(scope="module")
def two_workers(plugin_env, corpus, tmp_path_factory):
    """The whole corpus on two workers, with JSON Lines streamed; checks made while it runs."""
    root, _, _ = corpus
    work = tmp_path_factory.mktemp("two")
    results, log = work / "results.jsonl", work / "events.log"
    plugin_env.setenv("HEGUI_BATCH_TEST_LOG", str(log))
    seen: list[dict] = []
    alive: list[int] = []

    def on_result(entry: dict) -> None:
        # Streaming: the entry is on disk, as the last complete line, when the caller hears of it.
        lines = results.read_text(encoding="utf-8").splitlines()
        assert len(lines) == len(seen) + 1
        assert json.loads(lines[-1]) == entry
        seen.append(entry)
        alive.append(len(multiprocessing.active_children()))

    compiled_here: list[object] = []  # compilations in this process, the supervisor's
    real = evaluate_module.compiled_rules
    plugin_env.setattr(evaluate_module, "compiled_rules", lambda *a, **k: compiled_here.append(a) or real(*a, **k))
    start = time.monotonic()
    batch = run_batch(
        [root], jobs=2, timeout=TIMEOUT, options=BatchOptions(), results_path=results, on_result=on_result
    )
    elapsed = time.monotonic() - start
    plugin_env.setattr(evaluate_module, "compiled_rules", real)
    plugin_env.delenv("HEGUI_BATCH_TEST_LOG")
    return {
        "compiled_here": len(compiled_here),
        "batch": batch,
        "seen": seen,
        "alive": alive,
        "results": results,
        "events": _log_events(log),
        "elapsed": elapsed,
    }


# --- inputs ------------------------------------------------------------------------------------


def test_expand_inputs_is_sorted_recursive_and_skips_non_filings(plugin_env, corpus, tmp_path):
    root, good, bad = corpus
    found = expand_inputs([root])
    assert sorted(found) == sorted(good + list(bad))  # lock, hidden and notes.rtf skipped
    in_bad = sorted(p for p in bad if Path(p).parent.name == "bad")
    assert found[: len(in_bad)] == in_bad  # bad/ sorts before dept0/ … office/, retry/
    assert found[-2:] == [p for p in good if p.endswith(".once")] + [p for p in bad if p.endswith(".sigkill")]
    # Sorted by path components, whatever order the file system lists them in.
    assert found == sorted(found, key=lambda p: Path(p).relative_to(root).parts)
    # Files named explicitly are kept as given (any suffix, even missing ones), once each.
    explicit = [str(root / "dept0" / "notes.rtf"), good[0], str(tmp_path / "missing.txt"), good[0]]
    assert expand_inputs(explicit) == explicit[:3]
    # A reader plugin's suffix is searched for only when the plugin is registered.
    assert any(p.endswith(".sigkill") for p in found)
    assert not any(p.endswith(".sigkill") for p in expand_inputs([root], build_registry(entry_points=False)))


# --- the big batch ------------------------------------------------------------------------------


def test_every_filing_gets_the_result_of_checking_it_alone(two_workers, reference, corpus):
    _root, good, bad = corpus
    batch = two_workers["batch"]
    assert batch.paths == list(reference["entries"])  # input order
    assert len(batch.paths) == len(good) + len(bad) > 25
    by_path = dict(zip(batch.paths, batch.entries, strict=True))
    mismatched = [p for p in batch.paths if by_path[p] != reference["entries"][p]]
    assert not mismatched, mismatched[:5]
    for path in good:
        assert by_path[path]["status"] == "checked", by_path[path]
    for path, words in bad.items():
        assert by_path[path]["status"] == "error" and words in by_path[path]["error"]["message"], (path, by_path[path])
    # …so the whole report is the one a sequential run gives, byte for byte.
    outcomes = [reference["outcomes"][p] for p in batch.paths]
    assert batch.to_json() == to_json(outcomes, reference["ruleset"])
    assert batch.to_text() == to_text(outcomes, reference["ruleset"])
    assert exit_code(batch.outcomes(), "error") == exit_code(outcomes, "error") == 2


def test_the_variants_really_differ(two_workers, corpus):
    """A few hundred filings that all gave the same answer would prove little."""
    _, good, _ = corpus
    by_path = dict(zip(two_workers["batch"].paths, two_workers["batch"].entries, strict=True))
    answers = {
        json.dumps([(f["rule_id"], f["message"]) for f in by_path[p]["findings"]], ensure_ascii=False) for p in good
    }
    assert len(answers) > len(good) // 2


def test_summary_counts(two_workers, reference, corpus):
    _, good, bad = corpus
    summary = two_workers["batch"].summary
    entries = list(reference["entries"].values())
    findings = {
        k: sum(e["counts"][k] for e in entries if e["status"] == "checked")
        for k in ("error", "warning", "info", "cannot_verify", "waived", "total")
    }
    assert summary == {
        "filings": len(good) + len(bad),
        "checked": len(good),
        "errors": len(bad),
        "timeouts": 1,
        "crashes": 1,
        "resumed": 0,
        "findings": findings,
    }
    document = json.loads(two_workers["batch"].to_json())
    assert document["counts"]["files"] == summary["filings"] and document["counts"]["input_errors"] == summary["errors"]
    assert {k: document["counts"][k] for k in findings} == findings
    line = format_summary(summary)
    assert f"文件{len(good) + len(bad)}个" in line and "超时1个" in line and "进程异常退出1个" in line


def test_results_stream_as_json_lines_in_completion_order(two_workers):
    batch, results = two_workers["batch"], two_workers["results"]
    lines = results.read_text(encoding="utf-8").splitlines()
    streamed = [json.loads(line) for line in lines]  # one object per line, each parseable
    assert streamed == two_workers["seen"]
    assert sorted(e["file"] for e in streamed) == sorted(batch.paths)
    assert read_results(results) == dict(zip(batch.paths, batch.entries, strict=True))
    # The hang holds its worker for the whole timeout while the other one goes on: completion
    # order is not input order, but the report is.
    order = [e["file"] for e in streamed]
    hang = next(p for p in batch.paths if p.endswith(".hang"))
    assert order != batch.paths and order.index(hang) > batch.paths.index(hang) + 1


def test_the_supervisor_leaves_compiling_the_rules_to_its_workers(two_workers):
    """With workers, the supervisor loads the rules (bad rules still stop the batch before any
    filing) but does not compile them: it checks nothing itself."""
    assert two_workers["compiled_here"] == 0
    assert len(two_workers["batch"].paths) == len(two_workers["seen"]) > 0  # and the batch ran


def test_workers_are_supervised_and_load_the_rules_once(two_workers, corpus):
    assert max(two_workers["alive"]) <= 2  # never more than jobs alive
    events = [(pid, event) for pid, event, _ in two_workers["events"] if pid != os.getpid()]
    registries = [pid for pid, event in events if event == "registry"]
    assert len(registries) == len(set(registries))  # once per worker process…
    # …and a replacement per worker lost (each killer twice: it is retried; the .once file once)
    assert 2 <= len(registries) <= 2 + 2 * 2 + 1  # the SIGKILL and the hang; the .once file
    assert multiprocessing.active_children() == []  # nothing left behind
    assert two_workers["elapsed"] < 60


def test_a_filing_whose_worker_died_is_retried_once_alone(two_workers, reference, corpus):
    """Its worker killed (as the OOM killer would) the first time, the filing is checked again
    alone and gets its real result; a filing that kills every worker is an error after one
    retry (the killers' messages in KILLERS end with the retry note)."""
    root, _, _ = corpus
    once = str(root / "retry" / "again.once")
    assert Path(once + ".died").exists()  # it did die once
    by_path = dict(zip(two_workers["batch"].paths, two_workers["batch"].entries, strict=True))
    assert by_path[once]["status"] == "checked" and by_path[once]["findings"]
    assert by_path[once] == reference["entries"][once]


def test_one_worker_gives_the_same_report_byte_for_byte(two_workers, reference, plugin_env, corpus):
    """One worker, replaced after a filing that kills it (os._exit, again on its retry), gives
    what checking each filing alone gives, and what two workers gave.

    On the quick bad filings and every fifth good one: the number of workers changes nothing
    per filing, and the good filings are all alike to a worker. The hang is left to the big run:
    a timeout replaces a worker the same way whatever their number, and here it would cost its
    whole timeout with nothing else running.
    """
    root, good, bad = corpus
    kill = str(root / OUTSIDE / "worker.kill")
    quick = [p for p in sorted(bad) if Path(p).suffix in (".txt", ".boom")]
    paths = [*quick, *good[::5], kill]  # the killer last: after its retry no replacement is needed
    one = run_batch(paths, jobs=1, timeout=TIMEOUT, options=BatchOptions())
    assert one.paths == paths
    killed = {"file": kill, "status": "error", "error": {"message": KILLERS["worker.kill"], "location": ""}}
    expected = {**reference["entries"], kill: killed}
    assert list(one.entries) == [expected[p] for p in paths]
    by_path = dict(zip(two_workers["batch"].paths, two_workers["batch"].entries, strict=True))
    assert list(one.entries)[:-1] == [by_path[p] for p in paths[:-1]]
    outcomes = [reference["outcomes"][p] for p in paths[:-1]]
    outcomes.append(FilingOutcome(kill, error=InputError(kill, KILLERS["worker.kill"])))
    assert one.to_json() == to_json(outcomes, reference["ruleset"])
    assert one.to_text() == to_text(outcomes, reference["ruleset"])
    assert (one.summary["timeouts"], one.summary["crashes"], one.summary["errors"]) == (0, 1, 1 + len(quick))


# --- resume -------------------------------------------------------------------------------------


class _Interrupted(Exception):
    pass


@pytest.fixture
def counted(plugin_env, tmp_path):
    """Eight filings read through the counting reader, and one whose reader raises (sorted first)."""
    folder = tmp_path / "counted"
    folder.mkdir()
    lines = EXAMPLE.read_text(encoding="utf-8").split("\n")
    for i in range(8):
        (folder / f"f{i:02d}.counted").write_text(variant(lines, i * 3 + 1), encoding="utf-8")
    (folder / "a.boom").write_text("x", encoding="utf-8")
    log = tmp_path / "events.log"
    plugin_env.setenv("HEGUI_BATCH_TEST_LOG", str(log))
    yield folder, log
    plugin_env.delenv("HEGUI_BATCH_TEST_LOG")


def test_resume_after_an_interruption_redoes_nothing(counted, tmp_path):
    folder, log = counted
    results = tmp_path / "results.jsonl"
    got: list[str] = []

    def stop_after_four(entry: dict) -> None:
        got.append(entry["file"])
        if len(got) == 4:
            raise _Interrupted  # as if the intake job were stopped here

    with pytest.raises(_Interrupted):
        run_batch([folder], jobs=2, timeout=TIMEOUT, results_path=results, on_result=stop_after_four)
    assert multiprocessing.active_children() == []  # the interrupted batch's workers are gone
    assert len(results.read_text(encoding="utf-8").splitlines()) == 4
    boom = str(folder / "a.boom")
    assert boom in got  # handed out first: an error entry is among those resumed
    with results.open("a", encoding="utf-8") as handle:
        handle.write('{"file": "' + str(folder / "f07.counted") + '", "stat')  # killed mid-line
    first = [path for _, event, path in _log_events(log) if event == "read"]
    log.unlink()

    # Resumed in this process: what is resumed does not depend on where filings are checked.
    resumed = run_batch([folder], isolate=False, results_path=results, resume=True)
    again = [path for _, event, path in _log_events(log) if event == "read"]
    assert not set(again) & set(got)  # finished filings were not redone…
    assert len(again) == len(set(again)) == sum(1 for p in resumed.paths if p not in got)
    assert resumed.summary["resumed"] == 4 and resumed.summary["errors"] == 1
    assert set(first) >= {p for p in got if p.endswith(".counted")}
    lines = results.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(resumed.paths)  # the half line was cut, nothing is listed twice
    assert sorted(json.loads(line)["file"] for line in lines) == sorted(resumed.paths)

    # What an uninterrupted batch gives, checked in this process (no worker needed); the
    # reader's error is an entry like any other, reused as it was.
    full = run_batch(resumed.paths, isolate=False)
    assert list(resumed.entries) == list(full.entries)
    assert "RuntimeError: boom" in full.entries[0]["error"]["message"]
    assert resumed.to_json() == full.to_json()

    # Resuming a finished batch checks nothing and starts no worker.
    log.unlink()
    finished = run_batch([folder], jobs=2, timeout=TIMEOUT, results_path=results, resume=True)
    assert finished.to_json() == full.to_json() and finished.summary["resumed"] == len(full.paths)
    assert [e for e in _log_events(log) if e[0] != os.getpid()] == []


# --- failing early, options, rendering ------------------------------------------------------------


def test_bad_rules_stop_the_batch_before_any_filing(plugin_env, corpus, tmp_path):
    _, good, _ = corpus
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "bad.yaml").write_text("pack: {name: 坏, jurisdiction: 全国}\nrules:\n  - id: nope\n", encoding="utf-8")
    results = tmp_path / "results.jsonl"
    results.write_text("keep\n", encoding="utf-8")
    with pytest.raises(RuleLoadError):
        run_batch(
            good[:3], jobs=2, timeout=TIMEOUT, options=BatchOptions(rule_paths=(str(pack),)), results_path=results
        )
    assert results.read_text(encoding="utf-8") == "keep\n"  # not even truncated
    assert multiprocessing.active_children() == []


def test_a_broken_plugin_stops_the_batch_before_any_filing(plugin_env, corpus, tmp_path):
    _, good, _ = corpus
    plugin_env.setenv("HEGUI_PLUGINS", "no-such-plugin")
    try:
        with pytest.raises(PluginError):
            run_batch(good[:3], jobs=2, timeout=TIMEOUT, results_path=tmp_path / "r.jsonl")
    finally:
        plugin_env.delenv("HEGUI_PLUGINS")
    assert not (tmp_path / "r.jsonl").exists()


def test_options_reach_the_workers_and_entries_render_back(plugin_env):
    """--rules, --district, --explain and waivers, in workers, against the sequential path."""
    from hegui.engine.rules import load_rules

    paths = [str(EXAMPLE)]
    registry = build_registry()
    rules = (str(REPO / "rules" / "national"), str(REPO / "rules" / "zhuzhou"))
    ruleset = load_rules([Path(p) for p in rules], known_jurisdictions=list(registry.jurisdictions))
    checker = Evaluator(ruleset, registry)
    found = checker.check(read_filing(EXAMPLE, registry), district="石峰区").findings
    zz = next(f for f in found if f.rule_id == "ZZ-ZCDY-001")
    other = next(f for f in found if f.rule_id.startswith("QG-") and f.status == "fail")
    today = dt.date(2024, 1, 1)
    waivers = (
        Waiver(zz.rule_id, "*.txt", zz.item, "试点", "张三", dt.date(2024, 6, 30), "w.yaml", 3),  # active
        Waiver(other.rule_id, "shifeng-*.txt", other.item, "旧", "李四", dt.date(2023, 6, 30), "w.yaml", 9),
    )  # expired
    outcomes = []
    for path in paths:
        filing = read_filing(path, registry)
        result = checker.check(filing, explain=True, district="石峰区")
        outcomes.append(
            FilingOutcome(
                path,
                filing,
                apply_waivers(result.findings, path, filing.department, list(waivers), today),
                jurisdiction=result.jurisdiction,
            )
        )
    options = BatchOptions(rule_paths=rules, district="石峰区", explain=True, waivers=waivers, today=today)
    batch = run_batch(paths, jobs=1, timeout=30, options=options)  # isolated: one worker process
    assert batch.to_json() == to_json(outcomes, ruleset)
    assert batch.to_text() == to_text(outcomes, ruleset)
    for fail_on in ("error", "warning", "info", "never"):
        assert exit_code(batch.outcomes(), fail_on) == exit_code(outcomes, fail_on)
    findings = [f for o in batch.outcomes() for f in o.findings]
    assert any(f.waived for f in findings) and any(f.waiver is not None and not f.waived for f in findings)
    assert all(f.explanation is not None for f in findings)
    # the entries turned back into outcomes give the same entries again
    assert [entry_of(o, ruleset) for o in outcomes_from_entries(batch.entries)] == list(batch.entries)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_in_process_run_needs_no_worker_and_draws_progress_only_on_a_terminal(corpus):
    """jobs=1 without a timeout checks in this process, as ``hegui check`` always did; the
    progress bar is drawn on a terminal and nothing at all on a pipe."""
    _, good, _ = corpus
    registry = build_registry(entry_points=False)
    terminal, pipe = _Terminal(), io.StringIO()
    before = multiprocessing.active_children()
    batch = run_batch([*good[:2], good[0]], stream=terminal, registry=registry)
    assert batch.paths == good[:2] and multiprocessing.active_children() == before
    assert [e["status"] for e in batch.entries] == ["checked", "checked"]
    shown = terminal.getvalue()
    assert shown.startswith("\r[") and shown.endswith("] 2/2\n") and shown.count("\r") == 3
    run_batch(good[:1], jobs=1, stream=pipe, registry=registry)
    assert pipe.getvalue() == ""


# --- reports streamed from the spool ----------------------------------------------------------------


class _Tracked(dict):
    """An entry read back from the spool, which a finalizer can count while it is alive."""


@pytest.fixture(scope="module")
def small_batch(corpus, reference):
    """Six filings checked in this process, with derivations and waivers (one active, one
    expired): findings of every status, and files that cannot be read. Returns the batch, the
    outcomes ``hegui check`` makes of the same files in memory, and how many entries the
    batch decoded while it ran."""
    _, good, bad = corpus
    unreadable = sorted(p for p in bad if Path(p).name in ("binary.txt", "empty.txt", "old.xls"))
    full = next(p for p in good if Path(p).name == "filing-007.txt")  # the whole example, changed
    paths = [full, *good[:2], *unreadable]
    registry = build_registry(entry_points=False)
    fails = [f for f in reference["outcomes"][full].findings if f.status == "fail"]
    today = dt.date(2024, 1, 1)
    waivers = (
        Waiver(fails[0].rule_id, "*.txt", fails[0].item, "试点", "张三", dt.date(2024, 6, 30), "w.yaml", 3),
        Waiver(fails[-1].rule_id, "*.txt", fails[-1].item, "旧", "李四", dt.date(2023, 6, 30), "w.yaml", 9),
    )
    options = BatchOptions(explain=True, waivers=waivers, today=today)
    decoded: list[int] = []
    real = batch_module._decode
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(batch_module, "_decode", lambda data: decoded.append(1) or real(data))
        batch = run_batch(paths, options=options, registry=registry, isolate=False)
    outcomes = Checker.load((), registry=registry, options=options.check_options()).check_all(paths)
    yield {"batch": batch, "outcomes": outcomes, "registry": registry, "decoded_while_running": len(decoded)}
    batch.close()


def test_the_small_batch_has_every_kind_of_outcome(small_batch):
    outcomes = small_batch["outcomes"]
    findings = [f for o in outcomes for f in o.findings]
    assert sum(1 for o in outcomes if o.error) == 3
    assert any(f.waived for f in findings) and any(f.waiver is not None and not f.waived for f in findings)
    assert any(f.status == "cannot_verify" for f in findings) and all(f.explanation for f in findings)


def test_every_format_streamed_from_the_spool_is_what_it_renders_in_memory(small_batch):
    """Byte for byte, each format that streams; the workbook (which cannot) by its cells."""
    batch, outcomes, registry = small_batch["batch"], small_batch["outcomes"], small_batch["registry"]
    reporters = reporters_for(registry)
    context = ReportContext(batch.ruleset, registry)
    assert {r.name for r in reporters if not r.streams} == {"xlsx"}
    for reporter in reporters:
        streamed = list(batch.report(reporter.name, registry))
        in_memory = reporter.render(outcomes, context)
        if reporter.streams:
            assert len(streamed) > len(outcomes), reporter.name  # written in pieces, not at once
            assert "".join(streamed) == in_memory, reporter.name
        else:
            assert len(streamed) == 1
            assert _cells(streamed[0]) == _cells(in_memory)
    assert batch.exit_code("error") == exit_code(outcomes, "error") == 2
    assert [o.path for o in batch.errors()] == [o.path for o in outcomes if o.error]


def _cells(data: bytes) -> list:
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    return [(ws.title, [[c.value for c in row] for row in ws.iter_rows()]) for ws in workbook.worksheets]


def _count(obj, live: dict[str, int], kind: str):
    """``obj``, counted in ``live[kind]`` for as long as it is alive."""
    live[kind] += 1
    weakref.finalize(obj, _uncount, live, kind)
    return obj


def _uncount(live: dict[str, int], kind: str) -> None:
    live[kind] -= 1


def test_the_parent_holds_one_filing_at_a_time(small_batch, monkeypatch):
    """While a batch runs, the supervisor decodes no entry (it spools the workers' lines as they
    are); while a report is written, at most two filings read back from the spool are alive
    (the one being written, and the last of a previous pass), however many the batch has."""
    batch = small_batch["batch"]
    assert small_batch["decoded_while_running"] == 0
    live = {"entries": 0, "outcomes": 0}
    reads: list[int] = []
    real_get, real_decode, real_outcome = batch_module._Spool.get, batch_module._decode, batch_module._outcome

    def get(spool, index: int) -> bytes:
        reads.append(index)
        return real_get(spool, index)

    def decode(data: bytes) -> dict:
        return _count(_Tracked(real_decode(data)), live, "entries")

    def outcome(entry: dict) -> FilingOutcome:
        return _count(real_outcome(entry), live, "outcomes")

    monkeypatch.setattr(batch_module._Spool, "get", get)
    monkeypatch.setattr(batch_module, "_decode", decode)
    monkeypatch.setattr(batch_module, "_outcome", outcome)
    for reporter in reporters_for(None):
        if not reporter.streams:
            continue
        reads.clear()
        alive = 0
        for _piece in batch.report(reporter.name):
            alive = max(alive, live["entries"], live["outcomes"])
        # Every filing was read from the spool (JSON copies the spooled text, undecoded)…
        assert set(reads) == set(range(len(batch.paths))), reporter.name
        assert alive <= 2 < len(batch.paths), (reporter.name, alive)  # …and let go
