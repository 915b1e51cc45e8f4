"""The per-file pipeline: picklable results, determinism, odd but valid inputs."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from fastapi_review.checker import check_paths, check_text
from fastapi_review.config import Config
from fastapi_review.engine import check_source, module_name
from fastapi_review.selection import RuleSet

MODEL = (
    "from sqlalchemy.orm import DeclarativeBase, relationship\n"
    "class Base(DeclarativeBase): pass\n"
    "class User(Base):\n"
    "    __tablename__ = 'users'\n"
    "    orders = relationship('Order')\n"
    "def f(x):\n"
    "    return x\n"
)


def test_file_result_is_picklable_and_holds_no_cst(tmp_path: Path) -> None:
    ruleset = RuleSet.from_config(Config(root=tmp_path))
    result = check_source("m.py", MODEL.encode(), ruleset, ruleset.enabled, ("m", False))
    assert result.deferred and result.findings
    restored = pickle.loads(pickle.dumps(result))
    assert restored.facts.classes[1].qualname == "m.User"
    assert "libcst" not in repr(restored)


def test_output_is_deterministic(tmp_path: Path) -> None:
    for name in ("b.py", "a.py", "sub/c.py"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(MODEL)
    config = Config(root=tmp_path)
    first = check_paths([str(tmp_path)], config).findings
    assert first == check_paths([str(tmp_path)], config).findings
    assert first == sorted(first, key=lambda f: f.sort_key())


@pytest.mark.parametrize(
    "data",
    [b"", b"\n", b"\xef\xbb\xbfdef f(x):\n    pass\n", b"def f(x):\r\n    pass\r\n", b"# -*- coding: latin-1 -*-\ndef f(x='\xe9'):\n    pass\n"],
    ids=["empty", "newline", "bom", "crlf", "latin1-cookie"],
)
def test_valid_odd_inputs(tmp_path: Path, data: bytes) -> None:
    findings = check_text(data, "x.py", Config(root=tmp_path))
    def_line = next((n for n, line in enumerate(data.splitlines(), 1) if b"def " in line), None)
    expected = set() if def_line is None else {("FR101", def_line), ("FR102", def_line)}
    assert {(f.code, f.line) for f in findings} == expected
    assert all(f.code != "FR001" for f in findings)


def test_module_names_follow_packages(tmp_path: Path) -> None:
    (tmp_path / "app" / "models").mkdir(parents=True)
    for init in ("app/__init__.py", "app/models/__init__.py"):
        (tmp_path / init).write_text("")
    (tmp_path / "app" / "models" / "user.py").write_text("")
    assert module_name(tmp_path / "app" / "models" / "user.py") == ("app.models.user", False)
    assert module_name(tmp_path / "app" / "models" / "__init__.py") == ("app.models", True)
    assert module_name(tmp_path / "loose.py") == ("loose", False)
