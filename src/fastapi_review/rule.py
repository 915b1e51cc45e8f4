"""The rule API: one small class per rule, driven by the engine's single traversal.

A rule declares its code, name, default, severity and message template as class
attributes, an ``Options`` dataclass for ``[tool.fastapi-review.rules.FRxxx]``, and
visitor-shaped methods (``visit_Call``, ``leave_FunctionDef`` on libcst node types).
It calls :meth:`Rule.report` with the node to point at and the template's arguments.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Literal, Optional, Sequence

import libcst as cst

from fastapi_review.facts import APP, TESTS, FileFacts
from fastapi_review.findings import Finding, Severity
from fastapi_review.positions import Unit
from fastapi_review.project import Requirement
from fastapi_review.semantics.conventions import ProjectConvention
from fastapi_review.semantics.names import ORM_LIBRARIES
from fastapi_review.semantics.scope import Scope


@dataclass(frozen=True)
class FileRoles:
    """What a file is (the engine decides it once per file; see roles.py)."""

    role: str = APP  # app, tests, migrations or generated (facts.ROLES)
    service: bool = False  # app code matching the `services` globs
    models: bool = False  # matches the `models` globs

    @property
    def test(self) -> bool:
        return self.role == TESTS


@dataclass(frozen=True)
class Profile:
    """What the project runs on, as it applies to one file (project_profile.py decides it):
    library majors from the nearest declaration or the configuration (None: not declared),
    and the database dialects the project's engine URLs and drivers show."""

    pydantic: Optional[int] = None
    sqlalchemy: Optional[int] = None
    dialects: frozenset[str] = frozenset()


@dataclass
class FixRequest:
    """Fix mode (off by default): the fix safeties to collect; the check fills in the tree and,
    for each finding that survived `# noqa` and offers such a fix, the rule's RuleFix."""

    safeties: frozenset[str]
    tree: Optional[cst.Module] = None
    edits: list[tuple[Finding, "RuleFix"]] = field(default_factory=list)


class FileContext:
    """What rules see of the file being checked: plain values the engine computed, the traversal
    context (`scope`) and the file's facts; findings are queued here until positions are known."""

    def __init__(
        self,
        path: str,
        facts: FileFacts,
        roles: FileRoles,
        session_names: tuple[str, ...],
        data: bytes = b"",
        fixes: Optional[FixRequest] = None,
        profile: Profile = Profile(),
        learn_conventions: bool = True,
    ) -> None:
        self.path = path
        self.profile = profile
        self.learn_conventions = learn_conventions
        self.data = data  # the file's bytes, for cheap whole-file checks
        self.fixes = fixes
        self.is_service_module = roles.service
        self.is_models_module = roles.models
        self.is_test_module = roles.test
        self.facts = facts
        self.scope = Scope(facts)
        self.session_names = session_names
        self._located: list[tuple[cst.CSTNode, Unit, Callable[[int], None]]] = []
        self._pending: list[tuple["Rule", cst.CSTNode, dict[str, object], tuple[Requirement, ...], Unit, Optional["RuleFix"]]] = []

    @property
    def in_service_code(self) -> bool:
        """Service code (RULES.md): a `services` module or a `*Service` class — route handlers
        (and functions nested in them) excepted, even in a file named like a service."""
        scope = self.scope
        if not (self.is_service_module or scope.in_service_class):
            return False
        for function in scope.functions:
            if function.routes:
                return False
        return True

    def locate(self, node: cst.CSTNode, on_line: Callable[[int], None]) -> None:
        """Ask for a node's line (for facts such as query sites); resolved after the traversal."""
        self._located.append((node, self.current_unit, on_line))

    def add_finding(
        self,
        rule: "Rule",
        node: cst.CSTNode,
        args: dict[str, object],
        requires: tuple[Requirement, ...],
        unit: Unit,
        fix: Optional["RuleFix"] = None,
    ) -> None:
        """Queue a finding; positions (and LineOf message arguments) are resolved after the traversal."""
        self._pending.append((rule, node, args, requires, unit, fix))

    @property
    def current_unit(self) -> Unit:
        """The innermost def/class around the traversal's current position (None at module level)."""
        units = self.scope.units
        return units[-1] if units else None


@dataclass(frozen=True)
class NoOptions:
    """Options of a rule that has none."""


@dataclass(frozen=True)
class LineOf:
    """A message argument that becomes the line number of another node once positions are known."""

    node: cst.CSTNode
    unit: Unit


@dataclass(frozen=True)
class RuleFix:
    """The fix a rule offers with a finding: node replacements (by identity, in the tree being
    checked) plus `from module import name` imports the new nodes need.

    Only `safety` and `description` reach the Finding; the nodes are kept when the engine is
    asked to collect fixes (fixes.py applies them in one transformer pass).
    """

    safety: Literal["safe", "unsafe"]
    description: str
    replace: tuple[tuple[cst.CSTNode, cst.CSTNode], ...]
    imports: tuple[tuple[str, str], ...] = ()


class OptionError(ValueError):
    """A rule option in the configuration has an unknown name or a wrong type."""


SQLALCHEMY_MODULES = tuple(library.encode() for library in ORM_LIBRARIES)  # `mentions` of rules about models and queries


