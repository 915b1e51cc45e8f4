"""FR908 against the real thing: `alembic upgrade head` on a throwaway PostgreSQL, then
`alembic check` (autogenerate's comparison of the models with the database) as the oracle.

Needs PostgreSQL's server binaries (Debian's `postgresql` package; `.ci/run` installs it) and
the test extras (alembic, psycopg).  Without them the test is skipped with the reason; run it
by hand with `.venv/bin/python -m pytest tests/test_alembic_oracle.py -rs`.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable, Iterator

import pytest

from fastapi_review.checker import check_paths
from fastapi_review.config import Config

PROJECT = Path(__file__).parent / "data" / "alembic_oracle"


def _server_binaries() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(candidates[-1]).parent if candidates else None


def _as_server_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run it as `postgres` then."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        runuser = shutil.which("runuser")
        if runuser is None:
            pytest.skip("PostgreSQL cannot run as root and `runuser` is missing: FR908's oracle test did not run")
        return [runuser, "-u", "postgres", "--", *command]
    return command


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """A throwaway PostgreSQL cluster; yields its base URL."""
    pytest.importorskip("alembic", reason="alembic is not installed (test extras): FR908's oracle test did not run")
    pytest.importorskip("psycopg", reason="psycopg is not installed (test extras): FR908's oracle test did not run")
    binaries = _server_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL server binaries not found (apt-get install postgresql): FR908's oracle test did not run")
    # not under pytest's temporary directory: as root that one is closed to the `postgres` user
    home = Path(tempfile.mkdtemp(prefix="fr908-oracle-"))
    data = home / "data"
    if os.geteuid() == 0:
        shutil.chown(home, "postgres")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    try:
        subprocess.run(_as_server_user([str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"]),
                       check=True, capture_output=True)
        options = f"-p {port} -k {home} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(_as_server_user([str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-l", str(home / "log"), "start"]),
                       check=True, capture_output=True)
    except subprocess.CalledProcessError as error:
        shutil.rmtree(home, ignore_errors=True)
        pytest.skip(f"PostgreSQL did not start ({error.stderr.decode(errors='replace').strip()[-300:]}): FR908's oracle test did not run")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(_as_server_user([str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]), capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


def _fresh_database(base_url: str, name: str) -> str:
    import psycopg

    plain = base_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(f"{plain}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    return f"{base_url}/{name}"


def _alembic(project: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ORACLE_DATABASE_URL": url, "PYTHONPATH": str(project)}
    return subprocess.run([sys.executable, "-m", "alembic", *args], cwd=project, env=env, capture_output=True, text=True, timeout=120)


def _fr908(project: Path) -> list[tuple[str, int]]:
    cwd = os.getcwd()
    os.chdir(project)
    try:
        report = check_paths(["."], Config(root=project, select=("FR908",)))
    finally:
        os.chdir(cwd)
    return sorted((Path(f.path).as_posix(), f.line) for f in report.findings)


def _edit(path: str, old: str, new: str) -> Callable[[Path], None]:
    def apply(project: Path) -> None:
        target = project / path
        text = target.read_text(encoding="utf-8")
        assert old in text, f"the mutation no longer applies to {path}"
        target.write_text(text.replace(old, new), encoding="utf-8")
    return apply


MODELS = "app/models.py"
MUTATIONS = {
    "consistent": (lambda project: None, []),
    "model column without migration": (
        _edit(MODELS, "    email: Mapped[str] = mapped_column(sa.String(255))\n",
              "    email: Mapped[str] = mapped_column(sa.String(255))\n    phone: Mapped[str | None] = mapped_column(sa.String(32))\n"),
        [(MODELS, 14)],
    ),
    "model table without migration": (
        _edit(MODELS, "class Team(Base):", "class AuditLog(Base):\n    __tablename__ = \"audit_log\"\n\n    id: Mapped[int] = mapped_column(primary_key=True)\n\n\nclass Team(Base):"),
        [(MODELS, 17)],
    ),
    "model column made NOT NULL": (
        _edit(MODELS, "    note: Mapped[str | None] = mapped_column(sa.Text)\n", "    note: Mapped[str] = mapped_column(sa.Text)\n"),
        [(MODELS, 33)],
    ),
    "model column type changed": (
        _edit(MODELS, "    role: Mapped[str] = mapped_column(sa.String(16))\n", "    role: Mapped[str] = mapped_column(sa.Text)\n"),
        [(MODELS, 32)],
    ),
    "model index added": (
        _edit(MODELS, 'mapped_column(sa.ForeignKey("team.id"))', 'mapped_column(sa.ForeignKey("team.id"), index=True)'),
        [(MODELS, 31)],
    ),
    "model index added in __table_args__": (
        _edit(MODELS, '(sa.UniqueConstraint("user_id", "team_id"),)', '(sa.UniqueConstraint("user_id", "team_id"), sa.Index("ix_role", "role"))'),
        [(MODELS, 27)],
    ),
    "model unique constraint added": (
        _edit(MODELS, "    label: Mapped[str | None] = mapped_column(sa.String(64))\n", "    label: Mapped[str | None] = mapped_column(sa.String(64), unique=True)\n"),
        [(MODELS, 21)],
    ),
    "model foreign key added": (
        _edit(MODELS, "    invited_by: Mapped[int | None]\n", '    invited_by: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))\n'),
        [(MODELS, 34)],
    ),
    "model column removed": (
        _edit(MODELS, "    note: Mapped[str | None] = mapped_column(sa.Text)\n", ""),
        [(MODELS, 25)],
    ),
    "migration step removed": (
        _edit("migrations/versions/0002_more.py", '    op.execute("ALTER TABLE team ADD COLUMN archived boolean NOT NULL DEFAULT false")\n', ""),
        [(MODELS, 22)],
    ),
}


@pytest.mark.parametrize("mutation", list(MUTATIONS), ids=lambda m: m.replace(" ", "-"))
def test_fr908_agrees_with_alembic_check(server: str, tmp_path: Path, mutation: str) -> None:
    project = tmp_path / "project"
    shutil.copytree(PROJECT, project)
    mutate, expected = MUTATIONS[mutation]
    mutate(project)
    url = _fresh_database(server, "oracle_" + mutation.replace(" ", "_"))
    upgraded = _alembic(project, url, "upgrade", "head")
    assert upgraded.returncode == 0, upgraded.stderr
    checked = _alembic(project, url, "check")
    drift = checked.returncode != 0
    assert drift == bool(expected), checked.stdout + checked.stderr
    if drift:
        assert "New upgrade operations detected" in checked.stdout + checked.stderr
    assert _fr908(project) == expected
