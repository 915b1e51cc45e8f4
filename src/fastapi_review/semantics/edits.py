"""Building replacement nodes for fixes: keyword arguments in the call's own style, names that
are safe to import, string literals in the file's quotes."""

from __future__ import annotations

import io
import re
import tokenize
from functools import lru_cache
from typing import Iterable, Optional, Sequence, TypeVar

import libcst as cst

from fastapi_review.semantics.names import ImportMap


def add_keyword(call: cst.Call, keyword: str, value: cst.BaseExpression) -> cst.Call:
    """`call` with `keyword=value` appended, following the call's layout: comma and space on one
    line; one argument per line (and the trailing comma, if any) in a multi-line call."""
    existing = [a for a in call.args if a.keyword is not None and not isinstance(a.equal, cst.MaybeSentinel)]
    equal = existing[0].equal if existing else cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))
    new = cst.Arg(value=value, keyword=cst.Name(keyword), equal=equal)  # type: ignore[arg-type]
    return call.with_changes(args=insert_element(call.args, new, len(call.args), call.whitespace_before_args))


def one_argument_per_line(call: cst.Call, indent: str = "    ") -> Optional[cst.Call]:
    """`call` laid out as black lays out a call that does not fit on one line: each argument on
    its own line, one indent deeper than the line the call is on, with a trailing comma (black
    keeps such a call exploded).  None for a call without arguments or with comments inside
    (they would have to move)."""
    if not call.args or any(isinstance(n, cst.Comment) for n in subtree(call)):
        return None

    def line_break(indented: bool) -> cst.ParenthesizedWhitespace:
        return cst.ParenthesizedWhitespace(indent=True, last_line=cst.SimpleWhitespace(indent if indented else ""))

    args = [
        arg.with_changes(
            comma=cst.Comma(whitespace_after=line_break(index < len(call.args) - 1)),
            whitespace_after_arg=cst.SimpleWhitespace(""),
        )
        for index, arg in enumerate(call.args)
    ]
    return call.with_changes(args=args, whitespace_before_args=line_break(True))


