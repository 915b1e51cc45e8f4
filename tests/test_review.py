"""Markdown reviews: golden files on the example app and a fixture project, their structure
parsed back with markdown-it-py, the agent mapping agent by agent, size bounds, --diff-base."""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Optional

import pytest
from cli_helpers import run
from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

from fastapi_review.findings import Finding
from fastapi_review.output.html import format_html
from fastapi_review.output.markdown import MAX_CHARACTERS, format_markdown
from fastapi_review.output.review import AGENTS, CHECKLIST, WORKFLOW_COMPLETE, ReviewContext, agent_table, checklist_table
from fastapi_review.rules import ALL_RULES

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "data" / "review"
README = (ROOT / "README.md").read_text(encoding="utf-8")
# set FASTAPI_REVIEW_UPDATE_GOLDEN=1 to rewrite the golden files (then read the diff)
UPDATE = os.environ.get("FASTAPI_REVIEW_UPDATE_GOLDEN") == "1"
ALL_CODES = frozenset(rule.code for rule in ALL_RULES)


def _text(node: SyntaxTreeNode) -> str:
    """The plain text of a node (code spans included)."""
    if node.type in ("text", "code_inline"):
        return node.content
    return "".join(_text(child) for child in node.children)


def handoff(markdown: str) -> dict[str, object]:
    """The "Next Agent to Invoke" section, read from the parsed document (not from the text)."""
    tree = SyntaxTreeNode(MarkdownIt("commonmark").parse(markdown))
    blocks = tree.children
    headings = [i for i, b in enumerate(blocks) if b.type == "heading" and _text(b) == "Next Agent to Invoke"]
    assert len(headings) == 1, "exactly one hand-off section"
    start = headings[0]
    assert blocks[start].tag == "h2" and blocks[start - 1].type == "hr", "a rule, then ## Next Agent to Invoke"
    assert start == max(i for i, b in enumerate(blocks) if b.type == "heading"), "the hand-off closes the review"
    assert len(blocks) == start + 5, "nothing after the hand-off"
    agent, context_label, context, after = blocks[start + 1 :]
    assert agent.type == "paragraph" and _text(agent).startswith("Agent: ")
    codes = [n for n in agent.children[0].children if n.type == "code_inline"]
    assert context_label.type == "paragraph" and _text(context_label) == "Context to provide:"
    assert context.type == "bullet_list"
    # as in the workflow's template, the label and its text are one paragraph (a soft break)
    label, *rest = [n for n in after.children[0].children if n.type != "text" or n.content]
    assert after.type == "paragraph" and label.type == "strong" and _text(label) == "After that agent completes:"
    assert rest[0].type == "softbreak"
    items = [_text(item.children[0]) for item in context.children]
    assert items[0].startswith("Feature/task completed: ") and items[1].startswith("Files modified: ")
    nested = [item.children[1] for item in context.children if len(item.children) > 1]
    return {
        "agent": codes[0].content if codes else _text(agent)[len("Agent: ") :],
        "context": items,
        "findings": [_text(entry) for block in nested for entry in block.children],
        "after": "".join(_text(node) for node in rest[1:]),
    }


def checklist(markdown: str) -> dict[str, str]:
    """Each checklist item's title → "x" (ticked), " " (not ticked) or "not checked"."""
    tree = SyntaxTreeNode(MarkdownIt("commonmark").parse(markdown))
    blocks = tree.children
    start = next(i for i, b in enumerate(blocks) if b.type == "heading" and _text(b) == "Checklist")
    result = {}
    for item in blocks[start + 1].children:
        paragraph = item.children[0]
        title = next(n for n in paragraph.children[0].children if n.type == "strong")
        text = _text(paragraph)
        result[_text(title)] = "not checked" if "not checked" in text else text[1]
    return result


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} changed (FASTAPI_REVIEW_UPDATE_GOLDEN=1 rewrites it)"


def _copy(source: Path, tmp_path: Path) -> Path:
    """The project copied outside any git repository, so links are relative to its own root."""
    target = tmp_path / source.name
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".fastapi_review_cache", "__pycache__"))
    return target


