"""Go's text/template, as the Docker 28.2.2 CLI runs it for ``--format``.

Standard library only; nothing here knows about labkit's world. What Docker does is followed
from the sources at their tags (Go 1.24's ``text/template``, docker/cli v28.2.2):

- :func:`parse` and :meth:`Template.execute` are ``text/template``: actions, ``if``/``else
  if``/``else``, ``range`` (with ``else``, ``break``, ``continue``, one or two variables, over
  slices, maps in key order and integers), ``with`` (and ``else with``), variables (``:=``,
  ``=``, ``$``), pipelines, parenthesized pipelines, field chains, ``define``/``template``/
  ``block``, comments and trim markers (``{{-``, ``-}}``); Go's built-in functions (``and``,
  ``or``, ``not``, ``len``, ``index``, ``slice``, ``print``, ``printf``, ``println``, ``eq``,
  ``ne``, ``lt``, ``le``, ``gt``, ``ge``, ``html``, ``js``, ``urlquery``, ``call``); parse
  and execution errors with Go's texts (``template: :1: unclosed action``, ``template: :1:2:
  executing "" at <.Foo>: can't evaluate field Foo in type ...``).
- docker/cli's functions (templates/templates.go:15-35): ``json``, ``split``, ``join``,
  ``title``, ``lower``, ``upper``, ``pad``, ``truncate``, and the header functions of a
  ``table`` format (templates/templates.go:42-69).
- :func:`format_list` is docker/cli's formatter.Context.Write (cli/command/formatter/
  formatter.go:61-134): the ``table`` directive, ``\\t``/``\\n`` escapes, ``json``, one line per
  row, the header from the same template, Go's text/tabwriter (minwidth 10, padding 3).
- :func:`inspect` is cli/command/inspect/inspector.go:73-155: the typed element first, then the
  raw JSON (numbers kept as written, ``missingkey=error``) when the typed one fails.

Values are Go values: Python ``str``, ``bool``, ``int``, ``float``, ``None`` (nil), ``list``
(``[]interface {}``), ``dict`` (``map[string]interface {}``), :class:`Number` (json.Number), and
typed values made with :func:`typed` (``[]string``, ``map[string]string``, ``int64``) and
:class:`Struct` (a Go struct or pointer to one, with fields and methods).

This module is long because it is one port of Go's text/template (lexer, parser, executor) and
of docker/cli's formatter and template functions, which share their private node and value
types.
"""

from __future__ import annotations

import base64
import datetime as _dt
import decimal
import json as _json
import math
import re
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

__all__ = [
    "Number",
    "Struct",
    "Template",
    "TemplateError",
    "Time",
    "Typed",
    "format_list",
    "go_sprint",
    "inspect",
    "parse",
    "tabwrite",
    "typed",
]


class TemplateError(Exception):
    """A parse or execution error; ``str()`` is Go's text."""


# --- Go values -----------------------------------------------------------------------------------


class Number(str):
    """encoding/json's Number: the text of a JSON number as written (kind string)."""


@dataclass(frozen=True)
class Typed:
    """A Go value whose static type Python cannot tell: ``[]string``, ``map[string]string``,
    ``int64``, ``[]uint8`` ... ``value`` is the Python value (list, dict, int)."""

    type: str
    value: Any
    underlying: str | None = None  # a named type's underlying type ("map[string]string")

    @property
    def shape(self) -> str:
        return self.underlying or self.type


def typed(type_name: str, value: Any, underlying: str | None = None) -> Typed:
    return Typed(type_name, value, underlying)


@dataclass(frozen=True)
class Time:
    """A time.Time: ``text`` is what Time.String() prints, ``rfc3339`` its JSON."""

    text: str
    rfc3339: str = ""


@dataclass
class Struct:
    """A Go struct value (``pointer=False``) or pointer to one (``pointer=True``; ``fields`` None
    is a nil pointer). ``fields`` in declaration order; ``methods`` are zero-argument methods
    returning a Go value; ``unexported`` names fields that exist but are unexported;
    ``embedded`` names fields promoted from embedded structs (name -> value);
    ``json`` gives what encoding/json marshals it as (a Python JSON value, order kept)."""

    type: str  # e.g. "formatter.imageContext"
    fields: dict[str, Any] | None = field(default_factory=dict)
    pointer: bool = False
    methods: dict[str, Callable[[], Any]] = field(default_factory=dict)
    unexported: frozenset[str] = frozenset()
    embedded: dict[str, Any] = field(default_factory=dict)
    json: Callable[[], Any] | None = None
    # a json.Marshaler that calls json.Marshal: its <, > and & come out as \u003c ...
    json_escapes_html: bool = False

    @property
    def type_name(self) -> str:
        return ("*" if self.pointer else "") + self.type


class _Missing:
    """reflect's invalid Value (a missing map key, an untyped nil)."""

    def __repr__(self) -> str:
        return "<no value>"


MISSING = _Missing()
_NO_FINAL = object()  # "missingVal": no value piped in


@dataclass(frozen=True)
class _Iface:
    """A value read out of an ``interface {}`` container (a map or slice of interface {})."""

    value: Any


def _unwrap(value: Any) -> Any:
    while isinstance(value, _Iface):
        value = value.value
    return value


def type_name(value: Any) -> str:
    """Go's reflect.Type.String() of a value."""
    if isinstance(value, _Iface):
        return "interface {}"
    if isinstance(value, Typed):
        return value.type
    if isinstance(value, Struct):
        return value.type_name
    if isinstance(value, Number):
        return "json.Number"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "[]interface {}"
    if isinstance(value, dict):
        return "map[string]interface {}"
    if isinstance(value, Time):
        return "time.Time"
    if isinstance(value, _GoFunc):
        return value.signature
    return "<nil>"


def _kind(value: Any) -> str:
    value = _unwrap(value)
    if value is MISSING or value is None:
        return "invalid"
    if isinstance(value, Typed):
        t = value.shape
        if t.startswith("[]"):
            return "slice"
        if t.startswith("map["):
            return "map"
        if t in ("int", "int8", "int16", "int32", "int64"):
            return "int"
        if t.startswith("uint"):
            return "uint"
        if t.startswith("float"):
            return "float"
        if t == "string":
            return "string"
        if t == "bool":
            return "bool"
        return "other"
    if isinstance(value, Struct):
        return "ptr" if value.pointer else "struct"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "slice"
    if isinstance(value, dict):
        return "map"
    if isinstance(value, Time):
        return "struct"
    if isinstance(value, _GoFunc):
        return "func"
    return "other"


def _py(value: Any) -> Any:
    """The Python payload of a Go value."""
    value = _unwrap(value)
    return value.value if isinstance(value, Typed) else value


def _elem_type(container: Any) -> str | None:
    """The element type of a typed slice or map (None: interface {})."""
    container = _unwrap(container)
    if isinstance(container, Typed):
        t = container.shape
        if t.startswith("[]"):
            return t[2:]
        if t.startswith("map["):
            return t[t.index("]") + 1 :]
    return None


def _element(container: Any, raw: Any) -> Any:
    """An element read from a slice or map, typed as the container says."""
    elem = _elem_type(container)
    if elem is None or elem == "interface {}":
        return _Iface(raw)
    if elem in ("string", "int", "bool", "float64"):
        return raw
    if isinstance(raw, (Struct, Typed)):
        return raw
    return Typed(elem, raw)


def _is_true(value: Any) -> tuple[bool, bool]:
    """text/template's isTrue: (truth, ok)."""
    value = _unwrap(value)
    kind = _kind(value)
    if kind == "invalid":
        return False, True
    payload = _py(value)
    if kind in ("slice", "map", "string"):
        return len(payload) > 0, True
    if kind == "bool":
        return bool(payload), True
    if kind in ("int", "uint", "float"):
        return payload != 0, True
    if kind == "ptr":
        return value.fields is not None, True
    if kind in ("struct", "func"):
        return True, True
    return True, True


# --- printing (fmt) ------------------------------------------------------------------------------


def _format_float(value: float, verb: str = "g", prec: int = -1) -> str:
    """strconv.FormatFloat(value, verb, prec, 64)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if verb == "f":
        if prec < 0:
            digits, point = _shortest(value)
            prec = max(len(digits) - point, 0)
        return f"{value:.{prec}f}"
    if verb == "e":
        if prec < 0:
            digits, _ = _shortest(value)
            prec = max(len(digits) - 1, 0)
        return _go_exp(f"{value:.{prec}e}")
    # 'g'
    if prec < 0:
        digits, point = _shortest(value)
        eprec = 6
    else:
        if prec == 0:
            prec = 1
        text = f"{abs(value):.{prec - 1}e}"
        mantissa, exp_text = text.split("e")
        digits = mantissa.replace(".", "").rstrip("0") or "0"
        point = int(exp_text) + 1 if value != 0 else 1
        eprec = prec
        if eprec > len(digits) and len(digits) >= point:
            eprec = len(digits)
    exp = point - 1
    sign = "-" if math.copysign(1, value) < 0 else ""
    if value == 0:
        return sign + "0"
    if exp < -4 or exp >= eprec:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


def _shortest(value: float) -> tuple[str, int]:
    """Shortest decimal digits of ``value`` and the decimal point position."""
    if value == 0:
        return "0", 1
    _, digits, exponent = decimal.Decimal(repr(abs(value))).as_tuple()
    text = "".join(map(str, digits)).rstrip("0")
    stripped = len("".join(map(str, digits))) - len(text)
    point = len(text) + stripped + int(exponent)
    return text or "0", point


def _go_exp(text: str) -> str:
    mantissa, _, exp = text.partition("e")
    sign = exp[0]
    return f"{mantissa}e{sign}{int(exp[1:]):02d}"


def go_sprint(value: Any, top: bool = True) -> str:
    """fmt's %v of a Go value."""
    value = _unwrap(value)
    if value is MISSING:
        return "<no value>"
    if value is None:
        return "<nil>"
    if isinstance(value, Time):
        return value.text
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Number):
        return str(value)
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _format_float(value)
    if isinstance(value, Typed):
        payload = value.value
        if value.shape.startswith("[]"):
            if payload is None:
                return "[]"
            return "[" + " ".join(go_sprint(_element(value, x), False) for x in payload) + "]"
        if value.shape.startswith("map["):
            if not payload:
                return "map[]"
            items = sorted(payload.items(), key=lambda kv: _sort_key(kv[0]))
            body = " ".join(
                f"{go_sprint(k, False)}:{go_sprint(_element(value, v), False)}" for k, v in items
            )
            return f"map[{body}]"
        if value.type == "struct {}":
            return "{}"
        return go_sprint(payload, top)
    if isinstance(value, list):
        return "[" + " ".join(go_sprint(x, False) for x in value) + "]"
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda kv: _sort_key(kv[0]))
        return "map[" + " ".join(f"{k}:{go_sprint(v, False)}" for k, v in items) + "]"
    if isinstance(value, Struct):
        if value.pointer and value.fields is None:
            return "<nil>"
        if value.pointer and not top:
            return "0xc000010000"  # an address: Go prints where the struct lives
        prefix = "&" if value.pointer and top else ""
        body = " ".join(go_sprint(v, False) for v in (value.fields or {}).values())
        return prefix + "{" + body + "}"
    if isinstance(value, _GoFunc):
        return "0x4a5b60"
    return str(value)


def _sort_key(key: Any) -> Any:
    key = _py(key)
    return (0, key) if isinstance(key, (int, float)) else (1, str(key))


# --- encoding/json -------------------------------------------------------------------------------


def _json_string(text: str) -> str:
    out = ['"']
    for char in text:
        code = ord(char)
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            out.append("\\\\")
        elif char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif char == "\t":
            out.append("\\t")
        elif char == "\b":
            out.append("\\b")
        elif char == "\f":
            out.append("\\f")
        elif code < 0x20 or code in (0x2028, 0x2029):
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _json_float(value: float) -> str:
    if math.isnan(value) or math.isinf(value):
        raise TemplateError(f"json: unsupported value: {_format_float(value)}")
    absolute = abs(value)
    if absolute != 0 and (absolute < 1e-6 or absolute >= 1e21):
        text = _format_float(value, "e")
        # encoding/json: clean up e-09 to e-9
        return re.sub(r"e([+-])0(\d)$", r"e\g<1>\2", text)
    return _format_float(value, "f")


