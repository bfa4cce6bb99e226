"""Tests for labkit.world: the default world, digests, scans, Hub actions, events and replay."""

from __future__ import annotations

import gzip
import hashlib
import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labkit import oci
from labkit.accounts import ANONYMOUS, Action, Principal
from labkit.errors import LabkitError, RegistryError
from labkit.registry import Registry
from labkit.world import Clock, Event, ScanReport, World

PASSWORD = "student-password-1"

PINNED_MANIFESTS = {
    ("docker.io", "library/alpine", "latest"): (
        "sha256:5173132a8d67a7b2e2590f4da3ba10a135b42ca05d8b4e6cb7247e4ce77febe5"
    ),
    ("docker.io", "library/alpine", "3.5"): (
        "sha256:feaa587fbea1c56f754c38d69a69584ba663bcbde85a6b0dec07448e927392b0"
    ),
    ("docker.io", "library/python", "3.13-alpine"): (
        "sha256:b19143519ce122ee54116e3abe546514e0b38ec703f1e836db701046a6896dde"
    ),
    ("docker.io", "library/ubuntu", "19.04"): (
        "sha256:949030ae2aa9bec6d56b784efd4890c898c17cd19f27c4bb6f095ad26dabbafd"
    ),
    ("registry.acme.com", "engineering/web-app", "1.0"): (
        "sha256:5943260b4fdda513d1c729a27fa726ea15d663902aa87ce5e0a4d4d5baae4bfc"
    ),
}


@pytest.fixture(scope="module")
def world() -> World:
    """One default world, read only by the tests that use it."""
    return World.default(clock=Clock.fixed())


def fresh_world() -> World:
    world = World.default(clock=Clock.fixed())
    world.add_user("student", PASSWORD)
    world.add_user("friend", PASSWORD)
    return world


def reader(registry: Registry, path: str) -> Principal:
    """Someone who may pull the repository: anonymous when public, else a user who may."""
    candidates = [ANONYMOUS, *(Principal(user) for user in sorted(registry.accounts.users))]
    for principal in candidates:
        if registry.decide(principal, Action.PULL, path):
            return principal
    raise AssertionError(f"nobody may pull {path} on {registry.host}")


# ----------------------------------------------------------------------------------------
# Digests: hashlib over the stored bytes, round trips, pins


def test_every_digest_in_the_default_world_is_the_sha256_of_its_bytes() -> None:
    world = World.default()
    checked_manifests = checked_blobs = 0
    for registry in world.registries.values():
        for path in registry.repository_paths():
            principal = reader(registry, path)
            repo = registry.repository(path)
            assert repo.manifests, f"{registry.host}/{path} has no manifests"
            for tag, digest in repo.tags.items():
                assert registry.get_manifest(principal, path, tag).digest == digest
            for digest, stored in repo.manifests.items():
                served = registry.get_manifest(principal, path, digest)
                assert served.data == stored.data
                assert "sha256:" + hashlib.sha256(served.data).hexdigest() == digest
                document = json.loads(served.data)
                config = document["config"]
                config_bytes = registry.get_blob(principal, path, config["digest"])
                assert "sha256:" + hashlib.sha256(config_bytes).hexdigest() == config["digest"]
                assert len(config_bytes) == config["size"]
                diff_ids = json.loads(config_bytes)["rootfs"]["diff_ids"]
                assert len(diff_ids) == len(document["layers"])
                for layer, diff_id in zip(document["layers"], diff_ids, strict=True):
                    blob = registry.get_blob(principal, path, layer["digest"])
                    assert "sha256:" + hashlib.sha256(blob).hexdigest() == layer["digest"]
                    assert len(blob) == layer["size"]
                    assert registry.check_blob(principal, path, layer["digest"]) == len(blob)
                    uncompressed = gzip.decompress(blob)
                    assert "sha256:" + hashlib.sha256(uncompressed).hexdigest() == diff_id
                    checked_blobs += 1
                checked_manifests += 1
        assert registry.invariant_errors() == []
    assert checked_manifests >= 30 and checked_blobs >= 40


