"""Line/column ranges for a handful of reported nodes, without PositionProvider.

libcst's PositionProvider tracks line and column on every token of every file (1.9x the
parse time).  We only need positions of the few nodes a file reports, so we run plain
code generation once, remember the token index where each target node starts and ends
(its syntactic range, as PositionProvider defines it), and count newlines afterwards.
"""

from __future__ import annotations

import ast
import re
from typing import Iterable, Iterator, Optional, Sequence

import libcst as cst
from libcst._nodes.internal import CodegenState

from fastapi_review.parsing import parse_with_ast

_NEWLINE = re.compile(r"\r\n?|\n")
_DEF_KEYWORDS = frozenset({"def", "class", "async"})

Range = tuple[int, int, int, int]  # 1-based line, 1-based column, end line, end column


class _Done(Exception):
    """Raised once every target has been generated: the rest of the code is not needed."""


class _TargetState(CodegenState):
    """Code generation that records token indices of target nodes only, and stops after the last."""

    def __init__(self, module: cst.Module, targets: set[int], primary: set[int], anchored: bool) -> None:
        super().__init__(
            default_indent=getattr(module, "default_indent", "    "),
            default_newline=getattr(module, "default_newline", "\n"),
        )
        self.targets = targets
        self.anchored = anchored  # the line count starts at the def/class keyword: reach it
        self.remaining = set(primary)
        self.starts: dict[int, int] = {}
        self.ends: dict[int, int] = {}
        self.syntactic: dict[int, tuple[int, int]] = {}

    def before_codegen(self, node: cst.CSTNode) -> None:
        key = id(node)
        if key in self.targets:
            self.starts[key] = len(self.tokens)

    def after_codegen(self, node: cst.CSTNode) -> None:
        key = id(node)
        if key in self.targets:
            self.ends[key] = len(self.tokens)
            self.remaining.discard(key)
            if not self.remaining:
                if not self.anchored or any(t in _DEF_KEYWORDS for t in self.tokens):
                    raise _Done
                # the last target is in a decorator: go on to the `def` line the unit is anchored at
                self.add_token = self._add_token_until_keyword  # type: ignore[method-assign]

    def _add_token_until_keyword(self, value: str) -> None:
        self.tokens.append(value)
        if value in _DEF_KEYWORDS:
            raise _Done

    def record_syntactic_position(
        self,
        node: cst.CSTNode,
        *,
        start_node: Optional[cst.CSTNode] = None,
        end_node: Optional[cst.CSTNode] = None,
    ) -> "_Recorder | _NoRecording":
        # called around every node's code: a shared no-op context for the non-targets (a
        # generator-based context manager here costs a third of the code generation)
        if id(node) not in self.targets:
            return _NO_RECORDING
        return _Recorder(self, node, start_node, end_node)


class _NoRecording:
    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


_NO_RECORDING = _NoRecording()


class _Recorder:
    """Records a target's syntactic range (hoisted to `start_node`/`end_node` when given)."""

    __slots__ = ("state", "node", "start_node", "end_node", "start")

    def __init__(
        self, state: _TargetState, node: cst.CSTNode, start_node: Optional[cst.CSTNode], end_node: Optional[cst.CSTNode]
    ) -> None:
        self.state, self.node, self.start_node, self.end_node = state, node, start_node, end_node
        self.start = 0

    def __enter__(self) -> None:
        self.start = len(self.state.tokens)

    def __exit__(self, error_type: object, *exc: object) -> None:
        if error_type is not None:  # generation stopped inside the node: no range
            return
        state, start = self.state, self.start
        end = len(state.tokens)
        if self.start_node is not None:
            start = state.syntactic.get(id(self.start_node), (state.starts.get(id(self.start_node), start), 0))[0]
        if self.end_node is not None:
            end = state.syntactic.get(id(self.end_node), (0, state.ends.get(id(self.end_node), end)))[1]
        state.syntactic[id(self.node)] = (start, end)


# (line of the def/class keyword, its indentation, and when known the name's column on that
# line and its offset in the text)
Anchor = tuple[int, str, Optional[int], Optional[int]]
Unit = Optional[tuple[int, cst.CSTNode]]  # (ordinal among defs/classes, the def/class node)


