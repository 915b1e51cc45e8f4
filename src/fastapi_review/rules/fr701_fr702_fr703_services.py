"""FR701–FR703: services must be async for I/O, HTTP-agnostic and stateless."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import libcst as cst

from fastapi_review.dispatch import NESTED_SCOPES, descendants
from fastapi_review.rule import Rule
from fastapi_review.semantics.schemas import NotPydanticSchema
from fastapi_review.semantics.sessions import AsyncProject, CalledFromAsync, session_io_method
from fastapi_review.syntax import dotted_name, is_constant_name

_SYNC_HTTP = frozenset(
    {"httpx.get", "httpx.post", "httpx.put", "httpx.patch", "httpx.delete", "httpx.head", "httpx.options",
     "httpx.request", "httpx.stream", "httpx.Client"}
)
_HTTP_LAYER = frozenset({"Request", "Response", "Depends", "APIRouter", "BackgroundTasks", "HTTPException"})
_MUTABLE_CALLS = frozenset({"list", "dict", "set", "defaultdict", "deque", "OrderedDict", "Counter"})
_LOCKS = frozenset({"Lock", "RLock", "Semaphore", "BoundedSemaphore", "Condition"})
_IMMUTABLE_TYPES = frozenset({"int", "str", "float", "bool", "bytes", "tuple", "frozenset", "Final", "Literal"})


@dataclass(frozen=True)
class SyncServiceIoOptions:
    """Options of FR701."""

    async_: str = field(default="auto", metadata={"key": "async", "choices": ("auto", "always", "never")})


class SyncServiceIo(Rule):
    """A sync service doing I/O blocks the event loop when an async handler calls it."""

    code = "FR701"
    name = "sync-service-io"
    summary = "a sync def in service code doing I/O (session calls, requests/httpx) in an async project"
    message = "service function '{function}' is sync but does I/O ({what}): make it 'async def' with AsyncSession / httpx.AsyncClient"
    Options = SyncServiceIoOptions

    def setup(self) -> None:
        self._found: dict[int, str] = {}

    def visit_Call(self, node: cst.Call) -> None:
        if self.options.async_ == "never" or not self.ctx.in_service_code:
            return
        scope = self.ctx.scope
        function = scope.function
        if function is None or function.node.asynchronous is not None or id(function.node) in self._found:
            return
        if any(outer.node.asynchronous is not None for outer in scope.functions[:-1]):
            return  # a sync helper inside an async function: run in a thread (asyncio.to_thread)
        what = self._io(node)
        if what is not None:
            self._found[id(function.node)] = what

    def _io(self, node: cst.Call) -> Optional[str]:
        if session_io_method(node, self.ctx.scope, self.ctx.session_names) not in (None, "add", "add_all"):
            return f"{dotted_name(node.func) or 'session'}()"
        qualified = self.ctx.scope.callee(node) or ""
        if qualified.startswith("requests.") or qualified in _SYNC_HTTP:
            return f"{qualified}()"
        return None

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        what = self._found.pop(id(node), None)
        if what is None:
            return
        scope = self.ctx.scope
        owner = scope.classes[-1].facts.qualname if scope.classes and scope.function is not None and scope.function.is_method else self.ctx.facts.module
        called = CalledFromAsync(f"{owner}.{node.name.value}")  # an async caller blocks on it
        # "always": every sync service doing I/O, whoever calls it
        requires = (AsyncProject(), called) if self.options.async_ == "auto" else None
        self.report(node.name, requires=requires, function=node.name.value, what=what)


class HttpLayerInService(Rule):
    """Services that import the HTTP layer cannot be reused by workers, CLIs or other transports."""

    code = "FR702"
    name = "http-layer-in-service"
    summary = "service code importing fastapi/starlette Request, Response, Depends, HTTPException..."
    message = "service module imports '{name}' from the HTTP layer: keep services HTTP-agnostic (pass plain values, raise domain exceptions)"
    default_enabled = False

    def setup(self) -> None:
        self._imports: list[tuple[cst.Name, object]] = []
        self._has_routes = False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        ctx = self.ctx
        if not ctx.is_service_module or ctx.is_test_module or ctx.scope.in_type_checking:
            return
        module = dotted_name(node.module) if node.module is not None else ""
        if not module or module.split(".")[0] not in ("fastapi", "starlette") or isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            if isinstance(alias.name, cst.Name) and alias.name.value in _HTTP_LAYER:
                self._imports.append((alias.name, ctx.current_unit))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if self.ctx.scope.handler_being_visited(node) is not None:
            self._has_routes = True

    def finish(self) -> None:
        # a module that declares routes or routers is the API layer, whatever its name
        if self._has_routes or self.ctx.facts.routers:
            return
        for name, unit in self._imports:
            self.report(name, unit=unit, name=name.value)  # type: ignore[arg-type]


class StatefulService(Rule):
    """Class-level mutable state is shared by every request (and every test): a race and a leak."""

    code = "FR703"
    name = "stateful-service"
    default_enabled = False  # below the 95% precision bar on unseen backends: rules/FR703.md
    summary = "a service class with mutable class attributes, or service code rebinding globals"
    message = "{detail}: services must be stateless; keep state in the database, a cache or instance attributes set in __init__"

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        ctx = self.ctx
        scope = ctx.scope
        if ctx.is_test_module or not (ctx.is_service_module or node.name.value.endswith("Service")):
            return
        if scope.functions or len(scope.classes) != 1 or not isinstance(node.body, cst.IndentedBlock):
            return
        if self._has_lock(node.body) or self._singleton(node):
            return  # shared on purpose: a registry with its lock, or a declared singleton
        for stmt in node.body.body:
            if not isinstance(stmt, cst.SimpleStatementLine):
                continue
            for small in stmt.body:
                name = self._mutable_attribute(small)
                if name is not None:
                    # Pydantic copies field defaults per instance: not shared state
                    self.report(
                        node.name,
                        requires=NotPydanticSchema(scope.class_qualname_here),
                        detail=f"service class '{node.name.value}' has mutable class attribute '{name}'",
                    )
                    return

    @staticmethod
    def _singleton(node: cst.ClassDef) -> bool:
        """`class Events(metaclass=Singleton)`: one instance by declaration, its state the process's."""
        return any(
            kw.keyword is not None and kw.keyword.value == "metaclass" and "singleton" in (dotted_name(kw.value) or "").lower()
            for kw in node.keywords
        )

    def _has_lock(self, body: cst.IndentedBlock) -> bool:
        """A class-level `threading.Lock()` / `asyncio.Lock()` (or RLock)."""
        for stmt in body.body:
            for small in stmt.body if isinstance(stmt, cst.SimpleStatementLine) else ():
                value = getattr(small, "value", None)
                if isinstance(value, cst.Call) and (dotted_name(value.func) or "").rsplit(".", 1)[-1] in _LOCKS:
                    return True
        return False

    def _mutable_attribute(self, small: cst.BaseSmallStatement) -> Optional[str]:
        if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
            target, value, annotation = small.targets[0].target, small.value, None
        elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and small.value is not None:
            target, value, annotation = small.target, small.value, small.annotation.annotation
        else:
            return None
        name = target.value
        if is_constant_name(name) or name == "__slots__" or (annotation is not None and self._immutable_classvar(annotation)):
            return None
        return name if self._is_mutable(value) else None

    def _is_mutable(self, value: cst.BaseExpression) -> bool:
        if isinstance(value, (cst.List, cst.Dict, cst.Set, cst.ListComp, cst.DictComp, cst.SetComp)):
            return True
        if isinstance(value, cst.Call):
            return (dotted_name(value.func) or "").rsplit(".", 1)[-1] in _MUTABLE_CALLS
        return False

    def _immutable_classvar(self, annotation: cst.BaseExpression) -> bool:
        if not isinstance(annotation, cst.Subscript):
            return False
        if (dotted_name(annotation.value) or "").rsplit(".", 1)[-1] != "ClassVar":
            return False
        inner = [e.slice.value for e in annotation.slice if isinstance(e.slice, cst.Index)]
        head = inner[0].value if inner and isinstance(inner[0], cst.Subscript) else (inner[0] if inner else None)
        return head is not None and (dotted_name(head) or "").rsplit(".", 1)[-1] in _IMMUTABLE_TYPES

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        ctx = self.ctx
        if not ctx.in_service_code or ctx.is_test_module:
            return
        body = descendants(node.body, skip=NESTED_SCOPES)
        for statement in body:
            if not isinstance(statement, cst.Global):
                continue
            names = [n.name.value for n in statement.names]
            if _lazily_initialised(names, body):
                continue  # `if _client is None: _client = make()`: one process-wide handle, made once
            self.report(statement, detail=f"service code rebinds module state with 'global {', '.join(names)}'")


