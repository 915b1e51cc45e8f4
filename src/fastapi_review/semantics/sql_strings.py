"""Is a string expression built by formatting with a non-constant part? (FR401's data flow.)

Two judgements over expressions, with per-function knowledge of local variables:
- `formatted`: a string built by an f-string, `%`, `.format()`, `+` or `"".join` with at
  least one part that is not constant — or a local variable assigned such a string;
- `constant`: literals, UPPER_CASE constants, `__tablename__`, ints from `int()`/`len()`,
  parameters annotated with numeric/UUID/date types, locals assigned only constants, and
  strings formatted only from constants.
"""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import Iterator, Mapping, Optional

import libcst as cst

from fastapi_review.semantics.context import FunctionInfo
from fastapi_review.semantics.sql_positions import CONSTANT_PART as SQL_CONSTANT
from fastapi_review.semantics.sql_positions import HOLE as SQL_HOLE
from fastapi_review.syntax import is_constant_name

Bindings = Mapping[str, bool]  # comprehension variables → whether they are constant
_NO_BINDINGS: Bindings = MappingProxyType({})

TAINTED = "tainted"
CONSTANT = "constant"

# Parts of a template (StringFlow.template): literal text is a str; these two are markers
HOLE = object()  # a non-constant part: where data (or SQL) of unknown origin goes in
CONSTANT_PART = object()  # a constant part whose text is not known here
Template = list  # [str | HOLE | CONSTANT_PART]

# Calls whose result cannot carry SQL text.
_SAFE_CALLS = frozenset({"int", "float", "len", "range", "bool", "abs", "round", "min", "max", "enumerate", "zip", "sorted"})
_SAFE_ATTRS = frozenset({"__tablename__", "__table__", "__name__", "fullname"})
# Parameter annotations whose values cannot inject SQL when interpolated.
_SAFE_TYPES = frozenset({"int", "float", "bool", "UUID", "uuid.UUID", "date", "datetime", "Decimal", "PositiveInt", "NonNegativeInt"})


def _is_stringy_literal(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString))


def _annotation_is_safe(annotation: Optional[cst.BaseExpression]) -> bool:
    if annotation is None:
        return False
    if isinstance(annotation, cst.Name):
        return annotation.value in _SAFE_TYPES
    if isinstance(annotation, cst.Attribute) and isinstance(annotation.value, cst.Name):
        return f"{annotation.value.value}.{annotation.attr.value}" in _SAFE_TYPES
    if isinstance(annotation, cst.BinaryOperation) and isinstance(annotation.operator, cst.BitOr):
        return all(_annotation_is_safe(a) or (isinstance(a, cst.Name) and a.value == "None") for a in (annotation.left, annotation.right))
    if isinstance(annotation, cst.Subscript) and isinstance(annotation.value, cst.Name) and annotation.value.value == "Optional":
        inner = [e.slice.value for e in annotation.slice if isinstance(e.slice, cst.Index)]
        return len(inner) == 1 and _annotation_is_safe(inner[0])
    return False


