"""Benchmark: a full check of a directory vs libcst parse-only of the same files, in one run.

    python bench/bench.py PATH [--repeat N] [--select ALL]

Prints both timings (best of N) and the ratio check / parse-only.  Not a test: speed is
measured here, never asserted in the unit tests.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import libcst as cst

from fastapi_review.checker import check_paths
from fastapi_review.config import load_config
from fastapi_review.discovery import discover


def _parse_only(files: list[Path]) -> float:
    start = time.perf_counter()
    for path in files:
        try:
            cst.parse_module(path.read_bytes())
        except Exception:  # noqa: BLE001 - unparsable files cost what they cost in both runs
            pass
    return time.perf_counter() - start


def _full_check(path: str, config: object) -> tuple[float, int]:
    start = time.perf_counter()
    report = check_paths([path], config)  # discovery included, as a user runs it
    return time.perf_counter() - start, len(report.findings)


def _stdin_wall_time(path: str, repeat: int) -> None:
    """The editor path: `fastapi-review - --stdin-filename` on one file, as a fresh process."""
    import subprocess
    import sys

    data = Path(path).read_bytes()
    command = [sys.executable, "-m", "fastapi_review", "-", "--stdin-filename", path, "-q"]
    floor_command = [sys.executable, "-c", "pass"]
    times, floors = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(floor_command, check=True)
        floors.append(time.perf_counter() - start)
        start = time.perf_counter()
        subprocess.run(command, input=data, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    lines = data.count(b"\n")
    print(f"file:                     {path} ({lines} lines)")
    print(f"python startup (floor):   {min(floors):.3f} s (best of {repeat})")
    print(f"stdin single-file check:  {min(times):.3f} s wall (best of {repeat})")


def main() -> None:
    """Run the comparison and print the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--select", default=None, help="comma-separated selectors (default: the default rule set)")
    parser.add_argument("--stdin", action="store_true", help="time a one-file stdin run of PATH (the editor path)")
    args = parser.parse_args()
    if args.stdin:
        _stdin_wall_time(args.path, args.repeat)
        return
    config = load_config(None, Path(args.path))
    if args.select:
        import dataclasses

        config = dataclasses.replace(config, select=tuple(args.select.split(",")))
    sources = discover([args.path], config)
    files = [s.path for s in sources]
    parse_times, check_times = [], []
    findings = 0
    for _ in range(args.repeat):  # interleaved, so both see the same machine state
        parse_times.append(_parse_only(files))
        elapsed, findings = _full_check(args.path, config)
        check_times.append(elapsed)
    floor, ours = min(parse_times), min(check_times)
    print(f"files:              {len(files)}")
    print(f"findings:           {findings}")
    print(f"libcst parse-only:  {floor:.2f} s (best of {args.repeat})")
    print(f"fastapi-review:     {ours:.2f} s (best of {args.repeat})")
    print(f"ratio:              {ours / floor:.2f}x parse-only")


if __name__ == "__main__":
    main()
