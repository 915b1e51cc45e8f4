"""A wall-clock budget for one file's check, enforced from outside the check.

A watchdog thread (one per process, started on first use) raises `BudgetExceeded` in the thread
running the check once its deadline passes, through CPython's asynchronous-exception hook: no
rule has to poll a clock, and a super-linear rule is bounded as surely as the engine.  The
exception reaches the check at its next Python bytecode (native code, such as one regular
expression match, finishes first).  Ground floor: imports only the standard library.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
import time
from typing import Callable, Optional, TypeVar

T = TypeVar("T")

# CPython's own hook; other interpreters run checks without a budget.
_SET_ASYNC_EXC: Optional[Callable[..., int]] = getattr(getattr(ctypes, "pythonapi", None), "PyThreadState_SetAsyncExc", None)
if sys.implementation.name != "cpython":  # pragma: no cover
    _SET_ASYNC_EXC = None


class BudgetExceeded(BaseException):
    """Raised in a check that ran out of time (a BaseException: `except Exception` in a rule
    must not swallow it)."""


class _Watchdog:
    """Holds at most one deadline (the checks of a process run one at a time, on one thread)."""

    def __init__(self) -> None:
        self.condition = threading.Condition()
        self.deadline: Optional[float] = None
        self.target = 0
        self.fired = False
        self.pid = os.getpid()
        threading.Thread(target=self._watch, name="fastapi-review-watchdog", daemon=True).start()

    def _watch(self) -> None:
        with self.condition:
            while True:
                if self.deadline is None:
                    self.condition.wait()
                    continue
                remaining = self.deadline - time.monotonic()
                if remaining > 0:
                    self.condition.wait(remaining)
                    continue
                self.deadline = None
                self.fired = True
                _raise_in(self.target, BudgetExceeded)


_watchdog: Optional[_Watchdog] = None
_lock = threading.Lock()


def _the_watchdog() -> _Watchdog:
    global _watchdog
    with _lock:
        if _watchdog is None or _watchdog.pid != os.getpid():  # a forked child has no watchdog thread
            _watchdog = _Watchdog()
        return _watchdog


def _raise_in(thread_id: int, exception: Optional[type]) -> None:
    assert _SET_ASYNC_EXC is not None
    _SET_ASYNC_EXC(ctypes.c_ulong(thread_id), ctypes.py_object(exception) if exception is not None else None)


def run_within(seconds: Optional[float], function: Callable[..., T], *args: object) -> T:
    """`function(*args)`, raising `BudgetExceeded` in it if it runs longer than `seconds`
    (None or 0: no budget)."""
    if not seconds or _SET_ASYNC_EXC is None:
        return function(*args)
    watchdog = _the_watchdog()
    with watchdog.condition:
        watchdog.target = threading.get_ident()
        watchdog.fired = False
        watchdog.deadline = time.monotonic() + seconds
        watchdog.condition.notify()
    try:
        return function(*args)
    finally:
        with watchdog.condition:
            watchdog.deadline = None
            if watchdog.fired:  # cancel the exception if it has not been raised yet
                watchdog.fired = False
                _raise_in(watchdog.target, None)
