"""The per-file pipeline: read → parse once → one batched traversal → findings + FileFacts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

import libcst as cst

from fastapi_review.discovery import SourceFile, decode_source
from fastapi_review.dispatch import Dispatcher
from fastapi_review.facts import GENERATED, FileFacts
from fastapi_review.findings import Finding, Fix
from fastapi_review.budget import BudgetExceeded, run_within
from fastapi_review.parsing import CHAIN_LIMIT, bracket_depth_exceeds, cpython_rejects, long_chain_at, parse_module, parse_with_ast
from fastapi_review.positions import node_ranges
from fastapi_review.project import Requirement
from fastapi_review.rule import FileContext, FileRoles, FixRequest, LineOf, Profile, Rule
from fastapi_review.rules.fr001_syntax_error import SyntaxErrorRule
from fastapi_review.rules.fr002_internal_error import InternalErrorRule
from fastapi_review.rules.fr003_file_too_complex import FileTooComplexRule
from fastapi_review.rules.fr004_unused_noqa import UnusedNoqaRule
from fastapi_review.selection import RuleSet
from fastapi_review.semantics.file_facts import FileFactsWriter
from fastapi_review.semantics.versions import V2_MARKERS, url_dialects
from fastapi_review.suppress import NoqaLines


@dataclass
class FileResult:
    """What the per-file phase hands to the project phase (picklable: no CST inside)."""

    findings: list[Finding] = field(default_factory=list)
    # findings kept only if the project index satisfies their requirements, as Finding's
    # positional fields: most are dropped, so they are built (and unpickled) as plain tuples.
    # When message arguments wait on the project (see Rule.report), the message field holds
    # the rule's template and the third item the arguments; else the third item is None.
    deferred: list[tuple[tuple[Any, ...], tuple[Requirement, ...], Optional[dict[str, object]]]] = field(default_factory=list)
    facts: Optional[FileFacts] = None
    # the check ran out of its time budget (FR003): a verdict of this machine and moment, not
    # of the file's bytes, so it is not cached
    timed_out: bool = False


def check_file(
    file: SourceFile,
    data: bytes,
    ruleset: RuleSet,
    codes: Optional[Sequence[str]] = None,
    fixes: Optional[FixRequest] = None,
    roles: Optional[FileRoles] = None,
    profile: Optional[Profile] = None,
) -> FileResult:
    """Check one file's bytes with its enabled rules (`codes`, default: what the rule set enables
    for it) and, given `fixes`, collect the fixes of the findings.  The one per-file entry point
    of checks, cache fills, stdin and fix runs.

    Call it on a thread with a big stack (`parallel.on_big_stack`): libcst's parser and the walk
    recurse, and deeply nested (hostile or generated) code must reach their own limits instead
    of crashing the process.
    """
    if roles is None:
        roles = ruleset.roles_for(file, data)
    if profile is None:
        profile = ruleset.profile_for(file)
    if codes is None:
        codes = ruleset.codes_for(file.relative, roles.role)
    if not codes and roles.role == GENERATED:  # generated code no rule reads: not even parsed
        return FileResult(facts=FileFacts(path=file.display, module=file.module[0], is_package=file.module[1]))
    try:
        return _check_source(file.display, data, ruleset, codes, file.module, roles, fixes, profile)
    except BudgetExceeded:
        budget = ruleset.config.time_budget
        if fixes is not None:
            fixes.edits = []
            fixes.tree = None
        result = FileResult(facts=FileFacts(path=file.display, module=file.module[0], is_package=file.module[1]), timed_out=True)
        if FileTooComplexRule.code in codes:
            reason = f"its rules took longer than the time budget of {budget:g} s (time-budget in [tool.fastapi-review])"
            result.findings.append(FileTooComplexRule.finding(file.display, 1, reason))
        return result


def _too_complex(data: bytes) -> Optional[tuple[str, int, int, str]]:
    """Files libcst cannot parse in reasonable time, found cheaply before it tries: (code,
    line, column, reason) — FR001 when CPython's own compiler rejects the file too, else FR003."""
    chain = long_chain_at(data)
    if chain is None and not bracket_depth_exceeds(data):
        return None
    rejected = cpython_rejects(data)
    if rejected is not None:
        line, column, reason = rejected
        if chain is not None and (line, column) == (1, 1):
            line = chain  # CPython's recursion error has no place: the chain's line
        return SyntaxErrorRule.code, line, column, reason
    if chain is not None:
        return FileTooComplexRule.code, chain, 1, f"an expression of more than {CHAIN_LIMIT:,} chained operations (split it up)"
    return None  # CPython accepts the nesting (the brackets in strings made it look deep)


