"""Time and memory of labkit.world and labkit.registry (issue 3's goals).

Run: .venv/bin/python bench/world_bench.py
Prints the median time of ``World.default()``; of pushing a 5-layer image into a new
repository through the registry operations, in Docker's order (check each blob, mount the
shared base layer from library/alpine, upload the rest in two chunks, put the manifest); of
pulling it back (manifest and every blob); of replaying a 200-event log of Hub actions; and
the memory held (tracemalloc) after loading every official image's repository of docker.io
and reading all their blobs. Goals: world under 50 ms, push under 5 ms, replay under 100 ms,
under 50 MB held. Standard library and labkit only.
"""

from __future__ import annotations

import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable

from labkit import oci
from labkit.accounts import ANONYMOUS, Principal
from labkit.errors import LabkitError, RegistryError
from labkit.registry import Registry
from labkit.world import Clock, World

PASSWORD = "bench-password-1"


def median_ms(
    run: Callable[[], object], rounds: int, setup: Callable[[], object] | None = None
) -> float:
    """Median wall time of ``run(setup())`` (or ``run()``) in milliseconds; setup untimed."""
    times = []
    for _ in range(rounds):
        argument = setup() if setup is not None else None
        start = time.perf_counter()
        run(argument) if setup is not None else run()  # type: ignore[call-arg]
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def five_layer_image(world: World) -> oci.Image:
    base = world.catalog_image("alpine-3.21")
    extra = [{"label": f"bench-layer-{n}", "files": 6, "size_hint": 20_000} for n in range(4)]
    image = oci.image_from_layers(base, extra, cmd=["/app/run"])
    _ = (image.blobs, image.manifest)  # made once: a client has the bytes before it pushes
    return image


def docker_push(registry: Registry, who: Principal, path: str, tag: str, image: oci.Image) -> str:
    """Docker's order: per layer HEAD, then mount or upload; the config; the manifest."""
    blobs = [(layer.digest, layer.blob, True) for layer in image.layers]
    blobs.append((image.id, image.config_bytes, False))
    for digest, blob, is_layer in blobs:
        try:
            registry.check_blob(who, path, digest)
            continue
        except RegistryError:
            pass
        if is_layer and registry.mount_blob(who, path, digest, "library/alpine"):
            continue
        upload_id = registry.start_upload(who, path)
        half = len(blob) // 2
        registry.upload_chunk(upload_id, blob[:half])
        registry.finish_upload(upload_id, digest, blob[half:], size=len(blob) - half)
    return registry.put_manifest(who, path, tag, image.manifest, oci.MEDIA_TYPE_DOCKER_MANIFEST)


def docker_pull(registry: Registry, who: Principal, path: str, tag: str) -> int:
    stored = registry.get_manifest(who, path, tag)
    manifest = oci.parse_manifest(stored.data, stored.media_type)
    return sum(len(registry.get_blob(who, path, d)) for d in manifest.referenced_blobs)


def hub_log(count: int = 200) -> tuple:
    """A world whose log holds ``count`` Hub events (some refused), and the events."""
    world = World.default(clock=Clock.fixed())
    users = [f"student{n:02d}" for n in range(12)]
    script: list[Callable[[], object]] = [
        lambda user=user: world.add_user(user, PASSWORD) for user in users
    ]
    for n, user in enumerate(users):
        org = f"classorg{n % 3}"
        hub = lambda user=user: world.hub(user)  # noqa: E731
        script += [
            lambda hub=hub, n=n: hub().create_repository(f"app{n}", private=n % 2 == 0),
            lambda hub=hub, org=org: hub().create_org(org),
            lambda hub=hub, org=org, n=n: hub().create_team(org, f"team{n}"),
            lambda hub=hub, org=org: hub().add_member(org, "student00", "member"),
            lambda hub=hub, org=org, n=n: hub().create_repository(f"{org}/svc{n}"),
            lambda hub=hub, org=org, n=n: hub().grant(org, f"team{n}", f"svc{n}", "write"),
            lambda hub=hub, n=n: hub().set_visibility(f"app{n}", n % 3 == 0),
            lambda hub=hub: hub().create_token("write"),
            lambda hub=hub, n=n: hub().add_collaborator(f"app{n}", "student01"),
            lambda hub=hub, n=n: hub().set_default_privacy(n % 2 == 1),
            lambda hub=hub, org=org, n=n: hub().add_team_member(org, f"team{n}", "student02"),
            lambda hub=hub, org=org, n=n: hub().revoke(org, f"team{n}", f"svc{n}"),
            lambda hub=hub: hub().set_visibility("student00/app0", True),
            lambda hub=hub: hub().create_token("read"),
            lambda hub=hub, org=org, n=n: hub().grant(org, f"team{n}", f"svc{n}", "admin"),
            lambda hub=hub, n=n: hub().set_description(f"app{n}", "bench"),
        ]
    for step in script:
        if len(world.events) >= count:
            break
        try:
            step()
        except LabkitError:
            pass
    return world, world.events


