"""Golden transcripts: each ``tests/transcripts/<name>.script`` run through ``labkit run``
must print exactly ``<name>.expected``.

The expected file is the transcript ``labkit run`` prints, with one ``[exit code: N]`` line
after each command's output (the convention of the recordings in ``tests/data/docker-cli*``): the
exit codes are checked too. ``<name>.users`` (optional) holds one ``--user`` spec a line.

Regenerate after a deliberate change (then read every line against facts/docker.md)::

    .venv/bin/python tests/test_transcripts.py [NAME...]
"""

from __future__ import annotations

import contextlib
import io
import re
import sys
from pathlib import Path

import pytest

from labkit.cli import main
from labkit.shell import display_line, split_here_string
from labkit.world import Clock, World

HERE = Path(__file__).parent / "transcripts"
SCRIPTS = sorted(HERE.glob("*.script"))
EXIT_LINE = re.compile(r"^\[exit code: \d+\]\n", re.MULTILINE)


def user_specs(script: Path) -> list[str]:
    users = script.with_suffix(".users")
    if not users.exists():
        return []
    return [line.strip() for line in users.read_text().splitlines() if line.strip()]


def transcript_with_exit_codes(script: Path) -> str:
    """What ``labkit run`` does (same world, same users), plus an exit-code line per command."""
    world = World.default(clock=Clock.fixed())
    for spec in user_specs(script):
        account, _, registry = spec.partition("@")
        name, _, password = account.partition(":")
        world.add_user(name, password, registry=registry or "docker.io")
    client = world.client()
    parts = []
    for raw in script.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        command, stdin = split_here_string(line)
        result = client.run(command, stdin)
        parts.append(f"$ {display_line(line)}\n{result.output}[exit code: {result.exit_code}]\n")
    return "".join(parts)


def labkit_run(script: Path) -> tuple[int, str]:
    """``labkit run [--user ...] SCRIPT`` in this process: (status, stdout)."""
    argv = ["run", str(script)]
    for spec in user_specs(script):
        argv += ["--user", spec]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(argv)
    return status, out.getvalue()


def test_there_are_golden_transcripts() -> None:
    assert len(SCRIPTS) >= 10
    for script in SCRIPTS:
        assert script.with_suffix(".expected").exists(), f"{script.name} has no .expected"


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_transcript_and_exit_codes(script: Path) -> None:
    expected = script.with_suffix(".expected").read_text()
    assert transcript_with_exit_codes(script) == expected


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_labkit_run_prints_the_same_transcript(script: Path) -> None:
    expected = script.with_suffix(".expected").read_text()
    status, printed = labkit_run(script)
    assert status == 0
    assert printed == EXIT_LINE.sub("", expected)


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_no_password_in_a_transcript(script: Path) -> None:
    expected = script.with_suffix(".expected").read_text()
    for line in expected.splitlines():
        if "--password-stdin <<<" in line:
            assert re.search(r"<<< \*{8}(  # .*)?$", line), line


def regenerate(names: list[str]) -> None:
    for script in SCRIPTS:
        if not names or script.stem in names:
            script.with_suffix(".expected").write_text(transcript_with_exit_codes(script))
            print(f"wrote {script.with_suffix('.expected').name}")


if __name__ == "__main__":
    regenerate(sys.argv[1:])
