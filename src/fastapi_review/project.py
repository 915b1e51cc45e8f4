"""The project phase: a ProjectIndex built from every file's FileFacts, and deferred findings."""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache
from typing import Iterable, Iterator, Optional, Union

from fastapi_review.facts import ClassFacts, FileFacts, Requirement

# What a qualified name can resolve to in the project.
DECLARATIVE_NAME = "declarative-base-name"  # a module-level name bound to declarative_base()
Resolved = Union[ClassFacts, str, None]

_MAX_HOPS = 8  # re-export chains longer than this are treated as unresolvable


class ProjectIndex:
    """Cross-file knowledge: modules by qualified name, classes, re-exports, declarative bases."""

    def __init__(self, facts: Iterable[FileFacts]) -> None:
        self.files: list[FileFacts] = list(facts)
        self.modules: dict[str, FileFacts] = {}
        self._by_suffix: dict[str, list[FileFacts]] = defaultdict(list)
        for f in self.files:
            self.modules.setdefault(f.module, f)
            parts = f.module.split(".")
            for i in range(len(parts)):
                self._by_suffix[".".join(parts[i:])].append(f)
        self._classes: dict[str, dict[str, ClassFacts]] = {
            f.module: {c.name: c for c in f.classes} for f in self.files
        }
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

    def satisfies(self, requirement: Requirement) -> bool:
        """Whether a deferred finding's requirement holds in this project."""
        from fastapi_review.semantics import models

        kind, arg = requirement
        if kind == "orm_model":
            return models.is_orm_model(self, arg)
        raise ValueError(f"unknown requirement {kind!r}")

    def classes(self) -> Iterator[ClassFacts]:
        """Every class of the project."""
        for f in self.files:
            yield from f.classes
