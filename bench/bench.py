"""Benchmark: fastapi-review against the libcst parse-only floor and its peers, in one run.

    python bench/bench.py PATH [--repeat N] [--peers VENV] [--select ALL]
    python bench/bench.py FILE --stdin [--repeat N]

Copies the Python files fastapi-review would check under PATH to a scratch directory (so the
one-file-changed run can edit a file), then times, each as a fresh process on that same file
list, best of N:

- libcst parse-only of every file (the floor: no checker built on libcst can be faster);
- fastapi-review cold with --jobs 1, cold with all cores, warm (cached, nothing changed), and
  with one file changed;
- when installed in the --peers virtualenv (bench/requirements-peers.txt): ruff --no-cache,
  flake8 -j1 with flake8-annotations and flake8-bugbear, and fixit's default rules.

The cold runs (and the peers) are interleaved: each round runs every command once, so a slow
phase of a shared machine slows a whole round rather than every repeat of one command.  Every
timing is reported as a ratio to the floor and to our cold --jobs 1 run, with the peak resident
memory of the largest process, and the cold --jobs 1 / floor ratio of each round on its own.  Not a test: speed is measured here, never asserted in
the unit tests.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from fastapi_review.config import load_config
from fastapi_review.discovery import discover
from fastapi_review.parallel import default_jobs

PARSE_ONLY = """
import sys
import libcst
for path in sys.argv[1:]:
    try:
        libcst.parse_module(open(path, "rb").read())
    except Exception:
        pass
