"""`ScriptError`: the script mode's one error, pointing at the user's source.

>>> src = Source("f.py", 10, ["def f(x):", "    try:"], 0)
>>> err = src.error(type("N", (), {"lineno": 2, "col_offset": 4})(), "f", "`try` is not supported")
>>> print(err)
script(f): `try` is not supported
  File "f.py", line 11, column 5
        try:
        ^
>>> err.line, err.column
(11, 5)
"""
from __future__ import annotations

from dataclasses import dataclass

from kernels.errors import EagerError


class ScriptError(EagerError):
    """Code outside the script subset (or a type error in it). `file`, `line` and `column`
    (1-based) say where; the message shows the source line with a caret under it."""

    def __init__(self, message: str, file: str = "", line: int = 0, column: int = 0) -> None:
        Exception.__init__(self, message)  # the message already shows where: no suffix
        self.file, self.line, self.column = file, line, column


@dataclass(frozen=True)
class Source:
    """A function's source as parsed: its file, first line number, the (dedented) lines
    and how many columns dedenting removed."""

    file: str
    first_line: int
    lines: list
    indent: int

    def where(self, node) -> str:
        """`file:line` of an AST node (what printed graphs show per node)."""
        return f"{self.file}:{self.first_line + getattr(node, 'lineno', 1) - 1}"

    def error(self, node, function: str, message: str) -> ScriptError:
        """A ScriptError at AST `node`: file, line, column, and the line with a caret."""
        lineno = getattr(node, "lineno", 1)
        col = getattr(node, "col_offset", 0) + self.indent
        text = self.lines[lineno - 1] if 0 < lineno <= len(self.lines) else ""
        line = self.first_line + lineno - 1
        shown = " " * self.indent + text
        body = (f"script({function}): {message}\n  File \"{self.file}\", line {line}, "
                f"column {col + 1}\n    {shown}\n    {' ' * col}^")
        return ScriptError(body, self.file, line, col + 1)
