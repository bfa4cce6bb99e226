"""labkit.store: a client's local images, tags and logins, read through the query API."""

from __future__ import annotations

import json

from labkit.reference import parse_reference
from labkit.store import LocalStore, chain_ids, short_id
from labkit.world import Clock, World


def _pulled() -> tuple[World, LocalStore]:
    world = World.default(clock=Clock.fixed())
    world.add_user("fredysa", "s3cret-pass")
    docker = world.client()
    docker.run("docker pull alpine:3.21")
    docker.run("docker tag alpine:3.21 fredysa/app:1.0")
    docker.run("docker login -u fredysa --password-stdin", "s3cret-pass\n")
    return world, docker.store


def test_queries_answer_for_tags_images_layers_and_logins() -> None:
    _, store = _pulled()
    assert store.tags() == ("docker.io/fredysa/app:1.0", "docker.io/library/alpine:3.21")
    image = store.find("alpine:3.21")
    assert image is not None and store.find("fredysa/app:1.0") is image
    assert store.find(image.id) is image and store.find(short_id(image.id)) is image
    assert store.find("alpine") is None  # latest is implied, and there is none
    assert store.image_id_for(parse_reference("fredysa/app:1.0")) == image.id
    assert store.tags_of(image.id) == list(store.tags())
    [digest_ref] = store.digests_of(image.id)
    assert digest_ref.startswith("docker.io/library/alpine@sha256:")
    assert store.find(digest_ref) is image
    assert [layer.chain_id for layer in image.layers] == chain_ids(
        [layer.diff_id for layer in image.layers]
    )
    assert all(store.layer(layer.chain_id) == layer for layer in image.layers)
    assert store.layer_sources(image.layers[0].diff_id) == (("docker.io", "library/alpine"),)
    assert store.logins() == {"docker.io": "fredysa"}
    assert list(json.loads(store.config_json())["auths"]) == ["https://index.docker.io/v1/"]


def test_answers_are_copies_that_cannot_change_the_store() -> None:
    _, store = _pulled()
    tagged = store.tagged_images()
    tagged.clear()
    logins = store.logins()
    logins["ghcr.io"] = "someone"
    assert len(store.tagged_images()) == 2 and store.logins() == {"docker.io": "fredysa"}
    assert isinstance(store.tags(), tuple) and isinstance(store.images(), tuple)


def test_checks_read_the_store_through_the_world() -> None:
    from labkit.exercises import client_logins, client_tags

    world, _ = _pulled()
    assert client_logins(world) == {"client-1": {"docker.io": "fredysa"}}
    assert client_tags(world)["client-1"] == {
        "docker.io/fredysa/app:1.0",
        "docker.io/library/alpine:3.21",
    }


def test_removing_the_last_reference_deletes_the_image_and_its_unused_layers() -> None:
    world, store = _pulled()
    image = store.find("alpine:3.21")
    assert image is not None
    docker = world.client("client-1")
    docker.run("docker rmi -f " + image.id)
    assert store.images() == () and store.tags() == () and store.layer_ids() == ()
