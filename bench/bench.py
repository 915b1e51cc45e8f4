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
import json
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

import fastapi_review
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


Command = tuple[list[str], Optional[Callable[[], None]]]


def _measure(
    command: list[str], cwd: Path, before: Optional[Callable[[], None]] = None, stdin: Optional[bytes] = None,
    env: Optional[dict[str, str]] = None,
) -> tuple[float, float]:
    if before is not None:
        before()
    start = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
        stdin=subprocess.PIPE if stdin is not None else None,
    )
    if stdin is not None:
        assert process.stdin is not None
        process.stdin.write(stdin)
        process.stdin.close()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 1):
        raise SystemExit(f"bench: {' '.join(command)} exited {process.returncode}")
    return elapsed, usage.ru_maxrss / 1024


def _median(label: str, runs: list[tuple[float, float]]) -> Timing:
    print(f"  {label}: " + ", ".join(f"{s:.3f} s" for s, _ in runs), file=sys.stderr)
    return Timing(label, statistics.median(s for s, _ in runs), max(m for _, m in runs))


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


def compare(path: str, repeat: int, select: Optional[str], peers: Optional[Path], main_python: Optional[str]) -> None:
    """Run every measurement on a scratch copy of PATH's files and print the table."""
    with tempfile.TemporaryDirectory(prefix="fastapi-review-bench-") as temp:
        scratch = Path(temp) / "project"
        cache = Path(temp) / "cache"
        files = _copy_files(path, select, scratch)
        options = ["-q", "--exit-zero"] + (["--select", select] if select else [])
        ours = [sys.executable, "-m", "fastapi_review", ".", *options, "--cache-dir", str(cache)]
        cores = default_jobs()

        def clear() -> None:
            shutil.rmtree(cache, ignore_errors=True)

        changed = scratch / sorted(files, key=lambda f: (scratch / f).stat().st_size)[len(files) // 2]
        counter = iter(range(1_000_000))

        def change_one_file() -> None:
            with changed.open("a", encoding="utf-8") as out:
                out.write(f"\n# bench edit {next(counter)}\n")

        print(f"{len(files)} files from {path}; {cores} cores; median of {repeat}", file=sys.stderr)
        floor_label, cold_label = "libcst parse-only", "fastapi-review cold --jobs 1"
        cold_commands: dict[str, Command] = {
            floor_label: ([sys.executable, "-c", PARSE_ONLY, *files], None),
            cold_label: ([*ours, "--jobs", "1"], clear),
            f"fastapi-review cold --jobs {cores}": ([*ours, "--jobs", str(cores)], clear),
        }
        if main_python:
            main_cache = Path(temp) / "main-cache"
            cold_commands["main: cold --jobs 1"] = (
                # its own build, whatever PYTHONPATH this run has
                ["env", "-u", "PYTHONPATH", main_python, "-m", "fastapi_review", ".", *options, "--cache-dir", str(main_cache), "--jobs", "1"],
                lambda: shutil.rmtree(main_cache, ignore_errors=True),
            )
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
        warm_commands: dict[str, Command] = {
            "fastapi-review warm (cached)": (ours, None),
            "fastapi-review one file changed": (ours, change_one_file),
        }
        if main_python:
            _measure(cold_commands["main: cold --jobs 1"][0], scratch)
            warm_commands["main: warm (cached)"] = (cold_commands["main: cold --jobs 1"][0], None)
        warm_runs = _rounds(warm_commands, scratch, repeat)
        runs = {**cold_runs, **warm_runs}
        runs.update(_moved_checkout(Path(temp), scratch, cache, options, repeat))
        runs.update(_on_save(scratch, files, cache, options, repeat))
        runs.update(_shards(Path(temp), scratch, options, repeat))
        timings = {label: _median(label, measured) for label, measured in runs.items()}
        floor, cold = timings[floor_label], timings[cold_label]
        paired = sorted(mine[0] / base[0] for mine, base in zip(cold_runs[cold_label], cold_runs[floor_label]))
        labels = [floor_label, cold_label, *(label for label in cold_commands if label not in (floor_label, cold_label))]
        rows = [timings[label] for label in (*labels[:3], *warm_runs, *(l for l in runs if l not in cold_runs and l not in warm_runs), *labels[3:])]
    print(f"\n{len(files)} files, {cores} cores, median of {repeat} (the commands of a run interleaved, round by round)\n")
    print(f"| {'run':<44} | {'seconds':>8} | {'x parse-only':>12} | {'x ours --jobs 1':>15} | {'peak MB':>8} |")
    print(f"|{'-' * 46}|{'-' * 10}:|{'-' * 14}:|{'-' * 17}:|{'-' * 10}:|")
    for row in rows:
        print(
            f"| {row.label:<44} | {row.seconds:>8.3f} | {row.seconds / floor.seconds:>11.2f}x"
            f" | {row.seconds / cold.seconds:>14.2f}x | {row.peak_mb:>8.0f} |"
        )
    print(
        "\ncold --jobs 1 / parse-only within each round: "
        + ", ".join(f"{r:.3f}" for r in paired)
        + f" (median {statistics.median(paired):.3f})"
    )
    _done_when(timings, cold_label, f"fastapi-review cold --jobs {cores}")


def _done_when(timings: dict[str, Timing], cold_label: str, cold_all_label: str) -> None:
    """The ratios issue 23 asks for, from this run's medians."""
    warm, cold = timings["fastapi-review warm (cached)"].seconds, timings[cold_label].seconds
    lines = []
    if "ruff --no-cache" in timings:
        lines.append(f"warm / ruff cold: {warm / timings['ruff --no-cache'].seconds:.2f} (goal <= 1.0)")
    lines.append(f"moved checkout + fresh install, warm / cold --jobs 1: {timings[_MOVED].seconds / cold:.3f} (goal <= 0.10)")
    lines.append(f"2 shards + merge: merge step / cold --jobs 1: {timings[_MERGE].seconds / cold:.3f} (goal <= 0.10)")
    lines.append(f"2 shards + merge: merge step / cold --jobs all: {timings[_MERGE].seconds / timings[cold_all_label].seconds:.3f}")
    lines.append(f"stdin warm: {timings[_STDIN_WARM].seconds:.3f} s (goal <= 0.3); no cache: {timings[_STDIN_COLD].seconds:.3f} s (goal <= 1.0)")
    lines.append(f"LSP first diagnostics, no cache: {timings[_LSP].seconds:.3f} s (goal <= 0.5)")
    if "main: cold --jobs 1" in timings:
        lines.append(f"peak MB cold --jobs 1: {timings[cold_label].peak_mb:.0f} (main: {timings['main: cold --jobs 1'].peak_mb:.0f})")
    print("\n" + "\n".join(lines))


_MOVED = "moved checkout + fresh install, warm"
_STDIN_WARM, _STDIN_COLD = "stdin router, warm", "stdin router, project without cache"
_LSP = "LSP first diagnostics, no cache"
_SHARDS, _MERGE = "2 shards (2 processes, --jobs 1 each)", "merge step (run over merged caches)"


def _moved_checkout(temp: Path, scratch: Path, cache: Path, options: list[str], repeat: int) -> dict[str, list[tuple[float, float]]]:
    """A CI runner: the checkout and its restored cache at another path (new mtimes), and the
    tool freshly installed (its sources copied anew)."""
    moved, moved_cache, install = temp / "runner" / "checkout", temp / "runner" / "cache", temp / "runner" / "site"
    shutil.copytree(scratch, moved, copy_function=shutil.copyfile)
    shutil.copytree(cache, moved_cache, copy_function=shutil.copyfile)
    package = Path(fastapi_review.__file__).parent
    shutil.copytree(package, install / "fastapi_review", copy_function=shutil.copyfile, ignore=shutil.ignore_patterns("__pycache__"))
    environment = {**os.environ, "PYTHONPATH": str(install)}
    _measure([sys.executable, "-c", "import fastapi_review"], moved, env=environment)  # its bytecode, as an install compiles it
    command = [sys.executable, "-m", "fastapi_review", ".", *options, "--cache-dir", str(moved_cache)]
    return {_MOVED: [_measure(command, moved, env=environment) for _ in range(repeat)]}


def _router(scratch: Path, files: list[str]) -> str:
    """The router file closest to 300 lines (the on-save example)."""
    routers = [f for f in files if b"APIRouter" in (scratch / f).read_bytes()] or files
    return min(routers, key=lambda f: (abs((scratch / f).read_bytes().count(b"\n") - 300), f))


def _wait_for_background_index(cache: Path) -> None:
    while (cache / "indexing.lock").exists():
        time.sleep(0.05)


def _on_save(scratch: Path, files: list[str], cache: Path, options: list[str], repeat: int) -> dict[str, list[tuple[float, float]]]:
    """The editor paths: stdin on a router with the project cached and without a cache (its
    background index run is waited for between runs, outside the timing), and the language
    server's first diagnostics of an opened file in a project without a cache."""
    router = _router(scratch, files)
    data = (scratch / router).read_bytes()
    lines = data.count(b"\n")
    print(f"  on-save file: {router} ({lines} lines)", file=sys.stderr)
    command = [sys.executable, "-m", "fastapi_review", "-", "--stdin-filename", router, *options, "--cache-dir", str(cache)]
    _measure(command[:3] + [".", *options, "--cache-dir", str(cache)], scratch)  # the project cached
    warm = [_measure(command, scratch, stdin=data) for _ in range(repeat)]
    cold, lsp = [], []
    for _ in range(repeat):
        shutil.rmtree(cache, ignore_errors=True)
        cold.append(_measure(command, scratch, stdin=data))
        _wait_for_background_index(cache)
    default_cache = scratch / ".fastapi_review_cache"
    for _ in range(repeat):
        shutil.rmtree(default_cache, ignore_errors=True)
        lsp.append((_lsp_first_diagnostics(scratch, scratch / router), 0.0))
        _wait_for_background_index(default_cache)
    shutil.rmtree(default_cache, ignore_errors=True)
    return {_STDIN_WARM: warm, _STDIN_COLD: cold, _LSP: lsp}


def _lsp_first_diagnostics(root: Path, path: Path) -> float:
    """Seconds from didOpen to the first publishDiagnostics of `fastapi-review lsp`, once
    the server is initialized (an editor starts it once per session)."""
    server = subprocess.Popen(
        [sys.executable, "-m", "fastapi_review", "lsp"], cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert server.stdin is not None and server.stdout is not None

    def send(message: dict[str, object]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        server.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)  # type: ignore[union-attr]
        server.stdin.flush()  # type: ignore[union-attr]

    def receive() -> dict[str, object]:
        length = 0
        while (line := server.stdout.readline().strip()):  # type: ignore[union-attr]
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        return json.loads(server.stdout.read(length))  # type: ignore[union-attr]

    send({"id": 1, "method": "initialize", "params": {"processId": None, "rootUri": root.as_uri(), "capabilities": {}}})
    while receive().get("id") != 1:
        pass
    send({"method": "initialized", "params": {}})
    text = path.read_text(encoding="utf-8")
    start = time.perf_counter()
    send({"method": "textDocument/didOpen", "params": {"textDocument": {"uri": path.as_uri(), "languageId": "python", "version": 1, "text": text}}})
    while receive().get("method") != "textDocument/publishDiagnostics":
        pass
    elapsed = time.perf_counter() - start
    send({"id": 2, "method": "shutdown"})
    send({"method": "exit"})
    server.wait(timeout=60)
    return elapsed


def _shards(temp: Path, scratch: Path, options: list[str], repeat: int) -> dict[str, list[tuple[float, float]]]:
    """Two CI runners (two processes at once, --jobs 1 each), then the merge step: copy both
    caches into one directory and run over it.  Its output must be one run's, byte for byte."""
    base = [sys.executable, "-m", "fastapi_review", ".", *options]
    plain = subprocess.run([*base, "--no-cache"], cwd=scratch, capture_output=True).stdout
    sharded, merged = [], []
    for _ in range(repeat):
        caches = [temp / f"shard{number}" for number in (1, 2)]
        for directory in (*caches, temp / "merged"):
            shutil.rmtree(directory, ignore_errors=True)
        start = time.perf_counter()
        processes = [
            subprocess.Popen([*base, "--jobs", "1", "--shard", f"{n}/2", "--cache-dir", str(c)], cwd=scratch,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for n, c in zip((1, 2), caches)
        ]
        peak = max(os.wait4(p.pid, 0)[2].ru_maxrss for p in processes) / 1024
        sharded.append((time.perf_counter() - start, peak))
        for directory in caches:  # what CI's artifact download does
            shutil.copytree(directory, temp / "merged", dirs_exist_ok=True)
        merged.append(_measure([*base, "--cache-dir", str(temp / "merged")], scratch))
        output = subprocess.run([*base, "--cache-dir", str(temp / "merged")], cwd=scratch, capture_output=True).stdout
        if output != plain:
            raise SystemExit("bench: the shards' merged findings differ from one run's")
    print("  shards + merge: findings byte-identical to one run", file=sys.stderr)
    return {_SHARDS: sharded, _MERGE: merged}


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
    parser.add_argument("--main-python", default=None, help="a Python with another fastapi-review build (e.g. main's venv): cold and warm rows for it")
    args = parser.parse_args()
    if args.stdin:
        stdin_wall_time(args.path, args.repeat)
    else:
        compare(args.path, args.repeat, args.select, args.peers, args.main_python)


if __name__ == "__main__":
    main()
