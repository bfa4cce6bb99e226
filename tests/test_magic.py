"""%docker and %%docker in an IPython shell (no kernel needed)."""

from __future__ import annotations

import pytest
from IPython.core.interactiveshell import InteractiveShell

from labkit import magic
from labkit.world import Clock, World


@pytest.fixture
def ip():
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "labkit")
    world = World.default(clock=Clock.fixed())
    world.add_user("fredysa", "s3cret-pass")
    magic.use_client(world.client("student"))
    yield shell
    magic._client = None


def test_line_magic_prints_docker_output_and_returns_nothing(ip, capsys):
    value = ip.run_line_magic("docker", "pull alpine:3.21")
    out = capsys.readouterr()
    assert value is None
    assert out.out.startswith("3.21: Pulling from library/alpine\n")
    assert out.out.endswith("docker.io/library/alpine:3.21\n")
    assert out.err == ""


def test_errors_go_to_stderr_without_a_traceback(ip, capsys):
    ip.run_line_magic("docker", "pull Alpine")
    out = capsys.readouterr()
    assert out.out == ""
    assert (
        out.err == "invalid reference format: repository name (library/Alpine) must be lowercase\n"
    )


def test_cell_magic_echoes_each_command_and_reads_here_strings(ip, capsys):
    ip.run_cell_magic(
        "docker",
        "",
        "# the classic flow\n"
        "docker pull alpine\n"
        "$ docker tag alpine fredysa/alpine:1.0\n"
        "docker login -u fredysa --password-stdin <<< s3cret-pass\n"
        "docker push fredysa/alpine:1.0\n",
    )
    out = capsys.readouterr()
    assert "$ docker pull alpine\n" in out.out
    assert "$ docker tag alpine fredysa/alpine:1.0\n" in out.out
    assert "$ docker login -u fredysa --password-stdin <<< ********\n" in out.out
    assert "Login Succeeded\n" in out.out
    assert ": Mounted from library/alpine\n" in out.out
    assert "s3cret-pass" not in out.out + out.err
    client = magic.current_client()
    assert "s3cret-pass" not in repr([e.to_json() for e in client.world.events])


def test_cell_magic_progress_option_shows_the_stream(ip, capsys):
    ip.run_cell_magic("docker", "--progress", "docker pull busybox:1.37\n")
    out = capsys.readouterr().out
    assert ": Pulling fs layer\n" in out
    assert ": Download complete\n" in out


def test_interactive_login_shows_a_password_box_instead_of_prompting(ip, capsys):
    assert ip.run_line_magic("docker", "login -u fredysa") is None
    assert "Cannot perform an interactive login" not in capsys.readouterr().err
    box = magic._login_widget(magic.current_client(), "fredysa", None)
    box.password.value = "s3cret-pass"
    box.button.click()
    assert "Login Succeeded" in box.feedback.value
    assert box.password.value == ""
    assert magic.current_client().snapshot()["logins"] == {"https://index.docker.io/v1/": "fredysa"}


def test_needs_prompt_only_for_logins_without_a_password():
    assert magic._needs_prompt("docker login", None)[0]
    assert magic._needs_prompt("docker login -u x registry.acme.com", None) == (
        True,
        "x",
        "registry.acme.com",
    )
    assert not magic._needs_prompt("docker login -u x -p y", None)[0]
    assert not magic._needs_prompt("docker login -u x --password-stdin", "pw\n")[0]
    assert not magic._needs_prompt("docker pull alpine", None)[0]


def test_wire_option_prints_the_http_exchanges(ip, capsys):
    ip.run_line_magic("docker", "--wire pull busybox:1.37")
    out = capsys.readouterr().out
    assert "docker.io/library/busybox:1.37\n" in out
    assert "GET" in out and "/v2/library/busybox/manifests/1.37" in out


def test_magic_options_are_only_taken_in_front():
    assert magic._magic_options(["--wire", "push", "x"]) == ({"--wire"}, ["push", "x"])
    assert magic._magic_options(["push", "--wire"]) == (set(), ["push", "--wire"])


def test_docker_lines_never_import_the_server_or_tornado():
    """In Pyodide, tornado is the kernel's own stand-in: %docker must not need labkit.server."""
    import subprocess
    import sys

    code = (
        "import sys, labkit.magic as m\n"
        "from labkit.world import World\n"
        "m.use_client(World.default().client('student'))\n"
        "m.run_line('docker pull alpine')\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] == 'tornado'"
        " or n == 'labkit.server')\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"
