"""Which rules run: select / extend-select / ignore, per-file-ignores and migration scoping."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Optional

import pathspec

from fastapi_review.config import Config, ConfigError, did_you_mean
from fastapi_review.rule import FileRoles, OptionError, Rule, build_options
from fastapi_review.rules import ALL_RULES

# Generated code: FR2xx-FR7xx do not run here (FR401, FR1xx and FR001 still do).
MIGRATION_GLOBS = ("**/alembic/versions/**", "**/migrations/**")
RULES_BY_CODE: dict[str, type[Rule]] = {r.code: r for r in ALL_RULES}
# Tests are not service code even when named like it (`tests/users/test_service.py`).
_TEST_FILES = pathspec.PathSpec.from_lines(
    "gitignore", ["**/tests/**", "**/test/**", "test_*.py", "*_test.py", "conftest.py"]
)


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
        selector = raw.strip().upper()
        if not selector:
            continue
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
    _per_file: tuple[tuple[pathspec.PathSpec, tuple[str, ...]], ...]
    _migrations: pathspec.PathSpec
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
            per_file.append((pathspec.PathSpec.from_lines("gitignore", [glob]), valid))
        return cls(
            config=config,
            enabled=tuple(enabled),
            options=options,
            _per_file=tuple(per_file),
            _migrations=pathspec.PathSpec.from_lines("gitignore", MIGRATION_GLOBS),
            _services=pathspec.PathSpec.from_lines("gitignore", config.services),
            _models=pathspec.PathSpec.from_lines("gitignore", config.models),
        )

    def is_service(self, relative_path: str) -> bool:
        """Whether a file is service code by the `services` globs (test files never are)."""
        return self._services.match_file(relative_path) and not _TEST_FILES.match_file(relative_path)

    def is_models(self, relative_path: str) -> bool:
        """Whether a file may define ORM models by the `models` globs."""
        return self._models.match_file(relative_path)

    @staticmethod
    def is_test(relative_path: str) -> bool:
        """Test files (tests/ directories, test_*.py, *_test.py, conftest.py)."""
        return _TEST_FILES.match_file(relative_path)

    def roles_for(self, relative_path: str) -> FileRoles:
        """What the configuration says the file is: service code, a models module, a test."""
        return FileRoles(
            service=self.is_service(relative_path), models=self.is_models(relative_path), test=self.is_test(relative_path)
        )

    def rule_class(self, code: str) -> type[Rule]:
        """The rule class of an enabled code."""
        return RULES_BY_CODE[code]

    def codes_for(self, relative_path: str, path: Optional[Path] = None) -> tuple[str, ...]:
        """Enabled codes for a file (path relative to the config root, POSIX separators)."""
        ignored: list[str] = []
        for spec, codes in self._per_file:
            if spec.match_file(relative_path):
                ignored.extend(codes)
        in_migrations = self._migrations.match_file(relative_path) or (
            path is not None and is_alembic_version_file(path)
        )
        return tuple(
            code
            for code in self.enabled
            if not any(_matches(s, code) for s in ignored)
            and not (in_migrations and not RULES_BY_CODE[code].runs_in_migrations)
        )


@lru_cache(maxsize=1024)
def _is_alembic_versions_dir(directory: Path) -> bool:
    # Alembic's layout, whatever the directory names: <script dir>/{env.py, script.py.mako, versions/}
    parent = directory.parent
    return directory.name == "versions" and ((parent / "env.py").is_file() or (parent / "script.py.mako").is_file())


def is_alembic_version_file(path: Path) -> bool:
    """A file in an Alembic `versions/` directory, recognised by its script directory's env.py."""
    return _is_alembic_versions_dir(path.parent)
