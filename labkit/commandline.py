"""Parse a ``docker ...`` command line exactly like the Docker 28.2.2 CLI (cobra + pflag).

This is the client's own side only: help texts, usage errors and flag parsing, decided before
Docker would talk to a daemon. Nothing here talks to the engine; :mod:`labkit.shell` carries out
an :class:`Invocation` and prints the result.

What Docker does, and labkit with it (every case recorded with the real client, see
``tests/data/docker-cli/``):

- Global options (``-D``, ``--config DIR``, ``-l LEVEL`` ...) come before the command only;
  ``--flag=value``, ``--flag value``, ``-u value``, ``-uvalue``, ``-u=value`` and combined
  booleans ``-aq`` work as in pflag; ``--`` ends the flags; flags after positional arguments are
  still flags (except for ``tag``, whose arguments after the first are all arguments).
- Flag errors print the error, the usage line and exit 125; wrong argument counts exit 1; an
  unknown command exits 1; ``--help`` (even after other arguments) prints the help on stdout.

Deliberate differences, all about things outside Docker's own CLI:

- The line is split like a POSIX shell (:func:`shlex.split`; ``#`` starts a comment at the
  start of a word outside quotes, as in bash: :func:`split_comment`); no variables, globs or
  pipes. A quoting error prints ``labkit: ...`` and exits 2 (as a shell's
  syntax error does).
- A line that is not ``docker ...`` prints ``labkit: X: command not found ...`` and exits 127, as
  a shell does for an unknown program; an empty line prints nothing and exits 0.
- Docker commands that labkit does not simulate (``run``, ``ps``, ``build`` ...) print a
  ``labkit: ...`` message naming the simulated commands and exit 1.
- The client configuration directory shown in help texts is ``/home/student/.docker``
  (:data:`CONFIG_DIR`), what Docker prints for a user whose HOME is ``/home/student``.
- ``-h`` (deprecated in Docker) prints its deprecation notice once per ``-h``; Docker repeats it
  in some odd positions (``docker image -h pull`` prints it three times).

This module is long because it is one port of the cobra and pflag rules docker/cli parses every
command line with (flags, groups, help, usage errors); split, the rules would be apart where
upstream keeps them together.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any, cast

__all__ = [
    "CLIENT_VERSION",
    "CONFIG_DIR",
    "SUPPORTED_COMMANDS",
    "Invocation",
    "Output",
    "help_text",
    "parse_command_line",
    "split_comment",
]

CLIENT_VERSION = "Docker version 28.2.2, build e6534b4"
CONFIG_DIR = "/home/student/.docker"

_HELP_DEPRECATED = "Flag shorthand -h has been deprecated, use --help\n"
_ROOT_USE = "docker [OPTIONS] COMMAND [ARG...]"
_LOG_LEVELS = frozenset({"panic", "fatal", "error", "warn", "warning", "info", "debug", "trace"})


@dataclass(frozen=True)
class Invocation:
    """A command line the CLI accepted: what the engine must carry out.

    ``flags`` maps every flag of the command (long name, no dashes) to its value, defaults filled
    in: ``bool``, ``str``, ``int`` or, for repeatable flags (``--filter``, ``--platform`` of rmi),
    a ``list[str]``; filters are normalized as Docker does (``name=value``, name lower-cased, both
    trimmed; an empty ``--filter=`` is dropped). ``global_flags`` holds the global options given
    before the command (long names, only those given).
    """

    command: str  # canonical name, e.g. "image pull"
    typed: str  # how the user typed it, e.g. "pull" or "image pull"
    flags: Mapping[str, object]
    args: tuple[str, ...]
    global_flags: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    given: frozenset[str] = frozenset()  # the flags typed on the line (pflag's Changed)


@dataclass(frozen=True)
class Output:
    """What the CLI prints on its own, without a daemon (help, usage errors)."""

    stdout: str
    stderr: str
    exit_code: int


# --- flags ---------------------------------------------------------------------------------------


class _FlagError(Exception):
    """A pflag parse error; ``str()`` is pflag's text."""


@dataclass(frozen=True)
class _Flag:
    name: str
    kind: str  # "bool", "string", "int", "list", "filter"
    short: str = ""
    default: object = None

    @property
    def label(self) -> str:
        """How pflag names the flag in "invalid argument" errors."""
        if self.short and self.name != "help":  # help's shorthand is deprecated
            return f"-{self.short}, --{self.name}"
        return f"--{self.name}"