def test_manifest_bytes_round_trip_unchanged_through_a_push() -> None:
    world = fresh_world()
    hub = world.registry("docker.io")
    stored = hub.get_manifest(ANONYMOUS, "library/alpine", "3.5")
    student = Principal("student")
    manifest = oci.parse_manifest(stored.data, stored.media_type)
    for digest in manifest.referenced_blobs:
        assert hub.mount_blob(student, "student/alpine", digest, "library/alpine") is True
    digest = hub.put_manifest(student, "student/alpine", "3.5", stored.data, stored.media_type)
    assert digest == stored.digest
    assert hub.get_manifest(ANONYMOUS, "student/alpine", "3.5").data == stored.data
    # The digest a student computes with hashlib is the digest they see.
    assert "sha256:" + hashlib.sha256(stored.data).hexdigest() == digest


@pytest.mark.parametrize("key", sorted(PINNED_MANIFESTS), ids=lambda k: f"{k[1]}:{k[2]}")
def test_pinned_manifest_digests(key: tuple[str, str, str], world: World) -> None:
    host, path, tag = key
    registry = world.registry(host)
    stored = registry.repository(path).manifests[registry.repository(path).tags[tag]]
    assert stored.digest == PINNED_MANIFESTS[key]
    assert hashlib.sha256(stored.data).hexdigest() == PINNED_MANIFESTS[key][7:]


def test_catalog_images_are_shared_by_tags_and_derived_images(world: World) -> None:
    hub = world.registry("docker.io")
    alpine = hub.repository("library/alpine")
    assert alpine.tags["latest"] == alpine.tags["3.21"]
    python = oci.parse_manifest(hub.get_manifest(ANONYMOUS, "library/python", "3.13-alpine").data)
    base = oci.parse_manifest(hub.get_manifest(ANONYMOUS, "library/alpine", "3.21").data)
    assert python.layers[0] == base.layers[0]
    # The same world built twice has the same bytes.
    again = World.default().registry("docker.io").repository("library/python")
    assert again.snapshot() == hub.repository("library/python").snapshot()


# ----------------------------------------------------------------------------------------
# The default world


def test_docker_hub_is_reached_under_its_three_names(world: World) -> None:
    hub = world.registry("docker.io")
    assert hub.profile.name == "hub"
    assert world.registry("index.docker.io") is hub
    assert world.registry("registry-1.docker.io") is hub
    assert world.find_registry("hub.docker.com") is None
    with pytest.raises(LabkitError, match=r"no registry 'nowhere\.example'"):
        world.registry("nowhere.example")


OFFICIAL = {
    "alpine": {"3.5", "latest"},
    "busybox": {"latest"},
    "ubuntu": {"19.04", "latest"},
    "nginx": {"latest"},
    "python": {"latest", "3.13-alpine"},
}


@pytest.mark.parametrize("name", sorted(OFFICIAL))
def test_official_images(name: str, world: World) -> None:
    hub = world.registry("docker.io")
    meta = hub.peek(f"library/{name}")
    assert meta is not None and meta.official is True and meta.private is False
    assert meta.description and len(meta.description) <= 100
    assert meta.stars > 0
    assert OFFICIAL[name] <= set(hub.list_tags(ANONYMOUS, f"library/{name}"))


def test_classic_examples_and_other_registries(world: World) -> None:
    hub = world.registry("docker.io")
    assert "latest" in hub.list_tags(ANONYMOUS, "microsoft/nanoserver")
    assert hub.peek("microsoft/nanoserver").official is False
    assert "12.0" in hub.list_tags(ANONYMOUS, "acme/web-api")
    gcr = world.registry("gcr.io")
    assert "1.1" in gcr.list_tags(ANONYMOUS, "gnschenker/sample-app")
    acme = world.registry("registry.acme.com")
    assert acme.profile.name == "private-on-push"
    assert "engineering" in acme.accounts.orgs
    assert acme.peek("engineering/web-app").private is True
    with pytest.raises(RegistryError) as error:
        acme.get_manifest(ANONYMOUS, "engineering/web-app", "1.0")
    assert error.value.code == "DENIED"
    assert acme.get_manifest(Principal("devlead"), "engineering/web-app", "1.0").size > 0
    assert world.registry("quay.io").profile.name == "private-on-push"
    assert world.registry("ghcr.io").profile.name == "private-on-push"
    ecr = [r for r in world.registries.values() if r.profile.name == "ecr"]
    assert len(ecr) == 1
    local = world.registry("localhost:5000")
    assert local.profile.name == "open" and local.profile.open_access
    local.create_repository(ANONYMOUS, "mine")
    assert local.catalog(ANONYMOUS) == ["mine"]


