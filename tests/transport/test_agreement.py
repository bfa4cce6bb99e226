"""What ``%docker --wire`` shows is what ``labkit serve`` answers, for every golden transcript.

Each script of ``tests/transcripts`` runs twice on fresh, identical worlds: once through the
recording transport (``--wire``), once through the HTTP transport against ``labkit serve``
(one server per registry the world has). Both runs print the golden transcript, and every
request the recorder shows is the request the HTTP client really sent, answered by the server
with the same status, the same headers and the same body, in the same order. Only what a
deployment decides differs and is normalised: host names and ports, the token realm and
service, upload session ids, token values.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from labkit.server import ServerHandle, serve_in_background
from labkit.shell import display_line, split_here_string
from labkit.transport.http import HttpTransport
from labkit.transport.recording import Exchange, RecordingTransport
from labkit.world import Clock, World

TRANSCRIPTS = Path(__file__).resolve().parent.parent / "transcripts"
SCRIPTS = sorted(TRANSCRIPTS.glob("*.script"))
EXIT_LINE = re.compile(r"^\[exit code: \d+\]\n", re.MULTILINE)
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
SHOWN = ("content-length", "content-type", "docker-content-digest", "location", "range")
SHOWN += ("docker-upload-uuid", "www-authenticate")


def _world(script: Path) -> World:
    world = World.default(clock=Clock.fixed())
    users = script.with_suffix(".users")
    if users.exists():
        for spec in users.read_text().split():
            account, _, registry = spec.partition("@")
            name, _, password = account.partition(":")
            world.add_user(name, password, registry=registry or "docker.io")
    return world


def _commands(script: Path) -> Iterator[tuple[str, str, str | None]]:
    for raw in script.read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            yield (line, *split_here_string(line))


def _normal(text: str) -> str:
    text = UUID.sub("<uuid>", text)
    text = re.sub(r'realm="[^"]*"', 'realm="<realm>"', text)
    return re.sub(r'service="[^"]*"', 'service="<service>"', text)


def _query(path: str) -> tuple[str, list[tuple[str, str]]]:
    """A request path and its query, service normalised (deployment) and in order."""
    base, _, query = path.partition("?")
    pairs = [tuple(p.split("=", 1)) for p in query.split("&") if p] if query else []
    pairs = [(k, "<service>" if k == "service" else v) for k, v in pairs]
    return UUID.sub("<uuid>", base), pairs  # type: ignore[return-value]


def _comparable_body(shown: str, got: str) -> tuple[str, str]:
    if shown.startswith('{"token"'):  # tokens are secrets: the recorder shows a stand-in
        return "token", "token" if got.startswith('{"token"') else got
    return shown, got


def _agree(shown: Exchange, sent: Exchange) -> list[str]:
    """What differs between a recorded exchange and a real one (empty when they agree)."""
    where = f"{shown.method} {shown.path}"
    problems = []
    if (shown.method, _query(shown.path)) != (sent.method, _query(sent.path)):
        problems.append(f"request: --wire {where}, sent {sent.method} {sent.path}")
    if shown.status != sent.status:
        problems.append(f"{where}: status {shown.status} on --wire, {sent.status} served")
    got = {k.lower(): v for k, v in sent.response_headers}
    for key, value in shown.response_headers:
        if key.lower() in SHOWN and _normal(value) != _normal(got.get(key.lower(), "<none>")):
            problems.append(f"{where}: {key} {value!r} on --wire, {got.get(key.lower())!r} served")
    expected_body, body = _comparable_body(shown.body, sent.body)
    if _normal(expected_body) != _normal(body):
        problems.append(f"{where}: body {shown.body!r} on --wire, {sent.body!r} served")
    shown_auth = dict(shown.request_headers).get("Authorization", "").split(" ")[0]
    sent_auth = dict(sent.request_headers).get("Authorization", "").split(" ")[0]
    if shown_auth != sent_auth:
        problems.append(f"{where}: Authorization {shown_auth!r} on --wire, {sent_auth!r} sent")
    return problems


def _serve_all(world: World) -> dict[str, ServerHandle]:
    handles: dict[str, ServerHandle] = {}
    try:
        for host in world.registries:
            handles[host] = serve_in_background(world, registry=host)
    except BaseException:
        for handle in handles.values():
            handle.stop()
        raise
    return handles


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_wire_and_labkit_serve_agree_on_every_request(script: Path) -> None:
    expected = EXIT_LINE.sub("", script.with_suffix(".expected").read_text())
    recorded_world, served_world = _world(script), _world(script)
    recorded_client = recorded_world.client()
    handles = _serve_all(served_world)
    try:
        transport = HttpTransport({h: handle.url for h, handle in handles.items()}, log=True)
        http_client = served_world.client(transport=transport)
        recorded_text, served_text = [], []
        problems: list[str] = []
        requests = 0
        for line, command, stdin in _commands(script):
            recorder = RecordingTransport(recorded_world.find_registry)
            with recorded_client.using(recorder):
                recorded = recorded_client.run(command, stdin)
            transport.new_session()
            transport.exchanges.clear()
            served = http_client.run(command, stdin)
            recorded_text.append(f"$ {display_line(line)}\n{recorded.output}")
            served_text.append(f"$ {display_line(line)}\n{served.output}")
            shown, sent = recorder.exchanges, transport.exchanges
            requests += len(shown)
            if len(shown) != len(sent):
                problems.append(
                    f"{line}: {len(shown)} requests on --wire, {len(sent)} sent:\n"
                    + "\n".join(f"  {e.method} {e.path} {e.status}" for e in shown)
                    + "\n  ---\n"
                    + "\n".join(f"  {e.method} {e.path} {e.status}" for e in sent)
                )
                continue
            for a, b in zip(shown, sent, strict=True):
                problems += [f"{line}: {p}" for p in _agree(a, b)]
    finally:
        for handle in handles.values():
            handle.stop()
    assert "".join(recorded_text) == expected
    assert "".join(served_text) == expected
    assert problems == []
    if "push" in script.stem or "pull" in script.stem or "login" in script.stem:
        assert requests > 0  # the comparison really compared something