class Rule:
    """Base class of every rule; subclasses set the class attributes below."""

    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]  # one line for `fastapi-review rules` and the README table
    message: ClassVar[str]
    severity: ClassVar[Severity] = "warning"
    default_enabled: ClassVar[bool] = True
    Options: ClassVar[type] = NoOptions
    # The file roles (roles.py) the rule runs on: application rules read app code only; the
    # configuration can add a role's files to a rule (roles.<role>.select).
    roles: ClassVar[frozenset[str]] = frozenset({APP})
    # A rule about a convention a team may or may not keep (type hints, route docstrings, status
    # constants, field descriptions, …): it counts the sites that follow it (`conforms`) and, with
    # `learn-conventions` on, reports only in projects that mostly follow it (semantics/conventions.py).
    convention: ClassVar[bool] = False
    # a small project that never once follows the convention (from 5 places) has decided; False
    # for a convention that is also an upgrade path (FR407's 2.0 query API)
    decided_by_absence: ClassVar[bool] = True
    # the safety of the fix the rule offers with (some of) its findings; None: no fix
    fix_safety: ClassVar[Optional[Literal["safe", "unsafe"]]] = None
    # Words one of which every file the rule can report in contains (the modules its names must
    # resolve to through the file's imports, the method names it matches): in a file with none
    # of them the rule is not run at all.  Empty: it runs on every file.
    mentions: ClassVar[tuple[bytes, ...]] = ()

    def __init__(self, ctx: FileContext, options: Any) -> None:
        self.ctx = ctx
        self.options = options
        self.setup()

    def setup(self) -> None:
        """Called once per file before the traversal; override to create per-file state."""

    def report(
        self,
        node: cst.CSTNode,
        *,
        requires: Optional[Requirement] | Sequence[Optional[Requirement]] = None,
        unit: Unit | str = "current",
        fix: Optional[RuleFix] = None,
        convention_kind: str | tuple[str, ...] = "",
        **message_args: object,
    ) -> None:
        """Report `node`; `requires` (one requirement or several) defers the finding until the
        project index confirms each of them.  A message argument whose value is a requirement
        is filled in by the project phase with its `detail`.  `unit` is the def/class around
        `node` when reporting after the traversal moved on (from `finish`); `fix` offers an edit."""
        if requires is None:
            needed: tuple[Requirement, ...] = ()
        elif isinstance(requires, Requirement):
            needed = (requires,)
        else:
            needed = tuple(r for r in requires if r is not None)
        if self.convention:
            counts = self.ctx.facts.conventions
            module = self.ctx.facts.module
            for key in self._convention_keys(convention_kind):
                follow, deviate = counts.get(key, (0, 0))
                counts[key] = (follow, deviate + 1)
                if self.ctx.learn_conventions:
                    needed = (*needed, ProjectConvention(key, module, self.decided_by_absence))
        where = self.ctx.current_unit if unit == "current" else unit
        self.ctx.add_finding(self, node, message_args, needed, where, fix)  # type: ignore[arg-type]

    def conforms(self, convention_kind: str | tuple[str, ...] = "") -> None:
        """Count a site that follows this (convention) rule's convention; `convention_kind` (one
        or several) also counts it for narrower conventions of the same rule (FR102's procedures,
        FR101's parameters of one name, the functions of one name), which `report(...,
        convention_kind=...)` then also checks."""
        counts = self.ctx.facts.conventions
        for key in self._convention_keys(convention_kind):
            follow, deviate = counts.get(key, (0, 0))
            counts[key] = (follow + 1, deviate)

    def finish(self) -> None:
        """Called once after the traversal of a file; override to report what needs the whole file."""

    def _convention_keys(self, kinds: str | tuple[str, ...]) -> tuple[str, ...]:
        narrower = (kinds,) if isinstance(kinds, str) else kinds
        return (self.code, *(f"{self.code}:{kind}" for kind in narrower if kind))


def option_key(field: "dataclasses.Field[Any]") -> str:
    """The TOML spelling of an options-dataclass field (`max_statements` → `max-statements`;
    metadata `key` for names that are Python keywords, such as `async`)."""
    return field.metadata.get("key") or field.name.replace("_", "-")


def build_options(rule: type[Rule], raw: dict[str, Any]) -> Any:
    """Validate `raw` (a TOML table) against the rule's Options dataclass and build it."""
    import difflib

    fields = {option_key(f): f for f in dataclasses.fields(rule.Options)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        field = fields.get(key)
        if field is None:
            hint = difflib.get_close_matches(key, list(fields), n=1)
            known = ", ".join(sorted(fields)) or "none"
            suggestion = f"; did you mean {hint[0]!r}?" if hint else f" (known options: {known})"
            raise OptionError(f"unknown option {key!r} for {rule.code}{suggestion}")
        values[field.name] = _coerce(rule, key, field, value)
    return rule.Options(**values)


def _coerce(rule: type[Rule], key: str, field: dataclasses.Field, value: Any) -> Any:
    default = field.default if field.default is not dataclasses.MISSING else field.default_factory()  # type: ignore[misc]
    where = f"{rule.code}.{key}"
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise OptionError(f"{where} must be true or false, not {value!r}")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise OptionError(f"{where} must be a non-negative integer, not {value!r}")
        return value
    if isinstance(default, str):
        if not isinstance(value, str):
            raise OptionError(f"{where} must be a string, not {value!r}")
        if field.metadata.get("regex"):
            try:
                re.compile(value)
            except re.error as exc:
                raise OptionError(f"{where} is not a valid regular expression: {exc}") from None
        choices = field.metadata.get("choices")
        if choices and value not in choices:
            raise OptionError(f"{where} must be one of {', '.join(map(repr, choices))}, not {value!r}")
        return value
    if isinstance(default, tuple):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise OptionError(f"{where} must be a list of strings, not {value!r}")
        choices = field.metadata.get("choices")
        bad = [v for v in value if choices and v not in choices]
        if bad:
            raise OptionError(f"{where}: unknown value(s) {', '.join(map(repr, bad))}")
        return tuple(value)
    raise AssertionError(f"unsupported option type for {where}")  # a bug in the rule definition
