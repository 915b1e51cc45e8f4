"""Loops around the current node: retry loops, and statements built inside a loop body."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from fastapi_review.dispatch import NESTED_SCOPES, descendants, iter_children
from fastapi_review.semantics.context import Context
from fastapi_review.semantics.names import ORM_LIBRARIES, in_library
from fastapi_review.syntax import dotted_name, is_constant_name

_STATEMENTS = frozenset({"select", "insert", "update", "delete"})


def _contains_exit(node: cst.CSTNode) -> bool:
    """A `break` or `return` in a loop body (not inside a nested loop, function or lambda)."""
    for child in iter_children(node):
        if isinstance(child, (cst.Break, cst.Return)):
            return True
        if isinstance(child, (cst.For, cst.While, cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        if _contains_exit(child):
            return True
    return False


def has_exit(loop: cst.CSTNode) -> bool:
    """The loop body can leave the loop early (`break` / `return`): a search or a retry."""
    return isinstance(loop, (cst.For, cst.While)) and _contains_exit(loop.body)


_BATCH_WORDS = ("batch", "chunk", "page")


def is_batch_loop(loop: cst.CSTNode) -> bool:
    """`for start in range(0, n, size)`, `for batch in chunked(ids, 100)`: one step per batch."""
    if not isinstance(loop, cst.For):
        return False
    iterable = loop.iter
    if isinstance(iterable, cst.Call):
        name = (dotted_name(iterable.func) or "").lower()
        if name == "range" and len(iterable.args) == 3:
            return True
        if any(word in name for word in _BATCH_WORDS):
            return True
    target = dotted_name(loop.target) if isinstance(loop.target, (cst.Name, cst.Attribute)) else None
    return bool(target) and any(word in target.lower() for word in _BATCH_WORDS)  # type: ignore[union-attr]


def is_fixed_loop(loop: cst.CSTNode, scope: Optional[Context] = None) -> bool:
    """`for model in (User, Team, Org):`, `for i in range(3):`, over a `{...}.items()` literal, an
    UPPER_CASE constant, an Enum class or a local assigned only a literal collection: as many steps as the code
    writes, not one per row of data — a query per step is no N+1."""
    if not isinstance(loop, cst.For):
        return False
    iterable = loop.iter
    # `reversed(range(1, 5))`, `enumerate(("a", "b"))`: as many steps as what they wrap
    while isinstance(iterable, cst.Call) and dotted_name(iterable.func) in _ORDER_WRAPPERS and len(iterable.args) >= 1:
        iterable = iterable.args[0].value
    if isinstance(iterable, cst.Call) and isinstance(iterable.func, cst.Attribute) and not iterable.args:
        if iterable.func.attr.value in ("items", "keys", "values"):
            iterable = iterable.func.value  # `{"users": User, ...}.items()`
    if _literal_collection(iterable):
        return True
    if isinstance(iterable, cst.Call) and dotted_name(iterable.func) == "range":
        return bool(iterable.args) and all(isinstance(a.value, cst.Integer) for a in iterable.args)
    if isinstance(iterable, cst.Name):
        if is_constant_name(iterable.value) or _is_class_name(iterable.value):
            return True  # a constant, or a class iterated (`for reason in ResolutionReason:` an Enum)
        function = scope.function if scope is not None else None
        return function is not None and _assigned_only_literals(function.node, iterable.value)
    return False


_ORDER_WRAPPERS = frozenset({"reversed", "enumerate", "sorted", "list", "tuple"})


def is_polling_loop(loop: cst.CSTNode) -> bool:
    """`while True: ...; await asyncio.sleep(60)`: one round per interval (a refresh or a worker
    cycle), not one per row."""
    if not isinstance(loop, cst.While):
        return False
    return any(
        isinstance(n, cst.Call) and (dotted_name(n.func) or "").rsplit(".", 1)[-1] == "sleep"
        for n in descendants(loop.body, skip=NESTED_SCOPES)
    )


def loop_targets(loops: list[cst.CSTNode]) -> set[str]:
    """Names the enclosing `for` loops bind (`for model, label in pairs:` → model, label)."""
    names: set[str] = set()
    for loop in loops:
        if isinstance(loop, cst.For):
            names.update(n.value for n in (loop.target, *descendants(loop.target)) if isinstance(n, cst.Name))
    return names


def loop_item_names(loops: list[cst.CSTNode]) -> set[str]:
    """Names that hold per-iteration data: what the loops bind, and what their bodies assign
    (`for row in rows: user_id = row.user_id`)."""
    names = loop_targets(loops)
    for loop in loops:
        body = getattr(loop, "body", None)
        if body is None:
            continue
        for node in descendants(body, skip=NESTED_SCOPES):
            targets: list[cst.BaseExpression] = []
            if isinstance(node, cst.Assign):
                targets = [t.target for t in node.targets]
            elif isinstance(node, (cst.AnnAssign, cst.AugAssign)):
                targets = [node.target]
            elif isinstance(node, (cst.For, cst.CompFor)):
                targets = [node.target]
            elif isinstance(node, cst.AsName):
                targets = [node.name]
            for target in targets:
                names.update(n.value for n in (target, *descendants(target)) if isinstance(n, cst.Name))
    return names


def comprehension_targets(node: "cst.ListComp | cst.SetComp | cst.GeneratorExp | cst.DictComp") -> set[str]:
    """Names a comprehension's `for` clauses bind."""
    names: set[str] = set()
    comp: Optional[cst.CompFor] = node.for_in
    while comp is not None:
        names.update(n.value for n in (comp.target, *descendants(comp.target)) if isinstance(n, cst.Name))
        comp = comp.inner_for_in
    return names