def test_creating_a_world_loads_no_image_bytes() -> None:
    world = World.default()
    hub = world.registry("docker.io")
    assert hub.peek("library/alpine").manifests == {}  # seeded, filled on first use
    assert hub.repository("library/alpine").manifests


# ----------------------------------------------------------------------------------------
# Simulated scans


def test_older_tags_have_more_findings(world: World) -> None:
    def total(reference: str) -> int:
        return len(world.scan(reference).findings)

    alpine = [total(f"alpine:{tag}") for tag in ("3.5", "3.18", "3.19", "3.20", "3.21")]
    assert alpine == sorted(alpine, reverse=True) and alpine[0] > alpine[-1]
    assert total("ubuntu:19.04") > total("ubuntu:24.04") == total("ubuntu")
    assert total("alpine:3.5") > total("alpine:latest")


def test_scan_reports_are_labelled_simulated(world: World) -> None:
    report = world.scan("docker.io/library/alpine:3.5")
    assert isinstance(report, ScanReport)
    assert report.simulated is True and "simulated" in report.notice.lower()
    assert report.reference == "alpine:3.5"
    assert report.digest == PINNED_MANIFESTS[("docker.io", "library/alpine", "3.5")]
    assert all(f.id.startswith("LABKIT-SIM-") for f in report.findings)
    assert all("simulated" in f.title for f in report.findings)
    assert sum(report.counts().values()) == len(report.findings)
    data = json.loads(json.dumps(report.to_json()))
    assert data["simulated"] is True and len(data["findings"]) == len(report.findings)
    # Deterministic: the same report every time, in any world.
    assert World.default().scan("alpine:3.5") == report
    by_digest = world.scan(f"alpine@{report.digest}")
    assert by_digest.findings == report.findings


@pytest.mark.parametrize(
    "reference", ["alpine:nope", "nosuchuser/nosuchimage", "alpine@sha256:" + "0" * 64]
)
def test_scan_of_an_unknown_image_is_manifest_unknown(reference: str, world: World) -> None:
    with pytest.raises(RegistryError) as info:
        world.scan(reference)
    assert info.value.code == "MANIFEST_UNKNOWN" and info.value.status == 404


# ----------------------------------------------------------------------------------------
# Hub actions and the event log


def last(world: World) -> Event:
    return world.events[-1]


