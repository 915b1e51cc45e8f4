"""flake8 plugin: `flake8 --select FR` runs fastapi-review's rules on each file flake8 checks.

flake8 checks one file at a time, so cross-file knowledge (models and bases defined in other
modules) is limited to what the file itself shows; the `fastapi-review` command sees the whole
project.  Findings that only the whole project can confirm (no exception handler anywhere, no
test of the route) stay silent here.

FR codes are off in a plain `flake8` run (they are added to flake8's default ignore list, as
flake8-bugbear does for its opinionated codes): installing fastapi-review, often as a dependency
of something else, must not change what `flake8` reports.  `--select FR` or `--extend-select FR`
turns them on; when flake8 would discard every FR code anyway, the plugin does no work at all.

The plugin never raises: a configuration error becomes one `FR000` line (once per process and
configuration file) and the file is left unchecked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Iterator

from fastapi_review import __version__

CONFIG_ERROR = "FR000"
_reported: set[str] = set()  # configuration errors already shown by this process


class Flake8Plugin:
    """The flake8 entry point (`flake8.extension`: `FR`)."""

    name = "fastapi-review"
    version = __version__
    # decided once per run from flake8's own selection (see parse_options)
    enabled: ClassVar[bool] = True

    def __init__(self, tree: Any, filename: str, lines: list[str]) -> None:
        self.filename = filename
        self.lines = lines

    @classmethod
    def add_options(cls, option_manager: Any) -> None:
        """FR codes are off unless selected (`--select FR`, `--extend-select FR`)."""
        option_manager.extend_default_ignore(["FR"])

    @classmethod
    def parse_options(cls, options: Any) -> None:
        """Skip the work when flake8 would not report any FR code."""
        try:
            from flake8.style_guide import Decision, DecisionEngine

            engine = DecisionEngine(options)
            cls.enabled = any(engine.decision_for(f"FR{n:03}") is Decision.Selected for n in range(1000))
        except Exception:  # noqa: BLE001 - another flake8 version: run, and let flake8 filter
            cls.enabled = True

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        """Yield (line, 0-based column, "FRxxx message", type) for each finding."""
        if not self.enabled:
            return
        from fastapi_review.checker import check_text
        from fastapi_review.config import ConfigError, load_config

        path = Path(self.filename if self.filename not in ("-", "stdin") else "stdin.py")
        try:
            config = load_config(None, path)
            source = "".join(self.lines).encode("utf-8")
            findings = check_text(source, str(path), config, whole_project=False)
        except ConfigError as error:
            message = str(error)
            if message not in _reported:
                _reported.add(message)
                yield 1, 0, f"{CONFIG_ERROR} fastapi-review configuration error, file not checked: {message}", type(self)
            return
        for finding in findings:
            yield finding.line, finding.column - 1, f"{finding.code} {finding.message}", type(self)
