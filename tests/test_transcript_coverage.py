"""Every (command, flag) pair labkit's command line accepts appears in the golden transcripts
at least once accepted (exit 0) and once refused (any other exit code); tests/transcripts/
flags.script cites the docker/cli line of each flag."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from labkit.commandline import _COMMANDS, _IMAGE_SUBCOMMANDS, _TOP_LEVEL

HERE = Path(__file__).parent / "transcripts"
ENTRY = re.compile(r"^\$ (.*)\n((?:(?!\$ ).*\n)*?)\[exit code: (\d+)\]\n", re.MULTILINE)
# flags labkit accepts but whose use it does not simulate: a labkit message, never "accepted"
NOT_SIMULATED = {("image ls", "tree")}


def entries() -> list[tuple[str, list[str], int]]:
    """(canonical command, words after the command, exit code) of every transcript entry."""
    found = []
    for expected in sorted(HERE.glob("*.expected")):
        for line, _output, code in ENTRY.findall(expected.read_text()):
            words = shlex.split(line.partition(" <<< ")[0])
            if len(words) < 2 or words[0] != "docker":
                continue
            if words[1] == "image" and len(words) > 2 and words[2] in _IMAGE_SUBCOMMANDS:
                command, rest = _IMAGE_SUBCOMMANDS[words[2]], words[3:]
            elif words[1] in _TOP_LEVEL:
                command, rest = _TOP_LEVEL[words[1]], words[2:]
            else:
                continue
            found.append((command, rest, int(code)))
    return found


def uses(words: list[str], name: str, short: str) -> bool:
    for word in words:
        if word == f"--{name}" or word.startswith(f"--{name}="):
            return True
        if short and re.fullmatch(rf"-[a-zA-Z]*{short}(=.*|[a-zA-Z]*)?", word):
            return True
    return False


def test_every_flag_is_accepted_and_refused_somewhere() -> None:
    seen = entries()
    missing = []
    for command in _COMMANDS.values():
        for flag in command.flags:
            codes = {
                code
                for canonical, rest, code in seen
                if canonical == command.path and uses(rest, flag.name, flag.short)
            }
            accepted = 0 in codes or (command.path, flag.name) in NOT_SIMULATED
            refused = any(code != 0 for code in codes)
            if not (accepted and refused):
                missing.append(f"{command.path} --{flag.name}: {sorted(codes)}")
    assert not missing, "\n".join(missing)


def test_the_flags_transcript_cites_a_source_for_each_group() -> None:
    script = (HERE / "flags.script").read_text()
    for command in _COMMANDS.values():
        if command.flags:
            words = command.path.replace("image ", "")
            assert re.search(rf"^# (image )?{words}: cli/command/\S+\.go:\d+", script, re.M), words