def uses_names(node: cst.CSTNode, names: set[str]) -> bool:
    """Whether `node` reads one of `names` (outside nested scopes)."""
    return any(isinstance(n, cst.Name) and n.value in names for n in descendants(node, skip=NESTED_SCOPES))


def _is_class_name(name: str) -> bool:
    """CapWords (`ResolutionReason`): a class, not a variable."""
    return name[:1].isupper() and any(c.islower() for c in name) and "_" not in name


def _literal_collection(expr: cst.BaseExpression) -> bool:
    if isinstance(expr, (cst.List, cst.Tuple, cst.Set)):
        return all(isinstance(e, cst.Element) for e in expr.elements)  # no `*rest`
    if isinstance(expr, cst.Dict):
        return all(isinstance(e, cst.DictElement) for e in expr.elements)  # no `**rest`
    return False


def _assigned_only_literals(function: cst.FunctionDef, name: str) -> bool:
    """Every binding of `name` in the function assigns a literal collection."""
    found = False
    for node in descendants(function.body, skip=NESTED_SCOPES):
        if isinstance(node, cst.Assign) and any(isinstance(t.target, cst.Name) and t.target.value == name for t in node.targets):
            if not _literal_collection(node.value):
                return False
            found = True
        elif isinstance(node, (cst.AugAssign, cst.AnnAssign)) and isinstance(node.target, cst.Name) and node.target.value == name:
            return False
        elif isinstance(node, cst.For) and isinstance(node.target, cst.Name) and node.target.value == name:
            return False
    return found


def is_retry_loop(loop: cst.CSTNode, scope: Context) -> bool:
    """`for attempt in range(n): ... break` / `while True: ... break`: one unit of work, retried."""
    if isinstance(loop, cst.For):
        iterable = loop.iter
        if not (isinstance(iterable, cst.Call) and dotted_name(iterable.func) == "range"):
            return False
    elif not isinstance(loop, cst.While):
        return False
    return _contains_exit(loop.body)


def statement_root(expr: cst.BaseExpression, scope: Context) -> Optional[tuple[str, cst.Call]]:
    """For `select(X).where(...).limit(1)`: ("select", the whole chain's outermost call)."""
    node = expr
    while True:
        if isinstance(node, cst.Call):
            qualified = scope.callee(node) if node is expr else scope.imports.resolve(node.func)
            if qualified is not None:
                module, _, last = qualified.rpartition(".")
                if last in _STATEMENTS and in_library(module, *ORM_LIBRARIES):
                    return last, node
            if isinstance(node.func, cst.Attribute):
                node = node.func.value
                continue
            return None
        if isinstance(node, cst.Attribute):
            node = node.value
            continue
        return None


def chain_methods(expr: cst.BaseExpression) -> set[str]:
    """Method names called along a builder chain: `select(X).offset(o).limit(n)` → {offset, limit}."""
    methods: set[str] = set()
    node = expr
    while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        methods.add(node.func.attr.value)
        node = node.func.value
    return methods