_HELP_FLAG = _Flag("help", "bool", "h", False)


def _bool(name: str, short: str = "", default: bool = False) -> _Flag:
    return _Flag(name, "bool", short, default)


def _string(name: str, short: str = "") -> _Flag:
    return _Flag(name, "string", short, "")


_PLATFORM = _string("platform")
_FORMAT_F = _string("format", "f")
_FILTER = _Flag("filter", "filter", "f", ())
_GLOBAL_FLAGS = (
    _string("config"),
    _string("context", "c"),
    _bool("debug", "D"),
    _Flag("host", "list", "H", ()),
    _Flag("log-level", "string", "l", "info"),
    _bool("tls"),
    _string("tlscacert"),
    _string("tlscert"),
    _string("tlskey"),
    _bool("tlsverify"),
    _bool("version", "v"),
)


@dataclass(frozen=True)
class _Command:
    """One leaf command of Docker's CLI, as cobra defines it."""

    path: str  # canonical, e.g. "image ls"
    nargs: tuple[str, int]  # ("exact" | "min" | "max", n)
    flags: tuple[_Flag, ...] = ()
    interspersed: bool = True


_COMMANDS: dict[str, _Command] = {
    c.path: c
    for c in (
        _Command(
            "image pull",
            ("exact", 1),
            (
                _bool("all-tags", "a"),
                _bool("disable-content-trust", default=True),
                _PLATFORM,
                _bool("quiet", "q"),
            ),
        ),
        _Command(
            "image push",
            ("exact", 1),
            (
                _bool("all-tags", "a"),
                _bool("disable-content-trust", default=True),
                _PLATFORM,
                _bool("quiet", "q"),
            ),
        ),
        _Command("image tag", ("exact", 2), interspersed=False),
        _Command(
            "image ls",
            ("max", 1),
            (
                _bool("all", "a"),
                _bool("digests"),
                _FILTER,
                _string("format"),
                _bool("no-trunc"),
                _bool("quiet", "q"),
                _bool("tree"),
            ),
        ),
        _Command(
            "image rm",
            ("min", 1),
            (_bool("force", "f"), _bool("no-prune"), _Flag("platform", "list", "", ())),
        ),
        _Command("image inspect", ("min", 1), (_FORMAT_F, _PLATFORM)),
        _Command(
            "image history",
            ("exact", 1),
            (
                _string("format"),
                _bool("human", "H", default=True),
                _bool("no-trunc"),
                _PLATFORM,
                _bool("quiet", "q"),
            ),
        ),
        _Command("inspect", ("min", 1), (_FORMAT_F, _bool("size", "s"), _string("type"))),
        _Command(
            "login",
            ("max", 1),
            (_string("password", "p"), _bool("password-stdin"), _string("username", "u")),
        ),
        _Command("logout", ("max", 1)),
        _Command(
            "search",
            ("exact", 1),
            (_FILTER, _string("format"), _Flag("limit", "int", "", 0), _bool("no-trunc")),
        ),
        _Command("version", ("max", 0), (_FORMAT_F,)),
    )
}

# The names cobra knows, per level: name as typed -> canonical path.
_IMAGE_SUBCOMMANDS = {
    "pull": "image pull",
    "push": "image push",
    "tag": "image tag",
    "ls": "image ls",
    "list": "image ls",
    "rm": "image rm",
    "remove": "image rm",
    "inspect": "image inspect",
    "history": "image history",
}
_TOP_LEVEL = {
    "pull": "image pull",
    "push": "image push",
    "tag": "image tag",
    "images": "image ls",
    "rmi": "image rm",
    "history": "image history",
    "inspect": "inspect",
    "login": "login",
    "logout": "logout",
    "search": "search",
    "version": "version",
}
# Docker commands labkit does not simulate (from `docker --help` and `docker image --help`).
_OTHER_TOP_LEVEL = frozenset(
    {
        "run",
        "exec",
        "ps",
        "build",
        "info",
        "builder",
        "checkpoint",
        "container",
        "context",
        "manifest",
        "network",
        "plugin",
        "system",
        "trust",
        "volume",
        "config",
        "node",
        "secret",
        "service",
        "stack",
        "swarm",
        "attach",
        "commit",
        "cp",
        "create",
        "diff",
        "events",
        "export",
        "import",
        "kill",
        "load",
        "logs",
        "pause",
        "port",
        "rename",
        "restart",
        "rm",
        "save",
        "start",
        "stats",
        "stop",
        "top",
        "unpause",
        "update",
        "wait",
    }
)
_OTHER_IMAGE = frozenset({"build", "import", "load", "prune", "save"})

