"""Helpers the lab modules share: running docker commands in a task's solver, the pools that
variants draw names from, and facts about the catalog's images.

Image facts (which tags an official image has, its newest version) are read from
``labkit/data/catalog.json``, the data :meth:`labkit.world.World.default` loads, so a lab never
states them again. A pool's order is part of every variant drawn from it: add to its end only
(a lab that draws from the first six keeps ``POOL[:6]``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from labkit.world import World

__all__ = [
    "APPS",
    "PEOPLE",
    "login_student",
    "newest_version",
    "push_as_student",
    "run",
    "version_tags",
]

# Docker IDs of classmates, teammates and colleagues (variants add two digits).
PEOPLE = ("alexkim", "samlee", "jordanpa", "rivermoe", "caseyng", "morgantu", "robinfox")
# Application names for the students' own repositories.
APPS = ("webshop", "notes", "weather", "tracker", "gallery", "planner", "quotes", "recipes")

_VERSION = re.compile(r"^\d+(\.\d+)*$")


def run(world: World, *lines: str, stdin: str | None = None, client: str = "student") -> None:
    """Run docker command lines as ``client`` (a task's solver, an example's wrong state)."""
    shell = world.client(client)
    for line in lines:
        shell.run(line, stdin)


def login_student(world: World, params: Mapping[str, Any], client: str = "student") -> None:
    """Log the student in to Docker Hub, as ``docker login --password-stdin`` does."""
    login = f"docker login -u {params['docker_id']} --password-stdin"
    run(world, login, stdin=params["password"], client=client)


def push_as_student(
    world: World, params: Mapping[str, Any], target: str, *, login: bool = True
) -> None:
    """Pull the variant's source image, tag it as ``target`` and push it (logged in first)."""
    if login:
        login_student(world, params)
    run(world, f"docker pull {params['source']}", f"docker tag {params['source']} {target}")
    run(world, f"docker push {target}")


@cache
def _catalog_tags() -> dict[str, tuple[str, ...]]:
    text = resources.files("labkit").joinpath("data/catalog.json").read_text("utf-8")
    catalog: dict[str, Any] = json.loads(text)
    return {
        spec["path"].removeprefix("library/"): tuple(spec["tags"])
        for spec in catalog["repositories"]
        if spec.get("registry") == "docker.io" and spec.get("official")
    }


def version_tags(name: str) -> tuple[str, ...]:
    """The version tags (``3.21``, ``24.04``; not ``latest`` or ``bookworm``) the catalog's
    official image ``name`` has, oldest first."""
    tags = [t for t in _catalog_tags()[name] if _VERSION.match(t)]
    return tuple(sorted(tags, key=lambda t: tuple(int(p) for p in t.split("."))))


def newest_version(name: str) -> str:
    """The highest version tag of the catalog's official image ``name`` (not necessarily the
    one ``latest`` names: that is a lesson of lab 01)."""
    return version_tags(name)[-1]