def node_ranges(
    module: cst.Module,
    data: bytes,
    targets: Iterable[tuple[cst.CSTNode, Unit]],
    text: Optional[str] = None,
    def_names: Optional[Sequence[str]] = None,
) -> dict[int, Range]:
    """Map id(node) → (line, column, end_line, end_column), 1-based, for each target node.

    Each target comes with its unit: the innermost function or class around it (by its
    ordinal in source order).  Only the units that hold targets are generated, each
    anchored at the line and indentation of its `def` / `class` keyword; code outside every
    def/class falls back to generating the whole module.  Anchors come from a line scan of
    `text` when it finds exactly the defs the traversal saw (`def_names`, in order), else
    from `ast` (0.1x the parse).
    """
    by_unit: dict[int, tuple[cst.CSTNode, list[cst.CSTNode]]] = {}
    whole_module: list[cst.CSTNode] = []
    for node, unit in targets:
        if unit is None:
            whole_module.append(node)
        else:
            by_unit.setdefault(unit[0], (unit[1], []))[1].append(node)
    anchors = None
    if by_unit and not whole_module:
        anchors = _scanned_anchors(text, def_names) if text is not None and def_names is not None else None
        if anchors is None:
            anchors = _ast_anchors(data)
    if anchors is None:
        return _generate(module, [*whole_module, *(n for _, nodes in by_unit.values() for n in nodes)], 1, [])
    ranges: dict[int, Range] = {}
    lines = _LineTable(text) if text is not None and anchors[0][3] is not None and _textual(text) else None
    for ordinal, (unit_node, nodes) in by_unit.items():
        if ordinal >= len(anchors):
            return _generate(module, [n for _, ns in by_unit.values() for n in ns], 1, [])
        keyword_line, indent, name_column, name_offset = anchors[ordinal]
        if name_offset is not None and text is not None:
            # the def/class name and plain parameter names come straight from the text the scan
            # anchored: no code generation for the most common targets (FR101/FR102, classes)
            found = _signature_names(text, name_offset, keyword_line, name_column, unit_node, nodes)
            if lines is not None:
                found.update(_found_in_text(text, lines, _unit_region(anchors, ordinal, unit_node, len(text)), nodes, found, module))
            if found:
                ranges.update(found)
                nodes = [n for n in nodes if id(n) not in found]
                if not nodes:
                    continue
        if isinstance(unit_node, cst.FunctionDef) and unit_node.decorators and _header_only(unit_node, nodes):
            # targets in the signature (parameters, the name): the unit is anchored at its
            # `def` line, so the decorators above it need not be generated
            unit_node = unit_node.with_changes(decorators=())
        ranges.update(_generate(unit_node, nodes, keyword_line, [indent] if indent else [], module, anchored=True))
    return ranges


def _textual(text: str) -> bool:
    """Whether the text can be searched for generated code: newlines are plain `\\n` and no
    NUL stands in the way of the indentation marker."""
    return "\r" not in text and "\x00" not in text


