"""Every fixture: the checker reports exactly what its annotations say (bugbear-style)."""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path

import pytest
from annotations import Annotations, parse_fixture

from fastapi_review.checker import check_paths
from fastapi_review.config import Config
from fastapi_review.rules import ALL_RULES

FIXTURES = Path(__file__).parent / "fixtures"
ALL_FIXTURES = sorted(
    p for p in FIXTURES.iterdir()
    if p.name.startswith("FR") and (p.is_dir() or (p.suffix == ".py" and not p.name.endswith(".fixed.py")))
)


def _rule_codes(fixture: Path, annotations: Annotations) -> tuple[str, ...]:
    return annotations.select or (fixture.name[:5],)


def run_fixture(fixture: Path) -> tuple[Counter, Annotations]:
    """Check a fixture with its own rule(s) selected; (relative path, line, code) → count."""
    annotations = parse_fixture(fixture)
    root = fixture if fixture.is_dir() else fixture.parent
    settings = {"learn_conventions": False, **annotations.settings}
    config = Config(root=root.resolve(), select=_rule_codes(fixture, annotations), rule_options=annotations.config, **settings)
    cwd = os.getcwd()
    os.chdir(root)
    try:
        report = check_paths(["." if fixture.is_dir() else fixture.name], config)
    finally:
        os.chdir(cwd)
    return Counter((Path(f.path).as_posix(), f.line, f.code) for f in report.findings), annotations


# FR002 reports fastapi-review's own crashes: no code may trigger it (tested in test_robustness).
WITHOUT_FIXTURE = {"FR002"}


def test_every_rule_has_a_fixture_named_by_its_code() -> None:
    """`ls tests/fixtures | grep FR604` finds FR604's own fixture, not only a family one."""
    names = [p.name for p in ALL_FIXTURES]
    codes = {rule.code for rule in ALL_RULES}
    missing = sorted(c for c in codes - WITHOUT_FIXTURE if not any(n.startswith(c) for n in names))
    assert not missing, f"no fixture named FRxxx... for {missing}"
    stale = sorted(c for c in WITHOUT_FIXTURE if c not in codes or any(n.startswith(c) for n in names))
    assert not stale, f"drop {stale} from WITHOUT_FIXTURE"


@pytest.mark.parametrize("fixture", ALL_FIXTURES, ids=lambda p: p.name)
def test_fixture(fixture: Path) -> None:
    actual, annotations = run_fixture(fixture)
    expected = annotations.expect + annotations.todo_ok
    codes = _rule_codes(fixture, annotations)
    # a fixture may expect nothing only to show an option switching the rule off
    assert annotations.expect or annotations.config, f"{fixture.name} has no '# expect:' line"
    assert annotations.ok, f"{fixture.name} has no '# ok:' line"
    for _, _, code in [*annotations.expect, *annotations.ok]:
        assert code in codes, f"{fixture.name} annotates {code}, which it does not select"
    # a family fixture is named by every code it selects, in order (`FR305_FR801/`), and by no other
    named = re.findall(r"FR\d{3}", fixture.name)
    assert named == sorted(set(codes)), f"{fixture.name} selects {', '.join(codes)}: name it by exactly those codes"
    for key in annotations.ok:
        assert key not in expected, f"{key} is both expected and ok"
    missing = expected - actual
    unexpected = actual - expected
    assert not missing and not unexpected, f"missing: {sorted(missing)}\nunexpected: {sorted(unexpected)}"


TODO_FIXTURES = [f for f in ALL_FIXTURES if (lambda a: a.todo_expect or a.todo_ok)(parse_fixture(f))]


@pytest.mark.parametrize("fixture", TODO_FIXTURES, ids=lambda p: p.name)
@pytest.mark.xfail(strict=True, reason="known gaps: fixing one must turn its todo- marker into expect/ok")
def test_fixture_todos(fixture: Path) -> None:
    actual, annotations = run_fixture(fixture)
    for key, count in annotations.todo_expect.items():
        assert actual[key] == count, f"todo-expect {key} is not reported yet"
    for key in annotations.todo_ok:
        assert actual[key] == 0, f"todo-ok {key} is still reported"


@pytest.mark.parametrize("code", ["FR402", "FR406"])
def test_follows_helpers_only_when_asked(code: str) -> None:
    """FRxxx_helpers turns `follow-helpers` on in its header; by default the helper calls are
    silent (FR406's fixture keeps one direct commit)."""
    fixture = FIXTURES / f"{code}_helpers"
    config = Config(root=fixture.resolve(), select=(code,), learn_conventions=False)
    cwd = os.getcwd()
    os.chdir(fixture)
    try:
        findings = check_paths(["."], config).findings
    finally:
        os.chdir(cwd)
    direct = {("app/jobs.py", 42)} if code == "FR406" else set()
    assert {(Path(f.path).as_posix(), f.line) for f in findings} == direct
