"""Applying fixes: one libcst transformer pass per file, import merging, validation, diffs and
atomic writes.

Fix mode runs the normal check, then, for each file with findings whose fix is allowed (and,
for deferred findings, confirmed by the project index), checks the same bytes again with fix
collection on, applies the non-overlapping replacements in one pass, re-parses the result and
keeps it only if it is valid.  Up to MAX_PASSES rounds let fixes skipped for overlapping
another fix apply once that one is in.  Files are written at the end, each only if it is still
the file that was read.
"""

from __future__ import annotations

import dataclasses
import difflib
import io
import os
import shutil
import sys
import tempfile
import tokenize
import warnings
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence

import libcst as cst

from fastapi_review.cache import Cache
from fastapi_review.checker import Report, check_paths, per_file_phase, run_project_phase
from fastapi_review.config import Config
from fastapi_review.dispatch import descendants
from fastapi_review.discovery import PathProblem, SourceFile, decode_source, discover, is_force_excluded, named_file
from fastapi_review.engine import ENGINE_CODES, FileResult, check_file
from fastapi_review.findings import Finding, TextEdit
from fastapi_review.parallel import on_big_stack
from fastapi_review.rule import FixRequest, RuleFix
from fastapi_review.selection import RuleSet
from fastapi_review.semantics.edits import insert_element, one_argument_per_line, subtree
from fastapi_review.suppress import covers, find_directive, line_ends, source_lines, with_codes

MAX_PASSES = 10
Key = tuple[str, int, int, int, int]  # code, line, column, end line, end column
Edit = tuple[Finding, RuleFix]


def finding_key(finding: Finding) -> Key:
    """What matches a finding of the normal check to the same finding of the fix-collecting check."""
    return (finding.code, finding.line, finding.column, finding.end_line, finding.end_column)


@dataclass
class FixedSource:
    """The result of applying a file's fixes."""

    data: Optional[bytes]  # None when nothing could be applied
    applied: list[Finding] = field(default_factory=list)
    skipped: list[tuple[Finding, str]] = field(default_factory=list)


@dataclass
class FixRun:
    """A fix run: the findings left, what was fixed, the new contents and what was skipped."""

    report: Report
    fixed: Counter = field(default_factory=Counter)  # (display path, code) → findings fixed
    changed: dict[str, tuple[Path, bytes, bytes]] = field(default_factory=dict)  # display → (path, before, after)
    notes: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    before: list[Finding] = field(default_factory=list)  # the findings before any fix

    def fixed_count(self, paths: Optional[Iterable[str]] = None) -> int:
        """Findings fixed (in the files `paths`, default all)."""
        wanted = None if paths is None else set(paths)
        return sum(n for (path, _), n in self.fixed.items() if wanted is None or path in wanted)


# -- applying ---------------------------------------------------------------------------------


def apply_fixes(tree: cst.Module, edits: Sequence[Edit], must_compile: bool = True, line_length: Optional[int] = None) -> FixedSource:
    """Apply the non-overlapping edits in one transformer pass; skip (and say why) each edit that
    overlaps an earlier one or makes the file invalid.  With a `line_length`, an edit that would
    write a longer line has its call wrapped one argument per line, as black does, or is skipped
    when even that does not fit."""
    accepted: list[Edit] = []
    skipped: list[tuple[Finding, str]] = []
    taken: set[int] = set()
    if line_length is not None:
        edits = _fitting(tree, edits, line_length, must_compile, skipped)
    for finding, fix in sorted(edits, key=lambda e: e[0].sort_key()):
        nodes = {id(n) for old, _ in fix.replace for n in subtree(old)}
        if nodes & taken:
            skipped.append((finding, "it overlaps another fix"))
            continue
        taken |= nodes
        accepted.append((finding, fix))
    if not accepted:
        return FixedSource(None, [], skipped)
    data = _render(tree, accepted, must_compile)
    if data is None:  # find the culprits: each edit alone
        good = [e for e in accepted if _render(tree, [e], must_compile) is not None]
        skipped += [(f, "the result would not be valid Python") for f, fx in accepted if (f, fx) not in good]
        accepted = good
        data = _render(tree, accepted, must_compile) if accepted else None
        if data is None:
            skipped += [(f, "the fixes together would not give valid Python") for f, _ in accepted]
            return FixedSource(None, [], skipped)
    return FixedSource(data, [f for f, _ in accepted], skipped)


