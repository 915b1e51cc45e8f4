"""Hostile and unusual inputs, run as a user or a CI job would: a real `python -m fastapi_review`
process with a wall-clock bound, asserting the exit code, the message, and that the other files
were still checked (issue 19)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

import pytest

ROOT = Path(__file__).resolve().parents[1]
GOOD = "def good(x: int) -> int:\n    return x\n"
BAD = "def bad(x):\n    return x\n"  # FR101 + FR102
HINTS = ["--extend-select", "FR101,FR102"]  # what BAD trips, on whatever the default selection
TIMEOUT = 60  # seconds: a hung run fails the test instead of hanging the suite


def cli(args: list[str], cwd: Path, stdin: Optional[bytes] = None, env: Optional[dict[str, str]] = None) -> subprocess.CompletedProcess[str]:
    """`python -m fastapi_review ARGS` in `cwd`, bounded by TIMEOUT; stdin closed unless given."""
    result = subprocess.run(
        [sys.executable, "-m", "fastapi_review", *args],
        cwd=cwd, input=stdin, capture_output=True, timeout=TIMEOUT,
        env={**os.environ, **(env or {})},
    )
    return subprocess.CompletedProcess(result.args, result.returncode, result.stdout.decode(), result.stderr.decode())


def no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr + result.stdout, result.stderr


def codes_by_file(stdout: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in stdout.splitlines():
        path, _, _, rest = line.split(":", 3)
        found.setdefault(path, []).append(rest.split()[0])
    return found


# -- 1. interrupts --------------------------------------------------------------------------


def _tree(directory: Path, files: int) -> None:
    body = "".join(f"def handler_{i}(request, x):\n    return x + {i}\n\n\n" for i in range(60))
    for n in range(files):
        package = directory / "app" / f"pkg{n // 100}"
        package.mkdir(parents=True, exist_ok=True)
        (package / f"module_{n}.py").write_text(body)


@pytest.mark.parametrize(
    ("jobs", "sent", "code"),
    [("2", signal.SIGINT, 130), ("1", signal.SIGINT, 130), ("2", signal.SIGTERM, 143)],
    ids=["pool-sigint", "in-process-sigint", "pool-sigterm"],
)
def test_a_signal_stops_the_run_at_once(tmp_path: Path, jobs: str, sent: int, code: int) -> None:
    _tree(tmp_path, 1500)
    cache = tmp_path / "cache"
    process = subprocess.Popen(
        [sys.executable, "-m", "fastapi_review", "-q", "--jobs", jobs, "--cache-dir", str(cache), "app"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:  # interrupt once files are being checked and cached
        if cache.is_dir() and any(p.is_file() and not p.name.startswith(".") for p in cache.rglob("*") if p.parent != cache):
            break
        assert process.poll() is None, "the run ended before it could be interrupted"
        time.sleep(0.05)
    sent_at = time.monotonic()
    process.send_signal(sent)
    try:
        _, stderr = process.communicate(timeout=TIMEOUT)
    finally:
        process.kill()
    latency = time.monotonic() - sent_at
    print(f"\n{signal.Signals(sent).name} with --jobs {jobs}: exited {process.returncode} after {latency:.2f} s")
    assert process.returncode == code, stderr
    assert latency < 5, f"took {latency:.1f} s to stop"
    assert b"interrupted" in stderr and b"Traceback" not in stderr and b"Aborted" not in stderr
    # no partial entry: every entry left behind is whole (a later run reads it), and no temporary file
    assert not [p for p in cache.rglob("*.tmp")]
    again = cli(["-q", "--jobs", "1", "--cache-dir", str(cache), "--format", "json", "app/pkg0"], tmp_path)
    fresh = cli(["-q", "--jobs", "1", "--no-cache", "--format", "json", "app/pkg0"], tmp_path)
    assert again.returncode == fresh.returncode and json.loads(again.stdout) == json.loads(fresh.stdout)


# -- 2. the per-file time budget ------------------------------------------------------------


def test_a_file_over_the_time_budget_gets_fr003_and_the_run_goes_on(tmp_path: Path) -> None:
    # a budget a tiny file meets even on a loaded machine, and a file far too big to meet it
    routes = "".join(f'@router.get("/r{i}/{{item_id}}")\nasync def get_{i}(item_id: str) -> str:\n    return item_id\n\n\n' for i in range(8000))
    (tmp_path / "pyproject.toml").write_text('[tool.fastapi-review]\ntime-budget = 0.5\nextend-select = ["FR101", "FR102"]\n')
    (tmp_path / "routes.py").write_text("from fastapi import APIRouter\n\nrouter = APIRouter()\n\n\n" + routes)
    (tmp_path / "other.py").write_text(BAD)
    result = cli(["--no-cache", "."], tmp_path)
    no_traceback(result)
    found = codes_by_file(result.stdout)
    assert found["routes.py"] == ["FR003"]
    assert "time budget of 0.5 s" in result.stdout
    assert sorted(found["other.py"]) == ["FR101", "FR102"]
    assert result.returncode == 1


def test_a_bad_time_budget_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.fastapi-review]\ntime-budget = "ten"\n')
    (tmp_path / "a.py").write_text(GOOD)
    result = cli(["a.py"], tmp_path)
    assert result.returncode == 2 and "time-budget must be a number of seconds" in result.stderr


# -- 3. deep nesting and long chains --------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "code", "where", "reason"),
    [
        ("x = " + " + ".join(["1"] * 20_000) + "\n", "FR001", "1:1", "too deeply nested"),
        ("x = " + "(" * 5000 + "1" + ")" * 5000 + "\n", "FR001", "1:205", "too many nested parentheses"),
        ("x = " + "[" * 1000 + "]" * 1000 + "\n", "FR001", "1:205", "too many nested parentheses"),
        ("y = 2\nx = (\n" + " +\n".join(["    1"] * 1500) + "\n)\n", "FR003", "3:1", "more than 1,000 chained operations"),
    ],
    ids=["20000-term-sum", "5000-parentheses", "1000-brackets", "1500-term-sum-over-lines"],
)
def test_deep_or_long_expressions_are_reported_quickly(tmp_path: Path, source: str, code: str, where: str, reason: str) -> None:
    (tmp_path / "deep.py").write_text(source)
    (tmp_path / "other.py").write_text(BAD)
    started = time.monotonic()
    result = cli(["--no-cache", *HINTS, "."], tmp_path)
    elapsed = time.monotonic() - started
    no_traceback(result)
    lines = [line for line in result.stdout.splitlines() if line.startswith("deep.py")]
    assert len(lines) == 1 and lines[0].startswith(f"deep.py:{where}: {code}") and reason in lines[0], result.stdout
    assert sorted(codes_by_file(result.stdout)["other.py"]) == ["FR101", "FR102"]
    assert result.returncode == 1
    assert elapsed < 30, elapsed  # on main: 445 s, 27 s and 5 s ("All clear" for the last two)


# -- 4. symlink loops and dangling links ----------------------------------------------------


def test_symlink_loops_and_dangling_links(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "ok.py").write_text(BAD)
    (tmp_path / "app" / "loop.py").symlink_to(tmp_path / "app" / "loop.py")
    (tmp_path / "app" / "dangling.py").symlink_to(tmp_path / "nowhere.py")
    walked = cli(["--no-cache", *HINTS, "app"], tmp_path)
    no_traceback(walked)
    found = codes_by_file(walked.stdout)
    assert found["app/loop.py"] == ["FR001"] and found["app/dangling.py"] == ["FR001"]
    assert "symlink that leads nowhere" in walked.stdout
    assert sorted(found["app/ok.py"]) == ["FR101", "FR102"] and walked.returncode == 1
    named = cli(["--no-cache", *HINTS, "app/loop.py", "app/ok.py"], tmp_path)  # config lookup starts at the loop
    no_traceback(named)
    assert "error: app/loop.py: a symlink that leads nowhere" in named.stderr
    assert sorted(codes_by_file(named.stdout)["app/ok.py"]) == ["FR101", "FR102"]
    assert named.returncode == 2


# -- 5. an undecodable pyproject.toml --------------------------------------------------------


def test_a_non_utf8_pyproject_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_bytes(b"[tool.fastapi-review]\n# caf\xe9\nselect = []\n")
    (tmp_path / "a.py").write_text(GOOD)
    result = cli(["a.py"], tmp_path)
    no_traceback(result)
    assert result.returncode == 2
    assert f"{tmp_path / 'pyproject.toml'}: not UTF-8" in result.stderr


# -- 6. --fix on a file it cannot write -----------------------------------------------------


def test_fix_on_an_unwritable_file_keeps_its_findings(tmp_path: Path) -> None:
    locked = tmp_path / "project" / "locked"
    locked.mkdir(parents=True)
    source = "from fastapi import APIRouter\n\nrouter = APIRouter()\n\n\n@router.post('/items')\nasync def create_item() -> dict:\n    \"\"\"Create.\"\"\"\n    return {}\n"
    (locked / "api.py").write_text(source)
    (tmp_path / "project" / "ok.py").write_text(BAD)
    (tmp_path / "project" / "pyproject.toml").write_text('[tool.fastapi-review]\nselect = ["FR206", "FR101"]\n')
    env: dict[str, str] = {}
    if os.geteuid() == 0:  # root writes read-only directories: make the write itself fail
        hook = tmp_path / "hook"
        hook.mkdir()
        (hook / "sitecustomize.py").write_text(
            "import fastapi_review.fixes as f\n"
            "def refuse(path, data, expected):\n    raise PermissionError(13, 'Permission denied')\n"
            "f.atomic_write = refuse\n"
        )
        env["PYTHONPATH"] = os.pathsep.join([str(hook), os.environ.get("PYTHONPATH", "")])
    os.chmod(locked, 0o555)
    try:
        result = cli(["--no-cache", "--fix", "--unsafe-fixes", "."], tmp_path / "project", env=env)
    finally:
        os.chmod(locked, 0o755)
    no_traceback(result)
    assert "locked/api.py: not written: Permission denied" in result.stderr
    assert codes_by_file(result.stdout) == {"locked/api.py": ["FR206"], "ok.py": ["FR101"]}, result.stdout
    assert result.returncode == 2
    assert (locked / "api.py").read_text() == source


# -- 7. the flake8 plugin --------------------------------------------------------------------


def flake8(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flake8", *args], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT)


def test_flake8_survives_a_config_error_and_fr_codes_are_opt_in(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("import os\n" + BAD)
    plain = flake8(["a.py"], tmp_path)
    assert "FR1" not in plain.stdout and "F401" in plain.stdout  # installed, but not selected
    (tmp_path / "pyproject.toml").write_text('[tool.fastapi-review]\nselekt = ["FR1"]\n')
    for args in (["--select", "E,W"], ["a.py"], ["--select", "FR,F"]):
        result = flake8([*args, "a.py"] if args != ["a.py"] else args, tmp_path)
        assert "Traceback" not in result.stderr and result.returncode in (0, 1), result.stderr
    selected = flake8(["--select", "FR,F", "a.py"], tmp_path)
    errors = [line for line in selected.stdout.splitlines() if " FR000 " in line]
    assert len(errors) == 1 and "unknown key 'selekt'" in errors[0]
    assert "F401" in selected.stdout


# -- 8. findings that need the whole project ------------------------------------------------


def test_project_fact_rules_stay_silent_without_the_project(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.fastapi-review]\nselect = ["FR301"]\n')
    app = tmp_path / "app"
    app.mkdir()
    (app / "__init__.py").write_text("")
    (app / "errors.py").write_text("class NotFound(Exception):\n    pass\n")
    (app / "main.py").write_text(
        "from fastapi import FastAPI\nfrom app.errors import NotFound\nfrom app.api import router\n\n"
        "app = FastAPI()\napp.include_router(router)\n\n\n@app.exception_handler(NotFound)\n"
        "async def not_found(request, exc):\n    return None\n"
    )
    (app / "api.py").write_text(
        "from fastapi import APIRouter\nfrom app.errors import NotFound\n\nrouter = APIRouter()\n\n\n"
        "@router.get('/items/{item_id}')\nasync def read(item_id: int) -> dict:\n    raise NotFound()\n\n\n"
        "@router.get('/other')\nasync def other() -> dict:\n    raise ValueError('x')\n"
    )
    whole = cli(["--no-cache", "-q", "."], tmp_path)
    assert [line.split(":")[1] for line in whole.stdout.splitlines()] == ["14"], whole.stdout  # ValueError only
    single = cli(["--no-cache", "-q", "app/api.py"], tmp_path)
    assert single.stdout == "" and single.returncode == 0, single.stdout
    plugin = flake8(["--select", "FR", "app/api.py"], tmp_path)
    assert plugin.stdout == "" and plugin.returncode == 0, plugin.stdout + plugin.stderr


# -- 9. smaller ones -------------------------------------------------------------------------


def test_an_unknown_cli_code_is_blamed_on_the_option(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.fastapi-review]\nselect = ["FR1"]\n')
    (tmp_path / "a.py").write_text(GOOD)
    result = cli(["--select", "FR999", "a.py"], tmp_path)
    assert result.returncode == 2
    assert "--select: unknown rule code or prefix 'FR999'" in result.stderr and "pyproject.toml" not in result.stderr


def test_stdin_filename_alone_reads_stdin(tmp_path: Path) -> None:
    (tmp_path / "elsewhere.py").write_text(BAD)
    result = cli(["--no-cache", *HINTS, "--stdin-filename", "given.py"], tmp_path, stdin=BAD.encode())
    assert sorted(codes_by_file(result.stdout)) == ["given.py"] and result.returncode == 1
    mixed = cli(["--stdin-filename", "given.py", "elsewhere.py"], tmp_path, stdin=b"")
    assert mixed.returncode == 2 and "--stdin-filename" in mixed.stderr


def test_sarif_uris_are_percent_encoded(tmp_path: Path) -> None:
    directory = tmp_path / "my app"
    directory.mkdir()
    for name in ("ü ber.py", "100%.py", "a,b.py"):
        (directory / name).write_text(BAD)
    result = cli(["--no-cache", "--format", "sarif", "--select", "FR102", "my app"], tmp_path)
    uris = sorted(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in json.loads(result.stdout)["runs"][0]["results"])
    assert uris == sorted(["my%20app/100%25.py", "my%20app/a%2Cb.py", "my%20app/%C3%BC%20ber.py"])


@pytest.mark.parametrize(
    ("data", "where"),
    [(b"x = 1\ny = 2\nz = 'a\x00b'\n", "3:7"), (b"x = 1\ny = '\xff'\n", "2:6")],
    ids=["nul", "undecodable"],
)
def test_fr001_points_at_the_bad_byte(tmp_path: Path, data: bytes, where: str) -> None:
    (tmp_path / "bad.py").write_bytes(data)
    result = cli(["--no-cache", "bad.py"], tmp_path)
    assert result.stdout.startswith(f"bad.py:{where}: FR001"), result.stdout
    assert result.returncode == 1


def test_a_directory_without_python_files_warns(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# docs\n")
    (tmp_path / "a.py").write_text(GOOD)
    result = cli(["--no-cache", "docs", "a.py"], tmp_path)
    assert result.returncode == 0
    assert "warning: docs: no Python files found" in result.stderr


def test_a_missing_path_is_reported_and_the_others_checked(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(BAD)
    result = cli(["--no-cache", *HINTS, "nope.py", "a.py"], tmp_path)
    no_traceback(result)
    assert "error: nope.py: no such file or directory" in result.stderr
    found = codes_by_file(result.stdout)
    assert found["nope.py"] == ["FR001"] and sorted(found["a.py"]) == ["FR101", "FR102"]
    assert result.returncode == 2


# -- exit codes ------------------------------------------------------------------------------


def test_an_internal_error_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(GOOD)
    # a sitecustomize that breaks the tool itself (not a rule): the discovery of files
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(
        "import fastapi_review.discovery as d\n"
        "def broken(*args, **kwargs):\n    raise RuntimeError('boom')\n"
        "d.discover = broken\nimport fastapi_review.checker as c\nc.discover = broken\n"
    )
    env = {"PYTHONPATH": os.pathsep.join([str(hook), os.environ.get("PYTHONPATH", "")])}
    quiet = cli(["--no-cache", "a.py"], tmp_path, env=env)
    assert quiet.returncode == 2
    assert "internal error (RuntimeError: boom); please report it" in quiet.stderr
    assert "Traceback" not in quiet.stderr
    loud = cli(["--no-cache", "a.py"], tmp_path, env={**env, "FASTAPI_REVIEW_TRACEBACK": "1"})
    assert loud.returncode == 2 and "Traceback" in loud.stderr
