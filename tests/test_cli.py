"""The command line: exit codes, formats, config errors, discovery, noqa."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import run
from click.testing import CliRunner

from fastapi_review.cli import main

BAD = "def f(x):\n    return x\n"
# FR101/FR102 (off by default) are what BAD trips: the command-line tests turn them on
HINTS = ["--extend-select", "FR101,FR102"]




def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_exit_codes_and_text_format(tmp_path: Path) -> None:
    write(tmp_path / "app" / "a.py", BAD)
    write(tmp_path / "app" / "b.py", "def g(x: int) -> int:\n    return x\n")
    result = run([*HINTS, "app"], tmp_path)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "app/a.py:1:5: FR102 function 'f' has no return type annotation; add '-> ...'",
        "app/a.py:1:7: FR101 parameter 'x' of 'f' has no type annotation; annotate every parameter",
    ]
    assert run(["app/b.py"], tmp_path).exit_code == 0
    assert run(["--exit-zero", "app"], tmp_path).exit_code == 0


def test_default_path_is_current_directory(tmp_path: Path) -> None:
    write(tmp_path / "a.py", BAD)
    result = run([*HINTS, "-q"], tmp_path)
    assert result.exit_code == 1
    assert result.stdout.startswith("a.py:1:5: FR102")


def test_json_format(tmp_path: Path) -> None:
    write(tmp_path / "a.py", BAD)
    data = json.loads(run([*HINTS, "--format", "json", "a.py"], tmp_path).stdout)
    assert data[0] == {
        "path": "a.py", "line": 1, "column": 5, "end_line": 1, "end_column": 6,
        "code": "FR102", "name": "missing-return-annotation",
        "message": "function 'f' has no return type annotation; add '-> ...'",
        "severity": "warning", "url": "https://github.com/fastapi-review/fastapi-review/blob/main/rules/FR102.md",
        "fix": None,
    }


def test_select_ignore_and_prefixes(tmp_path: Path) -> None:
    write(tmp_path / "a.py", BAD)
    assert {l.split()[1] for l in run(["--select", "FR102", "-q", "a.py"], tmp_path).stdout.splitlines()} == {"FR102"}
    assert run(["--ignore", "FR1", "a.py"], tmp_path).exit_code == 0
    assert run(["--select", "ALL", "--ignore", "FR101,FR102", "a.py"], tmp_path).exit_code == 0


def test_unknown_code_is_a_usage_error(tmp_path: Path) -> None:
    write(tmp_path / "a.py", BAD)
    result = run(["--select", "FR999", "a.py"], tmp_path)
    assert result.exit_code == 2
    assert "unknown rule code or prefix 'FR999'" in result.stderr


def test_statistics_and_output_file(tmp_path: Path) -> None:
    write(tmp_path / "a.py", BAD + "def h(y, z):\n    pass\n")
    result = run([*HINTS, "--statistics", "-o", "report.txt", "a.py"], tmp_path)
    assert result.exit_code == 1
    report = (tmp_path / "report.txt").read_text()
    assert report.endswith("3      FR101 missing-param-annotation\n2      FR102 missing-return-annotation\n")


def test_missing_path_exits_2(tmp_path: Path) -> None:
    result = run(["nope.py"], tmp_path)
    assert result.exit_code == 2
    assert "nope.py: no such file or directory" in result.stderr


def test_syntax_error_is_a_finding_and_the_run_goes_on(tmp_path: Path) -> None:
    write(tmp_path / "broken.py", "x = (1,\n")
    write(tmp_path / "ok.py", BAD)
    lines = run([*HINTS, "-q", "."], tmp_path).stdout.splitlines()
    assert lines[0] == "broken.py:1:5: FR001 cannot parse this file: '(' was never closed"
    assert lines[1].startswith("ok.py:1:5: FR102")


def test_non_utf8_file_is_fr001(tmp_path: Path) -> None:
    (tmp_path / "latin.py").write_bytes(b"x = '\xe9'\n")
    (tmp_path / "cookie.py").write_bytes(b"# -*- coding: latin-1 -*-\nx = '\xe9'\n")
    result = run(["-q", "."], tmp_path)
    assert [l.split(":")[0] for l in result.stdout.splitlines()] == ["latin.py"]
    assert "FR001" in result.stdout


def test_noqa(tmp_path: Path) -> None:
    # every function lacks its hints: only without learning conventions is anything reported
    write(tmp_path / "pyproject.toml", "[tool.fastapi-review]\nlearn-conventions = false\n")
    write(
        tmp_path / "a.py",
        "def f(x):  # noqa\n    pass\n"
        "def g(x):  # noqa: FR101\n    pass\n"
        "def h(x):  # noqa:FR1\n    pass\n"
        "def k(x):  # NOQA: FR401\n    pass\n"
        "def m(x):  # noqa: FR101 FR102\n    pass\n"
        "def n(x):  # noqa: missing-param-annotation, missing-return-annotation\n    pass\n"
        "def p(x):  # noqa: missing-param-annotation kept: reason words are not codes\n    pass\n",
    )
    out = run([*HINTS, "-q", "a.py"], tmp_path).stdout.splitlines()
    assert [l.split(": ")[0] + " " + l.split()[1] for l in out] == [
        "a.py:3:5 FR102", "a.py:7:5 FR102", "a.py:7:7 FR101", "a.py:13:5 FR102",
    ]


def test_noqa_lines_are_counted_as_python_counts_them(tmp_path: Path) -> None:
    # a form feed (a page break) is no line break for Python: the `# noqa` below is on line 3
    write(tmp_path / "pyproject.toml", "[tool.fastapi-review]\nlearn-conventions = false\n")
    write(tmp_path / "a.py", "import os\n\x0c\ndef f(x):  # noqa: FR101\n    return os\n")
    out = run([*HINTS, "-q", "a.py"], tmp_path).stdout.splitlines()
    assert [l.split(": ")[0] + " " + l.split()[1] for l in out] == ["a.py:3:5 FR102"]


def test_discovery_excludes_and_gitignore(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write(tmp_path / ".gitignore", "generated/\n*_pb2.py\n")
    for name in ("app/a.py", "generated/g.py", "app/x_pb2.py", ".venv/lib/v.py", "node_modules/n.py", "app/sub/b.py"):
        write(tmp_path / name, BAD)
    files = {l.split(":")[0] for l in run(["-q", "--select", "FR102"], tmp_path).stdout.splitlines()}
    assert files == {"app/a.py", "app/sub/b.py"}
    # a file named explicitly is always checked
    assert run([*HINTS, "-q", "generated/g.py"], tmp_path).exit_code == 1


def test_git_info_exclude_is_honoured_like_gitignore(tmp_path: Path) -> None:
    (tmp_path / ".git" / "info").mkdir(parents=True)
    write(tmp_path / ".git" / "info" / "exclude", "# local only\nscratch/\n")
    write(tmp_path / ".gitignore", "!scratch/keep.py\n")
    for name in ("app/a.py", "scratch/s.py"):
        write(tmp_path / name, BAD)
    files = {l.split(":")[0] for l in run(["-q", "--select", "FR102"], tmp_path).stdout.splitlines()}
    assert files == {"app/a.py"}


def test_force_exclude_holds_for_named_files_and_stdin(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.fastapi-review]\nextend-exclude = ["generated/", "legacy.py"]\n')
    for name in ("app/a.py", "generated/client/api.py", "legacy.py"):
        write(tmp_path / name, BAD)
    named = ["generated/client/api.py", "legacy.py", "app/a.py"]
    checked = lambda args: {l.split(":")[0] for l in run(["-q", "--select", "FR102", *args], tmp_path).stdout.splitlines()}
    assert checked(named) == {"generated/client/api.py", "legacy.py", "app/a.py"}  # named files: checked
    assert checked(["--force-exclude", *named]) == {"app/a.py"}
    result = run(["-q", "--force-exclude", "generated/client/api.py", "legacy.py"], tmp_path)
    assert (result.exit_code, result.stdout) == (0, "")
    stdin = run(["-q", "--force-exclude", "-", "--stdin-filename", "generated/client/api.py"], tmp_path, stdin=BAD)
    assert (stdin.exit_code, stdin.stdout) == (0, "")
    fixed = run(["-q", "--force-exclude", "--fix", "-", "--stdin-filename", "legacy.py"], tmp_path, stdin=BAD)
    assert (fixed.exit_code, fixed.stdout) == (0, BAD)  # stdin comes back unchanged
    # the same from the configuration, and the command line wins over it
    write(tmp_path / "pyproject.toml", '[tool.fastapi-review]\nextend-exclude = ["generated/", "legacy.py"]\nforce-exclude = true\n')
    assert checked(named) == {"app/a.py"}
    assert checked(["--no-force-exclude", *named]) == {"generated/client/api.py", "legacy.py", "app/a.py"}
    write(tmp_path / "pyproject.toml", '[tool.fastapi-review]\nforce-exclude = "yes"\n')
    bad = run(["-q", "app/a.py"], tmp_path)
    assert bad.exit_code == 2 and "force-exclude must be true or false" in bad.stderr


def test_config_from_pyproject(tmp_path: Path) -> None:
    write(
        tmp_path / "pyproject.toml",
        '[tool.fastapi-review]\nextend-select = ["FR101", "FR102"]\nignore = ["FR101"]\nextend-exclude = ["scripts/"]\n'
        '[tool.fastapi-review.per-file-ignores]\n"tests/**" = ["FR102"]\n',
    )
    write(tmp_path / "app" / "a.py", BAD)
    write(tmp_path / "tests" / "t.py", BAD)
    write(tmp_path / "scripts" / "s.py", BAD)
    out = run(["-q", "."], tmp_path).stdout.splitlines()
    assert out == ["app/a.py:1:5: FR102 function 'f' has no return type annotation; add '-> ...'"]
    # found by walking up from the checked path
    assert run(["-q", "app"], tmp_path / "app" / "..").stdout.splitlines() == out
    assert len(run([*HINTS, "-q", "--isolated", "."], tmp_path).stdout.splitlines()) == 2  # tests/ and scripts/ files: application rules do not read them


def test_application_rules_skip_migrations_unless_the_role_selects_them(tmp_path: Path) -> None:
    write(tmp_path / "alembic" / "versions" / "001.py", "from sqlalchemy import text\ndef upgrade(op, v):\n    op.get_bind().execute(text(f\"SELECT * FROM t WHERE x = '{v}'\"))\n")
    assert run(["-q", "."], tmp_path).stdout == ""
    write(tmp_path / "pyproject.toml", '[tool.fastapi-review]\nextend-select = ["FR1", "FR401"]\n[tool.fastapi-review.roles.migrations]\nselect = ["FR1", "FR401"]\n')
    codes = {l.split()[1] for l in run(["-q", "."], tmp_path).stdout.splitlines()}
    assert codes == {"FR101", "FR102", "FR401"}


def test_alembic_layout_under_any_name_is_a_migration_directory(tmp_path: Path) -> None:
    model = "from sqlalchemy.orm import DeclarativeBase, relationship\nclass B(DeclarativeBase): pass\nclass M(B):\n    __tablename__ = 'm'\n    r = relationship('X')\n"
    write(tmp_path / "db" / "revisions" / "env.py", "")
    write(tmp_path / "db" / "revisions" / "versions" / "001.py", model)
    write(tmp_path / "db" / "versions" / "002.py", model)  # no env.py beside: not Alembic
    out = run(["-q", "--select", "FR501", "."], tmp_path).stdout.splitlines()
    assert [l.split(":")[0] for l in out] == ["db/versions/002.py"]


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[tool.fastapi-review]\nselct = ['FR1']\n", "unknown key 'selct'; did you mean 'select'?"),
        ("[tool.fastapi-review]\nselect = 'FR1'\n", "select must be a list of strings"),
        ("[tool.fastapi-review]\nselect = ['FR99']\n", "unknown rule code or prefix 'FR99'"),
        ("[tool.fastapi-review.rules.FR102]\nallow-init = false\n", "unknown option 'allow-init' for FR102 (known options: allow-init-without-return)"),
        ("[tool.fastapi-review.rules.FR102]\nallow-init-without-return = 1\n", "must be true or false"),
        ("[tool.fastapi-review.rules.FR501]\nallowed-lazy = ['selectn']\n", "unknown value(s) 'selectn'"),
        ("[tool.fastapi-review.rules.FR777]\nx = 1\n", "[tool.fastapi-review.rules.FR777]: unknown rule"),
        ("[tool.fastapi-review\n", "invalid TOML"),
        ("[tool.fastapi-review.roles.test]\nselect = ['FR1']\n", "unknown role 'test' (one of tests, migrations, generated, scripts); did you mean 'tests'?"),
        ("[tool.fastapi-review.roles.tests]\nmarkers = false\n", "roles.tests: unknown key 'markers'"),
        ("[tool.fastapi-review.roles.generated]\nmarkers = 'no'\n", "roles.generated.markers must be true or false"),
        ("[tool.fastapi-review.roles.tests]\nselect = ['FR99']\n", "roles.tests.select: unknown rule code or prefix 'FR99'"),
        ("[tool.fastapi-review.roles.tests]\nglobs = 'tests/**'\n", "roles.tests.globs must be a list of strings"),
    ],
)
def test_bad_config_exits_2_naming_file_and_key(tmp_path: Path, toml: str, message: str) -> None:
    write(tmp_path / "pyproject.toml", toml)
    write(tmp_path / "a.py", BAD)
    result = run(["a.py"], tmp_path)
    assert result.exit_code == 2
    assert str(tmp_path / "pyproject.toml") in result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_explicit_config_file(tmp_path: Path) -> None:
    write(tmp_path / "cfg" / "pyproject.toml", '[tool.fastapi-review]\nselect = ["FR101"]\n')
    write(tmp_path / "a.py", BAD)
    out = run(["-q", "--config", "cfg/pyproject.toml", "a.py"], tmp_path).stdout.splitlines()
    assert [l.split()[1] for l in out] == ["FR101"]
    assert run(["--config", "missing.toml", "a.py"], tmp_path).exit_code == 2


def test_rules_command_json() -> None:
    result = CliRunner().invoke(main, ["rules", "--format", "json"])
    rows = {row["code"]: row for row in json.loads(result.output)}
    assert {"code": "FR401", "name": "sql-string-formatting", "default": "off", "severity": "error"}.items() <= rows["FR401"].items()
    assert rows["FR404"]["default"] == "on"


def test_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and "fastapi-review" in result.output


def test_role_globs_and_markers_are_configurable(tmp_path: Path) -> None:
    write(tmp_path / "qa" / "checks.py", BAD)
    write(tmp_path / "tests" / "t.py", BAD)
    write(tmp_path / "client.py", "# auto-generated by a tool\n" + BAD)
    assert run([*HINTS, "-q", "."], tmp_path).stdout.splitlines() == [
        "qa/checks.py:1:5: FR102 function 'f' has no return type annotation; add '-> ...'",
        "qa/checks.py:1:7: FR101 parameter 'x' of 'f' has no type annotation; annotate every parameter",
    ]
    write(
        tmp_path / "pyproject.toml",
        '[tool.fastapi-review]\nextend-select = ["FR101", "FR102"]\n'
        '[tool.fastapi-review.roles.tests]\nextend-globs = ["qa/**"]\nselect = ["FR101"]\n'
        "[tool.fastapi-review.roles.generated]\nmarkers = false\n",
    )
    out = run(["-q", "."], tmp_path).stdout.splitlines()
    assert out == [
        "client.py:2:5: FR102 function 'f' has no return type annotation; add '-> ...'",
        "client.py:2:7: FR101 parameter 'x' of 'f' has no type annotation; annotate every parameter",
        "qa/checks.py:1:7: FR101 parameter 'x' of 'f' has no type annotation; annotate every parameter",
        "tests/t.py:1:7: FR101 parameter 'x' of 'f' has no type annotation; annotate every parameter",
    ]


def test_mixed_dialect_project_gets_variant_advice_and_no_jsonb_fix(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(Path(__file__).parent / "fixtures" / "FR507_mixed_dialects", tmp_path / "p")
    (tmp_path / "p" / ".git").mkdir()
    out = run(["-q", "--select", "FR507", "."], tmp_path / "p").stdout.splitlines()
    assert out == [
        "app/models.py:13:5: FR507 column 'payload' uses JSON: the project also runs on sqlite: use "
        'JSON().with_variant(JSONB(), "postgresql") to store JSONB on PostgreSQL (indexable, binary) and keep JSON elsewhere'
    ]
    assert run(["--diff", "--unsafe-fixes", "--select", "FR507", "."], tmp_path / "p").stdout == ""
    # told the models target PostgreSQL only, the rule gives the plain advice again
    (tmp_path / "p" / "pyproject.toml").write_text('[tool.fastapi-review.rules.FR507]\ndialect = "postgresql"\n')
    assert "use sqlalchemy.dialects.postgresql.JSONB" in run(["-q", "--select", "FR507", "."], tmp_path / "p").stdout


def test_mixed_dialect_project_that_stores_no_jsonb_is_not_told_to(tmp_path: Path) -> None:
    """PostgreSQL and SQLite, generic JSON throughout: portable models are the project's choice."""
    import shutil

    shutil.copytree(Path(__file__).parent / "fixtures" / "FR507_mixed_dialects", tmp_path / "p")
    project = tmp_path / "p"
    (project / ".git").mkdir()
    models = project / "app" / "models.py"
    text = models.read_text()
    models.write_text(text.replace("from sqlalchemy.dialects.postgresql import JSONB\n", "").replace(
        'JSON().with_variant(JSONB(), "postgresql")', "JSON"))
    assert run(["-q", "--select", "FR507", "."], project).stdout == ""
    # one module that stores JSONB on PostgreSQL makes the plain JSON columns outliers again
    (project / "app" / "documents.py").write_text("from sqlalchemy.dialects.postgresql import JSONB\n")
    assert [line.split(": ", 1)[0] for line in run(["-q", "--select", "FR507", "."], project).stdout.splitlines()] == [
        "app/models.py:12:5", "app/models.py:13:5",
    ]


