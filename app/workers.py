"""Worker processes that load the rules once and check one input at a time, for batch and service.

Both ``hegui check --jobs N`` (:mod:`hegui.app.batch`) and ``hegui serve``
(:mod:`hegui.app.service`) check inputs in worker processes rather than in their own: a reader
that crashes the interpreter, never returns or eats the memory of the machine then costs one
worker and the one input it held, never the run or the server. This module is what they
share:

* :class:`WorkerEntry` says what a worker runs: ``setup(options)`` once (build a
  :class:`~hegui.app.checker.Checker`: plugins loaded, rules compiled), then
  ``handle(state, payload)`` for each task. Both are module-level functions (pickled by name);
  tasks and answers are plain data.
* :func:`worker_main` is the worker process itself: its address space capped
  (``RLIMIT_AS``), SIGINT ignored, a watch that ends it when its parent is gone, then the pipe
  protocol below.
* :class:`Worker` is the parent's handle on one worker: start it (``spawn``), send it a task,
  read what it sent, kill and reap it.
* :class:`WorkerPool` keeps ``size`` workers alive for callers on any thread (the service): a
  bounded queue, a hard per-task deadline (the worker is killed and replaced), and a worker
  that dies answered as such.

The pipe protocol (parent ⇄ worker), every message a tuple:

* worker → parent: ``("ready",)`` once the setup is done; ``("load_error", message)`` when it
  failed (the worker then ends); ``("result", key, value)`` per task; ``("retire", key,
  value)``: the answer, after which the worker ends on its own (its state may be damaged, e.g.
  after a MemoryError);
* parent → worker: ``(key, payload)`` per task, ``None`` to stop.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing.connection import wait as wait_for_ready
from typing import Any

from hegui.engine.rules import RuleLoadError
from hegui.facts.limits import MEMORY_BYTES, limit_memory

log = logging.getLogger("hegui.workers")

#: How long a fresh worker may take to import hegui, build the registry and compile the rules.
STARTUP_TIMEOUT = 120.0
#: A worker that dies before it is ready this many times in a row means something in the
#: environment is broken: replacing it again would loop for ever.
MAX_STARTUP_FAILURES = 3

CRASH_MESSAGE = "检查进程异常退出（退出码{code}）"
SIGNAL_MESSAGE = "检查进程异常退出（退出码{code}，被信号{name}终止）"

# "spawn": a fresh interpreter that inherits no locks, threads or open files of the parent
# (forking a process that may hold them is unsafe; the service's parent runs threads); it costs
# an import and a rule compilation per worker, paid once per worker, not per input.
CONTEXT = multiprocessing.get_context("spawn")


def exit_message(code: int | None) -> str:
    """A worker's exit in Chinese: its exit code and, when a signal ended it, the signal's name."""
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = str(-code)
        return SIGNAL_MESSAGE.format(code=code, name=name)
    return CRASH_MESSAGE.format(code=code)


def describe_load_error(exc: BaseException) -> str:
    """Why a worker could not load the rules, in one line."""
    if isinstance(exc, RuleLoadError):
        shown = "；".join(str(p) for p in exc.problems[:3])
        return f"规则有误（共{len(exc.problems)}处）：{shown}"
    return str(exc) or type(exc).__name__


# --- the worker process ---------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkerEntry:
    """What a worker process runs; sent to it as is (so: picklable, functions at module level).

    ``setup(options)`` runs once and returns the worker's state (typically a
    :class:`~hegui.app.checker.Checker`); ``handle(state, payload)`` answers one task with
    plain data, or with :class:`Retire` to end the worker after answering.
    ``memory_bytes``: the worker's address space (``None``: no cap of its own).
    """

    setup: Callable[[Any], Any]
    handle: Callable[[Any, Any], Any]
    options: Any = None
    memory_bytes: int | None = MEMORY_BYTES
    name: str = "hegui-worker"


@dataclass(frozen=True)
class Retire:
    """A handler's answer after which its worker must end (and be replaced): its state may be
    damaged, as after a MemoryError in the middle of an evaluation."""

    value: Any


def memory_error_in(error: BaseException) -> bool:
    """Whether a MemoryError is behind ``error``: the checker and the plugin-reader guard wrap it
    in an input error, so a handler finds it only by following the chain of causes."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [error]
    while todo:
        exc = todo.pop()
        if exc is None or id(exc) in seen:
            continue
        seen.add(id(exc))
        if isinstance(exc, MemoryError):
            return True
        todo += [exc.__cause__, exc.__context__, getattr(exc, "cause", None)]
    return False


