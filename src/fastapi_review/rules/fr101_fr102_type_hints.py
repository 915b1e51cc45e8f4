"""FR101 missing-param-annotation and FR102 missing-return-annotation."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from fastapi_review.dispatch import NESTED_SCOPES, descendants
from fastapi_review.rule import Rule
from fastapi_review.syntax import dotted_name, keyword_arg

_STATIC = frozenset({"staticmethod"})


def _is_staticmethod(node: cst.FunctionDef) -> bool:
    for decorator in node.decorators:
        name = dotted_name(decorator.decorator)
        if name is not None and name.rsplit(".", 1)[-1] in _STATIC:
            return True
    return False


@dataclass(frozen=True)
class MissingParamAnnotationOptions:
    """Options of FR101."""

    # `*args` / `**kwargs` that pass arguments through would be annotated `Any`: no information
    check_star_args: bool = False


class MissingParamAnnotation(Rule):
    """A parameter without a type annotation, one finding per parameter."""

    code = "FR101"
    name = "missing-param-annotation"
    default_enabled = False  # below the 95% precision bar on unseen backends: rules/FR101.md
    summary = "a function parameter without a type annotation"
    message = "parameter '{param}' of '{function}' has no type annotation; annotate every parameter"
    convention = True
    Options = MissingParamAnnotationOptions

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        function = self.ctx.scope.function
        params = node.params
        ordered = [*params.posonly_params, *params.params]
        implicit_first = function is not None and function.is_method and not _is_staticmethod(node)
        if implicit_first and ordered:
            ordered = ordered[1:]
        star = self.options.check_star_args
        ordered += [p for p in (params.star_arg,) if isinstance(p, cst.Param) and (star or p.annotation is not None)]
        ordered += [*params.kwonly_params]
        ordered += [p for p in (params.star_kwarg,) if isinstance(p, cst.Param) and (star or p.annotation is not None)]
        if _is_setter(node) or _is_wrapper(node):
            return  # the getter's return annotation types the value; a wrapper mirrors the wrapped
        named = f"def={node.name.value}"
        for param in ordered:
            # each parameter name is a convention of its own too: `db_session` left bare
            # across a project is a decision, not a slip; so is each function name: the
            # `embed` of every provider class
            kind = (f"param={param.name.value}", named)
            if param.annotation is not None:
                self.conforms(kind)
            elif param.name.value != "_":
                self.report(param.name, convention_kind=kind, param=param.name.value, function=node.name.value)


@dataclass(frozen=True)
class MissingReturnAnnotationOptions:
    """Options of FR102."""

    allow_init_without_return: bool = True


class MissingReturnAnnotation(Rule):
    """A function or method without `-> ...`."""

    code = "FR102"
    name = "missing-return-annotation"
    default_enabled = False  # below the 95% precision bar on unseen backends: rules/FR102.md
    summary = "a function without a return annotation"
    message = "function '{function}' has no return type annotation; add '-> ...'"
    convention = True
    Options = MissingReturnAnnotationOptions

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        # procedures (nothing returned) are a convention of their own: many projects write
        # every `-> T` and leave `-> None` out
        kind = ("returns-value" if _returns_value(node) else "procedure", f"def={node.name.value}")
        if node.returns is not None:
            self.conforms(kind)
            return
        if node.name.value == "__init__" and self.options.allow_init_without_return and _has_annotated_param(node):
            return
        if _is_setter(node) or _is_wrapper(node):
            return
        if self._declares_response_model(node):
            return  # the route's contract is declared: FastAPI validates and documents the return
        self.report(node.name, convention_kind=kind, function=node.name.value)

    def _declares_response_model(self, node: cst.FunctionDef) -> bool:
        function = self.ctx.scope.handler_being_visited(node)
        if function is None or not function.routes:
            return False
        for route in function.routes:
            model = keyword_arg(route.call, "response_model")
            if model is None or (isinstance(model.value, cst.Name) and model.value.value == "None"):
                return False
        return True


# Decorators that hand the function a signature someone else dictates
_DICTATED = frozenset({"wraps", "listens_for"})


def _is_wrapper(node: cst.FunctionDef) -> bool:
    """`@functools.wraps(func)`: a decorator's wrapper, whose signature is the wrapped function's
    (typing it needs ParamSpec on the decorator, not annotations here); `@event.listens_for(...)`:
    a SQLAlchemy event hook, whose signature the event dictates."""
    for decorator in node.decorators:
        target = decorator.decorator.func if isinstance(decorator.decorator, cst.Call) else decorator.decorator
        if (dotted_name(target) or "").rsplit(".", 1)[-1] in _DICTATED:
            return True
    return False


def _is_setter(node: cst.FunctionDef) -> bool:
    """`@x.setter` / `@x.deleter`: typed by the property's getter."""
    for decorator in node.decorators:
        target = decorator.decorator
        if isinstance(target, cst.Attribute) and target.attr.value in ("setter", "deleter"):
            return True
    return False


def _returns_value(node: cst.FunctionDef) -> bool:
    """A `return <value>` (not None) or a `yield` in the function itself (not nested defs)."""
    for child in descendants(node.body, skip=NESTED_SCOPES):
        if isinstance(child, cst.Return) and child.value is not None:
            if not (isinstance(child.value, cst.Name) and child.value.value == "None"):
                return True
        elif isinstance(child, (cst.Yield,)):
            return True
    return False


def _has_annotated_param(node: cst.FunctionDef) -> bool:
    p = node.params
    every = [*p.posonly_params, *p.params, *p.kwonly_params]
    every += [s for s in (p.star_arg, p.star_kwarg) if isinstance(s, cst.Param)]
    return any(param.annotation is not None for param in every)
