"""`fastapi-review explain PATH`: why a file gets the findings it gets — the configuration that
applies, the file's role, what its project runs on (library majors, dialects), the conventions
the project follows, and the rules that run on it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional

from fastapi_review.cache import Cache
from fastapi_review.checker import per_file_phase
from fastapi_review.config import Config
from fastapi_review.discovery import SourceFile, discover, named_file, project_root
from fastapi_review.project import ProjectIndex
from fastapi_review.selection import RULES_BY_CODE, RuleSet
from fastapi_review.semantics.conventions import (
    MIN_FILE_SITES,
    MIN_SITES,
    convention_counts,
    follows,
    narrower_conventions,
    package_counts,
    package_of,
)
from fastapi_review.semantics.models import MIN_MODELS, models_convention, timestamp_convention
from fastapi_review.semantics.versions import project_dialects


def explain(path: str, config: Config, cache: Optional[Cache] = None, jobs: int = 1) -> dict[str, Any]:
    """What `explain` reports about the file at `path`, as plain data (the CLI prints it)."""
    ruleset = RuleSet.from_config(config)
    file = named_file(path, config)
    data = Path(path).read_bytes()
    roles = ruleset.roles_for(file, data)
    profile = ruleset.profile_for(file)
    codes = ruleset.codes_for(file.relative, roles.role)
    sources = ruleset.profile_sources(file)
    index = _project_index(file, config, ruleset, cache, jobs)
    conventions = []
    learn = config.learn_conventions
    resolved = file.path.resolve()
    mine = next((m for m in index.modules.values() if Path(m.path).resolve() == resolved), None)
    for code in ruleset.enabled:
        rule = RULES_BY_CODE[code]
        if rule.convention:
            follow, deviate = convention_counts(index, code)
            absence = rule.decided_by_absence
            conventions.append(_convention(code, rule.name, "sites", follow, deviate, MIN_SITES, learn, absence))
            for key in narrower_conventions(index, code):  # the narrower ones the project decided against
                follow, deviate = convention_counts(index, key)
                if learn and not follows(follow, deviate, MIN_SITES, absence):
                    conventions.append(_convention(key, key.split(":", 1)[1], "sites", follow, deviate, MIN_SITES, learn, absence))
            if mine is not None and learn:  # this file's package and module, where they decided against
                package = package_of(mine.module)
                follow, deviate = package_counts(index, code, package) if package else (0, 0)
                if not follows(follow, deviate, MIN_SITES, absence):
                    conventions.append(_convention(code, f"in package {package}", "sites", follow, deviate, MIN_SITES, learn, absence))
                follow, deviate = mine.conventions.get(code, (0, 0))
                if not follows(follow, deviate, MIN_FILE_SITES, absence):
                    conventions.append(_convention(code, "in this module", "sites", follow, deviate, MIN_FILE_SITES, learn, absence))
    if "FR502" in ruleset.enabled:
        columns = tuple(ruleset.options["FR502"].timestamp_columns)
        follow, deviate = timestamp_convention(index, columns)
        conventions.append(_convention("FR502", "timestamps on table models", "models", follow, deviate, MIN_MODELS, learn))
    if "FR505" in ruleset.enabled:
        inside, outside = models_convention(index)
        conventions.append(_convention("FR505", "models in models modules", "models", inside, outside, MIN_MODELS, learn))
    return {
        "file": file.display,
        "configuration": str(config.source) if config.source else None,
        "project_root": str(config.root),
        "relative_path": file.relative,
        "role": roles.role,
        "services_module": roles.service,
        "models_module": roles.models,
        "pydantic": profile.pydantic,
        "sqlalchemy": profile.sqlalchemy,
        "versions_from": sources,
        "declared_dialects": sorted(profile.dialects),
        "database_urls": sorted(project_dialects(index)),
        "learn_conventions": learn,
        "conventions": conventions,
        "rules": list(codes),
        "files_in_project": len(index.files),
    }


def _convention(
    code: str, what: str, unit: str, follow: int, deviate: int, minimum: int, learn: bool, by_absence: bool = True
) -> dict[str, Any]:
    if not learn:
        verdict = "reported (learn-conventions is off)"
    elif not follows(follow, deviate, minimum, by_absence):
        verdict = "silent: the project does not follow it"
    elif follow + deviate < minimum:
        verdict = f"reported (fewer than {minimum} {unit}: no convention of the project's own)"
    else:
        verdict = "reported: the project follows it, deviations are outliers"
    return {"code": code, "what": what, "follow": follow, "deviate": deviate, "unit": unit, "verdict": verdict}


def _project_index(file: SourceFile, config: Config, ruleset: RuleSet, cache: Optional[Cache], jobs: int) -> ProjectIndex:
    root = project_root(config, file.path)
    if root is None:
        files = [file]
    else:
        shown = str(root) if file.path.is_absolute() else os.path.relpath(root)
        files = discover([shown], config)
        if not any(f.path.resolve() == file.path.resolve() for f in files):
            files.append(file)
    results = per_file_phase(files, ruleset, jobs, cache)
    return ProjectIndex(r.facts for r in results if r.facts is not None)


def format_explanation(info: dict[str, Any]) -> str:
    """The text `fastapi-review explain` prints."""
    lines = [f"file: {info['file']}"]
    lines.append(f"configuration: {info['configuration'] or 'none (defaults)'}; project root {info['project_root']}")
    lines.append(f"path in the project: {info['relative_path']}")
    kinds = [k for k, on in (("services module", info["services_module"]), ("models module", info["models_module"])) if on]
    lines.append(f"role: {info['role']}" + (f" ({', '.join(kinds)})" if kinds else ""))
    sources = info["versions_from"]
    lines.append(f"pydantic: {sources['pydantic']}")
    lines.append(f"sqlalchemy: {sources['sqlalchemy']}")
    lines.append(f"database drivers declared: {', '.join(info['declared_dialects']) or 'none'}")
    lines.append(f"database URLs in the project: {', '.join(info['database_urls']) or 'none'}")
    lines.append(f"conventions learned from {info['files_in_project']} files (learn-conventions = {'true' if info['learn_conventions'] else 'false'}):")
    for item in info["conventions"]:
        lines.append(
            f"  {item['code']} {item['what']}: {item['follow']} {item['unit']} follow, {item['deviate']} deviate -> {item['verdict']}"
        )
    codes = info["rules"]
    lines.append(f"rules that run on this file ({len(codes)}): {' '.join(codes) if codes else 'none'}")
    return "\n".join(lines) + "\n"