def test_explain_shows_role_versions_dialects_conventions_and_rules(tmp_path: Path) -> None:
    import json
    import shutil

    shutil.copytree(Path(__file__).parent / "fixtures" / "FR507_mixed_dialects", tmp_path / "p")
    project = tmp_path / "p"
    (project / ".git").mkdir()
    (project / "requirements.txt").write_text("pydantic>=2.5\nasyncpg\n")
    (project / "pyproject.toml").write_text('[tool.fastapi-review]\nextend-select = ["FR1", "FR2", "FR5"]\n')
    out = run(["explain", "app/models.py"], project).stdout.splitlines()
    assert out[0] == "file: app/models.py"
    assert "role: app (models module)" in out
    assert f"pydantic: 2 (declared in {project.resolve()})" in out
    assert "sqlalchemy: not declared" in out
    assert "database drivers declared: postgresql" in out
    assert "database URLs in the project: postgresql, sqlite" in out
    assert any(line.startswith("  FR502 timestamps on table models: 0 models follow, 1 deviate -> reported (fewer than 4") for line in out)
    assert out[-1].startswith("rules that run on this file (30): FR001 FR002 FR003 FR101")
    conftest = json.loads(run(["explain", "--format", "json", "tests/conftest.py"], project).stdout)
    assert conftest["role"] == "tests" and conftest["rules"] == ["FR001", "FR002", "FR003"]
    (project / "pyproject.toml").write_text('[tool.fastapi-review]\nextend-select = ["FR1", "FR2", "FR5"]\nlearn-conventions = false\nignore = ["FR2"]\n')
    info = json.loads(run(["explain", "--format", "json", "app/models.py"], project).stdout)
    assert info["configuration"] == str(project.resolve() / "pyproject.toml")
    assert info["learn_conventions"] is False and "FR201" not in info["rules"]
    assert {c["verdict"] for c in info["conventions"]} == {"reported (learn-conventions is off)"}
    assert run(["explain", "missing.py"], project).exit_code == 2