class _LineTable:
    """1-based (line, column) of text offsets, counting newlines on from the last one asked
    (a file's targets come roughly in order)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.offset, self.line = 0, 1

    def position(self, offset: int) -> tuple[int, int]:
        if offset < self.offset:
            self.offset, self.line = 0, 1
        self.line += self.text.count("\n", self.offset, offset)
        self.offset = offset
        return self.line, offset - self.text.rfind("\n", 0, offset)


def _unit_region(anchors: Sequence[Anchor], ordinal: int, unit: cst.CSTNode, length: int) -> tuple[int, int]:
    """Text offsets that surely hold all of a def/class: from its keyword line (from the
    previous def/class name when it has decorators) to the next def/class not nested in it."""
    _, indent, name_column, name_offset = anchors[ordinal]
    if getattr(unit, "decorators", None) or name_offset is None or name_column is None:
        start = (anchors[ordinal - 1][3] or 0) if ordinal else 0
    else:
        start = name_offset - name_column
    for later in anchors[ordinal + 1 :]:
        if len(later[1]) <= len(indent):
            return start, later[3] or length
    return start, length


_INDENT = "\x00"  # stands for the enclosing block's indentation in generated code


def _found_in_text(
    text: str, lines: _LineTable, region: tuple[int, int], nodes: list[cst.CSTNode], known: dict[int, Range], module: cst.Module
) -> dict[int, Range]:
    """Ranges of the targets whose own generated code occurs exactly once in `region`.

    A node's code is exactly its text in the file, except where it continues a line inside
    brackets: there the enclosing block's indentation is generated as a marker and matched as
    any indentation.  The node's true text is one occurrence, so a single occurrence is it;
    with more (the same call twice, a comment quoting it) the node is left to code generation.
    """
    found: dict[int, Range] = {}
    low, high = region
    for node in nodes:
        if id(node) in known:
            continue
        code, start, end = _own_code(node, module)
        if not code.strip():
            continue
        occurrence = _single_occurrence(text, code, low, high)
        if occurrence is None:
            continue
        offset, indent = occurrence
        if indent is not None:  # each marker before a position stands for len(indent) characters
            start += (len(indent) - 1) * code.count(_INDENT, 0, start)
            end += (len(indent) - 1) * code.count(_INDENT, 0, end)
        begin, finish = offset + start, offset + end
        found[id(node)] = (*lines.position(begin), *lines.position(finish))
    return found


def _single_occurrence(text: str, code: str, low: int, high: int) -> Optional[tuple[int, Optional[str]]]:
    """The offset of the only place in text[low:high] where `code` occurs as whole tokens
    (overlaps counted), and the indentation `_INDENT` stood for there (the same at every
    marker); None for none or more than one."""
    marked = _INDENT in code
    head = code[: code.index(_INDENT)] if marked else code
    if not head:
        return None
    # a name or number is never glued to a word character before it (nor a number to a `.`),
    # nor a name to one after it: such places are parts of other tokens, not occurrences
    glued_before = _number_glue if head[0].isdigit() else _word_character if _word_character(head[0]) else None
    glued_after = _word_character if not marked and _word_character(code[-1]) and not code[-1].isdigit() else None
    found = None
    offset = text.find(head, low, high)
    while offset >= 0:
        indent = None
        end = offset + len(code)
        if marked:
            indent = _indentation_at(text, code, offset)
            whole = code.replace(_INDENT, indent) if indent is not None else None
            if whole is None or not text.startswith(whole, offset):
                offset = text.find(head, offset + 1, high)
                continue
            end = offset + len(whole)
        if (
            end <= high
            and (glued_before is None or offset == 0 or not glued_before(text[offset - 1]))
            and (glued_after is None or end >= len(text) or not glued_after(text[end]))
        ):
            if found is not None:
                return None
            found = offset, indent
        offset = text.find(head, offset + 1, high)
    return found


def _word_character(character: str) -> bool:
    return character.isalnum() or character == "_"


def _number_glue(character: str) -> bool:
    return _word_character(character) or character == "."


def _indentation_at(text: str, code: str, offset: int) -> Optional[str]:
    """The indentation `_INDENT` stands for if `code` is at `offset`: the first marked line's
    leading whitespace, less the whitespace the code itself puts after the marker."""
    marker = code.index(_INDENT)
    line_start = offset + marker
    line_end = line_start
    while line_end < len(text) and text[line_end] in " \t\f":
        line_end += 1
    after = marker + 1
    own = after
    while own < len(code) and code[own] in " \t\f":
        own += 1
    leading, ours = text[line_start:line_end], code[after:own]
    if not leading.endswith(ours):
        return None
    return leading[: len(leading) - len(ours)]


def _own_code(node: cst.CSTNode, module: cst.Module) -> tuple[str, int, int]:
    """The node's generated code (its parentheses included, continuation indentation as
    _INDENT) and the character offsets of its syntactic range in it."""
    targets = {id(node), *(id(child) for child in _hoisted_children(node))}
    state = _TargetState(module, targets, {id(node)}, anchored=False)
    state.indent_tokens = [_INDENT]
    try:
        node._codegen(state)
    except _Done:
        pass
    start, end = state.syntactic.get(id(node)) or (state.starts.get(id(node), 0), state.ends.get(id(node), len(state.tokens)))
    tokens = state.tokens
    before = "".join(tokens[:start])
    inside = "".join(tokens[start:end])
    return before + inside + "".join(tokens[end:]), len(before), len(before) + len(inside)


def _header_only(function: cst.FunctionDef, nodes: list[cst.CSTNode]) -> bool:
    """Whether every target is the function's name or one of its parameters (or their names)."""
    p = function.params
    header = {id(function.name)}
    for param in (*p.posonly_params, *p.params, *p.kwonly_params):
        header.update((id(param), id(param.name)))
    for star in (p.star_arg, p.star_kwarg):
        if isinstance(star, cst.Param):
            header.update((id(star), id(star.name)))
    return all(id(n) in header for n in nodes)


