"""The Docker-like client against the registries: pushes checked byte for byte, replay of a
client session, credentials (passwords, tokens, config.json), private repositories and teams."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re

import pytest

from labkit.accounts import ANONYMOUS
from labkit.client import mask_secrets
from labkit.shell import Result, human_duration, human_size
from labkit.world import Clock, World

PASSWORD = "s3cret-pass"
OTHER_PASSWORD = "other-pass-42"
PUSHED = re.compile(r"^(?P<tag>\S+): digest: (?P<digest>sha256:[0-9a-f]{64}) size: (?P<size>\d+)$")


def new_world() -> World:
    world = World.default(clock=Clock.fixed())
    world.add_user("fredysa", PASSWORD)
    world.add_user("otheruser", OTHER_PASSWORD)
    return world


def logged_in(world: World, user: str = "fredysa", password: str = PASSWORD, server: str = ""):
    client = world.client(user)
    result = client.run(f"docker login {server} -u {user} --password-stdin".strip(), password)
    assert result.ok, result.output
    return client


def pushed_lines(result: Result) -> list[re.Match[str]]:
    return [m for line in result.stdout.splitlines() if (m := PUSHED.match(line))]


# -- push output against the registry's stored bytes -------------------------------------


@pytest.mark.parametrize(
    ("image", "target", "registry", "path", "login"),
    [
        ("alpine:3.21", "fredysa/alpine:1.0", "docker.io", "fredysa/alpine", True),
        ("nginx:1.27-alpine", "fredysa/web:2.0", "docker.io", "fredysa/web", True),
        ("python:3.13-alpine", "localhost:5000/py:3", "localhost:5000", "py", False),
    ],
)
def test_push_prints_the_digest_and_size_of_the_stored_manifest(
    image: str, target: str, registry: str, path: str, login: bool
) -> None:
    world = new_world()
    client = logged_in(world) if login else world.client()
    assert client.run(f"docker pull {image}").ok
    assert client.run(f"docker tag {image} {target}").ok
    result = client.run(f"docker push {target}")
    assert result.ok, result.output
    (line,) = pushed_lines(result)
    principal = world.registry(registry).accounts.principal_for("fredysa") if login else ANONYMOUS
    stored = world.registry(registry).get_manifest(principal, path, line["tag"])
    assert line["digest"] == "sha256:" + hashlib.sha256(stored.data).hexdigest()
    assert int(line["size"]) == len(stored.data)
    # Every blob the manifest names is stored, and is what its digest says.
    manifest = json.loads(stored.data)
    blobs = [manifest["config"], *manifest["layers"]]
    for descriptor in blobs:
        blob = world.registry(registry).get_blob(principal, path, descriptor["digest"])
        assert descriptor["digest"] == "sha256:" + hashlib.sha256(blob).hexdigest()
        assert descriptor["size"] == len(blob)
    # Docker's schema2 layout: 3-space indent, Docker's key order.
    assert stored.data.startswith(b'{\n   "schemaVersion": 2,\n   "mediaType": ')


def test_push_layer_ids_are_diff_ids_and_pull_ids_are_blob_digests() -> None:
    world = new_world()
    client = logged_in(world)
    pull = client.run("docker pull alpine:3.21")
    client.run("docker tag alpine:3.21 fredysa/alpine:1.0")
    push = client.run("docker push fredysa/alpine:1.0")
    stored = world.registry().get_manifest(
        world.registry().accounts.principal_for("fredysa"), "fredysa/alpine", "1.0"
    )
    (layer,) = json.loads(stored.data)["layers"]
    blob = world.registry().get_blob(ANONYMOUS, "library/alpine", layer["digest"])
    diff_id = hashlib.sha256(gzip.decompress(blob)).hexdigest()
    assert f"{layer['digest'][7:19]}: Pull complete" in pull.stdout
    assert f"{diff_id[:12]}: Mounted from library/alpine" in push.stdout


def test_push_goes_through_the_registry_in_dockers_order() -> None:
    world = new_world()
    client = logged_in(world)
    client.run("docker pull nginx:1.27-alpine")
    client.run("docker tag nginx:1.27-alpine fredysa/web:1.0")
    first = client.run("docker push fredysa/web:1.0")
    statuses = [line.split(": ", 1)[1] for line in first.stdout.splitlines()[1:-1]]
    assert statuses == ["Mounted from library/nginx"] * 3
    again = client.run("docker push fredysa/web:1.0")
    statuses = [line.split(": ", 1)[1] for line in again.stdout.splitlines()[1:-1]]
    assert statuses == ["Layer already exists"] * 3
    assert pushed_lines(first)[0]["digest"] == pushed_lines(again)[0]["digest"]


# -- replay ------------------------------------------------------------------------------


def a_session() -> tuple[World, list[str]]:
    """A world after a session with logins, tokens, Hub actions and pushes; and the secrets
    typed in it."""
    world = new_world()
    hub = world.hub("fredysa")
    read_token = hub.create_token("read")
    write_token = hub.create_token("write")
    alice = world.client("alice")
    alice.run("docker login -u fredysa -p wrong-password-1")
    alice.run("docker login -u fredysa --password-stdin", PASSWORD)
    alice.run("docker pull alpine:3.21")
    alice.run("docker tag alpine:3.21 fredysa/alpine:1.0")
    alice.run("docker push fredysa/alpine:1.0")
    hub.set_visibility("alpine", True)
    bob = world.client("bob")
    bob.run("docker pull fredysa/alpine:1.0")
    bob.run(f"docker login -u otheruser -p {OTHER_PASSWORD}")
    bob.run("docker pull fredysa/alpine:1.0")
    hub.add_collaborator("alpine", "otheruser")
    bob.run("docker pull fredysa/alpine:1.0")
    carol = world.client("carol")
    carol.run("docker login -u fredysa --password-stdin", read_token)
    carol.run("docker pull fredysa/alpine:1.0")
    carol.run("docker tag fredysa/alpine:1.0 fredysa/alpine:carol")
    carol.run("docker push fredysa/alpine:carol")
    carol.run(f"docker login -u fredysa -p {write_token}")
    carol.run("docker push fredysa/alpine:carol")
    carol.run("docker logout")
    alice.run("docker rmi alpine:3.21")
    return world, [PASSWORD, OTHER_PASSWORD, read_token, write_token, "wrong-password-1"]


def test_replaying_a_session_gives_the_same_snapshot() -> None:
    world, _ = a_session()
    replayed = World.replay(world.events)
    assert replayed.snapshot() == world.snapshot()


def test_replay_from_json_gives_the_same_snapshot() -> None:
    world, _ = a_session()
    as_json = json.loads(json.dumps([event.to_json() for event in world.events]))
    assert World.replay(as_json).snapshot() == world.snapshot()


def test_replayed_commands_print_what_they_printed() -> None:
    world, _ = a_session()
    replayed = World.replay(world.events)
    for recorded, again in zip(world.events, replayed.events, strict=True):
        assert (recorded.kind, recorded.actor, recorded.action) == (
            again.kind,
            again.actor,
            again.action,
        )
        assert recorded.outcome == again.outcome


def test_no_secret_in_the_event_log_or_the_snapshot() -> None:
    world, secrets = a_session()
    events = json.dumps([event.to_json() for event in world.events])
    snapshot = json.dumps(world.snapshot())
    for secret in secrets:
        assert secret not in events
        assert secret not in snapshot
    assert "docker login -u otheruser -p '********'" in events


def test_a_forged_login_event_does_not_log_in_as_a_catalog_user() -> None:
    world = new_world()
    client = world.client()
    client.run("docker login -u fredysa -p " + PASSWORD)
    logins = [event.to_json() for event in world.events if event.kind == "docker"]
    forged = json.loads(json.dumps(logins).replace("fredysa", "acmeadmin"))
    assert forged[0]["outcome"]["login"]["ok"] is True
    replayed = World.replay(forged)
    assert replayed.clients["client-1"].snapshot()["logins"] == {}


# -- credentials ---------------------------------------------------------------------------


def test_config_json_is_base64_not_encryption() -> None:
    world = new_world()
    client = logged_in(world)
    config = json.loads(client.config_json())
    auth = config["auths"]["https://index.docker.io/v1/"]["auth"]
    assert base64.b64decode(auth).decode() == f"fredysa:{PASSWORD}"
    client.run("docker logout")
    assert json.loads(client.config_json()) == {"auths": {}}


def test_config_json_keys_other_registries_by_host() -> None:
    world = new_world()
    world.add_user("carol", "acme-pass-123", registry="registry.acme.com")
    client = logged_in(world, "carol", "acme-pass-123", server="registry.acme.com")
    auths = json.loads(client.config_json())["auths"]
    assert list(auths) == ["registry.acme.com"]


def test_a_failed_login_keeps_nothing() -> None:
    world = new_world()
    client = world.client()
    result = client.run("docker login -u nobodyhere --password-stdin", "guess-123")
    assert result.exit_code == 1
    assert client.store.logins() == {}
    assert json.loads(client.config_json()) == {"auths": {}}
    wrong = client.run("docker login -u fredysa -p not-it-123")
    assert wrong.exit_code == 1
    assert client.store.logins() == {}


def test_login_chunks_come_in_the_order_printed() -> None:
    world = new_world()
    result = world.client().run(f"docker login -u fredysa -p {PASSWORD}")
    streams = [stream for stream, _ in result.chunks]
    assert streams == ["stderr", "stderr", "stdout"]
    assert result.chunks[0][1].startswith("WARNING! Using --password via the CLI is insecure.")
    assert result.chunks[-1] == ("stdout", "Login Succeeded\n")
    assert result.output == "".join(text for _, text in result.chunks)
    assert result.stdout == "Login Succeeded\n"


def test_a_failed_push_prints_stdout_then_stderr() -> None:
    world = new_world()
    client = world.client()
    client.run("docker pull alpine:3.21")
    client.run("docker tag alpine:3.21 fredysa/alpine:1.0")
    result = client.run("docker push fredysa/alpine:1.0")
    assert [stream for stream, _ in result.chunks][-1] == "stderr"
    assert result.stderr == "denied: requested access to the resource is denied\n"
    assert result.output.startswith("The push refers to repository [docker.io/fredysa/alpine]\n")


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        ("docker login -u a -p secret-1", "docker login -u a -p '********'"),
        ("docker login -u a --password secret-1", "docker login -u a --password '********'"),
        ("docker login -u a --password=secret-1", "docker login -u a '--password=********'"),
        ("docker login -u a -psecret-1", "docker login -u a '-p********'"),
        ("docker pull alpine", "docker pull alpine"),
    ],
)
def test_mask_secrets(line: str, masked: str) -> None:
    assert mask_secrets(line) == masked
    assert "secret-1" not in mask_secrets(line)


# -- tokens ----------------------------------------------------------------------------------


def test_a_read_only_token_pulls_a_private_repository_but_cannot_push() -> None:
    world = new_world()
    owner = logged_in(world)
    owner.run("docker pull alpine:3.21")
    owner.run("docker tag alpine:3.21 fredysa/private:1.0")
    assert owner.run("docker push fredysa/private:1.0").ok
    world.hub("fredysa").set_visibility("private", True)
    token = world.hub("fredysa").create_token("read")
    ci = world.client("ci")
    assert ci.run("docker login -u fredysa --password-stdin", token).ok
    assert ci.run("docker pull fredysa/private:1.0").ok
    ci.run("docker tag fredysa/private:1.0 fredysa/private:ci")
    refused = ci.run("docker push fredysa/private:ci")
    assert refused.exit_code == 1
    assert refused.stderr.endswith("requested access to the resource is denied\n")


def test_a_write_token_pushes_and_a_revoked_token_no_longer_logs_in() -> None:
    world = new_world()
    hub = world.hub("fredysa")
    token = hub.create_token("write")
    token_id = world.events[-1].outcome["token_id"]
    ci = world.client("ci")
    assert ci.run(f"docker login -u fredysa -p {token}").ok
    ci.run("docker pull alpine:3.21")
    ci.run("docker tag alpine:3.21 fredysa/built:1")
    assert ci.run("docker push fredysa/built:1").ok
    hub.revoke_token(token_id)
    again = world.client("ci2").run(f"docker login -u fredysa -p {token}")
    assert again.exit_code == 1
    assert "incorrect username or password" in again.stderr


# -- private repositories, collaborators, teams ----------------------------------------------


def test_private_repository_denied_to_another_user_until_made_a_collaborator() -> None:
    world = new_world()
    owner = logged_in(world)
    owner.run("docker pull alpine:3.21")
    owner.run("docker tag alpine:3.21 fredysa/secret:1.0")
    assert owner.run("docker push fredysa/secret:1.0").ok
    world.hub("fredysa").set_visibility("secret", True)
    other = logged_in(world, "otheruser", OTHER_PASSWORD)
    denied = other.run("docker pull fredysa/secret:1.0")
    assert denied.exit_code == 1
    assert denied.stderr == (
        "Error response from daemon: pull access denied for fredysa/secret, repository does "
        "not exist or may require 'docker login': denied: requested access to the resource "
        "is denied\n"
    )
    # The same words as for a repository that does not exist: privacy is not revealed.
    missing = other.run("docker pull fredysa/nothing-here:1.0")
    assert missing.stderr == denied.stderr.replace("fredysa/secret", "fredysa/nothing-here")
    world.hub("fredysa").add_collaborator("secret", "otheruser")
    assert other.run("docker pull fredysa/secret:1.0").ok


def team_world() -> World:
    """An organization with a private repository, a Read-only and a Read & Write team."""
    world = World.default(clock=Clock.fixed())
    for name in ("orgowner", "reader", "writer"):
        world.add_user(name, f"{name}-pass-1", registry="registry.acme.com")
    hub = world.hub("orgowner", registry="registry.acme.com")
    hub.create_org("shop")
    hub.add_member("shop", "reader")
    hub.add_member("shop", "writer")
    hub.create_team("shop", "qa")
    hub.create_team("shop", "devs")
    hub.add_team_member("shop", "qa", "reader")
    hub.add_team_member("shop", "devs", "writer")
    hub.create_repository("shop/app", private=True)
    hub.grant("shop", "qa", "app", "read")
    hub.grant("shop", "devs", "app", "write")
    return world


def acme_client(world: World, user: str):
    client = world.client(user)
    result = client.run(
        f"docker login registry.acme.com -u {user} --password-stdin", f"{user}-pass-1"
    )
    assert result.ok, result.output
    client.run("docker pull alpine:3.21")
    client.run("docker tag alpine:3.21 registry.acme.com/shop/app:1.0")
    return client


def test_read_and_write_team_member_pushes_read_only_member_is_denied() -> None:
    world = team_world()
    writer = acme_client(world, "writer")
    pushed = writer.run("docker push registry.acme.com/shop/app:1.0")
    assert pushed.ok, pushed.output
    assert pushed.stdout.startswith("The push refers to repository [registry.acme.com/shop/app]")
    reader = acme_client(world, "reader")
    reader.run("docker tag alpine:3.21 registry.acme.com/shop/app:reader")
    refused = reader.run("docker push registry.acme.com/shop/app:reader")
    assert refused.exit_code == 1
    assert refused.stderr == "denied: requested access to the resource is denied\n"
    reader.run("docker rmi registry.acme.com/shop/app:1.0")
    assert reader.run("docker pull registry.acme.com/shop/app:1.0").ok


def test_a_team_grant_lets_a_member_pull_what_was_denied() -> None:
    world = team_world()
    acme_client(world, "writer").run("docker push registry.acme.com/shop/app:1.0")
    world.add_user("newbie", "newbie-pass-1", registry="registry.acme.com")
    hub = world.hub("orgowner", registry="registry.acme.com")
    hub.add_member("shop", "newbie")
    newbie = world.client("newbie")
    newbie.run("docker login registry.acme.com -u newbie --password-stdin", "newbie-pass-1")
    assert newbie.run("docker pull registry.acme.com/shop/app:1.0").exit_code == 1
    hub.add_team_member("shop", "qa", "newbie")
    assert newbie.run("docker pull registry.acme.com/shop/app:1.0").ok


def test_team_session_replays_to_the_same_snapshot() -> None:
    world = team_world()
    acme_client(world, "writer").run("docker push registry.acme.com/shop/app:1.0")
    reader = acme_client(world, "reader")
    reader.run("docker push registry.acme.com/shop/app:1.0")
    assert World.replay(world.events).snapshot() == world.snapshot()


# -- formatting helpers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.5, "Less than a second"),
        (1, "1 second"),
        (59, "59 seconds"),
        (60, "About a minute"),
        (119, "About a minute"),
        (120, "2 minutes"),
        (3599, "59 minutes"),
        (3600, "About an hour"),
        (2 * 3600, "2 hours"),
        (47 * 3600, "47 hours"),
        (48 * 3600, "2 days"),
        (14 * 24 * 3600, "2 weeks"),
        (60 * 24 * 3600, "2 months"),
        (2 * 365 * 24 * 3600, "2 years"),
    ],
)
def test_human_duration_matches_go_units(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0B"), (999, "999B"), (1000, "1kB"), (42496, "42.5kB"), (7_800_000, "7.8MB")],
)
def test_human_size_matches_go_units(size: int, text: str) -> None:
    assert human_size(size) == text


def test_the_engine_returns_what_it_did_and_prints_nothing() -> None:
    """Structured results: per-layer statuses and digests; shell alone renders the text."""
    from labkit.engine import CommandFailed, PullResult, PushResult
    from labkit.reference import parse_reference
    from labkit.world import Clock, World

    world = World.default(clock=Clock.fixed())
    world.add_user("fredysa", "s3cret-pass")
    docker = world.client()
    pulled = docker.pull(parse_reference("alpine:3.21"), all_tags=False)
    assert isinstance(pulled, PullResult) and pulled.downloaded
    [image] = pulled.images
    assert image.label == "3.21" and image.digest and image.digest.startswith("sha256:")
    assert [layer.status for layer in image.layers] == ["Pull complete"] * len(image.layers)
    again = docker.pull(parse_reference("alpine:3.21"), all_tags=False)
    assert not again.downloaded and again.images[0].layers == ()
    docker.tag("alpine:3.21", parse_reference("fredysa/alpine:1.0"))
    with pytest.raises(CommandFailed) as refused:
        docker.push(parse_reference("fredysa/alpine:1.0"), all_tags=False)
    partial = refused.value.partial
    assert isinstance(partial, PushResult) and partial.tags[0].digest is None
    assert refused.value.text.startswith("denied:")
    assert docker.login(None, "fredysa", "s3cret-pass").stored
    pushed = docker.push(parse_reference("fredysa/alpine:1.0"), all_tags=False)
    [tag] = pushed.tags
    assert tag.tag == "1.0" and tag.digest and tag.size > 0
    assert [layer.status for layer in tag.layers] == ["Mounted from library/alpine"]
    assert docker.remove("fredysa/alpine:1.0", force=False) == [
        ("Untagged", "fredysa/alpine:1.0"),
        ("Untagged", f"fredysa/alpine@{tag.digest}"),
    ]
    assert docker.logout(None) == "https://index.docker.io/v1/"
