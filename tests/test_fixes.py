"""Autofix: each fixable rule's fixture fixed into its `FRxxx.fixed.py`, idempotency, and the
safety net (encodings, newlines, permissions, files changed on disk, overlaps, invalid results)."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Callable

import libcst as cst
import pytest
from annotations import parse_fixture
from cli_helpers import run

from fastapi_review.config import MAX_LINE_LENGTH, Config
from fastapi_review.findings import Finding
from fastapi_review.fixes import apply_fixes, atomic_write, fix_paths, fix_source
from fastapi_review.rule import RuleFix
from fastapi_review.rules import ALL_RULES
from fastapi_review.selection import RULES_BY_CODE

FIXTURES = Path(__file__).parent / "fixtures"
FIXED = sorted(FIXTURES.glob("*.fixed.py"))
FIXABLE_RULES = {r.code for r in ALL_RULES if r.fix_safety is not None}


def fix_fixture(source: Path, data: bytes) -> tuple[bytes, int]:
    """The fixture's bytes with every fix of its rule(s) applied (safe and unsafe)."""
    annotations = parse_fixture(source)
    codes = annotations.select or (source.name[:5],)
    # the annotations make long lines: only fixtures about line-length set one
    settings = {"line_length": MAX_LINE_LENGTH, **annotations.settings}
    config = Config(root=source.parent.resolve(), select=codes, learn_conventions=False, **settings)
    fixed = fix_source(data, str(source.relative_to(source.parent)), config, unsafe=True)
    changed = list(fixed.changed.values())
    return (changed[0][2] if changed else data), fixed.fixed_count()


def test_every_fixable_rule_has_a_fixed_fixture() -> None:
    assert FIXABLE_RULES == {"FR206", "FR302", "FR501", "FR506", "FR507", "FR601"}
    assert {p.name[:5] for p in FIXED} == FIXABLE_RULES


@pytest.mark.parametrize("source", sorted(FIXTURES.glob("FR*.py")), ids=lambda p: p.name)
def test_fixes_have_the_safety_their_rule_declares(source: Path) -> None:
    if source.name.endswith(".fixed.py"):
        return
    config = Config(root=source.parent.resolve(), select=("ALL",), learn_conventions=False)
    for finding in fix_source(source.read_bytes(), source.name, config).report.findings:
        declared = RULES_BY_CODE[finding.code].fix_safety
        assert (finding.fix.safety if finding.fix else None) in (None, declared), finding


@pytest.mark.parametrize("expected", FIXED, ids=lambda p: p.name)
def test_fixed_fixture(expected: Path) -> None:
    source = expected.with_name(expected.name.replace(".fixed.py", ".py"))
    fixed, count = fix_fixture(source, source.read_bytes())
    assert count > 0
    assert fixed.decode() == expected.read_text(encoding="utf-8")
    again, count = fix_fixture(source, fixed)
    assert again == fixed and count == 0, "a second --fix changed the file again"


def _project(tmp_path: Path, name: str, data: bytes) -> Path:
    (tmp_path / "pyproject.toml").write_text("[tool.fastapi-review]\nselect = ['FR302', 'FR601']\n")
    path = tmp_path / name
    path.write_bytes(data)
    return path


ROUTE = (
    'from fastapi import APIRouter, HTTPException\n\nrouter = APIRouter()\n\n\n'
    '@router.get("/a")\nasync def a() -> str:\n    raise HTTPException(404, "caf\u00e9")\n'
)


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: text.replace("\n", "\r\n").encode(),
        lambda text: b"\xef\xbb\xbf" + text.encode(),
        lambda text: ("# -*- coding: latin-1 -*-\n" + text).encode("latin-1"),
        lambda text: b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode(),
    ],
    ids=["crlf", "bom", "latin-1", "bom-crlf"],
)
def test_fix_keeps_encoding_bom_and_newlines(tmp_path: Path, encode: Callable[[str], bytes]) -> None:
    path = _project(tmp_path, "api.py", encode(ROUTE))
    result = run(["--fix", "api.py"], tmp_path)
    assert result.exit_code == 0, result.output
    expected = ROUTE.replace("HTTPException\n", "HTTPException, status\n").replace("(404,", "(status.HTTP_404_NOT_FOUND,")
    assert path.read_bytes() == encode(expected)
    assert "Fixed 1 finding in 1 file." in result.stderr