def watch_parent() -> None:
    """End this process when its parent is gone: a worker stuck in an input would otherwise
    outlive it.

    The pipe tells an idle worker (EOF); a busy one never reads it, so a daemon thread checks
    whether the worker has been re-parented.
    """
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(3)

    threading.Thread(target=watch, name="hegui-parent-watch", daemon=True).start()


def worker_main(conn, entry: WorkerEntry) -> None:
    """A worker process: set up once, then answer tasks until told to stop (or the pipe closes)."""
    # Ctrl-C reaches the whole process group; the parent decides what happens to workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if entry.memory_bytes:
        limit_memory(entry.memory_bytes)
    watch_parent()
    try:
        state = entry.setup(entry.options)
    except Exception as exc:
        conn.send(("load_error", describe_load_error(exc)))
        conn.close()
        return
    conn.send(("ready",))
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        key, payload = task
        value = entry.handle(state, payload)
        if isinstance(value, Retire):
            conn.send(("retire", key, value.value))
            conn.close()
            return
        conn.send(("result", key, value))


# --- the parent's handle on one worker ------------------------------------------------------------


@dataclass
class Worker:
    """One worker process as its parent sees it: what it holds (``task``) and until when."""

    process: Any
    conn: Any
    started: float
    #: Kept apart from ``process``, which refuses every question once it is closed.
    pid: int | None = None
    ready: bool = False
    task: Any = None
    deadline: float | None = None
    dead: bool = False
    #: Why it could not load the rules, when it said so before ending.
    load_error: str = ""

    @classmethod
    def spawn(cls, entry: WorkerEntry) -> Worker:
        """Start a worker process running ``entry`` (it loads in the background)."""
        parent_end, child_end = CONTEXT.Pipe(duplex=True)
        process = CONTEXT.Process(target=worker_main, args=(child_end, entry), name=entry.name, daemon=True)
        process.start()
        # Our copy of the child's end must go, or the pipe never reports the child's death as EOF.
        child_end.close()
        return cls(process, parent_end, time.monotonic(), process.pid)

    @property
    def idle(self) -> bool:
        """Ready for a task."""
        return self.ready and self.task is None and not self.dead

    def send(self, key: Any, payload: Any, task: Any, timeout: float | None) -> bool:
        """Hand it ``(key, payload)``, remembering ``task`` and the deadline; False when it is gone."""
        try:
            self.conn.send((key, payload))
        except OSError:  # died while idle
            self.dead = True
            return False
        self.task = task
        self.deadline = time.monotonic() + timeout if timeout else None
        return True

    def receive(self) -> list[tuple]:
        """Every message it has sent so far; marks it dead on end of file or half a message."""
        messages: list[tuple] = []
        while not self.dead:
            try:
                if not self.conn.poll():
                    break
                messages.append(self.conn.recv())
            except Exception:  # EOF, OSError, or the worker died while sending (half a message)
                self.dead = True
        return messages

    def handles(self) -> list[Any]:
        """What :func:`multiprocessing.connection.wait` should watch for it."""
        return ([] if self.dead else [self.conn]) + [self.process.sentinel]

    def overdue(self, now: float) -> bool:
        return self.task is not None and self.deadline is not None and now >= self.deadline

    def startup_overdue(self, now: float) -> bool:
        return not self.ready and now >= self.started + STARTUP_TIMEOUT

    def kill(self) -> int | None:
        """Kill it (if need be), reap it and close its pipe; returns its exit code."""
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        code = self.process.exitcode
        self.conn.close()
        self.process.close()
        self.dead = True
        return code

    def stop(self) -> None:
        """Ask it to return from its loop (it finishes the task it holds first)."""
        with contextlib.suppress(OSError):
            self.conn.send(None)


