"""libcst's parse, without the per-node work the parser does not need.

libcst's native parser builds every node by calling its Python class, whose dataclass
``__init__`` sets each field through ``object.__setattr__`` (the classes are frozen) and then
re-validates the node in ``__post_init__``.  Nodes from the parser are valid by construction
(libcst's own PERF note in ``CSTNode.__post_init__`` says so), and setting a slot through its
descriptor is cheaper than the frozen-dataclass detour.  Together that is about a fifth of the
parse time.

So, the first time a file is parsed, each concrete node class gets an ``__init__`` generated
from its own ``dataclasses.fields``: the same parameters, order and defaults, the same slot
values, and the same ``__post_init__`` validation, skipped only while `parse_module` runs.
Nodes built anywhere else (a rule's fix, another libcst user in the process) are validated as
before.  A class whose fields this does not understand (init-only, keyword-only, no slot
descriptor) keeps libcst's own ``__init__``.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
import sys
import threading
import types
import warnings
from typing import Callable, Optional

import libcst as cst
from libcst import CSTNode

_lock = threading.Lock()
_installed: Optional[dict[type, Callable[..., None]]] = None
# The generated functions' globals: `_parsing` is read by every node built, so it is a plain
# global (a thread-local costs 25 ns more per node).  A node another thread built while a parse
# runs would go unvalidated; no thread of ours builds nodes then (the cache writer never does).
_namespace: dict[str, object] = {"_MISSING": object(), "_parsing": False}


def parse_module(data: bytes) -> cst.Module:
    """`libcst.parse_module`, with the parser's nodes built without re-validation."""
    if _installed is None:
        install()
    _namespace["_parsing"] = True
    try:
        return cst.parse_module(data)
    finally:
        _namespace["_parsing"] = False


def parse_with_ast(data: bytes) -> ast.Module:
    """`ast.parse`, without the SyntaxWarnings CPython prints for odd code (`1if x else y`,
    invalid escapes): the checker reports findings, not the compiler's warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(data)


def install() -> dict[type, Callable[..., None]]:
    """Give every concrete node class it can a generated ``__init__`` (once per process);
    return the classes replaced, each with libcst's own ``__init__``."""
    global _installed
    with _lock:
        if _installed is None:
            originals = {}
            for node_class in node_classes():
                init = _generated_init(node_class)
                if init is not None:
                    originals[node_class] = node_class.__dict__["__init__"]
                    node_class.__init__ = init  # type: ignore[misc]
            _installed = originals
    return _installed


def node_classes() -> list[type]:
    """libcst's concrete node classes (the ones it exports)."""
    found = {
        value
        for value in vars(cst).values()
        if isinstance(value, type) and issubclass(value, CSTNode) and dataclasses.is_dataclass(value)
    }
    return sorted((c for c in found if not inspect.isabstract(c)), key=lambda c: c.__name__)


def _generated_init(node_class: type) -> Optional[Callable[..., None]]:
    original = node_class.__dict__.get("__init__")
    if original is None or "__post_init__" in node_class.__dict__:
        return None
    prefix = f"_{node_class.__name__}"
    parameters, body = [], []
    for number, field in enumerate(dataclasses.fields(node_class)):
        if not field.init or getattr(field, "kw_only", False) is True:
            return None
        descriptor = next((k.__dict__[field.name] for k in node_class.__mro__ if field.name in k.__dict__), None)
        if not isinstance(descriptor, types.MemberDescriptorType):
            return None  # not a slot: keep libcst's own __init__
        name, setter = field.name, f"{prefix}_set{number}"
        _namespace[setter] = descriptor.__set__
        if field.default is not dataclasses.MISSING:
            _namespace[f"{prefix}_default{number}"] = field.default
            parameters.append(f"{name}={prefix}_default{number}")
            body.append(f"{setter}(self, {name})")
        elif field.default_factory is not dataclasses.MISSING:
            _namespace[f"{prefix}_factory{number}"] = field.default_factory
            parameters.append(f"{name}=_MISSING")
            body.append(f"{setter}(self, {prefix}_factory{number}() if {name} is _MISSING else {name})")
        else:
            parameters.append(name)
            body.append(f"{setter}(self, {name})")
    source = (
        f"def __init__(self, {', '.join(parameters)}):\n"
        + "".join(f"    {line}\n" for line in body)
        + "    if not _parsing:\n        self.__post_init__()\n"
    )
    local: dict[str, object] = {}
    exec(compile(source, f"<fastapi-review {node_class.__name__}.__init__>", "exec"), _namespace, local)  # noqa: S102
    init = local["__init__"]
    if list(inspect.signature(init).parameters) != list(inspect.signature(original).parameters):
        return None
    init.__qualname__ = f"{node_class.__qualname__}.__init__"  # type: ignore[attr-defined]
    init.__doc__ = original.__doc__
    return init  # type: ignore[return-value]


