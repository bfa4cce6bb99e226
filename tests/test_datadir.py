"""labkit.datadir: a registry kept on disk comes back whole in a new world."""

from __future__ import annotations

import hashlib
import json

from labkit.datadir import open_data_dir
from labkit.oci import make_image, synthetic_layer
from labkit.world import World

PASSWORD = "s3cret-pass"


def world_in(folder):
    world = World.default()
    registry = world.registry("docker.io")
    return world, registry, open_data_dir(folder, world, registry)


def test_accounts_teams_visibility_repositories_and_blobs_survive_a_restart(tmp_path):
    world, registry, data = world_in(tmp_path)
    world.add_user("alice", PASSWORD)
    world.add_user("bobby", PASSWORD)
    hub = world.hub("alice")
    hub.create_org("widgetco")
    hub.add_member("widgetco", "bobby")
    hub.create_team("widgetco", "devs", "the developers")
    hub.add_team_member("widgetco", "devs", "bobby")
    hub.create_repository("widgetco/web")
    hub.grant("widgetco", "devs", "widgetco/web", "write")
    hub.create_repository("alice/secret")
    hub.set_visibility("alice/secret", True)
    secret = hub.create_token("read", "ci")
    token_id = registry.accounts.tokens("alice")[0].token_id
    image = make_image([synthetic_layer("kept", files=2)])
    principal = registry.accounts.principal_for("alice")
    for digest, blob in image.blobs.items():
        upload = registry.start_upload(principal, "alice/app")
        registry.finish_upload(upload, digest, blob)
        data.repository_changed(registry, "alice/app")
    registry.put_manifest(principal, "alice/app", "1.0", image.manifest)
    data.repository_changed(registry, "alice/app")
    staged = registry.start_upload(principal, "alice/later")  # a first push, no manifest yet
    registry.finish_upload(staged, "sha256:" + hashlib.sha256(b"later").hexdigest(), b"later")
    data.repository_changed(registry, "alice/later")
    registry.repository("library/alpine")  # a catalog repository, loaded (not changed)
    before = registry.snapshot()
    data.close()

    _, restored, data2 = world_in(tmp_path)
    try:
        assert restored.snapshot() == before
        assert restored.accounts.authenticate("alice", PASSWORD) is not None
        assert restored.accounts.authenticate("alice", "wrong-password") is None
        assert restored.accounts.authenticate("alice", secret).token_id == token_id
        assert restored.get_manifest(principal, "alice/app", "1.0").data == image.manifest
        for digest, blob in image.blobs.items():
            assert restored.get_blob(principal, "alice/app", digest) == blob
        assert restored.repository("alice/later") is None  # staged only, still invisible
        assert restored.check_blob(principal, "alice/later", staged_digest()) == 5
        assert restored.invariant_errors() == []
    finally:
        data2.close()


def staged_digest() -> str:
    return "sha256:" + hashlib.sha256(b"later").hexdigest()


def test_a_torn_journal_line_is_dropped(tmp_path):
    world, registry, data = world_in(tmp_path)
    world.add_user("alice", PASSWORD)
    principal = registry.accounts.principal_for("alice")
    upload = registry.start_upload(principal, "alice/app")
    registry.finish_upload(upload, staged_digest(), b"later")
    data.repository_changed(registry, "alice/app")
    data.close()
    journal = tmp_path / "journal.jsonl"
    whole = journal.read_bytes()
    torn = json.dumps({"repo": "alice/other", "state": {"exists": False, "staged": ["x"]}})
    journal.write_bytes(whole + torn.encode()[:20])  # the crash came mid-line
    _, restored, data2 = world_in(tmp_path)
    try:
        assert restored.check_blob(principal, "alice/app", staged_digest()) == 5
        assert "alice/other" not in restored.staged_paths()
        assert journal.read_bytes() == b""  # compacted into the snapshot at open
    finally:
        data2.close()


def test_deleted_repositories_stay_deleted(tmp_path):
    world, _, data = world_in(tmp_path)
    world.add_user("alice", PASSWORD)
    world.hub("alice").create_repository("alice/gone")
    world.hub("alice").delete_repository("alice/gone")
    data.close()
    _, restored, data2 = world_in(tmp_path)
    try:
        assert restored.repository("alice/gone") is None
        assert "library/alpine" in restored.repository_paths()  # the catalog is still there
    finally:
        data2.close()
