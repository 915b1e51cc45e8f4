"""The machine formats CI systems read (GitLab Code Quality, JUnit, rdjson, pylint, JSON with
fix edits), each checked by what reads it: a schema or field contract, a JUnit parser, and the
JSON edits applied the way ruff applies its own, which must give what `--fix` writes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from annotations import parse_fixture
from cli_helpers import run
from junitparser import Failure, JUnitXml

DATA = Path(__file__).parent / "data"
FIXTURES = Path(__file__).parent / "fixtures"
CONFIG = '[tool.fastapi-review]\nextend-select = ["FR101", "FR102", "FR302"]\n'
BAD = "def f(x):\n    return x\n"
DOCS = "https://github.com/fastapi-review/fastapi-review/blob/main/rules/"


def _project(tmp_path: Path, files: dict[str, str], config: str = CONFIG) -> Path:
    (tmp_path / "pyproject.toml").write_text(config)
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def _gitlab(tmp_path: Path, *paths: str) -> list[dict[str, Any]]:
    result = run(["--output-format", "gitlab", *paths], tmp_path)
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    jsonschema.validate(report, json.loads((DATA / "gitlab-code-quality-schema.json").read_text()))
    assert len({issue["fingerprint"] for issue in report}) == len(report), "GitLab needs unique fingerprints"
    return report


def test_gitlab_report_meets_the_contract_and_keeps_fingerprints_when_lines_move(tmp_path: Path) -> None:
    # the same mistake twice in one file (same code, same line text): two distinct fingerprints
    _project(tmp_path, {"app/a.py": BAD + "\n\n" + BAD.replace("def f", "def f ")})
    before = _gitlab(tmp_path, "./app")
    assert [(i["check_name"], i["location"]["path"], i["location"]["lines"]["begin"], i["severity"]) for i in before] == [
        ("FR102", "app/a.py", 1, "major"), ("FR101", "app/a.py", 1, "major"),
        ("FR102", "app/a.py", 5, "major"), ("FR101", "app/a.py", 5, "major"),
    ]
    assert before[0]["description"].startswith("FR102 function 'f' has no return type annotation")
    assert before[0]["content"]["body"] == f"[FR102 missing-return-annotation]({DOCS}FR102.md)"
    # code moved down: the same fingerprints, on new lines
    (tmp_path / "app" / "a.py").write_text("import os\n\n\n" + BAD + "\n\n" + BAD.replace("def f", "def f "))
    moved = _gitlab(tmp_path, "app")
    assert [i["location"]["lines"]["begin"] for i in moved] == [4, 4, 8, 8]
    assert [i["fingerprint"] for i in moved] == [i["fingerprint"] for i in before]
    # a changed line is a new issue (and the old one is gone)
    (tmp_path / "app" / "a.py").write_text("def g(x):\n    return x\n")
    changed = _gitlab(tmp_path, "app")
    assert not {i["fingerprint"] for i in changed} & {i["fingerprint"] for i in before}


def test_gitlab_severity_of_errors_is_critical(tmp_path: Path) -> None:
    _project(tmp_path, {"a.py": "x = (\n"})
    assert [(i["check_name"], i["severity"]) for i in _gitlab(tmp_path, "a.py")] == [("FR001", "critical")]


def test_junit_is_read_by_a_junit_parser(tmp_path: Path) -> None:
    _project(tmp_path, {"a.py": BAD, "b.py": BAD.replace("(x)", "(x: int)"), "c.py": "y = 1\n"})
    result = run(["--output-format", "junit", "."], tmp_path)
    assert result.exit_code == 1
    xml = JUnitXml.fromstring(result.stdout.encode())
    suites = {suite.name: suite for suite in xml}
    assert set(suites) == {"a.py", "b.py"}  # one suite per file with findings
    assert (suites["a.py"].tests, suites["a.py"].failures, suites["b.py"].failures) == (2, 2, 1)
    cases = [(case.name, case.classname) for case in suites["a.py"]]
    assert cases == [("fastapi-review.FR102", "a.py"), ("fastapi-review.FR101", "a.py")]
    failure = next(iter(suites["a.py"])).result[0]
    assert isinstance(failure, Failure)
    assert failure.message == "function 'f' has no return type annotation; add '-> ...'"
    assert failure.type == "FR102"
    assert failure.text == "a.py:1:5: FR102 function 'f' has no return type annotation; add '-> ...'"
    clean = run(["--output-format", "junit", "c.py"], tmp_path)
    assert clean.exit_code == 0
    passed = [case for suite in JUnitXml.fromstring(clean.stdout.encode()) for case in suite]
    assert [(case.name, case.is_passed) for case in passed] == [("No findings", True)]


def test_junit_survives_characters_xml_cannot_hold(tmp_path: Path) -> None:
    _project(tmp_path, {"a\x1b.py": BAD})
    out = run(["--output-format", "junit", "."], tmp_path).stdout
    assert [suite.name for suite in JUnitXml.fromstring(out.encode())] == ["a\ufffd.py"]


ROUTE = (
    "from fastapi import APIRouter, HTTPException, status\n\nrouter = APIRouter()\n\n\n"
    "@router.get(\"/é/{item_id}\")\nasync def get_item(item_id: int) -> dict:\n"
    "    if item_id < 0: raise HTTPException(404, detail=\"é\")\n    return {}\n"
)


def test_rdjson_meets_reviewdogs_format_with_byte_columns_and_suggestions(tmp_path: Path) -> None:
    # FR101 after a non-ASCII name: rdjson counts columns in UTF-8 bytes
    _project(tmp_path, {"a.py": "def fé(x):\n    return x\n", "api.py": ROUTE})
    result = run(["--output-format", "rdjson", "--select", "FR101,FR302", "."], tmp_path)
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    jsonschema.validate(report, json.loads((DATA / "rdjson-schema.json").read_text()))
    first, second = report["diagnostics"]
    assert first["location"] == {"path": "a.py", "range": {"start": {"line": 1, "column": 9}, "end": {"line": 1, "column": 10}}}
    assert first["code"] == {"value": "FR101", "url": f"{DOCS}FR101.md"}
    assert first["severity"] == "WARNING" and "suggestions" not in first
    assert second["code"]["value"] == "FR302"
    assert second["location"]["range"]["start"] == {"line": 8, "column": 41}
    assert second["suggestions"] == [
        {"range": {"start": {"line": 8, "column": 41}, "end": {"line": 8, "column": 44}}, "text": "status.HTTP_404_NOT_FOUND"}
    ]


def test_pylint_format(tmp_path: Path) -> None:
    _project(tmp_path, {"a.py": BAD})
    assert run(["--output-format", "pylint", "a.py"], tmp_path).stdout.splitlines() == [
        "a.py:1: [FR102] function 'f' has no return type annotation; add '-> ...'",
        "a.py:1: [FR101] parameter 'x' of 'f' has no type annotation; annotate every parameter",
    ]


def _offset(starts: list[int], position: dict[str, int]) -> int:
    return starts[position["row"] - 1] + position["column"] - 1


def apply_json_fixes(text: str, fixes: list[dict[str, Any]]) -> str:
    """The fixes' edits applied as ruff applies its own JSON fixes: in the order of their first
    edit; an edit identical to one already applied is dropped (two fixes adding the same import);
    a fix whose first new edit starts before the end of the last applied edit waits."""
    starts = [0]
    for line in text.split("\n"):
        starts.append(starts[-1] + len(line) + 1)
    spans = [
        [(_offset(starts, e["location"]), _offset(starts, e["end_location"]), e["content"]) for e in fix["edits"]]
        for fix in fixes
    ]
    out, last, applied = [], 0, set()
    for edits in sorted(spans, key=lambda edits: edits[0][:2]):
        new = [edit for edit in edits if edit not in applied]
        if new and new[0][0] < last:
            continue
        for start, end, content in new:
            out.append(text[last:start])
            out.append(content)
            last = end
        applied.update(new)
    return "".join(out) + text[last:]


@pytest.mark.parametrize("fixed", sorted(FIXTURES.glob("*.fixed.py")), ids=lambda p: p.name)
def test_json_fix_edits_reproduce_what_fix_writes(fixed: Path, tmp_path: Path) -> None:
    source = fixed.with_name(fixed.name.replace(".fixed.py", ".py"))
    codes = parse_fixture(source).select or (source.name[:5],)
    _project(tmp_path, {}, f"[tool.fastapi-review]\nselect = {json.dumps(list(codes))}\nlearn-conventions = false\n")
    target = tmp_path / "app.py"
    shutil.copyfile(source, target)
    text = target.read_bytes().decode("utf-8")
    findings = json.loads(run(["--output-format", "json", "-n", "app.py"], tmp_path).stdout)
    fixes = [f["fix"] for f in findings if f["fix"] is not None]
    assert fixes and all(fix["applicability"] == fix["safety"] for fix in fixes)
    # a fix `--fix` would skip (its line would outgrow line-length even wrapped) has no edits
    applicable = [fix for fix in fixes if fix["edits"]]
    assert applicable
    from_json = apply_json_fixes(text, applicable)
    assert run(["--fix", "--unsafe-fixes", "-n", "-q", "app.py"], tmp_path).exit_code in (0, 1)
    assert from_json == target.read_bytes().decode("utf-8")
    assert from_json != text


def test_json_fix_edits_of_stdin(tmp_path: Path) -> None:
    _project(tmp_path, {}, '[tool.fastapi-review]\nselect = ["FR302"]\n')
    source = "from fastapi import HTTPException\n\n\ndef g() -> None:\n    raise HTTPException(404, detail='gone')\n"
    result = run(["--output-format", "json", "-", "--stdin-filename", "api.py"], tmp_path, stdin=source)
    (finding,) = json.loads(result.stdout)
    assert finding["fix"]["edits"] == [
        {"content": ", status", "location": {"row": 1, "column": 34}, "end_location": {"row": 1, "column": 34}},
        {"content": "status.HTTP_404_NOT_FOUND", "location": {"row": 5, "column": 25}, "end_location": {"row": 5, "column": 28}},
    ]
    assert apply_json_fixes(source, [finding["fix"]]) == run(["--fix", "-", "--stdin-filename", "api.py"], tmp_path, stdin=source).stdout


def test_json_fix_edits_keep_crlf_line_endings_and_non_ascii_columns(tmp_path: Path) -> None:
    _project(tmp_path, {}, '[tool.fastapi-review]\nselect = ["FR302"]\n')
    source = "from fastapi import HTTPException\r\n\r\n\r\ndef g() -> None:\r\n    é = HTTPException(404, detail='é')\r\n    raise é\r\n"
    (tmp_path / "api.py").write_bytes(source.encode("utf-8"))
    (finding,) = json.loads(run(["--output-format", "json", "api.py"], tmp_path).stdout)
    assert finding["fix"]["edits"][1]["location"] == {"row": 5, "column": 23}  # characters, as ruff counts
    from_json = apply_json_fixes(source, [finding["fix"]])
    assert run(["--fix", "-q", "api.py"], tmp_path).exit_code == 0
    assert from_json.encode("utf-8") == (tmp_path / "api.py").read_bytes()