# -- input libcst cannot parse in reasonable time ---------------------------------------------

# CPython's tokenizer refuses more than 200 nested brackets (MAXLEVEL); counting past it is enough.
_BRACKET_LIMIT = 200
_BRACKETS = frozenset(b"()[]{}")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in _BRACKETS)
# libcst's parse of one chain of binary operators grows about cubically with its length
# (1,000 terms: 0.2 s, 2,000: 0.7 s, 4,000: 5.5 s, 8,000: 59 s): longer chains are not parsed.
CHAIN_LIMIT = 1000
# A cheap first look: only operators and what ends an operand run (newlines stay, so a chain
# written over many lines is seen too); then the real pattern on the file.
_OPERATORS_AND_BREAKS = frozenset(b"+-*/%|&^@<>\n=,:;()[]{}")
_NOT_OPERATORS = bytes(b for b in range(256) if b not in _OPERATORS_AND_BREAKS)
_AT_LEAST = b"{" + str(CHAIN_LIMIT).encode() + b",}"
_OPERATOR_RUN = re.compile(rb"(?:[-+*/%|&^@<>]\n*)" + _AT_LEAST)
_CHAIN = re.compile(
    # each piece can match a stretch of text in one way only (spaces after a line break belong to
    # the break): no exponential backtracking when a long run falls short of the limit
    rb"(?:(?<![\w.\"'])[\w.\"']+[ \t]*(?:\\?\r?\n[ \t]*)?(?:\*\*|//|<<|>>|[-+*/%|&^@])[ \t]*(?:\\?\r?\n[ \t]*)?)"
    + _AT_LEAST
)


def bracket_depth_exceeds(data: bytes, limit: int = _BRACKET_LIMIT) -> bool:
    """Whether the brackets of `data` may nest deeper than `limit` (cheap: innermost pairs are
    removed a pass at a time; brackets in strings and comments can only make it say yes)."""
    brackets = data.translate(None, _NOT_BRACKETS)
    if len(brackets) <= 2 * limit:
        return False
    for _ in range(limit):
        shorter = brackets.replace(b"()", b"").replace(b"[]", b"").replace(b"{}", b"")
        if len(shorter) == len(brackets):
            return False  # what is left cannot pair up (brackets in strings): not deeper
        brackets = shorter
        if len(brackets) <= 2 * limit:
            return False
    return True


def long_chain_at(data: bytes) -> Optional[int]:
    """The 1-based line where a chain of more than CHAIN_LIMIT binary operations starts, if any."""
    if len(data) < 2 * CHAIN_LIMIT or _OPERATOR_RUN.search(data.translate(None, _NOT_OPERATORS)) is None:
        return None
    match = _CHAIN.search(data)
    return None if match is None else data.count(b"\n", 0, match.start()) + 1


def cpython_rejects(data: bytes) -> Optional[tuple[int, int, str]]:
    """Line, column and reason when CPython's own compiler rejects the source (with its default
    recursion limit, as `python file.py` would run it), else None."""
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(data, "<checked>", "exec", dont_inherit=True)
    except SyntaxError as err:
        return err.lineno or 1, max(err.offset or 1, 1), err.msg
    except RecursionError:
        return 1, 1, "too deeply nested for Python's compiler (it hits its recursion limit)"
    except (ValueError, MemoryError) as err:
        return 1, 1, str(err) or type(err).__name__
    finally:
        sys.setrecursionlimit(previous)
    return None
