"""Running the per-file phase: in this process for small runs, else on a process pool; and
the big-stack thread every check runs on.

Each task carries the file's bytes (read once by the parent, which also hashed them for the
cache), so a worker checks exactly what the cache entry will be keyed by.  Workers write their
own cache entries and send back picklable `FileResult`s (no CSTs).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Callable, Iterator, Optional, Sequence, TypeVar

from fastapi_review import engine
from fastapi_review.cache import Cache
from fastapi_review.discovery import SourceFile
from fastapi_review.engine import FileResult
from fastapi_review.rule import FileRoles, Profile
from fastapi_review.selection import RuleSet

# Below this many files to check, a pool's start-up costs more than it saves.
MIN_FILES_FOR_POOL = 16
# Chunks per worker: enough for the last chunks to even out the load, few enough that
# per-chunk overhead (pickling the ruleset-free tasks, scheduling) stays negligible.
_CHUNKS_PER_WORKER = 12
# Allocations between young-generation GC passes during a check (the default, 700, makes the
# cyclic GC re-scan each file's freshly parsed, acyclic CST many times over).
_GC_THRESHOLD = 50_000

OnResult = Callable[[int, FileResult], None]


@dataclass(frozen=True)
class Task:
    """One file to check: its place in the run, its paths, its bytes and its enabled rules."""

    index: int
    file: SourceFile
    codes: tuple[str, ...]
    data: bytes
    cache_entry: Optional[tuple[str, bytes]] = None  # (entry name, content digest) to store under
    # what the run already decided about the file (its role, its project's profile)
    roles: Optional[FileRoles] = None
    profile: Optional[Profile] = None


def default_jobs() -> int:
    """The number of cores this process may run on."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def run_tasks(
    tasks: Sequence[Task], ruleset: RuleSet, cache: Optional[Cache], jobs: int, on_result: OnResult
) -> None:
    """Check every task, calling `on_result(index, result)` as each file finishes."""
    if not tasks:
        return
    workers = min(jobs, len(tasks) // (MIN_FILES_FOR_POOL // 2))  # at least 8 files per worker
    if workers <= 1:
        with _quiet_gc(), _batched_writes(cache):
            on_big_stack(_check_in_process, tasks, ruleset, cache, on_result)
        return
    context = _pool_context()
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=(ruleset, cache))
    try:
        futures = [pool.submit(_check_chunk, chunk) for chunk in _chunks(tasks, workers)]
        for future in as_completed(futures):
            for index, result in future.result():
                on_result(index, result)
    except BaseException:
        # an interrupt (or a broken worker): stop the workers now, not after their chunks
        stopped = _abandon(pool)
        if cache is not None:
            cache.abandon(stopped)
        raise
    pool.shutdown(wait=True)


def _abandon(pool: ProcessPoolExecutor) -> list[int]:
    """Cancel what has not started and terminate the workers; their process ids."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        try:
            process.terminate()
        except (OSError, ValueError, AttributeError):
            pass
    deadline = time.monotonic() + 0.3  # a terminated worker dies at once; do not wait for more
    for process in processes:
        process.join(max(deadline - time.monotonic(), 0))
    return [process.pid for process in processes if process.pid is not None]


def _check_in_process(tasks: Sequence[Task], ruleset: RuleSet, cache: Optional[Cache], on_result: OnResult) -> None:
    for number, task in enumerate(tasks, start=1):
        on_result(task.index, _check_task(task, ruleset, cache))
        if number % 100 == 0:
            # finished results live until the end: keep the cyclic GC from re-scanning them
            # while the next files' parses allocate millions of (acyclic) nodes
            gc.freeze()


def _check_task(task: Task, ruleset: RuleSet, cache: Optional[Cache]) -> FileResult:
    result = engine.check_file(task.file, task.data, ruleset, task.codes, roles=task.roles, profile=task.profile)
    if cache is not None and task.cache_entry is not None and not result.timed_out:
        cache.store(*task.cache_entry, result)
    return result


def _chunks(tasks: Sequence[Task], workers: int) -> list[list[Task]]:
    """Largest files first, in chunks of roughly equal size in bytes (longest-job-first keeps
    one big file from finishing alone at the end)."""
    ordered = sorted(tasks, key=lambda t: len(t.data), reverse=True)
    budget = max(sum(len(t.data) for t in tasks) // (workers * _CHUNKS_PER_WORKER), 1)
    chunks: list[list[Task]] = []
    current: list[Task] = []
    size = 0
    for task in ordered:
        current.append(task)
        size += len(task.data)
        if size >= budget:
            chunks.append(current)
            current, size = [], 0
    if current:
        chunks.append(current)
    return chunks


def _batched_writes(cache: Optional[Cache]) -> "AbstractContextManager[None]":
    """Cache entries written as one pack when the block ends (see Cache)."""
    return cache.batch() if cache is not None else nullcontext()


def _pool_context() -> multiprocessing.context.BaseContext:
    """fork where it is safe (no other threads yet: workers start instantly with everything
    imported), else forkserver or the platform default."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        return multiprocessing.get_context("forkserver")
    return multiprocessing.get_context()


