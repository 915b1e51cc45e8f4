"""The content-hash cache, the process pool and single-file runs over cached project facts."""

from __future__ import annotations

import multiprocessing
import os
import pty
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import fastapi_review
from cli_helpers import run
from fastapi_review import cache as cache_module, parallel
from fastapi_review.discovery import SourceFile
from fastapi_review.cache import Cache, config_fingerprint
from fastapi_review.checker import INDEX_LOCK, check_paths, check_text
from fastapi_review.config import Config

BASE = '''\
from datetime import datetime

from sqlalchemy import DateTime, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), onupdate=func.now())
'''

MODELS = '''\
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, TimestampMixin


class User(TimestampMixin, Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
'''


def _project(root: Path) -> Path:
    (root / "app").mkdir()
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "db.py").write_text(BASE)
    (root / "app" / "models.py").write_text(MODELS)
    (root / "pyproject.toml").write_text("[tool.fastapi-review]\nselect = ['FR502', 'FR101']\n")
    return root


def _config(root: Path) -> Config:
    return Config(root=root, source=root / "pyproject.toml", select=("FR502", "FR101"), learn_conventions=False)


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The display paths the per-file phase really checks (not served from the cache)."""
    seen: list[str] = []
    original = parallel.engine.check_file

    def spy(file: SourceFile, *args: object, **kwargs: object) -> object:
        seen.append(file.display)
        return original(file, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(parallel.engine, "check_file", spy)
    return seen


def _codes(findings: list) -> list[tuple[str, str, int]]:
    return [(Path(f.path).name, f.code, f.line) for f in findings]


def test_warm_run_reuses_every_entry(tmp_path: Path, checked: list[str]) -> None:
    root = _project(tmp_path)
    (root / "app" / "untyped.py").write_text("def f(x):\n    return x\n")
    config = _config(root)
    cache = Cache(tmp_path / "cache", config)
    cold = check_paths([str(root)], config, cache=cache).findings
    assert len(checked) == 4 and _codes(cold) == [("untyped.py", "FR101", 1)]
    checked.clear()
    warm = check_paths([str(root)], config, cache=Cache(tmp_path / "cache", config)).findings
    assert checked == [] and warm == cold


def test_project_phase_reruns_when_another_file_changes(tmp_path: Path, checked: list[str]) -> None:
    root = _project(tmp_path)
    config = _config(root)
    cache = Cache(tmp_path / "cache", config)
    assert check_paths([str(root)], config, cache=cache).findings == []
    (root / "app" / "db.py").write_text(BASE.replace("    updated_at", "    touched").replace("    created_at", "    made"))
    checked.clear()
    findings = check_paths([str(root)], config, cache=cache).findings
    assert [Path(p).name for p in checked] == ["db.py"]  # models.py came from the cache...
    assert _codes(findings) == [("models.py", "FR502", 6)]  # ...and still got the cross-file finding


def test_changed_settings_do_not_reuse_entries(tmp_path: Path, checked: list[str]) -> None:
    root = _project(tmp_path)
    config = _config(root)
    check_paths([str(root)], config, cache=Cache(tmp_path / "cache", config))
    other = Config(root=root, source=root / "pyproject.toml", select=("FR502", "FR101"), rule_options={"FR502": {}})
    assert config_fingerprint(other) != config_fingerprint(config)
    checked.clear()
    check_paths([str(root)], other, cache=Cache(tmp_path / "cache", other))
    assert len(checked) == 3


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "empty"])
def test_corrupt_entries_are_ignored_and_rewritten(tmp_path: Path, checked: list[str], damage: str) -> None:
    root = _project(tmp_path)
    (root / "app" / "untyped.py").write_text("def f(x):\n    return x\n")
    config = _config(root)
    cold = check_paths([str(root)], config, cache=Cache(tmp_path / "cache", config)).findings
    entries = sorted(p for p in (tmp_path / "cache").rglob("*") if p.is_file() and p.parent.name.startswith("v"))
    assert len(entries) == 2  # one pack holds every file's entry, one the project phase's result
    for entry in entries:
        blob = entry.read_bytes()
        broken = {
            "truncate": blob[: len(blob) // 2],
            "flip": blob[:-3] + bytes([blob[-3] ^ 0xFF]) + blob[-2:],
            "garbage": b"FRP1" + os.urandom(200),
            "empty": b"",
        }[damage]
        entry.write_bytes(broken)
    checked.clear()
    assert check_paths([str(root)], config, cache=Cache(tmp_path / "cache", config)).findings == cold
    assert len(checked) == 4  # every damaged entry was a miss...
    checked.clear()
    assert check_paths([str(root)], config, cache=Cache(tmp_path / "cache", config)).findings == cold
    assert checked == []  # ...and was rewritten


def _run_in_process(args: tuple[str, str]) -> int:
    root, cache_dir = Path(args[0]), Path(args[1])
    config = _config(root)
    return len(check_paths([str(root)], config, cache=Cache(cache_dir, config)).findings)


def test_concurrent_runs_share_a_cache(tmp_path: Path) -> None:
    root = _project(tmp_path)
    for number in range(30):
        (root / "app" / f"m{number}.py").write_text(f"def f{number}(x):\n    return x\n")
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        counts = pool.map(_run_in_process, [(str(root), str(tmp_path / "cache"))] * 8)
    assert counts == [30] * 8
    leftovers = [p for p in (tmp_path / "cache").rglob("*.tmp")]
    assert leftovers == []
    config = _config(root)
    assert len(check_paths([str(root)], config, cache=Cache(tmp_path / "cache", config)).findings) == 30


def test_pool_gives_the_same_findings_as_one_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(tmp_path)
    for number in range(40):
        (root / "app" / f"m{number}.py").write_text(f"def f{number}(x, y: int):\n    return x\n" * (number % 5 + 1))
    config = _config(root)
    pools: list[int] = []
    original = parallel.ProcessPoolExecutor

    def counting(workers: int, **kwargs: object) -> object:
        pools.append(workers)
        return original(workers, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(parallel, "ProcessPoolExecutor", counting)
    serial = check_paths([str(root)], config, jobs=1).findings
    assert pools == []
    pooled = check_paths([str(root)], config, jobs=2).findings
    assert pools == [2] and pooled == serial and len(serial) == 120


def test_small_runs_stay_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _project(tmp_path)
    monkeypatch.setattr(parallel, "ProcessPoolExecutor", None)  # would raise if used
    assert check_paths([str(root)], _config(root), jobs=8).findings == []


def test_chunks_cover_every_task_largest_first() -> None:
    tasks = [parallel.Task(i, SourceFile(Path(f"f{i}.py"), f"f{i}.py", f"f{i}.py"), (), b"x" * (i * 100)) for i in range(50)]
    chunks = parallel._chunks(tasks, 2)
    flat = [t.index for chunk in chunks for t in chunk]
    assert sorted(flat) == list(range(50)) and flat[0] == 49
    assert 2 < len(chunks) <= 2 * parallel._CHUNKS_PER_WORKER + 1


def test_single_file_run_uses_the_projects_cached_facts(tmp_path: Path, checked: list[str]) -> None:
    root = _project(tmp_path)
    (root / "app" / "db.py").write_text(BASE.replace("    updated_at", "    touched").replace("    created_at", "    made"))
    config = _config(root)
    models = str(root / "app" / "models.py")
    # alone, the file cannot know its mixin lacks updated_at: silent (precision first)
    assert check_paths([models], config).findings == []
    cache = Cache(tmp_path / "cache", config)
    checked.clear()
    # a cold cache: the other files are not checked in the foreground, only counted
    cold = check_paths([models], config, cache=cache)
    assert cold.findings == [] and cold.context_missing == 2 and [Path(p).name for p in checked] == ["models.py"]
    missing: list[SourceFile] = []
    assert check_text(MODELS.encode(), models, config, cache=cache, missing=missing) == []
    assert sorted(f.path.name for f in missing) == ["__init__.py", "db.py"]
    check_paths([str(root)], config, cache=cache)  # the project is cached (as the background run does)
    warm = check_paths([models], config, cache=Cache(tmp_path / "cache", config))
    assert _codes(warm.findings) == [("models.py", "FR502", 6)] and warm.context_missing == 0
    # stdin (an editor's unsaved buffer) replaces the file on disk
    edited = MODELS.replace("TimestampMixin, Base", "Base")
    missing.clear()
    assert _codes(check_text(edited.encode(), models, config, cache=cache, missing=missing)) == [("models.py", "FR502", 6)]
    assert missing == []
    assert check_text(MODELS.replace("TimestampMixin, ", "").replace("Base):", "Base):  # noqa: FR502").encode(), models, config, cache=cache) == []


def _wait_for_background_index(cache: Path) -> None:
    deadline = time.monotonic() + 120
    while (cache / INDEX_LOCK).exists():
        assert time.monotonic() < deadline, "the background index run did not finish"
        time.sleep(0.05)


def test_cli_cache_dir_gitignore_and_clean(tmp_path: Path) -> None:
    root = _project(tmp_path)
    assert run(["app", "-q"], root).exit_code == 0
    cache = root / ".fastapi_review_cache"
    assert (cache / ".gitignore").read_text().splitlines()[-1] == "*"
    assert (cache / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")
    result = run(["clean"], root)
    assert result.exit_code == 0 and not cache.exists() and "Removed" in result.stderr
    assert run(["app", "-q", "--no-cache"], root).exit_code == 0 and not cache.exists()
    assert run(["app", "-q", "--cache-dir", "elsewhere"], root).exit_code == 0 and (root / "elsewhere").is_dir()
    (root / "notacache").mkdir()
    refused = run(["clean", "--cache-dir", "notacache"], root)
    assert refused.exit_code == 2 and "not deleting" in refused.stderr and (root / "notacache").is_dir()
    bad = run(["app", "--jobs", "0"], root)
    assert bad.exit_code == 2 and "--jobs" in bad.stderr


def _stderr_on_a_terminal(args: list[str], cwd: Path) -> str:
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "fastapi_review", *args], cwd=cwd, stdout=subprocess.DEVNULL, stderr=follower
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    process.wait(timeout=120)
    os.close(leader)
    return b"".join(chunks).decode()


def test_progress_bar_only_on_a_terminal_and_for_long_runs(tmp_path: Path) -> None:
    root = _project(tmp_path)
    for number in range(210):
        (root / "app" / f"m{number}.py").write_text("x = 1\n")
    terminal = _stderr_on_a_terminal(["app", "--no-cache", "-j", "1"], root)
    assert "Checking" in terminal and "213/213" in terminal
    assert "Checking" not in _stderr_on_a_terminal(["app/models.py", "--no-cache"], root)
    assert "Checking" not in _stderr_on_a_terminal(["app", "--no-cache", "--format", "json"], root)
    piped = run(["app", "--no-cache"], root)
    assert "Checking" not in piped.stderr


def test_cli_stdin_run_answers_at_once_and_indexes_the_project_in_the_background(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "app" / "db.py").write_text(BASE.replace("    updated_at", "    touched").replace("    created_at", "    made"))
    args = ["-", "--stdin-filename", "app/models.py"]
    first = run([*args, "-q"], root, stdin=MODELS)
    # no project facts cached yet: the per-file answer now, the cross-file finding next time
    assert first.exit_code == 0 and first.stdout == ""
    assert (root / ".fastapi_review_cache" / INDEX_LOCK).exists()  # the background run is going
    _wait_for_background_index(root / ".fastapi_review_cache")
    with_project = run([*args, "-q"], root, stdin=MODELS)
    assert with_project.exit_code == 1 and [line.split(" ")[:2] for line in with_project.stdout.splitlines()] == [["app/models.py:6:7:", "FR502"]]
    alone = run([*args, "-q", "--no-cache"], root, stdin=MODELS)
    assert alone.exit_code == 0 and alone.stdout == ""


def test_entries_are_shared_by_runs_from_any_directory(tmp_path: Path, checked: list[str]) -> None:
    (tmp_path / "project").mkdir()
    root = _project(tmp_path / "project")
    (root / "pyproject.toml").write_text("")  # a project marker without our table: no configuration
    (root / "app" / "untyped.py").write_text("def f(x):\n    return x\n")
    cache_dir = str(tmp_path / "cache")
    first = run(["app", "--cache-dir", cache_dir, "--select", "FR101"], root)
    assert first.exit_code == 1 and "app/untyped.py:1:7: FR101" in first.stdout
    checked.clear()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    again = run([str(root / "app"), "--cache-dir", cache_dir, "--select", "FR101"], elsewhere)
    assert checked == []  # every file came from the cache...
    assert f"{root / 'app' / 'untyped.py'}:1:7: FR101" in again.stdout  # ...shown as this run names it


def _packs(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.rglob("*") if p.is_file() and p.parent.name.startswith("v"))


@pytest.mark.parametrize("jobs", [1, 2])
def test_runs_leave_a_few_packs(tmp_path: Path, checked: list[str], jobs: int) -> None:
    root = _project(tmp_path)
    for number in range(40):
        (root / "app" / f"m{number}.py").write_text(f"def f{number}(x):\n    return x\n")
    config = _config(root)
    first = check_paths([str(root)], config, jobs=jobs, cache=Cache(tmp_path / "cache", config))
    # one process: the files' pack and the project phase's; a pool's workers each wrote several,
    # more than are worth keeping apart: merged into one
    assert len(_packs(tmp_path / "cache")) == (2 if jobs == 1 else 1)
    assert all(name.endswith(".pack") for name in _packs(tmp_path / "cache"))
    checked.clear()
    assert check_paths([str(root)], config, jobs=jobs, cache=Cache(tmp_path / "cache", config)).findings == first.findings
    assert checked == []
    for edit in range(5):  # each run that checks a file adds its packs, until they are merged
        (root / "app" / "m0.py").write_text(f"def f(x: int) -> int:\n    return x + {edit}\n")
        check_paths([str(root)], config, jobs=jobs, cache=Cache(tmp_path / "cache", config))
        assert len(_packs(tmp_path / "cache")) <= cache_module._MAX_PACKS
    uncached = check_paths([str(root)], config).findings
    checked.clear()
    assert check_paths([str(root)], config, jobs=jobs, cache=Cache(tmp_path / "cache", config)).findings == uncached
    assert checked == []


def test_an_unwritable_cache_is_skipped(tmp_path: Path) -> None:
    root = _project(tmp_path)
    config = _config(root)
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache directory should be")
    report = check_paths([str(root)], config, cache=Cache(blocked, config))
    assert report.findings == check_paths([str(root)], config).findings


def _cache_files(cache: Path) -> dict[str, bytes]:
    return {str(p.relative_to(cache)): p.read_bytes() for p in sorted(cache.rglob("*")) if p.is_file()}


def test_a_moved_checkout_with_a_fresh_install_hits_the_restored_cache(tmp_path: Path) -> None:
    """CI: the cache restored into a new checkout path, next to a fresh install of the tool."""
    (tmp_path / "here").mkdir()
    root = _project(tmp_path / "here")
    (root / "app" / "untyped.py").write_text("def f(x):\n    return x\n")
    command = [sys.executable, "-m", "fastapi_review", "app"]
    first = subprocess.run(command, cwd=root, capture_output=True, text=True)
    assert first.returncode == 1 and "app/untyped.py:1:7: FR101" in first.stdout
    moved = tmp_path / "runner" / "work" / "checkout"
    shutil.copytree(root, moved, copy_function=shutil.copyfile)  # new paths, new mtimes
    package = Path(fastapi_review.__file__).parent
    install = tmp_path / "site-packages"
    shutil.copytree(package, install / "fastapi_review", copy_function=shutil.copyfile, ignore=shutil.ignore_patterns("__pycache__"))
    fresh = {**os.environ, "PYTHONPATH": str(install)}
    imported = subprocess.run([sys.executable, "-c", "import fastapi_review; print(fastapi_review.__file__)"], env=fresh, capture_output=True, text=True)
    assert imported.stdout.startswith(str(install))
    restored = _cache_files(moved / ".fastapi_review_cache")
    second = subprocess.run(command, cwd=moved, env=fresh, capture_output=True, text=True)
    assert (second.returncode, second.stdout) == (first.returncode, first.stdout)
    # every entry (and the project phase's result) was a hit: nothing was written
    assert _cache_files(moved / ".fastapi_review_cache") == restored
    (moved / "app" / "untyped.py").write_text("def f(x: int) -> int:\n    return x\n")
    third = subprocess.run(command, cwd=moved, env=fresh, capture_output=True, text=True)
    assert third.returncode == 0 and _cache_files(moved / ".fastapi_review_cache") != restored  # a real miss is written


def test_shards_and_their_merged_caches_give_the_findings_of_one_run(tmp_path: Path, checked: list[str]) -> None:
    (tmp_path / "project").mkdir()
    root = _project(tmp_path / "project")
    (root / "app" / "db.py").write_text(BASE.replace("    updated_at", "    touched").replace("    created_at", "    made"))
    for number in range(12):  # a convention the project follows (learned across files), and one deviation
        (root / "app" / f"m{number}.py").write_text(f"def f{number}(x: int) -> int:\n    return x\n" * (number + 1))
    (root / "app" / "untyped.py").write_text("def f(x):\n    return x\n")
    whole = run(["app", "--cache-dir", str(tmp_path / "whole")], root)
    assert whole.exit_code == 1 and [line.split(" ")[:2] for line in whole.stdout.splitlines()] == [
        ["app/models.py:6:7:", "FR502"], ["app/untyped.py:1:7:", "FR101"]
    ]
    parts = []
    for number in (1, 2):
        checked.clear()
        shard = run(["app", "--shard", f"{number}/2", "-j", "1", "--cache-dir", str(tmp_path / f"shard{number}")], root)
        assert shard.exit_code == 0 and shard.stdout == "" and f"Shard {number}/2: " in shard.stderr
        parts.append(sorted(checked))
    assert sorted(parts[0] + parts[1]) == sorted(str(Path("app") / p.name) for p in (root / "app").glob("*.py"))
    assert not set(parts[0]) & set(parts[1]) and abs(len(parts[0]) - len(parts[1])) <= 4
    merged = tmp_path / "merged"
    for number in (1, 2):  # what CI does with the shards' cache artifacts: copy them into one
        shutil.copytree(tmp_path / f"shard{number}", merged, dirs_exist_ok=True)
    assert len(list(merged.rglob("*.pack"))) == 2  # neither shard's pack overwrote the other's
    checked.clear()
    final = run(["app", "--cache-dir", str(merged)], root)
    assert checked == []  # the project phase only
    assert (final.exit_code, final.stdout) == (whole.exit_code, whole.stdout)


def test_shard_must_be_k_of_n(tmp_path: Path) -> None:
    root = _project(tmp_path)
    for bad in ("0/2", "3/2", "1", "a/b"):
        result = run(["app", "--shard", bad], root)
        assert result.exit_code == 2 and "--shard" in result.stderr
    result = run(["app", "--shard", "1/2", "--no-cache"], root)
    assert result.exit_code == 2 and "--shard" in result.stderr