def _fitting(tree: cst.Module, edits: Sequence[Edit], line_length: int, must_compile: bool, skipped: list[tuple[Finding, str]]) -> list[Edit]:
    """The edits that keep every line they write within `line_length` characters, some with
    their call wrapped one argument per line; the others go to `skipped`."""
    before = [line.rstrip("\r\n") for line in source_lines(tree.code)]
    longest = max((len(line) for line in before), default=0)
    old_lines = set(before)
    fitting: list[Edit] = []
    for finding, fix in edits:
        if longest + _growth(fix) <= line_length:  # cannot reach the limit: no need to render
            fitting.append((finding, fix))
            continue
        if _fits(tree, (finding, fix), line_length, old_lines, must_compile):
            fitting.append((finding, fix))
            continue
        wrapped = _wrapped(tree, fix)
        if wrapped is not None and _fits(tree, (finding, wrapped), line_length, old_lines, must_compile):
            fitting.append((finding, wrapped))
            continue
        skipped.append((finding, f"the fixed line would be longer than line-length ({line_length}), even with the call wrapped"))
    return fitting


def _growth(fix: RuleFix) -> int:
    """How many characters the fix can add to one line at most (a new node on several lines
    counts whole, as if on one)."""
    empty = cst.Module([])
    grown = sum(len(empty.code_for_node(new)) - len(empty.code_for_node(old)) for old, new in fix.replace)
    return max(grown, 0) + sum(len(name) + 2 for _, name in fix.imports)


def _fits(tree: cst.Module, edit: Edit, line_length: int, old_lines: set[str], must_compile: bool) -> bool:
    """Whether every line the edit writes (one that was not in the file before) fits; an edit
    whose result is invalid passes here and is caught when the fixes are applied."""
    data = _render(tree, [edit], must_compile)
    if data is None:
        return True
    for line in source_lines(data.decode(tree.encoding)):
        line = line.rstrip("\r\n")
        if len(line) > line_length and line not in old_lines:
            return False
    return True


def _wrapped(tree: cst.Module, fix: RuleFix) -> Optional[RuleFix]:
    """The fix with its call laid out one argument per line: the call it writes (the first one,
    outermost), else the call its new node is an argument of; None when there is none to wrap."""
    replace = []
    for old, new in fix.replace:
        call = next((n for n in descendants(new) if isinstance(n, cst.Call)), None)
        if call is None:
            call = _enclosing_call(tree, old)
            if call is None:
                return None
            old, new = call, call.visit(_Replace({id(old): new}))
            assert isinstance(new, cst.Call)
            call = new
        wrapped = one_argument_per_line(call, tree.default_indent)
        if wrapped is None:
            return None
        replace.append((old, wrapped if call is new else new.deep_replace(call, wrapped)))
    return dataclasses.replace(fix, replace=tuple(replace))


