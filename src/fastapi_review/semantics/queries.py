"""Query sites across the project: which model columns queries filter or sort on (FR504)."""

from __future__ import annotations

import re
from typing import Iterator, Optional

from fastapi_review.facts import APP, ClassFacts, FunctionFacts
from fastapi_review.project import ProjectIndex, Requirement
from fastapi_review.semantics.models import is_orm_class_or_mixin
from fastapi_review.semantics.names import names_a_class


def _sites_by_column(index: ProjectIndex) -> dict[tuple[str, str], list[tuple[str, int]]]:
    sites: dict[tuple[str, str], list[tuple[str, int]]] = {}
    for f in index.files:
        if f.role != APP:  # a backfill script or a test querying a column is no workload
            continue
        for model, name, line, others in f.query_sites:
            canonical = index.canonical_class(model)
            if canonical is not None and not _served_by_another(index, others):
                sites.setdefault((canonical, name), []).append((f.path, line))
    return sites


def _served_by_another(index: ProjectIndex, others: tuple[str, ...]) -> bool:
    """The statement also filters on a column an index leads with (`where(Order.user_id == u)
    .order_by(Order.created_at)`, user_id indexed): that index serves it, not one on this column."""
    for other in others:
        model, _, column = other.partition("|")
        canonical = index.canonical_class(model)
        if canonical is not None and _indexed(index, canonical, column):
            return True
    return False


def _indexed(index: ProjectIndex, model: str, column: str) -> bool:
    """The model's body, or a base's, indexes the column (flags or `__table_args__`)."""
    for qualname in (model, *index.ancestors(model)):
        cls = index.resolve(qualname)
        if isinstance(cls, ClassFacts) and column in cls.indexed_columns:
            return True
    return False


def query_sites(index: ProjectIndex, declaring_class: str, column: str) -> list[tuple[str, int]]:
    """(path, line) of queries filtering or sorting on `column` of a model declared by (or
    inheriting it from) `declaring_class`."""
    by_column = index.memo(_sites_by_column, lambda: _sites_by_column(index))
    sites: list[tuple[str, int]] = []
    for (model, name), found in by_column.items():
        if name != column:
            continue
        if model == declaring_class:
            sites.extend(found)
        elif declaring_class in index.ancestors(model) and not _indexes_itself(index, model, column):
            sites.extend(found)  # a mixin's column, queried on a model that does not index it
    return sorted(set(sites))


def _indexes_itself(index: ProjectIndex, model: str, column: str) -> bool:
    """The model's own body indexes the column it inherits (a `UniqueConstraint("email", ...)` in
    its `__table_args__`), or computes its `__table_args__`."""
    cls = index.resolve(model)
    return isinstance(cls, ClassFacts) and bool({column, "*"} & set(cls.indexed_columns))


class FilteredUnindexed(Requirement, kind="filtered_unindexed"):
    """At least `minimum` query sites filter or sort on `model.column` of an ORM class or mixin;
    the detail lists the first sites."""

    model: str
    column: str
    minimum: int

    def holds(self, index: ProjectIndex) -> bool:
        canonical = index.canonical_class(self.model)
        return canonical is not None and len(query_sites(index, canonical, self.column)) >= self.minimum and (
            is_orm_class_or_mixin(index, canonical)
        )

    def detail(self, index: ProjectIndex) -> str:
        canonical = index.canonical_class(self.model) or self.model
        sites = query_sites(index, canonical, self.column)
        shown = ", ".join(f"{path}:{line}" for path, line in sites[:3])
        return shown + (f" and {len(sites) - 3} more" if len(sites) > 3 else "")


# -- queries through the project's own functions ------------------------------------------------

MAX_CALL_DEPTH = 3  # calls followed from a helper to the session method that talks to the database
MAX_LOADER_DEPTH = 1  # for a read per item: the helper reads, or calls the function that does


# Words that name a write: a helper called so (or calling one so) creates or changes rows, whatever
# way it reaches the database (an upsert built elsewhere, a repository object, a local import).
_WRITE_WORDS = frozenset({
    "create", "update", "insert", "upsert", "delete", "remove", "save", "set", "register", "ensure",
    "add", "put", "write", "store", "sync", "mark", "assign", "apply", "increment", "decrement", "bump",
})
_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")


def names_a_write(qualname: str) -> bool:
    """`get_or_create`, `update_meter`, `setFlowRunState`: the function's own name says it writes."""
    return any(word.lower() in _WRITE_WORDS for word in _WORDS.findall(qualname.rsplit(".", 1)[-1]))


def resolve_function(index: ProjectIndex, qualname: str) -> Optional[str]:
    """The defining qualified name of a project function or method; a method named through its
    class (`app.repos.UserRepository.get`, re-exported or inherited) or through a module-level
    instance of it (`app.crud.user.get`, `user = CRUDUser(User)`) is looked up in the class and
    its bases. None when the project defines no such function."""
    if index.function(qualname) is not None:
        return qualname
    owner, _, method = qualname.rpartition(".")
    cls = index.canonical_class(owner) if owner else None
    if cls is None and owner:
        # a module-level instance: `user = CRUDUser(User)`, then `crud.user.get(db, id)`
        located = index.locate(owner)
        bound = located[0].call_bindings.get(located[1]) if located is not None else None
        cls = index.canonical_class(bound) if bound is not None else None
    if cls is None:
        return None
    for candidate in (cls, *index.ancestors(cls)):
        if index.function(f"{candidate}.{method}") is not None:
            return f"{candidate}.{method}"
    return None


