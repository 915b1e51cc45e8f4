"""The per-file pipeline: picklable results, determinism, odd but valid inputs."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from fastapi_review.checker import check_paths, check_text
from fastapi_review.config import DEFAULT_ROLE_GLOBS, Config
from fastapi_review.discovery import SourceFile, module_name
from fastapi_review.engine import check_file
from fastapi_review.parallel import on_big_stack
from fastapi_review.rule import Rule
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
    ruleset = RuleSet.from_config(Config(root=tmp_path, learn_conventions=False, extend_select=("FR1",)))
    result = on_big_stack(check_file, SourceFile(tmp_path / "m.py", "m.py", "m.py"), MODEL.encode(), ruleset, ruleset.enabled)
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
    findings = check_text(data, "x.py", Config(root=tmp_path, extend_select=("FR1",)))
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


ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "examples").rglob("*.py")) + sorted((ROOT / "tests" / "fixtures").rglob("*.py"))


def _all_findings(monkeypatch: pytest.MonkeyPatch, gated: bool) -> list[tuple[object, ...]]:
    from fastapi_review import engine

    if not gated:
        monkeypatch.setattr(engine._Mentions, "__call__", lambda self, code: True)
    # the fixtures sit under tests/: checked as app code here, as the fixture tests do
    config = Config(root=ROOT, select=("ALL",), role_globs={**DEFAULT_ROLE_GLOBS, "tests": ()})
    report = check_paths([str(p) for p in SOURCES], config)
    return [(f.path, f.line, f.column, f.code, f.message) for f in report.findings]


def test_rule_mentions_never_change_findings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Skipping a rule on files without its `mentions` only saves time: every example and
    fixture gives the same findings with the rules run on every file."""
    gated = _all_findings(monkeypatch, gated=True)
    assert len(gated) > 300
    assert gated == _all_findings(monkeypatch, gated=False)


def test_rules_do_not_run_on_files_without_their_words(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi_review.rules.fr401_sql_string_formatting import SqlStringFormatting
    from fastapi_review.rules.fr506_fr507_fr508_fr509_column_types import NaiveDatetimeColumn

    ran: list[str] = []
    for rule in (SqlStringFormatting, NaiveDatetimeColumn):
        def setup(self: Rule, original: object = rule.setup) -> None:
            ran.append(self.code)
            original(self)  # type: ignore[operator]

        monkeypatch.setattr(rule, "setup", setup)
    config = Config(root=tmp_path, select=("FR401", "FR506"))
    plain = b"def f(x: int) -> int:\n    return x\n"
    on_big_stack(check_file, SourceFile(tmp_path / "a.py", "a.py", "a.py"), plain, RuleSet.from_config(config), ("FR401", "FR506"))
    assert ran == []
    model = b"from sqlalchemy import Column\n" + plain
    on_big_stack(check_file, SourceFile(tmp_path / "b.py", "b.py", "b.py"), model, RuleSet.from_config(config), ("FR401", "FR506"))
    assert sorted(ran) == ["FR401", "FR506"]


def test_parser_nodes_equal_libcsts_own() -> None:
    """The parse without per-node validation builds the same trees as libcst.parse_module, and
    nodes built outside the parser are still validated."""
    import libcst as cst

    from fastapi_review.parsing import install, parse_module

    assert len(install()) > 150  # every concrete node class got the generated __init__
    for path in SOURCES:
        data = path.read_bytes()
        try:
            theirs = cst.parse_module(data)
        except cst.ParserSyntaxError:
            continue  # the FR001 fixtures
        ours = parse_module(data)
        assert ours.deep_equals(theirs) and ours.bytes == data, path
    with pytest.raises(cst.CSTValidationError):
        cst.Name("not a name")
    with pytest.raises(cst.CSTValidationError):
        cst.Call(func=cst.Name("f"), lpar=[cst.LeftParen()])  # unbalanced parentheses
    assert cst.Name(value="x", lpar=(), rpar=()).value == "x"
    assert cst.Arg(cst.Name("y")).keyword is None  # positional arguments and defaults


@pytest.mark.parametrize(
    "source",
    [
        "async def f(conn, name: str):\n    return await conn.fetch(f'SELECT * FROM t WHERE n = {name}')\n",
        "def f(cursor, name: str):\n    cursor.executemany('DELETE FROM t WHERE n = ' + name, [])\n",
        "from sqlmodel import text\nq = text(f'SELECT * FROM t WHERE n = {x}')\n",
    ],
)
def test_sql_sinks_without_sqlalchemy_words_are_still_checked(tmp_path: Path, source: str) -> None:
    config = Config(root=tmp_path, select=("FR401",))
    findings = check_text(source.encode(), str(tmp_path / "q.py"), config)
    assert [f.code for f in findings] == ["FR401"]


def test_a_status_starlette_renamed_is_named_both_ways(tmp_path: Path) -> None:
    source = b"from fastapi import HTTPException\nraise HTTPException(422, detail='x')\n"
    findings = check_text(source, str(tmp_path / "q.py"), Config(root=tmp_path, select=("FR302",)))
    assert [f.message for f in findings] == [
        "status code 422 written as a literal: use fastapi.status.HTTP_422_UNPROCESSABLE_CONTENT "
        "(HTTP_422_UNPROCESSABLE_ENTITY before Starlette 0.48)"
    ]
