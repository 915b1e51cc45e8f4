"""Scaffold a new per-file rule: its module, its doc, its fixture and its registry line.

    python scripts/new_rule.py FR211 shadowed-dependency "a dependency that ... (one line)"
        [--severity warning|error] [--off]

Writes
  src/fastapi_review/rules/fr211_shadowed_dependency.py   the rule class (a working placeholder)
  rules/FR211.md                                            the doc, in the house structure
  tests/fixtures/FR211.py                                   `# expect:` / `# ok:` lines
and adds one import line to src/fastapi_review/rules/__init__.py (the registry), then
regenerates the README's rule table (generated from the registry, never edited by hand).

The placeholder rule reports calls of `replace_me()` so that everything it writes passes the
test suite at once; replace the visit method, the doc and the fixture with the real thing.  A
cross-file rule adds its question as a `Requirement` kind beside the semantics that answer it
(`semantics/*.py`), never in `project.py`; see CONTRIBUTING.md.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_CODE = re.compile(r"^FR\d{3}$")
_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_REGISTRY_LINE = re.compile(r"^from fastapi_review\.rules\.fr(\d{3})\w* import ")

MODULE = '''"""{code} {name}: {summary}."""

from __future__ import annotations

import libcst as cst

from fastapi_review.rule import Rule


class {cls}(Rule):
    """{summary_cap}."""

    code = "{code}"
    name = "{name}"
    summary = "{summary}"
    message = "'{{call}}()' is a placeholder finding of {code}: replace the rule's visit method"{severity_line}{default_line}

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "replace_me":
            self.report(node, call=node.func.value)
'''

DOC = '''# {code} {name}

Default: **{default}** · Severity: **{severity}** · Fix: none

## What it does
Reports {summary}.

## Why is this bad?
Say what goes wrong in production, and for whom.

## Evidence
Say what must be true in the project for a finding to be right (file role, versions, databases,
conventions, where a value comes from), and what makes the rule stay silent when it cannot decide.

## Example
```python
replace_me()
```

## Use instead
```python
do_the_right_thing()
```

## Options
None.

## Fix safety
No fix.

## Known problems
- Say what the rule cannot decide, and that it stays silent then.

## References
- Link the FastAPI / SQLAlchemy / Pydantic documentation this rule enforces.
'''

FIXTURE = '''replace_me()  # expect: {code}
do_the_right_thing()  # ok: {code}
'''


def camel(name: str) -> str:
    """`shadowed-dependency` → `ShadowedDependency`."""
    return "".join(part.capitalize() for part in name.split("-"))


def main(argv: list[str] | None = None) -> int:
    """Write the four pieces of a new rule; exit 2 with a message on a bad or taken code/name."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("code")
    parser.add_argument("name")
    parser.add_argument("summary")
    parser.add_argument("--severity", choices=("warning", "error"), default="warning")
    parser.add_argument("--off", action="store_true", help="off by default (enable with extend-select)")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    root: Path = args.root
    code, name, summary = args.code.upper(), args.name, args.summary.strip().rstrip(".")
    if not _CODE.match(code):
        parser.error(f"code {args.code!r} is not FR followed by three digits")
    if not _NAME.match(name):
        parser.error(f"name {name!r} is not kebab-case (lower-case words joined by '-')")
    registry = root / "src" / "fastapi_review" / "rules" / "__init__.py"
    module = root / "src" / "fastapi_review" / "rules" / f"{code.lower()}_{name.replace('-', '_')}.py"
    doc = root / "rules" / f"{code}.md"
    fixture = root / "tests" / "fixtures" / f"{code}.py"
    lines = registry.read_text(encoding="utf-8").splitlines(keepends=True)
    sources = "".join(p.read_text(encoding="utf-8") for p in registry.parent.glob("fr*.py"))
    if f'code = "{code}"' in sources or doc.exists() or fixture.exists():
        parser.error(f"{code} is taken (a rule module, rules/{code}.md or tests/fixtures/{code}.py has it)")
    if f'name = "{name}"' in sources:
        parser.error(f"name {name!r} is taken")
    cls = camel(name)
    module.write_text(
        MODULE.format(
            code=code, name=name, summary=summary, summary_cap=summary[:1].upper() + summary[1:], cls=cls,
            severity_line=f'\n    severity = "{args.severity}"' if args.severity != "warning" else "",
            default_line="\n    default_enabled = False" if args.off else "",
        ),
        encoding="utf-8",
    )
    doc.write_text(DOC.format(code=code, name=name, summary=summary, severity=args.severity, default="off" if args.off else "on"), encoding="utf-8")
    fixture.write_text(FIXTURE.format(code=code), encoding="utf-8")
    new_line = f"from fastapi_review.rules.{module.stem} import {cls}\n"
    # the registry lists one import line per module, in code order
    position = next(
        (i for i, line in enumerate(lines) if (m := _REGISTRY_LINE.match(line)) and m.group(1) > code[2:]),
        max(i for i, line in enumerate(lines) if _REGISTRY_LINE.match(line)) + 1,
    )
    lines.insert(position, new_line)
    registry.write_text("".join(lines), encoding="utf-8")
    _regenerate_readme_table(root)
    for path in (module, doc, fixture, registry):
        print(f"wrote {path.relative_to(root)}")
    return 0


def _regenerate_readme_table(root: Path) -> None:
    """The README's rule table, from the registry of the checkout at `root`."""
    sys.path.insert(0, str(root / "src"))
    for loaded in [m for m in sys.modules if m == "fastapi_review" or m.startswith("fastapi_review.")]:
        del sys.modules[loaded]
    from fastapi_review.docs import rule_table

    readme = root / "README.md"
    text = readme.read_text(encoding="utf-8")
    head, rest = text.split("<!-- rules-table:start -->\n", 1)
    _, tail = rest.split("<!-- rules-table:end -->", 1)
    readme.write_text(f"{head}<!-- rules-table:start -->\n{rule_table()}<!-- rules-table:end -->{tail}", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