def _breadth_first(index: ProjectIndex, start: str, depth: int) -> Iterator[tuple[tuple[str, ...], FunctionFacts]]:
    """(chain, facts of its last function) for the project functions `start` reaches through at
    most `depth` calls, nearest first; a consumer stops the walk by not asking for more."""
    frontier: list[tuple[str, ...]] = [(start,)]
    seen = {start}
    for _ in range(depth + 1):
        following: list[tuple[str, ...]] = []
        for chain in frontier:
            facts = index.function(chain[-1])
            if facts is None:
                continue
            yield chain, facts
            for called in facts.calls:
                callee = resolve_function(index, called) or called
                if callee not in seen:
                    seen.add(callee)
                    following.append((*chain, callee))
        frontier = following


def db_chain(index: ProjectIndex, function: str, writes: bool = False) -> Optional[tuple[str, ...]]:
    """The project functions from `function` to one whose own body reads from a session (or, with
    `writes`, reads or writes), following at most MAX_CALL_DEPTH calls: (function, ..., reader).
    None when no such chain exists, or `function` is not a function of the project.

    Without `writes` it follows loaders only: a function that also writes (commits, deletes,
    flushes) on the way is an operation per item — creating, updating, notifying — not a read
    that one batched query could replace."""

    def compute() -> Optional[tuple[str, ...]]:
        start = resolve_function(index, function)
        if start is None:
            return None
        found: Optional[tuple[str, ...]] = None
        for chain, facts in _breadth_first(index, start, MAX_CALL_DEPTH if writes else MAX_LOADER_DEPTH):
            if writes and (facts.db_reads or facts.db_writes):
                return chain
            if not writes and (facts.db_writes or names_a_write(chain[-1]) or any(names_a_write(c) for c in facts.calls)):
                return None  # it (or what it calls) creates or changes rows: an operation
            if not writes and facts.db_reads and found is None:
                found = chain
        return found

    return index.memo(("db-chain", function, writes), compute)


def commit_chain(index: ProjectIndex, function: str) -> Optional[tuple[str, ...]]:
    """The project functions from `function` to one whose own body commits a session, following
    at most MAX_CALL_DEPTH calls (the shortest chain); None when there is none."""

    def compute() -> Optional[tuple[str, ...]]:
        start = resolve_function(index, function)
        if start is None:
            return None
        return next((chain for chain, facts in _breadth_first(index, start, MAX_CALL_DEPTH) if facts.commits), None)

    return index.memo(("commit-chain", function), compute)


def _through(chain: tuple[str, ...]) -> str:
    """" through a() → B.c()" for the functions after the first, else ""."""
    return f" through {' → '.join(_short(name) for name in chain[1:])}" if len(chain) > 1 else ""


def _short(qualname: str) -> str:
    """`app.repos.UserRepository.get` → `UserRepository.get()`; `app.crud.load` → `load()`."""
    owner, _, name = qualname.rpartition(".")
    if owner and names_a_class(owner):
        return f"{owner.rsplit('.', 1)[-1]}.{name}()"
    return f"{name}()"


class RunsQuery(Requirement, kind="runs_query"):
    """The project function reads from a session, itself or through the functions it calls."""

    function: str

    def holds(self, index: ProjectIndex) -> bool:
        return db_chain(index, self.function) is not None

    def detail(self, index: ProjectIndex) -> Optional[str]:
        chain = db_chain(index, self.function)
        return None if chain is None else f"{_short(self.function)}, which queries the database{_through(chain)},"


class DoesDbIo(Requirement, kind="does_db_io"):
    """Some of the project functions reads or writes through a session (itself or its callees)."""

    functions: tuple[str, ...]
    # a function not found is taken to do I/O: in a run that sees part of the project, that
    # would be every function of another file
    needs_whole_project = True

    def holds(self, index: ProjectIndex) -> bool:
        for name in self.functions:
            if resolve_function(index, name) is None:
                cls = index.canonical_class(name)
                if cls is None:
                    return True  # not the project's: nothing says it does no I/O
                name = f"{cls}.__init__"  # a project class: what its constructor does
            if db_chain(index, name, writes=True) is not None:
                return True
        return False


class Commits(Requirement, kind="commits"):
    """The project function commits a session, itself or through the functions it calls."""

    function: str

    def holds(self, index: ProjectIndex) -> bool:
        return commit_chain(index, self.function) is not None

    def detail(self, index: ProjectIndex) -> Optional[str]:
        chain = commit_chain(index, self.function)
        return None if chain is None else f"'{_short(self.function)}' (which commits{_through(chain)})"