def held_after_reading_official_images() -> tuple[float, float, int, int, float]:
    gc.collect()
    tracemalloc.start()
    world = World.default()
    hub = world.registry("docker.io")
    blobs = repos = 0
    total = 0
    for path in hub.repository_paths():
        if not hub.peek(path).official:
            continue
        repos += 1
        repo = hub.repository(path)
        for digest in sorted(repo.blobs):
            total += len(hub.get_blob(ANONYMOUS, path, digest))
            blobs += 1
    gc.collect()
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del world
    return current / 2**20, peak / 2**20, repos, blobs, total / 2**20


def main() -> None:
    World.default()  # warm up: the catalog JSON is read once per process

    world_ms = median_ms(World.default, rounds=41)

    def push_setup() -> tuple:
        world = World.default()
        world.add_user("pusher", PASSWORD)
        return world.registry("docker.io"), Principal("pusher")

    image = five_layer_image(World.default())
    push_ms = median_ms(
        lambda state: docker_push(state[0], state[1], "pusher/app", "1.0", image), 41, push_setup
    )

    def pull_setup() -> tuple:
        registry, who = push_setup()
        docker_push(registry, who, "pusher/app", "1.0", image)
        return registry, who

    def warm_push_setup() -> tuple:
        registry, who = push_setup()
        registry.repository("library/alpine")
        return registry, who

    warm_push_ms = median_ms(
        lambda state: docker_push(state[0], state[1], "pusher/app", "1.0", image),
        41,
        warm_push_setup,
    )
    pull_ms = median_ms(
        lambda state: docker_pull(state[0], state[1], "pusher/app", "1.0"), 41, pull_setup
    )

    source, events = hub_log(200)
    refused = sum(1 for e in events if e.outcome.get("ok") is False)
    replay_ms = median_ms(lambda: World.replay(events), rounds=21)
    replayed = World.replay(events)
    assert replayed.snapshot() == source.snapshot(), "replay did not reproduce the world"

    held, peak, repos, blobs, blob_mb = held_after_reading_official_images()

    layers = len(image.layers)
    size = sum(len(b) for b in image.blobs.values())
    rows = [
        ("World.default()", f"{world_ms:8.2f} ms", "goal < 50 ms"),
        (
            f"push a {layers}-layer image, new repository",
            f"{push_ms:8.2f} ms",
            f"goal < 5 ms; {size / 1024:.0f} KiB of blobs, base layer mounted from "
            "library/alpine, whose content is generated on this first touch",
        ),
        (
            "  the same, library/alpine already loaded",
            f"{warm_push_ms:8.2f} ms",
            "the registry operations alone",
        ),
        (f"pull it back (manifest + {layers + 1} blobs)", f"{pull_ms:8.2f} ms", ""),
        (
            f"replay {len(events)} Hub events ({refused} refused)",
            f"{replay_ms:8.2f} ms",
            f"goal < 100 ms; includes a World.default() of ~{world_ms:.1f} ms",
        ),
        (
            "held after reading every official image",
            f"{held:8.2f} MB",
            f"goal < 50 MB; {repos} repositories, {blobs} blobs ({blob_mb:.2f} MB) read, "
            f"peak {peak:.2f} MB",
        ),
    ]
    for label, figure, note in rows:
        print(f"{label:<46} {figure}   {note}".rstrip())


if __name__ == "__main__":
    main()