def wait_any(workers: Iterable[Worker], extra: Iterable[Any] = (), deadline: float | None = None) -> None:
    """Sleep until a worker sends something or ends, one of ``extra`` is readable, or ``deadline``
    (a :func:`time.monotonic` time) or the nearest deadline of the workers passes."""
    workers = list(workers)
    deadlines = [w.deadline for w in workers if w.deadline is not None]
    deadlines += [w.started + STARTUP_TIMEOUT for w in workers if not w.ready]
    if deadline is not None:
        deadlines.append(deadline)
    limit = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
    handles = [h for w in workers for h in w.handles()] + list(extra)
    wait_for_ready(handles, limit)


def stop_all(workers: Iterable[Worker], grace: float = 5.0) -> None:
    """Stop ``workers`` politely, then kill whatever is still alive after ``grace`` seconds."""
    workers = list(workers)
    for worker in workers:
        worker.stop()
    deadline = time.monotonic() + grace
    for worker in workers:
        worker.process.join(max(0.0, deadline - time.monotonic()))
    for worker in workers:
        # Cleaning up: keep going, whatever one of them does.
        with contextlib.suppress(Exception):
            worker.kill()


# --- a pool for callers on any thread (the service) -----------------------------------------------


class PoolFull(Exception):
    """Every worker is busy and the queue is full: try again later."""


class PoolUnavailable(Exception):
    """The workers cannot start (they die or fail to load the rules); the message says why."""


class TaskTimedOut(Exception):
    """The task ran past its deadline: its worker was killed (and is being replaced)."""

    def __init__(self, pid: int | None) -> None:
        super().__init__(f"worker {pid} killed at its deadline")
        self.pid = pid


class WorkerDied(Exception):
    """The worker running the task died (killed from outside, out of memory, a crash)."""

    def __init__(self, code: int | None) -> None:
        super().__init__(exit_message(code))
        self.code = code
        self.message = exit_message(code)


class PoolClosed(Exception):
    """The pool was closed before the task ran."""


@dataclass
class _Task:
    payload: Any
    future: Future


@dataclass
class PoolStatus:
    """What the pool is doing, read without waiting for any worker."""

    size: int
    alive: int
    ready: int
    busy: int
    queued: int
    #: Workers killed at a deadline or found dead (and replaced) since the pool started.
    replaced: int
    problem: str = ""


