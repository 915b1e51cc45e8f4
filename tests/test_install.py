"""The README's install routes, run as written in a fresh virtual environment on a copy of the
checkout: the quickstart (`pip install .`), the wheel, the extras (`'.[lsp]'`, `'.[html]'`) and
git at the pinned revision.  One environment for all of them (each install costs a build and
PyPI downloads); the dependencies come from PyPI, as on a user's machine."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import run
from test_readme import pinned_revision, readme_block

ROOT = Path(__file__).resolve().parents[1]
SKIP = shutil.ignore_patterns(".git", ".venv", "*.egg-info", "__pycache__", ".fastapi_review_cache", "dist", "build", ".pytest_cache")


def _sh(script: str, cwd: Path, env: dict[str, str], timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the checkout as a user clones it (no virtual environment, no build output)."""
    copy = tmp_path_factory.mktemp("install") / "fastapi-review"
    for name in ("src", "rules", "examples", "pyproject.toml", "README.md"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=SKIP)
        else:
            copy.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    return copy


@pytest.mark.skipif(shutil.which("bash") is None, reason="the README's snippets are POSIX shell")
def test_readme_install_routes_in_a_fresh_environment(checkout: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    expected = run(["-n", "-q", "examples/shop"], ROOT).stdout
    assert expected.count("\n") >= 10

    # the quickstart: a fresh .venv, `pip install .`, the example app (exit 1: it has findings)
    quickstart = readme_block("quickstart").strip().replace("python3 ", f"{sys.executable} ", 1)
    result = _sh(quickstart, checkout, env)
    assert result.returncode == 1, result.stderr[-3000:]
    assert result.stdout.endswith(expected)  # after pip's own output
    venv = checkout / ".venv"
    env["PATH"] = os.pathsep.join([str(venv / "bin"), env["PATH"]])
    env["VIRTUAL_ENV"] = str(venv)

    # a built wheel, installed over it: the rule docs travel inside it
    result = _sh(readme_block("install-wheel").strip(), checkout, env)
    assert result.returncode == 0, result.stderr[-3000:]
    wheels = list((checkout / "dist").glob("fastapi_review-*-py3-none-any.whl"))
    assert len(wheels) == 1, wheels
    doc = _sh("cd / && fastapi-review rule FR401", checkout, env)
    assert doc.returncode == 0 and doc.stdout.startswith("# FR401 sql-string-formatting"), doc.stderr
    # without the lsp extra, the language server says how to get it
    lsp = _sh("fastapi-review lsp < /dev/null", checkout, env, timeout=60)
    assert lsp.returncode == 2
    assert "pip install '.[lsp]' in a fastapi-review checkout" in lsp.stderr

    # the extras from the checkout, as the README writes them
    for line in readme_block("install-checkout").strip().splitlines():
        command = line.split("#")[0].strip()
        result = _sh(command, checkout, env)
        assert result.returncode == 0, (command, result.stderr[-3000:])
    imports = _sh("python -c 'import pygls, jinja2'", checkout, env)
    assert imports.returncode == 0, imports.stderr
    lsp = _sh("fastapi-review lsp < /dev/null", checkout, env, timeout=60)
    assert "needs pygls" not in lsp.stderr and lsp.returncode == 0, lsp.stderr
    html = _sh("fastapi-review --output-format html -e -o review.html examples/shop", checkout, env)
    assert html.returncode == 0 and (checkout / "review.html").read_text().startswith("<!DOCTYPE html>"), html.stderr

    # git at the pinned revision (this repository instead of github.com, which tests cannot reach)
    if not (ROOT / ".git").exists() or subprocess.run(
        ["git", "-C", str(ROOT), "cat-file", "-e", f"{pinned_revision()}^{{commit}}"], capture_output=True
    ).returncode:
        pytest.skip("the pinned revision needs the git checkout (tests/test_readme.py says whether it exists)")
    command = readme_block("install-git").strip().replace("https://github.com/fastapi-review/fastapi-review", f"file://{ROOT}")
    result = _sh(command.replace("pip install", "pip install --force-reinstall --no-deps", 1), checkout, env)
    assert result.returncode == 0, result.stderr[-3000:]
    version = _sh("fastapi-review --version", checkout, env)
    assert version.returncode == 0 and version.stdout.startswith("fastapi-review, version "), version.stderr
