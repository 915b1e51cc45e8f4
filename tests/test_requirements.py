"""Cross-file questions: every Requirement kind a rule can emit is declared once, registered by
kind, answerable by the index, cheap to pickle; and the fixtures exercise every kind."""

from __future__ import annotations

import importlib
import pickle
import pkgutil
from pathlib import Path

import pytest

import fastapi_review
from annotations import parse_fixture

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
        assert cls.fields == tuple(cls.__annotations__), f"{cls.__name__}: fields are its annotations"
        assert cls.__module__.startswith("fastapi_review.semantics."), f"{cls.__name__} is declared outside semantics/"


def test_requirements_pickle_small_and_compare_by_kind() -> None:
    _import_everything()
    for cls in REQUIREMENT_KINDS.values():
        instance = cls(*(_sample(cls.__annotations__[name]) for name in cls.fields))
        restored = pickle.loads(pickle.dumps(instance))
        assert restored == instance and hash(restored) == hash(instance)
        assert [getattr(restored, name) for name in cls.fields] == [getattr(instance, name) for name in cls.fields]
        assert len(pickle.dumps(instance)) < 200
        with pytest.raises(AttributeError):
            instance.kind = "other"  # type: ignore[misc]
    from fastapi_review.semantics.models import MissingColumns, OrmModel, TableModel

    assert OrmModel("a.B") != TableModel("a.B")  # same field, another question
    assert {OrmModel("a.B"), OrmModel("a.B")} == {OrmModel("a.B")}
    assert MissingColumns("a.B", ("created_at",), True).columns == ("created_at",)
    with pytest.raises(TypeError):
        OrmModel()  # type: ignore[call-arg]


def _sample(annotation: str) -> object:
    return {"str": "x", "int": 2}.get(annotation, ("a", "b"))


def test_fixtures_emit_only_registered_kinds_and_every_kind() -> None:
    emitted: set[type] = set()
    facts = []
    for fixture in sorted(p for p in FIXTURES.iterdir() if p.name.startswith("FR") and not p.name.endswith(".fixed.py")):
        root = (fixture if fixture.is_dir() else fixture.parent).resolve()
        config = Config(root=root, select=("ALL",), rule_options=parse_fixture(fixture).config)  # the fixture's options
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
        samples = {"str": "fixture.Missing", "int": 1}
        instance = cls(*(samples.get(cls.__annotations__[name], ("x",)) for name in cls.fields))
        assert isinstance(index.satisfies(instance), bool)
