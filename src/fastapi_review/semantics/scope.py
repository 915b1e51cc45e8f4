"""The traversal context: runs first in the walk and keeps what every rule asks about at the
current point — imports (the alias map), qualification, the enclosing classes and functions
(stacks instead of ParentNodeProvider), loops, `if TYPE_CHECKING:` bodies, the routes a
function serves and the session locals it binds.

It writes nothing into the file's FileFacts (`file_facts.FileFactsWriter` does, right after it
at each node); it reads the module-level bindings the writer recorded so far.
"""

from __future__ import annotations

import builtins
from typing import Optional

import libcst as cst

from fastapi_review.dispatch import Dispatcher
from fastapi_review.facts import ClassFacts, FileFacts
from fastapi_review.semantics.columns import ColumnDecl, column_declaration
from fastapi_review.semantics.context import ClassInfo, FunctionInfo, Route
from fastapi_review.semantics.names import ImportMap
from fastapi_review.semantics.routes import route_from_add_api_route, route_from_decorator, router_binding
from fastapi_review.semantics.sessions import (
    ASYNC_KINDS,
    DEFAULT_SESSION_NAMES,
    is_engine_connection_call,
    is_session_annotation,
    is_session_context_call,
    is_session_expr,
    is_session_factory_call,
    looks_like_session_factory,
    session_class_name,
)
from fastapi_review.semantics.versions import is_version_test
from fastapi_review.syntax import called, dotted_name, unsubscript

_BUILTIN_NAMES = frozenset(dir(builtins))