def test_fix_keeps_permissions_and_writes_atomically(tmp_path: Path) -> None:
    path = _project(tmp_path, "api.py", ROUTE.encode())
    path.chmod(0o640)
    run(["--fix", "api.py"], tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert "status.HTTP_404_NOT_FOUND" in path.read_text()
    left = sorted(p.name for p in tmp_path.iterdir() if p.name != ".fastapi_review_cache")
    assert left == ["api.py", "pyproject.toml"]  # no temporary files left


def test_file_changed_on_disk_is_not_written(tmp_path: Path) -> None:
    path = _project(tmp_path, "api.py", ROUTE.encode())
    config = Config(root=tmp_path.resolve(), select=("FR302",))
    fixed = fix_paths([str(path)], config)
    path.write_text(ROUTE + "# edited meanwhile\n")
    from fastapi_review.fixes import write_changes

    write_changes(fixed)
    assert fixed.written == [] and "changed on disk" in fixed.notes[0]
    assert path.read_text().endswith("# edited meanwhile\n")
    with pytest.raises(OSError):
        atomic_write(path, b"x = 1\n", expected=ROUTE.encode())
    assert path.read_text().endswith("# edited meanwhile\n")


def test_diff_writes_nothing_and_exits_1(tmp_path: Path) -> None:
    path = _project(tmp_path, "api.py", ROUTE.encode())
    result = run(["--diff", "api.py"], tmp_path)
    assert result.exit_code == 1
    assert result.stdout.startswith("--- a/api.py\n+++ b/api.py\n")
    assert '+    raise HTTPException(status.HTTP_404_NOT_FOUND, "caf\u00e9")\n' in result.stdout
    assert path.read_bytes() == ROUTE.encode()
    run(["--fix", "api.py"], tmp_path)
    clean = run(["--diff", "api.py"], tmp_path)
    assert clean.exit_code == 0 and clean.stdout == ""


def test_fix_twice_is_a_no_op(tmp_path: Path) -> None:
    path = _project(tmp_path, "api.py", ROUTE.encode())
    first = run(["--fix", "api.py"], tmp_path)
    once = path.read_bytes()
    second = run(["--fix", "api.py"], tmp_path)
    assert path.read_bytes() == once
    assert "Fixed 1 finding" in first.stderr and "Fixed 0 findings in 0 files." in second.stderr


def test_unsafe_fixes_need_the_flag(tmp_path: Path) -> None:
    source = 'from fastapi import APIRouter\n\nrouter = APIRouter()\n\n\n@router.post("/items")\ndef create() -> None:\n    """Create."""\n'
    (tmp_path / "pyproject.toml").write_text("[tool.fastapi-review]\nselect = ['FR206']\n")
    path = tmp_path / "api.py"
    path.write_text(source)
    listed = run(["api.py"], tmp_path)
    assert "FR206 [*]" not in listed.stdout
    assert "FR206 [*]" in run(["--unsafe-fixes", "api.py"], tmp_path).stdout
    run(["--fix", "api.py"], tmp_path)
    assert path.read_text() == source
    result = run(["--fix", "--unsafe-fixes", "api.py"], tmp_path)
    assert result.exit_code == 0
    assert path.read_text() == source.replace("APIRouter\n", "APIRouter, status\n").replace(
        '"/items")', '"/items", status_code=status.HTTP_201_CREATED)'
    )


def test_stdin_fix_prints_the_fixed_source(tmp_path: Path) -> None:
    _project(tmp_path, "unused.py", b"")
    result = run(["--fix", "-", "--stdin-filename", "api.py"], tmp_path, stdin=ROUTE)
    assert result.exit_code == 0
    assert result.stdout.startswith("from fastapi import APIRouter, HTTPException, status\n")


def test_statistics_and_json_show_fixability(tmp_path: Path) -> None:
    _project(tmp_path, "api.py", ROUTE.encode())
    assert "FR302 http-status-literal (1 fixable)" in run(["--statistics", "api.py"], tmp_path).stdout
    assert '"fix": {"safety": "safe", "description": "Use status.HTTP_404_NOT_FOUND", "applicability": "safe", "edits": [' in run(
        ["--format", "json-lines", "api.py"], tmp_path
    ).stdout


def _tree_and_literals(source: str) -> tuple[cst.Module, list[cst.Integer]]:
    tree = cst.parse_module(source)
    found: list[cst.Integer] = []

    class Collect(cst.CSTVisitor):
        def visit_Integer(self, node: cst.Integer) -> None:
            found.append(node)

    tree.visit(Collect())
    return tree, found


def _finding(line: int) -> Finding:
    return Finding("x.py", line, 1, line, 2, "FR302", "http-status-literal", "m", "warning")


def test_overlapping_fixes_skip_the_later_one() -> None:
    tree, (one, two) = _tree_and_literals("x = f(1, 2)\n")
    call = tree.body[0].body[0].value  # type: ignore[attr-defined]
    whole = RuleFix("safe", "call", ((call, cst.parse_expression("g()")),))
    inner = RuleFix("safe", "literal", ((one, cst.Integer("3")),))
    result = apply_fixes(tree, [(_finding(1), whole), (_finding(2), inner)])
    assert result.data == b"x = g()\n"
    assert [reason for _, reason in result.skipped] == ["it overlaps another fix"]


def test_fix_giving_invalid_code_is_skipped() -> None:
    tree, (one, two) = _tree_and_literals("x = f(1, 2)\n")
    broken = RuleFix("safe", "broken", ((one, cst.Name("class")),))
    fine = RuleFix("safe", "fine", ((two, cst.Integer("5")),))
    result = apply_fixes(tree, [(_finding(1), broken), (_finding(2), fine)])
    assert result.data == b"x = f(1, 5)\n"
    assert [reason for _, reason in result.skipped] == ["the result would not be valid Python"]


def test_invalid_fix_is_reported_by_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi_review.rules import fr301_fr302_fr303_fr304_http_exceptions as fr30x_http_exceptions

    def broken(self: object, literal: cst.Integer, code: int) -> RuleFix:  # a stand-in for a buggy rule
        return RuleFix("safe", "broken", ((literal, cst.Name("class")),))

    monkeypatch.setattr(fr30x_http_exceptions.HttpStatusLiteral, "_fix", broken)
    path = _project(tmp_path, "api.py", ROUTE.encode())
    result = run(["--fix", "api.py"], tmp_path)
    assert result.exit_code == 1
    assert "api.py:8:25: FR302 not fixed: the result would not be valid Python" in result.stderr
    assert path.read_bytes() == ROUTE.encode()


def test_import_goes_after_docstring_and_future_imports(tmp_path: Path) -> None:
    source = '"""Doc."""\n\nfrom __future__ import annotations\n\nimport os\n\nfrom app.deps import router\nfrom fastapi.responses import Response\n\n\ndef f() -> Response:\n    return Response(status_code=204)\n'
    config = Config(root=tmp_path.resolve(), select=("FR302",))
    fixed = fix_source(source.encode(), "api.py", config)
    (_, _, after), = fixed.changed.values()
    assert after.decode() == source.replace(
        "from fastapi.responses import Response\n", "from fastapi import status\nfrom fastapi.responses import Response\n"
    ).replace("(status_code=204)", "(status_code=status.HTTP_204_NO_CONTENT)")
    assert os.path.exists(tmp_path)


@pytest.mark.parametrize(
    "binding",
    ["status: str = 'open'", "*, status: int = 0"],
)
def test_no_status_fix_where_status_means_something_else(tmp_path: Path, binding: str) -> None:
    source = f"from fastapi import HTTPException\n\n\ndef check({binding}) -> None:\n    raise HTTPException(404, str(status))\n"
    config = Config(root=tmp_path.resolve(), select=("FR302",))
    fixed = fix_source(source.encode(), "api.py", config)
    assert not fixed.changed
    assert [f.fix for f in fixed.report.findings] == [None]


def test_existing_status_import_from_starlette_is_reused(tmp_path: Path) -> None:
    source = "from fastapi import HTTPException\nfrom starlette import status\n\nraise HTTPException(404, 'x')\n"
    config = Config(root=tmp_path.resolve(), select=("FR302",))
    (_, _, after), = fix_source(source.encode(), "api.py", config).changed.values()
    assert after.decode() == source.replace("(404,", "(status.HTTP_404_NOT_FOUND,")


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ('relationship("A")', 'relationship("A", lazy="selectin")'),
        ("relationship('A', uselist=False)", "relationship('A', uselist=False, lazy='selectin')"),
        ('relationship()', 'relationship(lazy="selectin")'),
        ('relationship(\n        "A",\n        backref="b",\n    )', 'relationship(\n        "A",\n        backref="b",\n        lazy="selectin",\n    )'),
        ('relationship(\n        "A", backref="b"\n    )', 'relationship(\n        "A", backref="b", lazy="selectin"\n    )'),
        ('relationship("A",\n                 backref="b")', 'relationship("A",\n                 backref="b",\n                 lazy="selectin")'),
        ('relationship(\n        "A",  # why\n    )', 'relationship(\n        "A",  # why\n        lazy="selectin",\n    )'),
    ],
    ids=["one-line", "single-quotes", "empty", "trailing-comma", "hugging", "aligned", "comment"],
)
def test_new_keyword_follows_the_call_layout(tmp_path: Path, before: str, after: str) -> None:
    source = (
        "from sqlalchemy.orm import DeclarativeBase, relationship\n\n\nclass Base(DeclarativeBase):\n    pass\n\n\n"
        f"class User(Base):\n    __tablename__ = 'users'\n    items = {before}\n"
    )
    config = Config(root=tmp_path.resolve(), select=("FR501",))
    (_, _, fixed), = fix_source(source.encode(), "models.py", config, unsafe=True).changed.values()
    assert fixed.decode() == source.replace(before, after)


