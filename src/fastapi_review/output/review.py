"""What a review says, apart from how it is printed: the checklist and which rules decide each
item, which agent acts next for which findings, and the verdict.

The two tables here (CHECKLIST, AGENTS) are the only place either mapping is written; the
README's tables are generated from them (`checklist_table()`, `agent_table()`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence

from fastapi_review.findings import Finding

SEVERITY_ORDER = {"error": 0, "warning": 1}


@dataclass(frozen=True)
class ChecklistItem:
    """One line of the checklist ("Before considering work complete") and the rules that decide it."""

    title: str
    codes: tuple[str, ...]


CHECKLIST: tuple[ChecklistItem, ...] = (
    ChecklistItem("Database queries are efficient (no N+1, eager loading, indexes)", ("FR402", "FR403", "FR406", "FR501", "FR503", "FR504")),
    ChecklistItem("Errors are raised as HTTPException with a status constant and a detail", ("FR209", "FR301", "FR302", "FR303")),
    ChecklistItem("Type hints on all functions", ("FR101", "FR102")),
    ChecklistItem("Pydantic models for all request and response data", ("FR204", "FR205", "FR601", "FR602", "FR604")),
    ChecklistItem("OpenAPI documentation complete", ("FR203", "FR206", "FR305", "FR603")),
    ChecklistItem("Tests written for every route", ("FR801",)),
)


@dataclass(frozen=True)
class Agent:
    """An agent of the workflow and the findings it is the one to act on (codes or prefixes)."""

    name: str
    selectors: tuple[str, ...]
    reason: str


# In priority order: a finding goes to the first agent whose selector matches its code; when
# several agents have findings, the one with the most severe finding is invoked first (ties:
# this order) and the others are listed after it.
AGENTS: tuple[Agent, ...] = (
    Agent("security-review", ("FR401", "FR605"), "SQL built from data (injection), secrets or tokens in responses"),
    Agent("database-migrations", ("FR9",), "migration rules and model/migration drift"),
    Agent("query-optimizer", ("FR402", "FR403", "FR406", "FR407", "FR501", "FR503", "FR504"), "N+1 queries, lazy loading, missing indexes, commits in loops, the legacy query API"),
    Agent("test-coverage", ("FR801",), "routes no test requests"),
    Agent("backend-implementation", ("FR",), "every other finding: the implementing agent fixes it and runs the review again"),
)
WORKFLOW_COMPLETE = "Workflow complete"

AREAS: dict[str, str] = {
    "FR0": "The checker itself",
    "FR1": "Type hints",
    "FR2": "Route handlers",
    "FR3": "Error handling",
    "FR4": "SQL and database access",
    "FR5": "SQLAlchemy models",
    "FR6": "Pydantic schemas",
    "FR7": "Services and architecture",
    "FR8": "Tests",
    "FR9": "Alembic migrations",
}


def area_of(code: str) -> str:
    """The catalogue's section a code belongs to (`FR401` → "SQL and database access")."""
    return AREAS.get(code[:3], "Other")


def agent_of(code: str) -> Agent:
    """The agent that acts on findings of this code."""
    return next(agent for agent in AGENTS if any(code.startswith(s) for s in agent.selectors))


def most_severe_first(findings: Iterable[Finding]) -> list[Finding]:
    """Errors before warnings, then in report order (path, position, code)."""
    return sorted(findings, key=lambda f: (SEVERITY_ORDER[f.severity], f.sort_key()))


@dataclass(frozen=True)
class ItemResult:
    """A checklist item as this run decided it."""

    item: ChecklistItem
    status: str  # "ticked", "not ticked" or "not checked"
    findings: tuple[Finding, ...]
    unchecked: tuple[str, ...]  # its codes that were not enabled


@dataclass(frozen=True)
class AgentWork:
    """An agent and the findings it is asked to act on."""

    agent: Agent
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class ReviewContext:
    """What a review needs besides the findings."""

    paths: tuple[str, ...]  # what was checked, as given
    enabled: frozenset[str]  # the codes that ran
    files_checked: int
    root: Path  # links are relative to it (the repository's root)
    diff_base: Optional[str] = None
    files_modified: Optional[tuple[str, ...]] = None  # relative to root; None: not known
    source_of: Optional[Callable[[str], Optional[str]]] = None  # a finding's file (code excerpts)


@dataclass(frozen=True)
class Review:
    """The review of one run: verdict, checklist, other findings, and the hand-off."""

    context: ReviewContext
    findings: tuple[Finding, ...]
    verdict: str
    items: tuple[ItemResult, ...]
    other: tuple[Finding, ...]  # findings no checklist item is decided by
    work: tuple[AgentWork, ...]  # most urgent first; empty when clean

    def relative(self, path: str) -> str:
        """A finding's path relative to the root, with `/` separators."""
        absolute = os.path.abspath(path)
        try:
            relative = os.path.relpath(absolute, self.context.root)
        except ValueError:  # another drive on Windows
            return path.replace(os.sep, "/")
        return (path if relative.startswith("..") else relative).replace(os.sep, "/")


def verdict_of(findings: Sequence[Finding]) -> str:
    """"Changes requested" with an error, "Changes suggested" with warnings only, else "Clean"."""
    if any(f.severity == "error" for f in findings):
        return "Changes requested"
    return "Changes suggested" if findings else "Clean"


def build_review(findings: Sequence[Finding], context: ReviewContext) -> Review:
    """Decide the checklist, split off the other findings and choose who acts next."""
    unique = tuple(sorted(set(findings), key=Finding.sort_key))
    on_checklist = {code for item in CHECKLIST for code in item.codes}
    items = []
    for item in CHECKLIST:
        decisive = tuple(f for f in unique if f.code in item.codes)
        unchecked = tuple(code for code in item.codes if code not in context.enabled)
        if decisive:
            status = "not ticked"
        elif len(unchecked) == len(item.codes):
            status = "not checked"
        else:
            status = "ticked"
        items.append(ItemResult(item, status, decisive, unchecked))
    by_agent: dict[str, list[Finding]] = {}
    for finding in unique:
        by_agent.setdefault(agent_of(finding.code).name, []).append(finding)
    order = {agent.name: i for i, agent in enumerate(AGENTS)}
    work = sorted(
        (AgentWork(agent, tuple(by_agent[agent.name])) for agent in AGENTS if agent.name in by_agent),
        key=lambda w: (min(SEVERITY_ORDER[f.severity] for f in w.findings), order[w.agent.name]),
    )
    return Review(
        context=context,
        findings=unique,
        verdict=verdict_of(unique),
        items=tuple(items),
        other=tuple(f for f in unique if f.code not in on_checklist),
        work=tuple(work),
    )


def checklist_table() -> str:
    """The README's checklist table (generated: the code is the one place it is written)."""
    rows = [f"| {item.title} | {', '.join(item.codes)} |\n" for item in CHECKLIST]
    return "| checklist item | decided by |\n|---|---|\n" + "".join(rows)


def agent_table() -> str:
    """The README's agent table (generated, like the checklist table)."""
    rows = [f"| `{agent.name}` | {', '.join(_selector(s) for s in agent.selectors)} | {agent.reason} |\n" for agent in AGENTS]
    return "| next agent | for findings of | what for |\n|---|---|---|\n" + "".join(rows) + f"| {WORKFLOW_COMPLETE} | no findings | nothing is left to do |\n"


def _selector(selector: str) -> str:
    """`FR401` as is, a prefix as its codes (`FR9` → `FR9xx`), `FR` as every other code."""
    if selector == "FR":
        return "any other code"
    return selector + "x" * (5 - len(selector))