_worker_state: dict[str, object] = {}


def _init_worker(ruleset: RuleSet, cache: Optional[Cache]) -> None:
    # Ctrl-C reaches the whole process group: the parent decides, and terminates the workers
    # (SIGTERM kills a worker at once, whatever handler the parent had when it forked)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    forget_big_stack_worker()  # a forked child has the parent's executor but not its thread
    gc.set_threshold(max(gc.get_threshold()[0], _GC_THRESHOLD))
    gc.freeze()  # what the worker starts with (modules, the rule set) is never garbage
    _worker_state["ruleset"] = ruleset
    _worker_state["cache"] = cache


def _check_chunk(chunk: list[Task]) -> list[tuple[int, FileResult]]:
    return on_big_stack(_check_chunk_here, chunk)


def _check_chunk_here(chunk: list[Task]) -> list[tuple[int, FileResult]]:
    ruleset: RuleSet = _worker_state["ruleset"]  # type: ignore[assignment]
    cache: Optional[Cache] = _worker_state["cache"]  # type: ignore[assignment]
    with _batched_writes(cache):
        return [(task.index, _check_task(task, ruleset, cache)) for task in chunk]


@contextmanager
def _quiet_gc() -> Iterator[None]:
    """Fewer cyclic-GC passes during a run (CST nodes are acyclic and freed by refcounting)."""
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], _GC_THRESHOLD), thresholds[1], thresholds[2])
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


T = TypeVar("T")
_STACK_SIZE = 512 * 1024 * 1024  # libcst's native parser recurses on the thread's stack
_RECURSION_LIMIT = 20_000
_THREAD_NAME = "fastapi-review-big-stack"


class _BigStackThread:
    """One daemon thread with a big stack that runs the calls given to it, in order.

    A daemon (unlike a ThreadPoolExecutor's worker, which the interpreter joins at exit): an
    interrupted run exits at once instead of waiting for the file being checked.
    """

    def __init__(self) -> None:
        self.calls: "queue.SimpleQueue[tuple[Future[object], Callable[..., object], tuple[object, ...]]]" = queue.SimpleQueue()
        previous = threading.stack_size()
        threading.stack_size(_STACK_SIZE)
        try:
            threading.Thread(target=self._serve, name=_THREAD_NAME, daemon=True).start()
        finally:
            threading.stack_size(previous)

    def _serve(self) -> None:
        sys.setrecursionlimit(max(sys.getrecursionlimit(), _RECURSION_LIMIT))
        while True:
            future, function, args = self.calls.get()
            try:
                future.set_result(function(*args))
            except BaseException as error:  # noqa: BLE001 - handed to the caller, which re-raises it
                future.set_exception(error)
            del future, function, args

    def run(self, function: Callable[..., T], args: tuple[object, ...]) -> T:
        future: "Future[T]" = Future()
        self.calls.put((future, function, args))  # type: ignore[arg-type]
        return future.result()


_worker: Optional[_BigStackThread] = None
_worker_lock = threading.Lock()


def _big_stack_worker() -> _BigStackThread:
    global _worker
    with _worker_lock:
        if _worker is None:
            _worker = _BigStackThread()
        return _worker


def forget_big_stack_worker() -> None:
    """Drop the worker inherited by a forked child process (its thread did not come along)."""
    global _worker
    _worker = None


def on_big_stack(function: Callable[..., T], *args: object) -> T:
    """Run `function` on the big-stack worker thread (directly when already there)."""
    if threading.current_thread().name == _THREAD_NAME:
        return function(*args)
    return _big_stack_worker().run(function, args)