def test_example_app_review(tmp_path: Path) -> None:
    shop = _copy(ROOT / "examples" / "shop", tmp_path)
    result = run(["--format", "markdown", "--no-cache", "shop"], tmp_path)
    assert result.exit_code == 1
    golden("shop.md", result.stdout)
    parts = handoff(result.stdout)
    assert parts["agent"] == "security-review"  # FR401, an error, outranks the warnings
    assert parts["context"][1] == "Files modified: not known (the whole project was reviewed; --diff-base REF names a change's files)"
    # outside a git repository, links are relative to the project (its pyproject.toml)
    assert parts["context"][2] == "Files involved: app/services/order_service.py, app/services/user_service.py"
    assert [f.split(": ", 1)[1].split()[0] for f in parts["findings"]] == ["FR401"]
    assert "`query-optimizer`" in result.stdout.split("## Next Agent to Invoke")[1]
    items = checklist(result.stdout)
    assert list(items) == [item.title for item in CHECKLIST]
    assert items["Tests written for every route"] == "not checked"  # the example leaves FR801 off
    assert items["Type hints on all functions"] == " "
    assert "](app/services/user_service.py#L48)" in result.stdout
    assert shop.exists()


def test_fixture_project_review(tmp_path: Path) -> None:
    _copy(ROOT / "tests" / "data" / "review_project", tmp_path)
    result = run(["--output-format", "markdown", "--no-cache", "review_project"], tmp_path)
    assert result.exit_code == 1
    golden("review_project.md", result.stdout)
    parts = handoff(result.stdout)
    assert parts["agent"] == "query-optimizer"  # warnings only: the table's order decides
    assert "then invoke test-coverage (2 findings: FR801), then backend-implementation (1 finding: FR203)" in str(parts["after"])
    items = checklist(result.stdout)
    assert items["Type hints on all functions"] == "x"
    assert items["Tests written for every route"] == " "
    assert items["Errors are raised as HTTPException with a status constant and a detail"] == "not checked"


def _finding(code: str, path: str = "app/x.py", line: int = 1, severity: str = "warning", message: str = "") -> Finding:
    return Finding(path, line, 1, line, 2, code, "some-rule", message or f"{code} message", severity)  # type: ignore[arg-type]


def _review(findings: list[Finding], enabled: frozenset[str] = ALL_CODES, modified: Optional[tuple[str, ...]] = None) -> str:
    context = ReviewContext(paths=(".",), enabled=enabled, files_checked=3, root=Path.cwd(), files_modified=modified)
    return format_markdown(findings, context)


# one code per agent of the table (FR901: the migrations family, whose rules may not exist yet)
AGENT_EXAMPLES = {
    "security-review": "FR401",
    "database-migrations": "FR901",
    "query-optimizer": "FR403",
    "test-coverage": "FR801",
    "backend-implementation": "FR203",
}


def test_every_agent_has_an_example() -> None:
    assert list(AGENT_EXAMPLES) == [agent.name for agent in AGENTS]


@pytest.mark.parametrize("agent", list(AGENT_EXAMPLES))
def test_agent_for_its_findings(agent: str) -> None:
    code = AGENT_EXAMPLES[agent]
    parts = handoff(_review([_finding(code, "app/a.py", 3), _finding(code, "app/b.py", 7, message="other")]))
    assert parts["agent"] == agent
    assert parts["context"][2] == "Files involved: app/a.py, app/b.py"
    assert [f.split(": ", 1)[1] for f in parts["findings"]] == [f"{code} {code} message", f"{code} other"]
    assert "Other agents needed" not in " ".join(parts["context"])  # type: ignore[arg-type]


def test_clean_review_completes_the_workflow() -> None:
    text = _review([], enabled=frozenset({"FR101", "FR102"}), modified=("app/a.py",))
    parts = handoff(text)
    assert parts["agent"] == WORKFLOW_COMPLETE
    assert parts["context"][1] == "Files modified: app/a.py"
    assert "Tests written for every route" in parts["context"][2]  # said not checked, not ticked
    assert text.startswith("# fastapi-review: Clean\n")
    assert checklist(text)["Type hints on all functions"] == "x"