SUPPORTED_COMMANDS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "image pull": ("image pull", "pull"),
        "image push": ("image push", "push"),
        "image tag": ("image tag", "tag"),
        "image ls": ("image ls", "image list", "images"),
        "image rm": ("image rm", "image remove", "rmi"),
        "image inspect": ("image inspect",),
        "image history": ("image history", "history"),
        "inspect": ("inspect",),
        "login": ("login",),
        "logout": ("logout",),
        "search": ("search",),
        "version": ("version",),
        "help": ("help", "--help", "-h"),
    }
)
"""Canonical command -> the ways to type it. ``help`` always gives an :class:`Output`."""


# --- pflag ---------------------------------------------------------------------------------------


def _go_quote(text: str) -> str:
    """Go's ``%q`` of a string (strconv.Quote), for the texts pflag prints."""
    escapes = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
    escapes |= {"\v": "\\v", "\\": "\\\\", '"': '\\"'}
    out = []
    for char in text:
        if char in escapes:
            out.append(escapes[char])
        elif char.isprintable():
            out.append(char)
        elif ord(char) < 0x80:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) < 0x10000:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return '"' + "".join(out) + '"'


def _go_quote_rune(char: str) -> str:
    """Go's ``%q`` of a rune."""
    return "'" + _go_quote(char)[1:-1].replace('\\"', '"').replace("'", "\\'") + "'"


_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})


def _parse_bool(text: str) -> bool:
    """Go's strconv.ParseBool."""
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"strconv.ParseBool: parsing {_go_quote(text)}: invalid syntax")


def _underscore_ok(text: str) -> bool:
    """Go's strconv.underscoreOK: underscores only between digits (base-0 parsing)."""
    saw, i = "^", 0
    if text[:1] in ("+", "-"):
        text = text[1:]
    hexadecimal = False
    if len(text) >= 2 and text[0] == "0" and text[1].lower() in "box":
        i, saw, hexadecimal = 2, "0", text[1].lower() == "x"
    for char in text[i:]:
        if char.isascii() and (char.isdigit() or (hexadecimal and char.lower() in "abcdef")):
            saw = "0"
        elif char == "_":
            if saw != "0":
                return False
            saw = "_"
        elif saw == "_":
            return False
        else:
            saw = "!"
    return saw != "_"


def _parse_int(text: str) -> int:
    """Go's strconv.ParseInt(text, 0, 64), with its error texts."""
    syntax = ValueError(f"strconv.ParseInt: parsing {_go_quote(text)}: invalid syntax")
    out_of_range = ValueError(f"strconv.ParseInt: parsing {_go_quote(text)}: value out of range")
    digits, negative = text, False
    if digits[:1] in ("+", "-"):
        negative, digits = digits[0] == "-", digits[1:]
    if not digits:
        raise syntax
    base, body = 10, digits
    if digits[0] == "0":
        prefix = digits[1:2].lower()
        if len(digits) >= 3 and prefix in ("b", "o", "x"):
            base, body = {"b": 2, "o": 8, "x": 16}[prefix], digits[2:]
        else:
            base, body = 8, digits[1:]
    value, underscores = 0, False
    for char in body:
        if char == "_":
            underscores = True
            continue
        digit = int(char, 36) if char.isascii() and char.isalnum() else 99
        if digit >= base:
            raise syntax
        value = value * base + digit
        if value >= 1 << 64:
            raise out_of_range
    if underscores and not _underscore_ok(text):
        raise syntax
    if value > (1 << 63) - (0 if negative else 1):
        raise out_of_range
    return -value if negative else value


def _normalize_filter(text: str) -> str | None:
    """docker/cli opts.FilterOpt.Set: ``name=value`` with the name lower-cased, both trimmed."""
    if text == "":
        return None
    if "=" not in text:
        raise ValueError("bad format of filter (expected name=value)")
    name, value = text.split("=", 1)
    return f"{name.strip().lower()}={value.strip()}"


