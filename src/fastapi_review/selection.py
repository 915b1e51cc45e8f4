"""Which rules run: select / extend-select / ignore, per-file-ignores and file roles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

import pathspec

from fastapi_review.config import Config, ConfigError, did_you_mean, normalize_glob
from fastapi_review.discovery import SourceFile
from fastapi_review.facts import APP, ROLES
from fastapi_review.project_profile import ProfileResolver
from fastapi_review.roles import RoleResolver
from fastapi_review.rule import FileRoles, OptionError, Profile, Rule, build_options
from fastapi_review.rules import ALL_RULES

RULES_BY_CODE: dict[str, type[Rule]] = {r.code: r for r in ALL_RULES}


def rule_by_code_or_name(key: str) -> type[Rule] | None:
    """Look a rule up by code (`FR401`) or name (`sql-string-formatting`)."""
    key_upper = key.upper()
    for rule in ALL_RULES:
        if rule.code == key_upper or rule.name == key.lower():
            return rule
    return None


def _matches(selector: str, code: str) -> bool:
    return selector == "ALL" or code.startswith(selector)


def validate_selectors(selectors: Iterable[str], where: str) -> tuple[str, ...]:
    """Upper-case each selector and check it names at least one rule (or is ALL)."""
    result = []
    for raw in selectors:
        selector = raw.strip()
        if not selector:
            continue
        if selector != selector.upper():  # as ruff: `fr401` is not a code (nor a silent match)
            raise ConfigError(f"{where}: {raw!r} is not a rule code: codes are upper case ({selector.upper()!r})")
        if selector != "ALL" and not any(code.startswith(selector) for code in RULES_BY_CODE):
            raise ConfigError(f"{where}: unknown rule code or prefix {raw!r}{did_you_mean(selector, RULES_BY_CODE)}")
        result.append(selector)
    return tuple(result)


@dataclass(frozen=True)
class RuleSet:
    """The enabled rules with their options, and the per-file adjustments."""

    config: Config
    enabled: tuple[str, ...]
    options: dict[str, Any]
    _per_file: tuple[tuple[pathspec.PathSpec, bool, tuple[str, ...]], ...]  # (glob, negated, codes)
    _roles: RoleResolver
    _profiles: ProfileResolver
    # per role: the enabled codes that run on its files (the rule's own roles, plus the
    # role's `select` in the configuration)
    _by_role: dict[str, tuple[str, ...]]
    _services: pathspec.PathSpec
    _models: pathspec.PathSpec

    @classmethod
    def from_config(cls, config: Config) -> "RuleSet":
        """Resolve the enabled codes (ignore wins over select) and build every rule's options."""
        where = str(config.source) if config.source else "command line"
        select = validate_selectors(config.select, f"{where}: select") if config.select is not None else None
        extend = validate_selectors(config.extend_select, f"{where}: extend-select")
        ignore = validate_selectors(config.ignore, f"{where}: ignore")
        enabled = []
        for rule in ALL_RULES:
            on = rule.default_enabled if select is None else any(_matches(s, rule.code) for s in select)
            on = on or any(_matches(s, rule.code) for s in extend)
            if on and not any(_matches(s, rule.code) for s in ignore):
                enabled.append(rule.code)
        options: dict[str, Any] = {}
        for code in config.rule_options:
            if code not in RULES_BY_CODE:
                raise ConfigError(f"{where}: [tool.fastapi-review.rules.{code}]: unknown rule{did_you_mean(code, RULES_BY_CODE)}")
        for rule in ALL_RULES:
            try:
                options[rule.code] = build_options(rule, config.rule_options.get(rule.code, {}))
            except OptionError as exc:
                raise ConfigError(f"{where}: [tool.fastapi-review.rules.{rule.code}]: {exc}") from None
        per_file = []
        for glob, codes in config.per_file_ignores:
            valid = validate_selectors(codes, f"{where}: per-file-ignores.{glob!r}")
            # as ruff: `!glob` ignores the codes in the files the glob does not match
            negated = glob.startswith("!")
            pattern = normalize_glob(glob[1:] if negated else glob)
            if not pattern:
                raise ConfigError(f"{where}: per-file-ignores.{glob!r}: an empty glob")
            per_file.append((pathspec.PathSpec.from_lines("gitignore", [pattern]), negated, valid))
        by_role = {}
        for role in ROLES:
            extra = validate_selectors(config.role_select.get(role, ()), f"{where}: roles.{role}.select")
            by_role[role] = tuple(
                code for code in enabled
                if role in RULES_BY_CODE[code].roles or any(_matches(s, code) for s in extra)
            )
        return cls(
            config=config,
            enabled=tuple(enabled),
            options=options,
            _per_file=tuple(per_file),
            _roles=RoleResolver(config),
            _profiles=ProfileResolver(config),
            _by_role=by_role,
            _services=pathspec.PathSpec.from_lines("gitignore", config.services),
            _models=pathspec.PathSpec.from_lines("gitignore", config.models),
        )

    def roles_for(self, file: SourceFile, data: bytes) -> FileRoles:
        """What the file is: its role (roles.py) and, for app code, whether the `services` or
        `models` globs name it."""
        role = self._roles.role(file.relative, file.path, data)
        app = role == APP
        return FileRoles(
            role=role,
            service=app and self._services.match_file(file.relative),
            models=self._models.match_file(file.relative),
        )

    def rule_class(self, code: str) -> type[Rule]:
        """The rule class of an enabled code."""
        return RULES_BY_CODE[code]

    def profile_for(self, file: SourceFile) -> Profile:
        """What the file's project runs on (library majors, dialects)."""
        return self._profiles.for_file(file.path)

    def profile_sources(self, file: SourceFile) -> dict[str, str]:
        """Where each library major of the file's profile comes from (for `explain`)."""
        return self._profiles.explain(file.path)

    def codes_for(self, relative_path: str, role: str = APP) -> tuple[str, ...]:
        """Enabled codes for a file of this role (path relative to the config root, POSIX
        separators), minus its per-file-ignores."""
        codes = self._by_role[role]
        ignored: list[str] = []
        for spec, negated, selectors in self._per_file:
            if spec.match_file(relative_path) != negated:
                ignored.extend(selectors)
        if not ignored:
            return codes
        return tuple(code for code in codes if not any(_matches(s, code) for s in ignored))
