"""Batch checking (app/batch.py): supervised workers, streamed results, resume.

The corpus is generated into a temporary folder: sixty small variants of the example
(amounts, counts and years changed; most cut to 附件1–2 so the file stays fast), a few Office
files, corrupt and hostile files (binary, empty, truncated, a zip bomb named .xlsx, an entity
bomb .docx, a legacy .xls), and files that misbehave *inside the worker*. Those are read by a
test-only reader plugin: a real module plus a ``*.dist-info`` folder with an
``entry_points.txt`` in the temporary folder, put on ``sys.path``/``PYTHONPATH`` so that
``importlib.metadata`` finds it in the spawned workers too (monkeypatching this process would
not reach them). Its reader calls ``os._exit(137)`` for ``.kill``, SIGKILLs itself for
``.sigkill``, sleeps for an hour for ``.hang`` and raises for ``.boom``; for ``.counted`` it
logs the read and reads a text dump, so a test can count the filings workers really checked.
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
import zipfile
from pathlib import Path

import pytest

from hegui.app.batch import (
    BatchOptions,
    entry_of,
    expand_inputs,
    format_summary,
    outcomes_from_entries,
    read_results,
    run_batch,
)
from hegui.engine.evaluate import Evaluator
from hegui.engine.rules import RuleLoadError
from hegui.engine.waivers import Waiver, apply_waivers
from hegui.facts.errors import InputError
from hegui.facts.read import read_filing
from hegui.plugins.manager import PluginError, build_registry, load_registered_rules
from hegui.reports import FilingOutcome, exit_code, to_json, to_text

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "shifeng-zzb-2023.txt"
PLUGIN = "hegui_batch_testplugin"
TIMEOUT = 2.0  # seconds per filing: ample for a good one (≈10–300 ms), and what a .hang costs
#: Every kind of variant (each cut, each year, the full filing) many times over, and enough
#: filings that each of two workers checks dozens in a row; the whole corpus is checked twice
#: (in this process for the reference, and by the workers), so its size is the suite's cost.
GOOD_FILINGS = 60

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
        **KILLERS,
    }
    return root, [str(p) for p in good], {str(bad / name): words for name, words in expected_bad.items()}


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
                filing = read_filing(path, registry)
            except InputError as exc:
                outcome = FilingOutcome(path, error=exc)
            else:
                result = checker.check(filing)
                outcome = FilingOutcome(path, filing, result.findings, jurisdiction=result.jurisdiction)
        outcomes[path] = outcome
        entries[path] = entry_of(outcome, ruleset)
    return {"ruleset": ruleset, "entries": entries, "outcomes": outcomes}


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

    start = time.monotonic()
    batch = run_batch(
        [root], jobs=2, timeout=TIMEOUT, options=BatchOptions(), results_path=results, on_result=on_result
    )
    elapsed = time.monotonic() - start
    plugin_env.delenv("HEGUI_BATCH_TEST_LOG")
    return {
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
    assert found[: len(bad)] == sorted(bad)  # bad/ sorts before dept0/ … office/
    # Sorted by path components, whatever order the file system lists them in.
    assert found == sorted(found, key=lambda p: Path(p).relative_to(root).parts)
    # Files named explicitly are kept as given (any suffix, even missing ones), once each.
    explicit = [str(root / "dept0" / "notes.rtf"), good[0], str(tmp_path / "missing.txt"), good[0]]
    assert expand_inputs(explicit) == explicit[:3]
    # A reader plugin's suffix is searched for only when the plugin is registered.
    assert any(p.endswith(".kill") for p in found)
    assert not any(p.endswith(".kill") for p in expand_inputs([root], build_registry(entry_points=False)))


# --- the big batch ------------------------------------------------------------------------------


def test_every_filing_gets_the_result_of_checking_it_alone(two_workers, reference, corpus):
    _root, good, bad = corpus
    batch = two_workers["batch"]
    assert batch.paths == list(reference["entries"])  # input order
    assert len(batch.paths) == len(good) + len(bad) > 60
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
        "crashes": 2,
        "resumed": 0,
        "findings": findings,
    }
    document = json.loads(two_workers["batch"].to_json())
    assert document["counts"]["files"] == summary["filings"] and document["counts"]["input_errors"] == summary["errors"]
    assert {k: document["counts"][k] for k in findings} == findings
    line = format_summary(summary)
    assert f"文件{len(good) + len(bad)}个" in line and "超时1个" in line and "进程异常退出2个" in line


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


def test_workers_are_supervised_and_load_the_rules_once(two_workers, corpus):
    _, _good, _bad = corpus
    assert max(two_workers["alive"]) <= 2  # never more than jobs alive
    events = [(pid, event) for pid, event, _ in two_workers["events"] if pid != os.getpid()]
    registries = [pid for pid, event in events if event == "registry"]
    assert len(registries) == len(set(registries))  # once per worker process…
    assert 2 <= len(registries) <= 2 + 2 * len(KILLERS)  # …and a replacement per worker lost (retries too)
    assert multiprocessing.active_children() == []  # nothing left behind
    assert two_workers["elapsed"] < 60


def test_one_worker_gives_the_same_report_byte_for_byte(two_workers, reference, plugin_env, corpus):
    """One worker, replaced after each filing that kills it, gives what two workers gave.

    On every bad filing (the killers included) and every fifth good one: the number of workers
    changes nothing per filing, and the good filings are all alike to a worker.
    """
    _, good, bad = corpus
    paths = sorted(bad) + good[::5]
    one = run_batch(paths, jobs=1, timeout=TIMEOUT, options=BatchOptions())
    assert one.paths == paths
    by_path = dict(zip(two_workers["batch"].paths, two_workers["batch"].entries, strict=True))
    assert one.entries == [by_path[p] for p in paths]
    outcomes = [reference["outcomes"][p] for p in paths]
    assert one.to_json() == to_json(outcomes, reference["ruleset"])
    assert one.to_text() == to_text(outcomes, reference["ruleset"])
    assert (one.summary["timeouts"], one.summary["crashes"], one.summary["errors"]) == (1, 2, len(bad))


# --- resume -------------------------------------------------------------------------------------


class _Interrupted(Exception):
    pass


@pytest.fixture
def counted(plugin_env, tmp_path):
    """20 filings read through the counting reader, and one that kills its worker."""
    folder = tmp_path / "counted"
    folder.mkdir()
    lines = EXAMPLE.read_text(encoding="utf-8").split("\n")
    for i in range(20):
        (folder / f"f{i:02d}.counted").write_text(variant(lines, i * 3 + 1), encoding="utf-8")
    (folder / "m.kill").write_text("x", encoding="utf-8")
    log = tmp_path / "events.log"
    plugin_env.setenv("HEGUI_BATCH_TEST_LOG", str(log))
    yield folder, log
    plugin_env.delenv("HEGUI_BATCH_TEST_LOG")


def test_resume_after_an_interruption_redoes_nothing(counted, tmp_path):
    folder, log = counted
    results = tmp_path / "results.jsonl"
    got: list[str] = []

    def stop_after_ten(entry: dict) -> None:
        got.append(entry["file"])
        if len(got) == 10:
            raise _Interrupted  # as if the intake job were stopped here

    with pytest.raises(_Interrupted):
        run_batch([folder], jobs=2, timeout=TIMEOUT, results_path=results, on_result=stop_after_ten)
    assert multiprocessing.active_children() == []  # the interrupted batch's workers are gone
    assert len(results.read_text(encoding="utf-8").splitlines()) == 10
    with results.open("a", encoding="utf-8") as handle:
        handle.write('{"file": "' + str(folder / "f19.counted") + '", "stat')  # killed mid-line
    first = [path for _, event, path in _log_events(log) if event == "read"]
    log.unlink()

    resumed = run_batch([folder], jobs=2, timeout=TIMEOUT, results_path=results, resume=True)
    again = [path for _, event, path in _log_events(log) if event == "read"]
    assert not set(again) & set(got)  # finished filings were not redone…
    assert len(again) == len(set(again)) == sum(1 for p in resumed.paths if p.endswith(".counted") and p not in got)
    assert resumed.summary["resumed"] == 10
    assert set(first) >= {p for p in got if p.endswith(".counted")}
    lines = results.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(resumed.paths)  # the half line was cut, nothing is listed twice
    assert sorted(json.loads(line)["file"] for line in lines) == sorted(resumed.paths)

    # What an uninterrupted batch gives: the .counted filings checked in this process (no
    # worker needed), and the killer's error entry.
    kill = str(folder / "m.kill")
    full = run_batch([p for p in resumed.paths if p != kill], isolate=False)
    expected = dict(zip(full.paths, full.entries, strict=True))
    expected[kill] = {"file": kill, "status": "error", "error": {"message": KILLERS["worker.kill"], "location": ""}}
    assert resumed.entries == [expected[p] for p in resumed.paths]


def test_a_filing_whose_worker_died_is_retried_once_alone(plugin_env, tmp_path):
    """Its worker killed (as the OOM killer would) the first time, the filing is checked again
    alone and gets its real result; a filing that kills every worker is an error after one retry."""
    lines = EXAMPLE.read_text(encoding="utf-8").split("\n")
    once = tmp_path / "a.once"
    once.write_text(variant(lines, 1), encoding="utf-8")
    good = [tmp_path / f"f{i}.counted" for i in range(3)]
    for i, path in enumerate(good):
        path.write_text(variant(lines, i + 2), encoding="utf-8")
    killer = tmp_path / "z.sigkill"
    killer.write_text("x", encoding="utf-8")
    batch = run_batch([once, *good, killer], jobs=2, timeout=TIMEOUT)
    entries = dict(zip(batch.paths, batch.entries, strict=True))
    assert (tmp_path / "a.once.died").exists()  # it did die once
    assert entries[str(once)]["status"] != "error", entries[str(once)]
    assert entries[str(killer)]["error"]["message"] == KILLERS["worker.sigkill"]
    assert batch.summary["crashes"] == 1 and batch.summary["errors"] == 1
    assert multiprocessing.active_children() == []


def test_resume_of_a_finished_batch_starts_no_worker(counted, tmp_path):
    folder, log = counted
    results = tmp_path / "results.jsonl"
    first = run_batch([folder], jobs=1, timeout=TIMEOUT, results_path=results)
    log.unlink()
    again = run_batch([folder], jobs=2, timeout=TIMEOUT, results_path=results, resume=True)
    assert again.to_json() == first.to_json()
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


def test_options_reach_the_workers_and_entries_render_back(plugin_env, corpus, reference, tmp_path):
    """--rules, --district, --explain and waivers, in workers, against the sequential path."""
    _, good, _ = corpus
    from hegui.engine.rules import load_rules

    paths = [str(EXAMPLE), good[5], good[7]]
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
    assert [entry_of(o, ruleset) for o in outcomes_from_entries(batch.entries)] == batch.entries


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal(corpus):
    _, good, _ = corpus
    terminal, pipe = _Terminal(), io.StringIO()
    run_batch(good[:3], jobs=1, stream=terminal, registry=build_registry(entry_points=False))
    run_batch(good[:3], jobs=1, stream=pipe, registry=build_registry(entry_points=False))
    assert pipe.getvalue() == ""
    shown = terminal.getvalue()
    assert shown.startswith("\r[") and shown.endswith("] 3/3\n") and shown.count("\r") == 4


def test_in_process_run_needs_no_worker(corpus):
    """jobs=1 without a timeout checks in this process, as ``hegui check`` always did."""
    _, good, _ = corpus
    before = multiprocessing.active_children()
    batch = run_batch([*good[:2], good[0]], registry=build_registry(entry_points=False))
    assert batch.paths == good[:2] and multiprocessing.active_children() == before
    assert [e["status"] for e in batch.entries] == ["checked", "checked"]
