"""The project phase: a ProjectIndex built from every file's FileFacts, and deferred findings."""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache
from typing import Iterable, Iterator, Optional, Union

from fastapi_review.facts import (
    ClassFacts,
    FileFacts,
    FunctionFacts,
    Requirement,
    RouteFacts,
)

# What a qualified name can resolve to in the project.
DECLARATIVE_NAME = "declarative-base-name"  # a module-level name bound to declarative_base()
Resolved = Union[ClassFacts, str, None]

_MAX_HOPS = 8  # re-export chains longer than this are treated as unresolvable


class ProjectIndex:
    """Cross-file knowledge: modules by qualified name, classes, re-exports, declarative bases."""

    def __init__(self, facts: Iterable[FileFacts]) -> None:
        self.files: list[FileFacts] = list(facts)
        self.modules: dict[str, FileFacts] = {}
        self._satisfied: dict[Requirement, bool] = {}
        self._by_suffix: dict[str, list[FileFacts]] = defaultdict(list)
        for f in self.files:
            # a package (`providers/__init__.py`) shadows a same-named module (`providers.py`)
            if f.module not in self.modules or f.is_package:
                self.modules[f.module] = f
            parts = f.module.split(".")
            for i in range(len(parts)):
                self._by_suffix[".".join(parts[i:])].append(f)
        self._classes: dict[str, dict[str, ClassFacts]] = {
            f.module: {c.name: c for c in f.classes} for f in self.files
        }
        self._handlers: Optional[set[str]] = None
        self.functions: dict[str, FunctionFacts] = {q: fn for f in self.files for q, fn in f.functions.items()}
        self._usage: Optional[dict[str, set[str]]] = None
        self._sites: Optional[dict[tuple[str, str], list[tuple[str, int]]]] = None
        self._closures: dict[str, set[str]] = {}
        self._hidden: Optional[set[str]] = None
        self.resolve = lru_cache(maxsize=None)(self._resolve)  # type: ignore[method-assign]
        self.ancestors = lru_cache(maxsize=None)(self._ancestors)  # type: ignore[method-assign]

    def module(self, name: str) -> Optional[FileFacts]:
        """The file of module `name`: exact, else the unique module whose name ends with it."""
        found = self.modules.get(name)
        if found is not None:
            return found
        candidates = self._by_suffix.get(name, [])
        return candidates[0] if len(candidates) == 1 else None

    def _resolve(self, qualname: str, hops: int = 0) -> Resolved:
        """The class (or declarative-base name) a qualified name denotes, following re-exports."""
        if hops > _MAX_HOPS or "." not in qualname:
            return None
        module_name, _, name = qualname.rpartition(".")
        facts = self.module(module_name)
        if facts is None:
            return None
        cls = self._classes[facts.module].get(name)
        if cls is not None:
            return cls
        if name in facts.declarative_bases:
            return DECLARATIVE_NAME
        target = facts.imports.get(name)
        if target is not None and target != qualname:
            return self._resolve(target, hops + 1)
        return None

    def _described_alias(self, qualname: str) -> bool:
        """An Annotated alias with a description, directly or through the alias it wraps."""
        for _ in range(_MAX_HOPS):
            located = self.locate(qualname)
            if located is None:
                return False
            facts, name = located
            if name in facts.described_aliases:
                return True
            inner = facts.annotated_aliases.get(name)
            if inner is None:
                return False
            qualname = inner
        return False

    def _table_assigned(self, qualname: str) -> bool:
        cls = self.resolve(qualname)
        return isinstance(cls, ClassFacts) and cls.table_assigned

    def locate(self, qualname: str) -> Optional[tuple[FileFacts, str]]:
        """(file, local name) where a module-level name is bound, following re-exports."""
        for _ in range(_MAX_HOPS):
            module_name, _, name = qualname.rpartition(".")
            facts = self.module(module_name) if module_name else None
            if facts is None:
                return None
            target = facts.imports.get(name)
            if target is None or target == qualname:
                return facts, name
            qualname = target
        return None

    def binding_kind(self, qualname: str) -> Optional[str]:
        """"app" / "router" for a name bound to FastAPI() / APIRouter() or a subclass call."""
        located = self.locate(qualname)
        if located is None:
            return None
        facts, name = located
        if name in facts.routers:
            return facts.routers[name]
        callee = facts.call_bindings.get(name)
        if callee is None:
            return None
        from fastapi_review.semantics.routes import APP_CLASSES, ROUTER_CLASSES

        lineage = {callee, *self.ancestors(callee)}
        if lineage & APP_CLASSES:
            return "app"
        if lineage & ROUTER_CLASSES:
            return "router"
        return None

    def is_session_alias(self, qualname: str, classes: tuple[str, ...] = ()) -> bool:
        """A name bound to `Annotated[AsyncSession, ...]` (or another session type) somewhere;
        with `classes`, only aliases of those session classes."""
        located = self.locate(qualname)
        if located is None or located[1] not in located[0].session_aliases:
            return False
        return not classes or located[0].session_aliases[located[1]] in classes

    def session_factory_kind(self, qualname: str) -> Optional[str]:
        """"sync" / "async" for a name bound to sessionmaker() / async_sessionmaker() somewhere."""
        located = self.locate(qualname)
        return located[0].session_factories.get(located[1]) if located is not None else None

    def _canonical(self, qualname: str) -> str:
        located = self.locate(qualname)
        return f"{located[0].module}.{located[1]}" if located is not None else qualname

    def hidden_routers(self) -> set[str]:
        """Canonical names of routers whose routes are not in the OpenAPI document: included with
        include_in_schema=False, created hidden, or included (transitively) into such a router or
        into an app without OpenAPI (`FastAPI(openapi_url=None)`)."""
        if self._hidden is None:
            hidden = {self._canonical(q) for f in self.files for q in f.hidden_includes}
            hidden |= {f"{f.module}.{name}" for f in self.files for name in f.hidden_routers}
            edges = [(self._canonical(parent), self._canonical(child)) for f in self.files for parent, child, _, _ in f.router_includes]
            changed = True
            while changed:
                changed = False
                for parent, child in edges:
                    if parent in hidden and child not in hidden:
                        hidden.add(child)
                        changed = True
            self._hidden = hidden
        return self._hidden

    def has_exception_handler(self, exception: str) -> bool:
        """Whether any module registers a handler for this (qualified) exception type."""
        if self._handlers is None:
            self._handlers = set()
            for f in self.files:
                for handled in f.exception_handlers:
                    target = self.resolve(handled)
                    self._handlers.add(target.qualname if isinstance(target, ClassFacts) else handled)
        target = self.resolve(exception)
        return (target.qualname if isinstance(target, ClassFacts) else exception) in self._handlers

    def _ancestors(self, qualname: str) -> tuple[str, ...]:
        """Qualified names of all (transitive) bases of a class, unresolvable ones included."""
        seen: list[str] = []
        stack = [qualname]
        while stack:
            current = stack.pop()
            resolved = self.resolve(current)
            if not isinstance(resolved, ClassFacts):
                continue
            for base in resolved.bases:
                canonical = base
                target = self.resolve(base)
                if isinstance(target, ClassFacts):
                    canonical = target.qualname
                if canonical not in seen and canonical != qualname:
                    seen.append(canonical)
                    stack.append(canonical)
        return tuple(seen)

    # -- routes ↔ schemas ↔ models ---------------------------------------------------------
    def canonical_class(self, qualname: str) -> Optional[str]:
        """The defining qualified name of a class named through any import path."""
        resolved = self.resolve(qualname)
        return resolved.qualname if isinstance(resolved, ClassFacts) else None

    def _canonical_set(self, names: Iterable[str]) -> set[str]:
        return {c for n in names if (c := self.canonical_class(n)) is not None}

    def routes(self) -> Iterator[RouteFacts]:
        """Every route handler of the project."""
        for f in self.files:
            yield from f.routes

    def returns_orm(self, route: RouteFacts) -> bool:
        """The handler returns query results, or what a function typed to return a model returns."""
        from fastapi_review.semantics import models

        if route.returns_orm:
            return True
        for callee in route.returned_calls:
            function = self.function(callee)
            if function is not None and any(
                models.is_orm_model(self, c) for c in self._canonical_set(function.return_refs)
            ):
                return True
        return False

    def usage(self) -> dict[str, set[str]]:
        """Which schemas are request bodies / responses (direct, nested) / responses of ORM data."""
        if self._usage is None:
            from fastapi_review.semantics import schemas

            routes = list(self.routes())
            self._usage = {
                "body": self._canonical_set(r for route in routes for r in route.body_refs),
                "response": self._canonical_set(r for route in routes for r in route.response_refs),
                "response_closure": schemas.closure(self, {r for route in routes for r in route.response_nested}),
                "body_closure": schemas.closure(self, {r for route in routes for r in route.body_refs}),
                "orm_response": self._canonical_set(
                    r for route in routes if self.returns_orm(route) for r in route.response_refs
                ),
            }
        return self._usage

    def function(self, qualname: str) -> Optional[FunctionFacts]:
        """A function by qualified name; the module part may be a suffix (`app.x` for `src.app.x`)."""
        found = self.functions.get(qualname)
        if found is not None:
            return found
        module_name, _, name = qualname.rpartition(".")
        facts = self.module(module_name) if module_name else None
        return facts.functions.get(f"{facts.module}.{name}") if facts is not None else None

    def _route_closure(self, route: RouteFacts) -> set[str]:
        from fastapi_review.semantics import schemas

        key = route.key or route.handler
        if key not in self._closures:
            self._closures[key] = schemas.closure(self, set(route.response_nested))
        return self._closures[key]

    def _routes_using(self, kind: str, schema: str) -> str:
        """Where a schema is used, for messages: "GET /users/{id} (app.api.users.get_user)"."""

        canonical = self.canonical_class(schema)

        def label(route: RouteFacts) -> str:
            where = f"{route.method.upper()} {route.path}" if route.path is not None else route.method
            return f"{where} in {route.handler.rsplit('.', 2)[-2]}.{route.handler.rsplit('.', 1)[-1]}"

        def responses(route: RouteFacts) -> set[str]:
            return self._canonical_set(route.response_refs)

        routes = list(self.routes())
        if kind == "needs_from_attributes":
            used = [label(r) for r in routes if canonical in responses(r) and self.returns_orm(r)]
        elif kind == "response_schema":
            used = [label(r) for r in routes if canonical in self._route_closure(r)]
        else:
            body = [label(r) for r in routes if canonical in self._canonical_set(r.body_refs)]
            returned = [label(r) for r in routes if canonical in responses(r)]
            return f"body of {', '.join(body[:2])}; response of {', '.join(returned[:2])}"
        return ", ".join(used[:3]) + (f" and {len(used) - 3} more" if len(used) > 3 else "")

    def raised_statuses(self, function: str) -> set[int]:
        """HTTPException statuses a function raises, directly or through project functions it calls."""
        seen: set[str] = set()
        statuses: set[int] = set()
        stack = [function]
        while stack:
            name = stack.pop()
            if name in seen or len(seen) > 200:
                continue
            seen.add(name)
            facts = self.function(name)
            if facts is None:
                continue
            statuses.update(facts.statuses)
            stack.extend(facts.calls)
        return statuses

    def _router_declared(self, router: str, depth: int = 0) -> Optional[set[int]]:
        """Statuses a router's own responses= and its parents' (include_router) declare; None when
        some of them are not literal."""
        located = self.locate(router)
        if located is None or depth > _MAX_HOPS:
            return set()
        facts, name = located
        if name in facts.routers_with_unknown_responses:
            return None
        declared = set(facts.router_responses.get(name, ()))
        canonical = f"{facts.module}.{name}"
        for f in self.files:
            for parent, child, statuses, unknown in f.router_includes:
                if self._canonical(child) != canonical:
                    continue
                if unknown:
                    return None
                above = self._router_declared(parent, depth + 1)
                if above is None:
                    return None
                declared |= set(statuses) | above
        return declared

    def undocumented_statuses(self, handler: str) -> list[int]:
        """Raised statuses that the route, its router and the routers including it do not
        declare in responses= (never 422; nothing when a responses= is not a literal)."""
        route = next((r for r in self.routes() if r.key == handler), None)
        if route is None or route.declared_unknown:
            return []
        router_declared = self._router_declared(route.router)
        if router_declared is None:
            return []
        raised = set(route.statuses)
        for callee in route.calls:
            raised |= self.raised_statuses(callee)
        declared = set(route.declared) | router_declared
        return sorted(s for s in raised if s not in declared and s != 422)

    def is_tested(self, handler: str) -> bool:
        """Some test requests the route's path (parameters match any segment)."""
        from fastapi_review.semantics.routes import path_matches

        route = next((r for r in self.routes() if r.key == handler), None)
        if route is None or route.path is None:
            return True
        requests = [req for f in self.files for req in f.test_requests]
        return any(path_matches(route.path, path) for _, path in requests)

    def query_sites(self, declaring_class: str, column: str) -> list[tuple[str, int]]:
        """(path, line) of queries filtering or sorting on `column` of a model declared by (or
        inheriting it from) `declaring_class`."""
        if self._sites is None:
            self._sites = {}
            for f in self.files:
                for model, name, line in f.query_sites:
                    canonical = self.canonical_class(model)
                    if canonical is not None:
                        self._sites.setdefault((canonical, name), []).append((f.path, line))
        sites: list[tuple[str, int]] = []
        for (model, name), found in self._sites.items():
            if name == column and (model == declaring_class or declaring_class in self.ancestors(model)):
                sites.extend(found)
        return sorted(set(sites))

    def relationship_strategy(self, model: str, attribute: str) -> Optional[str]:
        """The loading strategy of `model.attribute` if it is a relationship (own or inherited)."""
        canonical = self.canonical_class(model)
        if canonical is None:
            return None
        for name in (canonical, *self.ancestors(canonical)):
            cls = self.resolve(name)
            if isinstance(cls, ClassFacts) and attribute in cls.relationships:
                return cls.relationships[attribute]
        return None

    def column_length_for(self, schema: str, field_name: str) -> Optional[int]:
        """The String(n) length of the column a request field maps to: a same-named column of the
        model whose name the schema's starts with (`UserCreate` → `User`), when exactly one does."""
        from fastapi_review.semantics import models

        canonical = self.canonical_class(schema)
        if canonical is None:
            return None
        stem = canonical.rsplit(".", 1)[-1]
        lengths = {
            cls.string_lengths[field_name]
            for cls in self.classes()
            if field_name in cls.string_lengths and stem.startswith(cls.name) and models.is_orm_model(self, cls.qualname)
        }
        return lengths.pop() if len(lengths) == 1 else None

    def detail(self, requirement: Requirement) -> Optional[str]:
        """Text a deferred finding's message gets from the project (statuses, query sites)."""
        kind, arg = requirement
        if kind == "undocumented_status":
            return ", ".join(map(str, self.undocumented_statuses(arg)))
        if kind == "bound_exceeds_column":
            schema, field_name, _ = arg.split("|")
            return str(self.column_length_for(schema, field_name))
        if kind in ("needs_from_attributes", "shared_schema", "response_schema"):
            return self._routes_using(kind, arg)
        if kind == "filtered_unindexed":
            qualname, column, _ = arg.split("|")
            canonical = self.canonical_class(qualname) or qualname
            sites = self.query_sites(canonical, column)
            shown = ", ".join(f"{path}:{line}" for path, line in sites[:3])
            return shown + (f" and {len(sites) - 3} more" if len(sites) > 3 else "")
        return None

    def satisfies(self, requirement: Requirement) -> bool:
        """Whether a deferred finding's requirement holds in this project (memoized: the index
        does not change once built, and many findings wait on the same requirement)."""
        known = self._satisfied.get(requirement)
        if known is None:
            known = self._satisfied[requirement] = self._satisfies(requirement)
        return known

    def _satisfies(self, requirement: Requirement) -> bool:
        from fastapi_review.semantics import models, schemas

        kind, arg = requirement
        if kind == "orm_model":
            return models.is_orm_model(self, arg)
        if kind in ("needs_from_attributes", "shared_schema", "response_schema", "request_schema"):
            canonical = self.canonical_class(arg)
            if canonical is None or not schemas.is_v2_schema(self, canonical):
                return False
            usage = self.usage()
            if kind == "needs_from_attributes":
                return canonical in usage["orm_response"] and not schemas.has_from_attributes(self, canonical)
            if kind == "shared_schema":
                return canonical in usage["body"] and canonical in usage["response"]
            return canonical in usage["response_closure" if kind == "response_schema" else "body_closure"]
        if kind == "undocumented_status":
            return bool(self.undocumented_statuses(arg))
        if kind == "bound_exceeds_column":  # arg: "pkg.UserCreate|field|bound"
            schema, field_name, bound = arg.split("|")
            length = self.column_length_for(schema, field_name)
            return length is not None and int(bound) > length
        if kind == "filtered_unindexed":  # arg: "pkg.Model|column|min_sites"
            qualname, column, minimum = arg.split("|")
            canonical = self.canonical_class(qualname)
            return canonical is not None and len(self.query_sites(canonical, column)) >= int(minimum) and (
                models.is_orm_class_or_mixin(self, canonical)
            )
        if kind == "lazy_relationship":  # arg: "pkg.Model|attribute"
            model, _, attribute = arg.partition("|")
            return self.relationship_strategy(model, attribute) in ("select", "dynamic")
        if kind == "untested_route":
            return not self.is_tested(arg)
        if kind == "not_pydantic_schema":
            return not schemas.is_pydantic_schema(self, arg)
        if kind == "pydantic_schema":
            return schemas.is_v2_schema(self, arg)
        if kind == "schema_without_attribute_docstrings":
            return schemas.is_v2_schema(self, arg) and schemas.config_value(self, arg, "use_attribute_docstrings") != "True"
        if kind == "undescribed_alias":  # a field type alias that carries no description
            return not self._described_alias(arg)
        if kind == "async_project":
            return any(f.uses_async_sqlalchemy for f in self.files)
        if kind == "mapping_model":
            return models.declares_mapping(self, arg)
        if kind == "table_model":
            return models.is_table_model(self, arg)
        if kind == "declarative_class":
            return models.is_declarative_class(self, arg)
        if kind == "missing_columns":  # arg: "pkg.Model|created_at,updated_at"
            qualname, _, columns = arg.partition("|")
            if not models.is_table_model(self, qualname) or self._table_assigned(qualname):
                return False
            names = models.inherited_attributes(self, qualname)
            return names is not None and not set(columns.split(",")) <= names
        if kind == "naive_datetime_map":  # an ORM class whose base maps datetime to a naive type
            return models.is_declarative_class(self, arg) and models.datetime_map_of(self, arg) is not True
        if kind == "router_binding":
            return self.binding_kind(arg) is not None
        if kind == "app_binding":
            return self.binding_kind(arg) == "app"
        if kind == "session_alias":
            return self.is_session_alias(arg)
        if kind == "sync_session_alias":
            return self.is_session_alias(arg, ("Session", "scoped_session"))
        if kind == "session_factory":
            return self.session_factory_kind(arg) is not None
        if kind == "sync_session_factory":
            return self.session_factory_kind(arg) == "sync"
        if kind == "shown_in_schema":
            return self._canonical(arg) not in self.hidden_routers()
        if kind == "no_exception_handler":  # arg: the exception and its bases, "|"-separated
            return not any(self.has_exception_handler(name) for name in arg.split("|"))
        raise ValueError(f"unknown requirement {kind!r}")

    def classes(self) -> Iterator[ClassFacts]:
        """Every class of the project."""
        for f in self.files:
            yield from f.classes