def test_each_hub_action_works_and_is_recorded() -> None:
    world = fresh_world()
    assert [(e.action, e.actor, dict(e.args)) for e in world.events] == [
        ("sign_up", "student", {"registry": "docker.io", "user": "student"}),
        ("sign_up", "friend", {"registry": "docker.io", "user": "friend"}),
    ]
    hub = world.hub("student")
    registry = world.registry("docker.io")
    steps = [
        (lambda: hub.create_repository("web", private=False), "create_repository"),
        (lambda: hub.set_visibility("web", True), "set_visibility"),
        (lambda: hub.set_description("web", "my app"), "set_description"),
        (lambda: hub.add_collaborator("web", "friend"), "add_collaborator"),
        (lambda: hub.remove_collaborator("web", "friend"), "remove_collaborator"),
        (lambda: hub.set_default_privacy(True), "set_default_privacy"),
        (lambda: hub.create_org("studentorg"), "create_org"),
        (lambda: hub.add_member("studentorg", "friend", "editor"), "add_member"),
        (lambda: hub.set_role("studentorg", "friend", "member"), "set_role"),
        (lambda: hub.create_team("studentorg", "devs", "developers"), "create_team"),
        (lambda: hub.add_team_member("studentorg", "devs", "friend"), "add_team_member"),
        (lambda: hub.create_repository("studentorg/api"), "create_repository"),
        (lambda: hub.grant("studentorg", "devs", "api", "write"), "grant"),
        (lambda: hub.revoke("studentorg", "devs", "api"), "revoke"),
        (lambda: hub.remove_team_member("studentorg", "devs", "friend"), "remove_team_member"),
        (lambda: hub.delete_team("studentorg", "devs"), "delete_team"),
        (lambda: hub.remove_member("studentorg", "friend"), "remove_member"),
        (lambda: hub.delete_repository("web"), "delete_repository"),
    ]
    for step, action in steps:
        count = len(world.events)
        step()
        event = last(world)
        assert len(world.events) == count + 1
        assert (event.kind, event.actor, event.action) == ("hub", "student", action)
        assert event.args["registry"] == "docker.io"
        assert event.outcome == {"ok": True}
        assert event.seq == count + 1
    assert registry.repository("student/web") is None
    assert registry.repository("studentorg/api").private is False  # the org's default: public
    snapshot = world.snapshot()["registries"]["docker.io"]
    assert snapshot["accounts"]["users"]["student"]["default_private"] is True
    assert snapshot["accounts"]["orgs"]["studentorg"]["members"] == {"student": "owner"}


def test_org_repository_follows_the_org_default_privacy() -> None:
    world = fresh_world()
    hub = world.hub("student")
    hub.create_org("openorg")
    hub.create_repository("openorg/site")
    assert world.registry().repository("openorg/site").private is False
    hub.set_default_privacy(True, namespace="openorg")
    hub.create_repository("openorg/other")
    assert world.registry().repository("openorg/other").private is True


def test_a_team_grant_decides_pushes() -> None:
    world = fresh_world()
    hub = world.hub("student")
    hub.create_org("studentorg")
    hub.create_repository("studentorg/api", private=True)
    hub.create_team("studentorg", "devs")
    hub.add_team_member("studentorg", "devs", "friend")
    registry = world.registry()
    friend = Principal("friend")
    assert not registry.decide(friend, Action.PULL, "studentorg/api")
    hub.grant("studentorg", "devs", "api", "read")
    assert registry.decide(friend, Action.PULL, "studentorg/api")
    assert not registry.decide(friend, Action.PUSH, "studentorg/api")
    hub.grant("studentorg", "devs", "studentorg/api", "write")
    assert registry.decide(friend, Action.PUSH, "studentorg/api")
    assert last(world).args["permission"] == "write"


def test_setting_up_again_what_you_own_changes_nothing() -> None:
    """A notebook's set-up cell run again (after a kernel restart, the world comes back from the
    record): what the owner already has is not refused and records nothing; the same names held
    by someone else still are."""
    world = fresh_world()
    hub = world.hub("student")

    def set_up() -> None:
        hub.create_org("studentorg")
        hub.create_team("studentorg", "qa")
        hub.add_team_member("studentorg", "qa", "friend")
        hub.create_repository("studentorg/web", private=True)
        hub.create_repository("mine", private=False)

    set_up()
    before = len(world.events)
    set_up()
    assert len(world.events) == before
    friend = world.hub("friend")
    with pytest.raises(LabkitError, match="already taken"):
        friend.create_org("studentorg")
    with pytest.raises(RegistryError):
        friend.create_repository("studentorg/web", private=True)
    with pytest.raises(RegistryError):  # the same name but not as asked: refused as before
        hub.create_repository("mine", private=True)
    assert len(world.events) == before + 3
    hub.grant("studentorg", "qa", "web", "read")
    hub.revoke("studentorg", "qa", "web")
    hub.remove_team_member("studentorg", "qa", "friend")
    done = len(world.events)
    hub.revoke("studentorg", "qa", "web")  # taken away already: nothing to do
    hub.remove_team_member("studentorg", "qa", "friend")
    assert len(world.events) == done
    # what was never there is still refused: a repository that does not exist
    with pytest.raises(LabkitError, match="no permission"):
        hub.revoke("studentorg", "qa", "nothing-here")