def _enclosing_call(tree: cst.Module, node: cst.CSTNode) -> Optional[cst.Call]:
    """The innermost call `node` is (inside) an argument of, within its statement."""
    parents: dict[int, cst.CSTNode] = {}
    for parent in subtree(tree):
        for child in parent.children:
            parents[id(child)] = parent
    current = node
    while id(current) in parents:
        parent = parents[id(current)]
        if isinstance(parent, cst.Call) and current is not parent.func:
            return parent
        if isinstance(parent, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
            return None
        current = parent
    return None


def _render(tree: cst.Module, edits: Sequence[Edit], must_compile: bool) -> Optional[bytes]:
    """The file's bytes with `edits` applied, or None when the result does not parse."""
    replacements = {id(old): new for _, fix in edits for old, new in fix.replace}
    imports = sorted({i for _, fix in edits for i in fix.imports})
    try:
        module = on_big_stack(_transform, tree, replacements, imports)
        data = module.bytes
        on_big_stack(cst.parse_module, data)
        if must_compile:
            _compile(data)
    except (cst.ParserSyntaxError, SyntaxError, ValueError, UnicodeError, RecursionError, MemoryError):
        return None
    return data


def _transform(tree: cst.Module, replacements: dict[int, cst.CSTNode], imports: list[tuple[str, str]]) -> cst.Module:
    module = tree.visit(_Replace(replacements))
    assert isinstance(module, cst.Module)
    return add_imports(module, imports) if imports else module


class _Replace(cst.CSTTransformer):
    """Swaps nodes of the original tree (by identity) for their replacements."""

    def __init__(self, replacements: dict[int, cst.CSTNode]) -> None:
        super().__init__()
        self.replacements = replacements

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> cst.CSTNode:  # type: ignore[override]
        """The replacement of a replaced node; any other node as rebuilt."""
        return self.replacements.get(id(original_node), updated_node)


# -- imports ----------------------------------------------------------------------------------


def add_imports(module: cst.Module, imports: Iterable[tuple[str, str]]) -> cst.Module:
    """`from m import name` for each (m, name) whose name no top-level import binds yet: added to
    an existing `from m import ...`, else as a new statement among the imports."""
    body = list(module.body)
    for source, name in imports:
        if name in _top_level_bindings(body):
            continue
        index = next((i for i, s in enumerate(body) if _import_from(s, source) is not None), None)
        if index is not None:
            statement = body[index]
            assert isinstance(statement, cst.SimpleStatementLine)
            node = _import_from(statement, source)
            assert node is not None
            body[index] = statement.with_changes(body=[_with_name(node, name) if s is node else s for s in statement.body])
            continue
        new = cst.SimpleStatementLine([cst.ImportFrom(module=cst.parse_expression(source), names=[cst.ImportAlias(cst.Name(name))])])  # type: ignore[arg-type]
        position, blank = _import_position(body, source)
        if blank:
            new = new.with_changes(leading_lines=[cst.EmptyLine()])
        elif position < len(body) and position > 0 and _is_import(body[position - 1]) is False:
            new = new.with_changes(leading_lines=[cst.EmptyLine()])
        body.insert(position, new)
    return module.with_changes(body=body)


def _top_level_bindings(body: Sequence[cst.BaseStatement]) -> set[str]:
    names: set[str] = set()
    for statement in body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, (cst.Import, cst.ImportFrom)) and not isinstance(small.names, cst.ImportStar):
                for alias in small.names:
                    bound = alias.asname.name if alias.asname is not None else alias.name
                    while isinstance(bound, cst.Attribute):
                        bound = bound.value
                    if isinstance(bound, cst.Name):
                        names.add(bound.value)
    return names


def _import_from(statement: cst.CSTNode, source: str) -> Optional[cst.ImportFrom]:
    """The `from <source> import a, b` in a top-level statement (not relative, not `*`)."""
    if not isinstance(statement, cst.SimpleStatementLine):
        return None
    for small in statement.body:
        if (
            isinstance(small, cst.ImportFrom)
            and not small.relative
            and small.module is not None
            and cst.Module([]).code_for_node(small.module) == source
            and not isinstance(small.names, cst.ImportStar)
        ):
            return small
    return None


def _name_order(name: str) -> tuple[int, str]:
    """isort / ruff order within an import: CONSTANTS, Classes, functions."""
    kind = 0 if name.isupper() and len(name) > 1 else 1 if name[:1].isupper() else 2
    return kind, name.lower()


def _with_name(node: cst.ImportFrom, name: str) -> cst.ImportFrom:
    """`node` importing `name` too: in sorted position when its names are sorted, else last."""
    aliases = list(node.names)  # type: ignore[arg-type]
    order = [_name_order(cst.Module([]).code_for_node(a.name)) for a in aliases]
    position = len(aliases)
    if order == sorted(order):
        position = next((i for i, key in enumerate(order) if key > _name_order(name)), len(aliases))
    opening = node.lpar.whitespace_after if node.lpar is not None else cst.SimpleWhitespace("")
    return node.with_changes(names=insert_element(aliases, cst.ImportAlias(cst.Name(name)), position, opening))