def go_json(value: Any) -> str:
    """encoding/json's Marshal of a Go value, compact, without HTML escaping."""
    value = _unwrap(value)
    if value is None or value is MISSING:
        return "null"
    if isinstance(value, Struct):
        if value.pointer and value.fields is None:
            return "null"
        if value.json is not None:
            text = go_json_ordered(value.json())
            if value.json_escapes_html:
                text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            return text
        return (
            "{"
            + ",".join(f"{_json_string(k)}:{go_json(v)}" for k, v in (value.fields or {}).items())
            + "}"
        )
    if isinstance(value, Time):
        return _json_string(value.rfc3339)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Number):
        return str(value)
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _json_float(value)
    if isinstance(value, Typed):
        if value.shape.startswith(("[]", "map[")) and value.value is None:
            return "null"
        if value.type == "[]uint8":
            return _json_string(base64.b64encode(bytes(value.value)).decode())
        if value.shape.startswith("[]"):
            return "[" + ",".join(go_json(_element(value, x)) for x in value.value) + "]"
        if value.shape.startswith("map["):
            items = sorted(value.value.items(), key=lambda kv: str(kv[0]))
            return (
                "{"
                + ",".join(
                    f"{_json_string(str(k))}:{go_json(_element(value, v))}" for k, v in items
                )
                + "}"
            )
        if value.type == "struct {}":
            return "{}"
        return go_json(value.value)
    if isinstance(value, list):
        return "[" + ",".join(go_json(x) for x in value) + "]"
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda kv: str(kv[0]))
        return "{" + ",".join(f"{_json_string(str(k))}:{go_json(v)}" for k, v in items) + "}"
    raise TemplateError(f"json: unsupported type: {type_name(value)}")


def go_json_ordered(value: Any) -> str:
    """encoding/json's Marshal of a struct given as a Python JSON value: dict keys stay in the
    order given (a struct's field order), not sorted as a map's."""
    if isinstance(value, dict):
        items = ",".join(f"{_json_string(str(k))}:{go_json_ordered(v)}" for k, v in value.items())
        return "{" + items + "}"
    if isinstance(value, list):
        return "[" + ",".join(go_json_ordered(x) for x in value) + "]"
    return go_json(value)


# --- lexer ---------------------------------------------------------------------------------------

_T_ERROR = "error"
_T_BOOL = "bool"
_T_CHAR = "char"  # a printable ASCII character such as ',' or '='
_T_CHARCONST = "charconst"
_T_ASSIGN = "assign"
_T_DECLARE = "declare"
_T_EOF = "EOF"
_T_FIELD = "field"
_T_IDENT = "identifier"
_T_LDELIM = "leftDelim"
_T_LPAREN = "leftParen"
_T_NUMBER = "number"
_T_PIPE = "pipe"
_T_RAWSTRING = "rawString"
_T_RDELIM = "rightDelim"
_T_RPAREN = "rightParen"
_T_SPACE = "space"
_T_STRING = "string"
_T_TEXT = "text"
_T_VARIABLE = "variable"
_T_COMMENT = "comment"
_KEYWORDS = {
    "block",
    "break",
    "continue",
    ".",
    "define",
    "else",
    "end",
    "if",
    "nil",
    "range",
    "template",
    "with",
}
_SPACE_CHARS = " \t\r\n"


@dataclass
class _Token:
    typ: str
    val: str
    pos: int
    line: int

    def __str__(self) -> str:
        if self.typ == _T_EOF:
            return "EOF"
        if self.typ == _T_ERROR:
            return self.val
        if self.typ in _KEYWORDS:
            return f"<{self.val}>"
        if len(self.val.encode()) > 10:
            return _go_quote(self.val.encode()[:10].decode(errors="ignore"), truncate=True) + "..."
        return _go_quote(self.val)


def _go_quote(text: str, truncate: bool = False) -> str:
    """Go's %q of a string (strconv.Quote)."""
    out = []
    for char in text:
        code = ord(char)
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            out.append("\\\\")
        elif char in "\a\b\f\n\r\t\v":
            out.append(
                {
                    "\a": "\\a",
                    "\b": "\\b",
                    "\f": "\\f",
                    "\n": "\\n",
                    "\r": "\\r",
                    "\t": "\\t",
                    "\v": "\\v",
                }[char]
            )
        elif char.isprintable() or char == " ":
            out.append(char)
        elif code < 0x80:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


def _go_unicode(char: str) -> str:
    """Go's %#U of a rune: U+0021 '!'."""
    code = ord(char)
    text = f"U+{code:04X}"
    if char.isprintable():
        text += f" '{char}'"
    return text


def _is_alnum(char: str) -> bool:
    return char == "_" or char.isalpha() or char.isdigit()


class _Lexer:
    """text/template/parse/lex.go, producing the whole token list at once."""

    def __init__(self, text: str) -> None:
        self.input = text
        self.pos = 0
        self.start = 0
        self.tokens: list[_Token] = []
        self.paren_depth = 0

    def line_at(self, pos: int) -> int:
        return 1 + self.input.count("\n", 0, pos)

    def emit(self, typ: str) -> None:
        text = self.input[self.start : self.pos]
        self.tokens.append(_Token(typ, text, self.start, self.line_at(self.start)))
        self.start = self.pos

    def ignore(self) -> None:
        self.start = self.pos

    def error(self, message: str) -> None:
        self.tokens.append(_Token(_T_ERROR, message, self.start, self.line_at(self.start)))
        raise _LexDone

    def peek(self) -> str:
        return self.input[self.pos] if self.pos < len(self.input) else ""

    def next(self) -> str:
        if self.pos >= len(self.input):
            self.pos += 1  # eof width as Go's (backup works)
            return ""
        char = self.input[self.pos]
        self.pos += 1
        return char

    def backup(self) -> None:
        self.pos -= 1

    def run(self) -> list[_Token]:
        try:
            state = self.lex_text
            while state is not None:
                state = state()
        except _LexDone:
            pass
        return self.tokens

    def lex_text(self):
        index = self.input.find("{{", self.pos)
        if index >= 0:
            if index > self.pos:
                self.pos = index
                trim = 0
                delim_end = self.pos + 2
                if self._has_left_trim(self.input[delim_end:]):
                    text = self.input[self.start : self.pos]
                    trim = len(text) - len(text.rstrip(_SPACE_CHARS))
                self.pos -= trim
                token = _Token(
                    _T_TEXT, self.input[self.start : self.pos], self.start, self.line_at(self.start)
                )
                self.pos += trim
                self.ignore()
                if token.val:
                    self.tokens.append(token)
            return self.lex_left_delim
        self.pos = len(self.input)
        if self.pos > self.start:
            self.emit(_T_TEXT)
        self.tokens.append(_Token(_T_EOF, "", self.pos, self.line_at(self.pos)))
        return None

    @staticmethod
    def _has_left_trim(text: str) -> bool:
        return len(text) >= 2 and text[0] == "-" and text[1] in _SPACE_CHARS

    def _at_right_delim(self) -> tuple[bool, bool]:
        rest = self.input[self.pos :]
        if (
            len(rest) >= 2
            and rest[0] in _SPACE_CHARS
            and rest[1] == "-"
            and rest[2:].startswith("}}")
        ):
            return True, True
        if rest.startswith("}}"):
            return True, False
        return False, False

    def lex_left_delim(self):
        self.pos += 2
        trim = self._has_left_trim(self.input[self.pos :])
        after = 2 if trim else 0
        if self.input[self.pos + after :].startswith("/*"):
            self.pos += after
            self.ignore()
            return self.lex_comment
        self.emit(_T_LDELIM)
        self.pos += after
        self.ignore()
        self.paren_depth = 0
        return self.lex_inside_action

    def lex_comment(self):
        self.pos += 2
        index = self.input.find("*/", self.pos)
        if index < 0:
            self.error("unclosed comment")
        self.pos = index + 2
        delim, trim = self._at_right_delim()
        if not delim:
            self.error("comment ends before closing delimiter")
        self.emit(_T_COMMENT)
        if trim:
            self.pos += 2
        self.pos += 2
        if trim:
            rest = self.input[self.pos :]
            self.pos += len(rest) - len(rest.lstrip(_SPACE_CHARS))
        self.ignore()
        return self.lex_text

    def lex_right_delim(self):
        _, trim = self._at_right_delim()
        if trim:
            self.pos += 2
            self.ignore()
        self.pos += 2
        self.emit(_T_RDELIM)
        if trim:
            rest = self.input[self.pos :]
            self.pos += len(rest) - len(rest.lstrip(_SPACE_CHARS))
            self.ignore()
        return self.lex_text

    def lex_inside_action(self):
        delim, _ = self._at_right_delim()
        if delim:
            if self.paren_depth == 0:
                return self.lex_right_delim
            self.error("unclosed left paren")
        char = self.next()
        if char == "":
            self.error("unclosed action")
        if char in _SPACE_CHARS:
            self.backup()
            return self.lex_space
        if char == "=":
            self.emit(_T_ASSIGN)
        elif char == ":":
            if self.next() != "=":
                self.error("expected :=")
            self.emit(_T_DECLARE)
        elif char == "|":
            self.emit(_T_PIPE)
        elif char == '"':
            return self.lex_quote
        elif char == "`":
            return self.lex_raw_quote
        elif char == "$":
            return self.lex_variable
        elif char == "'":
            return self.lex_char
        elif char == "." and not (self.peek() and self.peek().isdigit() and self.peek().isascii()):
            return self.lex_field
        elif char in "+-." or (char.isascii() and char.isdigit()):
            self.backup()
            return self.lex_number
        elif _is_alnum(char):
            self.backup()
            return self.lex_identifier
        elif char == "(":
            self.emit(_T_LPAREN)
            self.paren_depth += 1
        elif char == ")":
            self.paren_depth -= 1
            if self.paren_depth < 0:
                self.error("unexpected right paren")
            self.emit(_T_RPAREN)
        elif ord(char) < 0x80 and char.isprintable():
            self.emit(_T_CHAR)
        else:
            self.error(f"unrecognized character in action: {_go_unicode(char)}")
        return self.lex_inside_action

    def lex_space(self):
        spaces = 0
        while self.peek() and self.peek() in _SPACE_CHARS:
            self.next()
            spaces += 1
        rest = self.input[self.pos - 1 :]
        if (
            len(rest) >= 2
            and rest[0] in _SPACE_CHARS
            and rest[1] == "-"
            and rest[2:].startswith("}}")
        ):
            self.backup()
            if spaces == 1:
                return self.lex_inside_action
        self.emit(_T_SPACE)
        return self.lex_inside_action

    def lex_identifier(self):
        while True:
            char = self.next()
            if char and _is_alnum(char):
                continue
            self.backup()
            word = self.input[self.start : self.pos]
            if not self._at_terminator():
                self.error(f"bad character {_go_unicode(char)}")
            if word in _KEYWORDS and word != ".":
                self.emit(word)
            elif word in ("true", "false"):
                self.emit(_T_BOOL)
            else:
                self.emit(_T_IDENT)
            return self.lex_inside_action

    def lex_field(self):
        return self._field_or_variable(_T_FIELD)

    def lex_variable(self):
        return self._field_or_variable(_T_VARIABLE)

    def _field_or_variable(self, typ: str):
        if self._at_terminator():
            self.emit(_T_VARIABLE if typ == _T_VARIABLE else ".")
            return self.lex_inside_action
        while True:
            char = self.next()
            if not (char and _is_alnum(char)):
                self.backup()
                break
        if not self._at_terminator():
            self.error(f"bad character {_go_unicode(self.peek() or chr(0))}")
        self.emit(typ)
        return self.lex_inside_action

    def _at_terminator(self) -> bool:
        char = self.peek()
        if char == "" or char in _SPACE_CHARS or char in ".,|:()":
            return True
        return self.input[self.pos :].startswith("}}")

    def lex_char(self):
        while True:
            char = self.next()
            if char == "\\":
                if self.next() not in ("", "\n"):
                    continue
                self.error("unterminated character constant")
            if char in ("", "\n"):
                self.error("unterminated character constant")
            if char == "'":
                break
        self.emit(_T_CHARCONST)
        return self.lex_inside_action

    def lex_number(self):
        if not self._scan_number():
            self.error(f"bad number syntax: {_go_quote(self.input[self.start : self.pos])}")
        self.emit(_T_NUMBER)
        return self.lex_inside_action

    def _scan_number(self) -> bool:
        def accept(valid: str) -> bool:
            if self.peek() and self.peek() in valid:
                self.next()
                return True
            return False

        def accept_run(valid: str) -> None:
            while self.peek() and self.peek() in valid:
                self.next()

        accept("+-")
        digits = "0123456789_"
        if accept("0"):
            if accept("xX"):
                digits = "0123456789abcdefABCDEF_"
            elif accept("oO"):
                digits = "01234567_"
            elif accept("bB"):
                digits = "01_"
        accept_run(digits)
        if accept("."):
            accept_run(digits)
        if len(digits) == 11 and accept("eE"):
            accept("+-")
            accept_run("0123456789_")
        if len(digits) == 23 and accept("pP"):
            accept("+-")
            accept_run("0123456789_")
        accept("i")
        char = self.peek()
        if char and _is_alnum(char):
            self.next()
            return False
        return True

    def lex_quote(self):
        while True:
            char = self.next()
            if char == "\\":
                if self.next() not in ("", "\n"):
                    continue
                self.error("unterminated quoted string")
            if char in ("", "\n"):
                self.error("unterminated quoted string")
            if char == '"':
                break
        self.emit(_T_STRING)
        return self.lex_inside_action

    def lex_raw_quote(self):
        while True:
            char = self.next()
            if char == "":
                self.error("unterminated raw quoted string")
            if char == "`":
                break
        self.emit(_T_RAWSTRING)
        return self.lex_inside_action


