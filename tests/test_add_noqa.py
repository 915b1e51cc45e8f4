"""`--add-noqa`: every line with findings gets its `# noqa: CODES` (merged into an existing one),
lines that cannot take a comment are reported, a second run adds nothing, then the check is clean."""

from __future__ import annotations

from pathlib import Path

from cli_helpers import run

CONFIG = '[tool.fastapi-review]\nselect = ["FR302", "FR303"]\nlearn-conventions = false\n'

SOURCE = '''\
from fastapi import HTTPException

DOC = """
raise HTTPException(404)  # not code: nothing to silence
"""


def listed() -> None:
    raise HTTPException(404)  # noqa: FR303


def commented() -> None:
    raise HTTPException(404, detail="x")  # a comment


def wrapped() -> None:
    raise HTTPException(
        404, detail="x"
    )


def in_a_string() -> None:
    raise HTTPException(status_code=404, detail=f"""multi
{1}""") if True else \\
        HTTPException(404)
'''

EXPECTED = SOURCE.replace(
    "(404)  # noqa: FR303\n", "(404)  # noqa: FR303, FR302\n"
).replace(
    '"x")  # a comment\n', '"x")  # a comment  # noqa: FR302\n'
).replace(
    '404, detail="x"\n', '404, detail="x"  # noqa: FR302\n'
).replace(
    "        HTTPException(404)\n", "        HTTPException(404)  # noqa: FR303, FR302\n"
)


def test_add_noqa_then_again_then_check(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(CONFIG)
    path = tmp_path / "api.py"
    path.write_text(SOURCE)
    first = run(["--no-cache", "--add-noqa", "."], tmp_path)
    assert first.exit_code == 0
    assert first.stdout == "Added 4 noqa directives.\n"
    # the f-string's first line cannot take a comment (it would end up inside the string)
    assert first.stderr == "api.py:23: FR302: no # noqa added: the line ends inside a string or continues with a backslash\n"
    assert path.read_text() == EXPECTED

    again = run(["--no-cache", "--add-noqa", "."], tmp_path)
    assert (again.exit_code, again.stdout) == (0, "Added 0 noqa directives.\n")
    assert path.read_text() == EXPECTED

    check = run(["--no-cache", "-q", "."], tmp_path)
    assert check.stdout.splitlines() == ["api.py:23:37: FR302 [*] status code 404 written as a literal: use fastapi.status.HTTP_404_NOT_FOUND"]


def test_add_noqa_keeps_encoding_and_line_endings(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(CONFIG)
    source = "# -*- coding: latin-1 -*-\r\nfrom fastapi import HTTPException\r\n\r\n\r\ndef f() -> None:\r\n    raise HTTPException(404, detail='caf\xe9')\r\n"
    path = tmp_path / "latin.py"
    path.write_bytes(source.encode("latin-1"))
    path.chmod(0o640)
    assert run(["--no-cache", "--add-noqa", "latin.py"], tmp_path).stdout == "Added 1 noqa directive.\n"
    assert path.read_bytes() == source.replace("'caf\xe9')\r\n", "'caf\xe9')  # noqa: FR302\r\n").encode("latin-1")
    assert path.stat().st_mode & 0o777 == 0o640
    assert run(["--no-cache", "-q", "latin.py"], tmp_path).stdout == ""


def test_add_noqa_refuses_fix_and_stdin(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(CONFIG)
    for args in (["--add-noqa", "--fix", "."], ["--add-noqa", "-"]):
        result = run(args, tmp_path, stdin="")
        assert result.exit_code == 2
        assert "--add-noqa edits the files named" in result.stderr