def test_refused_hub_actions_are_recorded_and_raise() -> None:
    world = fresh_world()
    world.hub("student").create_repository("web")
    friend = world.hub("friend")
    refusals = [
        (lambda: friend.set_visibility("student/web", True), RegistryError, "set_visibility"),
        (lambda: friend.delete_repository("student/web"), RegistryError, "delete_repository"),
        (lambda: friend.create_repository("student/x"), RegistryError, "create_repository"),
        (lambda: friend.add_member("library", "friend"), LabkitError, "add_member"),
        (lambda: friend.create_team("nosuchorg", "devs"), LabkitError, "create_team"),
        (lambda: friend.create_org("student"), LabkitError, "create_org"),
        (lambda: friend.revoke_token("no-such-token"), LabkitError, "revoke_token"),
        (lambda: friend.set_default_privacy(True, "library"), LabkitError, "set_default_privacy"),
        (lambda: friend.add_collaborator("web", "student"), RegistryError, "add_collaborator"),
    ]
    for step, error_type, action in refusals:
        count = len(world.events)
        with pytest.raises(error_type) as info:
            step()
        event = last(world)
        assert len(world.events) == count + 1
        assert (event.actor, event.action) == ("friend", action)
        assert event.outcome == {"ok": False, "error": str(info.value)}
    assert world.registry().repository("student/web").private is False


def test_unknown_users_and_bad_arguments() -> None:
    world = fresh_world()
    with pytest.raises(LabkitError, match="sign up first"):
        world.hub("nobody")
    with pytest.raises(LabkitError, match="unknown permission"):
        world.hub("student").grant("library", "x", "alpine", "superuser")
    with pytest.raises(LabkitError):
        world.add_user("student", PASSWORD)
    with pytest.raises(LabkitError):
        world.add_user("Bad_Name", PASSWORD)


def test_no_secret_is_ever_in_the_events_or_the_snapshot() -> None:
    world = fresh_world()
    hub = world.hub("student")
    secret = hub.create_token("write", "laptop")
    token_id = last(world).outcome["token_id"]
    assert secret.startswith("dckr_pat_")
    hub.revoke_token(token_id)
    other = hub.create_token("read")
    world.add_user("acmeuser", "acme-secret-pass", registry="registry.acme.com")
    events = json.dumps([e.to_json() for e in world.events])
    snapshot = json.dumps(world.snapshot())
    for text in (secret, other, PASSWORD, "acme-secret-pass", secret[9:]):
        assert text not in events
        assert text not in snapshot
    assert token_id in events and token_id in snapshot


def test_events_are_ordered_and_json_round_trip() -> None:
    world = fresh_world()
    world.hub("student").create_repository("web")
    events = world.events
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert [e.time for e in events] == sorted(e.time for e in events)
    for event in events:
        data = json.loads(json.dumps(event.to_json()))
        assert Event.from_json(data) == event


MALFORMED = [
    None,
    [],
    "event",
    {},
    {"seq": 1, "time": "2026-01-01T00:00:00+00:00", "kind": "hub", "actor": "a"},
    {"seq": "one", "time": "2026-01-01T00:00:00", "kind": "hub", "actor": "a", "action": "x"},
    {"seq": 1, "time": "yesterday", "kind": "hub", "actor": "a", "action": "x"},
    {"seq": 1, "time": "2026-01-01T00:00:00", "kind": "shell", "actor": "a", "action": "x"},
    {
        "seq": 1,
        "time": "2026-01-01T00:00:00",
        "kind": "hub",
        "actor": "a",
        "action": "x",
        "args": [1, 2],
    },
    {
        "seq": 1,
        "time": "2026-01-01T00:00:00",
        "kind": "hub",
        "actor": "a",
        "action": "x",
        "outcome": 5,
    },
]


