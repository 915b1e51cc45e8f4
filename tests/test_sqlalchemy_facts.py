"""The generated SQLAlchemy facts match what the installed SQLAlchemy says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from fastapi_review.semantics import sqlalchemy_facts
from fastapi_review.semantics.sqlalchemy_derive import derive


def test_facts_match_installed_sqlalchemy() -> None:
    facts = derive()
    for key, value in facts.items():
        assert getattr(sqlalchemy_facts, key) == value, (
            f"{key} drifted from the installed SQLAlchemy: "
            "run `python -m fastapi_review.semantics.sqlalchemy_derive`"
        )


def test_facts_cover_what_the_rules_rely_on() -> None:
    assert {"select", "selectin", "joined", "dynamic", "raise", "write_only"} <= set(sqlalchemy_facts.LAZY_STRATEGIES)
    assert {"execute", "commit", "get", "refresh", "run_sync"} <= set(sqlalchemy_facts.ASYNC_SESSION_COROUTINES)
    assert "add" not in sqlalchemy_facts.ASYNC_SESSION_COROUTINES  # sync on AsyncSession
    assert "DateTime" in sqlalchemy_facts.COLUMN_TYPES["sqlalchemy.dialects.postgresql.TIMESTAMP"]
    assert "JSON" in sqlalchemy_facts.COLUMN_TYPES["sqlalchemy.dialects.postgresql.JSONB"]
    assert "selectinload" in sqlalchemy_facts.LOADER_OPTIONS


def test_a_check_does_not_import_sqlalchemy(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("from sqlalchemy.orm import relationship\nx = 1\n")
    code = (
        "import sys\n"
        "from fastapi_review.checker import check_paths\n"
        "from fastapi_review.config import Config\n"
        f"check_paths([{str(tmp_path)!r}], Config(root={str(tmp_path)!r}))\n"
        "assert 'sqlalchemy' not in sys.modules, 'sqlalchemy imported on the hot path'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