"""


@dataclass
class Timing:
    """Best wall time of a command and the peak RSS of its largest process."""

    label: str
    seconds: float
    peak_mb: float


def _measure(command: list[str], cwd: Path, before: Optional[Callable[[], None]] = None) -> tuple[float, float]:
    if before is not None:
        before()
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 1):
        raise SystemExit(f"bench: {' '.join(command)} exited {process.returncode}")
    return elapsed, usage.ru_maxrss / 1024


def _best(label: str, runs: list[tuple[float, float]]) -> Timing:
    print(f"  {label}: " + ", ".join(f"{s:.2f} s" for s, _ in runs), file=sys.stderr)
    return Timing(label, min(s for s, _ in runs), max(m for _, m in runs))


def _rounds(
    commands: dict[str, tuple[list[str], Optional[Callable[[], None]]]], cwd: Path, repeat: int
) -> dict[str, list[tuple[float, float]]]:
    """Every command once per round, `repeat` rounds: a slow phase of a shared machine then
    slows every command of a round alike instead of all the repeats of one command."""
    runs: dict[str, list[tuple[float, float]]] = {label: [] for label in commands}
    for _ in range(repeat):
        for label, (command, before) in commands.items():
            runs[label].append(_measure(command, cwd, before))
    return runs


def _copy_files(path: str, select: Optional[str], scratch: Path) -> list[str]:
    """Copy the files a check of PATH would see; return their paths relative to `scratch`."""
    import dataclasses

    config = load_config(None, Path(path))
    if select:
        config = dataclasses.replace(config, select=tuple(select.split(",")))
    relative = []
    for source in discover([path], config):
        name = os.path.relpath(source.path, path)
        target = scratch / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source.path, target)
        relative.append(name)
    return relative


def _peer(venv: Optional[Path], tool: str) -> Optional[str]:
    candidate = venv / "bin" / tool if venv else None
    if candidate is not None and candidate.exists():
        return str(candidate)
    return None


def compare(path: str, repeat: int, select: Optional[str], peers: Optional[Path]) -> None:
    """Run every measurement on a scratch copy of PATH's files and print the table."""
    with tempfile.TemporaryDirectory(prefix="fastapi-review-bench-") as temp:
        scratch = Path(temp) / "project"
        cache = Path(temp) / "cache"
        files = _copy_files(path, select, scratch)
        ours = [sys.executable, "-m", "fastapi_review", ".", "-q", "--exit-zero", "--cache-dir", str(cache)]
        if select:
            ours += ["--select", select]
        cores = default_jobs()

        def clear() -> None:
            shutil.rmtree(cache, ignore_errors=True)

        changed = scratch / sorted(files, key=lambda f: (scratch / f).stat().st_size)[len(files) // 2]
        counter = iter(range(1_000_000))

        def change_one_file() -> None:
            with changed.open("a", encoding="utf-8") as out:
                out.write(f"\n# bench edit {next(counter)}\n")

        print(f"{len(files)} files from {path}; {cores} cores; best of {repeat}", file=sys.stderr)
        floor_label, cold_label = "libcst parse-only", "fastapi-review cold --jobs 1"
        cold_commands: dict[str, tuple[list[str], Optional[Callable[[], None]]]] = {
            floor_label: ([sys.executable, "-c", PARSE_ONLY, *files], None),
            cold_label: ([*ours, "--jobs", "1"], clear),
            f"fastapi-review cold --jobs {cores}": ([*ours, "--jobs", str(cores)], clear),
        }
        peer_commands = {
            "ruff --no-cache": (_peer(peers, "ruff"), ["check", "--no-cache", "--exit-zero", "-q", "."]),
            "flake8 -j1 +annotations +bugbear": (_peer(peers, "flake8"), ["-j1", "--exit-zero", "."]),
            "fixit (default rules)": (_peer(peers, "fixit"), ["lint", "."]),
        }
        for label, (tool, arguments) in peer_commands.items():
            if tool is None:
                print(f"  {label}: not installed in --peers, skipped", file=sys.stderr)
            else:
                cold_commands[label] = ([tool, *arguments], None)
        cold_runs = _rounds(cold_commands, scratch, repeat)
        _measure(ours, scratch)  # fill the cache
        warm_runs = _rounds(
            {"fastapi-review warm (cached)": (ours, None), "fastapi-review one file changed": (ours, change_one_file)},
            scratch,
            repeat,
        )
        timings = {label: _best(label, runs) for label, runs in {**cold_runs, **warm_runs}.items()}
        floor, cold = timings[floor_label], timings[cold_label]
        paired = sorted(mine[0] / base[0] for mine, base in zip(cold_runs[cold_label], cold_runs[floor_label]))
        labels = [floor_label, cold_label, *(label for label in cold_commands if label not in (floor_label, cold_label))]
        rows = [timings[label] for label in (*labels[:3], *warm_runs, *labels[3:])]
    print(f"\n{len(files)} files, {cores} cores, best of {repeat} (the commands of a run interleaved, round by round)\n")
    print(f"| {'run':<36} | {'seconds':>8} | {'x parse-only':>12} | {'x ours --jobs 1':>15} | {'peak MB':>8} |")
    print(f"|{'-' * 38}|{'-' * 10}:|{'-' * 14}:|{'-' * 17}:|{'-' * 10}:|")
    for row in rows:
        print(
            f"| {row.label:<36} | {row.seconds:>8.2f} | {row.seconds / floor.seconds:>11.2f}x"
            f" | {row.seconds / cold.seconds:>14.2f}x | {row.peak_mb:>8.0f} |"
        )
    print(
        "\ncold --jobs 1 / parse-only within each round: "
        + ", ".join(f"{r:.3f}" for r in paired)
        + f" (median {statistics.median(paired):.3f})"
    )


def stdin_wall_time(path: str, repeat: int) -> None:
    """The editor path: `fastapi-review - --stdin-filename` on one file, as a fresh process."""
    data = Path(path).read_bytes()
    command = [sys.executable, "-m", "fastapi_review", "-", "--stdin-filename", path, "-q", "--no-cache"]
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
    """Parse the arguments and run the comparison (or the stdin timing)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--select", default=None, help="comma-separated selectors (default: the default rule set)")
    parser.add_argument("--peers", type=Path, default=None, help="virtualenv with ruff, flake8 (+plugins) and fixit")
    parser.add_argument("--stdin", action="store_true", help="time a one-file stdin run of PATH (the editor path)")
    args = parser.parse_args()
    if args.stdin:
        stdin_wall_time(args.path, args.repeat)
    else:
        compare(args.path, args.repeat, args.select, args.peers)


if __name__ == "__main__":
    main()
