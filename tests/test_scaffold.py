"""Adding a per-file rule touches exactly its module, its doc, its fixture and one registry line
(plus the README table, which is generated): scripts/new_rule.py proves it on a copy of the
project, and what it writes passes the rule's fixture and doc tests at once."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COPIED = ("src", "rules", "tests", "README.md", "pyproject.toml")


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy(source, root / name)
    return root


def _scaffold(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "new_rule.py"), *args, "--root", str(root)],
        capture_output=True, text=True, timeout=120,
    )


def test_new_rule_touches_module_doc_fixture_and_one_registry_line(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    before = _snapshot(root)
    result = _scaffold(root, "FR299", "placeholder-call", "a call of replace_me()")
    assert result.returncode == 0, result.stderr
    after = _snapshot(root)
    added = sorted(set(after) - set(before))
    changed = sorted(p for p in set(after) & set(before) if after[p] != before[p])
    assert added == ["rules/FR299.md", "src/fastapi_review/rules/fr299_placeholder_call.py", "tests/fixtures/FR299.py"]
    assert changed == ["README.md", "src/fastapi_review/rules/__init__.py"]
    old_registry = before["src/fastapi_review/rules/__init__.py"].decode().splitlines()
    new_registry = after["src/fastapi_review/rules/__init__.py"].decode().splitlines()
    assert [line for line in new_registry if line not in old_registry] == [
        "from fastapi_review.rules.fr299_placeholder_call import PlaceholderCall"
    ]
    assert len(new_registry) == len(old_registry) + 1
    old_readme = before["README.md"].decode().splitlines()
    assert [line for line in after["README.md"].decode().splitlines() if line not in old_readme] == [
        "| [FR299](rules/FR299.md) | `placeholder-call` | on | warning |  | a call of replace_me() |"
    ]

    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "tests/test_fixtures.py", "tests/test_docs.py",
         "-k", "FR299 or readme_rule_table"],
        cwd=root, env=env, capture_output=True, text=True, timeout=300,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "5 passed" in tests.stdout, tests.stdout


def test_new_rule_refuses_a_taken_code_or_name(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    before = _snapshot(root)
    taken_code = _scaffold(root, "FR401", "something-new", "anything")
    taken_name = _scaffold(root, "FR298", "sql-string-formatting", "anything")
    bad_name = _scaffold(root, "FR297", "Not_Kebab", "anything")
    assert (taken_code.returncode, taken_name.returncode, bad_name.returncode) == (2, 2, 2)
    assert "FR401 is taken" in taken_code.stderr
    assert "'sql-string-formatting' is taken" in taken_name.stderr
    assert "kebab-case" in bad_name.stderr
    assert _snapshot(root) == before
