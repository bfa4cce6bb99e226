"""Pull, push, login and logout held against the real Docker 28.2.2 client.

The real client talks to tests/engine_stub.py (labkit's simulated daemon behind the Engine API
on a unix socket, the client in a network namespace of its own: nothing but that socket is
reachable) with stdout and stderr on terminals of their own and stdin a pipe: labkit's terminal
model (docs/fidelity.md, "The terminal"). What each terminal shows once the command has finished
(engine_stub.render_terminal: the redrawn progress lines in their final state, colours dropped,
trailing blanks invisible) must be what labkit prints for the same line on an identical world.

What this holds labkit to: everything the client decides around the daemon's stream (the
"Using default tag" line and -q, the full reference printed after a pull, the push --platform
note, the client's platform parse, how an error before and inside the stream is printed, exit
codes), the terminal's final view of moby's progress messages, and the whole login and logout
flow of the client's own credential store (a throwaway DOCKER_CONFIG): the "stored unencrypted"
warning only when the entry changed (cli/config/credentials/file_store.go:80-99), "Authenticating
with existing credentials" (cli/command/registry/login.go:143-175), ``logout docker.io`` keeping
the Docker Hub login (logout.go:38-81). What the daemon decides (which layers, which error) is
labkit's on both sides.

Each flow runs in order on two worlds; each line cites the source it checks. Every golden
transcript (tests/transcripts/) is run the same way, line by line. Recordings of the
real client's answers (tests/data/engine-oracle/flows.json) keep the comparison on machines
without the client: ``python tests/test_engine_oracle_flows.py`` re-records them.
"""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path

import pytest
from engine_stub import EngineStub

from labkit.commandline import split_comment
from labkit.shell import split_here_string
from labkit.world import Clock, World

NO_CLIENT = shutil.which("docker") is None or shutil.which("bwrap") is None
STUDENT = "student"
USERS = [("fredysa", "s3cret-pass", "docker.io"), ("carol", "acme-pass-123", "registry.acme.com")]
REVOKE = "revoke the token"
DIGEST = "sha256:5173132a8d67a7b2e2590f4da3ba10a135b42ca05d8b4e6cb7247e4ce77febe5"  # alpine:3.21
BUSYBOX = "sha256:3eb495b39e70ed3cc0522a2b937fbb3678608fd7f81ae8820c490c9727b68eee"  # busybox:1.37

