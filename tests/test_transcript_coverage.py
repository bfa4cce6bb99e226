"""Every (command, flag) pair labkit's command line accepts appears in the golden transcripts
at least once accepted (exit 0) and once refused (any other exit code), each such case citing
the source line that decides it; every transcript line cites its source.

A case cites its source with a trailing comment (``docker pull -q alpine  # cli/command/image/
pull.go:51``), which the transcripts show; comment blocks above a group of cases say more in
prose. Citations are
``path/file.go:LINE`` (or ``:LINE-LINE``, further lines of the same file as ``:LINE``) at tag
v28.2.2: docker/cli paths, ``pflag/`` for docker/cli's vendored spf13/pflag, ``moby/`` for
moby/moby, ``vendor/...`` for other code docker/cli vendors; what labkit does on purpose cites
its row of docs/fidelity.md (``docs/fidelity.md (no resolver)``). ``python
tests/test_transcript_coverage.py DOCKER_CLI_GIT MOBY_GIT`` checks each cited line exists in
the sources (git directories with the v28.2.2 tag, as the ``fetch`` tool brings them).
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from labkit.commandline import _COMMANDS, _IMAGE_SUBCOMMANDS, _TOP_LEVEL
from labkit.shell import display_line, split_here_string

HERE = Path(__file__).parent / "transcripts"
ENTRY = re.compile(r"^\$ (.*)\n((?:(?!\$ ).*\n)*?)\[exit code: (\d+)\]\n", re.MULTILINE)
PREFIXES = r"(?:moby|pflag|cli|cmd|opts|vendor)/"
# a source line, or for what labkit does on purpose, the row of docs/fidelity.md
SOURCE = re.compile(rf"{PREFIXES}[\w./-]+\.go:\d+|docs/fidelity\.md \(")
# flags labkit accepts but whose use it does not simulate: a labkit message, never "accepted"
NOT_SIMULATED = {("image ls", "tree")}


def _comment(line: str) -> str:
    """The trailing ``# ...`` of a script line (a ``#`` starting a word outside quotes)."""
    shown = display_line(line)
    match = re.search(r"  # (.*)$", shown)
    return match.group(1) if match else ""


def cases() -> list[dict]:
    """Every command line of every script: its canonical command, words, exit code, its own
    citation (trailing comment) and the citation of the comment block above its group."""
    found = []
    for script in sorted(HERE.glob("*.script")):
        expected = ENTRY.findall(script.with_suffix(".expected").read_text())
        block: list[str] = []
        group_comment = ""
        index = 0
        for raw in script.read_text().splitlines():
            line = raw.strip()
            if not line:
                continue
            if line.startswith("#"):
                block.append(line)
                continue
            if block:
                group_comment, block = " ".join(block), []
            shown, _output, code = expected[index]
            index += 1
            assert shown == display_line(line), f"{script.name}: {line}"
            command_text, _stdin = split_here_string(line)
            words = shlex.split(command_text, comments=True)
            canonical, rest = "", words[2:]
            if len(words) > 1 and words[0] == "docker":
                if words[1] == "image" and len(words) > 2 and words[2] in _IMAGE_SUBCOMMANDS:
                    canonical, rest = _IMAGE_SUBCOMMANDS[words[2]], words[3:]
                elif words[1] in _TOP_LEVEL:
                    canonical = _TOP_LEVEL[words[1]]
            found.append(
                {
                    "script": script.name,
                    "line": line,
                    "command": canonical,
                    "rest": rest,
                    "exit": int(code),
                    "own": _comment(line),
                    "group": group_comment,
                }
            )
        assert index == len(expected), f"{script.name}: script and expected differ"
    return found


def cites(text: str) -> bool:
    return SOURCE.search(text) is not None


def uses(words: list[str], name: str, short: str) -> bool:
    for word in words:
        if word == f"--{name}" or word.startswith(f"--{name}="):
            return True
        if short and re.fullmatch(rf"-[a-zA-Z]*{short}(=.*|[a-zA-Z]*)?", word):
            return True
    return False


def test_every_flag_is_accepted_and_refused_by_a_cited_case() -> None:
    seen = [case for case in cases() if cites(case["own"])]
    missing = []
    for command in _COMMANDS.values():
        for flag in command.flags:
            codes = {
                case["exit"]
                for case in seen
                if case["command"] == command.path and uses(case["rest"], flag.name, flag.short)
            }
            accepted = 0 in codes or (command.path, flag.name) in NOT_SIMULATED
            refused = any(code != 0 for code in codes)
            if not (accepted and refused):
                missing.append(f"{command.path} --{flag.name}: {sorted(codes)}")
    assert not missing, "\n".join(missing)


def test_every_line_of_the_flags_transcript_cites_its_source() -> None:
    uncited = [c["line"] for c in cases() if c["script"] == "flags.script" and not cites(c["own"])]
    assert not uncited, "\n".join(uncited)


def test_every_transcript_line_cites_its_source() -> None:
    uncited = [f"{c['script']}: {c['line']}" for c in cases() if not cites(c["own"])]
    assert not uncited, "\n".join(uncited)


def test_the_flags_transcript_cites_a_source_for_each_group() -> None:
    script = (HERE / "flags.script").read_text()
    for command in _COMMANDS.values():
        if command.flags:
            words = command.path.replace("image ", "")
            assert re.search(rf"^# (image )?{words}: cli/command/\S+\.go:\d+", script, re.M), words


def test_citations_are_well_formed() -> None:
    """A citation names a file the first time; ':N' alone continues the file before it."""
    for case in cases():
        for text in (case["own"],):
            for match in re.finditer(r"(\S*):(\d+)", text):
                prefix = match.group(1).rstrip(",(")
                if prefix and not prefix.endswith(".go"):
                    continue  # "image_tag.go:12" style is checked by SOURCE; this is other text
                if not prefix:
                    before = text[: match.start()]
                    assert re.search(r"\.go:\d+", before), f"{case['line']}: {text}"


# -- checking the citations against the sources (a maintainer's tool) ------------------------


def _resolve(path: str) -> tuple[str, str]:
    """(repository, path inside it) of a cited path."""
    if path.startswith("moby/"):
        return "moby", path.removeprefix("moby/")
    if path.startswith("pflag/"):
        return "cli", "vendor/github.com/spf13/pflag/" + path.removeprefix("pflag/")
    return "cli", path


def check_sources(git_dirs: dict[str, str]) -> list[str]:
    """Every cited file:line that does not exist at v28.2.2."""
    problems = []
    lengths: dict[tuple[str, str], int] = {}
    for case in cases():
        for text in (case["own"],):
            current = ""
            for match in re.finditer(rf"(?:({PREFIXES}[\w./-]+\.go)|(?<=\s)):(\d+)", text):
                current = match.group(1) or current
                if not current:
                    continue
                key = _resolve(current)
                if key not in lengths:
                    shown = subprocess.run(
                        ["git", "--git-dir", git_dirs[key[0]], "show", f"v28.2.2:{key[1]}"],
                        capture_output=True,
                        text=True,
                        check=False,
                    )
                    lengths[key] = len(shown.stdout.splitlines()) if shown.returncode == 0 else 0
                if int(match.group(2)) > lengths[key]:
                    problems.append(f"{case['script']}: {current}:{match.group(2)}")
    return sorted(set(problems))


if __name__ == "__main__":
    found = check_sources({"cli": sys.argv[1], "moby": sys.argv[2]})
    print("\n".join(found) or "every cited line exists at v28.2.2")
    sys.exit(1 if found else 0)