def _read_csv(text: str) -> list[str]:
    """pflag's stringSlice value: one record of Go's encoding/csv (readAsCSV), its errors as
    csv.ParseError words them (columns 1-based); an empty value is no element."""
    if text == "":
        return []
    fields: list[str] = []
    col, rest = 1, text
    while True:
        if not rest.startswith('"'):
            field, comma, after = rest.partition(",")
            if '"' in field:
                where = col + len(field[: field.index('"')].encode())
                raise ValueError(
                    f'parse error on line 1, column {where}: bare " in non-quoted-field'
                )
            fields.append(field)
            if not comma:
                return fields
            col, rest = col + len(field.encode()) + 1, after
            continue
        value, rest, col = "", rest[1:], col + 1
        while True:
            quote = rest.find('"')
            if quote < 0:
                col += len(rest.encode())
                raise ValueError(
                    f'parse error on line 1, column {col}: extraneous or missing " in quoted-field'
                )
            value += rest[:quote]
            col += len(rest[:quote].encode()) + 1
            rest = rest[quote + 1 :]
            if rest.startswith('"'):
                value, rest, col = value + '"', rest[1:], col + 1
            elif rest.startswith(","):
                fields.append(value)
                rest, col = rest[1:], col + 1
                break
            elif rest == "":
                fields.append(value)
                return fields
            else:
                raise ValueError(
                    f'parse error on line 1, column {col - 1}: extraneous or missing " in '
                    "quoted-field"
                )


@dataclass
class _Parsed:
    values: dict[str, object]
    given: dict[str, object]
    args: list[str]
    help_shorthands: int = 0


def _set(flag: _Flag, text: str, parsed: _Parsed) -> None:
    try:
        if flag.kind == "bool":
            value: object = _parse_bool(text)
        elif flag.kind == "int":
            value = _parse_int(text)
        elif flag.kind == "filter":
            normalized = _normalize_filter(text)
            previous = list(cast("list[str]", parsed.values[flag.name]))
            value = previous if normalized is None else [*previous, normalized]
        elif flag.kind == "list":
            previous = list(cast("list[str]", parsed.values[flag.name]))
            value = [*previous, *_read_csv(text)] if flag.name == "platform" else [*previous, text]
        else:
            value = text
    except ValueError as error:
        raise _FlagError(
            f"invalid argument {_go_quote(text)} for {_go_quote(flag.label)} flag: {error}"
        ) from None
    parsed.values[flag.name] = value
    parsed.given[flag.name] = value


def _parse_flags(args: list[str], flags: tuple[_Flag, ...], interspersed: bool) -> _Parsed:
    """pflag's FlagSet.Parse: flags to values (defaults filled), the rest as positionals."""
    by_name = {flag.name: flag for flag in flags}
    by_short = {flag.short: flag for flag in flags if flag.short}
    parsed = _Parsed(
        {f.name: list(f.default) if isinstance(f.default, tuple) else f.default for f in flags},
        {},
        [],
    )
    remaining = list(args)
    while remaining:
        arg = remaining.pop(0)
        if len(arg) < 2 or arg[0] != "-":
            if not interspersed:
                parsed.args += [arg, *remaining]
                break
            parsed.args.append(arg)
            continue
        if arg == "--":
            parsed.args += remaining
            break
        if arg[1] == "-":
            _parse_long(arg, remaining, by_name, parsed)
        else:
            _parse_shorts(arg[1:], remaining, by_short, parsed)
    return parsed


def _parse_long(arg: str, remaining: list[str], by_name: dict[str, _Flag], parsed: _Parsed) -> None:
    name = arg[2:]
    if not name or name[0] in "-=":
        raise _FlagError(f"bad flag syntax: {arg}")
    name, has_value, value = name.partition("=")
    flag = by_name.get(name)
    if flag is None:
        raise _FlagError(f"unknown flag: --{name}")
    if not has_value:
        if flag.kind == "bool":
            value = "true"
        elif remaining:
            value = remaining.pop(0)
        else:
            raise _FlagError(f"flag needs an argument: {arg}")
    _set(flag, value, parsed)


