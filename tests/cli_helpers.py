"""Running the CLI in-process from a given directory (shared by the CLI tests)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from click.testing import CliRunner, Result

from fastapi_review.cli import main


def run(args: list[str], cwd: Path, stdin: Optional[str] = None) -> Result:
    """`fastapi-review ARGS` run from `cwd` (exceptions propagate: a traceback fails the test)."""
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(main, args, input=stdin, catch_exceptions=False)
    finally:
        os.chdir(old)
