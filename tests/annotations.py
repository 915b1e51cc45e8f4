"""Fixture annotations (STYLE.md): `# expect: CODE[ xN]`, `# ok: CODE`, `# todo-expect:`, `# todo-ok:`.

Parsed with strict regular expressions, never eval.  A file header `# config: {json}` sets
rule options (`{"FR102": {"allow-init-without-return": false}}`), `# settings: {json}` sets
Config fields (`{"learn_conventions": true}`: fixtures check rule logic with convention
learning off unless they say so) and `# select: A,B` names the rules a fixture exercises together.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

_MARKER = re.compile(r"#\s*(expect|ok|todo-expect|todo-ok):\s*((?:FR\d{3}(?:\s+x\d+)?)(?:\s*,\s*FR\d{3}(?:\s+x\d+)?)*)")
_ITEM = re.compile(r"^(FR\d{3})(?:\s+x(\d+))?$")
_CONFIG = re.compile(r"^#\s*config:\s*(\{.*\})\s*$")
_SETTINGS = re.compile(r"^#\s*settings:\s*(\{.*\})\s*$")
_SELECT = re.compile(r"^#\s*select:\s*(FR\d{3}(?:\s*,\s*FR\d{3})*)\s*$")


@dataclass
class Annotations:
    """What one fixture (file or directory) says the checker must report."""

    expect: Counter = field(default_factory=Counter)  # (relative path, line, code) → count
    ok: set = field(default_factory=set)
    todo_expect: Counter = field(default_factory=Counter)
    todo_ok: Counter = field(default_factory=Counter)
    config: dict = field(default_factory=dict)
    select: tuple = ()
    settings: dict = field(default_factory=dict)  # Config fields, e.g. {"learn_conventions": true}


def parse_file(path: Path, relative: str, into: Annotations) -> None:
    """Add the annotations of one file."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if m := _CONFIG.match(line):
            into.config.update(json.loads(m.group(1)))
            continue
        if m := _SETTINGS.match(line):
            into.settings.update(json.loads(m.group(1)))
            continue
        if m := _SELECT.match(line):
            into.select += tuple(c.strip() for c in m.group(1).split(","))
            continue
        for kind, items in _MARKER.findall(line):
            for item in items.split(","):
                m = _ITEM.match(item.strip())
                assert m, f"{path}:{number}: malformed annotation {item!r}"
                code, count = m.group(1), int(m.group(2) or 1)
                key = (relative, number, code)
                if kind == "expect":
                    into.expect[key] += count
                elif kind == "ok":
                    into.ok.add(key)
                elif kind == "todo-expect":
                    into.todo_expect[key] += count
                else:
                    into.todo_ok[key] += count


def parse_fixture(fixture: Path) -> Annotations:
    """Annotations of a fixture file, or of every .py file of a fixture directory."""
    result = Annotations()
    if fixture.is_dir():
        for path in sorted(fixture.rglob("*.py")):
            parse_file(path, path.relative_to(fixture).as_posix(), result)
    else:
        parse_file(fixture, fixture.name, result)
    return result