def _parse_shorts(
    shorthands: str, remaining: list[str], by_short: dict[str, _Flag], parsed: _Parsed
) -> None:
    while shorthands:
        char = shorthands[0]
        flag = by_short.get(char)
        if flag is None:
            raise _FlagError(f"unknown shorthand flag: {_go_quote_rune(char)} in -{shorthands}")
        if len(shorthands) > 2 and shorthands[1] == "=":
            value, shorthands = shorthands[2:], ""
        elif flag.kind == "bool":
            value, shorthands = "true", shorthands[1:]
        elif len(shorthands) > 1:
            value, shorthands = shorthands[1:], ""
        elif remaining:
            value, shorthands = remaining.pop(0), ""
        else:
            raise _FlagError(f"flag needs an argument: {_go_quote_rune(char)} in -{shorthands}")
        if flag.name == "help":
            parsed.help_shorthands += 1
        _set(flag, value, parsed)


# --- help texts and messages ---------------------------------------------------------------------


@cache
def _help_data() -> dict[str, Any]:
    text = resources.files("labkit").joinpath("data/docker_help.json").read_text("utf-8")
    return json.loads(text)


def _use(path: str) -> str:
    commands: dict[str, dict[str, str]] = _help_data()["commands"]
    return commands[path]["use"]


def _usage_line(typed_path: str, canonical: str) -> str:
    """The usage line cobra prints: the command's path as typed at the top level, then its use."""
    return f"docker {typed_path} {_use(canonical)}"


def _command_path(typed: str, canonical: str) -> str:
    """cobra's CommandPath: the typed top-level name, or ``image <canonical name>``."""
    return canonical if typed.startswith("image ") else typed


def help_text(command: str) -> str:
    """The exact ``--help`` text of ``command``.

    ``command`` is a canonical name or a typed form ("image pull", "pull", "images", "image
    list", ...), "image" for the management command, "docker" (or "") for ``docker --help``.
    Raises KeyError for commands labkit has no help text for.
    """
    data = _help_data()
    words = " ".join(command.split())
    words = words.removeprefix("docker").strip()
    if not words:
        return str(data["root"])
    if words == "image":
        return str(data["groups"]["image"])
    if words.startswith("image "):
        canonical = _IMAGE_SUBCOMMANDS.get(words[6:], words)
    else:
        canonical = _TOP_LEVEL.get(words, words)
    commands: dict[str, dict[str, str]] = data["commands"]
    if canonical not in commands:
        raise KeyError(command)
    path = _command_path(words, canonical)
    return f"Usage:  docker {path} {commands[canonical]['use']}\n{commands[canonical]['body']}"


def _flag_error(error: _FlagError, usage: str, command_path: str) -> Output:
    """Docker's FlagErrorFunc: the error, the usage line, exit 125."""
    run = f"docker {command_path}".rstrip()
    text = f"{error}\n\nUsage:  {usage}\n\nRun '{run} --help' for more information\n"
    return Output("", text, 125)


def _args_error(command: _Command, path: str, count: int) -> Output | None:
    """docker/cli's positional-argument checks (cli/required.go), or None when the count fits."""
    rule, n = command.nargs
    plural = "argument" if n == 1 else "arguments"
    if rule == "exact" and count != n:
        message, see = f"requires {n} {plural}", "Run"
    elif rule == "min" and count < n:
        message, see = f"requires at least {n} {plural}", "See"
    elif rule == "max" and n == 0 and count > 0:
        message, see = "accepts no arguments", "Run"
    elif rule == "max" and count > n:
        message, see = f"requires at most {n} {plural}", "SRun"  # sic: Docker 28.2.2 prints "SRun"
    else:
        return None
    usage = _usage_line(path, command.path)
    return Output(
        "",
        f"docker: 'docker {path}' {message}\n\nUsage:  {usage}\n\n"
        f"{see} 'docker {path} --help' for more information\n",
        1,
    )


def _not_simulated(typed: str) -> Output:
    simulated = "pull, push, tag, images, rmi, inspect, history, login, logout, search, version"
    return Output(
        "",
        f"labkit: 'docker {typed}' is a real Docker command that labkit does not simulate.\n"
        f"labkit simulates: docker {simulated} (and their 'docker image ...' forms).\n"
        "Run 'docker --help' for more information\n",
        1,
    )


def _help_output(text: str, help_shorthands: int, notice_on_stderr: bool = False) -> Output:
    notices = _HELP_DEPRECATED * help_shorthands
    if notice_on_stderr:
        return Output(text, notices, 0)
    return Output(notices + text, "", 0)