def test_a_small_project_that_never_uses_status_constants_is_not_told(tmp_path: Path) -> None:
    routes = "".join(
        f"@router.get('/i{i}')\nasync def item_{i}() -> dict:\n    raise HTTPException(404, detail='x')\n\n\n" for i in range(5)
    )
    write(tmp_path / "api.py", "from fastapi import APIRouter, HTTPException\n\nrouter = APIRouter()\n\n\n" + routes)
    assert run(["-q", "--select", "FR302", "."], tmp_path).stdout == ""
    write(tmp_path / "api.py", "from fastapi import APIRouter, HTTPException\n\nrouter = APIRouter()\n\n\n" + routes[: routes.index("@router.get('/i4')")])
    assert len(run(["-q", "--select", "FR302", "."], tmp_path).stdout.splitlines()) == 4


def test_a_small_project_that_only_uses_the_legacy_query_api_is_still_told(tmp_path: Path) -> None:
    """FR407 is an upgrade path, not a style: never using select() is no decision (FR302 differs)."""
    body = "".join(f"def get_{i}(db: Session, i: int) -> object:\n    return db.query(User).get(i)\n\n\n" for i in range(2))
    for name in ("users", "posts", "comments"):  # six places, two per module (as a small blog has them)
        write(tmp_path / "controllers" / f"{name}.py", "from sqlalchemy.orm import Session\n\nfrom models import User\n\n\n" + body)
    write(tmp_path / "requirements.txt", "sqlalchemy>=2.0\n")
    assert len(run(["-q", "--select", "FR407", "."], tmp_path).stdout.splitlines()) == 6
