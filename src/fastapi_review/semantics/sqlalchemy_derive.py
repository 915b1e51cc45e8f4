"""Derive SQLAlchemy facts from the installed SQLAlchemy (slow: imports sqlalchemy).

Never imported on a normal run.  `python -m fastapi_review.semantics.sqlalchemy_derive`
regenerates `sqlalchemy_facts.py`; a test fails when that table drifts from the installed
SQLAlchemy.
"""

from __future__ import annotations

import importlib
import inspect
import pprint
from pathlib import Path
from typing import Any

TYPE_MODULES = (
    "sqlalchemy",
    "sqlalchemy.types",
    "sqlalchemy.dialects.postgresql",
    "sqlalchemy.dialects.mysql",
    "sqlalchemy.dialects.sqlite",
)


def derive() -> dict[str, Any]:
    """Collect the facts the rules need from SQLAlchemy's own registries and classes."""
    import sqlalchemy.orm.strategy_options as strategy_options
    import sqlalchemy.types as sa_types
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
    from sqlalchemy.orm import RelationshipProperty
    from sqlalchemy.orm.interfaces import StrategizedProperty

    lazy = sorted(
        value
        for key in StrategizedProperty._all_strategies[RelationshipProperty]
        for name, value in key
        if name == "lazy" and isinstance(value, str)
    )

    def coroutines(cls: type) -> list[str]:
        return sorted(
            n for n in dir(cls) if not n.startswith("_") and inspect.iscoroutinefunction(getattr(cls, n))
        )

    loader_options = sorted(
        n
        for n, obj in vars(strategy_options).items()
        if not n.startswith("_")
        and inspect.isfunction(obj)
        and obj.__module__ == strategy_options.__name__
        and n != "loader_unbound_fn"
    )

    generic = {
        n: obj
        for n, obj in vars(sa_types).items()
        if inspect.isclass(obj) and issubclass(obj, sa_types.TypeEngine) and not n.startswith("_")
    }
    column_types: dict[str, tuple[str, ...]] = {}
    for module_name in TYPE_MODULES:
        module = importlib.import_module(module_name)
        for name in sorted(getattr(module, "__all__", dir(module))):
            obj = getattr(module, name, None)
            if inspect.isclass(obj) and issubclass(obj, sa_types.TypeEngine) and not name.startswith("_"):
                ancestors = sorted(g for g, gcls in generic.items() if issubclass(obj, gcls))
                column_types[f"{module_name}.{name}"] = tuple(ancestors)

    return {
        "LAZY_STRATEGIES": tuple(lazy),
        "ASYNC_SESSION_COROUTINES": tuple(coroutines(AsyncSession)),
        "ASYNC_CONNECTION_COROUTINES": tuple(coroutines(AsyncConnection)),
        "LOADER_OPTIONS": tuple(loader_options),
        "COLUMN_TYPES": column_types,
    }


def render(facts: dict[str, Any]) -> str:
    """The source of the generated `sqlalchemy_facts` module."""
    import sqlalchemy

    lines = [
        f'"""SQLAlchemy facts, generated from SQLAlchemy {sqlalchemy.__version__} — do not edit.',
        "",
        "Regenerate with `python -m fastapi_review.semantics.sqlalchemy_derive`; a test",
        "fails when this table drifts from the installed SQLAlchemy.",
        '"""',
        "",
        f"SQLALCHEMY_VERSION = {sqlalchemy.__version__!r}",
    ]
    for key, value in facts.items():
        lines.append("")
        lines.append(f"{key} = " + pprint.pformat(value, width=100, sort_dicts=True))
    return "\n".join(lines) + "\n"


def main() -> None:
    """Rewrite sqlalchemy_facts.py beside this module."""
    target = Path(__file__).with_name("sqlalchemy_facts.py")
    target.write_text(render(derive()), encoding="utf-8")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
