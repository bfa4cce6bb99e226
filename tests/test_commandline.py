"""labkit.commandline against the real Docker 28.2.2 client's recorded outputs, and pflag rules."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labkit.commandline import (
    CLIENT_VERSION,
    CONFIG_DIR,
    SUPPORTED_COMMANDS,
    Invocation,
    Output,
    help_text,
    parse_command_line,
)

RECORDED = Path(__file__).parent / "data" / "docker-cli"
INDEX = json.loads((RECORDED / "index.json").read_text())

# Recordings whose output Docker prints after accepting the command line (reference checks,
# "tag can't be used with --all-tags/-a", the rmi platform check, the login TTY check): the
# command line layer must hand them to the engine as an Invocation.
ACCEPTED_BY_PARSER = {
    "tag-help-one-arg": ("image tag", ("a", "--help")),
    "image-tag-after-arg-bogus": ("image tag", ("a", "--bogus")),
    "pull-all-tags-with-tag": ("image pull", ("alpine:3",)),
    "pull-all-tags-with-digest": ("image pull", ("alpine@sha256:" + "a" * 64,)),
    "push-all-tags-with-tag": ("image push", ("alpine:3",)),
    "pull-dash-dash-flag-like": ("image pull", ("--bogus",)),
    "pull-empty-name": ("image pull", ("",)),
    "push-uppercase": ("image push", ("Alpine",)),
    "tag-uppercase-source": ("image tag", ("Alpine", "alpine")),
    "rmi-platform-bad": ("image rm", ("a",)),
}

# The recordings of tests/data/docker-cli-28.2.2/ (see tests/data/README.md): file -> command
# line. Their help.txt was recorded with HOME=/tmp/dockhome2; labkit shows CONFIG_DIR instead.
SHARED_LINES = {
    "help.txt": "docker --help",
    "image-history--help.txt": "docker image history --help",
    "image-inspect--help.txt": "docker image inspect --help",
    "image-ls--help.txt": "docker image ls --help",
    "image-pull--help.txt": "docker image pull --help",
    "image-push--help.txt": "docker image push --help",
    "image-push-no-arg.txt": "docker image push",
    "image-rm--help.txt": "docker image rm --help",
    "image-tag--help.txt": "docker image tag --help",
    "image-tag-one-arg.txt": "docker image tag alpine",
    "image-unknown-flag.txt": "docker image push --bogus alpine",
    "images--help.txt": "docker images --help",
    "info--help.txt": "docker info --help",
    "inspect--help.txt": "docker inspect --help",
    "login--help.txt": "docker login --help",
    "logout--help.txt": "docker logout --help",
    "pull--help.txt": "docker pull --help",
    "push--help.txt": "docker push --help",
    "rmi--help.txt": "docker rmi --help",
    "search--help.txt": "docker search --help",
    "tag--help.txt": "docker tag --help",
    "unknown-command.txt": "docker bogus",
    "version--help.txt": "docker version --help",
}
# Shared recordings of what Docker prints after accepting the line (the engine's business).
SHARED_ACCEPTED = {
    "image-pull-bad-ref.txt": "docker image pull Alpine",
    "image-push-bad-ref.txt": "docker image push fredysa/Alpine",
    "image-tag-digest-target.txt": "docker image tag alpine alpine@sha256:" + "a" * 64,
    "image-tag-scheme.txt": "docker image tag alpine https://registry.acme.com/engineering/web-app:1.0",
    "image-tag-uppercase.txt": "docker image tag alpine Alpine",
    "login-empty-password-stdin.txt": "docker login -u fredysa --password-stdin",
    "login-password-stdin-no-user.txt": "docker login --password-stdin",
    "logout-acme.txt": "docker logout registry.acme.com",
    "logout-default.txt": "docker logout",
}


def split_recording(text: str) -> tuple[str, int]:
    """A recording's output and exit code."""
    match = re.fullmatch(r"(?s)(.*)\[exit code: (\d+)\]\n", text)
    assert match, "a recording ends with its [exit code: N] line"
    return match.group(1), int(match.group(2))


def expected_output(stem: str) -> Output:
    entry = INDEX[stem]
    combined, code = split_recording((RECORDED / entry["file"]).read_text())
    assert code == entry["exit_code"]
    if entry["stream"] == "stdout":
        return Output(combined, "", code)
    if entry["stream"] == "stderr":
        return Output("", combined, code)
    stderr = entry["stderr"]
    assert combined.endswith(stderr)
    return Output(combined[: len(combined) - len(stderr)], stderr, code)


# Deliberate differences (see labkit.commandline's docstring): commands labkit does not simulate.
NOT_SIMULATED = {"run-bogus-flag", "system--help"}
PRINTED = sorted(
    stem
    for stem, entry in INDEX.items()
    if "file" in entry and stem not in ACCEPTED_BY_PARSER and stem not in NOT_SIMULATED
)


@pytest.mark.parametrize("stem", PRINTED)
def test_recorded_output_is_reproduced_exactly(stem: str) -> None:
    line = INDEX[stem]["line"]
    assert parse_command_line(line) == expected_output(stem), line


