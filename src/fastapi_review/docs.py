"""Rule documentation: `rules/FRxxx.md`, shipped in the wheel as `fastapi_review/rule_docs/`."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Optional


def docs_directory() -> Optional[Path]:
    """Where the rule docs are: inside the installed package, else the source checkout's rules/."""
    packaged = resources.files("fastapi_review").joinpath("rule_docs")
    if packaged.is_dir():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parents[2] / "rules"
    return checkout if checkout.is_dir() else None


def rule_doc(code: str) -> Optional[str]:
    """The Markdown doc of a rule, or None when the docs are not installed."""
    directory = docs_directory()
    if directory is None:
        return None
    path = directory / f"{code}.md"
    return path.read_text(encoding="utf-8") if path.is_file() else None


def rule_table() -> str:
    """The README's rule table, generated from the registry and the docs."""
    from fastapi_review.rules import ALL_RULES

    lines = ["| code | name | default | severity | fix | reports |", "|---|---|---|---|---|---|"]
    for rule in ALL_RULES:
        default = "on" if rule.default_enabled else "off"
        link = f"[{rule.code}](rules/{rule.code}.md)"
        fix = rule.fix_safety or ""
        lines.append(f"| {link} | `{rule.name}` | {default} | {rule.severity} | {fix} | {rule.summary} |")
    return "\n".join(lines) + "\n"
