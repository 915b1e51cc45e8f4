"""Time the CLI on generated hostile inputs: a router of N routes and a multi-megabyte router.

    .venv/bin/python bench/hostile.py                      # 4,000 routes and a 5 MB router
    .venv/bin/python bench/hostile.py --routes 1000 2000 --megabytes 5

Each file is checked by a fresh `python -m fastapi_review --no-cache --select ALL` process; the
wall time and the peak resident memory of that process are printed, with the findings' codes.
Targets (issue 19): 4,000 routes in under 5 s; 5 MB finishes (or reports FR003) in under 60 s
with flat memory.  A benchmark, not a test: the numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import tempfile
import time
from pathlib import Path

HEADER = "from fastapi import APIRouter\n\nrouter = APIRouter()\n\n\n"
# every route has a parameter route and a literal route below it: each literal is shadowed
ROUTE = (
    '@router.get("/resource{i}/{{item_id}}")\n'
    "async def get_{i}(item_id: str) -> str:\n"
    '    """Route {i}."""\n'
    "    return item_id\n\n\n"
    '@router.get("/resource{i}/latest")\n'
    "async def latest_{i}() -> str:\n"
    '    """Route {i}, shadowed."""\n'
    '    return "latest"\n\n\n'
)


def router(routes: int) -> str:
    """A module with `routes` routes (half of them shadowed)."""
    return HEADER + "".join(ROUTE.format(i=i) for i in range(routes // 2))


def sized_router(megabytes: float) -> str:
    """A router of about `megabytes` MB."""
    per_pair = len(ROUTE.format(i=50_000))
    return router(int(megabytes * 1_000_000 / per_pair) * 2)


def check(path: Path) -> tuple[float, int, collections.Counter]:
    """Wall seconds, peak RSS (kB) and finding codes of one CLI run on `path`."""
    command = [sys.executable, "-m", "fastapi_review", "--no-cache", "-q", "--select", "ALL", "--format", "json", str(path)]
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        with open(os.devnull, "wb") as null, open(path.with_suffix(".json"), "wb") as out:
            os.dup2(out.fileno(), 1)
            os.dup2(null.fileno(), 2)
            os.execv(sys.executable, command)
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - start
    try:
        codes = collections.Counter(f["code"] for f in json.loads(path.with_suffix(".json").read_text() or "[]"))
    except ValueError:
        codes = collections.Counter({f"exit {os.waitstatus_to_exitcode(status)}": 1})
    return elapsed, usage.ru_maxrss, codes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--routes", type=int, nargs="*", default=[4000])
    parser.add_argument("--megabytes", type=float, nargs="*", default=[5.0])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        cases = [(f"{n} routes", router(n)) for n in args.routes]
        cases += [(f"{mb:g} MB router", sized_router(mb)) for mb in args.megabytes]
        for label, text in cases:
            path = Path(scratch) / "routes.py"
            path.write_text(text)
            seconds, peak, codes = check(path)
            size = len(text.encode()) / 1e6
            print(f"{label:>16} ({size:.1f} MB): {seconds:6.1f} s, peak {peak / 1024:7.0f} MB, findings {dict(codes)}")


if __name__ == "__main__":
    main()