@pytest.mark.parametrize("stem", sorted(ACCEPTED_BY_PARSER))
def test_lines_docker_accepts_become_invocations(stem: str) -> None:
    command, args = ACCEPTED_BY_PARSER[stem]
    result = parse_command_line(INDEX[stem]["line"])
    assert isinstance(result, Invocation)
    assert (result.command, result.args) == (command, args)


def test_every_recording_is_indexed() -> None:
    files = {p.name for p in RECORDED.glob("*.txt")}
    assert files == {e["file"] for e in INDEX.values() if "file" in e}
    assert len(files) >= 150


@pytest.mark.parametrize("name", sorted(SHARED_LINES))
def test_shared_recordings(data_dir: Path, name: str) -> None:
    text = (data_dir / "docker-cli-28.2.2" / name).read_text()
    output, code = split_recording(text.replace("/tmp/dockhome2/.docker", CONFIG_DIR))
    result = parse_command_line(SHARED_LINES[name])
    assert isinstance(result, Output)
    assert result.exit_code == code
    assert result.stdout + result.stderr == output
    assert (result.stdout if code == 0 else result.stderr) == output


@pytest.mark.parametrize("name", sorted(SHARED_ACCEPTED))
def test_shared_recordings_of_accepted_lines(data_dir: Path, name: str) -> None:
    assert (data_dir / "docker-cli-28.2.2" / name).is_file()
    assert isinstance(parse_command_line(SHARED_ACCEPTED[name]), Invocation)


def test_every_shared_recording_is_mapped(data_dir: Path) -> None:
    names = {p.name for p in (data_dir / "docker-cli-28.2.2").glob("*.txt")}
    assert names == set(SHARED_LINES) | set(SHARED_ACCEPTED)


# --- help texts ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "usage"),
    [
        ("pull", "docker pull [OPTIONS] NAME[:TAG|@DIGEST]"),
        ("image pull", "docker image pull [OPTIONS] NAME[:TAG|@DIGEST]"),
        ("images", "docker images [OPTIONS] [REPOSITORY[:TAG]]"),
        ("image list", "docker image ls [OPTIONS] [REPOSITORY[:TAG]]"),
        ("image remove", "docker image rm [OPTIONS] IMAGE [IMAGE...]"),
        ("rmi", "docker rmi [OPTIONS] IMAGE [IMAGE...]"),
        ("docker logout", "docker logout [SERVER]"),
    ],
)
def test_help_text_usage_line_follows_the_typed_form(typed: str, usage: str) -> None:
    assert help_text(typed).splitlines()[0] == f"Usage:  {usage}"


def test_help_text_forms_differ_only_in_the_usage_line() -> None:
    for short, long in [("pull", "image pull"), ("push", "image push"), ("tag", "image tag")]:
        assert help_text(short).splitlines()[1:] == help_text(long).splitlines()[1:]


def test_help_text_root_shows_labkit_config_dir() -> None:
    assert f'"{CONFIG_DIR}")' in help_text("docker")
    with pytest.raises(KeyError):
        help_text("run")


def test_every_supported_form_parses_with_its_canonical_name() -> None:
    for canonical, forms in SUPPORTED_COMMANDS.items():
        for form in forms:
            result = parse_command_line(f"docker {form} --help")
            assert isinstance(result, Output) and result.exit_code == 0, form
            assert result.stderr.startswith("Flag shorthand -h") == (form == "-h")
            if canonical != "help":
                assert result.stdout == help_text(form)


# --- flag forms (pflag) ----------------------------------------------------------------------


def invocation(line: str) -> Invocation:
    result = parse_command_line(line)
    assert isinstance(result, Invocation), result
    return result


@pytest.mark.parametrize(
    "line",
    [
        "docker login --username=fred reg",
        "docker login --username fred reg",
        "docker login -u fred reg",
        "docker login -ufred reg",
        "docker login -u=fred reg",
        "docker login reg -u fred",
        "docker login reg --username=fred",
    ],
)
def test_value_flag_forms(line: str) -> None:
    result = invocation(line)
    assert result.flags["username"] == "fred"
    assert result.args == ("reg",)


def test_defaults_are_filled_and_bools_combine() -> None:
    result = invocation("docker image ls -aq")
    assert dict(result.flags) == {
        "all": True,
        "digests": False,
        "filter": [],
        "format": "",
        "no-trunc": False,
        "quiet": True,
        "tree": False,
    }
    assert (result.command, result.typed, result.args) == ("image ls", "image ls", ())
    assert invocation("docker pull alpine").flags["disable-content-trust"] is True
    assert invocation("docker history alpine").flags["human"] is True


def test_bool_flag_explicit_values() -> None:
    assert invocation("docker pull --all-tags=false alpine").flags["all-tags"] is False
    assert invocation("docker pull -a=T alpine").flags["all-tags"] is True
    # A bool flag never takes the next word: "false" is the image.
    assert invocation("docker pull -q false").args == ("false",)


