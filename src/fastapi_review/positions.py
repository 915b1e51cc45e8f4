"""Line/column ranges for a handful of reported nodes, without PositionProvider.

libcst's PositionProvider tracks line and column on every token of every file (1.9x the
parse time).  We only need positions of the few nodes a file reports, so we run plain
code generation once, remember the token index where each target node starts and ends
(its syntactic range, as PositionProvider defines it), and count newlines afterwards.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Iterable, Iterator, Optional

import libcst as cst
from libcst._nodes.internal import CodegenState

_NEWLINE = re.compile(r"\r\n?|\n")

Range = tuple[int, int, int, int]  # 1-based line, 1-based column, end line, end column


class _TargetState(CodegenState):
    """Code generation that records token indices of target nodes only."""

    def __init__(self, module: cst.Module, targets: set[int]) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.targets = targets
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

    @contextmanager
    def record_syntactic_position(
        self,
        node: cst.CSTNode,
        *,
        start_node: Optional[cst.CSTNode] = None,
        end_node: Optional[cst.CSTNode] = None,
    ) -> Iterator[None]:
        key = id(node)
        if key not in self.targets:
            yield
            return
        start = len(self.tokens)
        yield
        end = len(self.tokens)
        if start_node is not None:
            start = self.syntactic.get(id(start_node), (self.starts.get(id(start_node), start), 0))[0]
        if end_node is not None:
            end = self.syntactic.get(id(end_node), (0, self.ends.get(id(end_node), end)))[1]
        self.syntactic[key] = (start, end)


def node_ranges(module: cst.Module, nodes: Iterable[cst.CSTNode]) -> dict[int, Range]:
    """Map id(node) → (line, column, end_line, end_column), 1-based, for each of `nodes`."""
    targets: set[int] = {id(n) for n in nodes}
    # start_node/end_node hoisting needs the children's positions too.
    for n in nodes:
        for child in _hoisted_children(n):
            targets.add(id(child))
    state = _TargetState(module, targets)
    module._codegen(state)
    tokens = state.tokens
    wanted: dict[int, tuple[int, int]] = {}
    for key in targets:
        if key in state.syntactic:
            wanted[key] = state.syntactic[key]
        elif key in state.starts:
            wanted[key] = (state.starts[key], state.ends.get(key, state.starts[key]))
    indices = sorted({i for pair in wanted.values() for i in pair})
    located = _locate(tokens, indices)
    return {
        key: (*located[start], *located[end]) for key, (start, end) in wanted.items()
    }


def _hoisted_children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    # Nodes whose syntactic range is hoisted from a child (FunctionDef/ClassDef from their
    # decorators or name, etc.) call record_syntactic_position with start_node/end_node.
    for attr in ("name", "body", "decorators"):
        value = getattr(node, attr, None)
        if isinstance(value, cst.CSTNode):
            yield value
        elif isinstance(value, (list, tuple)):
            yield from (v for v in value if isinstance(v, cst.CSTNode))


def _locate(tokens: list[str], indices: list[int]) -> dict[int, tuple[int, int]]:
    """1-based (line, column) at each token index, scanning the token list once."""
    result: dict[int, tuple[int, int]] = {}
    line, column, pos = 1, 0, 0
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
