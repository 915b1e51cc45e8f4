"""Markdown review: verdict and counts, the checklist item by item, the other findings by area,
and the closing "Next Agent to Invoke" hand-off — deterministic, and short enough for a pull
request comment (GitHub refuses comments over 65,536 characters) or an agent's context."""

from __future__ import annotations

import re
from itertools import groupby
from typing import Iterable, Sequence
from urllib.parse import quote

from fastapi_review.findings import Finding
from fastapi_review.output.review import (
    SEVERITY_ORDER,
    WORKFLOW_COMPLETE,
    Review,
    ReviewContext,
    area_of,
    build_review,
    most_severe_first,
)

MAX_CHARACTERS = 60_000  # below GitHub's 65,536-character comment limit, with room to spare
# findings shown per checklist item, area and hand-off, tried in turn until the review fits
CAPS = (10, 5, 3, 1, 0)
MAX_PLACES = 5  # places listed for one message repeated at several places
MAX_FILES = 30  # files listed in the hand-off

# `_` between letters or digits never starts emphasis (CommonMark), so `order_service` stays as is
_SPECIAL = re.compile(r"([\\`*\[\]<]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")


def escape(text: str) -> str:
    """Text shown as is (no emphasis, links or HTML from a message or a path)."""
    return _SPECIAL.sub(r"\\\1", text)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _more(count: int, noun: str = "more") -> str:
    return f"and {count} {noun}"