@dataclass
class WorkerPool:
    """``size`` worker processes running ``entry``, fed from a bounded queue by one supervisor thread.

    :meth:`submit` (from any thread) returns a :class:`concurrent.futures.Future` answered with
    the handler's value, or failed with :class:`TaskTimedOut` (the worker ran past
    ``timeout`` seconds: it was killed, not left running), :class:`WorkerDied`,
    :class:`PoolUnavailable` or :class:`PoolClosed`. A task waits in the queue while every
    worker is busy; past ``max_queue`` waiting tasks :meth:`submit` raises :class:`PoolFull`.
    A task's time starts when a worker takes it. A queued task whose future is cancelled (the
    client went away) is dropped unrun.

    The workers start with the first task, or with :meth:`start`; a worker that is killed or
    dies is replaced at once, so ``size`` stay alive (never more).
    """

    entry: WorkerEntry
    size: int
    timeout: float | None
    max_queue: int
    #: Seconds to wait before trying again when workers cannot start.
    retry_after: float = 10.0
    _workers: list[Worker] = field(default_factory=list, init=False, repr=False)
    _queue: deque = field(default_factory=deque, init=False, repr=False)
    _running: int = field(default=0, init=False)
    _replaced: int = field(default=0, init=False)
    _startup_failures: int = field(default=0, init=False, repr=False)
    _problem: str = field(default="", init=False, repr=False)
    _broken_until: float = field(default=0.0, init=False, repr=False)
    _closed: bool = field(default=False, init=False)
    _thread: threading.Thread | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.size < 1 or self.max_queue < 0:
            raise ValueError("a pool needs at least one worker and a queue bound of zero or more")
        self._lock = threading.Lock()
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)

    # --- the callers' side (any thread) ---

    def start(self) -> None:
        """Start the supervisor and the workers now rather than with the first task."""
        with self._lock:
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._supervise, name="hegui-pool", daemon=True)
                self._thread.start()

    def submit(self, payload: Any) -> Future:
        """Queue ``payload`` for the next idle worker; raises :class:`PoolFull`, :class:`PoolUnavailable`."""
        future: Future = Future()
        with self._lock:
            if self._closed:
                raise PoolClosed()
            if self._broken_until > time.monotonic():
                raise PoolUnavailable(self._problem)
            self._drop_cancelled()
            # Tasks a worker holds plus tasks waiting: room for one per worker and max_queue more.
            if self._running + len(self._queue) >= self.size + self.max_queue:
                raise PoolFull()
            self._queue.append(_Task(payload, future))
        self.start()
        self._wake()
        return future

    def status(self) -> PoolStatus:
        """How many workers are alive, ready, busy; how many tasks wait."""
        with self._lock:
            workers = [w for w in self._workers if not w.dead]
            return PoolStatus(
                size=self.size,
                alive=len(workers),
                ready=sum(1 for w in workers if w.ready),
                busy=self._running,
                queued=sum(1 for t in self._queue if not t.future.cancelled()),
                replaced=self._replaced,
                problem=self._problem if self._broken_until > time.monotonic() else "",
            )

    def pids(self) -> list[int]:
        """The process ids of the workers alive now."""
        with self._lock:
            return [w.pid for w in self._workers if not w.dead and w.pid is not None]

    def close(self, grace: float = 5.0) -> None:
        """Stop the workers and fail the tasks not answered yet: a worker holding a task is killed,
        an idle one is asked to stop and killed if it has not within ``grace`` seconds."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
        self._wake()
        if thread is not None:
            thread.join(grace + 10)
        with self._lock:
            queued, self._queue = list(self._queue), deque()
        for task in queued:
            with contextlib.suppress(Exception):  # already cancelled
                task.future.set_exception(PoolClosed())
        for fd in (self._wake_read, self._wake_write):
            with contextlib.suppress(OSError):
                os.close(fd)

    def _wake(self) -> None:
        with contextlib.suppress(OSError):  # the pipe is full (already woken) or closed
            os.write(self._wake_write, b"x")

    def _drop_cancelled(self) -> None:
        if any(t.future.cancelled() for t in self._queue):
            self._queue = deque(t for t in self._queue if not t.future.cancelled())

    # --- the supervisor thread ---

    def _supervise(self) -> None:
        try:
            while not self._closed:
                try:
                    self._step()
                except Exception:
                    # The supervisor must outlive whatever went wrong, or every task queued
                    # from now on would wait for ever.
                    log.exception("worker pool supervisor")
                    time.sleep(0.1)
        finally:
            with self._lock:
                workers, self._workers = list(self._workers), []
            running = [w.task for w in workers if w.task is not None]
            for worker in workers:
                if worker.task is not None:  # closing: a check in progress is not waited for
                    with contextlib.suppress(Exception):
                        worker.kill()
            stop_all([w for w in workers if not w.dead])
            for task in running:
                with contextlib.suppress(Exception):
                    task.future.set_exception(PoolClosed())

    def _step(self) -> None:
        self._fill()
        self._dispatch()
        retry = self._broken_until if self._broken_until > time.monotonic() else None
        with self._lock:
            workers = list(self._workers)
        wait_any(workers, [self._wake_read], retry)
        with contextlib.suppress(OSError):  # drained: a wake-up's task is queued before its byte is written
            while os.read(self._wake_read, 4096):
                pass
        for worker in workers:
            self._collect(worker)

    def _fill(self) -> None:
        if self._broken_until > time.monotonic():
            return
        with self._lock:
            missing = self.size - len(self._workers)
        for _ in range(missing):
            try:
                worker = Worker.spawn(self.entry)
            except OSError as exc:  # out of processes or file descriptors
                self._startup_failed(f"无法启动检查进程：{exc}")
                return
            with self._lock:
                self._workers.append(worker)

    def _dispatch(self) -> None:
        # Tasks are paired with idle workers under the lock, and sent outside it: a large payload
        # must not hold up /healthz (status()) while it goes down a pipe.
        with self._lock:
            self._drop_cancelled()
            pairs = []
            for worker in self._workers:
                if not self._queue:
                    break
                if worker.idle:
                    pairs.append((worker, self._queue.popleft()))
            self._running += len(pairs)
        for worker, task in pairs:
            if worker.send(id(task), task.payload, task, self.timeout):
                # False: cancelled just now; it runs for nobody and its answer is dropped.
                task.future.set_running_or_notify_cancel()
                continue
            with self._lock:  # it died while idle: it is replaced, the task waits for another
                self._running -= 1
                self._queue.appendleft(task)

    def _collect(self, worker: Worker) -> None:
        # Whether it is alive is asked *before* reading its pipe: everything a dead worker ever
        # sent is then already in the pipe, so an answer sent just before dying is not lost.
        alive = worker.process.is_alive()
        for message in worker.receive():
            kind = message[0]
            if kind == "ready":
                worker.ready = True
                self._startup_failures = 0
            elif kind == "load_error":
                worker.dead, worker.load_error = True, message[1]
            elif kind in ("result", "retire"):
                task, worker.task, worker.deadline = worker.task, None, None
                if task is not None:
                    self._answer(task, value=message[2])
                if kind == "retire":
                    worker.dead = True
        now = time.monotonic()
        if worker.dead or not alive:
            task, ready = worker.task, worker.ready
            code = self._remove(worker)
            if task is not None:
                self._answer(task, error=WorkerDied(code))
            elif not ready:
                problem = worker.load_error and f"检查进程无法载入规则：{worker.load_error}"
                self._startup_failed(problem or f"检查进程未能启动：{exit_message(code)}")
        elif worker.overdue(now):
            task = worker.task
            self._remove(worker)  # killed and reaped before anyone hears of the timeout
            self._answer(task, error=TaskTimedOut(worker.pid))
        elif worker.startup_overdue(now):
            self._remove(worker)
            self._startup_failed(f"检查进程启动超时（超过{STARTUP_TIMEOUT:g}秒仍未载入规则）")

    def _answer(self, task: _Task, *, value: Any = None, error: BaseException | None = None) -> None:
        with self._lock:
            self._running -= 1
        with contextlib.suppress(Exception):  # InvalidStateError: cancelled, nobody is waiting
            if error is None:
                task.future.set_result(value)
            else:
                task.future.set_exception(error)

    def _remove(self, worker: Worker) -> int | None:
        code = worker.kill()
        with self._lock:
            self._workers.remove(worker)
            if worker.ready:
                self._replaced += 1
        return code

    def _startup_failed(self, problem: str) -> None:
        self._startup_failures += 1
        if self._startup_failures < MAX_STARTUP_FAILURES:
            return
        self._problem = problem
        # Stop trying for a while and tell every waiting task why.
        self._startup_failures = 0
        self._broken_until = time.monotonic() + self.retry_after
        with self._lock:
            queued, self._queue = list(self._queue), deque()
        for task in queued:
            with contextlib.suppress(Exception):
                task.future.set_exception(PoolUnavailable(problem))


__all__ = [
    "CONTEXT",
    "MAX_STARTUP_FAILURES",
    "STARTUP_TIMEOUT",
    "PoolClosed",
    "PoolFull",
    "PoolStatus",
    "PoolUnavailable",
    "Retire",
    "TaskTimedOut",
    "Worker",
    "WorkerDied",
    "WorkerEntry",
    "WorkerPool",
    "describe_load_error",
    "exit_message",
    "memory_error_in",
    "stop_all",
    "wait_any",
    "watch_parent",
    "worker_main",
]
