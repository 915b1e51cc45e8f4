"""FR402, FR404–FR407: how code talks to the database (N+1, blocking, forgotten awaits)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import libcst as cst

from fastapi_review.dispatch import NESTED_SCOPES, descendants
from fastapi_review.positions import Unit
from fastapi_review.project import Requirement
from fastapi_review.rule import Rule
from fastapi_review.semantics.loops import (
    chain_methods,
    comprehension_targets,
    has_exit,
    is_batch_loop,
    is_fixed_loop,
    is_polling_loop,
    loop_item_names,
    loop_targets,
    is_retry_loop,
    statement_root,
    uses_names,
)
from fastapi_review.semantics.names import may_be_project_name, names_a_class
from fastapi_review.semantics.queries import Commits, DoesDbIo, RunsQuery
from fastapi_review.semantics.sessions import (
    SyncSessionAlias,
    SyncSessionFactory,
    async_session_kind,
    is_session_expr,
    is_sync_session_annotation,
    is_sync_session_call,
)
from fastapi_review.semantics.sqlalchemy_facts import (
    ASYNC_CONNECTION_COROUTINES,
    ASYNC_SESSION_COROUTINES,
)
from fastapi_review.semantics.types import unwrap_annotation
from fastapi_review.syntax import dotted_name, last_name

_READS_BY_KEY = frozenset({"get", "get_one", "refresh"})
_STATEMENT_READS = frozenset({"execute", "scalar", "scalars", "stream", "stream_scalars", "exec"})
_CONCURRENCY = frozenset({"gather", "create_task", "ensure_future", "wait_for", "shield", "wait", "as_completed", "run"})


def _calls_in(node: cst.CSTNode) -> list[cst.Call]:
    """Calls in an expression, outermost first (lambdas excluded: they run later)."""
    return [n for n in descendants(node, (cst.Lambda,)) if isinstance(n, cst.Call)]


_QUERY_EXECUTORS = frozenset({"all", "first", "one", "one_or_none", "scalar", "count", "get", "exists"})


def _executed_query(node: cst.Call, rule: Rule) -> Optional[str]:
    """`session.query(X)...first()`: the legacy Query runs when an executor method is called."""
    func = node.func
    if not isinstance(func, cst.Attribute) or func.attr.value not in _QUERY_EXECUTORS:
        return None
    inner: cst.BaseExpression = func.value
    while isinstance(inner, cst.Call) and isinstance(inner.func, cst.Attribute):
        if inner.func.attr.value == "query" and is_session_expr(inner.func.value, rule.ctx.scope, rule.ctx.session_names):
            return f"{dotted_name(inner.func.value) or 'session'}.query(...).{func.attr.value}()"
        inner = inner.func.value
    return None


def _model_from_loop(node: cst.Call, loops: list[cst.CSTNode]) -> bool:
    """The entity the read names (`query(X)`, `get(X, …)`, `select(X)` anywhere in the call) is a
    variable of the innermost loop: that loop walks tables or models, not rows."""
    targets = loop_targets(loops[-1:])
    if not targets:
        return False
    for call in (node, *(n for n in descendants(node) if isinstance(n, cst.Call))):
        name = last_name(call.func) if isinstance(call.func, (cst.Name, cst.Attribute)) else None
        if name in ("query", "get", "get_one", "select") and call.args:
            first = call.args[0].value
            if isinstance(first, cst.Name) and first.value in targets:
                return True
    return False


def _filters_by_in(statement: cst.BaseExpression) -> bool:
    """A `.in_(...)` somewhere in the statement: one query for a batch of keys."""
    return any(isinstance(n, cst.Attribute) and n.attr.value == "in_" for n in descendants(statement))


def _session_method(node: cst.Call, rule: Rule) -> Optional[tuple[cst.BaseExpression, str]]:
    """(receiver, method) when `node` calls a method on a session expression."""
    func = node.func
    if isinstance(func, cst.Attribute) and is_session_expr(func.value, rule.ctx.scope, rule.ctx.session_names):
        return func.value, func.attr.value
    return None


@dataclass(frozen=True)
class QueryInLoopOptions:
    """Options of FR402."""

    # also report a loop calling the project's own loader (a function that reads, itself or
    # through the one it calls): more N+1s found, at a lower precision on unseen backends
    follow_helpers: bool = False


class QueryInLoop(Rule):
    """A query per iteration: N+1 round trips where one `IN (...)` query or eager loading would do."""

    code = "FR402"
    name = "query-in-loop"
    default_enabled = False  # below the 95% precision bar on unseen backends: rules/FR402.md
    summary = "a database read inside a loop or comprehension (the N+1 pattern)"
    message = "{what} inside a loop runs one query per item (N+1): load them in one query (where(Model.id.in_(ids))) or eagerly (selectinload)"
    Options = QueryInLoopOptions

    def setup(self) -> None:
        self._loop_selects: dict[int, set[str]] = {}  # loop id → names assigned a select() in its body
        self._reported: set[int] = set()
        self._discarded: set[int] = set()  # calls whose result is thrown away (a statement)
        self._comprehension_items: set[str] = set()  # the targets of the comprehension being checked
        self._loop_items: dict[int, set[str]] = {}  # loop id → loop_item_names

    def visit_Expr(self, node: cst.Expr) -> None:
        value = node.value.expression if isinstance(node.value, cst.Await) else node.value
        self._discarded.add(id(value))

    def _comprehension(self, node: "cst.ListComp | cst.SetComp | cst.GeneratorExp | cst.DictComp") -> None:
        # the element is evaluated once per item (the first iterable only once)
        scope = self.ctx.scope
        parts = [node.key, node.value] if isinstance(node, cst.DictComp) else [node.elt]
        self._comprehension_items = comprehension_targets(node)
        for call in (c for part in parts for c in _calls_in(part)):
            self._check(call, scope.loops)
        self._comprehension_items = set()

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _comprehension

    def visit_Assign(self, node: cst.Assign) -> None:
        loops = self.ctx.scope.loops
        root = statement_root(node.value, self.ctx.scope) if loops else None
        if root is not None and root[0] == "select" and not _paging(chain_methods(node.value), loops):
            names = {t.target.value for t in node.targets if isinstance(t.target, cst.Name)}
            self._loop_selects.setdefault(id(loops[-1]), set()).update(names)

    def visit_Call(self, node: cst.Call) -> None:
        scope = self.ctx.scope
        loops = scope.loops
        if not loops:
            return
        self._check(node, loops)

    def _check(self, node: cst.Call, loops: list[cst.CSTNode]) -> None:
        if id(node) in self._reported or self._exempt(loops):
            return
        what = self._read(node, loops)
        if what is not None:
            self._reported.add(id(node))
            self.report(node, what=what)
            return
        # a project function that loads, itself or through the one it calls (`load_user(id)`),
        # whose result the loop uses: a call made for its effect is work per item, not a read
        if not self.options.follow_helpers or id(node) in self._discarded:
            return
        target = self.ctx.scope.call_target(node)
        if target is not None and _session_method(node, self) is None and not names_a_class(target) and self._per_item(node, loops):
            self._reported.add(id(node))
            helper = RunsQuery(target)
            self.report(node, requires=helper, what=helper)

    def _per_item(self, node: cst.Call, loops: list[cst.CSTNode]) -> bool:
        """The call is handed the iteration's item (`load_user(row.user_id)`): one load per
        item, the N+1 shape; a call without it repeats the same work, not a load per row."""
        items = set(self._comprehension_items)
        if loops:
            key = id(loops[-1])
            if key not in self._loop_items:
                self._loop_items[key] = loop_item_names(loops)
            items |= self._loop_items[key]
        return uses_names(node, items)

    def _exempt(self, loops: list[cst.CSTNode]) -> bool:
        # polling loops, around any loop; searches and retries (a break / return: the read runs
        # once) and batch loops exempt only their own body: a loop nested in a retry still reads
        # once per item;
        # loops over what the code lists (`for model in (A, B)`), when every loop around is one
        if not loops:
            return False
        if any(is_polling_loop(loop) for loop in loops):
            return True  # a worker's round (`while True: ...; sleep(60)`): not a request's N+1
        innermost = loops[-1]
        if self._comprehension_items:
            return False  # the comprehension is the innermost loop, over data
        if has_exit(innermost) or is_batch_loop(innermost):
            return True
        return all(is_fixed_loop(loop, self.ctx.scope) for loop in loops)

    def _read(self, node: cst.Call, loops: list[cst.CSTNode]) -> Optional[str]:
        if _model_from_loop(node, loops):
            return None  # `for model in models: session.query(model)`: one query per table, not per row
        query = _executed_query(node, self)
        if query is not None:
            return query
        found = _session_method(node, self)
        if found is None:
            return None
        receiver, method = found
        label = f"{dotted_name(receiver) or 'session'}.{method}()"
        if method in _READS_BY_KEY:
            return label
        if method not in _STATEMENT_READS or not node.args:
            return None
        statement = node.args[0].value
        root = statement_root(statement, self.ctx.scope)
        if root is not None:
            if root[0] != "select" or _paging(chain_methods(statement), loops) or _filters_by_in(statement):
                return None  # writes, pagination, and one query for a whole batch of ids
            return f"{label} of a select()"
        if isinstance(statement, cst.Name) and any(statement.value in self._loop_selects.get(id(loop), ()) for loop in loops):
            return f"{label} of a select() built in the loop"
        return None

    def visit_Await(self, node: cst.Await) -> None:
        # `await obj.awaitable_attrs.items`: a lazy load per object
        expr = node.expression
        if (
            self.ctx.scope.loops
            and isinstance(expr, cst.Attribute)
            and isinstance(expr.value, cst.Attribute)
            and expr.value.attr.value == "awaitable_attrs"
        ):
            self.report(node, what=f"await {dotted_name(expr) or '...awaitable_attrs'}")


def _paging(methods: set[str], loops: list[cst.CSTNode]) -> bool:
    """A page of a result: `.offset()` / `.slice()`, or `.limit()` in a `while` loop (keyset
    paging). `.limit(1)` in a `for` loop is one lookup per item."""
    return bool(methods & {"offset", "slice"}) or (bool(loops) and isinstance(loops[-1], cst.While) and "limit" in methods)


class SyncSessionInAsync(Rule):
    """A sync Session blocks the event loop on every query, stalling all concurrent requests."""

    code = "FR404"
    name = "sync-session-in-async"
    summary = "a sync SQLAlchemy Session used inside async def (blocks the event loop)"
    message = "{what} inside 'async def {function}': a sync Session blocks the event loop; use AsyncSession (or make the function sync)"

    def setup(self) -> None:
        self._params: list[dict[str, tuple[cst.Name, Unit, "Requirement | None"]]] = []
        # per function: the candidates the body uses on the event loop — a method called on it,
        # or passed to a call that is not awaited (a sync function) nor a thread pool's
        self._used: list[set[str]] = []
        # per function: candidates handed to project functions (name → their qualified names):
        # a use only if one of them talks to the database (`get_run_db(db)` may not)
        self._passed: list[dict[str, set[str]]] = []
        # per function: locals holding a project object built around a candidate
        # (`repo = UserRepository(db)`) → (candidate, the class's qualified name)
        self._carriers: list[dict[str, tuple[str, str]]] = []
        self._awaited: set[int] = set()  # ids of awaited calls (their callee is a coroutine)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        candidates: dict[str, tuple[cst.Name, Unit, "Requirement | None"]] = {}
        self._params.append(candidates)
        self._used.append(set())
        self._passed.append({})
        self._carriers.append({})
        if node.asynchronous is None:
            return
        scope = self.ctx.scope
        p = node.params
        for param in (*p.posonly_params, *p.params, *p.kwonly_params):
            if param.annotation is None:
                continue
            annotation = param.annotation.annotation
            if is_sync_session_annotation(annotation, scope):
                candidates[param.name.value] = (param.name, self.ctx.current_unit, None)
                continue
            for part in unwrap_annotation(annotation, scope):
                imported = scope.imports.resolve(part) if isinstance(part, cst.Name) else None
                if imported is not None and may_be_project_name(imported):
                    # `db: DbDep` where DbDep = Annotated[Session, Depends(...)] in another module
                    candidates[param.name.value] = (param.name, self.ctx.current_unit, SyncSessionAlias(imported))

    def visit_Await(self, node: cst.Await) -> None:
        # `await session.execute(...)`: the object is async whatever its annotation says
        expr = node.expression
        if isinstance(expr, cst.Call):
            self._awaited.add(id(expr))
        if self._params and isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
            receiver = expr.func.value
            if isinstance(receiver, cst.Name):
                self._params[-1].pop(receiver.value, None)

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        used = self._used.pop()
        passed = self._passed.pop()
        self._carriers.pop()
        for name, (target, unit, requirement) in self._params.pop().items():
            if name in used:  # evidence that the sync session runs on the event loop
                self.report(target, unit=unit, requires=requirement, what=f"parameter '{name}' is a sync Session", function=node.name.value)
            elif name in passed:
                io = DoesDbIo(tuple(sorted(passed[name])))
                self.report(target, unit=unit, requires=(requirement, io), what=f"parameter '{name}' is a sync Session", function=node.name.value)

    def visit_Call(self, node: cst.Call) -> None:
        if self._params and self._params[-1]:
            self._note_uses(node)
        function = self.ctx.scope.function
        if function is None or function.node.asynchronous is None:
            return
        scope = self.ctx.scope
        if is_sync_session_call(node, scope):
            self.report(node, what=f"{dotted_name(node.func) or 'Session'}() creates a sync Session", function=function.node.name.value)
            return
        imported = scope.callee(node) if isinstance(node.func, cst.Name) and not node.args else None
        if imported is not None and may_be_project_name(imported):
            self.report(
                node,
                requires=SyncSessionFactory(imported),
                what=f"{dotted_name(node.func)}() creates a sync Session",
                function=function.node.name.value,
            )


    def visit_Assign(self, node: cst.Assign) -> None:
        # `repo = UserRepository(db)`: what repo's methods do is what happens to db
        if not (self._params and self._params[-1]) or len(node.targets) != 1 or not isinstance(node.targets[0].target, cst.Name):
            return
        built = self._built_around(node.value)
        if built is not None:
            self._carriers[-1][node.targets[0].target.value] = built

    def _built_around(self, expr: cst.BaseExpression) -> Optional[tuple[str, str]]:
        """(candidate, class) for `ProjectClass(..., candidate, ...)`."""
        if not isinstance(expr, cst.Call):
            return None
        target = self.ctx.scope.call_target(expr)
        if target is None or not names_a_class(target):
            return None
        for arg in expr.args:
            if isinstance(arg.value, cst.Name) and arg.value.value in self._params[-1]:
                return arg.value.value, target
        return None

    def _note_uses(self, node: cst.Call) -> None:
        candidates = self._params[-1]
        used = self._used[-1]
        func = node.func
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value in candidates:
            used.add(func.value.value)
        if isinstance(func, cst.Attribute):
            carrier = self._carriers[-1].get(func.value.value) if isinstance(func.value, cst.Name) else self._built_around(func.value)
            if carrier is not None:  # `repo.get_all()` / `UserRepository(db).get_all()`
                self._passed[-1].setdefault(carrier[0], set()).add(f"{carrier[1]}.{func.attr.value}")
        if id(node) in self._awaited or last_name(func) in _THREAD_POOL_CALLS:
            return  # an async callee or a thread pool: what becomes of the session is not here
        target = self.ctx.scope.call_target(node)
        for arg in node.args:
            if isinstance(arg.value, cst.Name) and arg.value.value in candidates:
                if target is None:
                    used.add(arg.value.value)
                else:
                    self._passed[-1].setdefault(arg.value.value, set()).add(target)


# Calls that run their function argument in a worker thread (a sync session is fine there).
_THREAD_POOL_CALLS = frozenset({"run_in_threadpool", "to_thread", "run_in_executor", "run_sync", "run_sync_in_worker_thread"})


class MissingAwait(Rule):
    """An un-awaited coroutine never runs: the commit, flush or query silently does not happen."""

    code = "FR405"
    name = "missing-await"
    summary = "an AsyncSession / AsyncConnection coroutine method called without await"
    message = "'{call}' is a coroutine and is never awaited: the statement does not run; write 'await {call}'"
    severity = "error"

    def setup(self) -> None:
        # per function: name → (call, unit) of `x = session.commit()` not awaited (yet)
        self._pending: list[dict[str, tuple[cst.Call, Unit]]] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._pending.append({})

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        for call, unit in self._pending.pop().values():
            self._report(call, unit)

    def _coroutine_call(self, expr: Optional[cst.BaseExpression]) -> Optional[cst.Call]:
        if not isinstance(expr, cst.Call) or not isinstance(expr.func, cst.Attribute):
            return None
        kind = async_session_kind(expr.func.value, self.ctx.scope)
        if kind is None:
            return None
        methods = ASYNC_SESSION_COROUTINES if kind == "session" else ASYNC_CONNECTION_COROUTINES
        return expr if expr.func.attr.value in methods else None

    def _report(self, call: cst.Call, unit: Unit = None) -> None:
        text = f"{dotted_name(call.func) or 'session.method'}(...)"
        if unit is None:
            self.report(call, call=text)
        else:
            self.report(call, unit=unit, call=text)

    def visit_Expr(self, node: cst.Expr) -> None:
        call = self._coroutine_call(node.value)
        if call is not None:
            self._report(call)

    def visit_Assign(self, node: cst.Assign) -> None:
        call = self._coroutine_call(node.value)
        if call is None or not self._pending:
            return
        for target in node.targets:
            if isinstance(target.target, cst.Name):
                self._pending[-1][target.target.value] = (call, self.ctx.current_unit)

    def _consume(self, expr: Optional[cst.BaseExpression]) -> None:
        if isinstance(expr, cst.Name) and self._pending:
            self._pending[-1].pop(expr.value, None)

    def visit_Await(self, node: cst.Await) -> None:
        self._consume(node.expression)

    def visit_Return(self, node: cst.Return) -> None:
        self._consume(node.value)

    def visit_Call(self, node: cst.Call) -> None:
        # handed to asyncio.gather / create_task / another function: awaited elsewhere
        for arg in node.args:
            self._consume(arg.value)


@dataclass(frozen=True)
class CommitInLoopOptions:
    """Options of FR406."""

    # also report a loop calling the project's own function that commits (itself or through the
    # functions it calls, up to three calls deep): `for t in terms: term_service.update(db, t)`
    follow_helpers: bool = False


class CommitInLoop(Rule):
    """One transaction per row: slow, and a failure halfway leaves half the rows committed."""

    code = "FR406"
    name = "commit-in-loop"
    default_enabled = False  # below the 95% precision bar on unseen backends: rules/FR406.md
    summary = "session.commit() inside a loop (one transaction per row)"
    message = "{call} inside a loop commits one transaction per iteration: commit once after the loop (flush() inside it if needed)"
    Options = CommitInLoopOptions

    def setup(self) -> None:
        # loop depth at each enclosing `if` / error-isolating `try` (commits there are deliberate)
        self._guards: list[int] = []
        # loop depth at each enclosing block, when the block leaves the loop (`return`, `break`,
        # `raise` among its statements): a commit there runs once, on the way out
        self._exits: list[int] = []

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        leaves = any(
            isinstance(small, (cst.Return, cst.Break, cst.Raise))
            for line in node.body if isinstance(line, cst.SimpleStatementLine) for small in line.body
        )
        self._exits.append(len(self.ctx.scope.loops) if leaves else -1)

    def leave_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self._exits.pop()

    def visit_If(self, node: cst.If) -> None:
        # a periodic test (`i % 100 == 0`) makes the commit per batch; a data test (`if matched:`)
        # leaves it per item, but on unseen backends those were deliberate (rules/FR406.md)
        self._guards.append(len(self.ctx.scope.loops))

    def leave_If(self, node: cst.If) -> None:
        self._guards.pop()

    def visit_Try(self, node: cst.Try) -> None:
        # a per-item transaction: the handler rolls back, or catches and goes on with the next item
        isolates = any(_calls_method(h, "rollback") or not _raises(h) for h in node.handlers)
        self._guards.append(len(self.ctx.scope.loops) if isolates else -1)

    def leave_Try(self, node: cst.Try) -> None:
        self._guards.pop()

    def visit_Finally(self, node: cst.Finally) -> None:
        # `try: ... finally: commit()`: each item's work is committed whatever happens to the next
        self._guards.append(len(self.ctx.scope.loops))

    def leave_Finally(self, node: cst.Finally) -> None:
        self._guards.pop()

    def visit_Call(self, node: cst.Call) -> None:
        scope = self.ctx.scope
        loops = scope.loops
        if not loops:
            return
        found = _session_method(node, self)
        helper: Optional[Commits] = None
        if found is None:
            # `term_service.update(db_session=db, term=t)` that commits inside
            target = scope.call_target(node) if self.options.follow_helpers else None
            if target is None or names_a_class(target):
                return
            helper = Commits(target)
        elif found[1] != "commit":
            return
        if any(is_retry_loop(loop, scope) or is_batch_loop(loop) or is_polling_loop(loop) for loop in loops):
            return
        if any(depth == len(loops) for depth in self._guards):
            return  # `if i % 100 == 0: commit()`, or a per-item transaction with rollback on error
        if len(loops) in self._exits:
            return  # found what it looked for: commit, then return / break
        if helper is not None:
            self.report(node, requires=helper, call=helper)
        else:
            self.report(node, call=f"'{dotted_name(node.func) or 'session.commit'}()'")


def _raises(handler: cst.ExceptHandler) -> bool:
    """The except clause raises (again): the failure still ends the loop."""
    return any(isinstance(n, cst.Raise) for n in descendants(handler.body, skip=NESTED_SCOPES))


def _calls_method(node: cst.CSTNode, method: str) -> bool:
    return any(
        isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute) and n.func.attr.value == method for n in descendants(node)
    )


class LegacyQueryApi(Rule):
    """`session.query()` is the 1.x API: AsyncSession has none, and 2.0 style is `select()`."""

    code = "FR407"
    name = "legacy-query-api"
    summary = "session.query(...) (SQLAlchemy 1.x Query API)"
    message = "'{receiver}.query(...)' is the legacy Query API (not available on AsyncSession): use select() with execute()/scalars()"
    convention = True
    # a small project on SQLAlchemy 2 that only ever uses query() has not decided: it has not moved
    decided_by_absence = False

    def visit_Call(self, node: cst.Call) -> None:
        found = _session_method(node, self)
        if found is None:
            return
        if found[1] == "query":
            if self.ctx.profile.sqlalchemy == 1:
                return  # a project on SQLAlchemy 1.x: Query is its API (1.3 has no 2.0-style select)
            self.report(node, receiver=dotted_name(found[0]) or "session")
        elif found[1] in ("execute", "scalars", "scalar"):
            self.conforms()