class _LexDone(Exception):
    pass


# --- nodes ---------------------------------------------------------------------------------------


@dataclass
class _Node:
    pos: int

    def __str__(self) -> str:  # pragma: no cover - every node overrides
        return ""


@dataclass
class _Text(_Node):
    text: str

    def __str__(self) -> str:
        return _go_quote(self.text)


@dataclass
class _Field(_Node):
    ident: list[str]

    def __str__(self) -> str:
        return "".join("." + i for i in self.ident)


@dataclass
class _Variable(_Node):
    ident: list[str]

    def __str__(self) -> str:
        return ".".join(self.ident)


@dataclass
class _Identifier(_Node):
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass
class _Dot(_Node):
    def __str__(self) -> str:
        return "."


@dataclass
class _Nil(_Node):
    def __str__(self) -> str:
        return "nil"


@dataclass
class _Bool(_Node):
    value: bool

    def __str__(self) -> str:
        return "true" if self.value else "false"


@dataclass
class _NumberNode(_Node):
    text: str
    value: Any  # int, float or str (a rune constant's value as int)
    is_int: bool
    is_float: bool

    def __str__(self) -> str:
        return self.text


@dataclass
class _String(_Node):
    quoted: str
    text: str

    def __str__(self) -> str:
        return self.quoted


@dataclass
class _Chain(_Node):
    node: _Node
    fields: list[str]

    def __str__(self) -> str:
        inner = str(self.node)
        if isinstance(self.node, _Pipe):
            inner = f"({inner})"
        return inner + "".join("." + f for f in self.fields)


@dataclass
class _Command(_Node):
    args: list[_Node] = field(default_factory=list)

    def __str__(self) -> str:
        parts = []
        for arg in self.args:
            parts.append(f"({arg})" if isinstance(arg, _Pipe) else str(arg))
        return " ".join(parts)


@dataclass
class _Pipe(_Node):
    line: int
    decl: list[_Variable] = field(default_factory=list)
    is_assign: bool = False
    cmds: list[_Command] = field(default_factory=list)

    def __str__(self) -> str:
        text = ""
        if self.decl:
            text = ", ".join(str(v) for v in self.decl) + (" = " if self.is_assign else " := ")
        return text + " | ".join(str(c) for c in self.cmds)


@dataclass
class _Action(_Node):
    pipe: _Pipe

    def __str__(self) -> str:
        return "{{" + str(self.pipe) + "}}"


@dataclass
class _List(_Node):
    nodes: list[_Node] = field(default_factory=list)

    def __str__(self) -> str:
        return "".join(str(n) for n in self.nodes)


@dataclass
class _Branch(_Node):
    kind: str  # "if", "range", "with"
    pipe: _Pipe
    body: _List
    else_body: _List | None

    def __str__(self) -> str:
        text = "{{" + self.kind + " " + str(self.pipe) + "}}" + str(self.body)
        if self.else_body is not None:
            text += "{{else}}" + str(self.else_body)
        return text + "{{end}}"


@dataclass
class _TemplateCall(_Node):
    name: str
    pipe: _Pipe | None

    def __str__(self) -> str:
        if self.pipe is None:
            return "{{template " + _go_quote(self.name) + "}}"
        return "{{template " + _go_quote(self.name) + " " + str(self.pipe) + "}}"


@dataclass
class _Break(_Node):
    def __str__(self) -> str:
        return "{{break}}"


@dataclass
class _Continue(_Node):
    def __str__(self) -> str:
        return "{{continue}}"


@dataclass
class _End(_Node):
    def __str__(self) -> str:
        return "{{end}}"


@dataclass
class _Else(_Node):
    line: int

    def __str__(self) -> str:
        return "{{else}}"


@dataclass
class _Comment(_Node):
    def __str__(self) -> str:
        return "{{/* */}}"


# --- parser --------------------------------------------------------------------------------------

BUILTINS = frozenset(
    {
        "and",
        "call",
        "html",
        "index",
        "slice",
        "js",
        "len",
        "not",
        "or",
        "print",
        "printf",
        "println",
        "urlquery",
        "eq",
        "ge",
        "gt",
        "le",
        "lt",
        "ne",
    }
)


