"""The project index — every file's FileFacts linked by module and name (resolution through
re-exports, class ancestry) — and the protocol of the cross-file questions deferred findings
wait on.

Each kind of question (a `Requirement` subclass) is declared once, beside the semantics that
answer it (`semantics/models.py`, `semantics/routes.py`, …); this module knows none of them.
"""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache
from operator import itemgetter
from typing import Any, Callable, ClassVar, Iterable, Iterator, Optional, TypeVar, Union

from fastapi_review.facts import ClassFacts, FileFacts, FunctionFacts, RouteFacts

# What a qualified name can resolve to in the project.
DECLARATIVE_NAME = "declarative-base-name"  # a module-level name bound to declarative_base()
Resolved = Union[ClassFacts, str, None]
T = TypeVar("T")

MAX_HOPS = 8  # re-export chains longer than this are treated as unresolvable


class Requirement(tuple):  # type: ignore[type-arg]
    """A question about the whole project that a per-file finding waits on: the finding is kept
    only if `holds(index)`.  A message argument whose value is a requirement is filled in with
    its `detail(index)` (the statuses, routes or query sites the answer found).

    A kind is declared once, with a unique `kind` and its fields as annotations, beside the
    semantics that answer it:

        class OrmModel(Requirement, kind="orm_model"):
            qualname: str

            def holds(self, index: ProjectIndex) -> bool: ...

    An instance is the tuple `(kind, *fields)` of plain values (strings, ints, tuples of
    strings): immutable, cheap to build, pickle and hash, and equal only to the same question
    of the same kind, so the index answers each distinct question once.
    """

    __slots__ = ()
    kind: ClassVar[str]
    fields: ClassVar[tuple[str, ...]] = ()
    # A requirement that holds by the absence of something anywhere in the project ("no module
    # registers a handler for it") is answerable only by an index of the whole project: in a
    # run that sees part of it (the flake8 plugin, a single file without the cache), its
    # findings stay silent instead of reporting what another file may well contradict.
    needs_whole_project: ClassVar[bool] = False

    def __init_subclass__(cls, kind: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not kind:
            raise TypeError(f"{cls.__name__}: a requirement declares its kind")
        if kind in REQUIREMENT_KINDS:
            raise TypeError(f"requirement kind {kind!r} is declared twice ({REQUIREMENT_KINDS[kind].__name__}, {cls.__name__})")
        cls.kind = kind
        cls.fields = tuple(cls.__dict__.get("__annotations__", {}))
        for position, name in enumerate(cls.fields, start=1):
            setattr(cls, name, property(itemgetter(position), doc=f"the {name} asked about"))
        REQUIREMENT_KINDS[kind] = cls

    def __new__(cls, *values: Any) -> "Requirement":
        if len(values) != len(cls.fields):
            raise TypeError(f"{cls.__name__} takes {', '.join(cls.fields) or 'no fields'}")
        return tuple.__new__(cls, (cls.kind, *values))

    def holds(self, index: "ProjectIndex") -> bool:
        """Whether the finding waiting on this requirement is right in this project."""
        raise NotImplementedError

    def detail(self, index: "ProjectIndex") -> Optional[str]:
        """The text this requirement contributes to its finding's message (None: nothing)."""
        return None

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(map(repr, self[1:]))})"

    def __reduce__(self) -> tuple[type, tuple[Any, ...]]:
        return type(self), tuple(self[1:])


# kind → the Requirement subclass declaring it (filled as the semantics modules are imported)
REQUIREMENT_KINDS: dict[str, type[Requirement]] = {}


class ProjectIndex:
    """Cross-file knowledge: modules by qualified name, classes, re-exports, declarative bases."""

    def __init__(self, facts: Iterable[FileFacts]) -> None:
        self.files: list[FileFacts] = list(facts)
        self.modules: dict[str, FileFacts] = {}
        self._satisfied: dict[Requirement, bool] = {}
        self._memo: dict[object, Any] = {}
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
        self.functions: dict[str, FunctionFacts] = {q: fn for f in self.files for q, fn in f.functions.items()}
        self.resolve = lru_cache(maxsize=None)(self._resolve)  # type: ignore[method-assign]
        self.ancestors = lru_cache(maxsize=None)(self._ancestors)  # type: ignore[method-assign]

    def memo(self, key: object, compute: Callable[[], T]) -> T:
        """`compute()` once per index for `key` (the index never changes once built): where the
        semantics modules keep what they derived from the whole project."""
        try:
            return self._memo[key]  # type: ignore[no-any-return]
        except KeyError:
            value = self._memo[key] = compute()
            return value

    def satisfies(self, requirement: Requirement) -> bool:
        """Whether a deferred finding's requirement holds in this project (memoized: many
        findings wait on the same requirement)."""
        known = self._satisfied.get(requirement)
        if known is None:
            known = self._satisfied[requirement] = requirement.holds(self)
        return known

    def module(self, name: str) -> Optional[FileFacts]:
        """The file of module `name`: exact, else the unique module whose name ends with it."""
        found = self.modules.get(name)
        if found is not None:
            return found
        candidates = self._by_suffix.get(name, [])
        return candidates[0] if len(candidates) == 1 else None

    def _resolve(self, qualname: str, hops: int = 0) -> Resolved:
        """The class (or declarative-base name) a qualified name denotes, following re-exports."""
        if hops > MAX_HOPS or "." not in qualname:
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

    def locate(self, qualname: str) -> Optional[tuple[FileFacts, str]]:
        """(file, local name) where a module-level name is bound, following re-exports."""
        for _ in range(MAX_HOPS):
            module_name, _, name = qualname.rpartition(".")
            facts = self.module(module_name) if module_name else None
            if facts is None:
                return None
            target = facts.imports.get(name)
            if target is None or target == qualname:
                return facts, name
            qualname = target
        return None

    def alias_chain(self, qualname: str) -> Iterator[tuple[FileFacts, str]]:
        """(file, local name) of a module-level `Annotated[...]` alias, then of each alias it
        wraps (`Name = Annotated[Inner, ...]`), as far as the project binds them."""
        for _ in range(MAX_HOPS):
            located = self.locate(qualname)
            if located is None:
                return
            yield located
            facts, name = located
            inner = facts.annotated_aliases.get(name)
            if inner is None:
                return
            qualname = inner

    def canonical(self, qualname: str) -> str:
        """`module.name` where a module-level name is bound (itself when it is not found)."""
        located = self.locate(qualname)
        return f"{located[0].module}.{located[1]}" if located is not None else qualname

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

    def canonical_class(self, qualname: str) -> Optional[str]:
        """The defining qualified name of a class named through any import path."""
        resolved = self.resolve(qualname)
        return resolved.qualname if isinstance(resolved, ClassFacts) else None

    def canonical_classes(self, names: Iterable[str]) -> set[str]:
        """`canonical_class` of each name that is a class of the project."""
        return {c for n in names if (c := self.canonical_class(n)) is not None}

    def function(self, qualname: str) -> Optional[FunctionFacts]:
        """A function by qualified name; the module part may be a suffix (`app.x` for `src.app.x`)."""
        found = self.functions.get(qualname)
        if found is not None:
            return found
        module_name, _, name = qualname.rpartition(".")
        facts = self.module(module_name) if module_name else None
        return facts.functions.get(f"{facts.module}.{name}") if facts is not None else None

    def routes(self) -> Iterator[RouteFacts]:
        """Every route handler of the project."""
        for f in self.files:
            yield from f.routes

    def classes(self) -> Iterator[ClassFacts]:
        """Every class of the project."""
        for f in self.files:
            yield from f.classes