class Scope:
    """The context visitor (see module docstring)."""

    def __init__(self, facts: FileFacts) -> None:
        self.facts = facts  # read here: the module's name and the bindings recorded so far
        self.imports = ImportMap(facts.module, facts.is_package)
        self.classes: list[ClassInfo] = []
        self.functions: list[FunctionInfo] = []
        # the facts' own dicts, filled in by the writer as the walk meets the bindings:
        # module-level names bound to sessionmaker() / async_sessionmaker() → "sync"/"async", and
        # `SessionDep = Annotated[AsyncSession, Depends(...)]` aliases → the session class name
        self.session_factories = facts.session_factories
        self.session_aliases = facts.session_aliases
        self.module_sessions: set[str] = set()  # module-level `session = SessionLocal()`
        self.api_routes: dict[str, list[Route]] = {}  # endpoint name → add_api_route routes
        self._containers: list[str] = []  # "class" / "function", innermost last
        # (ordinal in source order, node) of the enclosing defs/classes: positions.py's units
        self.units: list[tuple[int, cst.CSTNode]] = []
        self._def_count = 0
        self.def_names: list[str] = []  # every def/class in source order (positions.py anchors)
        # loops whose body is being visited, per function frame (module level first)
        self._loop_of_body: dict[int, cst.CSTNode] = {}
        self._loop_frames: list[list[cst.CSTNode]] = [[]]
        self._type_checking_bodies: set[int] = set()
        self._type_checking_depth = 0
        self._version_bodies: set[int] = set()
        self._version_depth = 0
        self._column_node: Optional[cst.CSTNode] = None
        self._column: Optional[ColumnDecl] = None
        self._callee_node: Optional[cst.Call] = None
        self._callee: Optional[str] = None

    # -- queries -------------------------------------------------------------------------
    @property
    def function(self) -> Optional[FunctionInfo]:
        """The innermost enclosing function."""
        return self.functions[-1] if self.functions else None

    @property
    def route_function(self) -> Optional[FunctionInfo]:
        """The innermost function when it is a route handler (code in nested defs is not)."""
        function = self.functions[-1] if self.functions else None
        return function if function is not None and function.routes else None

    def handler_being_visited(self, node: cst.FunctionDef) -> Optional[FunctionInfo]:
        """In `visit_FunctionDef(node)`: node's info when it is a route handler, else None."""
        function = self.route_function
        return function if function is not None and function.node is node else None

    @property
    def in_service_class(self) -> bool:
        """Inside a class whose name ends in `Service` (RULES.md: service code)."""
        for cls in self.classes:  # a loop, not any(): rules ask this at most nodes
            if cls.facts.name.endswith("Service"):
                return True
        return False

    @property
    def in_class_body(self) -> bool:
        """Directly in a class body (not inside one of its methods)."""
        return bool(self._containers) and self._containers[-1] == "class"

    @property
    def at_module_level(self) -> bool:
        """Outside every class and function."""
        return not self.classes and not self.functions

    def qualify(self, node: cst.BaseExpression) -> Optional[str]:
        """Qualified name of a Name/Attribute chain: through imports, else module-local."""
        name = dotted_name(node)
        if name is None:
            return None
        resolved = self.imports.resolve_dotted(name)
        if resolved is not None:
            return resolved
        return f"{self.facts.module}.{name}" if self.facts.module else name

    def callee(self, call: cst.Call) -> Optional[str]:
        """The qualified name of the called function (through imports), memoised for the call
        every rule is looking at: each Call is resolved once, not once per rule."""
        if call is not self._callee_node:
            self._callee_node = call
            self._callee = self.imports.resolve(call.func)
        return self._callee

    def call_target(self, call: cst.Call) -> Optional[str]:
        """The qualified name a call names, as the project phase knows functions: through the
        imports (not builtins or typing), else a module-level name of this module, else
        `self.helper()` as a method of the enclosing class; None for other receivers."""
        callee = self.callee(call)
        if callee is not None:
            return None if callee.startswith(("builtins.", "typing.")) else callee
        local = dotted_name(call.func) if isinstance(call.func, (cst.Name, cst.Attribute)) else None
        if local is None:
            return None
        if "." not in local:
            return f"{self.facts.module}.{local}"
        if local.count(".") == 1 and local.startswith("self.") and self.classes:
            return f"{self.classes[-1].facts.qualname}.{local[5:]}"
        function = self.function
        if local.count(".") == 1 and function is not None:
            head, _, method = local.partition(".")
            cls = function.instances.get(head)
            if cls is not None:
                return f"{cls}.{method}"  # `repo.get(...)` where `repo = UserRepository(session)`
        return None

    def class_column(self, node: "cst.Assign | cst.AnnAssign") -> Optional[ColumnDecl]:
        """The column a statement directly in a class body declares (memoised per statement)."""
        if node is not self._column_node:
            self._column_node = node
            self._column = None
            if self.in_class_body:
                if isinstance(node, cst.Assign):
                    if len(node.targets) == 1:
                        self._column = column_declaration(node.targets[0].target, None, node.value, self)
                else:
                    self._column = column_declaration(node.target, node.annotation.annotation, node.value, self)
        return self._column

    @property
    def class_qualname_here(self) -> str:
        """Qualified name of the innermost class being visited."""
        return self.classes[-1].facts.qualname

    def _qualify_base(self, expr: cst.BaseExpression) -> str:
        """A base class's qualified name; builtins (`object`, `Exception`) as `builtins.X`."""
        if isinstance(expr, cst.Name) and expr.value in _BUILTIN_NAMES and self.imports.resolve_dotted(expr.value) is None:
            return f"builtins.{expr.value}"
        return self.qualify(expr) or "?"

    def class_qualname(self, name: str) -> str:
        """Module-qualified name of a class defined at this point."""
        outer = ".".join(c.facts.name for c in self.classes)
        local = f"{outer}.{name}" if outer else name
        return f"{self.facts.module}.{local}" if self.facts.module else local

    # -- imports ---------------------------------------------------------------------------
    def visit_Import(self, node: cst.Import) -> None:
        self.imports.add_import(node, self.at_module_level)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        self.imports.add_import_from(node, self.at_module_level)

    # -- classes ---------------------------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        bases = tuple(self._qualify_base(unsubscript(arg.value)) for arg in node.bases)
        keywords = {
            arg.keyword.value: _literal_text(arg.value)
            for arg in node.keywords
            if arg.keyword is not None
        }
        decorators = tuple(
            q for d in node.decorators if (q := self.qualify(called(d.decorator))) is not None
        )
        facts = ClassFacts(
            qualname=self.class_qualname(node.name.value),
            name=node.name.value,
            bases=bases,
            keywords=keywords,
            decorators=decorators,
        )
        self.classes.append(ClassInfo(node, facts))
        self._enter("class", node)

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        self.classes.pop()
        self._leave()

    # -- functions -------------------------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        info = FunctionInfo(node, is_method=bool(self._containers) and self._containers[-1] == "class")
        p = node.params
        for param in (*p.posonly_params, *p.params, *p.kwonly_params):
            info.params[param.name.value] = param.annotation.annotation if param.annotation else None
        for star in (p.star_arg, p.star_kwarg):
            if isinstance(star, cst.Param):
                info.params[star.name.value] = star.annotation.annotation if star.annotation else None
        info.routes = [r for d in node.decorators if (r := route_from_decorator(d, self)) is not None]
        if self.api_routes:
            info.routes.extend(r for key in self._endpoint_keys(node, info) for r in self.api_routes.get(key, ()))
        self.functions.append(info)
        self._enter("function", node)

    def _endpoint_keys(self, node: cst.FunctionDef, info: FunctionInfo) -> list[str]:
        """The `routes.endpoint_key`s that register this def as an endpoint."""
        name = node.name.value
        keys = [name]
        if info.is_method:
            keys.append(f"self.{name}")
        outer = self.function
        if outer is not None and _returns_name(outer.node, name):
            keys.append(f"{outer.node.name.value}()")
        return keys

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.functions.pop()
        self._leave()

    def _enter(self, kind: str, node: cst.CSTNode) -> None:
        self._containers.append(kind)
        if kind == "function":
            self._loop_frames.append([])
        self.units.append((self._def_count, node))
        self.def_names.append(node.name.value)  # type: ignore[attr-defined]
        self._def_count += 1

    def _leave(self) -> None:
        if self._containers[-1] == "function":
            self._loop_frames.pop()
        self._containers.pop()
        self.units.pop()

    # -- `if TYPE_CHECKING:` blocks ------------------------------------------------------
    def visit_If(self, node: cst.If) -> None:
        test = node.test
        name = dotted_name(test) if isinstance(test, (cst.Name, cst.Attribute)) else None
        if name is not None and name.rsplit(".", 1)[-1] == "TYPE_CHECKING":
            self._type_checking_bodies.add(id(node.body))
        elif is_version_test(test):
            # `if PYDANTIC_V2: ... else: ...`: each branch is written for the version it runs on
            self._version_bodies.add(id(node.body))
            orelse = node.orelse
            if isinstance(orelse, cst.Else):
                self._version_bodies.add(id(orelse.body))

    @property
    def in_version_branch(self) -> bool:
        """Inside a branch of an `if` on a library or Python version (`if PYDANTIC_V2:`,
        `if sys.version_info >= ...`, `if pydantic.VERSION.startswith("1")`)."""
        return self._version_depth > 0

    @property
    def in_type_checking(self) -> bool:
        """Inside an `if TYPE_CHECKING:` body (code that never runs)."""
        return self._type_checking_depth > 0

    # -- loops -----------------------------------------------------------------------------
    @property
    def loops(self) -> list[cst.CSTNode]:
        """The For/While loops whose body encloses the current node, in this function only."""
        return self._loop_frames[-1]

    def visit_For(self, node: cst.For) -> None:
        self._loop_of_body[id(node.body)] = node

    def visit_While(self, node: cst.While) -> None:
        self._loop_of_body[id(node.body)] = node

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        loop = self._loop_of_body.get(id(node))
        if loop is not None:
            self._loop_frames[-1].append(loop)
        elif id(node) in self._type_checking_bodies:
            self._type_checking_depth += 1
        if id(node) in self._version_bodies:
            self._version_depth += 1

    def leave_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        if id(node) in self._loop_of_body:
            self._loop_frames[-1].pop()
        elif id(node) in self._type_checking_bodies:
            self._type_checking_depth -= 1
        if id(node) in self._version_bodies:
            self._version_depth -= 1

    visit_SimpleStatementSuite = visit_IndentedBlock  # type: ignore[assignment]
    leave_SimpleStatementSuite = leave_IndentedBlock  # type: ignore[assignment]

    def visit_Assign(self, node: cst.Assign) -> None:
        function = self.function
        if function is not None and not self.in_class_body:
            names = [t.target.value for t in node.targets if isinstance(t.target, cst.Name)]
            if isinstance(node.value, cst.Call):
                # routers built inside factory functions: `router = APIRouter(...)` in `def get_router()`
                for name in names:
                    bound = router_binding(node.value, self.qualify(node.value.func) or "", self)
                    if bound is not None:
                        function.routers[name] = bound[0]
                        if bound[1]:
                            function.hidden_routers.append(name)
                if names and is_session_factory_call(node.value, self):  # `db = SessionLocal()`
                    function.session_locals.update(names)
                cls = self._instantiated_class(node.value)
                for name in names:
                    if cls is not None:
                        function.instances[name] = cls
                    else:
                        function.instances.pop(name, None)
            elif names and isinstance(node.value, cst.Attribute) and is_session_expr(node.value, self, DEFAULT_SESSION_NAMES):
                function.session_locals.update(names)  # `session = self.session`
            return
        if isinstance(node.value, cst.Call) and self.at_module_level and is_session_factory_call(node.value, self):
            self.module_sessions.update(t.target.value for t in node.targets if isinstance(t.target, cst.Name))

    def _instantiated_class(self, call: cst.Call) -> Optional[str]:
        """The qualified class a call constructs: `UserRepository(...)`, or a classmethod
        constructor `ProductRepository.from_session(...)` (CapWords receiver); None otherwise."""
        func = call.func
        if isinstance(func, cst.Attribute) and isinstance(func.value, (cst.Name, cst.Attribute)):
            receiver = func.value
        elif isinstance(func, (cst.Name, cst.Attribute)):
            receiver = func
        else:
            return None
        last = receiver.value if isinstance(receiver, cst.Name) else receiver.attr.value
        if not (last[:1].isupper() and any(c.islower() for c in last)):
            return None
        return self.qualify(receiver)

    def router_kind(self, name: str) -> tuple[Optional[str], bool]:
        """("app"/"router"/None, hidden from the schema) of a router name at this point."""
        for function in reversed(self.functions):
            if name in function.routers:
                return function.routers[name], name in function.hidden_routers
        return self.facts.routers.get(name), name in self.facts.hidden_routers

    def prescan(self, module: cst.Module) -> None:
        """Collect imports and `add_api_route(path, endpoint)` calls before the walk (only for
        files that mention them), so handlers defined anywhere in the file are known as routes
        when they are visited."""
        scope = self

        class _Collector:
            def visit_Import(self, node: cst.Import) -> None:
                scope.imports.add_import(node)

            def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
                scope.imports.add_import_from(node)

            def visit_Call(self, node: cst.Call) -> None:
                found = route_from_add_api_route(node, scope)
                if found is not None:
                    scope.api_routes.setdefault(found[0], []).append(found[1])

        Dispatcher([_Collector()]).walk(module)

    def visit_With(self, node: cst.With) -> None:
        function = self.function
        if function is None:
            return
        for item in node.items:
            if (
                item.asname is not None
                and isinstance(item.asname.name, cst.Name)
            ):
                name = item.asname.name.value
                if is_engine_connection_call(item.item):
                    kind = "connection"
                elif (
                    is_session_factory_call(item.item, self)
                    or _injected_factory_call(item.item, function)
                    or is_session_context_call(item.item, name, self)
                ):
                    kind = "session"
                else:
                    continue
                function.session_locals.add(name)
                if node.asynchronous is not None:
                    function.async_session_locals[name] = kind

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if self.at_module_level and isinstance(node.target, cst.Name) and isinstance(node.value, cst.Call):
            if is_session_factory_call(node.value, self):  # `session: Session = SessionLocal()`
                self.module_sessions.add(node.target.value)
            return
        function = self.function
        if function is not None and isinstance(node.target, cst.Name) and is_session_annotation(node.annotation.annotation, self):
            function.session_locals.add(node.target.value)
            kind = ASYNC_KINDS.get(session_class_name(node.annotation.annotation, self) or "")
            if kind is not None:
                function.async_session_locals[node.target.value] = kind


def _returns_name(function: cst.FunctionDef, name: str) -> bool:
    """`function`'s own body ends by returning `name` (a handler factory: `return _health`)."""
    body = function.body.body if isinstance(function.body, cst.IndentedBlock) else ()
    return any(
        isinstance(small, cst.Return) and isinstance(small.value, cst.Name) and small.value.value == name
        for line in body if isinstance(line, cst.SimpleStatementLine) for small in line.body
    )


def _injected_factory_call(expr: cst.BaseExpression, function: FunctionInfo) -> bool:
    """`db()` / `sessionmaker()` where the factory is a parameter (`async with db() as session`)."""
    if not (isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value in function.params):
        return False
    name = expr.func.value
    return name in DEFAULT_SESSION_NAMES or looks_like_session_factory(name)


def _literal_text(expr: cst.BaseExpression) -> str:
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, (cst.SimpleString, cst.Integer)):
        return expr.value
    return "?"


