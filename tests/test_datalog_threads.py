"""A compiled program used from a series of short-lived threads (thread ids get reused)."""

from __future__ import annotations

import threading

from hegui.facts.read import read_filing


def test_checker_works_from_successive_threads(evaluator, example_path):
    filing = read_filing(example_path)
    expected = [f.id for f in evaluator.check(filing).findings]
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append([f.id for f in evaluator.check(filing).findings])
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    for _ in range(6):
        thread = threading.Thread(target=run)
        thread.start()
        thread.join()
    assert errors == []
    assert results == [expected] * 6