def test_starlette_only_file_imports_status_from_starlette(tmp_path: Path) -> None:
    source = "from starlette.exceptions import HTTPException\n\nraise HTTPException(404, 'x')\n"
    config = Config(root=tmp_path.resolve(), select=("FR302",))
    (_, _, after), = fix_source(source.encode(), "api.py", config).changed.values()
    assert after.decode() == "from starlette import status\n" + source.replace("(404,", "(status.HTTP_404_NOT_FOUND,")


@pytest.mark.parametrize("project", ["FR601_pydantic_v1", "FR601_fastapi_pin", "FR601_undeclared_v1"])
def test_fix_never_rewrites_a_pydantic_1_project(tmp_path: Path, project: str) -> None:
    """`--fix --unsafe-fixes` on the v1 part of each version fixture changes no byte of it (the
    v2 service beside it is fixed, which shows fixes were on)."""
    import shutil

    source = Path(__file__).parent / "fixtures" / project
    shutil.copytree(source, tmp_path / project)
    (tmp_path / project / ".git").mkdir()  # the repository root: declarations above it do not count
    v1 = tmp_path / project / "app" / "schemas.py"
    before = v1.read_bytes()
    others = [p for p in (tmp_path / project).rglob("schemas.py") if p != v1]
    others_before = [p.read_bytes() for p in others]
    run(["--fix", "--unsafe-fixes", "--select", "FR601", "."], tmp_path / project)
    assert v1.read_bytes() == before
    assert [p.read_bytes() for p in others] != others_before


