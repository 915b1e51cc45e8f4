"""Cross-file questions: every Requirement kind a rule can emit is declared once, registered by
kind, answerable by the index, cheap to pickle; and the fixtures exercise every kind."""

from __future__ import annotations

import dataclasses
import importlib
import pickle
import pkgutil
from pathlib import Path

import fastapi_review
from fastapi_review.checker import per_file_phase
from fastapi_review.config import Config
from fastapi_review.discovery import discover
from fastapi_review.project import REQUIREMENT_KINDS, ProjectIndex, Requirement
from fastapi_review.selection import RuleSet

FIXTURES = Path(__file__).parent / "fixtures"


def _all_subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_all_subclasses(sub)}
    return found


def _import_everything() -> None:
    for module in pkgutil.walk_packages(fastapi_review.__path__, "fastapi_review."):
        if module.name not in ("fastapi_review.__main__", "fastapi_review.lsp"):
            importlib.import_module(module.name)


def test_every_requirement_class_is_registered_once_and_answers() -> None:
    _import_everything()
    classes = _all_subclasses(Requirement)
    assert classes == set(REQUIREMENT_KINDS.values())
    for kind, cls in REQUIREMENT_KINDS.items():
        assert cls.kind == kind
        assert cls.holds is not Requirement.holds, f"{cls.__name__} does not answer holds()"
        assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen, f"{cls.__name__} is not a frozen dataclass"  # type: ignore[attr-defined]
        assert cls.__module__.startswith("fastapi_review.semantics."), f"{cls.__name__} is declared outside semantics/"


def test_requirements_pickle_small_and_compare_by_kind() -> None:
    _import_everything()
    for cls in REQUIREMENT_KINDS.values():
        values = [
            ("x",) if f.type in ("str", str) else (2,) if f.type in ("int", int) else (("a", "b"),)
            for f in dataclasses.fields(cls)
        ]
        instance = cls(*(v[0] for v in values))
        restored = pickle.loads(pickle.dumps(instance))
        assert restored == instance and hash(restored) == hash(instance)
        assert len(pickle.dumps(instance)) < 200
    from fastapi_review.semantics.models import OrmModel, TableModel

    assert OrmModel("a.B") != TableModel("a.B")  # same field, another question


def test_fixtures_emit_only_registered_kinds_and_every_kind() -> None:
    emitted: set[type] = set()
    facts = []
    for fixture in sorted(p for p in FIXTURES.iterdir() if p.name.startswith("FR") and not p.name.endswith(".fixed.py")):
        root = (fixture if fixture.is_dir() else fixture.parent).resolve()
        config = Config(root=root, select=("ALL",))
        results = per_file_phase(discover([str(fixture)], config), RuleSet.from_config(config))
        for result in results:
            facts.append(result.facts)
            for _, needed, args in result.deferred:
                emitted.update(type(n) for n in needed)
                emitted.update(type(v) for v in (args or {}).values() if isinstance(v, Requirement))
    assert emitted <= set(REQUIREMENT_KINDS.values())
    assert {cls.kind for cls in emitted} == set(REQUIREMENT_KINDS)
    index = ProjectIndex(f for f in facts if f is not None)
    for cls in emitted:  # every kind answers on a real index without raising
        fields = dataclasses.fields(cls)
        instance = cls(*("fixture.Missing" if f.type in ("str", str) else 1 if f.type in ("int", int) else ("x",) for f in fields))
        assert isinstance(index.satisfies(instance), bool)
