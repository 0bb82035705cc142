"""Fuzz every input hegui reads, by hand, by the ten thousand (the suite runs 150: tests/test_fuzz.py).

    .venv/bin/python bench/fuzz_inputs.py --count 10000 --workers 2

Each input is one case of tests/fuzzing.py (a kind of input and a seed for the mutator), read,
checked and reported (or loaded, for rule, case and waiver files) in a worker process with a
1 GB address-space limit and a hang alarm. A *crash* is any exception but hegui's own located
errors (MemoryError included); a *hang* is a case over ``--hang`` seconds. Prints the counts,
the slowest case, the workers' peak RSS and every crash or hang with its kind and seed, which
reproduce it: ``Runner(folder).run(kind, mutate(kind, seeds[kind], seed))``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fuzzing import KINDS, Runner, build_seeds, mutate

_state: dict = {}


class _Hang(Exception):
    pass


def _alarm(*_args) -> None:
    raise _Hang


def _init(seeds: dict[str, bytes], hang: int, memory_mb: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 1024 * 1024, memory_mb * 1024 * 1024))
    signal.signal(signal.SIGALRM, _alarm)
    folder = Path(tempfile.mkdtemp(prefix="hegui-fuzz-worker-"))
    _state.update(seeds=seeds, runner=Runner(folder), hang=hang)


def _one(case: tuple[str, int]) -> tuple[str, int, str, float, float, str]:
    kind, seed = case
    data = mutate(kind, _state["seeds"][kind], seed)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.monotonic()
    signal.alarm(_state["hang"])
    try:
        outcome = _state["runner"].run(kind, data)
        status, detail = outcome.status, outcome.detail
    except _Hang:
        status, detail = "hang", ""
    finally:
        signal.alarm(0)
    if status == "crash" and "_Hang" in detail:
        status = "hang"
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # The peak is per process: a case that raised it is the case that cost that much.
    grew = rss if rss > before else 0.0
    return kind, seed, status, time.monotonic() - start, grew, detail[-2000:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--hang", type=int, default=15, help="seconds after which a case is a hang")
    parser.add_argument("--memory-mb", type=int, default=1024, help="address-space limit of each worker")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    seeds = build_seeds(Path(tempfile.mkdtemp(prefix="hegui-fuzz-seeds-")))
    cases = [(KINDS[i % len(KINDS)], args.first_seed + i) for i in range(args.count)]
    started = time.monotonic()
    statuses: Counter = Counter()
    by_kind: Counter = Counter()
    slowest = (0.0, "", 0)
    peak_rss = (0.0, "", 0)
    bad = []
    with multiprocessing.Pool(args.workers, _init, (seeds, args.hang, args.memory_mb), maxtasksperchild=500) as pool:
        for done, (kind, seed, status, seconds, rss, detail) in enumerate(pool.imap_unordered(_one, cases, 8), 1):
            statuses[status] += 1
            by_kind[(kind, status)] += 1
            slowest = max(slowest, (seconds, kind, seed))
            peak_rss = max(peak_rss, (rss, kind, seed))
            if status in ("crash", "hang"):
                bad.append({"kind": kind, "seed": seed, "status": status, "detail": detail})
                print(f"{status.upper()} {kind} seed={seed}\n{detail}", file=sys.stderr, flush=True)
            if done % 1000 == 0:
                print(f"{done} inputs, {dict(statuses)}", file=sys.stderr, flush=True)
    figures = {
        "inputs": args.count,
        "crashes": statuses["crash"],
        "hangs": statuses["hang"],
        "refused": statuses["refused"],
        "ok": statuses["ok"],
        "max_seconds": round(slowest[0], 3),
        "slowest_case": f"{slowest[1]} seed={slowest[2]}",
        "max_worker_rss_mb": round(peak_rss[0], 1),
        "max_rss_case": f"{peak_rss[1]} seed={peak_rss[2]}",
        "wall_seconds": round(time.monotonic() - started, 1),
        "by_kind": {f"{k}:{s}": n for (k, s), n in sorted(by_kind.items())},
        "bad": bad,
    }
    text = json.dumps(figures, ensure_ascii=False, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
