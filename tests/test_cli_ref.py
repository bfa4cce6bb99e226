"""``labkit ref NAME...``: a table per valid name; Docker's text and a hint for invalid ones."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from labkit.cli import build_parser, main


def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_table_for_an_official_image(capsys: pytest.CaptureFixture) -> None:
    status, out, err = run(capsys, "ref", "alpine")
    assert status == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == "alpine"
    # rows start two spaces in; each row's reason follows on its own, deeper-indented lines
    lines = [lines[0]] + [line for line in lines[1:] if not line.startswith("   ")]
    assert all(len(line) <= 80 for line in out.splitlines())
    rows = {line.split()[0]: line for line in lines[1:]}
    assert rows["registry"].split()[1:3] == ["docker.io", "default"]
    assert rows["namespace"].split()[1:3] == ["library", "default"]
    assert rows["name"].split()[1:3] == ["alpine", "typed"]
    assert rows["tag"].split()[1:3] == ["latest", "default"]
    assert rows["full"].split()[1] == "docker.io/library/alpine:latest"
    assert rows["endpoint"].split()[1] == "registry-1.docker.io"
    # Aligned: every value column starts at the same place.
    starts = {line.index(line.split()[1]) for line in lines[1:]}
    assert len(starts) == 1


def test_several_names_and_an_invalid_one(capsys: pytest.CaptureFixture) -> None:
    status, out, err = run(capsys, "ref", "fredysa/alpine:1.0", "Alpine", "localhost:5000/app")
    assert status == 1
    assert out.count("\n\n") == 1  # two tables, one blank line between them
    assert "fredysa/alpine:1.0\n" in out and "localhost:5000/app\n" in out
    err_lines = err.splitlines()
    assert err_lines[0] == (
        "Alpine: invalid reference format: repository name (library/Alpine) must be lowercase"
    )
    assert err_lines[1].startswith("  hint: ") and "lowercase" in err_lines[1]


def test_json_output(capsys: pytest.CaptureFixture) -> None:
    status, out, _ = run(capsys, "ref", "--json", "alpine", "https://x.io/app")
    assert status == 1
    data = json.loads(out)
    assert [item["ok"] for item in data] == [True, False]
    assert data[1]["error"] == "invalid reference format"
    assert "scheme" in data[1]["hint"]


def test_ref_needs_a_name(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["ref"])
    assert caught.value.code == 2
    assert "NAME" in capsys.readouterr().err


def test_no_command_prints_help(capsys: pytest.CaptureFixture) -> None:
    assert main([]) == 2
    assert "ref" in capsys.readouterr().err


def test_parser_has_subcommands_for_later_commands() -> None:
    parser = build_parser()
    assert parser.prog == "labkit"
    assert parser.parse_args(["ref", "alpine"]).names == ["alpine"]


def test_console_script_runs() -> None:
    script = shutil.which("labkit", path=str(Path(sys.executable).parent))
    command = [script] if script else [sys.executable, "-m", "labkit.cli"]
    result = subprocess.run([*command, "ref", "nginx:1.27"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("nginx:1.27\n")
    bad = subprocess.run([*command, "ref", "a" * 64], capture_output=True, text=True)
    assert bad.returncode == 1
    assert "cannot specify 64-byte hexadecimal strings" in bad.stderr
