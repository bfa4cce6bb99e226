"""A Docker-like client: Docker's command line in front of its engine.

``world.client()`` gives a :class:`Client`: ``client.run("docker ...")`` parses the line
(:mod:`labkit.commandline`), has its :class:`~labkit.engine.Engine` carry it out and
:mod:`labkit.shell` render Docker's text, and records the command in the world's event log
(any password masked). ``client.store`` is its local store (:mod:`labkit.store`), to read.
"""

from __future__ import annotations

import hashlib
import shlex
from typing import TYPE_CHECKING, Any

from labkit.engine import Engine
from labkit.errors import LabkitTypeError
from labkit.shell import Result, display_line, execute, split_here_string

if TYPE_CHECKING:  # type-only: nothing here imports the world at run time
    from labkit.world import Event

__all__ = ["Client", "mask_secrets", "run_script"]


class Client(Engine):
    """A Docker-like client with its own local image store and credential store."""

    # -- running command lines ---------------------------------------------------------

    def run(self, line: str, stdin: str | None = None, *, progress: bool = False) -> Result:
        """Run one ``docker ...`` command line and return what it printed.

        ``stdin`` feeds ``--password-stdin``. ``progress=True`` adds the full progress stream
        (every status of every layer) instead of the final view. The command is recorded in
        the world's event log, with any password masked.
        """
        if not isinstance(line, str) or (stdin is not None and not isinstance(stdin, str)):
            what = "the command line" if not isinstance(line, str) else "stdin"
            raise LabkitTypeError(
                f"{what} must be text, not {type(line if what != 'stdin' else stdin).__name__}",
                "Write the whole command in quotes, such as client.run('docker images'), and "
                "a password for --password-stdin as the second argument.",
            )
        self._login_outcome = None
        result = execute(self, line, stdin, progress=progress)
        if not self.world.replaying or self._replaying is not None:
            outcome: dict[str, Any] = {
                "exit_code": result.exit_code,
                "output": hashlib.sha256(result.output.encode()).hexdigest()[:16],
            }
            if self._login_outcome is not None:
                outcome["login"] = self._login_outcome
            self.world.record(
                "docker", self.name, mask_secrets(line), {"stdin": stdin is not None}, outcome
            )
        return result

    def replay(self, event: Event) -> Result:
        """Run a recorded command again; a login takes its recorded outcome (no secrets)."""
        self._replaying = event.outcome
        try:
            stdin = "" if event.args.get("stdin") else None
            return self.run(event.action, stdin)
        finally:
            self._replaying = None


def mask_secrets(line: str) -> str:
    """The command line with the value of ``-p`` / ``--password`` replaced by ``********``."""
    try:
        words = shlex.split(line, comments=True)
    except ValueError:
        return "docker <unreadable command line>"
    masked: list[str] = []
    hide_next = False
    for word in words:
        if hide_next:
            masked.append("********")
            hide_next = False
        elif word in ("-p", "--password"):
            masked.append(word)
            hide_next = True
        elif word.startswith("--password="):
            masked.append("--password=********")
        elif word.startswith("-p") and len(word) > 2 and not word.startswith("--"):
            masked.append("-p********")
        else:
            masked.append(word)
    return shlex.join(masked)


def run_script(client: Client, script: str) -> str:
    """Run each command line of ``script`` (``#`` comments and blank lines skipped) and
    return a transcript: ``$ line`` then exactly what it printed."""
    parts = []
    for raw in script.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        command, stdin = split_here_string(line)
        result = client.run(command, stdin)
        parts.append(f"$ {display_line(line)}\n{result.output}")
    return "".join(parts)