def _is_import(statement: cst.CSTNode) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and all(isinstance(s, (cst.Import, cst.ImportFrom)) for s in statement.body)


def _imported_module(statement: cst.SimpleStatementLine) -> tuple[str, bool]:
    """The (first) module a top-level import statement names, and whether it is relative."""
    small = statement.body[0]
    if isinstance(small, cst.ImportFrom):
        name = cst.Module([]).code_for_node(small.module) if small.module is not None else ""
        return name, bool(small.relative)
    assert isinstance(small, cst.Import)
    return cst.Module([]).code_for_node(small.names[0].name), False


def _section(module: str, relative: bool) -> int:
    """isort sections: 0 future, 1 standard library, 2 third party, 3 first party (relative)."""
    top = module.split(".")[0]
    if top == "__future__":
        return 0
    if relative:
        return 3
    return 1 if top in sys.stdlib_module_names else 2


def _import_position(body: Sequence[cst.BaseStatement], source: str) -> tuple[int, bool]:
    """Where a new third-party `from <source> import ...` goes among the leading imports, and
    whether it starts a new section (a blank line before it).

    Among the imports of the same top-level package, in sorted order; else after the last
    third-party import sorting before it; else after the standard library imports; else after
    the docstring and `__future__` imports.  (First-party absolute imports cannot be told from
    third-party ones; they count as third party.)"""
    leading: list[tuple[int, str, int]] = []  # (index, module, section)
    start = 1 if body and _is_docstring(body[0]) else 0
    for index in range(start, len(body)):
        statement = body[index]
        if not _is_import(statement):
            break
        assert isinstance(statement, cst.SimpleStatementLine)
        module, relative = _imported_module(statement)
        leading.append((index, module, _section(module, relative)))
    top = source.split(".")[0]
    same = [(i, m) for i, m, s in leading if s == 2 and m.split(".")[0] == top]
    if same:
        before = [i for i, m in same if m <= source]
        return (before[-1] + 1, False) if before else (same[0][0], False)
    third = [(i, m) for i, m, s in leading if s == 2]
    if third:
        before = [i for i, m in third if m.split(".")[0] < top]
        return (before[-1] + 1, False) if before else (third[0][0], False)
    earlier = [i for i, _, s in leading if s <= 1]
    if earlier:
        return earlier[-1] + 1, True
    return start, start > 0


def _is_docstring(statement: cst.CSTNode) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


# -- the run ----------------------------------------------------------------------------------


def fix_paths(
    paths: Sequence[str],
    config: Config,
    *,
    unsafe: bool = False,
    jobs: int = 1,
    cache: Optional[Cache] = None,
) -> FixRun:
    """Check `paths`, fix what can be fixed (in memory) and re-check until nothing changes.

    The first check is a normal run (process pool, cache); only files with fixes are checked
    again, with fix collection on, and re-checked after each pass.
    """
    ruleset = RuleSet.from_config(config)
    problems: list[PathProblem] = []
    files = discover(paths, config, problems)
    first = per_file_phase(files, ruleset, jobs, cache)
    run = on_big_stack(_fix_files, files, ruleset, _safeties(unsafe), first, {})
    run.report.problems = problems
    return run


def fix_source(data: bytes, filename: str, config: Config, *, unsafe: bool = False) -> FixRun:
    """Fix one in-memory source as if it were `filename` (a single-file project)."""
    ruleset = RuleSet.from_config(config)
    file = named_file(filename, config)
    if is_force_excluded(file, config):
        return FixRun(report=Report(files_checked=0))
    return on_big_stack(_fix_files, [file], ruleset, _safeties(unsafe), None, {0: data})


