"""World checks: what a task exercise reads from the simulated world's state.

Who is logged in where (:func:`client_logins`), which local tags each client holds
(:func:`client_tags`), whether someone may pull a repository (:func:`can_pull`) and whether an
image is pushed under a name, with the reason when it is not (:func:`check_pushed`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from labkit.accounts import Action, Principal
from labkit.errors import LabkitError
from labkit.exercises.model import MISTAKES, Part
from labkit.reference import Reference, parse_reference

if TYPE_CHECKING:
    from labkit.world import World

__all__ = ["can_pull", "check_pushed", "client_logins", "client_tags"]


def client_logins(world: World) -> dict[str, dict[str, str]]:
    """Who each client of ``world`` is logged in as: ``{client: {registry host: user}}``."""
    return {name: client.store.logins() for name, client in world.clients.items()}


def client_tags(world: World) -> dict[str, set[str]]:
    """The local tags (``docker.io/library/alpine:3.21`` form) each client holds."""
    return {name: set(client.store.tags()) for name, client in world.clients.items()}


def can_pull(world: World, user: str | None, ref: Reference) -> bool:
    """Whether ``user`` (None: anonymous) may pull ``ref``'s repository, by the registry's rules."""
    registry = world.find_registry(ref.domain)
    if registry is None or registry.peek(ref.path) is None:
        return False
    principal = Principal(user) if user else Principal()
    return bool(registry.decide(principal, Action.PULL, ref.path))


def check_pushed(
    world: World | None,
    key: Reference | str,
    *,
    digest: str | None = None,
    reader: str | None = "",
) -> list[Part]:
    """Parts for "the image is pushed as ``key``" (and, unless ``reader`` is "", "``reader``
    can pull it"; None means anyone, logged out).

    Mistakes: not-logged-in, not-pushed, wrong-namespace, wrong-tag, wrong-image, repo-private.
    """
    if world is None:
        raise LabkitError("a task is checked on a world")
    key_ref = parse_reference(key) if isinstance(key, str) else key
    key_ref = key_ref.with_default_tag()
    registry = world.find_registry(key_ref.domain)
    repo = registry.repository(key_ref.path) if registry else None
    tag = key_ref.tag or "latest"
    parts: list[Part] = []
    if repo is not None and tag in repo.tags:
        if digest is not None and repo.tags[tag] != digest:
            parts.append(Part("pushed", 0.5, 1.0, "wrong-image", MISTAKES["wrong-image"]))
        else:
            parts.append(Part("pushed", 1.0))
    else:
        parts.append(_why_not_pushed(world, key_ref, repo))
    if reader != "":
        if parts[0].score > 0 and not can_pull(world, reader, key_ref):
            who = f"`{reader}`" if reader else "others"
            parts.append(
                Part(
                    "others can pull",
                    0.0,
                    1.0,
                    "repo-private",
                    f"`{key_ref.familiar_name}` is private, so {who} cannot pull it",
                )
            )
        else:
            parts.append(Part("others can pull", 1.0 if parts[0].score > 0 else 0.0))
    return parts


def _why_not_pushed(world: World, key_ref: Reference, repo: Any) -> Part:
    tag = key_ref.tag or "latest"
    if repo is not None and repo.tags:
        tags = ", ".join(f"`{t}`" for t in sorted(repo.tags))
        return Part(
            "pushed",
            0.5,
            1.0,
            "wrong-tag",
            f"`{key_ref.familiar_name}` has the tag(s) {tags} but not `{tag}`",
        )
    registry = world.find_registry(key_ref.domain)
    if registry is not None:
        commands = [e.action for e in world.events if e.kind == "docker"]
        for path in registry.repository_paths():
            if path == key_ref.path or path.rpartition("/")[2] != key_ref.name:
                continue
            if not any(path in line for line in commands):
                continue
            other = registry.repository(path)
            if other is not None and tag in other.tags:
                return Part(
                    "pushed",
                    0.0,
                    1.0,
                    "wrong-namespace",
                    f"you pushed to `{other.path}`; the task asks for `{key_ref.path}`",
                )
    logged_in = any(key_ref.domain in hosts for hosts in client_logins(world).values())
    if not logged_in:
        return Part(
            "pushed",
            0.0,
            1.0,
            "not-logged-in",
            f"nothing is pushed, and no client is logged in to `{key_ref.domain}`: "
            "run `docker login` first",
        )
    return Part(
        "pushed",
        0.0,
        1.0,
        "not-pushed",
        f"`{key_ref.familiar}` is not in the registry yet: tag your image and `docker push` it",
    )
