"""Parse a ``docker ...`` command line exactly like the Docker 28.2.2 CLI (cobra + pflag).

This is the client's own side only: help texts, usage errors, flag parsing. Nothing here talks to
the engine; :mod:`labkit.shell` runs an :class:`Invocation` and prints the result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["SUPPORTED_COMMANDS", "Invocation", "Output", "help_text", "parse_command_line"]


@dataclass(frozen=True)
class Invocation:
    """A command line the CLI accepted: what the engine must carry out."""

    command: str  # canonical name, e.g. "image pull"
    typed: str  # how the user typed it, e.g. "pull" or "image pull"
    flags: Mapping[str, object]  # long flag name -> value, defaults filled in
    args: tuple[str, ...]


@dataclass(frozen=True)
class Output:
    """What the CLI prints on its own, without a daemon (help, usage errors)."""

    stdout: str
    stderr: str
    exit_code: int


SUPPORTED_COMMANDS: tuple[str, ...] = ()


def parse_command_line(line: str) -> Invocation | Output:
    """Parse ``line`` (starting with ``docker``) into an Invocation, or the Output Docker prints."""
    raise NotImplementedError


def help_text(command: str) -> str:
    """The exact ``--help`` text of ``command`` (canonical or typed form, e.g. "pull")."""
    raise NotImplementedError
