"""Project conventions learned from the project itself.

A convention rule (Rule.convention) counts, per file, the sites that follow its convention and
the sites it reports (FileFacts.conventions).  With `learn-conventions` on (the default), its
findings wait on ProjectConvention: they are kept only where the project mostly follows the
convention — at least as many sites conform as deviate — so the deviations are the project's
own outliers.  A project that never writes route docstrings, status constants or field
descriptions has decided so; telling it on every route is noise.  Below MIN_SITES sites a
project has shown no convention of its own, and the checklist's stands (everything reported).
"""

from __future__ import annotations

from fastapi_review.project import ProjectIndex, Requirement

MIN_SITES = 10
MIN_FILE_SITES = 5


def follows(follow: int, deviate: int, minimum: int, by_absence: bool = True) -> bool:
    """Whether findings stand: the sites follow the convention at least as often as they deviate,
    or there are fewer than `minimum` of them (no convention of the project's own shows) — unless
    (`by_absence`) not one of at least MIN_FILE_SITES follows it: a small project that never once
    writes it has decided too."""
    if by_absence and follow == 0 and deviate >= MIN_FILE_SITES:
        return False
    return follow >= deviate or follow + deviate < minimum


def convention_counts(index: ProjectIndex, code: str) -> tuple[int, int]:
    """(sites that follow, sites that deviate) of a rule's convention over the whole project."""

    def count() -> tuple[int, int]:
        follow = deviate = 0
        for module in index.modules.values():
            counts = module.conventions.get(code)
            if counts is not None:
                follow += counts[0]
                deviate += counts[1]
        return follow, deviate

    return index.memo(("convention", code), count)


def package_of(module: str) -> str:
    """The package a module belongs to: its dotted name without the last part."""
    return module.rpartition(".")[0]


def package_counts(index: ProjectIndex, code: str, package: str) -> tuple[int, int]:
    """(follow, deviate) of a convention over the modules directly in one package."""

    def count() -> dict[str, tuple[int, int]]:
        totals: dict[str, tuple[int, int]] = {}
        for name, module in index.modules.items():
            counts = module.conventions.get(code)
            if counts is not None:
                follow, deviate = totals.get(package_of(name), (0, 0))
                totals[package_of(name)] = (follow + counts[0], deviate + counts[1])
        return totals

    return index.memo(("convention-packages", code), count).get(package, (0, 0))


def narrower_conventions(index: ProjectIndex, code: str) -> list[str]:
    """The `code:kind` conventions counted anywhere in the project, sorted."""
    prefix = f"{code}:"
    return sorted({key for m in index.modules.values() for key in m.conventions if key.startswith(prefix)})


class ProjectConvention(Requirement, kind="project_convention"):
    """The project follows rule `code`'s convention (`code:kind` for a narrower one: `FR102:
    procedure`, `FR101:param=db`) at least as often as it deviates from it, and so do the
    module's package (from MIN_SITES sites in its modules) and the module itself (from
    MIN_FILE_SITES sites in it): a package or module written without the convention — the
    provider implementations of a plugin package, a legacy module, the private endpoints of a
    project that documents only its public ones — is a decision of its own, not a pile of
    outliers."""

    code: str
    module: str
    # whether a small project that never once follows it has decided (Rule.decided_by_absence)
    by_absence: bool

    def holds(self, index: ProjectIndex) -> bool:
        if not follows(*convention_counts(index, self.code), MIN_SITES, self.by_absence):
            return False
        package = package_of(self.module)
        if package and not follows(*package_counts(index, self.code, package), MIN_SITES, self.by_absence):
            return False
        facts = index.modules.get(self.module)
        counts = facts.conventions.get(self.code) if facts is not None else None
        return counts is None or follows(*counts, MIN_FILE_SITES, self.by_absence)