class _Renderer:
    """Renders a review with a given number of findings shown per group."""

    def __init__(self, review: Review, cap: int) -> None:
        self.review = review
        self.cap = cap

    def link(self, finding: Finding) -> str:
        path = self.review.relative(finding.path)
        return f"[{escape(path)}:{finding.line}]({quote(path, safe='/')}#L{finding.line})"

    def bullets(self, findings: Sequence[Finding], indent: str, with_code: bool = False) -> list[str]:
        """One bullet per distinct message (its places joined), most severe first, capped."""
        by_message: dict[tuple[str, str], list[Finding]] = {}
        for finding in most_severe_first(findings):
            by_message.setdefault((finding.code, finding.message), []).append(finding)
        lines = []
        for (code, message), places in list(by_message.items())[: self.cap]:
            shown = ", ".join(self.link(f) for f in places[:MAX_PLACES])
            if len(places) > MAX_PLACES:
                shown += f" {_more(len(places) - MAX_PLACES, 'more places')}"
            lines.append(f"{indent}- {shown}: {f'{code} ' if with_code else ''}{escape(message)}")
        hidden = sum(len(places) for places in list(by_message.values())[self.cap :])
        if hidden:
            lines.append(f"{indent}- {_more(hidden)}")
        return lines

    def groups(self, findings: Sequence[Finding], indent: str) -> list[str]:
        """Findings grouped by rule: the most severe and most frequent rules first."""
        ordered = sorted(findings, key=lambda f: f.code)
        groups = [list(g) for _, g in groupby(ordered, key=lambda f: f.code)]
        groups.sort(key=lambda g: (SEVERITY_ORDER[g[0].severity], -len(g), g[0].code))
        lines = []
        for group in groups:
            first = group[0]
            lines.append(f"{indent}- **{first.code}** `{first.name}` ({first.severity}, {len(group)})")
            lines += self.bullets(group, indent + "  ")
        return lines

    def header(self) -> list[str]:
        review, context = self.review, self.review.context
        errors = sum(f.severity == "error" for f in review.findings)
        files = len({f.path for f in review.findings})
        ticked = sum(r.status == "ticked" for r in review.items)
        unchecked = sum(r.status == "not checked" for r in review.items)
        counts = (
            f"**{_plural(len(review.findings), 'finding')}** ({_plural(errors, 'error')}, "
            f"{_plural(len(review.findings) - errors, 'warning')}) in {_plural(files, 'file')}; "
            f"{_plural(context.files_checked, 'file')} checked."
        )
        lines = [f"# fastapi-review: {review.verdict}", "", counts]
        lines.append(
            f"Checklist: {ticked} of {_plural(len(review.items), 'item')} ticked"
            + (f", {unchecked} not checked (their rules were off)." if unchecked else ".")
        )
        if context.diff_base is not None:
            lines += ["", f"Only findings on lines changed since `{context.diff_base}` are reported."]
        return lines

    def checklist(self) -> list[str]:
        lines = ["## Checklist", ""]
        for result in self.review.items:
            title = f"**{escape(result.item.title)}**"
            off = ", ".join(result.unchecked)
            if result.status == "not checked":
                lines.append(f"- [ ] {title}: not checked, its rules were off ({off})")
                continue
            mark = "x" if result.status == "ticked" else " "
            note = f": {_plural(len(result.findings), 'finding')}" if result.findings else ""
            if off:
                note += f" (not run: {off})"
            lines.append(f"- [{mark}] {title}{note}")
            lines += self.groups(result.findings, "  ")
        return lines

    def other(self) -> list[str]:
        if not self.review.other:
            return []
        lines = ["## Other findings"]
        by_area: dict[str, list[Finding]] = {}
        for finding in sorted(self.review.other, key=lambda f: f.code):
            by_area.setdefault(area_of(finding.code), []).append(finding)
        for area, findings in by_area.items():
            lines += ["", f"### {area}", ""]
            lines += self.groups(findings, "")
        return lines

    def handoff(self) -> list[str]:
        review, context = self.review, self.review.context
        target = ", ".join(f"`{p}`" for p in context.paths[:MAX_FILES])
        if len(context.paths) > MAX_FILES:
            target += f" {_more(len(context.paths) - MAX_FILES)}"
        since = f" (lines changed since `{context.diff_base}`)" if context.diff_base is not None else ""
        task = (
            f"- Feature/task completed: code in {target}{since} reviewed by fastapi-review: "
            f"{review.verdict}, {_plural(len(review.findings), 'finding')}"
        )
        if context.files_modified is None:
            modified = "- Files modified: not known (the whole project was reviewed; `--diff-base REF` names a change's files)"
        elif context.files_modified:
            modified = f"- Files modified: {self.files(context.files_modified)}"
        else:
            modified = "- Files modified: none"
        lines = ["---", "", "## Next Agent to Invoke", ""]
        if not review.work:
            unchecked = [r.item.title for r in review.items if r.status == "not checked"]
            note = f" (not checked, their rules were off: {'; '.join(unchecked)})" if unchecked else ""
            lines += [f"**Agent:** {WORKFLOW_COMPLETE}", "", "**Context to provide:**", task, modified]
            lines += [f"- Checklist: every checked item ticked{escape(note)}", "", "**After that agent completes:**", "Nothing is left: the review is clean."]
            return lines
        first, rest = review.work[0], review.work[1:]
        lines += [f"**Agent:** `{first.agent.name}`", "", "**Context to provide:**", task, modified]
        lines.append(f"- Files involved: {self.files(sorted({review.relative(f.path) for f in first.findings}))}")
        lines.append(f"- Findings to address ({len(first.findings)}):")
        lines += self.bullets(first.findings, "  ", with_code=True)
        if rest:
            lines.append(f"- Other agents needed: {', '.join(self.summary(w.agent.name, w.findings) for w in rest)}")
        after = "Run fastapi-review again"
        if rest:
            after += "; then invoke " + ", then ".join(self.summary(w.agent.name, w.findings) for w in rest)
        lines += ["", "**After that agent completes:**", f"{after}; the workflow is complete when the review is clean."]
        return lines

    @staticmethod
    def summary(name: str, findings: Iterable[Finding]) -> str:
        findings = list(findings)
        codes = ", ".join(sorted({f.code for f in findings}))
        return f"`{name}` ({_plural(len(findings), 'finding')}: {codes})"

    @staticmethod
    def files(paths: Sequence[str]) -> str:
        shown = ", ".join(escape(p) for p in paths[:MAX_FILES])
        return shown + (f" {_more(len(paths) - MAX_FILES)}" if len(paths) > MAX_FILES else "")

    def render(self) -> tuple[str, str]:
        """The body (header, checklist, other findings) and the hand-off."""
        body = self.header() + [""] + self.checklist()
        other = self.other()
        if other:
            body += [""] + other
        return "\n".join(body) + "\n\n", "\n".join(self.handoff()) + "\n"


def render_review(review: Review) -> str:
    """The review as Markdown, with as many findings per group as fit under MAX_CHARACTERS
    (the hand-off is always kept whole)."""
    for cap in CAPS:
        body, handoff = _Renderer(review, cap).render()
        if len(body) + len(handoff) <= MAX_CHARACTERS:
            return body + handoff
    room = max(MAX_CHARACTERS - len(handoff) - 40, 0)
    return body[:room].rsplit("\n", 1)[0] + "\n\n(review cut to fit a comment)\n\n" + handoff


def format_markdown(findings: Sequence[Finding], context: ReviewContext) -> str:
    """The Markdown review of a run (see the README's "Reviews" section)."""
    return render_review(build_review(findings, context))