# flow name -> [(docker command line, source of what is checked)]
FLOWS: dict[str, list[tuple[str, str]]] = {
    "pull": [
        ("docker pull alpine", "cli/command/image/pull.go:74-78 default tag; pull.go:99 ref"),
        ("docker pull alpine", "moby distribution/pull.go:94-101 Image is up to date"),
        ("docker pull nginx:1.27-alpine", "pull_v2.go:387 header, xfer final statuses, :553"),
        (f"docker pull busybox@{BUSYBOX}", "pull_v2.go:345-347,387 whole reference (28.x)"),
        (f"docker pull busybox@{DIGEST}", "errors.go:51-60 a digest the repository lacks"),
        ("docker image pull -a busybox", "pull.go:50 -a, pull_v2.go per tag, one Status"),
        ("docker pull -q ubuntu", "pull.go:51,76, trust.go:164-167 stream discarded"),
        ("docker pull -a busybox:latest", "pull.go:72-73 tag with -a"),
        ("docker pull alpine:nope", "moby distribution/errors.go:51-60 before the stream"),
        ("docker pull nosuch/thing", "errors.go:51-60 DENIED, HTTP error"),
        ("docker pull registry.acme.com/engineering/web-app:1.0", "errors.go:51-60"),
        ("docker pull nosuch.example.com/thing:1.0", "no such host, HTTP error"),
        ("docker pull Alpine", "pull.go:69 ParseNormalizedNamed, client side"),
        ("docker pull --platform linux/amd64 debian:12", "image_routes.go:58-63 parsed"),
        ("docker pull --platform bogus alpine:3.21", "image_routes.go:58-61 InvalidParameter"),
        ("docker pull --platform 'linux/*' alpine", "platforms.go:223-226 wildcards"),
    ],
    "push": [
        ("docker pull nginx:1.27-alpine", "setup"),
        ("docker pull alpine:3.21", "setup"),
        ("docker tag nginx:1.27-alpine fredysa/web:1.0", "setup"),
        ("docker tag alpine:3.21 fredysa/web:base", "setup"),
        ("docker push fredysa/nothing:1.0", "moby distribution/push.go:48-56 in the stream"),
        ("docker push fredysa/web", "push.go:100-104 default tag; tag does not exist"),
        ("docker push fredysa/web:1.0", "push_v2.go denied: Preparing lines left"),
        ("docker login -u fredysa --password-stdin <<< s3cret-pass", "login.go:89-106"),
        ("docker push fredysa/web:1.0", "push_v2.go Mounted from, :206 digest line"),
        ("docker push --all-tags fredysa/web", "push.go:58 -a every tag"),
        ("docker push -q fredysa/web:base", "push.go:141-146 -q: the reference only"),
        ("docker push -a fredysa/web:1.0", "push.go:98-99 tag with -a"),
        (f"docker push fredysa/web@{DIGEST}", "cannot push a digest reference"),
        ("docker tag alpine:3.21 localhost:5000/alpine:3.21", "setup"),
        ("docker push localhost:5000/alpine:3.21", "push_v2.go Pushed"),
        ("docker push --platform linux/amd64 localhost:5000/alpine:3.21", "push.go:87-90 note"),
        ("docker push --platform x/y/z/w localhost:5000/alpine:3.21", "push.go:81-85"),
        ("docker push -q --platform linux/amd64 localhost:5000/alpine:3.21", "note with -q"),
        ("docker tag alpine:3.21 nosuch.example.com/x:1", "setup"),
        ("docker push nosuch.example.com/x:1", "no such host in the stream"),
    ],
    "login-logout": [
        ("docker login -u fredysa -p not-my-password", "login.go:96-98 warning; /auth 401"),
        ("docker login -u fredysa -p s3cret-pass", "file_store.go:80-99 warning"),
        ("docker login -u fredysa --password-stdin <<< s3cret-pass", "file_store.go:82-85"),
        ("docker login -u fredysa --password-stdin <<< not-my-password", "/auth 401"),
        ("docker login --password-stdin <<< s3cret-pass", "login.go:80-82"),
        ("docker login -u fredysa", "login.go:196-198 non-TTY stdin"),
        ("docker login", "login.go:125-128,143-175 stored credentials"),
        ("docker login docker.io -u fredysa --password-stdin <<< s3cret-pass", "login.go:115"),
        ("docker login registry.acme.com -u carol --password-stdin <<< acme-pass-123", "login"),
        ("docker login registry.acme.com", "login.go:143-175 stored, another registry"),
        ("docker login localhost:5000 -u anyone -p anything", "registry:2 without auth"),
        ("docker login nosuch.example.com -u fredysa -p s3cret-pass", "/auth: no such host"),
        ("docker logout", "logout.go:41-44,64 the index server"),
        ("docker logout registry.acme.com", "logout.go:50-55 hostname"),
        ("docker logout https://localhost:5000/", "logout.go:51 ConvertToHostname"),
        ("docker logout", "logout.go: nothing stored, same line"),
        ("docker login -u fredysa --password-stdin <<< s3cret-pass", "login again"),
        ("docker logout docker.io", "logout.go:41-55 docker.io is not the default"),
        ("docker login", "the Docker Hub login is still there"),
        ("docker logout https://index.docker.io/v1/", "logout.go:50-55"),
        ("docker login", "login.go:196-198 nothing stored: non-TTY"),
    ],
    # {token}: a personal access token of fredysa's; "revoke the token" is done on Docker Hub
    "token": [
        ("docker login -u fredysa --password-stdin <<< {token}", "login.go:93-104 a token"),
        ("docker pull alpine:3.21", "setup"),
        ("docker login", "login.go:125-128,143-175 the stored token still works"),
        (REVOKE, "Docker Hub: the token is revoked"),
        ("docker login", "login.go:158-162 Stored credentials invalid or expired, :196-200"),
        ("docker logout", "logout.go:41-44,64"),
    ],
}


def new_world(clock: Clock | None = None) -> World:
    world = World.default(clock=clock) if clock is not None else World.default()
    for name, password, registry in USERS:
        world.add_user(name, password, registry=registry)
    return world


def visible(text: str) -> str:
    """A terminal shows no trailing blanks."""
    return "\n".join(line.rstrip(" ") for line in text.split("\n"))


def token_of(world: World) -> str:
    return world.hub("fredysa").create_token("write", "labkit flows")


def revoke(world: World) -> None:
    hub = world.hub("fredysa")
    hub.revoke_token(hub.accounts.tokens("fredysa")[0].token_id)


def run_flow(name: str, clock: Clock | None = None) -> list[dict]:
    """Every line of a flow through the real client (behind the stub) and through labkit."""
    world_real, world_ours = new_world(clock), new_world(clock)
    tokens = (token_of(world_real), token_of(world_ours)) if name == "token" else ("", "")
    ours_client = world_ours.client(STUDENT)
    config = f"{ours_client.config_dir}/config.json"
    results = []
    with EngineStub(world_real.client(STUDENT)) as stub:
        for template, source in FLOWS[name]:
            if template == REVOKE:
                revoke(world_real)
                revoke(world_ours)
                continue
            line = template.replace("{token}", tokens[0])
            command, stdin = split_here_string(line)
            real = stub.docker(*shlex.split(command)[1:], stdin=stdin, tty=True)
            ours = ours_client.run(*split_here_string(template.replace("{token}", tokens[1])))
            results.append(
                {
                    "line": template,
                    "source": source,
                    "real": [
                        visible(real.stdout),
                        visible(real.stderr.replace(f"{stub.config_dir}/config.json", config)),
                        real.returncode,
                    ],
                    "ours": [visible(ours.stdout), visible(ours.stderr), ours.exit_code],
                }
            )
    return results