class _Parser:
    """text/template/parse/parse.go."""

    def __init__(self, text: str, name: str, funcs: frozenset[str]) -> None:
        self.name = name
        self.tokens = _Lexer(text).run()
        self.index = 0
        self.funcs = funcs
        self.vars = ["$"]
        self.range_depth = 0
        self.action_line = 0
        self.last: _Token = self.tokens[0]
        self.templates: dict[str, _List] = {}

    # token stream
    def next(self) -> _Token:
        token = self.tokens[min(self.index, len(self.tokens) - 1)]
        self.index += 1
        self.last = token
        return token

    def backup(self, n: int = 1) -> None:
        self.index -= n

    def peek(self) -> _Token:
        return self.tokens[min(self.index, len(self.tokens) - 1)]

    def next_non_space(self) -> _Token:
        token = self.next()
        while token.typ == _T_SPACE:
            token = self.next()
        return token

    def peek_non_space(self) -> _Token:
        token = self.next_non_space()
        self.backup()
        return token

    def errorf(self, message: str) -> NoReturn:
        raise TemplateError(f"template: {self.name}:{self.last.line}: {message}")

    def expect(self, typ: str, context: str) -> _Token:
        token = self.next_non_space()
        if token.typ != typ:
            self.unexpected(token, context)
        return token

    def unexpected(self, token: _Token, context: str) -> None:
        if token.typ == _T_ERROR:
            extra = ""
            if self.action_line != 0 and self.action_line != token.line:
                extra = f" in {context}"
                if token.val.endswith(" action"):
                    extra = extra[len(" in ") :]
            self.errorf(f"{token}{extra}")
        self.errorf(f"unexpected {token} in {context}")

    # grammar
    def parse(self) -> _List:
        root = _List(self.peek().pos)
        while self.peek().typ != _T_EOF:
            if self.peek().typ == _T_LDELIM:
                delim = self.next()
                if self.next_non_space().typ == "define":
                    self.parse_definition()
                    continue
                self.index = self.tokens.index(delim)
            node = self.text_or_action()
            if isinstance(node, (_End, _Else)):
                self.errorf(f"unexpected {node}")
            root.nodes.append(node)
        return root

    def parse_definition(self) -> None:
        token = self.next_non_space()
        name = self.template_name(token, "define clause")
        self.expect(_T_RDELIM, "define clause")
        saved_vars = self.vars
        self.vars = ["$"]
        body, end = self.item_list()
        if not isinstance(end, _End):
            self.errorf(f"unexpected {end} in define clause")
        self.vars = saved_vars
        self.templates[name] = body

    def template_name(self, token: _Token, context: str) -> str:
        if token.typ in (_T_STRING, _T_RAWSTRING):
            return _unquote(token.val, self)
        self.unexpected(token, context)
        return ""

    def item_list(self) -> tuple[_List, _Node]:
        body = _List(self.peek_non_space().pos)
        while self.peek_non_space().typ != _T_EOF:
            node = self.text_or_action()
            if isinstance(node, (_End, _Else)):
                return body, node
            body.nodes.append(node)
        self.errorf("unexpected EOF")
        raise AssertionError

    def text_or_action(self) -> _Node:
        token = self.next_non_space()
        if token.typ == _T_TEXT:
            return _Text(token.pos, token.val)
        if token.typ == _T_LDELIM:
            self.action_line = token.line
            try:
                return self.action()
            finally:
                self.action_line = 0
        if token.typ == _T_COMMENT:
            return _Comment(token.pos)
        self.unexpected(token, "input")
        raise AssertionError

    def action(self) -> _Node:
        token = self.next_non_space()
        if token.typ == "block":
            return self.block_control()
        if token.typ == "break":
            return self.loop_control(token, "break")
        if token.typ == "continue":
            return self.loop_control(token, "continue")
        if token.typ == "else":
            return self.else_control()
        if token.typ == "end":
            return _End(self.expect(_T_RDELIM, "end").pos)
        if token.typ in ("if", "range", "with"):
            return self.branch(token.typ)
        if token.typ == "template":
            return self.template_control()
        self.backup()
        token = self.peek()
        return _Action(token.pos, self.pipeline("command", _T_RDELIM))

    def loop_control(self, token: _Token, word: str) -> _Node:
        after = self.next_non_space()
        if after.typ != _T_RDELIM:
            self.unexpected(after, "{{" + word + "}}")
        if self.range_depth == 0:
            self.errorf("{{" + word + "}} outside {{range}}")
        return _Break(token.pos) if word == "break" else _Continue(token.pos)

    def else_control(self) -> _Node:
        peek = self.peek_non_space()
        if peek.typ in ("if", "with"):
            return _Else(peek.pos, peek.line)
        token = self.expect(_T_RDELIM, "else")
        return _Else(token.pos, token.line)

    def branch(self, context: str) -> _Node:
        saved = len(self.vars)
        pipe = self.pipeline(context, _T_RDELIM)
        if context == "range":
            self.range_depth += 1
        body, next_node = self.item_list()
        if context == "range":
            self.range_depth -= 1
        else_body = None
        if isinstance(next_node, _Else):
            if context == "if" and self.peek().typ == "if":
                self.next()
                else_body = _List(next_node.pos, [self.branch("if")])
            elif context == "with" and self.peek().typ == "with":
                self.next()
                else_body = _List(next_node.pos, [self.branch("with")])
            else:
                else_body, end = self.item_list()
                if not isinstance(end, _End):
                    self.errorf(f"expected end; found {end}")
        del self.vars[saved:]
        return _Branch(pipe.pos, context, pipe, body, else_body)

    def template_control(self) -> _Node:
        token = self.next_non_space()
        name = self.template_name(token, "template clause")
        pipe = None
        if self.next_non_space().typ != _T_RDELIM:
            self.backup()
            pipe = self.pipeline("template clause", _T_RDELIM)
        return _TemplateCall(token.pos, name, pipe)

    def block_control(self) -> _Node:
        context = "block clause"
        token = self.next_non_space()
        name = self.template_name(token, context)
        pipe = self.pipeline(context, _T_RDELIM)
        saved_vars = self.vars
        self.vars = ["$"]
        body, end = self.item_list()
        if not isinstance(end, _End):
            self.errorf(f"unexpected {end} in {context}")
        self.vars = saved_vars
        self.templates[name] = body
        return _TemplateCall(token.pos, name, pipe)

    def pipeline(self, context: str, end: str) -> _Pipe:
        token = self.peek_non_space()
        pipe = _Pipe(token.pos, token.line)
        while True:
            variable = self.peek_non_space()
            if variable.typ != _T_VARIABLE:
                break
            self.next_non_space()
            after_variable = self.peek()
            following = self.peek_non_space()
            if following.typ in (_T_ASSIGN, _T_DECLARE):
                pipe.is_assign = following.typ == _T_ASSIGN
                self.next_non_space()
                pipe.decl.append(_Variable(variable.pos, [variable.val]))
                self.vars.append(variable.val)
                break
            if following.typ == _T_CHAR and following.val == ",":
                self.next_non_space()
                pipe.decl.append(_Variable(variable.pos, [variable.val]))
                self.vars.append(variable.val)
                if context == "range" and len(pipe.decl) < 2:
                    if self.peek_non_space().typ in (_T_VARIABLE, _T_RDELIM, _T_RPAREN):
                        continue
                    self.errorf("range can only initialize variables")
                self.errorf(f"too many declarations in {context}")
            if after_variable.typ == _T_SPACE:
                self.index = self.tokens.index(variable)
            else:
                self.index = self.tokens.index(variable)
            break
        while True:
            token = self.next_non_space()
            if token.typ == end:
                self.check_pipeline(pipe, context)
                return pipe
            if token.typ in (
                _T_BOOL,
                _T_CHARCONST,
                ".",
                _T_FIELD,
                _T_IDENT,
                _T_NUMBER,
                "nil",
                _T_RAWSTRING,
                _T_STRING,
                _T_VARIABLE,
                _T_LPAREN,
            ):
                self.backup()
                pipe.cmds.append(self.command())
            else:
                self.unexpected(token, context)

    def check_pipeline(self, pipe: _Pipe, context: str) -> None:
        if not pipe.cmds:
            self.errorf(f"missing value for {context}")
        for index, cmd in enumerate(pipe.cmds[1:]):
            if isinstance(cmd.args[0], (_Bool, _Dot, _Nil, _NumberNode, _String)):
                self.errorf(f"non executable command in pipeline stage {index + 2}")

    def command(self) -> _Command:
        cmd = _Command(self.peek_non_space().pos)
        while True:
            self.peek_non_space()
            operand = self.operand()
            if operand is not None:
                cmd.args.append(operand)
            token = self.next()
            if token.typ == _T_SPACE:
                continue
            if token.typ in (_T_RDELIM, _T_RPAREN):
                self.backup()
            elif token.typ == _T_PIPE:
                pass
            else:
                self.unexpected(token, "operand")
            break
        if not cmd.args:
            self.errorf("empty command")
        return cmd

    def operand(self) -> _Node | None:
        node = self.term()
        if node is None:
            return None
        if self.peek().typ == _T_FIELD:
            fields = []
            pos = self.peek().pos
            while self.peek().typ == _T_FIELD:
                fields.append(self.next().val[1:])
            if isinstance(node, _Field):
                return _Field(pos, [*node.ident, *fields])
            if isinstance(node, _Variable):
                return _Variable(pos, [*node.ident, *fields])
            if isinstance(node, (_Bool, _String, _NumberNode, _Nil, _Dot)):
                self.errorf(f"unexpected . after term {_go_quote(str(node))}")
            return _Chain(pos, node, fields)
        return node

    def term(self) -> _Node | None:
        token = self.next_non_space()
        if token.typ == _T_IDENT:
            if token.val not in self.funcs and token.val not in BUILTINS:
                self.errorf(f"function {_go_quote(token.val)} not defined")
            return _Identifier(token.pos, token.val)
        if token.typ == ".":
            return _Dot(token.pos)
        if token.typ == "nil":
            return _Nil(token.pos)
        if token.typ == _T_VARIABLE:
            name = token.val
            if name not in self.vars:
                self.errorf(f"undefined variable {_go_quote(name)}")
            return _Variable(token.pos, [name])
        if token.typ == _T_FIELD:
            return _Field(token.pos, [token.val[1:]])
        if token.typ == _T_BOOL:
            return _Bool(token.pos, token.val == "true")
        if token.typ in (_T_CHARCONST, _T_NUMBER):
            return self.number(token)
        if token.typ == _T_LPAREN:
            return self.pipeline("parenthesized pipeline", _T_RPAREN)
        if token.typ in (_T_STRING, _T_RAWSTRING):
            return _String(token.pos, token.val, _unquote(token.val, self))
        self.backup()
        return None

    def number(self, token: _Token) -> _NumberNode:
        text = token.val
        if token.typ == _T_CHARCONST:
            try:
                char = _decode_escapes(text[1:-1])
            except ValueError:
                self.errorf("invalid syntax")
            if len(char) != 1:
                self.errorf(f"malformed character constant: {text}")
            return _NumberNode(token.pos, text, ord(char), True, True)
        if text.endswith("i"):
            self.errorf(f"complex constants are not supported by labkit: {text}")
        clean = text.replace("_", "")
        value: float  # an int for an integer constant
        try:
            if re.fullmatch(
                r"[+-]?(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)", clean
            ):
                sign = -1 if clean.startswith("-") else 1
                body = clean.lstrip("+-")
                value = int(body, 8) if re.fullmatch(r"0[0-7]+", body) else int(body, 0)
                value *= sign
                is_float = True
                return _NumberNode(token.pos, text, value, True, is_float)
            value = (
                float(clean)
                if not clean.lower().startswith(("0x", "+0x", "-0x"))
                else float.fromhex(clean)
            )
        except ValueError:
            self.errorf(f"illegal number syntax: {_go_quote(text)}")
            raise AssertionError from None
        is_int = value == int(value) and not math.isinf(value) and abs(value) < 2**63
        return _NumberNode(token.pos, text, int(value) if is_int else value, is_int, True)


def _unquote(quoted: str, parser: _Parser) -> str:
    """strconv.Unquote."""
    if quoted.startswith("`"):
        return quoted[1:-1].replace("\r", "")
    body = quoted[1:-1]
    try:
        if quoted.startswith("'"):
            text = _decode_escapes(body)
            if len(text) != 1:
                raise ValueError
            return text
        return _decode_escapes(body)
    except ValueError:
        parser.errorf("invalid syntax")
        raise AssertionError from None


def _decode_escapes(body: str) -> str:
    out = []
    index = 0
    simple = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
    simple |= {"\\": "\\", "'": "'", '"': '"'}
    while index < len(body):
        char = body[index]
        if char != "\\":
            out.append(char)
            index += 1
            continue
        code = body[index + 1 : index + 2]
        if code in simple:
            out.append(simple[code])
            index += 2
        elif code in ("x", "u", "U"):
            width = {"x": 2, "u": 4, "U": 8}[code]
            digits = body[index + 2 : index + 2 + width]
            if len(digits) != width:
                raise ValueError
            out.append(chr(int(digits, 16)))
            index += 2 + width
        elif code and code in "01234567":
            digits = body[index + 1 : index + 4]
            out.append(chr(int(digits, 8)))
            index += 4
        else:
            raise ValueError
    return "".join(out)


# --- functions -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _GoFunc:
    """A Go function: its parameter types (``"interface {}"`` takes anything; ``"..."`` prefix
    marks a variadic last parameter) and its implementation on Go values."""

    name: str
    params: tuple[str, ...]
    impl: Callable[..., Any]
    signature: str = "func"
    raw_args: bool = False  # receives unvalidated values (reflect.Value parameters)


class _CallError(Exception):
    """A function's returned error (or panic): 'error calling NAME: <text>'."""


def _index(item: Any, *indexes: Any) -> Any:
    item = _unwrap(item)
    if _kind(item) == "invalid":
        raise _CallError("index of untyped nil")
    for index in indexes:
        index = _unwrap(index)
        kind = _kind(item)
        if kind == "ptr":
            if item.fields is None:
                raise _CallError("index of nil pointer")
            kind = "struct"
        if kind in ("slice", "string"):
            payload = _py(item)
            if _kind(index) not in ("int", "uint"):
                if _kind(index) == "invalid":
                    raise _CallError("cannot index slice/array with nil")
                raise _CallError(f"cannot index slice/array with type {type_name(index)}")
            position = _py(index)
            length = len(payload.encode()) if kind == "string" else len(payload)
            if position < 0 or position >= length:
                raise _CallError(f"index out of range: {position}")
            if kind == "string":
                item = Typed("uint8", payload.encode()[position])
            else:
                item = _element(item, payload[position])
        elif kind == "map":
            if _kind(index) == "invalid":
                raise _CallError("value is nil; should be of type string")
            if _kind(index) != "string" or isinstance(index, Number):
                raise _CallError(f"value has type {type_name(index)}; should be string")
            payload = _py(item)
            key = _py(index)
            if payload is not None and key in payload:
                item = _element(item, payload[key])
            else:
                elem = _elem_type(item)
                item = _zero(elem)
        else:
            raise _CallError(f"can't index item of type {type_name(item)}")
    return item


def _zero(type_name_: str | None) -> Any:
    if type_name_ is None or type_name_ == "interface {}":
        return None
    if type_name_ == "string":
        return ""
    if type_name_ in ("int", "int64", "uint8"):
        return 0 if type_name_ == "int" else Typed(type_name_, 0)
    if type_name_ == "bool":
        return False
    if type_name_.startswith(("[]", "map[")):
        return Typed(type_name_, None)
    return Typed(type_name_, None)


def _slice(item: Any, *indexes: Any) -> Any:
    item = _unwrap(item)
    kind = _kind(item)
    if kind == "invalid":
        raise _CallError("slice of untyped nil")
    if len(indexes) > 3:
        raise _CallError(f"too many slice indexes: {len(indexes)}")
    if kind not in ("slice", "string"):
        raise _CallError(f"can't slice item of type {type_name(item)}")
    payload: Any = _py(item) or []
    length = len(payload.encode()) if kind == "string" else len(payload)
    if kind == "string" and len(indexes) == 3:
        raise _CallError("cannot 3-index slice a string")
    bounds = [0, length, length]
    for i, index in enumerate(indexes):
        index = _unwrap(index)
        if _kind(index) not in ("int", "uint"):
            raise _CallError(f"cannot index slice/array with type {type_name(index)}")
        value = _py(index)
        if value < 0 or value > length:
            raise _CallError(f"index out of range: {value}")
        bounds[i] = value
    if len(indexes) >= 2 and bounds[0] > bounds[1]:
        raise _CallError(f"invalid slice index: {bounds[0]} > {bounds[1]}")
    if kind == "string":
        return payload.encode()[bounds[0] : bounds[1]].decode(errors="replace")
    result = payload[bounds[0] : bounds[1]]
    item = _unwrap(item)
    return Typed(item.type, result) if isinstance(item, Typed) else result


def _len(item: Any) -> int:
    item = _unwrap(item)
    kind = _kind(item)
    if kind == "ptr" and item.fields is None:
        raise _CallError("len of nil pointer")
    if kind in ("slice", "map"):
        return len(_py(item) or ())
    if kind == "string":
        return len(_py(item).encode())
    if kind == "invalid":
        raise _CallError("len of nil pointer")
    raise _CallError(f"len of type {type_name(item)}")


def _basic_kind(value: Any) -> str:
    kind = _kind(value)
    if kind in ("bool", "int", "uint", "float", "string"):
        return kind
    raise _CallError("invalid type for comparison")