def fix_findings(data: bytes, filename: str, config: Config, findings: Sequence[Finding]) -> Optional[bytes]:
    """`data` (the source the `findings` were reported on, as if it were `filename`) with the
    fixes of exactly those findings applied in one pass; None when none applies.  The editor's
    code actions: one finding's fix, or every safe fix of a document."""
    safeties = frozenset(f.fix.safety for f in findings if f.fix is not None)
    if not safeties:
        return None
    ruleset = RuleSet.from_config(config)
    request = FixRequest(safeties)
    on_big_stack(check_file, named_file(filename, config), data, ruleset, None, request)
    wanted = {finding_key(f) for f in findings}
    edits = [(f, fix) for f, fix in request.edits if finding_key(f) in wanted]
    if request.tree is None or not edits:
        return None
    return apply_fixes(request.tree, edits, _compiles(data), config.line_length).data


def _safeties(unsafe: bool) -> frozenset[str]:
    return frozenset({"safe", "unsafe"} if unsafe else {"safe"})


def _fix_files(
    files: Sequence[SourceFile],
    ruleset: RuleSet,
    safeties: frozenset[str],
    checked: Optional[list[FileResult]],
    known: dict[int, bytes],
) -> FixRun:
    """Fix `files`: `checked` holds their results from a normal run (None: check the `known`
    bytes of every file); the files with fixes are read again, and only those."""
    original: dict[int, Optional[bytes]] = dict(known)
    current: dict[int, Optional[bytes]] = {}

    def source(index: int) -> Optional[bytes]:
        if index not in current:
            if index not in original:
                try:
                    original[index] = files[index].path.read_bytes()
                except OSError:
                    original[index] = None
            current[index] = original[index]
        return current[index]

    results = checked if checked is not None else [check_file(file, known[i], ruleset) for i, file in enumerate(files)]
    run = FixRun(report=Report(files_checked=len(files)))
    noted: set[str] = set()
    for number in range(MAX_PASSES):
        findings = run_project_phase(results)
        if number == 0:
            run.before = findings
        fixable: dict[str, set[Key]] = {}
        for finding in findings:
            if finding.fix is not None and finding.fix.safety in safeties:
                fixable.setdefault(finding.path, set()).add(finding_key(finding))
        changed = False
        for index, file in enumerate(files):
            keys = fixable.get(file.display)
            if not keys:
                continue
            data = source(index)
            if data is None:
                continue
            request = FixRequest(safeties)
            check_file(file, data, ruleset, fixes=request)
            edits = [(f, fix) for f, fix in request.edits if finding_key(f) in keys]
            if request.tree is None or not edits:
                continue
            fixed = apply_fixes(request.tree, edits, _compiles(data), ruleset.config.line_length)
            for finding, reason in fixed.skipped:
                if reason != "it overlaps another fix":
                    _note(run, noted, f"{finding.path}:{finding.line}:{finding.column}: {finding.code} not fixed: {reason}")
            if fixed.data is not None and fixed.data != data:
                current[index] = fixed.data
                results[index] = check_file(file, fixed.data, ruleset)
                run.fixed.update((file.display, f.code) for f in fixed.applied)
                changed = True
        if not changed:
            break
    else:
        _note(run, noted, f"fastapi-review: fixes still pending after {MAX_PASSES} passes; run again")
    findings = run_project_phase(results)
    run.report = Report(findings, len(files))
    for index, after in current.items():
        before = original[index]
        if before is not None and after is not None and before != after:
            file = files[index]
            run.changed[file.display] = (file.path, before, after)
    return run


def _note(run: FixRun, noted: set[str], note: str) -> None:
    if note not in noted:
        noted.add(note)
        run.notes.append(note)