def _check_source(
    display_path: str,
    data: bytes,
    ruleset: RuleSet,
    codes: Sequence[str],
    module: tuple[str, bool],
    roles: FileRoles,
    fixes: Optional[FixRequest] = None,
    profile: Profile = Profile(),
) -> FileResult:
    facts = FileFacts(path=display_path, module=module[0], is_package=module[1])
    result = FileResult(facts=facts)
    nul = data.find(b"\0")
    if nul >= 0:  # libcst reads past it; CPython refuses the file
        facts.syntax_error = "the file contains a NUL byte, which Python refuses in source code"
        if SyntaxErrorRule.code in codes:
            result.findings.append(SyntaxErrorRule.finding(display_path, *_place(data, nul), facts.syntax_error))
        return result
    too_complex = _too_complex(data)
    if too_complex is not None:
        code, line, column, reason = too_complex
        if code == SyntaxErrorRule.code:
            facts.syntax_error = reason
            if code in codes:
                result.findings.append(SyntaxErrorRule.finding(display_path, line, column, reason))
        elif code in codes:
            result.findings.append(FileTooComplexRule.finding(display_path, line, reason))
        return result
    try:
        tree = parse_module(data)
    except cst.ParserSyntaxError as exc:
        line, column, reason = _syntax_error_location(data, exc)
        facts.syntax_error = reason
        if SyntaxErrorRule.code in codes:
            result.findings.append(SyntaxErrorRule.finding(display_path, line, column, reason))
        return result
    except (RecursionError, MemoryError):
        facts.syntax_error = "too deeply nested to parse"
        if SyntaxErrorRule.code in codes:
            result.findings.append(SyntaxErrorRule.finding(display_path, 1, 1, facts.syntax_error))
        return result
    except (UnicodeDecodeError, LookupError, SyntaxError, ValueError) as exc:
        facts.syntax_error = f"cannot decode: {exc}"
        line, column = _place(data, exc.start) if isinstance(exc, UnicodeDecodeError) else (1, 1)
        if SyntaxErrorRule.code in codes:
            result.findings.append(SyntaxErrorRule.finding(display_path, line, column, facts.syntax_error))
        return result

    # the rules' time is bounded; the parse is linear once _too_complex has let the file through
    return run_within(ruleset.config.time_budget, _check_parsed, display_path, data, tree, ruleset, codes, module, roles, fixes, profile, result)


def _check_parsed(
    display_path: str,
    data: bytes,
    tree: cst.Module,
    ruleset: RuleSet,
    codes: Sequence[str],
    module: tuple[str, bool],
    roles: FileRoles,
    fixes: Optional[FixRequest],
    profile: Profile,
    result: FileResult,
) -> FileResult:
    if fixes is not None:
        fixes.tree = tree
    active = [code for code in codes if code not in ENGINE_CODES]
    mentioned = _Mentions(data, ruleset)
    dialects = url_dialects(data)
    # evidence for the undeclared part of a project only: a service pinned to Pydantic 2
    # does not speak for its undeclared neighbours (nor do its fixes)
    pydantic_v2 = profile.pydantic is None and _mentions_any(data, V2_MARKERS)
    # A rule that raises is dropped and the file checked again without it (a crash costs a
    # second walk of that one file, never the run); a crash outside the rules drops the file.
    while True:
        facts = FileFacts(path=display_path, module=module[0], is_package=module[1])
        result.facts = facts
        facts.models_module = roles.models
        facts.role = roles.role
        facts.dialects = dialects
        facts.pydantic_v2 = pydantic_v2
        ctx = FileContext(
            display_path, facts, roles, ruleset.config.session_names, data, fixes, profile, ruleset.config.learn_conventions
        )
        rules = [ruleset.rule_class(code)(ctx, ruleset.options[code]) for code in active if mentioned(code)]
        try:
            used = _check_tree(ctx, tree, data, rules, result)
            if UnusedNoqaRule.code in codes:
                ran = [ruleset.rule_class(code) for code in active]
                result.findings += UnusedNoqaRule.findings(display_path, data, used, ran)
            return result
        except RecursionError:
            if SyntaxErrorRule.code in codes:
                result.findings.append(SyntaxErrorRule.finding(display_path, 1, 1, "too deeply nested to check"))
            return result
        except Exception as error:  # noqa: BLE001 - isolate bugs: report them, keep going
            culprit = _failing_rule(error, rules)
            component = f"rule {culprit.code} {culprit.name}" if culprit is not None else "the engine"
            if InternalErrorRule.code in codes:
                result.findings.append(InternalErrorRule.finding(display_path, component, error))
            if culprit is None:
                return result
            active.remove(culprit.code)
            result.findings = [f for f in result.findings if f.code in (InternalErrorRule.code, SyntaxErrorRule.code)]
            result.deferred = []
            if fixes is not None:
                fixes.edits = []
        finally:
            _release(ctx, rules)


# reported by the engine itself, not by a visitor, and never suppressed by `# noqa` on a line
ENGINE_CODES = frozenset({SyntaxErrorRule.code, InternalErrorRule.code, FileTooComplexRule.code, UnusedNoqaRule.code})