def test_most_severe_agent_first_and_the_others_listed() -> None:
    findings = [_finding("FR402"), _finding("FR801", line=2), _finding("FR405", line=3, severity="error")]
    parts = handoff(_review(findings))
    assert parts["agent"] == "backend-implementation"  # the error (FR405) comes first
    assert parts["context"][-1] == "Other agents needed: query-optimizer (1 finding: FR402), test-coverage (1 finding: FR801)"


def test_deterministic_and_deduplicated() -> None:
    findings = [_finding("FR101", f"app/m{i % 7}.py", i) for i in range(40)] + [_finding("FR401", severity="error")]
    shuffled = findings * 2
    random.Random(4).shuffle(shuffled)
    assert _review(shuffled) == _review(findings)


def test_capped_per_group_and_in_size() -> None:
    long = "x" * 300
    findings = [_finding(rule.code, f"app/module_{i}.py", i, message=f"{long} {i}") for rule in ALL_RULES for i in range(1, 400)]
    text = _review(findings)
    assert len(text) <= MAX_CHARACTERS < 65_536
    assert re.search(r"^    - and 39[0-8] more$", text, re.M)  # fewer lines per group, until it fits
    assert handoff(text)["agent"] == "security-review"  # all warnings: the table's order decides
    small = _review([_finding("FR101", f"app/m{i}.py", i, message=f"m{i}") for i in range(1, 13)])
    assert small.count("- and 2 more") == 2  # 10 shown of 12, in the checklist and in the hand-off


def test_same_message_at_several_places_is_one_line() -> None:
    text = _review([_finding("FR401", f"app/m{i}.py", i, "error", "same") for i in range(1, 8)])
    lines = [line for line in text.splitlines() if line.endswith(": same")]
    assert len(lines) == 1 and lines[0].endswith("and 2 more places: same")


def test_markdown_in_messages_is_escaped() -> None:
    text = _review([_finding("FR101", message="<script> *bold* [x](y) `code` _x_ snake_case")])
    assert "\\<script> \\*bold\\* \\[x\\](y) \\`code\\` \\_x\\_ snake_case" in text


def test_readme_tables_are_generated_from_the_code() -> None:
    for name, table in (("checklist-table", checklist_table()), ("agent-table", agent_table())):
        assert README.split(f"<!-- {name}:start -->\n", 1)[1].split(f"<!-- {name}:end -->", 1)[0] == table


def test_checklist_codes_exist() -> None:
    codes = [code for item in CHECKLIST for code in item.codes]
    assert len(codes) == len(set(codes)) and set(codes) <= ALL_CODES


def _git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    subprocess.run(["git", *args], cwd=repo, check=True, env=env, capture_output=True)


BEFORE = "def old(x):\n    return x\n\n\ndef kept(y):\n    return y\n"
AFTER = "def old(x):\n    return x\n\n\ndef kept(y):\n    return y\n\n\ndef new(z):\n    return z\n"


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_diff_base_reports_only_changed_lines(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "app").mkdir(parents=True)
    (repo / "pyproject.toml").write_text('[tool.fastapi-review]\nextend-select = ["FR101"]\nlearn-conventions = false\n')
    (repo / "app" / "a.py").write_text(BEFORE)
    (repo / "app" / "b.py").write_text("def untouched(v):\n    return v\n")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "first")
    _git(repo, "checkout", "-q", "-b", "feature")
    (repo / "app" / "a.py").write_text(AFTER)
    (repo / "app" / "c d.py").write_text("def fresh(w):\n    return w\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "second")
    (repo / "app" / "new.py").write_text("def untracked(u):\n    return u\n")  # not committed yet

    full = run(["--no-cache", "-q", "app"], repo)
    assert full.stdout.count("FR101") == 6
    changed = run(["--no-cache", "-q", "--diff-base", "main", "app"], repo)
    assert changed.exit_code == 1
    assert [line.split(": ")[0] for line in changed.stdout.splitlines()] == [
        "app/a.py:9:9", "app/c d.py:1:11", "app/new.py:1:15",
    ]
    review = run(["--format", "markdown", "--no-cache", "--diff-base", "main", "app"], repo)
    parts = handoff(review.stdout)
    assert parts["context"][1] == "Files modified: app/a.py, app/c d.py, app/new.py"
    assert parts["agent"] == "backend-implementation"
    assert "Only findings on lines changed since main are reported." in review.stdout.replace("`", "")
    # from a subdirectory, links stay relative to the repository's root
    inside = run(["--format", "markdown", "--no-cache", "--diff-base", "main", "."], repo / "app")
    assert "](app/c%20d.py#L1)" in inside.stdout
    assert run(["--no-cache", "--diff-base", "main", "app"], repo).exit_code == 1
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "third")
    clean = run(["--no-cache", "-q", "--diff-base", "HEAD", "app"], repo)
    assert clean.exit_code == 0 and clean.stdout == ""