def _compile(data: bytes) -> None:
    """CPython's verdict on the code (its SyntaxWarnings about the user's code are not ours to print)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compile(data, "<fixed>", "exec", dont_inherit=True)


def _compiles(data: bytes) -> bool:
    try:
        _compile(data)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


# -- fixes as text edits (the JSON formats) ----------------------------------------------------


def fix_edits(findings: Sequence[Finding], config: Config, data_of: Callable[[str], Optional[bytes]]) -> list[Finding]:
    """`findings` with each fix's text edits filled in: the fix alone, applied to the checked
    bytes (`data_of(path)`) by the same machinery as `--fix`, as the smallest replacements that
    turn the file's text into the fixed text.  A fix that cannot be applied alone keeps no edits."""
    wanted: dict[str, set[Key]] = {}
    for finding in findings:
        if finding.fix is not None:
            wanted.setdefault(finding.path, set()).add(finding_key(finding))
    if not wanted:
        return list(findings)
    ruleset = RuleSet.from_config(config)
    edits: dict[tuple[str, Key], tuple[TextEdit, ...]] = {}
    for path, keys in wanted.items():
        data = data_of(path)
        if data is None:
            continue
        edits.update(on_big_stack(_file_edits, named_file(path, config), data, ruleset, keys))
    return [
        f if f.fix is None else replace(f, fix=replace(f.fix, edits=edits.get((f.path, finding_key(f)), ())))
        for f in findings
    ]


def _file_edits(file: SourceFile, data: bytes, ruleset: RuleSet, keys: set[Key]) -> dict[tuple[str, Key], tuple[TextEdit, ...]]:
    request = FixRequest(frozenset({"safe", "unsafe"}))
    check_file(file, data, ruleset, fixes=request)
    if request.tree is None:
        return {}
    must_compile = _compiles(data)
    before = decode_source(data)
    result = {}
    for finding, fix in request.edits:
        key = finding_key(finding)
        if key not in keys:
            continue
        fixed = apply_fixes(request.tree, [(finding, fix)], must_compile, ruleset.config.line_length)
        if fixed.data is not None:
            result[(file.display, key)] = text_edits(before, decode_source(fixed.data))
    return result


def text_edits(before: str, after: str) -> tuple[TextEdit, ...]:
    """The replacements (positions in `before`, in order, not overlapping) that turn `before` into
    `after`: changed runs of lines, each trimmed to the characters that differ."""
    old, new = _lines(before), _lines(after)
    starts = [0]
    for line in old:
        starts.append(starts[-1] + len(line))
    result = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        removed, added = "".join(old[i1:i2]), "".join(new[j1:j2])
        head = len(os.path.commonprefix([removed, added]))
        tail = len(os.path.commonprefix([removed[head:][::-1], added[head:][::-1]]))
        start, end = starts[i1] + head, starts[i2] - tail
        result.append(TextEdit(added[head : len(added) - tail], *_line_column(before, start), *_line_column(before, end)))
    return tuple(result)