def subtree(node: cst.CSTNode) -> Iterable[cst.CSTNode]:
    """`node` and every node below it, whitespace and comments included (in no particular order)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(current.children)


Element = TypeVar("Element", cst.Arg, cst.ImportAlias)


def insert_element(
    elements: Sequence[Element], new: Element, position: int, opening: "cst.BaseParenthesizableWhitespace"
) -> list[Element]:
    """A comma-separated list (call arguments, imported names) with `new` at `position`, laid
    out like its neighbours; `opening` is the whitespace after the opening parenthesis."""
    items = list(elements)
    if not items:
        return [new]
    between = _comma_between(items, opening)
    if position < len(items):
        items.insert(position, new.with_changes(comma=between))
        return items
    last = items[-1]
    if isinstance(last.comma, cst.Comma):  # a trailing comma: keep it, after the new element
        after = last.comma.whitespace_after
        if isinstance(after, cst.ParenthesizedWhitespace) and isinstance(between.whitespace_after, cst.ParenthesizedWhitespace):
            items[-1] = last.with_changes(
                comma=last.comma.with_changes(whitespace_after=after.with_changes(last_line=between.whitespace_after.last_line))
            )
            new = new.with_changes(
                comma=cst.Comma(whitespace_after=cst.ParenthesizedWhitespace(indent=True, last_line=after.last_line))
            )
        else:
            items[-1] = last.with_changes(comma=between)
            new = new.with_changes(comma=last.comma)
    else:
        items[-1] = last.with_changes(comma=between)
        if isinstance(last, cst.Arg):  # the line break before `)` moves behind the new argument
            items[-1] = items[-1].with_changes(whitespace_after_arg=cst.SimpleWhitespace(""))
            new = new.with_changes(whitespace_after_arg=last.whitespace_after_arg)
    return [*items, new]


def _comma_between(items: Sequence[Element], opening: "cst.BaseParenthesizableWhitespace") -> cst.Comma:
    """The comma (and line break) that separates two elements."""
    commas = [a.comma for a in items[:-1] if isinstance(a.comma, cst.Comma)]
    if commas:
        return cst.Comma(whitespace_before=commas[-1].whitespace_before, whitespace_after=_plain(commas[-1].whitespace_after))
    if isinstance(opening, cst.ParenthesizedWhitespace):
        return cst.Comma(whitespace_after=_plain(opening))
    return cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


def _plain(whitespace: "cst.BaseParenthesizableWhitespace") -> "cst.BaseParenthesizableWhitespace":
    """The same line break and indentation without the comment or blank lines around it."""
    if isinstance(whitespace, cst.ParenthesizedWhitespace):
        return cst.ParenthesizedWhitespace(indent=True, last_line=whitespace.last_line)
    return whitespace


def string_literal(text: str, like: Optional[cst.CSTNode] = None) -> cst.SimpleString:
    """A string literal, in single quotes when the first plain string in `like` uses them."""
    quote = '"'
    if like is not None:
        for node in _strings(like):
            if node.value.startswith("'"):
                quote = "'"
            break
    return cst.SimpleString(f"{quote}{text}{quote}")


def _strings(node: cst.CSTNode) -> list[cst.SimpleString]:
    if isinstance(node, cst.SimpleString) and node.prefix == "":
        return [node]
    return [s for child in node.children for s in _strings(child)]


def importable(imports: ImportMap, data: bytes, name: str, targets: tuple[str, ...]) -> bool:
    """Whether code in a file (its `imports`, its bytes `data`) can say `name` for one of `targets`
    (`fastapi.status`): it is
    imported as such, or not bound to anything else anywhere in the file (then the fix adds
    the import).  A name bound otherwise, or a star import, means no fix: never shadow."""
    imported = imports.aliases.get(name)
    if imported is not None:
        return imported in targets
    return not _bound_outside_imports(data, name)


def imported_name(imports: ImportMap, data: bytes, name: str, targets: tuple[str, ...]) -> Optional[str]:
    """The name code in a file says for one of `targets` (`fastapi.status`): the local name a
    module-level import already binds it to (`st` of `from fastapi import status as st`; `name`
    first), if nothing else binds that name; else `name` when it is `importable` (the fix adds
    the import); else None."""
    for local in sorted(imports.module_level, key=lambda n: (n != name, n)):
        if imports.aliases.get(local) in targets and not _bound_outside_imports(data, local):
            return local
    return name if importable(imports, data, name, targets) else None


@lru_cache(maxsize=16)
def _bound_outside_imports(data: bytes, name: str) -> bool:
    """Whether `name` occurs in code (not in strings or comments) other than as an attribute
    (`x.name`), a use (`name.attr`) or in an import statement; or the file has `import *`."""
    if not re.search(rb"\b%s\b|\bimport\s*\*" % re.escape(name.encode()), data):
        return False  # the word is nowhere and nothing is star-imported: no need to tokenize
    try:
        tokens = [t for t in tokenize.tokenize(io.BytesIO(data).readline) if t.type not in _TRIVIA]
    except (tokenize.TokenError, SyntaxError, UnicodeDecodeError):
        return True
    in_import = False
    for index, token in enumerate(tokens):
        previous = tokens[index - 1] if index else None
        if token.type == tokenize.NAME and token.string in ("import", "from") and (previous is None or previous.type in _STATEMENT_START or previous.string in (";", ":")):
            in_import = True
        elif token.type in (tokenize.NEWLINE, tokenize.ENDMARKER) or token.string == ";":
            in_import = False
        elif in_import and token.string == "*":
            return True
        elif token.type == tokenize.NAME and token.string == name and not in_import:
            following = tokens[index + 1] if index + 1 < len(tokens) else None
            if (previous is not None and previous.string == ".") or (following is not None and following.string == "."):
                continue
            return True
    return False


_TRIVIA = frozenset({tokenize.COMMENT, tokenize.NL, tokenize.ENCODING})
_STATEMENT_START = frozenset({tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT})
