"""flake8 plugin: `flake8 --select FR` runs fastapi-review's rules on each file flake8 checks.

flake8 checks one file at a time, so cross-file knowledge (models and bases defined in other
modules) is limited to what the file itself shows; the `fastapi-review` command sees the whole
project.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from fastapi_review import __version__


class Flake8Plugin:
    """The flake8 entry point (`flake8.extension`: `FR`)."""

    name = "fastapi-review"
    version = __version__

    def __init__(self, tree: Any, filename: str, lines: list[str]) -> None:
        self.filename = filename
        self.lines = lines

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        """Yield (line, 0-based column, "FRxxx message", type) for each finding."""
        from fastapi_review.checker import check_text
        from fastapi_review.config import ConfigError, load_config

        path = Path(self.filename if self.filename not in ("-", "stdin") else "stdin.py")
        try:
            config = load_config(None, path)
        except ConfigError:
            from fastapi_review.config import Config

            config = Config(root=Path.cwd().resolve())
        source = "".join(self.lines).encode("utf-8")
        for finding in check_text(source, str(path), config):
            yield finding.line, finding.column - 1, f"{finding.code} {finding.message}", type(self)
