"""FR208 session-not-injected: a handler or service that makes its own session."""

from __future__ import annotations

import libcst as cst

from fastapi_review.positions import Unit
from fastapi_review.project import Requirement
from fastapi_review.rule import Rule
from fastapi_review.semantics.names import may_be_project_name
from fastapi_review.semantics.sessions import SessionFactory, is_session_annotation, is_session_factory_call
from fastapi_review.syntax import dotted_name, last_name

_DEPENDS = frozenset({"Depends", "Security"})
_LIFESPAN_DECORATORS = frozenset({"on_event", "asynccontextmanager", "contextmanager"})
_LIFESPAN_NAMES = frozenset({"lifespan", "startup", "shutdown"})


class SessionNotInjected(Rule):
    """Sessions made in place escape the request's transaction and cannot be overridden in tests."""

    code = "FR208"
    name = "session-not-injected"
    default_enabled = False  # below the 95% precision bar on unseen backends: rules/FR208.md
    summary = "a route handler or service creating its own session instead of receiving it via Depends"
    message = "{detail}: receive the session as a parameter (Depends(get_session)) so one request uses one transaction and tests can override it"
    # A project whose services open their own sessions (managers with a session maker, jobs
    # that run outside requests) has chosen that design: the convention is learned from the
    # handlers and services that receive a session as a parameter.
    convention = True

    def setup(self) -> None:
        self._candidates: list[tuple[cst.Call, cst.FunctionDef, str, "Requirement | None", Unit]] = []
        self._dependencies: set[str] = set()
        self._generators: set[int] = set()

    def _in_scope(self) -> bool:
        scope = self.ctx.scope
        if scope.function is None:
            return False
        return scope.route_function is not None or self.ctx.in_service_code

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if not self._in_scope():
            return
        scope = self.ctx.scope
        p = node.params
        for param in (*p.posonly_params, *p.params, *p.kwonly_params):
            annotated = param.annotation is not None and is_session_annotation(param.annotation.annotation, scope)
            if annotated or param.name.value in self.ctx.session_names:
                self.conforms()  # a session received, not made
                return

    def visit_Call(self, node: cst.Call) -> None:
        scope = self.ctx.scope
        if last_name(node.func) in _DEPENDS and (scope.callee(node) or "").startswith("fastapi") and node.args:
            name = dotted_name(node.args[0].value)
            if name is not None:
                self._dependencies.add(name.rsplit(".", 1)[-1])
        if not self._in_scope():
            return
        function = scope.function
        assert function is not None
        if is_session_factory_call(node, scope):
            label = dotted_name(node.func) or "session factory"
            self._candidates.append((node, function.node, f"session created here by {label}()", None, self.ctx.current_unit))
            return
        imported = scope.callee(node) if isinstance(node.func, cst.Name) and not node.args else None
        if imported is not None and may_be_project_name(imported):
            # `make_session()` imported from the module that binds it to sessionmaker()
            requirement = SessionFactory(imported)
            self._candidates.append((node, function.node, f"session created here by {node.func.value}()", requirement, self.ctx.current_unit))  # type: ignore[union-attr]
            return
        func = node.func
        if (
            isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and func.value.value in scope.module_sessions
            and func.value.value not in function.params
        ):
            self._candidates.append((node, function.node, f"module-level session '{func.value.value}' used here", None, self.ctx.current_unit))

    def visit_Yield(self, node: cst.Yield) -> None:
        function = self.ctx.scope.function
        if function is not None:
            self._generators.add(id(function.node))

    def finish(self) -> None:
        for call, function, detail, requirement, unit in self._candidates:
            if self._exempt(function):
                continue
            self.report(call, unit=unit, requires=requirement, detail=detail)

    def _exempt(self, function: cst.FunctionDef) -> bool:
        """The dependency that yields the session, and lifespan / startup code."""
        if id(function) in self._generators or function.name.value in self._dependencies:
            return True
        if function.name.value in _LIFESPAN_NAMES:
            return True
        for decorator in function.decorators:
            target = decorator.decorator.func if isinstance(decorator.decorator, cst.Call) else decorator.decorator
            name = dotted_name(target)
            if name is not None and name.rsplit(".", 1)[-1] in _LIFESPAN_DECORATORS:
                return True
        return False