# --- the command line ----------------------------------------------------------------------------


def split_comment(line: str) -> tuple[str, str]:
    """(line without its comment, the comment with the blanks before it): as in bash, ``#``
    starts a comment only at the start of a word outside quotes (``{{.ID}}#x`` is one word)."""
    quote = ""
    escaped = False
    word_start = True
    for index, char in enumerate(line):
        at_start, word_start = word_start, False
        if escaped:
            escaped = False
        elif quote:
            if char == quote:
                quote = ""
            elif char == "\\" and quote == '"':
                escaped = True
        elif char == "\\":
            escaped = True
        elif char in "'\"":
            quote = char
        elif char.isspace():
            word_start = True
        elif char == "#" and at_start:
            body = line[:index].rstrip()
            return body, line[len(body) :]
    return line, ""


def parse_command_line(line: str) -> Invocation | Output:
    """Parse ``line`` (starting with ``docker``) into an Invocation, or the Output Docker prints.

    Help (``docker --help``, ``docker X --help``, ``docker help X``, ``docker`` alone) and usage
    errors give an :class:`Output` with Docker's exact text and exit code; see the module
    docstring for what happens to lines that are not ``docker`` commands.
    """
    try:
        words = shlex.split(split_comment(line)[0])
    except ValueError as error:
        reason = str(error).rstrip(".")
        return Output("", f"labkit: cannot split the command line: {reason}\n", 2)
    if not words:
        return Output("", "", 0)
    if words[0] != "docker":
        return Output(
            "",
            f"labkit: {words[0]}: command not found (labkit simulates the docker command "
            "only; try 'docker --help')\n",
            127,
        )
    return _parse_docker(words[1:])


def _parse_docker(args: list[str]) -> Invocation | Output:
    root_flags = (*_GLOBAL_FLAGS, _HELP_FLAG)
    try:
        parsed = _parse_flags(args, root_flags, interspersed=False)
    except _FlagError as error:
        return _flag_error(error, _ROOT_USE, "")
    level = str(parsed.values["log-level"])
    if level.lower() not in _LOG_LEVELS:
        return Output("", f"Unable to parse logging level: {level}\n", 1)
    global_flags = MappingProxyType(dict(parsed.given))
    wants_help = bool(parsed.values["help"])
    notices = parsed.help_shorthands
    rest = parsed.args
    root_help = help_text("docker")
    if not rest:
        if wants_help:
            return _help_output(root_help, notices, notice_on_stderr=True)
        if parsed.values["version"]:
            return Output(CLIENT_VERSION + "\n", "", 0)
        return Output("", _HELP_DEPRECATED * notices + root_help, 0)
    name, rest = rest[0], rest[1:]
    if name == "help" and not wants_help:
        return _parse_help_command(rest)
    if name == "image":
        return _parse_image_group(rest, wants_help, notices)
    canonical = _TOP_LEVEL.get(name)
    if canonical is not None:
        return _parse_leaf(_COMMANDS[canonical], name, rest, wants_help, notices, 0, global_flags)
    if name == "help":
        return _help_output(help_text("help"), notices, notice_on_stderr=True)
    if name in _OTHER_TOP_LEVEL:
        if name == "info" and (wants_help or "--help" in rest or "-h" in rest):
            return _help_output(help_text("info"), notices, notice_on_stderr=True)
        return _not_simulated(name)
    return _unknown_top_level(name, rest, wants_help, notices, bool(parsed.values["version"]))


def _unknown_top_level(
    name: str, rest: list[str], wants_help: bool, notices: int, version: bool
) -> Output:
    """cobra runs the root command with the unknown word as an argument."""
    root_help = help_text("docker")
    if wants_help:
        return _help_output(root_help, notices, notice_on_stderr=True)
    try:
        parsed = _parse_flags(rest, (*_GLOBAL_FLAGS, _HELP_FLAG), interspersed=True)
    except _FlagError as error:
        return _flag_error(error, _ROOT_USE, "")
    if parsed.values["help"]:
        return _help_output(root_help, parsed.help_shorthands)
    if version or parsed.values["version"]:
        return Output(CLIENT_VERSION + "\n", "", 0)
    return Output(
        "",
        f"docker: unknown command: docker {name}\n\nRun 'docker --help' for more information\n",
        1,
    )


