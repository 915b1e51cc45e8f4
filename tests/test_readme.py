"""Every code block of the README is run by a test or says why it cannot be: each block follows a
`<!-- name -->` marker that a test reads (`readme_block("name")` or the marker itself), or a
`<!-- not-run: reason -->` one.  The blocks no other test file runs are run here."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import run
from click.testing import CliRunner

from fastapi_review.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
TESTS = Path(__file__).parent
BAD = "def f(x):\n    return x\n"

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def readme_block(marker: str) -> str:
    """The code block right after `<!-- marker -->` in the README (the snippet users copy)."""
    after = README.split(f"<!-- {marker} -->", 1)[1]
    return after.split("```", 2)[1].split("\n", 1)[1]


def _markers() -> list[str]:
    """The marker line before each fenced block (blank lines skipped)."""
    markers, previous, inside = [], "", False
    for line in README.splitlines():
        if line.startswith("```"):
            if not inside:
                markers.append(previous)
            inside = not inside
        elif line.strip() and not inside:
            previous = line.strip()
    return markers


def test_every_readme_block_is_run_by_a_test_or_says_why_not() -> None:
    sources = "".join(p.read_text(encoding="utf-8") for p in TESTS.glob("test_*.py"))
    markers = _markers()
    assert len(markers) >= 19
    for marker in markers:
        name = re.fullmatch(r"<!-- ([a-z0-9-]+) -->", marker)
        reason = re.fullmatch(r"<!-- not-run: (.{20,}) -->", marker)
        assert name or reason, f"a README block without a marker (after {marker!r})"
        if name:
            used = (f'readme_block("{name[1]}")', f"<!-- {name[1]} -->")
            assert any(use in sources for use in used), f"no test runs the README block {name[1]!r}"


def test_commands_block_lists_the_commands_and_their_help_works() -> None:
    lines = readme_block("commands").splitlines()
    listed = {line.split()[1] for line in lines[1:]}
    assert lines[0].startswith("fastapi-review [OPTIONS] [PATHS]...")
    assert listed == set(main.commands) - {"check"}
    for command in listed:
        assert CliRunner().invoke(main, [command, "--help"]).exit_code == 0, command


def test_select_example_enables_what_it_says(tmp_path: Path) -> None:
    from fastapi_review.config import parse_table
    from fastapi_review.selection import RuleSet

    table = tomllib.loads(readme_block("select-example"))["tool"]["fastapi-review"]
    enabled = RuleSet.from_config(parse_table(table, tmp_path / "pyproject.toml")).enabled
    assert {"FR101", "FR102", "FR401", "FR501"} <= set(enabled)


def test_baseline_commands(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.fastapi-review]\nextend-select = ["FR101"]\n')
    (tmp_path / "a.py").write_text(BAD)
    write, check = [line.split("#")[0].split() for line in readme_block("baseline").splitlines()]
    assert run(write[1:], tmp_path).exit_code == 0
    assert run(check[1:], tmp_path).exit_code == 0
    (tmp_path / "b.py").write_text(BAD)
    result = run(check[1:], tmp_path)
    assert result.exit_code == 1 and result.stdout.startswith("b.py:1:7: FR101")


PINNED = re.compile(r"git\+https://github\.com/fastapi-review/fastapi-review@([0-9a-f]{40}|v\d+\.\d+\.\d+)")


def pinned_revision() -> str:
    """The revision the README pins (install from git, CI snippets, pre-commit): one, everywhere."""
    revisions = set(PINNED.findall(README)) | set(re.findall(r"^\s+rev: (\S+)$", readme_block("pre-commit-remote"), re.M))
    assert len(revisions) == 1, revisions
    return revisions.pop()


def test_install_git_and_ci_snippets_pin_the_same_revision() -> None:
    revision = pinned_revision()
    command = f"pip install 'git+https://github.com/fastapi-review/fastapi-review@{revision}'"
    assert readme_block("install-git").strip() == command
    assert f"- run: {command}" in readme_block("github-actions")
    assert f"- {command}" in readme_block("gitlab-ci")


def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="needs the git checkout (a copy without .git cannot say)")
def test_pinned_revision_exists_in_this_repository() -> None:
    if _git("rev-parse", "--is-shallow-repository").stdout.strip() == "true":
        pytest.skip("a shallow clone may lack the pinned commit")
    revision = pinned_revision()
    assert _git("cat-file", "-e", f"{revision}^{{commit}}").returncode == 0, f"{revision} is not a commit here"
    assert _git("show", f"{revision}:.pre-commit-hooks.yaml").returncode == 0