def _eq(arg1: Any, *args: Any) -> bool:
    arg1 = _unwrap(arg1)
    if not args:
        raise _CallError("missing argument for comparison")
    k1 = _kind(arg1) if _kind(arg1) in ("bool", "int", "uint", "float", "string") else "invalid"
    for arg in args:
        arg = _unwrap(arg)
        k2 = _kind(arg) if _kind(arg) in ("bool", "int", "uint", "float", "string") else "invalid"
        truth = False
        if k1 != k2:
            if {k1, k2} == {"int", "uint"}:
                truth = _py(arg1) == _py(arg)
            elif _kind(arg1) != "invalid" and _kind(arg) != "invalid":
                raise _CallError("incompatible types for comparison")
        elif k1 in ("bool", "int", "uint", "float", "string"):
            truth = _py(arg1) == _py(arg)
        else:
            nil1 = _is_nil(arg1)
            nil2 = _is_nil(arg)
            if not nil1 and not nil2 and _kind(arg1) in ("slice", "map", "func"):
                raise _CallError(f"non-comparable type {go_sprint(arg1)}: {type_name(arg1)}")
            truth = nil1 == nil2 if nil1 or nil2 else arg1 == arg
        if truth:
            return True
    return False


def _is_nil(value: Any) -> bool:
    value = _unwrap(value)
    if value is None or value is MISSING:
        return True
    if isinstance(value, Typed) and value.shape.startswith(("[]", "map[")):
        return value.value is None
    if isinstance(value, Struct) and value.pointer:
        return value.fields is None
    return False


def _ne(arg1: Any, arg2: Any) -> bool:
    return not _eq(arg1, arg2)


def _lt(arg1: Any, arg2: Any) -> bool:
    arg1, arg2 = _unwrap(arg1), _unwrap(arg2)
    k1 = _basic_kind(arg1)
    k2 = _basic_kind(arg2)
    if k1 != k2:
        if {k1, k2} == {"int", "uint"}:
            return _py(arg1) < _py(arg2)
        raise _CallError("incompatible types for comparison")
    if k1 == "bool":
        raise _CallError("invalid type for comparison")
    return _py(arg1) < _py(arg2)


def _le(arg1: Any, arg2: Any) -> bool:
    return _lt(arg1, arg2) or _eq(arg1, arg2)


def _gt(arg1: Any, arg2: Any) -> bool:
    return not _le(arg1, arg2)


def _ge(arg1: Any, arg2: Any) -> bool:
    return not _lt(arg1, arg2)


def _sprint(*args: Any) -> str:
    """fmt.Sprint: spaces between operands when neither is a string."""
    out = []
    previous_string = True
    for i, arg in enumerate(args):
        arg_u = _unwrap(arg)
        is_string = _kind(arg_u) == "string"
        if i > 0 and not is_string and not previous_string:
            out.append(" ")
        out.append(go_sprint(arg_u))
        previous_string = is_string
    return "".join(out)


def _sprintln(*args: Any) -> str:
    return " ".join(go_sprint(_unwrap(a)) for a in args) + "\n"


_VERB = re.compile(r"%([-+# 0]*)(\*|\d+)?(?:\.(\*|\d+)?)?(.)", re.S)