_DEF_LINE = re.compile(r"^([ \t]*)(?:async[ \t]+)?(?:def|class)[ \t]+(\w+)", re.MULTILINE)


def _scanned_anchors(text: str, def_names: Sequence[str]) -> Optional[list[Anchor]]:
    """(keyword line, indentation, name column) of each def/class from a line scan, or None when
    the scan disagrees with the parsed defs (a def-like line inside a string, a continued def line)."""
    matches = list(_DEF_LINE.finditer(text))
    if len(matches) != len(def_names):
        return None
    anchors = []
    line, position = 1, 0
    for match, expected in zip(matches, def_names):
        if match.group(2) != expected:
            return None
        line += text.count("\n", position, match.start())
        position = match.start()
        anchors.append((line, match.group(1), match.start(2) - match.start(), match.start(2)))
    return anchors


# a signature's tokens, as far as locating parameter names needs them: strings (any prefix,
# quotes and escapes), comments, line continuations, names, newlines, blanks, anything else
_SIGNATURE_TOKEN = re.compile(
    r"""(?:[rRbBuUfF]{1,2})?(?:'''(?:[^\\]|\\.)*?'''|\"\"\"(?:[^\\]|\\.)*?\"\"\"|'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")"""
    r"|#[^\n]*|\\\n|[^\W\d]\w*|\n|[ \t\f]+|.",
    re.DOTALL,
)
_STRING_START = frozenset("'\"rRbBuUfF")
_UNSCANNABLE = frozenset("'\"\\\r")  # an unclosed quote or stray backslash, CR newlines: generate those


def _signature_names(
    text: str, offset: int, line: int, column: int, unit: cst.CSTNode, nodes: list[cst.CSTNode]
) -> dict[int, Range]:
    """Ranges of the targets among `unit`'s name and its parameters' names, from the text at
    `offset` (where the scan found the name); {} when the signature is not plain enough to scan
    or the scan disagrees with the parsed parameters."""
    name = unit.name  # type: ignore[attr-defined]
    wanted = {id(n) for n in nodes}
    found: dict[int, Range] = {}
    if id(name) in wanted:
        found[id(name)] = (line, column + 1, line, column + 1 + len(name.value))
    if not isinstance(unit, cst.FunctionDef):
        return found
    p = unit.params
    params = [*p.posonly_params, *p.params]
    if isinstance(p.star_arg, cst.Param):
        params.append(p.star_arg)
    params += p.kwonly_params
    if p.star_kwarg is not None:
        params.append(p.star_kwarg)
    if not any(id(param.name) in wanted for param in params):
        return found
    names = _scan_parameter_names(text, offset + len(name.value))
    if names is None or [n for n, _, _ in names] != [param.name.value for param in params]:
        return found
    for param, (value, line_delta, start) in zip(params, names):
        if id(param.name) in wanted:
            found[id(param.name)] = (line + line_delta, start + 1, line + line_delta, start + 1 + len(value))
    return found


def _scan_parameter_names(text: str, position: int) -> Optional[list[tuple[str, int, int]]]:
    """(name, line offset, 0-based column) of each parameter, from the `(` after a def's name at
    `position`; None for anything but plain text (see _UNSCANNABLE) or a missing `(`."""
    line_start = text.rfind("\n", 0, position) + 1
    depth, line, expect_name = 0, 0, False
    names: list[tuple[str, int, int]] = []
    for match in _SIGNATURE_TOKEN.finditer(text, position):
        token = match.group()
        first = token[0]
        if depth == 0 and first not in "( \t\f":
            return None  # type parameters (def f[T](...)) or not a signature
        if first == "#" or len(token) > 1 and (first == "\\" or token[-1] in "'\"" and first in _STRING_START):
            # a string, a comment or a line continuation: never a parameter name
            if "\r" in token:
                return None
            if "\n" in token:
                line += token.count("\n")
                line_start = match.start() + token.rfind("\n") + 1
            if first not in "#\\":
                expect_name = False
            continue
        if first in _UNSCANNABLE:
            return None
        if first == "\n":
            line, line_start = line + 1, match.end()
        elif first in "([{":
            depth += 1
            expect_name = depth == 1
        elif first in ")]}":
            depth -= 1
            if depth == 0:
                return names
        elif depth == 1:
            if first == ",":
                expect_name = True
            elif first in " \t\f*":
                continue
            elif expect_name and (first.isalpha() or first == "_" or not first.isascii()):
                names.append((token, line, match.start() - line_start))
                expect_name = False
            else:
                expect_name = False
    return None