def test_diff_base_errors(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    outside = run(["--no-cache", "--diff-base", "main", "a.py"], tmp_path)
    assert outside.exit_code == 2 and "git" in outside.stderr
    if shutil.which("git") is None:
        return
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "first")
    unknown = run(["--no-cache", "--diff-base", "no-such-ref", "a.py"], tmp_path)
    assert unknown.exit_code == 2 and "fastapi-review: error: git merge-base failed" in unknown.stderr


def test_readme_review_command(tmp_path: Path) -> None:
    """The README's command, on a repository whose main branch has one change since."""
    command = README.split("<!-- review-command -->", 1)[1].split("```sh\n", 1)[1].split("\n", 1)[0]
    if shutil.which("git") is None:
        pytest.skip("needs git")
    (tmp_path / "pyproject.toml").write_text('[tool.fastapi-review]\nextend-select = ["FR101"]\nlearn-conventions = false\n')
    (tmp_path / "a.py").write_text("def f(x):\n    return x\n")
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "first")
    _git(tmp_path, "update-ref", "refs/remotes/origin/main", "HEAD")
    (tmp_path / "b.py").write_text("def g(y):\n    return y\n")
    result = run(command.split()[1:], tmp_path)
    assert result.exit_code == 0
    parts = handoff((tmp_path / "review.md").read_text())
    assert parts["context"][1] == "Files modified: b.py"
    assert parts["findings"] == ["b.py:1: FR101 parameter 'y' of 'g' has no type annotation; annotate every parameter"]


def test_github_format_writes_the_job_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.fastapi-review]\nextend-select = ["FR401"]\n')
    (tmp_path / "a.py").write_text('from sqlalchemy import text\n\n\nasync def f(session, name: str) -> None:\n    await session.execute(text(f"SELECT * FROM t WHERE n = \'{name}\'"))\n')
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = run(["--format", "github", "--no-cache", "a.py"], tmp_path)
    assert result.exit_code == 1 and result.stdout.startswith("::error file=a.py,line=5")
    written = summary.read_text()
    assert written.startswith("earlier step\n# fastapi-review: Changes requested\n")  # appended
    assert handoff(written.split("\n", 1)[1])["agent"] == "security-review"
    run(["--format", "github", "--no-cache", "--no-step-summary", "a.py"], tmp_path)
    run(["--format", "json", "--no-cache", "a.py"], tmp_path)
    assert summary.read_text() == written  # turned off, and only for the github format