def _place(data: bytes, offset: int) -> tuple[int, int]:
    """The 1-based line and column of a byte offset (the column counts bytes)."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    return data.count(b"\n", 0, offset) + 1, offset - line_start + 1


def _mentions_any(data: bytes, words: tuple[bytes, ...]) -> bool:
    for word in words:
        if word in data:
            return True
    return False


class _Mentions:
    """Whether a rule's `mentions` (any of them) occur in the file: each word searched once."""

    def __init__(self, data: bytes, ruleset: RuleSet) -> None:
        self.data = data
        self.ruleset = ruleset
        self.found: dict[bytes, bool] = {}

    def __call__(self, code: str) -> bool:
        words = self.ruleset.rule_class(code).mentions
        if not words:
            return True
        for word in words:
            hit = self.found.get(word)
            if hit is None:
                hit = self.found[word] = word in self.data
            if hit:
                return True
        return False


def _release(ctx: FileContext, rules: list[Rule]) -> None:
    """Drop the file's per-check state now.  Rules, the context and its queued findings refer to
    each other (and to CST nodes), so without this a file's tree would live on until the cyclic
    GC finds it, and every collection until then would traverse it again."""
    for rule in rules:
        rule.__dict__.clear()
    ctx.__dict__.clear()


def _check_tree(ctx: FileContext, tree: cst.Module, data: bytes, rules: list[Rule], result: FileResult) -> set[tuple[int, str]]:
    """Walk the tree with the rules and resolve their findings; the `# noqa` items that
    suppressed one, as (line, item)."""
    if b"add_api_" in data or b"APIRoute" in data or b"APIWebSocketRoute" in data or b"add_exception_handler" in data or b"include_in_schema" in data:
        ctx.scope.prescan(tree)
    Dispatcher([ctx.scope, FileFactsWriter(ctx.scope, ctx.is_test_module, ctx.session_names, ctx.locate), *rules]).walk(tree)
    for rule in rules:
        rule.finish()
    if ctx._pending or ctx._located:
        return _resolve_findings(ctx, tree, data, result)
    return set()


def _failing_rule(error: BaseException, rules: list[Rule]) -> Optional[Rule]:
    """The rule whose method raised `error` (the innermost rule frame of the traceback)."""
    culprit = None
    traceback = error.__traceback__
    ids = {id(rule): rule for rule in rules}
    while traceback is not None:
        owner = traceback.tb_frame.f_locals.get("self")
        if id(owner) in ids:
            culprit = ids[id(owner)]
        traceback = traceback.tb_next
    return culprit


def _syntax_error_location(data: bytes, exc: cst.ParserSyntaxError) -> tuple[int, int, str]:
    """Line, column and reason of a parse failure: CPython's when it agrees the file is invalid.

    libcst's native parser often points a line or two past the real error; CPython's parser
    names the place and the cause ("'(' was never closed").
    """
    try:
        parse_with_ast(data)
    except SyntaxError as err:
        if err.lineno:
            return err.lineno, max(err.offset or 1, 1), err.msg
    except (ValueError, RecursionError, MemoryError):
        pass
    return exc.raw_line, exc.raw_column + 1, exc.message


def _resolve_findings(ctx: FileContext, tree: cst.Module, data: bytes, result: FileResult) -> set[tuple[int, str]]:
    targets = [(node, unit) for _, node, _, _, unit, _ in ctx._pending]
    targets += [(a.node, a.unit) for _, _, args, _, _, _ in ctx._pending for a in args.values() if isinstance(a, LineOf)]
    targets += [(node, unit) for node, unit, _ in ctx._located]
    text = decode_source(data)
    ranges = node_ranges(tree, data, targets, text, ctx.scope.def_names)
    for node, _, on_line in ctx._located:
        on_line(ranges[id(node)][0])
    noqa = NoqaLines(text)
    used: set[tuple[int, str]] = set()
    for rule, node, args, requires, _, fix in ctx._pending:
        line, column, end_line, end_column = ranges[id(node)]
        item = noqa.suppressing(line, rule.code, rule.name)
        if item is not None:
            used.add((line, item))
            continue
        values = {k: ranges[id(v.node)][0] if isinstance(v, LineOf) else v for k, v in args.items()}
        waiting = False  # an argument the project phase answers (a loop: this runs per finding)
        if requires:
            for value in values.values():
                if isinstance(value, Requirement):
                    waiting = True
                    break
        message = rule.message if waiting else rule.message.format(**values)
        fields = (
            ctx.path, line, column, end_line, end_column, rule.code, rule.name, message, rule.severity,
            None if fix is None else Fix(fix.safety, fix.description),
        )
        if fix is not None and ctx.fixes is not None and fix.safety in ctx.fixes.safeties:
            ctx.fixes.edits.append((Finding(*fields), fix))
        if not requires:
            result.findings.append(Finding(*fields))
        else:
            result.deferred.append((fields, requires, values if waiting else None))
    return used