def _parse_image_group(args: list[str], wants_help: bool, notices: int) -> Invocation | Output:
    """``docker image ...``: cobra's Traverse collects the flags before the subcommand."""
    group_help = help_text("image")
    leading: list[str] = []
    index = 0
    while index < len(args) and len(args[index]) > 1 and args[index].startswith("-"):
        if args[index] == "--":
            break
        leading.append(args[index])
        index += 1
    try:
        group = _parse_flags(leading, (_HELP_FLAG,), interspersed=True)
    except _FlagError as error:
        return _flag_error(error, "docker image", "image")
    wants_help = wants_help or bool(group.values["help"])
    name = args[index] if index < len(args) else None
    canonical = _IMAGE_SUBCOMMANDS.get(name or "")
    if name is not None and canonical is not None:
        command = _COMMANDS[canonical]
        typed, rest = f"image {name}", args[index + 1 :]
        # Docker parses the flags before the subcommand three times: -h there warns thrice.
        return _parse_leaf(command, typed, rest, wants_help, notices, 3 * group.help_shorthands, {})
    if name is not None and name in _OTHER_IMAGE:
        return _not_simulated(f"image {name}")
    try:
        parsed = _parse_flags(args, (_HELP_FLAG,), interspersed=True)
    except _FlagError as error:
        return _flag_error(error, "docker image", "image")
    if wants_help or parsed.values["help"]:
        notice = _HELP_DEPRECATED
        return Output(notice * parsed.help_shorthands + group_help, notice * notices, 0)
    if not parsed.args:
        return Output("", group_help, 0)
    return Output(
        "",
        f"docker: unknown command: docker image {parsed.args[0]}\n\nUsage:  docker image\n\n"
        "Run 'docker image --help' for more information\n",
        1,
    )


def _parse_help_command(args: list[str]) -> Output:
    """``docker help [command]``."""
    try:
        parsed = _parse_flags(args, (_HELP_FLAG,), interspersed=True)
    except _FlagError as error:
        return _flag_error(error, "docker help [command]", "help")
    if parsed.values["help"]:
        return _help_output(help_text("help"), parsed.help_shorthands)
    topic = parsed.args
    if not topic:
        return Output(help_text("docker"), "", 0)
    if topic[0] == "image":
        if len(topic) == 1:
            return Output(help_text("image"), "", 0)
        if topic[1] in _IMAGE_SUBCOMMANDS and len(topic) == 2:
            return Output(help_text(f"image {topic[1]}"), "", 0)
        unknown = topic[2] if topic[1] in _IMAGE_SUBCOMMANDS else topic[1]
        return Output("", f"unknown help topic: {unknown}\n", 1)
    if topic[0] in _TOP_LEVEL or topic[0] == "info":
        if len(topic) == 1:
            return Output(help_text(topic[0]), "", 0)
        return Output("", f"unknown help topic: {topic[1]}\n", 1)
    if topic[0] == "help" and len(topic) == 1:
        return Output(help_text("help"), "", 0)
    if topic[0] in _OTHER_TOP_LEVEL:
        return _not_simulated(topic[0])
    return Output("", f"unknown help topic: {topic[0]}\n", 1)


def _parse_leaf(
    command: _Command,
    typed: str,
    args: list[str],
    wants_help: bool,
    root_notices: int,
    group_notices: int,
    global_flags: Mapping[str, object],
) -> Invocation | Output:
    """A leaf command: its flags (and the persistent --help), then the argument count."""
    path = _command_path(typed, command.path)
    try:
        parsed = _parse_flags(args, (*command.flags, _HELP_FLAG), command.interspersed)
    except _FlagError as error:
        return _flag_error(error, _usage_line(path, command.path), path)
    if wants_help or parsed.values["help"]:
        stdout_notices = _HELP_DEPRECATED * (group_notices + parsed.help_shorthands)
        return Output(stdout_notices + help_text(typed), _HELP_DEPRECATED * root_notices, 0)
    refused = _args_error(command, path, len(parsed.args))
    if refused is not None:
        return refused
    values = {name: value for name, value in parsed.values.items() if name != "help"}
    return Invocation(
        command=command.path,
        typed=typed,
        flags=MappingProxyType(values),
        args=tuple(parsed.args),
        global_flags=MappingProxyType(dict(global_flags)),
        given=frozenset(name for name in parsed.given if name != "help"),
    )