def _lines(text: str) -> list[str]:
    """The lines of `text`, each with its "\\n" (lines end at "\\n" only, as the positions count them)."""
    parts = text.split("\n")
    return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _line_column(text: str, offset: int) -> tuple[int, int]:
    """The 1-based line and character column of an offset (after a final newline: the next line)."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


# -- adding # noqa ----------------------------------------------------------------------------


@dataclass
class NoqaRun:
    """An `--add-noqa` run: the directives added or extended, the new contents, what was skipped."""

    report: Report
    changed: dict[str, tuple[Path, bytes, bytes]] = field(default_factory=dict)  # display → (path, before, after)
    counts: Counter = field(default_factory=Counter)  # display → lines given or extending a # noqa
    notes: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)

    def added(self) -> int:
        """The directives added or extended in the files written."""
        return sum(self.counts[display] for display in self.written)


def add_noqa(paths: Sequence[str], config: Config, *, jobs: int = 1, cache: Optional[Cache] = None) -> NoqaRun:
    """Check `paths` and give every line with findings a `# noqa: CODES` (extending a `# noqa:`
    it has), in memory; a line that ends inside a string or continues with a backslash cannot
    take a comment and is reported instead.  The checker's own findings (FR001–FR004) are left
    alone: `# noqa` does not silence them."""
    report = check_paths(paths, config, jobs=jobs, cache=cache)
    wanted: dict[str, dict[int, list[str]]] = {}
    for finding in report.findings:
        if finding.code not in ENGINE_CODES:
            codes = wanted.setdefault(finding.path, {}).setdefault(finding.line, [])
            if finding.code not in codes:
                codes.append(finding.code)
    run = NoqaRun(report)
    for display, lines in wanted.items():
        path = Path(display)
        try:
            before = path.read_bytes()
        except OSError as exc:
            run.notes.append(f"{display}: not changed: {exc.strerror or exc}")
            continue
        after, added = _with_noqa(display, before, lines, run.notes)
        if added:
            run.counts[display] = added
            run.changed[display] = (path, before, after)
    return run


def _with_noqa(display: str, data: bytes, wanted: dict[int, list[str]], notes: list[str]) -> tuple[bytes, int]:
    """`data` with the codes of `wanted` (line → codes) in each line's `# noqa`, and how many
    lines changed."""
    ends = line_ends(data)
    if ends is None:
        notes.append(f"{display}: not changed: its source does not tokenize")
        return data, 0
    encoding = tokenize.detect_encoding(io.BytesIO(data).readline)[0]
    lines = source_lines(data.decode(encoding))
    added = 0
    for number, codes in sorted(wanted.items()):
        where = f"{display}:{number}: {', '.join(codes)}: no # noqa added"
        if number not in ends.open or number > len(lines):
            notes.append(f"{where}: the line ends inside a string or continues with a backslash")
            continue
        text = lines[number - 1]
        content = text.rstrip("\r\n")
        comment = ends.comments.get(number, (0, None))[1]
        new = with_codes(content, comment, codes)
        directive = find_directive(new)
        if directive is None or not all(directive.items is None or any(covers(i, c, "") for i, _ in directive.items) for c in codes):
            notes.append(f"{where}: a # noqa inside a string on the line would be read first")
            continue
        if new != content:
            lines[number - 1] = new + text[len(content):]
            added += 1
    return "".join(lines).encode(encoding), added


def write_noqa(run: NoqaRun) -> bool:
    """Write every file `add_noqa` changed, atomically, unless it changed on disk since it was
    read; True when a file could not be written."""
    failed = False
    for display, (path, before, after) in run.changed.items():
        try:
            atomic_write(path, after, before)
        except OSError as exc:
            run.notes.append(f"{display}: not written: {exc.strerror or exc}")
            failed = True
            continue
        run.written.append(display)
    return failed


# -- output -----------------------------------------------------------------------------------


def unified_diff(display: str, before: bytes, after: bytes) -> str:
    """`--- a/path` / `+++ b/path` unified diff of a file's text."""
    old = decode_source(before).splitlines(keepends=True)
    new = decode_source(after).splitlines(keepends=True)
    lines = difflib.unified_diff(old, new, f"a/{display}", f"b/{display}")
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


def write_changes(run: FixRun) -> bool:
    """Write every changed file atomically, unless it changed on disk since it was read; the
    report keeps the findings of a file that was not written (they were not fixed).  True when
    a file could not be written."""
    unwritten = set()
    for display, (path, before, after) in run.changed.items():
        try:
            if path.read_bytes() != before:
                run.notes.append(f"{display}: not written: the file changed on disk while it was being fixed")
                unwritten.add(display)
                continue
            atomic_write(path, after, before)
        except OSError as exc:
            run.notes.append(f"{display}: not written: {exc.strerror or exc}; its findings are reported unfixed")
            unwritten.add(display)
            continue
        run.written.append(display)
    if unwritten:
        kept = [f for f in run.report.findings if f.path not in unwritten]
        restored = [f for f in run.before if f.path in unwritten]
        run.report = Report(sorted(kept + restored, key=Finding.sort_key), run.report.files_checked, run.report.problems)
        for key in [key for key in run.fixed if key[0] in unwritten]:
            del run.fixed[key]
    return bool(unwritten)


def atomic_write(path: Path, data: bytes, expected: bytes) -> None:
    """Replace `path` by `data` through a temporary file in the same directory (keeping the mode),
    after checking once more, just before the rename, that the file still holds `expected`."""
    target = path.resolve()  # a symlink keeps pointing at the fixed file
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".fixing")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        shutil.copymode(target, temporary)
        if target.read_bytes() != expected:
            raise OSError(0, "the file changed on disk while it was being fixed")
        os.replace(temporary, target)
    except BaseException:
        os.unlink(temporary)
        raise