def _assigned_names(node: cst.CSTNode) -> list[str]:
    if isinstance(node, cst.Assign):
        return [t.target.value for t in node.targets if isinstance(t.target, cst.Name)]
    if isinstance(node, (cst.AnnAssign, cst.AugAssign)) and isinstance(node.target, cst.Name):
        return [node.target.value]
    return []


def _compares_none(test: cst.BaseExpression, name: str, operator: type) -> bool:
    """`name is None` (operator `cst.Is`) / `name is not None` (`cst.IsNot`)."""
    return (
        isinstance(test, cst.Comparison) and isinstance(test.left, cst.Name) and test.left.value == name
        and len(test.comparisons) == 1 and isinstance(test.comparisons[0].operator, operator)
        and isinstance(test.comparisons[0].comparator, cst.Name) and test.comparisons[0].comparator.value == "None"
    )


def _unset_test(test: cst.BaseExpression, name: str) -> bool:
    """`name is None` / `not name`."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return isinstance(test.expression, cst.Name) and test.expression.value == name
    return _compares_none(test, name, cst.Is)


def _set_test(test: cst.BaseExpression, name: str) -> bool:
    """`name` / `name is not None`."""
    if isinstance(test, cst.Name):
        return test.value == name
    return _compares_none(test, name, cst.IsNot)


def _returns_early(node: cst.If) -> bool:
    body = node.body.body if isinstance(node.body, cst.IndentedBlock) else []
    return bool(body) and isinstance(body[-1], cst.SimpleStatementLine) and isinstance(body[-1].body[-1], cst.Return)


def _operands(test: cst.BaseExpression) -> list[cst.BaseExpression]:
    """`a or b or c` → [a, b, c]: a handle made when unset *or* stale is still made lazily."""
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.Or):
        return [*_operands(test.left), *_operands(test.right)]
    return [test]


def _lazily_initialised(names: list[str], body: list[cst.CSTNode]) -> bool:
    """Every assignment to each global of one `global` statement makes a process-wide handle once
    — under `if name is None:` (or `if not name:`, or such a test on another of the `names`: the
    handle and its cache key), or after `if name: return` — or tears it down (`name = None`): a
    lazy singleton, not state kept between requests."""
    guarded: set[int] = set()
    returns_when_set: set[str] = set()
    for node in body:
        if not isinstance(node, cst.If):
            continue
        if any(_unset_test(t, n) for t in _operands(node.test) for n in names):
            guarded.update(id(n) for n in descendants(node.body, skip=NESTED_SCOPES))
        elif _returns_early(node):
            returns_when_set.update(n for n in names if _set_test(node.test, n))
    for name in names:
        assignments = [n for n in body if name in _assigned_names(n)]
        if not assignments or not all(
            id(n) in guarded or name in returns_when_set or _assigns_none(n) for n in assignments
        ):
            return False
    return True


def _assigns_none(node: cst.CSTNode) -> bool:
    value = getattr(node, "value", None)
    return isinstance(node, (cst.Assign, cst.AnnAssign)) and isinstance(value, cst.Name) and value.value == "None"