class _Page(HTMLParser):
    """What the tests read of an HTML review: table rows by table id, findings, external assets."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.articles: list[dict[str, str]] = []
        self.assets: list[str] = []
        self.table: Optional[str] = None
        self.cell: Optional[list[str]] = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, Optional[str]]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "table":
            self.table = values.get("id", "")
            self.tables[self.table] = []
        elif tag == "tr" and self.table is not None:
            self.tables[self.table].append([])
        elif tag in ("td", "th") and self.table is not None:
            self.cell = []
        elif tag == "article":
            self.articles.append(values)
        if tag in ("script", "img", "link", "iframe", "source") and ("src" in values or "href" in values):
            self.assets.append(values.get("src") or values.get("href", ""))
        if "style" in values and "url(" in values["style"]:
            self.assets.append(values["style"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.table = None
        elif tag in ("td", "th") and self.table is not None and self.cell is not None:
            self.tables[self.table][-1].append("".join(self.cell).strip())
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def _page(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    return page


@pytest.mark.parametrize("project", ["examples/shop", "tests/data/review_project"])
def test_html_review_counts_match_statistics(project: str, tmp_path: Path) -> None:
    copy = _copy(ROOT / project, tmp_path)
    result = run(["--format", "html", "--no-cache", copy.name], tmp_path)
    assert result.exit_code == 1
    golden(f"{copy.name}.html", result.stdout)
    statistics = run(["--statistics", "--no-cache", "-q", copy.name], tmp_path).stdout.splitlines()
    counted = {line.split()[1]: int(line.split()[0]) for line in statistics if re.match(r"^\d+ +FR\d{3} ", line)}
    page = _page(result.stdout)
    assert {row[0]: int(row[2]) for row in page.tables["per-rule"][1:]} == counted
    assert sum(int(row[1]) for row in page.tables["per-directory"][1:]) == sum(counted.values())
    assert sorted(Counter(a["data-code"] for a in page.articles).items()) == sorted(counted.items())
    assert [row[1] for row in page.tables["checklist"][1:]] == [
        {"x": "ticked", " ": "not ticked", "not checked": "not checked"}[status]
        for status in checklist(run(["--format", "markdown", "--no-cache", copy.name], tmp_path).stdout).values()
    ]
    assert page.assets == [] and "://" not in re.sub(r'<a [^>]*href="https://github.com/[^"]*"', "", result.stdout)


def test_html_review_escapes_and_shows_excerpts(tmp_path: Path) -> None:
    source = "def f(x):\n    return '<b>'\n"
    (tmp_path / "a.py").write_text(source)
    context = ReviewContext(paths=("a.py",), enabled=ALL_CODES, files_checked=1, root=tmp_path, source_of=lambda path: source)
    text = format_html([_finding("FR101", str(tmp_path / "a.py"), 1, message="<script>alert(1)</script>")], context)
    assert "<script>alert(1)" not in text and "&lt;script&gt;alert(1)" in text
    assert '<span class="target">    1  def f(x):</span>' in text
    assert "    2      return &#39;&lt;b&gt;&#39;" in text


def test_readme_html_command(tmp_path: Path) -> None:
    install, command = README.split("<!-- html-review -->", 1)[1].split("```sh\n", 1)[1].split("\n", 1)[0].split(" && ")
    assert install == "pip install jinja2"  # what the html extra installs (pyproject.toml)
    (tmp_path / "a.py").write_text("x = 1\n")
    result = run(command.split()[1:], tmp_path)
    assert result.exit_code == 0
    page = (tmp_path / "review.html").read_text()
    assert "fastapi-review: Clean" in page and _page(page).articles == []


def test_html_without_jinja2_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "jinja2", None)  # as if the html extra were not installed
    (tmp_path / "a.py").write_text("x = 1\n")
    result = run(["--format", "html", "--no-cache", "a.py"], tmp_path)
    assert result.exit_code == 2 and "pip install jinja2, or pip install '.[html]' in a fastapi-review checkout" in result.stderr


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium package (apt-get install chromium)")
def test_html_review_in_headless_chromium(tmp_path: Path) -> None:
    """The page in a real browser: its script runs (the filter's count), and it renders to a PNG."""
    _copy(ROOT / "examples" / "shop", tmp_path)
    page = tmp_path / "review.html"
    run(["--format", "html", "--no-cache", "-o", str(page), "shop"], tmp_path)
    browser = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*browser, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120).stdout
    assert '<span class="muted" id="shown">20 of 20 shown</span>' in dom
    shot = tmp_path / "review.png"
    subprocess.run([*browser, "--window-size=1200,1800", f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120)
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 20_000  # a blank page is a few kB
