"""labkit.labs.common: the helpers the lab modules share, and the catalog facts they read."""

from __future__ import annotations

import pytest

from labkit.labs import assessment as assessment_lab
from labkit.labs import common, demo, get_lab, official_images, start_here, tags


def test_newest_version_is_the_highest_version_tag_of_the_catalog():
    assert common.version_tags("alpine") == ("3.5", "3.18", "3.19", "3.20", "3.21")
    assert common.newest_version("alpine") == "3.21"
    # not what `latest` names: ubuntu's latest is 24.04, its newest version 24.10
    assert common.newest_version("ubuntu") == "24.10"
    assert "bookworm" not in common.version_tags("debian")
    with pytest.raises(KeyError):
        common.version_tags("no-such-image")


def test_the_labs_newest_tags_come_from_the_catalog():
    for name, tag in {**start_here.NEWEST, **tags.NEWEST}.items():
        assert tag == common.newest_version(name), name


@pytest.mark.parametrize(
    "table",
    [
        demo.OFFICIAL_TAGS,
        assessment_lab.OFFICIAL_TAGS,
        start_here.FIRST_IMAGES,
        tags.OLDER_TAGS,
        official_images.TAG_CHOICES,
    ],
    ids=["demo", "06-assessment", "00-start-here", "01-tags", "03-official-images"],
)
def test_every_tag_a_lab_offers_is_in_the_catalog(table):
    for name, offered in table.items():
        assert set(offered) <= set(common._catalog_tags()[name]), name


def test_run_login_and_push_leave_the_image_pushed():
    lab = get_lab("04-pushing")
    world = lab.new_world("ann")
    params = lab.params_for("ann")
    params = {**params, "source": "alpine:3.21"}
    target = f"{params['docker_id']}/mine:1.0"
    common.push_as_student(world, params, target)
    commands = [e.action for e in world.events if e.kind == "docker"]
    assert commands[-4:] == [
        f"docker login -u {params['docker_id']} --password-stdin",
        "docker pull alpine:3.21",
        f"docker tag alpine:3.21 {target}",
        f"docker push {target}",
    ]
    registry = world.find_registry("docker.io")
    assert "1.0" in registry.repository(target.split(":")[0]).tags


def test_pools_only_grow_at_their_end():
    """Variants draw from the pools by index: the first entries stay as they were."""
    assert common.PEOPLE[:6] == ("alexkim", "samlee", "jordanpa", "rivermoe", "caseyng", "morgantu")
    assert common.APPS[:6] == ("webshop", "notes", "weather", "tracker", "gallery", "planner")
