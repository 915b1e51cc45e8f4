"""Rule docs: one per rule, ruff's structure, examples that fire and fixes that don't; README table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from fastapi_review.checker import check_text
from fastapi_review.cli import main
from fastapi_review.config import Config
from fastapi_review.docs import rule_doc, rule_table
from fastapi_review.rules import ALL_RULES

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = [
    "## What it does", "## Why is this bad?", "## Evidence", "## Example", "## Use instead",
    "## Options", "## Fix safety", "## Known problems", "## References",
]
_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)
# Every doc opens with its title, a blank line and this one line, in exactly this format:
#   Default: **on|off** · Severity: **error|warning** · Fix: none|**safe**|**unsafe**
# read from the rule class (`default_enabled`, `severity`, `fix_safety`); `Fix: none` when the rule
# offers no fix. Conditions and details belong to the sections (`## Options`, `## Fix safety`).
_HEADER = re.compile(
    r"# (?P<code>\S+) (?P<name>\S+)\n\n"
    r"Default: \*\*(?P<default>on|off)\*\* · Severity: \*\*(?P<severity>error|warning)\*\* · "
    r"Fix: (?P<fix>none|\*\*safe\*\*|\*\*unsafe\*\*)\n\n"
)


def _block(doc: str, section: str) -> str:
    body = doc.split(section, 1)[1].split("\n## ", 1)[0]
    match = _BLOCK.search(body)
    assert match, f"no python block under {section}"
    return match.group(1)


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_doc_structure(rule: type) -> None:
    doc = rule_doc(rule.code)
    assert doc is not None, f"rules/{rule.code}.md is missing"
    assert _header(doc) == _expected_header(rule), f"rules/{rule.code}.md: its title or header line disagrees with the rule"
    positions = [doc.find(s) for s in SECTIONS]
    assert all(p >= 0 for p in positions), [s for s, p in zip(SECTIONS, positions) if p < 0]
    assert positions == sorted(positions), "sections out of order"


def _header(doc: str) -> dict[str, str]:
    """The title and the `Default: ... · Severity: ... · Fix: ...` line of a doc, parsed."""
    match = _HEADER.match(doc)
    assert match, "the doc does not open with '# CODE name', a blank line and the header line (format above)"
    return {**match.groupdict(), "fix": match["fix"].strip("*")}


def _expected_header(rule: type) -> dict[str, str]:
    return {
        "code": rule.code,
        "name": rule.name,
        "default": "on" if rule.default_enabled else "off",
        "severity": rule.severity,
        "fix": rule.fix_safety or "none",
    }


# Rules about a kind of module check their doc examples as such a module.
_EXAMPLE_FILES = {"FR702": "app/services/example.py"}


_FILE_MARKER = re.compile(r"^# file: (\S+)\n", re.MULTILINE)


def _project_codes(source: str, code: str) -> list[str]:
    """A doc example of several files (each opened by a `# file: path` line, e.g. Alembic
    revisions and the models they import): checked as a project of its own."""
    import os
    import tempfile

    from fastapi_review.checker import check_paths

    parts = _FILE_MARKER.split(source)[1:]
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        for name, text in zip(parts[::2], parts[1::2]):
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text, encoding="utf-8")
        config = Config(root=root, select=(code,), pydantic_version=2)
        cwd = os.getcwd()
        os.chdir(root)
        try:
            return [f.code for f in check_paths(["."], config).findings]
        finally:
            os.chdir(cwd)


_SELECT_MARKER = re.compile(r"^# select: (.+)\n")


def _codes(source: str, code: str) -> list[str]:
    if _FILE_MARKER.search(source):
        return _project_codes(source, code)
    # an example about other rules' comments (FR004) selects them too, as fixtures do
    marker = _SELECT_MARKER.match(source)
    select = tuple(c.strip() for c in marker.group(1).split(",")) if marker else (code,)
    config = Config(root=ROOT, select=select, pydantic_version=2)  # the docs show Pydantic 2 projects
    filename = _EXAMPLE_FILES.get(code, "example.py")
    # a doc example is a project of its own (the whole project: absence claims are answerable)
    return [f.code for f in check_text(source.encode(), filename, config, whole_project=True) if f.code == code]


# FR002 reports fastapi-review's own crashes: no code should trigger it (tested in test_robustness).
@pytest.mark.parametrize("rule", [r for r in ALL_RULES if r.code != "FR002"], ids=lambda r: r.code)
def test_doc_example_fires(rule: type) -> None:
    assert rule.code in _codes(_block(rule_doc(rule.code) or "", "## Example"), rule.code)


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_doc_use_instead_is_clean(rule: type) -> None:
    assert _codes(_block(rule_doc(rule.code) or "", "## Use instead"), rule.code) == []


def test_readme_rule_table_in_sync() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("<!-- rules-table:start -->\n", 1)[1].split("<!-- rules-table:end -->", 1)[0]
    assert table == rule_table(), "regenerate the README table with fastapi_review.docs.rule_table()"


def test_rule_command_prints_doc() -> None:
    result = CliRunner().invoke(main, ["rule", "sql-string-formatting"])
    assert result.exit_code == 0
    assert result.output.startswith("# FR401 sql-string-formatting")


def test_rule_command_unknown_rule() -> None:
    result = CliRunner().invoke(main, ["rule", "FR40"])
    assert result.exit_code == 2
    assert "unknown rule 'FR40'" in result.output


def test_readme_quickstart_is_what_ci_runs() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "<!-- quickstart-tests -->\n```sh\n" + ci + "\n```" in readme


def test_readme_configuration_example_is_valid() -> None:
    """The `[tool.fastapi-review]` example users copy parses, validates and builds a rule set."""
    import sys

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib

    from fastapi_review.config import parse_table
    from fastapi_review.selection import RuleSet

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- configuration -->", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    table = tomllib.loads(block)["tool"]["fastapi-review"]
    config = parse_table(table, ROOT / "pyproject.toml")
    assert config.role_select == {"tests": ("FR101",)} and config.generated_markers is False
    assert config.pydantic_version == 2 and config.learn_conventions is True
    assert "FR304" in RuleSet.from_config(config).enabled
