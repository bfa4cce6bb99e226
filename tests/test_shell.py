"""labkit.shell: command lines to engine calls to Docker's text; here-strings; run_script."""

from __future__ import annotations

import pytest

from labkit.client import run_script
from labkit.commandline import split_comment
from labkit.shell import display_line, execute, split_here_string
from labkit.world import Clock, World

BUSYBOX_DIGEST = "sha256:3eb495b39e70ed3cc0522a2b937fbb3678608fd7f81ae8820c490c9727b68eee"


@pytest.fixture
def client():
    world = World.default(clock=Clock.fixed())
    world.add_user("fredysa", "s3cret-pass")
    return world.client()


@pytest.mark.parametrize(
    ("line", "command", "stdin"),
    [
        (
            "docker login -u a --password-stdin <<< secret",
            "docker login -u a --password-stdin",
            "secret\n",
        ),
        (
            "docker login -u a --password-stdin <<< 'two words'",
            "docker login -u a --password-stdin",
            "two words\n",
        ),
        ('docker login -u a --password-stdin <<< "q"', "docker login -u a --password-stdin", "q\n"),
        ("docker pull alpine", "docker pull alpine", None),
        # bash: a comment ends the here-string word; a # inside a word is the word's
        (
            "docker login -u a --password-stdin <<< s3cret  # c",
            "docker login -u a --password-stdin",
            "s3cret\n",
        ),
        (
            "docker login -u a --password-stdin <<< pa#ss",
            "docker login -u a --password-stdin",
            "pa#ss\n",
        ),
    ],
)
def test_split_here_string(line: str, command: str, stdin: str | None) -> None:
    assert split_here_string(line) == (command, stdin)


def test_display_line_masks_the_here_string() -> None:
    assert display_line("docker login -u a --password-stdin <<< secret") == (
        "docker login -u a --password-stdin <<< ********"
    )
    assert display_line("docker pull alpine") == "docker pull alpine"
    assert display_line("docker login -u a --password-stdin <<< s  # why") == (
        "docker login -u a --password-stdin <<< ********  # why"
    )


@pytest.mark.parametrize(
    ("line", "body", "comment"),
    [
        ("docker pull alpine  # why", "docker pull alpine", "  # why"),
        ("# all of it", "", "# all of it"),
        ("docker images --format {{.ID}}#x", "docker images --format {{.ID}}#x", ""),
        ("docker images --format '{{.ID}} #x'", "docker images --format '{{.ID}} #x'", ""),
        ('docker images --format "a \\" #x"', 'docker images --format "a \\" #x"', ""),
        ("docker images --format a\\ #x", "docker images --format a\\ #x", ""),
    ],
)
def test_a_comment_starts_a_word_as_in_bash(line: str, body: str, comment: str) -> None:
    assert split_comment(line) == (body, comment)


def test_run_script_skips_comments_and_blank_lines(client) -> None:
    transcript = run_script(client, "# a comment\n\n   \ndocker tag nothere x\n")
    assert (
        transcript
        == "$ docker tag nothere x\nError response from daemon: No such image: nothere:latest\n"
    )


def test_run_script_never_shows_the_password(client) -> None:
    transcript = run_script(client, "docker login -u fredysa --password-stdin <<< s3cret-pass\n")
    assert "s3cret-pass" not in transcript
    assert transcript.endswith("Login Succeeded\n")
    assert client.store.logins()


@pytest.mark.parametrize(
    "line",
    ["docker", "docker ''", "docker pull 'unterminated", "docker pull --platform", "", "   "],
)
def test_execute_never_raises(client, line: str) -> None:
    result = execute(client, line)
    assert isinstance(result.exit_code, int)


@pytest.mark.parametrize(
    ("long", "short"),
    [
        ("docker image pull alpine:3.21", "docker pull alpine:3.21"),
        ("docker image ls", "docker images"),
        ("docker image list", "docker images"),
        ("docker image history alpine:3.21", "docker history alpine:3.21"),
        ("docker image rm nothere", "docker rmi nothere"),
        ("docker image remove nothere", "docker rmi nothere"),
    ],
)
def test_long_and_short_forms_print_the_same(long: str, short: str) -> None:
    outputs = []
    for line in (long, short):
        world = World.default(clock=Clock.fixed())
        client = world.client()
        client.run("docker pull alpine:3.21")
        outputs.append(client.run(line))
    assert outputs[0] == outputs[1]


def test_flag_forms_are_equivalent(client) -> None:
    client.run("docker pull alpine:3.21")
    client.run("docker tag alpine:3.21 a:1")
    forms = ["docker images -q", "docker images --quiet", "docker images --quiet=true"]
    results = [client.run(line).stdout for line in forms]
    assert results[0] == results[1] == results[2] == "b36c497a8b3e\nb36c497a8b3e\n"


def test_quiet_pull_and_push_print_only_the_reference(client) -> None:
    pulled = client.run("docker pull -q alpine")
    assert pulled.stdout == "docker.io/library/alpine:latest\n"
    client.run("docker login -u fredysa -p s3cret-pass")
    client.run("docker tag alpine fredysa/alpine")
    pushed = client.run("docker push -q fredysa/alpine")
    assert pushed.stdout == "docker.io/fredysa/alpine:latest\n"
    assert pushed.exit_code == 0


def test_quiet_push_error_still_goes_to_stderr(client) -> None:
    client.run("docker pull -q alpine")
    client.run("docker tag alpine fredysa/alpine")
    refused = client.run("docker push -q fredysa/alpine")
    assert (refused.stdout, refused.exit_code) == ("", 1)
    assert refused.stderr == "denied: requested access to the resource is denied\n"


def test_history_quiet_lists_every_entry(client) -> None:
    client.run("docker pull alpine:3.21")
    assert client.run("docker history -q alpine:3.21").stdout == "b36c497a8b3e\n<missing>\n"


@pytest.mark.parametrize(
    ("setup", "conflict"),
    [
        (["docker tag alpine:3.21 a:1"], True),  # two repositories
        (["docker tag alpine:3.21 alpine:other"], True),  # two tags, one repository
        ([], False),  # one tag and its repository's digest
    ],
)
def test_rmi_by_id_follows_moby_is_single_reference(client, setup, conflict: bool) -> None:
    client.run("docker pull alpine:3.21")
    for line in setup:
        client.run(line)
    result = client.run("docker rmi b36c497a8b3e")
    if conflict:
        assert result.exit_code == 1
        assert "image is referenced in multiple repositories" in result.stderr
        assert client.store.images()
    else:
        assert result.ok
        assert not client.store.images()
        assert result.stdout.splitlines()[-1].startswith("Deleted: sha256:")


def test_images_shows_a_digest_only_repository_next_to_tags(client) -> None:
    client.run("docker pull alpine:3.21")
    by_digest = f"busybox@{BUSYBOX_DIGEST}"
    client.run(f"docker pull {by_digest}")
    client.run(f"docker tag {by_digest} bb:1")
    rows = [line.split()[:2] for line in client.run("docker images").stdout.splitlines()[1:]]
    assert ["bb", "1"] in rows
    assert ["busybox", "<none>"] in rows


def test_non_docker_line_names_what_labkit_simulates(client) -> None:
    result = client.run("kubectl get pods")
    assert result.exit_code != 0
    assert "docker" in result.stderr
