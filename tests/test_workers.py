"""The worker pool (app/workers.py) on its own, with handlers from the standard library so that a
spawned worker imports nothing but hegui.app.workers: answers as plain data, and workers that
cannot start make the pool refuse work with the reason instead of leaving requests waiting.
And the batch's workers retire after a MemoryError, as the service's do."""

from __future__ import annotations

import operator

import pytest

from hegui.app.batch import run_batch
from hegui.app.workers import MAX_STARTUP_FAILURES, PoolClosed, PoolFull, PoolUnavailable, WorkerEntry, WorkerPool


def test_a_pool_answers_with_its_handler_and_bounds_its_queue():
    # setup = str: the state is the options as given; handle = operator.add: state + payload.
    pool = WorkerPool(WorkerEntry(str, operator.add, "检查", None), size=1, timeout=30, max_queue=1)
    try:
        first, second = pool.submit("一"), pool.submit("二")
        # One worker, one queued: a third has no room (nothing has been answered yet, the
        # worker is still starting).
        with pytest.raises(PoolFull):
            pool.submit("三")
        assert (first.result(60), second.result(60)) == ("检查一", "检查二")
        status = pool.status()
        assert (status.alive, status.ready, status.busy, status.queued, status.replaced) == (1, 1, 0, 0, 0)
    finally:
        pool.close()
    with pytest.raises(PoolClosed):
        pool.submit("四")


def test_workers_that_cannot_load_make_the_pool_unavailable_with_the_reason():
    # setup = int("not a number") fails in every worker, as rules that do not load would.
    entry = WorkerEntry(int, operator.add, "not a number", None)
    pool = WorkerPool(entry, size=MAX_STARTUP_FAILURES, timeout=30, max_queue=1, retry_after=60)
    try:
        waiting = pool.submit(1)
        with pytest.raises(PoolUnavailable, match="invalid literal"):
            waiting.result(60)
        assert "无法载入规则" in pool.status().problem
        with pytest.raises(PoolUnavailable):  # refused at once while the pool waits to retry
            pool.submit(1)
    finally:
        pool.close()


def test_a_batch_worker_retires_after_a_memory_error_and_the_next_filing_gets_a_fresh_one(reader_plugin, tmp_path):
    # 3 GiB is past a batch worker's cap (1.5 GiB): the allocation fails with MemoryError there.
    hungry, nap = tmp_path / "大.hungry", tmp_path / "小.nap"
    hungry.write_text(str(3 * 1024**3))
    nap.write_text("0")
    batch = run_batch([hungry, nap], jobs=1, timeout=60)
    assert [e["status"] for e in batch.entries] == ["error", "error"]
    assert "MemoryError" in batch.entries[0]["error"]["message"]  # the entry a run without workers gives
    assert "睡醒了" in batch.entries[1]["error"]["message"]
    # Each read logs its worker's pid: two reads (the first filing was answered, not retried as
    # a death), by two processes (its state possibly damaged, the first worker did not go on).
    pids = [int(line) for line in reader_plugin.read_text().split()]
    assert len(pids) == 2 and pids[0] != pids[1]