@pytest.mark.parametrize("data", MALFORMED)
def test_event_from_json_rejects_malformed_events(data: object) -> None:
    with pytest.raises(LabkitError, match="malformed event"):
        Event.from_json(data)  # type: ignore[arg-type]
    with pytest.raises(LabkitError, match="malformed event"):
        World.replay([data])  # type: ignore[list-item]


def test_replay_rejects_unknown_hub_actions() -> None:
    world = fresh_world()
    event = {
        "seq": 3,
        "time": "2026-11-27T09:00:05+00:00",
        "kind": "hub",
        "actor": "student",
        "action": "__init__",
        "args": {},
    }
    with pytest.raises(LabkitError, match="unknown Hub action"):
        World.replay([*world.events, event])


# ----------------------------------------------------------------------------------------
# Replay: random Hub action sequences give the same world again

USERS = ["anna", "benno", "carla", "dockerlibrary", "acmeadmin"]
ORGS = ["orgone", "orgtwo", "library", "engineering"]
# Weighted towards what exists, so that most actions do something and some are refused.
ACTORS = ["anna", "anna", "anna", "benno", "benno", "carla", "dockerlibrary", "acmeadmin"]
LIKELY_ORGS = ["orgone", "orgone", "orgone", "orgtwo", "library", "engineering"]
TEAMS = ["devs", "ops"]
REPOS = ["app", "orgone/app", "orgone/app", "orgone/web", "orgtwo/site", "engineering/web-app"]
HOSTS = ["docker.io", "registry.acme.com"]

actor = st.sampled_from(ACTORS)
hub_action = st.one_of(
    st.tuples(st.just("sign_up"), st.sampled_from(USERS), st.sampled_from(HOSTS)),
    st.tuples(st.just("create_org"), actor, st.sampled_from(LIKELY_ORGS)),
    st.tuples(
        st.just("add_member"),
        actor,
        st.sampled_from(LIKELY_ORGS),
        st.sampled_from(USERS),
        st.sampled_from(["member", "editor", "owner"]),
    ),
    st.tuples(st.just("create_team"), actor, st.sampled_from(LIKELY_ORGS), st.sampled_from(TEAMS)),
    st.tuples(
        st.just("add_team_member"),
        actor,
        st.sampled_from(LIKELY_ORGS),
        st.sampled_from(TEAMS),
        st.sampled_from(USERS),
    ),
    st.tuples(
        st.just("grant"),
        actor,
        st.sampled_from(LIKELY_ORGS),
        st.sampled_from(TEAMS),
        st.sampled_from(REPOS),
        st.sampled_from(["read", "write", "admin"]),
    ),
    st.tuples(
        st.just("revoke"),
        actor,
        st.sampled_from(LIKELY_ORGS),
        st.sampled_from(TEAMS),
        st.sampled_from(REPOS),
    ),
    st.tuples(
        st.just("create_repository"),
        actor,
        st.sampled_from(REPOS),
        st.sampled_from([None, True, False]),
    ),
    st.tuples(st.just("set_visibility"), actor, st.sampled_from(REPOS), st.booleans()),
    st.tuples(
        st.just("set_default_privacy"),
        actor,
        st.booleans(),
        st.sampled_from([None, *ORGS]),
    ),
    st.tuples(st.just("add_collaborator"), actor, st.sampled_from(REPOS), st.sampled_from(USERS)),
    st.tuples(st.just("create_token"), actor, st.sampled_from(["read", "write", "delete"])),
    st.tuples(st.just("revoke_token"), actor, st.integers(0, 3)),
)
hosted_action = st.tuples(
    st.sampled_from(["docker.io", "docker.io", "registry.acme.com"]), hub_action
)


def perform(world: World, host: str, action: tuple) -> None:
    """Do one generated action; refusals (LabkitError) are part of the story."""
    name, *args = action
    try:
        if name == "sign_up":
            world.add_user(args[0], PASSWORD, registry=args[1])
            return
        hub = world.hub(args[0], host)
        if name == "revoke_token":
            tokens = [
                e.outcome["token_id"]
                for e in world.events
                if e.action == "create_token" and e.outcome.get("ok") and e.actor == args[0]
            ]
            args[1] = tokens[args[1]] if args[1] < len(tokens) else "no-such-token"
        getattr(hub, name)(*args[1:])
    except LabkitError:
        pass


