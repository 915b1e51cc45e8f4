"""The shared vocabulary: imports, ORM models, schemas, routes, sessions (RULES.md)."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from fastapi_review.dispatch import Dispatcher
from fastapi_review.facts import FileFacts
from fastapi_review.project import ProjectIndex
from fastapi_review.semantics import models, schemas
from fastapi_review.semantics.file_facts import FileFactsWriter
from fastapi_review.semantics.names import resolve_relative
from fastapi_review.semantics.scope import Scope
from fastapi_review.semantics.sessions import DEFAULT_SESSION_NAMES, is_session_expr


def facts_of(module: str, source: str, is_package: bool = False) -> tuple[FileFacts, Scope, list]:
    """Walk `source` as module `module`; return its facts, scope, and probe results."""
    facts = FileFacts(path=module.replace(".", "/") + ".py", module=module, is_package=is_package)
    scope = Scope(facts)
    probes: list = []

    class Probe:
        def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
            probes.append(("route", node.name.value, bool(scope.functions[-1].routes)))

        def visit_Call(self, node: cst.Call) -> None:
            if isinstance(node.func, cst.Attribute) and node.func.attr.value == "probe":
                probes.append(("session", cst.Module([]).code_for_node(node.func.value), is_session_expr(node.func.value, scope, DEFAULT_SESSION_NAMES)))

    writer = FileFactsWriter(scope, False, DEFAULT_SESSION_NAMES, lambda node, on_line: None)
    Dispatcher([scope, writer, Probe()]).walk(cst.parse_module(textwrap.dedent(source)))
    return facts, scope, probes


def test_import_aliases() -> None:
    _, scope, _ = facts_of("app.models.user", """
        import sqlalchemy as sa
        import sqlalchemy.orm
        from sqlalchemy.orm import relationship as rel
        from ..db import base
        from . import sibling
    """)
    resolve = scope.imports.resolve_dotted
    assert resolve("sa.orm.relationship") == "sqlalchemy.orm.relationship"
    assert resolve("sqlalchemy.orm.Mapped") == "sqlalchemy.orm.Mapped"
    assert resolve("rel") == "sqlalchemy.orm.relationship"
    assert resolve("base.Base") == "app.db.base.Base"
    assert resolve("sibling") == "app.models.sibling"
    assert resolve("unknown") is None


@pytest.mark.parametrize(
    ("module", "is_package", "level", "target", "expected"),
    [
        ("app.models.user", False, 1, "base", "app.models.base"),
        ("app.models", True, 1, "user", "app.models.user"),
        ("app.models.user", False, 2, "db", "app.db"),
        ("app.models.user", False, 1, "", "app.models"),
    ],
)
def test_relative_imports(module: str, is_package: bool, level: int, target: str, expected: str) -> None:
    assert resolve_relative(module, is_package, level, target) == expected


def _index(files: dict[str, str]) -> ProjectIndex:
    return ProjectIndex(
        facts_of(name.removesuffix(".__init__"), src, name.endswith("__init__"))[0] for name, src in files.items()
    )


def test_orm_models_across_files() -> None:
    index = _index({
        "app.db.base": """
            from sqlalchemy.orm import DeclarativeBase, as_declarative, declarative_base, registry
            class Base(DeclarativeBase): pass
            Legacy = declarative_base()
            mapper_registry = registry()
            @as_declarative()
            class Decl: pass
            class TimestampMixin: pass
        """,
        "app.models.__init__": "from ..db.base import Base as Base\nfrom .user import User\n",
        "app.models.user": """
            from app.models import Base
            from app.db.base import Legacy, TimestampMixin, Decl, mapper_registry
            from sqlmodel import SQLModel
            class User(TimestampMixin, Base):
                __tablename__ = "users"
            class Admin(User): pass
            class AbstractThing(Base):
                __abstract__ = True
            class Concrete(AbstractThing): pass
            class Old(Legacy): pass
            class ViaDecl(Decl): pass
            @mapper_registry.mapped
            class Imperative: pass
            class Hero(SQLModel, table=True): pass
            class HeroRead(SQLModel): pass
            class Plain: pass
            class WithTable:
                __table__ = some_table
            class QueryBuilderTable:  # another library's table class: no ORM provenance
                __table__ = "users"
            class NamedOnly:
                __tablename__ = "users"
            from pydantic import BaseModel
            from some.orm.extension import Model
            class NamedPydantic(BaseModel):
                __tablename__ = "users"
            class ExtensionModel(Model):  # a base outside the project may be declarative
                __tablename__ = "things"
        """,
    })
    is_model = lambda name: models.is_orm_model(index, f"app.models.user.{name}")  # noqa: E731
    for name in ("User", "Admin", "Concrete", "Old", "ViaDecl", "Imperative", "Hero", "WithTable", "ExtensionModel"):
        assert is_model(name), name
    for name in ("AbstractThing", "HeroRead", "Plain", "Missing", "QueryBuilderTable", "NamedOnly", "NamedPydantic"):
        assert not is_model(name), name
    assert not models.is_orm_model(index, "app.db.base.Base")
    assert not models.is_orm_model(index, "app.db.base.TimestampMixin")
    # re-export through the package __init__
    assert index.resolve("app.models.Base").qualname == "app.db.base.Base"
    # a module found by the end of its dotted name (namespace packages, src layouts)
    assert index.resolve("db.base.Base").qualname == "app.db.base.Base"


def test_pydantic_schemas_across_files() -> None:
    index = _index({
        "app.schemas.base": "from pydantic import BaseModel\nclass BaseSchema(BaseModel): pass\n",
        "app.schemas.user": """
            from pydantic import RootModel
            from pydantic_settings import BaseSettings
            from sqlmodel import SQLModel
            from .base import BaseSchema
            class UserRead(BaseSchema): pass
            class Ids(RootModel[list[int]]): pass
            class Settings(BaseSettings): pass
            class HeroBase(SQLModel): pass
            class Hero(HeroBase, table=True): pass
            class NotASchema: pass
        """,
    })
    is_schema = lambda name: schemas.is_pydantic_schema(index, f"app.schemas.user.{name}")  # noqa: E731
    assert is_schema("UserRead") and is_schema("HeroBase") and is_schema("Ids")
    assert not is_schema("Settings") and not is_schema("Hero") and not is_schema("NotASchema")


def test_route_handlers() -> None:
    facts, _, probes = facts_of("app.api", """
        from fastapi import APIRouter, FastAPI
        app = FastAPI()
        router = APIRouter(prefix="/users")
        PATH = "/x"
        @router.get("/me")
        async def me(): ...
        @app.post(path="/items")
        def create(): ...
        @router.api_route(PATH, methods=["GET"])
        def dynamic(): ...
        @other_router.websocket("/ws")
        async def ws(): ...
        @cache.get(key)
        def cached(): ...
        @property
        def prop(): ...
    """)
    assert facts.routers == {"app": "app", "router": "router"}
    assert {name: v for kind, name, v in probes if kind == "route"} == {"me": True, "create": True, "dynamic": True, "ws": True, "cached": False, "prop": False}


def test_session_expressions() -> None:
    _, _, probes = facts_of("app.service", """
        from typing import Annotated
        from fastapi import Depends
        from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
        from sqlmodel import Session as SQLModelSession
        factory = async_sessionmaker()

        async def a(s: AsyncSession, x: Annotated[AsyncSession, Depends(get)], db, other, y: "AsyncSession | None"):
            s.probe(); x.probe(); db.probe(); other.probe(); y.probe()

        async def b():
            async with factory() as s1:
                s1.probe()
            async with httpx.AsyncClient() as client:
                client.probe()

        def c(m: SQLModelSession):
            m.probe()

        class Repo:
            def d(self):
                self.session.probe(); self.client.probe()
    """)
    assert [(name, v) for kind, name, v in probes if kind == "session"] == [
        ("s", True), ("x", True), ("db", True), ("other", False), ("y", True),
        ("s1", True), ("client", False), ("m", True),
        ("self.session", True), ("self.client", False),
    ]


@pytest.mark.parametrize(
    ("spec", "span", "major"),
    [
        (">=1.10,<2", (1, 1), 1),
        ("<2.0.0", (None, 1), 1),
        ("<2.5", (None, 2), None),
        (">=2.0", (2, None), 2),
        (">=1.8", (1, None), None),
        ("^1.8", (1, 1), 1),
        ("~=2.4", (2, 2), 2),
        ("==1.10.13", (1, 1), 1),
        ("==2.*", (2, 2), 2),
        ("", (None, None), None),
        ("*", (None, None), None),
        (">=1.10,!=2.0.0,<3", (1, 2), None),
    ],
)
def test_major_range(spec: str, span: tuple, major: object) -> None:
    from fastapi_review.semantics.versions import decided, major_range

    assert major_range(spec) == span
    assert decided(span) == major


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"pyproject.toml": '[project]\ndependencies = ["pydantic[email] >=2.4", "SQLAlchemy[asyncio]>=2.0.20"]\n'}, {"pydantic": 2, "sqlalchemy": 2}),
        ({"pyproject.toml": '[project.optional-dependencies]\nserver = ["pydantic<2"]\n'}, {"pydantic": 1}),
        ({"pyproject.toml": '[dependency-groups]\ndev = ["sqlalchemy~=1.4.0"]\n'}, {"sqlalchemy": 1}),
        ({"pyproject.toml": '[tool.poetry.dependencies]\npydantic = {version = "^1.10", extras = ["dotenv"]}\nSQLAlchemy = "^2.0"\n'}, {"pydantic": 1, "sqlalchemy": 2}),
        ({"pyproject.toml": '[tool.poetry.group.dev.dependencies]\npydantic = "^2.1"\n'}, {"pydantic": 2}),
        ({"requirements.txt": "-r base.txt\npydantic==1.10.2  # pinned\n"}, {"pydantic": 1}),
        ({"requirements/base.txt": "sqlalchemy>=1.3,<1.4\n"}, {"sqlalchemy": 1}),
        ({"setup.cfg": "[options]\ninstall_requires =\n    pydantic>=2\n    click\n"}, {"pydantic": 2}),
        ({"setup.py": "setup(install_requires=['pydantic<2.0', 'fastapi'])\n"}, {"pydantic": 1}),
        ({"requirements.txt": "pydantic>=1.8\n", "poetry.lock": '[[package]]\nname = "pydantic"\nversion = "2.5.3"\n'}, {"pydantic": 2}),
        ({"pdm.lock": '[[package]]\nname = "sqlalchemy"\nversion = "1.4.52"\n'}, {"sqlalchemy": 1}),
        ({"Pipfile.lock": '{"default": {"pydantic": {"version": "==1.9.0"}}}'}, {"pydantic": 1}),
        ({"requirements.txt": "fastapi==0.68.0\n"}, {"pydantic": 1}),
        ({"requirements.txt": "fastapi>=0.100\n"}, {}),
        ({"requirements.txt": "pydantic>=1.8\n"}, {}),
        ({"pyproject.toml": "not toml ["}, {}),
    ],
)
def test_declared_majors(tmp_path: Path, files: dict, expected: dict) -> None:
    from fastapi_review.semantics.versions import read_declarations

    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert read_declarations(tmp_path).majors == expected


def test_a_convention_never_once_followed_is_decided_from_five_places() -> None:
    from fastapi_review.semantics.conventions import MIN_SITES, follows

    assert follows(0, 4, MIN_SITES)  # too few places: no convention of the project's own
    assert not follows(0, 5, MIN_SITES)  # never once followed in five places: decided
    assert follows(1, 5, MIN_SITES)  # followed somewhere, too few places to say more
    assert not follows(4, 9, MIN_SITES) and follows(9, 9, MIN_SITES)