LONG_RAISE = 'from fastapi import HTTPException, status\n\n\ndef f(item_id: int) -> None:\n    raise HTTPException(404, detail=f"item {item_id} is gone")\n'
WRAPPED_RAISE = LONG_RAISE.replace(
    '(404, detail=f"item {item_id} is gone")\n',
    '(\n        status.HTTP_404_NOT_FOUND,\n        detail=f"item {item_id} is gone",\n    )\n',
)
ONE_LINE_RAISE = LONG_RAISE.replace("(404,", "(status.HTTP_404_NOT_FOUND,")


@pytest.mark.parametrize(
    ("pyproject", "extra", "expected"),
    [
        ("[tool.fastapi-review]\nselect = ['FR302']\n", {}, ONE_LINE_RAISE),  # 84 characters: within 88
        ("[tool.fastapi-review]\nselect = ['FR302']\n\n[tool.black]\nline-length = 79\n", {}, WRAPPED_RAISE),
        ("[tool.fastapi-review]\nselect = ['FR302']\n\n[tool.ruff]\nline-length = 79\n\n[tool.black]\nline-length = 120\n", {}, WRAPPED_RAISE),
        ("[tool.fastapi-review]\nselect = ['FR302']\nline-length = 120\n\n[tool.ruff]\nline-length = 79\n", {}, ONE_LINE_RAISE),
        ("[tool.fastapi-review]\nselect = ['FR302']\n", {"ruff.toml": "line-length = 79\n"}, WRAPPED_RAISE),
        ("[tool.ruff]\nline-length = 79\n", {}, WRAPPED_RAISE),  # no table of ours: FR302 selected on the command line
    ],
    ids=["default-88", "black", "ruff-before-black", "own-before-ruff", "ruff.toml", "ruff-without-our-table"],
)
def test_fixes_keep_the_projects_line_length(tmp_path: Path, pyproject: str, extra: dict, expected: str) -> None:
    (tmp_path / "pyproject.toml").write_text(pyproject)
    for name, text in extra.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "api.py").write_text(LONG_RAISE)
    result = run(["--no-cache", "--select", "FR302", "--fix", "api.py"], tmp_path)
    assert (tmp_path / "api.py").read_text() == expected
    assert result.exit_code == 0


def test_a_fix_too_long_even_wrapped_is_skipped_and_said(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.fastapi-review]\nselect = ['FR302']\nline-length = 40\n")
    source = 'from fastapi import HTTPException\n\n\ndef f() -> None:\n    raise HTTPException(404, "no such item anywhere")\n'
    (tmp_path / "api.py").write_text(source)
    result = run(["--no-cache", "--fix", "api.py"], tmp_path)
    assert (tmp_path / "api.py").read_text() == source
    assert "api.py:5:25: FR302 not fixed: the fixed line would be longer than line-length (40), even with the call wrapped" in result.stderr


def test_line_length_must_be_a_number_in_range(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.fastapi-review]\nline-length = 0\n")
    (tmp_path / "api.py").write_text("x = 1\n")
    result = run(["api.py"], tmp_path)
    assert result.exit_code == 2
    assert "[tool.fastapi-review].line-length must be a whole number from 1 to 320, not 0" in result.stderr