def _sprintf(fmt: str, *args: Any) -> str:
    """fmt.Sprintf for the verbs templates use: v s d q x X o b c e E f F g G t T %."""
    out = []
    index = 0
    arg_index = 0
    args = tuple(_unwrap(a) for a in args)
    while index < len(fmt):
        if fmt[index] != "%":
            next_pct = fmt.find("%", index)
            next_pct = len(fmt) if next_pct < 0 else next_pct
            out.append(fmt[index:next_pct])
            index = next_pct
            continue
        match = _VERB.match(fmt, index)
        if match is None:
            out.append("%!(NOVERB)")
            break
        flags, width, precision, verb = match.groups()
        has_precision = "." in match.group(0)[:-1]
        index = match.end()
        if verb == "%":
            out.append("%")
            continue
        if width == "*":
            width = str(_py(args[arg_index])) if arg_index < len(args) else None
            arg_index += 1
        if precision == "*":
            precision = str(_py(args[arg_index])) if arg_index < len(args) else None
            arg_index += 1
        if arg_index >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        arg = args[arg_index]
        arg_index += 1
        prec = int(precision) if has_precision and precision else (0 if has_precision else None)
        out.append(_format_verb(arg, verb, flags, int(width) if width else None, prec))
    if arg_index < len(args):
        extra = ", ".join(f"{type_name(a)}={go_sprint(a)}" for a in args[arg_index:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)


def _pad(text: str, flags: str, width: int | None, zero_ok: bool = False) -> str:
    if width is None or len(text) >= width:
        return text
    if "-" in flags:
        return text + " " * (width - len(text))
    if "0" in flags and zero_ok:
        sign = text[0] if text[:1] in "+-" else ""
        return sign + "0" * (width - len(text)) + text[len(sign) :]
    return " " * (width - len(text)) + text


def _format_verb(arg: Any, verb: str, flags: str, width: int | None, prec: int | None) -> str:
    kind = _kind(arg)
    payload = _py(arg)
    bad = f"%!{verb}({type_name(arg)}={go_sprint(arg)})"
    if verb == "T":
        return _pad(type_name(arg), flags, width)
    if verb == "v":
        if kind == "float":
            return _pad(
                _format_float(payload, "g", -1 if prec is None else prec), flags, width, True
            )
        text = go_sprint(arg)
        if "+" in flags and isinstance(arg, Struct):
            pass
        return _pad(text, flags, width, kind in ("int", "uint"))
    if verb == "s":
        if kind == "string":
            text = payload if prec is None else payload[:prec]
            return _pad(text, flags, width)
        if kind in ("slice",) and _elem_type(arg) == "string":
            return _pad(go_sprint(arg), flags, width)
        if kind in ("int", "float", "bool"):
            return _pad(bad, flags, None)
        return _pad(go_sprint(arg), flags, width)
    if verb == "q":
        if kind == "string":
            return _pad(_go_quote(payload), flags, width)
        if kind == "int":
            return _pad("'" + chr(payload) + "'", flags, width)
        return bad
    if verb in "dbox" and kind in ("int", "uint"):
        base = {"d": 10, "b": 2, "o": 8, "x": 16}[verb]
        digits = _int_text(abs(payload), base)
        if prec is not None and len(digits) < prec:
            digits = "0" * (prec - len(digits)) + digits
        if "#" in flags and verb == "x":
            digits = "0x" + digits
        if "#" in flags and verb == "o":
            digits = "0" + digits
        sign = "-" if payload < 0 else ("+" if "+" in flags else (" " if " " in flags else ""))
        return _pad(sign + digits, flags, width, prec is None)
    if verb == "X" and kind in ("int", "uint"):
        return _format_verb(arg, "x", flags, width, prec).upper()
    if verb in "xX" and kind == "string":
        text = payload.encode().hex()
        return _pad(text.upper() if verb == "X" else text, flags, width)
    if verb == "c" and kind in ("int", "uint"):
        return _pad(chr(payload), flags, width)
    if verb in "eEfFgG" and kind in ("float", "int"):
        if kind == "int":
            return bad
        go_verb = verb.lower() if verb != "F" else "f"
        default_prec = 6 if go_verb in "ef" else -1
        text = _format_float(payload, go_verb, default_prec if prec is None else prec)
        if "+" in flags and payload >= 0:
            text = "+" + text
        if verb in "EG":
            text = text.upper()
        return _pad(text, flags, width, True)
    if verb == "t" and kind == "bool":
        return _pad(go_sprint(arg), flags, width)
    return bad


def _int_text(value: int, base: int) -> str:
    if value == 0:
        return "0"
    digits = "0123456789abcdef"
    out = []
    while value:
        value, rem = divmod(value, base)
        out.append(digits[rem])
    return "".join(reversed(out))


def _html_escape(*args: Any) -> str:
    text = _eval_args_text(args)
    return (
        text.replace("&", "&amp;")
        .replace("'", "&#39;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&#34;")
        .replace("\0", "\ufffd")
    )


def _eval_args_text(args: Sequence[Any]) -> str:
    if len(args) == 1 and _kind(args[0]) == "string":
        return _py(_unwrap(args[0]))
    return _sprint(*args)


def _js_escape(*args: Any) -> str:
    text = _eval_args_text(args)
    out = []
    for char in text:
        if char == "\\":
            out.append("\\\\")
        elif char == "'":
            out.append("\\'")
        elif char == '"':
            out.append("\\u0022")
        elif char == "<":
            out.append("\\u003C")
        elif char == ">":
            out.append("\\u003E")
        elif char == "&":
            out.append("\\u0026")
        elif char == "=":
            out.append("\\u003D")
        elif char == "`":
            out.append("\\u0060")
        elif char == "+":
            out.append("\\u002B")
        elif ord(char) < 0x20:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return "".join(out)


def _urlquery(*args: Any) -> str:
    return urllib.parse.quote_plus(_eval_args_text(args), safe="")


def _and(*args: Any) -> Any:  # evaluated lazily by the executor; kept for the signature
    raise AssertionError


def _call(fn: Any, *args: Any) -> Any:
    fn = _unwrap(fn)
    if fn is None or fn is MISSING:
        raise _CallError("call of nil")
    raise _CallError(f"non-function {go_sprint(fn)} of type {type_name(fn)}")


def _json_func(value: Any) -> str:
    return go_json(value)


def _split(text: str, sep: str) -> Typed:
    if sep == "":
        return Typed("[]string", list(text))
    return Typed("[]string", text.split(sep))


def _join(elems: list[str] | None, sep: str) -> str:
    return sep.join(elems or [])


def _title(text: str) -> str:
    """strings.Title: the first letter of each word upper-cased."""
    out = []
    previous = " "
    for char in text:
        separator = _is_separator(previous)
        out.append(char.upper() if separator else char)
        previous = char
    return "".join(out)


def _is_separator(char: str) -> bool:
    if char.isascii():
        return not (char.isalnum() or char == "_")
    if char.isalpha() or char.isdigit():
        return False
    return char.isspace()


def _pad_with_space(source: str, prefix: int, suffix: int) -> str:
    if source == "":
        return source
    if prefix < 0 or suffix < 0:
        raise _CallError("strings: negative Repeat count")
    return " " * prefix + source + " " * suffix


def _truncate(source: str, length: int) -> str:
    data = source.encode()
    if len(data) < length:
        return source
    if length < 0:
        raise _CallError(f"runtime error: slice bounds out of range [:{length}]")
    return data[:length].decode(errors="replace")


_ANY = "interface {}"
_BUILTIN_FUNCS: dict[str, _GoFunc] = {
    "and": _GoFunc("and", (_ANY, "..." + _ANY), _and, raw_args=True),
    "or": _GoFunc("or", (_ANY, "..." + _ANY), _and, raw_args=True),
    "not": _GoFunc("not", (_ANY,), lambda a: not _is_true(a)[0], raw_args=True),
    "call": _GoFunc("call", (_ANY, "..." + _ANY), _call, raw_args=True),
    "html": _GoFunc("html", ("..." + _ANY,), _html_escape),
    "index": _GoFunc("index", (_ANY, "..." + _ANY), _index, raw_args=True),
    "slice": _GoFunc("slice", (_ANY, "..." + _ANY), _slice, raw_args=True),
    "js": _GoFunc("js", ("..." + _ANY,), _js_escape),
    "len": _GoFunc("len", (_ANY,), _len, raw_args=True),
    "print": _GoFunc("print", ("..." + _ANY,), _sprint),
    "printf": _GoFunc("printf", ("string", "..." + _ANY), _sprintf),
    "println": _GoFunc("println", ("..." + _ANY,), _sprintln),
    "urlquery": _GoFunc("urlquery", ("..." + _ANY,), _urlquery),
    "eq": _GoFunc("eq", (_ANY, "..." + _ANY), _eq, raw_args=True),
    "ne": _GoFunc("ne", (_ANY, _ANY), _ne, raw_args=True),
    "lt": _GoFunc("lt", (_ANY, _ANY), _lt, raw_args=True),
    "le": _GoFunc("le", (_ANY, _ANY), _le, raw_args=True),
    "gt": _GoFunc("gt", (_ANY, _ANY), _gt, raw_args=True),
    "ge": _GoFunc("ge", (_ANY, _ANY), _ge, raw_args=True),
}

# docker/cli templates/templates.go:15-35
DOCKER_FUNCS: dict[str, _GoFunc] = {
    "json": _GoFunc("json", (_ANY,), _json_func),
    "split": _GoFunc("split", ("string", "string"), _split),
    "join": _GoFunc("join", ("[]string", "string"), _join),
    "title": _GoFunc("title", ("string",), _title),
    "lower": _GoFunc("lower", ("string",), str.lower),
    "upper": _GoFunc("upper", ("string",), str.upper),
    "pad": _GoFunc("pad", ("string", "int", "int"), _pad_with_space),
    "truncate": _GoFunc("truncate", ("string", "int"), _truncate),
}

# docker/cli templates/templates.go:42-69: a table's header keeps the column names.
HEADER_FUNCS: dict[str, _GoFunc] = {
    "json": _GoFunc("json", ("string",), lambda v: v),
    "split": _GoFunc("split", ("string", "string"), lambda v, _: v),
    "join": _GoFunc("join", ("string", "string"), lambda v, _: v),
    "title": _GoFunc("title", ("string",), lambda v: v),
    "lower": _GoFunc("lower", ("string",), lambda v: v),
    "upper": _GoFunc("upper", ("string",), lambda v: v),
    "truncate": _GoFunc("truncate", ("string", "int"), lambda v, _: v),
}


# --- execution -----------------------------------------------------------------------------------


class _Break_(Exception):
    pass


class _Continue_(Exception):
    pass


class _State:
    def __init__(self, template: Template, funcs: Mapping[str, _GoFunc], missingkey: str) -> None:
        self.template = template
        self.funcs = funcs
        self.missingkey = missingkey
        self.out: list[str] = []
        self.vars: list[tuple[str, Any]] = []
        self.node: _Node | None = None
        self.depth = 0

    def errorf(self, message: str) -> NoReturn:
        name = self.template.name
        if self.node is None:
            raise TemplateError(f"template: {name}: {message}")
        text = self.template.text
        pos = self.node.pos
        before = text[:pos]
        newline = before.rfind("\n")
        column = len(before.encode()) if newline < 0 else len(before[newline + 1 :].encode())
        line = 1 + before.count("\n")
        context = str(self.node)
        if len(context) > 20:
            context = context[:20] + "..."
        location = f"{name}:{line}:{column}"
        raise TemplateError(
            f"template: {location}: executing {_go_quote(name)} at <{context}>: {message}"
        )

    def at(self, node: _Node) -> None:
        self.node = node

    # variables
    def push(self, name: str, value: Any) -> None:
        self.vars.append((name, value))

    def mark(self) -> int:
        return len(self.vars)

    def pop(self, mark: int) -> None:
        del self.vars[mark:]

    def set_var(self, name: str, value: Any) -> None:
        for i in range(len(self.vars) - 1, -1, -1):
            if self.vars[i][0] == name:
                self.vars[i] = (name, value)
                return
        self.errorf(f"undefined variable: {name}")

    def set_top_var(self, n: int, value: Any) -> None:
        name = self.vars[len(self.vars) - n][0]
        self.vars[len(self.vars) - n] = (name, value)

    def var_value(self, name: str) -> Any:
        for i in range(len(self.vars) - 1, -1, -1):
            if self.vars[i][0] == name:
                return self.vars[i][1]
        self.errorf(f"undefined variable: {name}")
        raise AssertionError

    # walking
    def walk(self, dot: Any, node: _Node) -> None:
        self.at(node)
        if isinstance(node, _Action):
            value = self.eval_pipeline(dot, node.pipe)
            if not node.pipe.decl:
                self.print_value(node, value)
        elif isinstance(node, _Branch):
            if node.kind == "range":
                self.walk_range(dot, node)
            else:
                self.walk_if_or_with(dot, node)
        elif isinstance(node, _List):
            for child in node.nodes:
                self.walk(dot, child)
        elif isinstance(node, _Text):
            self.out.append(node.text)
        elif isinstance(node, _TemplateCall):
            self.walk_template(dot, node)
        elif isinstance(node, _Break):
            raise _Break_
        elif isinstance(node, _Continue):
            raise _Continue_
        elif isinstance(node, _Comment):
            pass
        else:  # pragma: no cover
            self.errorf(f"unknown node: {node}")

    def walk_if_or_with(self, dot: Any, node: _Branch) -> None:
        mark = self.mark()
        try:
            value = self.eval_pipeline(dot, node.pipe)
            truth, ok = _is_true(value)
            if not ok:
                self.errorf(f"if/with can't use {go_sprint(value)}")
            if truth:
                self.walk(value if node.kind == "with" else dot, node.body)
            elif node.else_body is not None:
                self.walk(dot, node.else_body)
        finally:
            self.pop(mark)

    def walk_range(self, dot: Any, node: _Branch) -> None:
        self.at(node)
        mark = self.mark()
        try:
            value = _unwrap(self.eval_pipeline(dot, node.pipe))
            inner = self.mark()
            pipe = node.pipe

            def one(index: Any, elem: Any) -> bool:
                if pipe.decl:
                    if pipe.is_assign:
                        self.set_var(pipe.decl[0].ident[0], index if len(pipe.decl) > 1 else elem)
                    else:
                        self.set_top_var(1, elem)
                if len(pipe.decl) > 1:
                    if pipe.is_assign:
                        self.set_var(pipe.decl[1].ident[0], elem)
                    else:
                        self.set_top_var(2, index)
                try:
                    self.walk(elem, node.body)
                except _Continue_:
                    pass
                except _Break_:
                    return False
                finally:
                    self.pop(inner)
                return True

            kind = _kind(value)
            payload = _py(value)
            ran = False
            if kind == "ptr" and isinstance(value, Struct):
                self.errorf(f"range can't iterate over {go_sprint(value)}")
            if kind == "slice":
                for i, raw in enumerate(payload or []):
                    ran = True
                    if not one(i, _element(value, raw)):
                        break
            elif kind == "map":
                for key in sorted(payload or {}, key=_sort_key):
                    ran = True
                    if not one(key, _element(value, payload[key])):
                        break
            elif kind == "int":
                if payload < 0:
                    payload = 0
                if len(pipe.decl) > 1:
                    self.errorf(
                        f"can't use {go_sprint(value)} to iterate over more than one variable"
                    )
                for i in range(payload):
                    ran = True
                    if not one(i, i):
                        break
            elif kind == "invalid":
                pass
            else:
                self.errorf(f"range can't iterate over {go_sprint(value)}")
            if not ran and node.else_body is not None:
                self.walk(dot, node.else_body)
        finally:
            self.pop(mark)

    def walk_template(self, dot: Any, node: _TemplateCall) -> None:
        self.at(node)
        body = self.template.defined.get(node.name)
        if body is None:
            self.errorf(f"no such template {_go_quote(node.name)}")
        value = self.eval_pipeline(dot, node.pipe) if node.pipe is not None else None
        self.depth += 1
        if self.depth > 100000:
            self.errorf("exceeded maximum template depth (100000)")
        saved = self.vars
        self.vars = [("$", value)]
        try:
            self.walk(value, body)
        finally:
            self.vars = saved
            self.depth -= 1

    def eval_pipeline(self, dot: Any, pipe: _Pipe | None) -> Any:
        if pipe is None:
            return MISSING
        self.at(pipe)
        value: Any = _NO_FINAL
        for cmd in pipe.cmds:
            value = self.eval_command(dot, cmd, value)
            if isinstance(value, _Iface):
                value = _unwrap(value)
                if value is None:
                    value = MISSING
        for variable in pipe.decl:
            if pipe.is_assign:
                self.set_var(variable.ident[0], value)
            else:
                self.push(variable.ident[0], value)
        return value

    def not_a_function(self, args: list[_Node], final: Any) -> None:
        if len(args) > 1 or final is not _NO_FINAL:
            self.errorf(f"can't give argument to non-function {args[0]}")

    def eval_command(self, dot: Any, cmd: _Command, final: Any) -> Any:
        first = cmd.args[0]
        if isinstance(first, _Field):
            return self.eval_field_node(dot, first, cmd.args, final)
        if isinstance(first, _Chain):
            return self.eval_chain(dot, first, cmd.args, final)
        if isinstance(first, _Identifier):
            return self.eval_function(dot, first, cmd, cmd.args, final)
        if isinstance(first, _Pipe):
            self.not_a_function(cmd.args, final)
            return self.eval_pipeline(dot, first)
        if isinstance(first, _Variable):
            return self.eval_variable(dot, first, cmd.args, final)
        self.at(first)
        self.not_a_function(cmd.args, final)
        if isinstance(first, _Bool):
            return first.value
        if isinstance(first, _Dot):
            return dot
        if isinstance(first, _Nil):
            self.errorf("nil is not a command")
        if isinstance(first, _NumberNode):
            return self.ideal_constant(first)
        if isinstance(first, _String):
            return first.text
        self.errorf(f"can't evaluate command {_go_quote(str(first))}")
        raise AssertionError

    def ideal_constant(self, node: _NumberNode) -> Any:
        self.at(node)
        if node.text.startswith("'"):
            return Typed("int32", node.value)
        if node.is_int and not re.search(
            r"[.eEpP]",
            node.text.lstrip("+-")[2:] if node.text.lstrip("+-")[:2].lower() == "0x" else node.text,
        ):
            if abs(node.value) >= 2**63:
                self.errorf(f"{node.text} overflows int")
            return node.value
        return float(node.value)

    def eval_field_node(self, dot: Any, node: _Field, args: list[_Node], final: Any) -> Any:
        self.at(node)
        return self.eval_field_chain(dot, dot, node, node.ident, args, final)

    def eval_chain(self, dot: Any, chain: _Chain, args: list[_Node], final: Any) -> Any:
        if isinstance(chain.node, _Nil):
            self.errorf(f"indirection through explicit nil in {chain}")
        pipe = self.eval_arg(dot, None, chain.node)
        return self.eval_field_chain(dot, pipe, chain, chain.fields, args, final)

    def eval_variable(self, dot: Any, node: _Variable, args: list[_Node], final: Any) -> Any:
        self.at(node)
        value = self.var_value(node.ident[0])
        if len(node.ident) == 1:
            self.not_a_function(args, final)
            return value
        return self.eval_field_chain(dot, value, node, node.ident[1:], args, final)

    def eval_field_chain(
        self, dot: Any, receiver: Any, node: _Node, ident: list[str], args: list[_Node], final: Any
    ) -> Any:
        for name in ident[:-1]:
            receiver = self.eval_field(dot, name, node, [], _NO_FINAL, receiver)
        return self.eval_field(dot, ident[-1], node, args, final, receiver)

    def eval_field(
        self, dot: Any, name: str, node: _Node, args: list[_Node], final: Any, receiver: Any
    ) -> Any:
        if (
            receiver is MISSING
            or receiver is _NO_FINAL
            or (receiver is None and not isinstance(receiver, _Iface))
        ):
            if self.missingkey == "error":
                self.errorf(f"nil data; no entry for key {_go_quote(name)}")
            return MISSING
        typ = type_name(receiver)
        value = _unwrap(receiver)
        if value is None:
            self.errorf(f"nil pointer evaluating {typ}.{name}")
        if isinstance(value, Struct) and name in value.methods:
            return self.eval_call(dot, value.methods[name], node, name, args, final, method=True)
        has_args = len(args) > 1 or final is not _NO_FINAL
        if isinstance(value, Struct):
            if value.pointer and value.fields is None:
                self.errorf(f"nil pointer evaluating {typ}.{name}")
            fields = value.fields or {}
            if name in fields or name in value.embedded:
                if has_args:
                    self.errorf(f"{name} has arguments but cannot be invoked as function")
                return fields[name] if name in fields else value.embedded[name]
            if name in value.unexported:
                self.errorf(f"{name} is an unexported field of struct type {typ}")
        elif _kind(value) == "map" and not isinstance(value, Number):
            elem = _elem_type(value)
            key_type = "string"
            if isinstance(value, Typed):
                key_type = value.shape[4 : value.shape.index("]")]
            if key_type == "string":
                if has_args:
                    self.errorf(f"{name} is not a method but has arguments")
                payload = _py(value)
                if payload is not None and name in payload:
                    return _element(value, payload[name])
                if self.missingkey == "error":
                    self.errorf(f"map has no entry for key {_go_quote(name)}")
                if self.missingkey == "zero":
                    return _zero(elem)
                return MISSING
        self.errorf(f"can't evaluate field {name} in type {typ}")
        raise AssertionError

    def eval_function(
        self, dot: Any, node: _Identifier, cmd: _Command, args: list[_Node], final: Any
    ) -> Any:
        self.at(node)
        function = self.funcs.get(node.name) or _BUILTIN_FUNCS.get(node.name)
        if function is None:
            self.errorf(f"{_go_quote(node.name)} is not a defined function")
        return self.eval_call(dot, function, cmd, node.name, args, final)

    def eval_call(
        self,
        dot: Any,
        function: Any,
        node: _Node,
        name: str,
        args: list[_Node],
        final: Any,
        method: bool = False,
    ) -> Any:
        call_args = args[1:] if args else []
        if method:
            # A zero-argument method returning one value (docker/cli's contexts).
            count = len(call_args) + (0 if final is _NO_FINAL else 1)
            if count != 0:
                self.errorf(f"wrong number of args for {name}: want 0 got {count}")
            return function()
        params = function.params
        variadic = bool(params) and params[-1].startswith("...")
        num_in = len(call_args) + (0 if final is _NO_FINAL else 1)
        if variadic:
            fixed = len(params) - 1
            if num_in < fixed:
                self.errorf(
                    f"wrong number of args for {name}: want at least {fixed} got {len(call_args)}"
                )
        elif num_in != len(params):
            self.errorf(f"wrong number of args for {name}: want {len(params)} got {num_in}")

        def param(i: int) -> str:
            if variadic and i >= len(params) - 1:
                return params[-1][3:]
            return params[i]

        if name in ("and", "or") and function in (_BUILTIN_FUNCS["and"], _BUILTIN_FUNCS["or"]):
            values = [*call_args]
            result: Any = MISSING
            total = len(values) + (0 if final is _NO_FINAL else 1)
            for i in range(total):
                result = self.eval_arg(dot, _ANY, values[i]) if i < len(values) else final
                truth, _ = _is_true(result)
                if (name == "and") != truth:
                    return result
            return result

        argv = [self.eval_arg(dot, param(i), arg) for i, arg in enumerate(call_args)]
        if final is not _NO_FINAL:
            argv.append(
                self.validate_type(final, param(len(params) - 1 if not variadic else len(argv)))
            )
        if function.raw_args:
            argv = [a for a in argv]
        else:
            argv = [
                _py(a) if not isinstance(_unwrap(a), (Struct,)) and p != _ANY else a
                for a, p in zip(argv, [param(i) for i in range(len(argv))], strict=True)
            ]
        try:
            return function.impl(*argv)
        except _CallError as error:
            self.at(node)
            self.errorf(f"error calling {name}: {error}")
        except TemplateError as error:
            self.at(node)
            self.errorf(f"error calling {name}: {error!s}")
        raise AssertionError

    def validate_type(self, value: Any, typ: str | None) -> Any:
        if value is MISSING or value is _NO_FINAL or _unwrap(value) is None:
            if typ is None or typ == _ANY:
                return None if typ else MISSING
            if typ.startswith(("[]", "map[", "*", "func")):
                return Typed(typ, None)
            self.errorf(f"invalid value; expected {typ}")
        if typ is None or typ == _ANY:
            return value
        actual = type_name(value)
        if actual == typ:
            return value
        inner = _unwrap(value)
        if isinstance(value, _Iface):
            actual = type_name(inner)
            if actual == typ:
                return inner
        if isinstance(inner, Struct) and inner.pointer and inner.type == typ:
            return inner
        self.errorf(f"wrong type for value; expected {typ}; got {actual}")
        raise AssertionError

    def eval_arg(self, dot: Any, typ: str | None, node: _Node) -> Any:
        self.at(node)
        if isinstance(node, _Dot):
            return self.validate_type(dot, typ)
        if isinstance(node, _Nil):
            if typ is not None and (typ == _ANY or typ.startswith(("[]", "map[", "*"))):
                return None if typ == _ANY else Typed(typ, None)
            self.errorf(f"cannot assign nil to {typ}")
        if isinstance(node, _Field):
            return self.validate_type(self.eval_field_node(dot, node, [node], _NO_FINAL), typ)
        if isinstance(node, _Variable):
            return self.validate_type(self.eval_variable(dot, node, [], _NO_FINAL), typ)
        if isinstance(node, _Pipe):
            return self.validate_type(self.eval_pipeline(dot, node), typ)
        if isinstance(node, _Identifier):
            cmd = _Command(node.pos, [node])
            return self.validate_type(self.eval_function(dot, node, cmd, [], _NO_FINAL), typ)
        if isinstance(node, _Chain):
            return self.validate_type(self.eval_chain(dot, node, [], _NO_FINAL), typ)
        if typ is None or typ == _ANY:
            return self.eval_empty_interface(dot, node)
        if typ == "bool":
            if isinstance(node, _Bool):
                return node.value
            self.errorf(f"expected bool; found {node}")
        if typ in ("int", "int64"):
            if isinstance(node, _NumberNode) and node.is_int:
                return node.value
            self.errorf(f"expected integer; found {node}")
        if typ == "float64":
            if isinstance(node, _NumberNode) and node.is_float:
                return float(node.value)
            self.errorf(f"expected float; found {node}")
        if typ == "string":
            if isinstance(node, _String):
                return node.text
            self.errorf(f"expected string; found {node}")
        self.errorf(f"can't handle {node} for arg of type {typ}")
        raise AssertionError

    def eval_empty_interface(self, dot: Any, node: _Node) -> Any:
        self.at(node)
        if isinstance(node, _Bool):
            return node.value
        if isinstance(node, _Dot):
            return dot
        if isinstance(node, _NumberNode):
            return self.ideal_constant(node)
        if isinstance(node, _String):
            return node.text
        self.errorf(f"can't handle assignment of {node} to empty interface argument")
        raise AssertionError

    def print_value(self, node: _Node, value: Any) -> None:
        self.at(node)
        inner = _unwrap(value)
        if isinstance(inner, _GoFunc):
            self.errorf(f"can't print {node} of type {type_name(inner)}")
        if isinstance(inner, Struct) and inner.pointer and inner.fields is not None:
            # printableValue indirects a pointer before fmt prints it: {...}, not &{...}
            inner = Struct(inner.type, inner.fields)
        self.out.append(go_sprint(inner))


@dataclass
class Template:
    """A parsed template (text/template's Template with docker/cli's functions)."""

    name: str
    text: str
    root: _List
    defined: dict[str, _List]

    def execute(
        self,
        data: Any,
        *,
        missingkey: str = "default",
        funcs: Mapping[str, _GoFunc] | None = None,
        partial: list[str] | None = None,
    ) -> str:
        """Run the template on ``data``; raises TemplateError with Go's text. ``partial``, when
        given, receives what was written before an error (Go writes as it goes)."""
        state = _State(self, {**DOCKER_FUNCS, **(funcs or {})}, missingkey)
        state.push("$", data)
        try:
            state.walk(data, self.root)
        except TemplateError:
            if partial is not None:
                partial.append("".join(state.out))
            raise
        except RecursionError:
            state.node = None
            raise TemplateError("template: : exceeded maximum template depth") from None
        return "".join(state.out)


def parse(text: str, name: str = "") -> Template:
    """text/template's Parse with docker/cli's functions; raises TemplateError."""
    parser = _Parser(text, name, frozenset(DOCKER_FUNCS))
    try:
        root = parser.parse()
    except RecursionError:
        raise TemplateError(f"template: {name}:1: max expression depth exceeded") from None
    return Template(name, text, root, parser.templates)


# --- text/tabwriter ------------------------------------------------------------------------------


def tabwrite(text: str, minwidth: int = 10, tabwidth: int = 1, padding: int = 3) -> str:
    """Go's text/tabwriter with docker/cli's settings (formatter.go:89, padchar ' ', flags 0)."""
    lines = text.split("\n")
    tail = lines.pop()  # after the last newline: no line yet
    cells = [line.split("\t") for line in lines]
    out: list[str] = []
    start = 0
    # a line of one cell flushes the writer (text/tabwriter's Write)
    for index, row in enumerate(cells):
        if len(row) == 1:
            out.append(_tab_format(cells[start : index + 1], minwidth, padding))
            start = index + 1
    out.append(_tab_format(cells[start:], minwidth, padding))
    return "".join(out) + tail


def _tab_format(lines: list[list[str]], minwidth: int, padding: int) -> str:
    out: list[str] = []
    widths: list[int] = []

    def write_lines(line0: int, line1: int) -> None:
        for row in lines[line0:line1]:
            for j, cell in enumerate(row):
                out.append(cell)
                if j < len(widths):
                    out.append(" " * (widths[j] - len(cell)))
            out.append("\n")

    def fmt(line0: int, line1: int) -> None:
        column = len(widths)
        this = line0
        while this < line1:
            row = lines[this]
            if column >= len(row) - 1:
                this += 1
                continue
            write_lines(line0, this)
            line0 = this
            width = minwidth
            while this < line1:
                row = lines[this]
                if column >= len(row) - 1:
                    break
                width = max(width, len(row[column]) + padding)
                this += 1
            widths.append(width)
            fmt(line0, this)
            widths.pop()
            line0 = this
        write_lines(line0, line1)

    fmt(0, len(lines))
    return "".join(out)


# --- docker/cli's formatter and inspector --------------------------------------------------------


def _pre_format(fmt: str) -> tuple[str, bool]:
    """formatter.Context.preFormat (formatter.go:61-74): (template text, is table)."""
    is_table = fmt.startswith("table")
    if is_table:
        final = fmt[len("table") :]
    elif fmt == "json":
        final = "{{json .}}"
    else:
        final = fmt
    final = final.strip(" ").replace("\\t", "\t").replace("\\n", "\n")
    return final, is_table


def format_list(fmt: str, rows: Sequence[Any], header: Mapping[str, str]) -> str:
    """formatter.Context.Write (formatter.go:116-134): every row through the template, a line
    each; for a ``table`` format the header (the same template on the column names, with the
    header functions) and text/tabwriter. Raises TemplateError with docker/cli's text
    ("template parsing error: ...") for a bad template or a failed row; nothing is printed then.
    """
    final, is_table = _pre_format(fmt)
    try:
        template = parse(final)
    except TemplateError as error:
        raise TemplateError(f"template parsing error: {error}") from None
    body = []
    for row in rows:
        try:
            body.append(template.execute(row) + "\n")
        except TemplateError as error:
            raise TemplateError(f"template parsing error: {error}") from None
    if not is_table:
        return "".join(body)
    header_value = typed("formatter.SubHeaderContext", dict(header), "map[string]string")
    partial: list[str] = []
    try:
        text = template.execute(header_value, funcs=HEADER_FUNCS, partial=partial)
    except TemplateError:
        text = "".join(
            partial
        )  # formatter.go:91 ignores the header's error; what was written stays
    return tabwrite(text + "\n" + "".join(body))


@dataclass(frozen=True)
class InspectResult:
    stdout: str
    errors: tuple[str, ...]


def inspect(fmt: str, elements: Sequence[tuple[Any, Any]]) -> InspectResult:
    """The template part of cli/command/inspect/inspector.go:111-155 for ``--format`` other than
    "" and "json": ``elements`` are (typed Go value, raw JSON value with :class:`Number`s). Each
    element is executed typed first and, when that fails, raw with missingkey=error. Raises
    TemplateError("template parsing error: ...") for a template that does not parse (Docker
    exits 64 then, inspector.go:77-80)."""
    try:
        template = parse(fmt)
    except TemplateError as error:
        raise TemplateError(f"template parsing error: {error}") from None
    out: list[str] = []
    errors: list[str] = []
    for typed_value, raw in elements:
        try:
            out.append(template.execute(typed_value) + "\n")
            continue
        except TemplateError:
            pass
        try:
            out.append(template.execute(raw, missingkey="error") + "\n")
        except TemplateError as error:
            errors.append(f"template parsing error: {error}")
    text = "".join(out) or "\n"
    return InspectResult(text, tuple(errors))


def raw_json(value: Any) -> Any:
    """A JSON value decoded as encoding/json does with UseNumber: numbers stay as written."""
    return _json.loads(_json.dumps(value), parse_int=Number, parse_float=Number)


# --- docker's Go types ---------------------------------------------------------------------------

# cli/command/formatter/image.go:197-209
IMAGE_HEADER = {
    "ID": "IMAGE ID",
    "Repository": "REPOSITORY",
    "Tag": "TAG",
    "Digest": "DIGEST",
    "CreatedSince": "CREATED",
    "CreatedAt": "CREATED AT",
    "Size": "SIZE",
    "Containers": "CONTAINERS",
    "VirtualSize": "SIZE",
    "SharedSize": "SHARED SIZE",
    "UniqueSize": "UNIQUE SIZE",
}
# cli/command/formatter/image.go:14-15
DEFAULT_IMAGE_TABLE = (
    "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t"
    "{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}"
)
DEFAULT_IMAGE_TABLE_DIGEST = (
    "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t"
    "{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}"
)
# cli/command/registry/formatter_search.go:12,40-45
DEFAULT_SEARCH_TABLE = "table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}"
SEARCH_HEADER = {
    "Name": "NAME",
    "Description": "DESCRIPTION",
    "StarCount": "STARS",
    "IsOfficial": "OFFICIAL",
}


def image_format(source: str, *, quiet: bool, digest: bool) -> str:
    """formatter.NewImageFormat (cli/command/formatter/image.go:37-75)."""
    if source == "table":
        if quiet:
            return "{{.ID}}"
        return DEFAULT_IMAGE_TABLE_DIGEST if digest else DEFAULT_IMAGE_TABLE
    if source == "raw":
        if quiet:
            return "image_id: {{.ID}}"
        if digest:
            return (
                "repository: {{ .Repository }}\ntag: {{.Tag}}\ndigest: {{.Digest}}\n"
                "image_id: {{.ID}}\ncreated_at: {{.CreatedAt}}\nvirtual_size: {{.Size}}\n"
            )
        return (
            "repository: {{ .Repository }}\ntag: {{.Tag}}\nimage_id: {{.ID}}\n"
            "created_at: {{.CreatedAt}}\nvirtual_size: {{.Size}}\n"
        )
    if source.startswith("table") and digest and "{{.Digest}}" not in source:
        return source + "\t{{.Digest}}"
    return source


def truncate_id(image_id: str) -> str:
    """stringid.TruncateID: drop the algorithm, keep 12 characters."""
    return image_id.partition(":")[2][:12] if ":" in image_id else image_id[:12]


def _header_value(header: Mapping[str, str]) -> Typed:
    return typed("formatter.SubHeaderContext", dict(header), "map[string]string")


def image_context(
    *,
    image_id: str,
    repo: str,
    tag: str,
    digest: str,
    created_since: str,
    created_at: str,
    size: str,
    virtual_size: str,
    trunc: bool = True,
    containers: str = "N/A",
    shared_size: str = "N/A",
    unique_size: str = "N/A",
) -> Struct:
    """A row of ``docker images``: *formatter.imageContext (formatter/image.go:186-282)."""
    methods: dict[str, Callable[[], Any]] = {
        "ID": lambda: truncate_id(image_id) if trunc else image_id,
        "Repository": lambda: repo,
        "Tag": lambda: tag,
        "Digest": lambda: digest,
        "CreatedSince": lambda: created_since,
        "CreatedAt": lambda: created_at,
        "Size": lambda: size,
        "Containers": lambda: containers,
        "VirtualSize": lambda: virtual_size,
        "SharedSize": lambda: shared_size,
        "UniqueSize": lambda: unique_size,
        "FullHeader": lambda: _Iface(None),  # rows carry no header (only the header context)
    }
    marshalled = {name: methods[name]() for name in sorted(methods) if name != "FullHeader"}
    header = Struct("formatter.HeaderContext", {"Header": _Iface(None)})
    return Struct(
        "formatter.imageContext",
        {"HeaderContext": header},
        pointer=True,
        methods=methods,
        unexported=frozenset({"trunc", "i", "repo", "tag", "digest"}),
        embedded={"Header": _Iface(None)},
        json=lambda: marshalled,
        json_escapes_html=True,
    )


def search_context(
    *, name: str, description: str, star_count: int, is_official: bool, trunc: bool = True
) -> Struct:
    """A row of ``docker search``: *registry.searchContext (formatter_search.go:49-93)."""
    shown = description.replace("\n", " ").replace("\r", " ")
    if trunc:
        shown = ellipsis(shown, 45)
    methods: dict[str, Callable[[], Any]] = {
        "Name": lambda: name,
        "Description": lambda: shown,
        "StarCount": lambda: str(star_count),
        "IsOfficial": lambda: "[OK]" if is_official else "",
        "FullHeader": lambda: _Iface(None),  # rows carry no header (only the header context)
    }
    marshalled = {
        "Description": shown,
        "IsOfficial": "true" if is_official else "false",
        "Name": name,
        "StarCount": str(star_count),
    }
    header = Struct("formatter.HeaderContext", {"Header": _Iface(None)})
    return Struct(
        "registry.searchContext",
        {"HeaderContext": header},
        pointer=True,
        methods=methods,
        unexported=frozenset({"trunc", "json", "s"}),
        embedded={"Header": _Iface(None)},
        json=lambda: marshalled,
        json_escapes_html=True,
    )


def ellipsis(text: str, max_width: int) -> str:
    """formatter.Ellipsis (cli/command/formatter/displayutils.go): cut to a display width,
    ending with "…"."""
    if max_width <= 0:
        return ""
    if len(text) <= max_width:
        return text
    if max_width == 1:
        return text[0]
    return text[: max_width - 1] + "…"


def _strings(value: Any) -> Typed:
    return Typed("[]string", None if value is None else list(value))


def _go_time(text: str) -> Time:
    """A time.Time from RFC 3339 JSON text."""
    if not text:
        return Time("0001-01-01 00:00:00 +0000 UTC", "0001-01-01T00:00:00Z")
    stamp = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    fraction = f".{stamp.microsecond:06d}".rstrip("0").rstrip(".") if stamp.microsecond else ""
    shown = f"{stamp.year:04d}-" + stamp.strftime("%m-%d %H:%M:%S") + fraction + " +0000 UTC"
    return Time(shown, text)


def image_inspect_value(raw: Mapping[str, Any]) -> Struct:
    """The typed element of ``docker image inspect``: image.InspectResponse as the CLI decodes
    the daemon's JSON (moby api/types/image/image_inspect.go at v28.2.2)."""
    config = raw.get("Config")
    graph = raw.get("GraphDriver") or {}
    rootfs = raw.get("RootFS") or {}
    metadata = raw.get("Metadata") or {}
    config_value = Struct("v1.DockerOCIImageConfig", None, pointer=True)
    if isinstance(config, Mapping):
        image_config = {
            "User": config.get("User", ""),
            "ExposedPorts": Typed("map[string]struct {}", config.get("ExposedPorts")),
            "Env": _strings(config.get("Env")),
            "Entrypoint": _strings(config.get("Entrypoint")),
            "Cmd": _strings(config.get("Cmd")),
            "Volumes": Typed("map[string]struct {}", config.get("Volumes")),
            "WorkingDir": config.get("WorkingDir", ""),
            "Labels": Typed("map[string]string", config.get("Labels")),
            "StopSignal": config.get("StopSignal", ""),
            "ArgsEscaped": bool(config.get("ArgsEscaped", False)),
        }
        ext = {
            "Healthcheck": Struct("v1.HealthcheckConfig", None, pointer=True),
            "OnBuild": _strings(config.get("OnBuild")),
            "Shell": _strings(config.get("Shell")),
        }
        config_json = {k: config[k] for k in (*image_config, *ext) if config.get(k)}
        config_value = Struct(
            "v1.DockerOCIImageConfig",
            {
                "ImageConfig": Struct("v1.ImageConfig", image_config),
                "DockerOCIImageConfigExt": Struct("v1.DockerOCIImageConfigExt", ext),
            },
            pointer=True,
            embedded={**image_config, **ext},
            json=lambda: config_json,
        )
    last_tag = _go_time(str(metadata.get("LastTagTime") or ""))
    fields: dict[str, Any] = {
        "ID": raw.get("Id", ""),
        "RepoTags": _strings(raw.get("RepoTags")),
        "RepoDigests": _strings(raw.get("RepoDigests")),
        "Parent": raw.get("Parent", ""),
        "Comment": raw.get("Comment", ""),
        "Created": raw.get("Created", ""),
        "Container": raw.get("Container", ""),
        "ContainerConfig": Struct("container.Config", None, pointer=True),
        "DockerVersion": raw.get("DockerVersion", ""),
        "Author": raw.get("Author", ""),
        "Config": config_value,
        "Architecture": raw.get("Architecture", ""),
        "Variant": raw.get("Variant", ""),
        "Os": raw.get("Os", ""),
        "OsVersion": raw.get("OsVersion", ""),
        "Size": Typed("int64", int(raw.get("Size", 0))),
        "VirtualSize": Typed("int64", int(raw.get("VirtualSize", 0))),
        "GraphDriver": Struct(
            "storage.DriverData",
            {"Data": Typed("map[string]string", graph.get("Data")), "Name": graph.get("Name", "")},
        ),
        "RootFS": Struct(
            "image.RootFS",
            {"Type": rootfs.get("Type", ""), "Layers": _strings(rootfs.get("Layers"))},
        ),
        "Metadata": Struct("image.Metadata", {"LastTagTime": last_tag}),
        "Descriptor": Struct("v1.Descriptor", None, pointer=True),
        "Manifests": Typed("[]image.ManifestSummary", None),
    }
    return Struct("image.InspectResponse", fields, json=lambda: dict(raw))


# cli/command/image/formatter_history.go:14-21,41-55
HISTORY_HEADER = {
    "ID": "IMAGE",
    "CreatedSince": "CREATED",
    "CreatedAt": "CREATED AT",
    "CreatedBy": "CREATED BY",
    "Size": "SIZE",
    "Comment": "COMMENT",
}
DEFAULT_HISTORY_TABLE = "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
NON_HUMAN_HISTORY_TABLE = "table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"


def history_format(source: str, *, quiet: bool, human: bool) -> str:
    """NewHistoryFormat (formatter_history.go:23-35)."""
    if source == "table":
        if quiet:
            return "{{.ID}}"
        return DEFAULT_HISTORY_TABLE if human else NON_HUMAN_HISTORY_TABLE
    return source


def history_context(
    *,
    image_id: str,
    created_since: str,
    created_at: str,
    created_by: str,
    size: str,
    comment: str,
    human: bool = True,
    trunc: bool = True,
) -> Struct:
    """A row of ``docker history``: *image.historyContext (formatter_history.go:57-110);
    ``created_at`` is RFC 3339, ``size`` already human or not."""
    shown_by = created_by.replace("\t", " ")
    if trunc:
        shown_by = ellipsis(shown_by, 45)
    methods: dict[str, Callable[[], Any]] = {
        "ID": lambda: truncate_id(image_id) if trunc else image_id,
        "CreatedAt": lambda: created_at,
        "CreatedSince": lambda: created_since if human else created_at,
        "CreatedBy": lambda: shown_by,
        "Size": lambda: size,
        "Comment": lambda: comment,
        "FullHeader": lambda: _Iface(None),
    }
    marshalled = {name: methods[name]() for name in sorted(methods) if name != "FullHeader"}
    return Struct(
        "image.historyContext",
        {"HeaderContext": Struct("formatter.HeaderContext", {"Header": _Iface(None)})},
        pointer=True,
        methods=methods,
        unexported=frozenset({"trunc", "human", "h"}),
        embedded={"Header": _Iface(None)},
        json=lambda: marshalled,
        json_escapes_html=True,
    )
