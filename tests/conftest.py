"""Shared fixtures: the example filing, the built-in rules compiled once, a filing runner."""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from hegui.engine.evaluate import Evaluator
from hegui.engine.registry import Registry
from hegui.engine.rules import load_rules
from hegui.facts.read import read_filing
from hegui.plugins import builtin_rule_paths
from hegui.plugins.manager import build_registry

# Tests never read or fill the user's rule-set cache: one private cache folder per run.
_CACHE = tempfile.mkdtemp(prefix="hegui-test-cache-")
os.environ["HEGUI_CACHE_DIR"] = _CACHE
atexit.register(shutil.rmtree, _CACHE, True)

REPO = Path(__file__).resolve().parent.parent

#: Line edits (1-based) that fix the example's errors but the 成本指标 one, each through every
#: table that repeats or sums the figure (the village team gets 30万元), for ``mutate``.
_ERRORS_FIXED = {
    21: "\t资金总额：949.28",
    29: "\t949.28",
    37: "\t592.90",
    97: "\t≤949.28万元",
    146: "\t592.90",
    176: "\t30",
    741: "\t30",
    783: "\t≤30万元",
    830: "\t30",
    836: "\t30",
    337: "\t村级组织运转经费",
    481: "\t业务性专项经费",
    736: "\t驻村工作队队员待遇保障",
    154: "\t抓好老干部工作两项待遇落实，指导全区18个离退休干部党支部党建工作、五老组织建设。",
    297: "\t五个涉老组织经费25万元",
    300: "\t五个涉老组织经费25万元：比照2022年预算（5万元/个*5个）",
    452: "\t村主干养老保险补贴",
    453: "\t村主干养老保险补贴",
}
EXAMPLE = REPO / "examples" / "shifeng-zzb-2023.txt"


@pytest.fixture(scope="session")
def example_path() -> Path:
    return EXAMPLE


@pytest.fixture(scope="session")
def example_text() -> str:
    return EXAMPLE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def ruleset():
    return load_rules(builtin_rule_paths())


@pytest.fixture(scope="session")
def registry() -> Registry:
    """The built-in packs' registry (no installed plugin): what a library user starts from."""
    return build_registry(entry_points=False)


@pytest.fixture(scope="session")
def evaluator(ruleset, registry) -> Evaluator:
    """The built-in rules compiled once for the whole session."""
    return Evaluator(ruleset, registry)


@pytest.fixture
def errors_fixed() -> dict[int, str]:
    """Line edits that fix the example's errors but the 成本指标 one (see ``_ERRORS_FIXED``)."""
    return dict(_ERRORS_FIXED)


@pytest.fixture(scope="session")
def mutate(example_text):
    """The example with whole lines (1-based) replaced: ``mutate({21: "\\t资金总额：939.28"})``."""

    def _mutate(changes: dict[int, str], text: str | None = None) -> str:
        lines = (example_text if text is None else text).split("\n")
        for number, new in changes.items():
            assert 1 <= number <= len(lines), number
            lines[number - 1] = new
        return "\n".join(lines)

    return _mutate


@pytest.fixture
def run(evaluator, tmp_path):
    """Check a filing given as text; returns its findings."""

    def _run(text: str, name: str = "filing.txt"):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return evaluator.check(read_filing(path)).findings

    return _run


PLUGIN = "hegui_service_testplugin"
PLUGIN_SOURCE = textwrap.dedent(
    """
    import os
    import time
    from pathlib import Path

    from hegui.facts.errors import InputError
    from hegui.plugins.hookspecs import hookimpl


    def read(path):
        log = os.environ.get("HEGUI_SERVICE_TEST_LOG")
        if log:
            with open(log, "a", encoding="utf-8") as handle:
                handle.write(f"{os.getpid()}\\n")
        suffix = Path(path).suffix
        if suffix == ".nap":
            time.sleep(float(Path(path).read_text()))
            raise InputError(path, "睡醒了")
        if suffix == ".hungry":
            hoard = bytearray(int(Path(path).read_text()))
            raise InputError(path, f"吃下了 {len(hoard)} 字节")
        return Broken()  # not a grid: hegui's own code fails on it (an internal error)


    class Broken:
        @property
        def rows(self):
            raise RuntimeError("boom")


    @hookimpl
    def hegui_register_readers(register):
        register((".nap", ".hungry", ".boom"), read)
    """
)


@pytest.fixture(scope="module")
def reader_plugin(tmp_path_factory):
    """A test-only reader plugin, installed for this module's tests and the worker processes they
    spawn (a module plus a ``*.dist-info`` folder on ``sys.path`` and ``PYTHONPATH``, since
    spawned workers start a fresh interpreter); yields its pid log.

    ``.nap`` sleeps the seconds the file says and then refuses it, ``.hungry`` allocates the bytes
    the file says, ``.boom`` returns something that is not a grid (hegui's own code then fails:
    an internal error). Each first logs the pid of the process reading, so a test knows which
    worker holds its request.
    """
    site = tmp_path_factory.mktemp("site")
    (site / f"{PLUGIN}.py").write_text(PLUGIN_SOURCE, encoding="utf-8")
    info = site / f"{PLUGIN}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: hegui-service-testplugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[hegui]\nservicetest = {PLUGIN}\n", encoding="utf-8")
    log = site / "pids.log"
    log.write_text("")
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(site))
        mp.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])))
        mp.delenv("HEGUI_PLUGINS", raising=False)
        mp.setenv("HEGUI_SERVICE_TEST_LOG", str(log))
        yield log
    sys.modules.pop(PLUGIN, None)


@pytest.fixture(scope="session")
def served():
    """``with served(**create_app options) as client``: a test client of an app of its own
    (the service's checks and the workbench's run in its worker pool), with its workers and
    review store closed afterwards."""
    from fastapi.testclient import TestClient

    from hegui.app.service import create_app

    @contextlib.contextmanager
    def _served(**options):
        app = create_app(**options)
        try:
            with TestClient(app) as client:
                yield client
        finally:
            app.state.workbench.close()
            app.state.hegui.close()

    return _served