class StringFlow:
    """Local-variable states of one function (or the module), updated in source order."""

    def __init__(self, function: Optional[FunctionInfo], in_enum: bool = False) -> None:
        self.function = function
        # a method of an Enum class: `self.value` / `self.name` are its members' constants
        self.in_enum = in_enum
        self.state: dict[str, str] = {}
        # the text of string locals, as far as it is known: literal text, HOLE or CONSTANT_PART
        self.templates: dict[str, Optional[Template]] = {}

    # -- the text of a formatted string ---------------------------------------------------
    def template(self, expr: cst.BaseExpression, bound: Bindings = _NO_BINDINGS) -> Optional[Template]:
        """The string `expr` builds, as literal text and parts: HOLE for a non-constant part,
        CONSTANT_PART for a constant one whose text is unknown; None when its shape is not one
        followed here (a helper's result, a join, a branch)."""
        if isinstance(expr, cst.SimpleString):
            value = expr.evaluated_value
            return [value] if isinstance(value, str) else None
        if isinstance(expr, cst.ConcatenatedString):
            return _join(self.template(expr.left, bound), self.template(expr.right, bound))  # type: ignore[arg-type]
        if isinstance(expr, cst.FormattedString):
            parts: Template = []
            for part in expr.parts:
                if isinstance(part, cst.FormattedStringText):
                    parts.append(part.value.replace("{{", "{").replace("}}", "}"))
                else:
                    parts.append(CONSTANT_PART if self.constant(part.expression, bound) else HOLE)  # type: ignore[attr-defined]
            return parts
        if isinstance(expr, cst.Name) and expr.value in self.templates and expr.value not in bound:
            return self.templates[expr.value]
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
            return _join(self._operand(expr.left, bound), self._operand(expr.right, bound))
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Modulo):
            return self._percent(expr, bound)
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) and expr.func.attr.value == "format":
            receiver = self.template(expr.func.value, bound) if _is_stringy_literal(expr.func.value) else None
            if receiver is None or any(part in (HOLE, CONSTANT_PART) for part in receiver):
                return None
            every = all(self.constant(a.value, bound) for a in expr.args)
            return _fields(_FORMAT_FIELD, "".join(receiver), CONSTANT_PART if every else HOLE)  # type: ignore[arg-type]
        return None

    def _operand(self, expr: cst.BaseExpression, bound: Bindings) -> Optional[Template]:
        known = self.template(expr, bound)
        if known is not None:
            return known
        return [CONSTANT_PART if self.constant(expr, bound) else HOLE] if not self.formatted(expr, bound) else None

    def _percent(self, expr: cst.BinaryOperation, bound: Bindings) -> Optional[Template]:
        """`"... %s ..." % args`: each conversion is a part, constant when its argument is."""
        left = self.template(expr.left, bound) if _is_stringy_literal(expr.left) else None
        if left is None or any(part in (HOLE, CONSTANT_PART) for part in left):
            return None
        right = expr.right
        values = [e.value for e in right.elements] if isinstance(right, cst.Tuple) else None
        text = "".join(left)  # type: ignore[arg-type]
        specs = _PERCENT_FIELD.findall(text)
        if values is not None and len(values) == len([s for s in specs if s != "%%"]):
            kinds = iter(CONSTANT_PART if self.constant(v, bound) else HOLE for v in values)
            return _fields(_PERCENT_FIELD, text, None, kinds)
        return _fields(_PERCENT_FIELD, text, CONSTANT_PART if self.constant(right, bound) else HOLE)

    # -- judgements -------------------------------------------------------------------
    def constant(self, expr: cst.BaseExpression, bound: Bindings = _NO_BINDINGS) -> bool:
        """Whether `expr` can only hold a value fixed by the code (never user input)."""
        if isinstance(expr, (cst.SimpleString, cst.Integer, cst.Float, cst.Imaginary)):
            return True
        if isinstance(expr, cst.ConcatenatedString):
            return self.constant(expr.left, bound) and self.constant(expr.right, bound)  # type: ignore[arg-type]
        if isinstance(expr, cst.FormattedString):
            return all(
                self.constant(part.expression, bound)
                for part in expr.parts
                if isinstance(part, cst.FormattedStringExpression)
            )
        if isinstance(expr, cst.Name):
            return self._name_constant(expr.value, bound)
        if isinstance(expr, cst.Attribute):
            return self._attribute_constant(expr)
        if isinstance(expr, (cst.List, cst.Tuple, cst.Set)):
            return all(isinstance(e, cst.Element) and self.constant(e.value, bound) for e in expr.elements)
        if isinstance(expr, (cst.GeneratorExp, cst.ListComp, cst.SetComp)):
            return self._comprehension_constant(expr, bound)
        if isinstance(expr, cst.UnaryOperation):
            return self.constant(expr.expression, bound)
        if isinstance(expr, cst.BinaryOperation):
            return self.constant(expr.left, bound) and self.constant(expr.right, bound)
        if isinstance(expr, cst.IfExp):
            return self.constant(expr.body, bound) and self.constant(expr.orelse, bound)
        if isinstance(expr, cst.Call):
            return self._call_constant(expr, bound)
        return False

    def formatted(self, expr: cst.BaseExpression, bound: Bindings = _NO_BINDINGS) -> bool:
        """Whether `expr` is a string built by formatting with a non-constant part."""
        if isinstance(expr, cst.FormattedString):
            return not self.constant(expr, bound)
        if isinstance(expr, cst.ConcatenatedString):
            return self.formatted(expr.left, bound) or self.formatted(expr.right, bound)  # type: ignore[arg-type]
        if isinstance(expr, cst.Name):
            return self.state.get(expr.value) == TAINTED and expr.value not in bound
        if isinstance(expr, cst.BinaryOperation):
            if isinstance(expr.operator, cst.Modulo):
                return self._stringy(expr.left) and not self.constant(expr.right, bound)
            if isinstance(expr.operator, cst.Add):
                if self.formatted(expr.left, bound) or self.formatted(expr.right, bound):
                    return True
                return (self._stringy(expr.left) and not self.constant(expr.right, bound)) or (
                    self._stringy(expr.right) and not self.constant(expr.left, bound)
                )
            return False
        if isinstance(expr, cst.IfExp):
            return self.formatted(expr.body, bound) or self.formatted(expr.orelse, bound)
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
            method = expr.func.attr.value
            receiver = expr.func.value
            if method == "format" and self._stringy(receiver):
                return self.formatted(receiver, bound) or not all(self.constant(a.value, bound) for a in expr.args)
            if method == "join" and isinstance(receiver, (cst.SimpleString, cst.ConcatenatedString)) and len(expr.args) == 1:
                return not self.constant(expr.args[0].value, bound)
            if method in ("strip", "lstrip", "rstrip", "upper", "lower", "replace") :
                return self.formatted(receiver, bound)
        return False

    def _stringy(self, expr: cst.BaseExpression) -> bool:
        if _is_stringy_literal(expr):
            return True
        if isinstance(expr, cst.Name):
            return expr.value in self.state
        return self.formatted(expr)

    def _name_constant(self, name: str, bound: Bindings) -> bool:
        if name in bound:  # a comprehension variable: constant iff its iterable is
            return bound[name]
        if self.state.get(name) == CONSTANT:
            return True
        if name in ("True", "False", "None"):
            return True
        function = self.function
        if function is not None and name in function.params:
            return _annotation_is_safe(function.params[name])
        return is_constant_name(name) and name not in self.state

    def _attribute_constant(self, expr: cst.Attribute) -> bool:
        if expr.attr.value in _SAFE_ATTRS:
            return True
        if self.in_enum and expr.attr.value in ("value", "name") and isinstance(expr.value, cst.Name) and expr.value.value == "self":
            return True
        # Enum members and class/settings constants: `Status.ACTIVE.value`, `settings.DB_SCHEMA`.
        node: cst.BaseExpression = expr
        while isinstance(node, cst.Attribute):
            if is_constant_name(node.attr.value):
                return True
            node = node.value
        return False

    def _call_constant(self, expr: cst.Call, bound: Bindings) -> bool:
        if isinstance(expr.func, cst.Name) and expr.func.value in _SAFE_CALLS:
            return expr.func.value in ("int", "float", "len", "bool", "abs", "round") or all(
                self.constant(a.value, bound) for a in expr.args
            )
        if isinstance(expr.func, cst.Attribute):
            receiver = expr.func.value
            method = expr.func.attr.value
            if method in ("format", "join") and _is_stringy_literal(receiver):
                return self.constant(receiver, bound) and all(self.constant(a.value, bound) for a in expr.args)
            if method in ("upper", "lower", "strip") and not expr.args:
                return self.constant(receiver, bound)
        return False

    def _comprehension_constant(self, expr: cst.BaseExpression, bound: Bindings) -> bool:
        # `",".join("?" for _ in keys)` is constant even though `keys` is not: only the
        # element matters, with each loop variable as constant as its iterable.
        names = dict(bound)
        clause: Optional[cst.CompFor] = expr.for_in  # type: ignore[attr-defined]
        while clause is not None:
            iterable_constant = self.constant(clause.iter, names)
            names.update(dict.fromkeys(_target_names(clause.target), iterable_constant))
            clause = clause.inner_for_in
        return self.constant(expr.elt, names)  # type: ignore[attr-defined]

    # -- updates ----------------------------------------------------------------------
    def assign(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        """`target = value`."""
        names = _target_names(target)
        text = self.template(value) if isinstance(target, cst.Name) else None
        for name in names:
            self.templates[name] = text
            if self.formatted(value):
                self.state[name] = TAINTED
            elif self.constant(value):
                self.state[name] = CONSTANT
            else:
                self.state.pop(name, None)

    def augment(self, name: str, value: cst.BaseExpression) -> None:
        """`name += value`."""
        if name in self.templates:
            self.templates[name] = _join(self.templates[name], self._operand(value, _NO_BINDINGS))
        current = self.state.get(name)
        if current == TAINTED:
            return
        if self.formatted(value) or (current == CONSTANT and not self.constant(value)):
            self.state[name] = TAINTED

    def loop_target(self, target: cst.BaseExpression, iterable: cst.BaseExpression) -> None:
        """`for target in iterable:` binds constants when the iterable is constant."""
        constant = self.constant(iterable)
        for name in _target_names(target):
            self.templates.pop(name, None)
            if constant:
                self.state[name] = CONSTANT
            else:
                self.state.pop(name, None)

    def mutate(self, call: cst.Call) -> None:
        """`parts.append(x)` / `.extend(xs)` / `.insert(i, x)` on a tracked local list."""
        func = call.func
        if not (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name)):
            return
        name = func.value.value
        if name not in self.state or func.attr.value not in ("append", "extend", "insert"):
            return
        if self.state[name] == CONSTANT and not all(self.constant(a.value) for a in call.args):
            self.state[name] = TAINTED


