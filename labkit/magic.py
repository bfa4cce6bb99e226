"""``%docker`` and ``%%docker``: type docker commands in a notebook cell.

``%load_ext labkit`` (the lab set-up cell does it) registers them::

    %docker pull alpine                   # one command; "docker" is implied
    %%docker                              # a cell of command lines, each echoed as "$ docker ..."
    docker tag alpine fredysa/alpine:1.0
    docker login -u fredysa --password-stdin <<< s3cret-pass
    docker push fredysa/alpine:1.0

Output goes to stdout and stderr in the order Docker prints it; a failing command prints its
error and never raises a traceback; the magic returns nothing, so nothing is echoed twice.
Standard input (for ``--password-stdin``) is given with a bash here-string, ``<<< VALUE``.
``%%docker --progress`` shows the full progress stream instead of the final view, and
``%docker --wire push ...`` (or ``%%docker --wire``) also prints the HTTP requests and responses
behind the command.
A ``docker login`` that would prompt for a password shows a password box instead (it never
blocks, so executed notebooks never hang).

The commands run on the current client: the lab's (``labkit.start`` selects it) or, outside a
lab, one client of a default world made on first use (:func:`use_client` changes it).
"""

from __future__ import annotations

# Lazy imports (inside functions): IPython.display and ipywidgets (python -X importtime: ipywidgets
# 0.4 s) load when %docker first needs them.
import shlex
import sys
from typing import Any

from labkit.client import Client
from labkit.shell import Result, display_line, split_here_string
from labkit.transport.recording import format_exchanges, run_with_wire
from labkit.world import World, world_lock

__all__ = ["current_client", "load_ipython_extension", "run_line", "use_client"]

_client: Client | None = None


def use_client(client: Client) -> None:
    """Make ``%docker`` drive ``client``."""
    global _client
    _client = client


def current_client() -> Client:
    """The client ``%docker`` drives (a default world's, made on first use)."""
    global _client
    if _client is None:
        _client = World.default().client("student")
    return _client


def _emit(result: Result) -> None:
    for stream, text in result.chunks:
        target = sys.stdout if stream == "stdout" else sys.stderr
        target.write(text)
        target.flush()


def _needs_prompt(line: str, stdin: str | None) -> tuple[bool, str, str | None]:
    """Whether ``line`` is a ``docker login`` that would prompt; returns (prompt, user, server)."""
    try:
        words = shlex.split(line)
    except ValueError:
        return False, "", None
    if len(words) < 2 or words[0] != "docker" or words[1] != "login" or stdin is not None:
        return False, "", None
    user, server, password = "", None, False
    rest = words[2:]
    index = 0
    while index < len(rest):
        word = rest[index]
        if word in ("-u", "--username") and index + 1 < len(rest):
            user = rest[index + 1]
            index += 1
        elif word.startswith("--username="):
            user = word.partition("=")[2]
        elif word.startswith("-u") and len(word) > 2:
            user = word[2:]
        elif word in ("-p", "--password", "--password-stdin") or word.startswith(
            ("--password=", "-p")
        ):
            password = True
        elif word.startswith("-"):
            return False, "", None  # let Docker's own parser report it
        else:
            server = word
        index += 1
    return (not password), user, server


def run_line(
    line: str, *, progress: bool = False, echo: bool = False, wire: bool = False
) -> Result | None:
    """Run one command line on the current client and print its output.

    ``wire=True`` also prints the HTTP exchanges Docker would have with the registry.
    """
    command, stdin = split_here_string(line.strip())
    if echo:
        print(f"$ {display_line(line.strip())}", flush=True)
    prompt, user, server = _needs_prompt(command, stdin)
    client = current_client()
    if prompt and not (user == "" and client.stored_credential(server)):
        _login_widget(client, user, server)
        return None
    with world_lock(client.world):  # a registry served from this kernel shares the world
        if wire:
            result, exchanges = run_with_wire(client, command, stdin)
        else:
            result = client.run(command, stdin, progress=progress)
    _emit(result)
    if wire:
        print(format_exchanges(exchanges), flush=True)
    return result


def _magic_options(words: list[str]) -> tuple[set[str], list[str]]:
    """labkit's own options (``--wire``, ``--progress``) in front of the docker arguments."""
    options = set()
    while words and words[0] in ("--wire", "--progress"):
        options.add(words.pop(0))
    return options, words


def docker_line(line: str) -> None:
    """``%docker [--wire] ARGS``: run ``docker ARGS``; ``--wire`` shows the HTTP exchanges."""
    options, rest = _magic_options(line.split(" "))
    run_line(
        f"docker {' '.join(rest)}".strip(),
        wire="--wire" in options,
        progress="--progress" in options,
    )


def docker_cell(line: str, cell: str) -> None:
    """``%%docker [--progress] [--wire]``: run each command line of the cell, echoing it as
    ``$ docker ...``."""
    options, _ = _magic_options(line.split())
    for raw in cell.splitlines():
        text = raw.strip().removeprefix("$ ").strip()
        if not text or text.startswith("#"):
            continue
        run_line(text, progress="--progress" in options, echo=True, wire="--wire" in options)


def _login_widget(client: Client, user: str, server: str | None) -> Any:
    """A username/password box standing in for Docker's interactive prompt."""
    import ipywidgets as widgets
    from IPython.display import display

    target = server or "Docker Hub"
    username = widgets.Text(value=user, description="Username:", placeholder="your Docker ID")
    password = widgets.Password(description="Password:", placeholder="not a real password!")
    button = widgets.Button(description="Log in", icon="sign-in")
    feedback = widgets.HTML(
        value=(
            f"<span>Log in to {target}. This is a simulation: never type a real password "
            "here.</span>"
        )
    )

    def log_in(_: Any) -> None:
        words = ["docker", "login", "-u", username.value, "--password-stdin"]
        if server:
            words.append(server)
        result = client.run(shlex.join(words), stdin=password.value + "\n")
        password.value = ""
        text = result.output.strip().replace("&", "&amp;").replace("<", "&lt;")
        mark = "✔" if result.ok else "✘"
        feedback.value = f"<pre>{mark} {text}</pre>"

    button.on_click(log_in)
    box = widgets.VBox([widgets.HBox([username, password, button]), feedback])
    box.username, box.password, box.button, box.feedback = username, password, button, feedback
    display(box)
    return box


def load_ipython_extension(ipython: Any) -> None:
    """Register ``%docker`` and ``%%docker`` (``%load_ext labkit``)."""
    ipython.register_magic_function(docker_line, "line", "docker")
    ipython.register_magic_function(docker_cell, "cell", "docker")