def _ast_anchors(data: bytes) -> Optional[list[Anchor]]:
    """(keyword line, indentation) of every def/class in source order, from `ast`; None if unusable.

    Only the indentation's length matters for columns, so it is rebuilt from col_offset
    (the bytes before `def` are ASCII whitespace, so bytes == characters).
    """
    try:
        tree = parse_with_ast(data)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    defs = _defs(tree.body)
    defs.sort(key=lambda n: (n.lineno, n.col_offset))
    return [(n.lineno, " " * n.col_offset, None, None) for n in defs]


_DEF_TYPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _defs(body: list[ast.stmt]) -> list[ast.stmt]:
    """Every def/class among statements, descending statement bodies only (defs live nowhere else)."""
    found: list[ast.stmt] = []
    stack = list(body)
    while stack:
        stmt = stack.pop()
        if isinstance(stmt, _DEF_TYPES):
            found.append(stmt)
        for name in ("body", "orelse", "finalbody"):
            block = getattr(stmt, name, None)
            if isinstance(block, list):
                stack.extend(block)
        for holder in (*getattr(stmt, "handlers", ()), *getattr(stmt, "cases", ())):
            stack.extend(holder.body)
    return found


def _generate(
    root: cst.CSTNode,
    nodes: list[cst.CSTNode],
    start_line: int,
    indent: list[str],
    module: Optional[cst.Module] = None,
    anchored: bool = False,
) -> dict[int, Range]:
    """Generate `root`'s code until its last target; with `anchored`, `start_line` is the line
    of root's def/class keyword (decorators and comments above it are counted back)."""
    targets: set[int] = {id(n) for n in nodes}
    # start_node/end_node hoisting needs the children's positions too.
    for n in nodes:
        for child in _hoisted_children(n):
            targets.add(id(child))
    state = _TargetState(module or root, targets, {id(n) for n in nodes}, anchored)  # type: ignore[arg-type]
    state.indent_tokens = list(indent)
    try:
        root._codegen(state)
    except _Done:
        pass
    wanted: dict[int, tuple[int, int]] = {}
    for key in targets:
        if key in state.syntactic:
            wanted[key] = state.syntactic[key]
        elif key in state.starts:
            wanted[key] = (state.starts[key], state.ends.get(key, state.starts[key]))
    if anchored:
        keyword = next((i for i, t in enumerate(state.tokens) if t in _DEF_KEYWORDS), 0)
        start_line -= sum(len(_NEWLINE.findall(t)) for t in state.tokens[:keyword])
    indices = sorted({i for pair in wanted.values() for i in pair})
    located = _locate(state.tokens, indices, start_line)
    return {key: (*located[start], *located[end]) for key, (start, end) in wanted.items()}


def _hoisted_children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    # Nodes whose syntactic range is hoisted from a child (FunctionDef/ClassDef from their
    # decorators or name, etc.) call record_syntactic_position with start_node/end_node.
    for attr in ("name", "body", "decorators"):
        value = getattr(node, attr, None)
        if isinstance(value, cst.CSTNode):
            yield value
        elif isinstance(value, (list, tuple)):
            yield from (v for v in value if isinstance(v, cst.CSTNode))


def _locate(tokens: list[str], indices: list[int], start_line: int) -> dict[int, tuple[int, int]]:
    """1-based (line, column) at each token index, scanning the token list once."""
    result: dict[int, tuple[int, int]] = {}
    line, column, pos = start_line, 0, 0
    for index in indices:
        if index > pos:
            text = "".join(tokens[pos:index])
            parts = _NEWLINE.split(text)
            if len(parts) > 1:
                line += len(parts) - 1
                column = len(parts[-1])
            else:
                column += len(text)
            pos = index
        result[index] = (line, column + 1)
    return result