@pytest.mark.skipif(NO_CLIENT, reason="the real docker client (and bwrap) are not installed")
@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FLOWS))
def test_the_real_client_on_a_terminal_shows_what_labkit_prints(name: str) -> None:
    for result in run_flow(name):
        assert result["ours"] == result["real"], f"{result['line']} ({result['source']})"


# -- recordings ------------------------------------------------------------------------------

RECORDED = Path(__file__).parent / "data" / "engine-oracle" / "flows.json"


def record() -> None:
    document = {
        "source": "Docker 28.2.2 client on terminals against tests/engine_stub.py "
        "(python tests/test_engine_oracle_flows.py)",
        "flows": {
            name: [
                {"line": r["line"], "source": r["source"], "real": r["real"]}
                for r in run_flow(name, Clock.fixed())
            ]
            for name in sorted(FLOWS)
        },
    }
    RECORDED.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
    print(f"recorded {sum(len(f) for f in document['flows'].values())} lines")


def test_every_flow_line_is_recorded_and_cites_a_source() -> None:
    recorded = json.loads(RECORDED.read_text())["flows"]
    assert sorted(recorded) == sorted(FLOWS)
    for name, lines in FLOWS.items():
        assert [r["line"] for r in recorded[name]] == [line for line, _ in lines if line != REVOKE]
        assert all(source for _, source in lines)


@pytest.mark.parametrize("name", sorted(FLOWS))
def test_labkit_prints_what_the_real_client_showed(name: str) -> None:
    """The recordings, without the real client: labkit on a fixed-clock world."""
    recorded = iter(json.loads(RECORDED.read_text())["flows"][name])
    world = new_world(Clock.fixed())
    token = token_of(world) if name == "token" else ""
    client = world.client(STUDENT)
    for template, _source in FLOWS[name]:
        if template == REVOKE:
            revoke(world)
            continue
        entry = next(recorded)
        command, stdin = split_here_string(entry["line"].replace("{token}", token))
        ours = client.run(command, stdin)
        got = [visible(ours.stdout), visible(ours.stderr), ours.exit_code]
        assert got == entry["real"], entry["line"]


if __name__ == "__main__":
    record()


# -- every golden transcript through the real client -----------------------------------------

TRANSCRIPTS = Path(__file__).parent / "transcripts"
# lines the real client behind the stub cannot answer as Docker would, each a documented
# difference (docs/fidelity.md rows "docker images --tree", "docker version", "A line that is
# not docker ..."): the stub has no tree view and no /version, and ls is not docker
NOT_COMPARED = {
    "docker images --tree",
    "docker version",
    "docker version -f '{{.Client.Version}}'",
    "ls -l",
}


@pytest.mark.skipif(NO_CLIENT, reason="the real docker client (and bwrap) are not installed")
@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(TRANSCRIPTS.glob("*.script")), ids=lambda p: p.stem)
def test_every_golden_transcript_is_what_the_real_client_shows(script: Path) -> None:
    """Each line of each golden transcript, run by the real client on terminals against the
    stub and by labkit, on two worlds set up alike (real clocks, so that ages agree): the same
    stdout, stderr and exit code (rows of one image compared as sets: Go map order,
    docs/fidelity.md). tests/test_transcripts.py holds labkit to the .expected files."""
    users = script.with_suffix(".users")
    specs = users.read_text().split() if users.exists() else []
    worlds = World.default(), World.default()
    for world in worlds:
        for spec in specs:
            account, _, registry = spec.partition("@")
            name, _, password = account.partition(":")
            world.add_user(name, password, registry=registry or "docker.io")
    ours_client = worlds[1].client(STUDENT)
    config = f"{ours_client.config_dir}/config.json"
    lines = [
        raw.strip()
        for raw in script.read_text().splitlines()
        if raw.strip() and not raw.strip().startswith("#")
    ]
    compared = skipped = 0
    with EngineStub(worlds[0].client(STUDENT)) as stub:
        for line in lines:
            command, stdin = split_here_string(line)
            words = shlex.split(split_comment(command)[0])
            real = stub.docker(*words[1:], stdin=stdin, tty=True)
            ours = ours_client.run(command, stdin)
            if split_comment(command)[0] in NOT_COMPARED:
                skipped += 1
                continue
            got = [visible(ours.stdout), visible(ours.stderr), ours.exit_code]
            want = [
                visible(real.stdout),
                visible(real.stderr.replace(f"{stub.config_dir}/config.json", config)),
                real.returncode,
            ]
            if words[:2] == ["docker", "images"] or words[:3] == ["docker", "image", "ls"]:
                got[0], want[0] = sorted(got[0].split("\n")), sorted(want[0].split("\n"))
            assert got == want, line
            compared += 1
    assert compared == len(lines) - skipped and skipped <= 2