def test_value_flag_takes_next_word_even_if_it_looks_like_a_flag() -> None:
    assert invocation("docker login -u -p reg").flags["username"] == "-p"
    assert invocation("docker search --limit -5 alpine").flags["limit"] == -5


def test_double_dash_ends_flags() -> None:
    assert invocation("docker rmi -f -- -x --y").args == ("-x", "--y")
    assert invocation("docker rmi -f -- -x").flags["force"] is True


def test_tag_stops_parsing_flags_at_its_first_argument() -> None:
    assert invocation("docker tag a -x").args == ("a", "-x")
    assert invocation("docker tag a b").flags == {}


def test_repeatable_flags_accumulate() -> None:
    result = invocation("docker images -f dangling=true --filter=reference='al*' --filter=")
    assert result.flags["filter"] == ["dangling=true", "reference=al*"]
    assert invocation("docker images -f=").flags["filter"] == ["="]  # pflag: -f's value is "="
    result = invocation("docker search --filter IS-OFFICIAL=true --filter stars=3 x")
    assert result.flags["filter"] == ["is-official=true", "stars=3"]
    result = invocation("docker rmi --platform linux/amd64,linux/arm64 --platform x a")
    assert result.flags["platform"] == ["linux/amd64", "linux/arm64", "x"]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        *[("10", 10), ("+5", 5), ("-3", -3), ("0x1F", 31), ("010", 8), ("0o17", 15)],
        *[("0b101", 5), ("1_000", 1000), ("0x_1f", 31)],
        *[(str(2**63 - 1), 2**63 - 1), (str(-(2**63)), -(2**63))],
    ],
)
def test_int_flags_parse_like_go(text: str, value: int) -> None:
    assert invocation(f"docker search --limit={text} x").flags["limit"] == value


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        *[(text, "invalid syntax") for text in ["", "1.5", "08", "_1", "1__0", "1_", "0x", "--1"]],
        *[(text, "value out of range") for text in [str(2**63), str(-(2**63) - 1)]],
        ("99999999999999999999x", "value out of range"),
    ],
)
def test_bad_int_flags(text: str, reason: str) -> None:
    result = parse_command_line(f"docker search '--limit={text}' x")
    assert isinstance(result, Output) and result.exit_code == 125
    first = result.stderr.splitlines()[0]
    quoted = json.dumps(text)
    parse_error = f"strconv.ParseInt: parsing {quoted}: {reason}"
    assert first == f'invalid argument {quoted} for "--limit" flag: {parse_error}'


def test_go_quoting_in_errors() -> None:
    result = parse_command_line("docker search --limit 'a\"\tb' x")
    assert isinstance(result, Output)
    assert result.stderr.startswith('invalid argument "a\\"\\tb" for "--limit" flag')


@settings(max_examples=200)
@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_any_int64_round_trips(value: int) -> None:
    assert invocation(f"docker search --limit {value} x").flags["limit"] == value


@settings(max_examples=200)
@given(st.lists(st.sampled_from(["a", "q"]), min_size=1, max_size=4))
def test_combined_bool_shorthands(letters: list[str]) -> None:
    result = invocation(f"docker pull -{''.join(letters)} alpine")
    assert result.flags["all-tags"] == ("a" in letters)
    assert result.flags["quiet"] == ("q" in letters)


def test_global_flags_before_the_command() -> None:
    result = invocation("docker -D --config /tmp/x -H tcp://h:1 -H unix:///s images")
    assert dict(result.global_flags) == {
        "debug": True,
        "config": "/tmp/x",
        "host": ["tcp://h:1", "unix:///s"],
    }


def test_version_flag() -> None:
    assert parse_command_line("docker --version") == Output(CLIENT_VERSION + "\n", "", 0)


# --- lines that are not docker commands --------------------------------------------------------


def test_not_docker() -> None:
    result = parse_command_line("ls -l")
    assert isinstance(result, Output) and result.exit_code == 127
    assert result.stderr.startswith("labkit: ls: command not found")
    assert "docker command only" in result.stderr


def test_empty_line_and_comment() -> None:
    assert parse_command_line("") == Output("", "", 0)
    assert parse_command_line("   # nothing") == Output("", "", 0)
    assert invocation("docker pull alpine  # fetch it").args == ("alpine",)


def test_quoting() -> None:
    assert invocation('docker login -p \'a b"c\' --username "x y"').flags["password"] == 'a b"c'
    result = parse_command_line("docker pull 'alpine")
    assert isinstance(result, Output) and result.exit_code == 2
    assert result.stderr == "labkit: cannot split the command line: No closing quotation\n"


@pytest.mark.parametrize(
    "line", ["docker run alpine", "docker ps", "docker image prune -a", "docker run --bogus"]
)
def test_real_docker_commands_labkit_does_not_simulate(line: str) -> None:
    result = parse_command_line(line)
    assert isinstance(result, Output) and result.exit_code == 1
    assert "labkit does not simulate" in result.stderr
    assert "docker pull" in result.stderr


def test_invocations_are_immutable() -> None:
    result = invocation("docker pull alpine")
    with pytest.raises(TypeError):
        result.flags["quiet"] = True  # type: ignore[index]
