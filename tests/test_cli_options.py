"""The command line's ruff-compatible names and behaviours (the README's ruff table): each option
run for real, with the result it must give."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import run

BAD = "def f(x):\n    return x\n"
FR302 = "from fastapi import HTTPException\n\n\ndef g() -> None:\n    raise HTTPException(404, detail='gone')\n"


def _project(tmp_path: Path, config: str, files: dict[str, str]) -> Path:
    (tmp_path / "pyproject.toml").write_text("[tool.fastapi-review]\n" + config)
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def _codes(stdout: str) -> list[str]:
    return [line.split(" ")[1] for line in stdout.splitlines()]


def test_top_level_help_shows_the_check_options() -> None:
    from click.testing import CliRunner

    from fastapi_review.cli import main

    text = CliRunner().invoke(main, ["--help"]).output
    assert text.startswith("Usage: main [OPTIONS] [PATHS]...\n       main COMMAND [ARGS]...\n")
    section = text.split("Options (of check, the default command):\n", 1)[1].split("\nOptions:\n", 1)[0]
    for option in ("--output-format, --format", "--select", "--exclude", "--extend-exclude", "--no-respect-gitignore",
                   "-e, --exit-zero", "-n, --no-cache", "-s, --silent", "--show-settings", "--show-files", "--fix"):
        assert option in section, option
    assert "FASTAPI_REVIEW_OUTPUT_FORMAT" in section
    assert "Commands:" in text and "  rule " in text


def test_output_format_its_alias_and_its_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _project(tmp_path, 'extend-select = ["FR101", "FR102"]\n', {"a.py": BAD})
    by_name = run(["--output-format", "pylint", "a.py"], tmp_path).stdout
    assert by_name == run(["--format", "pylint", "a.py"], tmp_path).stdout
    assert by_name.startswith("a.py:1: [FR102]")
    monkeypatch.setenv("FASTAPI_REVIEW_OUTPUT_FORMAT", "json")
    assert [f["code"] for f in json.loads(run(["a.py"], tmp_path).stdout)] == ["FR102", "FR101"]
    assert run(["--output-format", "pylint", "a.py"], tmp_path).stdout == by_name  # the option wins
    monkeypatch.setenv("FASTAPI_REVIEW_OUTPUT_FORMAT", "yaml")
    result = run(["a.py"], tmp_path)
    assert result.exit_code == 2 and "'yaml' is not one of" in result.output


def test_short_flags_exit_zero_and_no_cache(tmp_path: Path) -> None:
    _project(tmp_path, 'extend-select = ["FR101"]\n', {"a.py": BAD})
    assert run(["a.py"], tmp_path).exit_code == 1
    (tmp_path / "b.py").write_text(BAD)
    import shutil

    shutil.rmtree(tmp_path / ".fastapi_review_cache")
    result = run(["-e", "-n", "b.py"], tmp_path)
    assert result.exit_code == 0 and _codes(result.stdout) == ["FR101"]
    assert not (tmp_path / ".fastapi_review_cache").exists()


def test_silent_prints_nothing_but_keeps_the_exit_code(tmp_path: Path) -> None:
    _project(tmp_path, 'extend-select = ["FR101"]\n', {"a.py": BAD})
    result = run(["--silent", "a.py"], tmp_path)
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", "")
    result = run(["-s", "--select", "fr101", "a.py"], tmp_path)
    assert result.exit_code == 2 and "--select: 'fr101' is not a rule code" in result.stderr


def test_show_files_and_show_settings(tmp_path: Path) -> None:
    _project(tmp_path, 'extend-select = ["FR101"]\nextend-exclude = ["gen/"]\n', {"a.py": BAD, "gen/b.py": BAD, "c/d.py": BAD})
    result = run(["--show-files", "."], tmp_path)
    assert (result.exit_code, result.stdout) == (0, "a.py\nc/d.py\n")
    assert run(["--show-files", "--extend-exclude", "c", "."], tmp_path).stdout == "a.py\n"
    settings = run(["--show-settings", "--select", "FR10", "."], tmp_path)
    assert settings.exit_code == 0
    lines = dict(line.split(" = ", 1) for line in settings.stdout.splitlines() if not line.startswith("#"))
    assert json.loads(lines["select"]) == ["FR10"]
    assert json.loads(lines["extend-select"]) == []  # --select starts afresh, as in ruff
    assert json.loads(lines["extend-exclude"]) == ["gen/"]
    assert json.loads(lines["enabled-rules"]) == ["FR101", "FR102"]
    assert json.loads(lines["source"]) == str(tmp_path.resolve() / "pyproject.toml")


def test_exclude_replaces_and_extend_exclude_adds(tmp_path: Path) -> None:
    _project(tmp_path, 'extend-select = ["FR101"]\nexclude = ["a.py"]\n', {"a.py": BAD, "b.py": BAD, "build/c.py": BAD})
    files = lambda *args: run(["--show-files", *args, "."], tmp_path).stdout.split()  # noqa: E731
    assert files() == ["b.py", "build/c.py"]  # the configuration's exclude replaced the defaults
    assert files("--exclude", "b.py") == ["a.py", "build/c.py"]  # and --exclude replaces it
    assert files("--exclude", "b.py,./build") == ["a.py"]
    assert files("--extend-exclude", "b.py") == ["build/c.py"]


def test_respect_gitignore_can_be_turned_off(tmp_path: Path) -> None:
    _project(tmp_path, 'extend-select = ["FR101"]\n', {"a.py": BAD, "ignored/b.py": BAD, ".gitignore": "ignored/\n"})
    (tmp_path / ".git").mkdir()
    assert run(["--show-files", "."], tmp_path).stdout == "a.py\n"
    assert run(["--show-files", "--no-respect-gitignore", "."], tmp_path).stdout == "a.py\nignored/b.py\n"
    (tmp_path / "pyproject.toml").write_text("[tool.fastapi-review]\nrespect-gitignore = false\n")
    assert run(["--show-files", "."], tmp_path).stdout == "a.py\nignored/b.py\n"
    assert run(["--show-files", "--respect-gitignore", "."], tmp_path).stdout == "a.py\n"


def test_cli_select_replaces_the_configurations_selection_as_in_ruff(tmp_path: Path) -> None:
    _project(tmp_path, 'extend-select = ["FR101", "FR302"]\nignore = ["FR102"]\n', {"a.py": BAD + FR302})
    assert _codes(run(["-q", "a.py"], tmp_path).stdout) == ["FR101", "FR302"]
    # --select starts afresh: the configuration's extend-select and ignore no longer hold
    assert _codes(run(["-q", "--select", "FR102", "a.py"], tmp_path).stdout) == ["FR102"]
    assert _codes(run(["-q", "--select", "FR1", "--ignore", "FR101", "a.py"], tmp_path).stdout) == ["FR102"]
    # --extend-select and --ignore add to the configuration's
    assert _codes(run(["-q", "--extend-select", "FR102", "a.py"], tmp_path).stdout) == ["FR101", "FR302"]
    assert _codes(run(["-q", "--ignore", "FR302", "a.py"], tmp_path).stdout) == ["FR101"]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ('select = ["fr401"]\n', "select: 'fr401' is not a rule code: codes are upper case ('FR401')"),
        ('[tool.fastapi-review.per-file-ignores]\n"a.py" = ["Fr1"]\n', "per-file-ignores.'a.py': 'Fr1' is not a rule code"),
        ('[tool.fastapi-review.per-file-ignores]\n"!" = ["FR101"]\n', "per-file-ignores.'!': an empty glob"),
    ],
)
def test_codes_are_upper_case(tmp_path: Path, config: str, message: str) -> None:
    _project(tmp_path, config, {"a.py": BAD})
    result = run(["a.py"], tmp_path)
    assert result.exit_code == 2 and message in result.stderr, result.stderr
    assert str(tmp_path / "pyproject.toml") in result.stderr


def test_per_file_ignores_normalise_dot_slash_and_negate_with_bang(tmp_path: Path) -> None:
    config = (
        'extend-select = ["FR101", "FR102"]\n[tool.fastapi-review.per-file-ignores]\n'
        '"./app/a.py" = ["FR101"]\n"!app/**" = ["FR102"]\n'
    )
    _project(tmp_path, config, {"app/a.py": BAD, "app/b.py": BAD, "jobs/c.py": BAD})
    out = run(["-q", "."], tmp_path).stdout
    assert [line.split(": ")[0] for line in out.splitlines()] == [
        "app/a.py:1:5",  # FR102 (FR101 ignored by ./app/a.py)
        "app/b.py:1:5", "app/b.py:1:7",  # nothing ignored
        "jobs/c.py:1:7",  # FR101 (FR102 ignored outside app/)
    ]


def test_summary_counts_files_with_findings_and_files_checked_and_hints_fixes(tmp_path: Path) -> None:
    _project(tmp_path, 'extend-select = ["FR101", "FR302", "FR206"]\nlearn-conventions = false\n', {
        "a.py": BAD, "b.py": FR302, "c.py": "y = 1\n",
        "d.py": "from fastapi import APIRouter\n\nrouter = APIRouter()\n\n\n@router.post('/x')\nasync def create_x() -> None:\n    pass\n",
    })
    assert run(["."], tmp_path).stderr.splitlines() == [
        "Found 3 findings in 3 files (4 files checked).",
        "[*] 1 fixable with --fix (1 hidden fix can be enabled with --unsafe-fixes).",
    ]
    assert run(["--unsafe-fixes", "."], tmp_path).stderr.splitlines()[1] == "[*] 2 fixable with --fix."
    assert run(["a.py", "d.py"], tmp_path).stderr.splitlines() == [
        "Found 2 findings in 2 files (2 files checked).",
        "No fixes available (1 hidden fix can be enabled with --unsafe-fixes).",
    ]
    assert run(["a.py"], tmp_path).stderr == "Found 1 finding in 1 file (1 file checked).\n"
    assert run(["c.py"], tmp_path).stderr == "All clear: 1 file checked.\n"


def test_verbose_says_which_configuration_and_how_long(tmp_path: Path) -> None:
    _project(tmp_path, "", {"c.py": "y = 1\n"})
    lines = run(["-v", "c.py"], tmp_path).stderr.splitlines()
    assert lines[0] == f"fastapi-review: configuration: {tmp_path.resolve() / 'pyproject.toml'}; project directory: {tmp_path.resolve()}"
    assert lines[-1].startswith("fastapi-review: checked 1 file in ") and lines[-1].endswith("s")


def test_globs_written_from_the_project_directory(tmp_path: Path) -> None:
    from fastapi_review.config import load_config

    _project(tmp_path, 'exclude = ["./build"]\nservices = ["./app/logic/**"]\n', {})
    config = load_config(None, tmp_path)
    assert (config.exclude, config.services) == (("/build",), ("/app/logic/**",))