def _join(left: Optional[Template], right: Optional[Template]) -> Optional[Template]:
    return None if left is None or right is None else [*left, *right]


_FORMAT_FIELD = re.compile(r"\{\{|\}\}|\{[^{}]*\}")
_PERCENT_FIELD = re.compile(r"%%|%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[sdifrxXeEgGc]")


def _fields(pattern: "re.Pattern[str]", text: str, kind: object, kinds: "Optional[Iterator[object]]" = None) -> Template:
    """`text` with each replacement field of `pattern` a part (`kind`, or the next of `kinds`)."""
    parts: Template = []
    last = 0
    for match in pattern.finditer(text):
        parts.append(text[last:match.start()])
        field = match.group()
        if field in ("%%", "{{", "}}"):
            parts.append(field[0])
        else:
            parts.append(kind if kinds is None else next(kinds, HOLE))
        last = match.end()
    parts.append(text[last:])
    return parts


def render(template: Template) -> str:
    """The SQL text of a template, each part an identifier sql_positions can find."""
    out = []
    holes = 0
    for part in template:
        if part is HOLE:
            out.append(f"{SQL_HOLE}{holes}")
            holes += 1
        elif part is CONSTANT_PART:
            out.append(SQL_CONSTANT)
        else:
            out.append(part)
    return "".join(out)


def _target_names(target: cst.BaseExpression) -> set[str]:
    if isinstance(target, cst.Name):
        return {target.value}
    if isinstance(target, (cst.Tuple, cst.List)):
        names: set[str] = set()
        for element in target.elements:
            names |= _target_names(element.value)
        return names
    return set()
