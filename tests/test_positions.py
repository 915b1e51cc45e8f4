"""Our cheap positions equal libcst's PositionProvider for every node kind rules report."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from fastapi_review.dispatch import Dispatcher
from fastapi_review.facts import FileFacts
from fastapi_review.positions import node_ranges
from fastapi_review.semantics.scope import Scope

ROOT = Path(__file__).resolve().parents[1]

TRICKY = [
    "def f(a,\n      b):\n    return g(a)(b)\n",
    "class A:\n\tdef m(self, x):\n\t\treturn x.call(1)\n",
    "x = 1\r\ndef f(y):\r\n    return len(y)\r\n",
    "@decorator(\n    arg=1,  # comment\n)\n# leading comment\n\nasync def handler(request):\n    return await request.json()\n",
    "s = '''\ndef fake(x):\n'''\ndef real(é, ü='ß'):\n    return call('é', ü)\n",
    "if True:\n    class Inner:\n        x = relationship('X')\n        def m(self):\n            def inner(q): return q\n            return inner\n",
    "def f(a):\n    return (\n        a\n        + b(\n            c\n        )\n    )\n",
    "x = [call(i) for i in range(3)]\nclass K: y = call(2)\n",
    "def f():\n    x = 1 \\\n        + g()\n    return x\n",
    'def f(a):\n    """Example:\n\ndef f(b):\n    pass\n"""\n    return a\n\nclass f: pass\n',
    "def \\\n    continued(x):\n    return g(x)\n",
    "class A(\n    Base,\n):\n    @property\n    # comment\n\n    def p(self):\n        return q(self)\n",
    # signatures the parameter-name scan reads, and the ones it must leave to code generation
    "async def h(a, /, b: int = f(c, d), *args: X[Y, Z], k=lambda q: q, **kw) -> T:\n    return a\n",
    "def h(\n    a,  # comment, x\n    b='(', *, c={1: (2, 3)},\n    \u00e9t\u00e9=0,\n):\n    return a\n",
    "def h (a,\tb=[1, 2],\n       c=d.e) : return a\n",
    "class C:\n    def m(self, x=\"a, y\", y=1): return x\n    def n(self, *, z): return z\n",
    "def h(a, \\\n      b):\n    return a\n",
    # bodies located by searching the text for the node's own code (a single occurrence)
    'def f(x):\n    # g(x)\n    s = "g(x)"\n    t = g( x )\n    return g(x)\n',
    "def f(x):\n    y = 1if x else 2\n    return y.real + 1.404 + 0x404 + 404 + x404\n",
    "class A:\n\tdef m(self):\n\t\treturn call(\n\t\t\t1,\n\t\t\t# note\n\n\t\t\tkw=[\n\t\t\t\t2],\n\t\t)\n",
    "def f():\n    return g(\n1,\n  2) + g(\n    1,\n  2)\n",
    "def f():\n    return cafe\u0301(1) + caf\u00e9(2) + cafe(3)\n",
    "def f():\n    def g():\n        return h(1)\n    return h(1)\n",
    "def a():\n    return deco(1)\n@deco(1)\ndef b(): return deco(2)\n",
    "class A:\n    amount: int = Field(1)\nclass B:\n    amount: int = Field(1)\n    other_amount: int\n",
    "def f():\n\f    return g(1)\n",
    "def f(x):\n    return (\n        x.a\n    ) + (x).b + ((x.a))\n",
]


class _Collector:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.targets: list[tuple[cst.CSTNode, object]] = []

    def _add(self, node: cst.CSTNode) -> None:
        units = self.scope.units
        self.targets.append((node, units[-1] if units else None))

    visit_Name = visit_Call = visit_Param = visit_Attribute = visit_Return = _add
    visit_Integer = visit_Float = visit_SimpleString = visit_Subscript = visit_Arg = visit_AnnAssign = _add


def _collect(source: str) -> tuple[cst.Module, Scope, _Collector, object]:
    """The module, its scope after the walk, every candidate target, and libcst's positions."""
    module = cst.parse_module(source)
    scope = Scope(FileFacts(path="x.py", module="x", is_package=False))
    collector = _Collector(scope)
    Dispatcher([scope, collector]).walk(module)
    return module, scope, collector, MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)


def _compare(source: str) -> int:
    module, scope, collector, theirs = _collect(source)
    in_units = [t for t in collector.targets if t[1] is not None]
    # nodes inside defs/classes take the per-unit path (anchored by the line scan, or by ast
    # when the scan disagrees); any module-level node makes it generate the whole module
    names = scope.def_names
    return (
        _check(module, source, in_units, theirs, None)
        + _check(module, source, in_units, theirs, names)
        + _check(module, source, collector.targets, theirs, names)
    )


def _check(module: cst.Module, source: str, targets: list, theirs: object, def_names: object) -> int:
    ours = node_ranges(module, source.encode(), targets, source if def_names else None, def_names)
    for node, _ in targets:
        r = theirs[node]
        expected = (r.start.line, r.start.column + 1, r.end.line, r.end.column + 1)
        assert ours[id(node)] == expected, (type(node).__name__, cst.Module([]).code_for_node(node), ours[id(node)], expected)
    return len(targets)


@pytest.mark.parametrize("source", TRICKY)
def test_tricky_sources(source: str) -> None:
    assert _compare(source) > 0


@pytest.mark.parametrize("source", TRICKY)
def test_each_target_alone(source: str) -> None:
    # one target per unit takes the shortcuts (stop after it; skip the decorators of a
    # function when the target is in its signature)
    module, scope, collector, theirs = _collect(source)
    for target in collector.targets:
        assert _check(module, source, [target], theirs, scope.def_names) == 1


def test_real_files() -> None:
    files = sorted((ROOT / "src").rglob("*.py")) + sorted((ROOT / "examples").rglob("*.py"))
    checked = sum(_compare(p.read_text(encoding="utf-8")) for p in files)
    assert checked > 1000


def test_dispatcher_reaches_every_node_libcst_visits() -> None:
    """The read-only walk visits the same nodes as libcst's own visitor (bar whitespace/tokens)."""
    source = "\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "src").rglob("*.py")))
    source += "\nfrom a import (b as c, d)\nx = f'{y!r:>{w}}'\nmatch v:\n    case [1, *rest] if rest: pass\n"
    module = cst.parse_module(source)
    kinds = (cst.Name, cst.Call, cst.Param, cst.ImportAlias, cst.FormattedStringExpression, cst.MatchCase, cst.Arg)

    class Count(cst.CSTVisitor):
        def __init__(self) -> None:
            self.seen: list[int] = []

        def on_visit(self, node: cst.CSTNode) -> bool:
            if isinstance(node, kinds):
                self.seen.append(id(node))
            return True

    theirs = Count()
    module.visit(theirs)

    class Ours:
        seen: list[int] = []

        def _add(self, node: cst.CSTNode) -> None:
            self.seen.append(id(node))

        visit_Name = visit_Call = visit_Param = visit_ImportAlias = visit_FormattedStringExpression = _add
        visit_MatchCase = visit_Arg = _add

    ours = Ours()
    Dispatcher([ours]).walk(module)
    assert sorted(ours.seen) == sorted(theirs.seen)