@pytest.mark.slow  # a property test of many examples: `make test`, not test-fast
@settings(max_examples=200)
@given(st.lists(hosted_action, min_size=5, max_size=30))
def test_replay_of_random_hub_actions_gives_an_equal_world(actions: list) -> None:
    world = World.default(clock=Clock.fixed())
    for user in USERS[:3]:
        world.add_user(user, PASSWORD)
    world.hub("anna").create_org("orgone")
    world.hub("anna").create_team("orgone", "devs")
    world.hub("anna").create_repository("app")
    world.hub("anna").grant("orgone", "devs", "app", "read")
    for host, action in actions:
        perform(world, host, action)
    snapshot = world.snapshot()
    replayed = World.replay(world.events)
    assert replayed.events == world.events
    assert replayed.snapshot() == snapshot
    through_json = json.loads(json.dumps([event.to_json() for event in world.events]))
    from_json = World.replay(through_json)
    assert [e.to_json() for e in from_json.events] == through_json
    assert from_json.snapshot() == snapshot


def test_replay_reproduces_a_refusal_as_a_refusal() -> None:
    world = fresh_world()
    world.hub("student").create_repository("web")
    with pytest.raises(RegistryError):
        world.hub("friend").set_visibility("student/web", True)
    replayed = World.replay(world.events)
    assert replayed.events == world.events
    assert replayed.events[-1].outcome["ok"] is False
    assert replayed.registry().repository("student/web").private is False


def test_replay_with_a_variant_sets_up_the_world_first() -> None:
    def variant(world: World) -> None:
        world.registry().accounts.add_user("varuser", PASSWORD)

    world = World.default(clock=Clock.fixed())
    variant(world)
    world.hub("varuser").create_repository("thing", private=True)
    replayed = World.replay(world.events, variant)
    assert replayed.snapshot() == world.snapshot()
    # Without the variant varuser does not exist: the action cannot happen, so the replayed
    # world has neither the repository nor the event (a grader sees the logs differ).
    bare = World.replay(world.events)
    assert "varuser/thing" not in bare.registry().repository_paths()
    assert len(bare.events) == len(world.events) - 1


# ----------------------------------------------------------------------------------------
# The scan: an inventory per image, advisories on version ranges


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(n) for n in text.split("."))


SCANNED = ("alpine:3.5", "alpine:3.18", "alpine:3.19", "alpine:3.20", "alpine:3.21")


@pytest.mark.parametrize("reference", [*SCANNED, "ubuntu:20.04", "nginx:1.26", "python:3.12"])
def test_a_scan_lists_each_package_once_and_findings_on_its_version(reference, world):
    report = world.scan(reference)
    names = [name for name, _ in report.packages]
    assert names and len(names) == len(set(names))  # one version per package
    inventory = dict(report.packages)
    for finding in report.findings:
        assert finding.installed == inventory[finding.package]
        low = finding.affected.removeprefix(">= ").split(",")[0].split(" ")[0]
        assert _version(low) <= _version(finding.installed)
        if finding.fixed_in:
            assert _version(finding.installed) < _version(finding.fixed_in)
            assert finding.affected == f">= {low}, < {finding.fixed_in}"


def test_newer_tags_ship_newer_packages_and_fix_advisories(world):
    reports = [world.scan(reference) for reference in SCANNED]
    for older, newer in itertools.pairwise(reports):
        old, new = dict(older.packages), dict(newer.packages)
        assert all(_version(new[p]) > _version(v) for p, v in old.items())
    fixed = {f.id for f in reports[0].findings} - {f.id for f in reports[-1].findings}
    assert fixed and reports[-1].findings == ()
    newest = dict(reports[-1].packages)
    for finding in reports[0].findings:  # the newest tag ships a fixed version of each
        assert _version(newest[finding.package]) >= _version(finding.fixed_in)
