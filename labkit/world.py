"""A world: registries by host name, their accounts, and a log of every change.

``World.default()`` builds Docker Hub with its official images and the other registries the
labs use from the catalog (``labkit/data/catalog.json``: data, not code). Every change is an
:class:`Event` appended to the world's log — each docker command a client runs and each Hub
action — in order, with who made it and never with a secret, so that ``World.replay(events)``
on a fresh world reproduces the same state.

This module is long because the world ties every part together (registries, clients, the Hub,
the catalog, scans, the event log and its replay).
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any

from labkit.accounts import Accounts, Permission, Principal, Role, TokenScope
from labkit.blobstore import BlobStore, MemoryBlobStore
from labkit.client import Client
from labkit.errors import LabkitError, RegistryError
from labkit.oci import Image, image_from_layers, make_image, parse_manifest
from labkit.reference import DEFAULT_DOMAIN, Reference, parse_reference
from labkit.registry import Registry, Repository
from labkit.transport import Transport

__all__ = ["Clock", "Event", "Finding", "Hub", "ScanReport", "World", "world_lock"]

DEFAULT_TIME = datetime(2026, 11, 27, 9, 0, 0, tzinfo=UTC)


class Clock:
    """The world's time. Real time by default; ``Clock.fixed(...)`` for tests and replay.

    A fixed clock moves forward by ``step`` each time it is read, so events keep their order.
    """

    def __init__(self, start: datetime | None = None, step: timedelta = timedelta(0)) -> None:
        self._now = start
        self._step = step

    @classmethod
    def fixed(cls, start: datetime = DEFAULT_TIME, step: timedelta = timedelta(seconds=1)) -> Clock:
        return cls(start, step)

    @property
    def is_real(self) -> bool:
        return self._now is None

    def now(self) -> datetime:
        if self._now is None:
            return datetime.now(UTC).replace(microsecond=0)
        now = self._now
        self._now = now + self._step
        return now

    def set(self, when: datetime) -> None:
        """Jump to ``when`` (replay sets each event's recorded time)."""
        self._now = when


@dataclass(frozen=True)
class Event:
    """One change to a world: a docker command line or a Hub action. Never holds a secret.

    ``kind`` is ``"docker"`` or ``"hub"``; ``actor`` is the client's name (docker) or the user
    who acted (hub); ``action`` is the command line as typed (passwords masked) or the Hub
    action's name; ``args`` and ``outcome`` are JSON-able.
    """

    seq: int
    time: str
    kind: str
    actor: str
    action: str
    args: Mapping[str, Any] = field(default_factory=dict)
    outcome: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": self.time,
            "kind": self.kind,
            "actor": self.actor,
            "action": self.action,
            "args": dict(self.args),
            "outcome": dict(self.outcome),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Event:
        """Read an event back; raises LabkitError on a malformed one."""
        try:
            event = cls(
                seq=int(data["seq"]),
                time=str(data["time"]),
                kind=str(data["kind"]),
                actor=str(data["actor"]),
                action=str(data["action"]),
                args=dict(data.get("args") or {}),
                outcome=dict(data.get("outcome") or {}),
            )
            datetime.fromisoformat(event.time)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise LabkitError(f"malformed event: {error}") from None
        if event.kind not in ("docker", "hub"):
            raise LabkitError(f"malformed event: unknown kind {event.kind!r}")
        return event


@dataclass(frozen=True)
class Finding:
    """One simulated advisory found by :meth:`World.scan`."""

    id: str
    package: str
    installed: str
    fixed_in: str  # "" when no release fixes it yet
    severity: str
    title: str
    affected: str = ""  # the versions the advisory applies to, e.g. ">= 1.3.0, < 1.5.0"


SEVERITIES = ("critical", "high", "medium", "low")


@dataclass(frozen=True)
class ScanReport:
    """A simulated vulnerability report for one image: clearly not real advisories."""

    reference: str
    digest: str
    findings: tuple[Finding, ...]
    packages: tuple[tuple[str, str], ...] = ()  # the image's inventory: (package, version)
    simulated: bool = True
    notice: str = (
        "Simulated by labkit for teaching: these advisories are invented and say nothing "
        "about the real image."
    )

    def counts(self) -> dict[str, int]:
        """Findings per severity, from critical to low."""
        return {s: sum(f.severity == s for f in self.findings) for s in SEVERITIES}

    def to_json(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "digest": self.digest,
            "simulated": self.simulated,
            "notice": self.notice,
            "counts": self.counts(),
            "packages": [list(p) for p in self.packages],
            "findings": [vars(f) for f in self.findings],
        }


_CATALOG_IMAGES: dict[str, Image] = {}  # the shipped catalog's images, built once


@cache
def _catalog() -> dict[str, Any]:
    text = resources.files("labkit").joinpath("data/catalog.json").read_text("utf-8")
    return json.loads(text)


class World:
    """Registries by host name, accounts, clients, and the event log."""

    def __init__(
        self,
        clock: Clock | None = None,
        seed: int = 0,
        blobs: Callable[[], BlobStore] | None = None,
    ) -> None:
        self.clock = clock or Clock()
        self.seed = seed
        # Where each registry of the catalog keeps blob bytes (memory unless told otherwise).
        self.blob_store = blobs or MemoryBlobStore
        self._registries: dict[str, Registry] = {}
        self._hosts: dict[str, Registry] = {}
        self._events: list[Event] = []
        self._clients: dict[str, Client] = {}
        self._images: dict[str, Image] = {}
        self._findings: dict[str, tuple[Finding, ...]] = {}  # layer digest -> its advisories
        self._layer_packages: dict[str, dict[str, str]] = {}  # layer digest -> its inventory
        self._layer_owner: dict[str, str] = {}  # layer label -> catalog image key
        self._catalog_users: set[tuple[str, str]] = set()  # nobody knows their passwords
        self.replaying = False
        # Called with every recorded event (the lab session saves the record from here).
        self.listeners: list[Callable[[Event], None]] = []

    # -- construction --------------------------------------------------------------------

    @classmethod
    def default(
        cls,
        clock: Clock | None = None,
        seed: int = 0,
        blobs: Callable[[], BlobStore] | None = None,
    ) -> World:
        """Docker Hub with official images, other public registries, registry.acme.com and
        an open localhost:5000, from the catalog; ``blobs`` makes each registry's blob store
        (default: in memory)."""
        world = cls(clock=clock, seed=seed, blobs=blobs)
        world._load_catalog(_catalog())
        return world

    def _load_catalog(self, catalog: Mapping[str, Any]) -> None:
        rng = random.Random(f"labkit-catalog-{self.seed}")
        for spec in catalog["registries"]:
            registry = Registry(
                spec["host"],
                spec["profile"],
                accounts=Accounts(
                    open_access=spec["profile"] == "open",
                    rng=random.Random(f"{spec['host']}-{self.seed}"),
                ),
                aliases=spec.get("aliases", ()),
                title=spec.get("title", ""),
                owner=spec.get("owner"),
                blobs=self.blob_store(),
            )
            self.add_registry(registry)
            accounts = registry.accounts
            for name in spec.get("users", ()):
                # Catalog users exist so that namespaces have owners; nobody knows their
                # passwords (labs add the accounts students log in with).
                accounts.add_user(name, f"unusable-{rng.getrandbits(64):016x}")
                self._catalog_users.add((registry.host, name))
            for org in spec.get("orgs", ()):
                accounts.add_org(org["name"], org["owner"])
                for user, role in org.get("members", {}).items():
                    accounts.add_member(org["name"], user, Role(role))
                for team, team_spec in org.get("teams", {}).items():
                    accounts.create_team(org["name"], team, team_spec.get("description", ""))
                    for user in team_spec.get("members", ()):
                        accounts.add_team_member(org["name"], team, user)
                    for path, level in team_spec.get("grants", {}).items():
                        accounts.grant_team(org["name"], team, path, Permission[level.upper()])
        images = catalog["images"]
        for key in images:
            self._catalog_image(key, images)
        for spec in catalog["repositories"]:
            registry = self.registry(spec["registry"])
            repo = Repository(
                spec["path"],
                private=spec.get("private", False),
                description=spec.get("description", ""),
                stars=spec.get("stars", 0),
                official=spec.get("official", False),
            )
            registry.seed_repository(repo, self._seed_loader(spec["tags"]))

    def _catalog_image(self, key: str, images: Mapping[str, Any]) -> Image:
        image = self._images.get(key)
        if image is not None:
            return image
        # Images are immutable: the shipped catalog's are built once per process and shared
        # by every world (building their layers' archives is most of a world's start-up).
        shared = _CATALOG_IMAGES if images is _catalog()["images"] else {}
        image = shared.get(key)
        if image is None:
            spec = images[key]
            options = {k: spec[k] for k in ("created", "cmd", "env") if k in spec}
            if "from" in spec:
                image = image_from_layers(
                    self._catalog_image(spec["from"], images), spec["layers"], **options
                )
            else:
                image = make_image(spec["layers"], **options)
            shared[key] = image
        spec = images[key]
        self._images[key] = image
        own_layer = spec["layers"][-1]["label"]
        self._layer_owner[own_layer] = key
        return image

    def _seed_loader(self, tags: Mapping[str, str]) -> Callable[[], list]:
        def load() -> list:
            content = []
            for tag, key in tags.items():
                image = self._images[key]
                blobs = {image.id: lambda image=image: image.config_bytes}
                for layer in image.layers:
                    blobs[layer.digest] = lambda layer=layer: layer.blob
                content.append((tag, image.manifest_descriptor.media_type, image.manifest, blobs))
            return content

        return load

    def add_registry(self, registry: Registry) -> Registry:
        """Make ``registry`` reachable under its host and aliases."""
        self._registries[registry.host] = registry
        for host in (registry.host, *registry.aliases):
            self._hosts[host] = registry
        return registry

    # -- lookups -------------------------------------------------------------------------

    @property
    def registries(self) -> dict[str, Registry]:
        """Registries by their main host name."""
        return dict(self._registries)

    def find_registry(self, host: str) -> Registry | None:
        """The registry reached at ``host`` (an alias works too), or None."""
        return self._hosts.get(host)

    def registry(self, host: str = DEFAULT_DOMAIN) -> Registry:
        """The registry at ``host``; LabkitError when there is none in this world."""
        registry = self.find_registry(host)
        if registry is None:
            known = ", ".join(sorted(self._registries))
            raise LabkitError(f"no registry {host!r} in this world (there are: {known})")
        return registry

    def catalog_image(self, key: str) -> Image:
        """An image of the catalog by its key (``"alpine-3.21"``)."""
        return self._images[key]

    # -- people --------------------------------------------------------------------------

    def add_user(self, name: str, password: str, registry: str = DEFAULT_DOMAIN) -> None:
        """Sign up ``name`` on ``registry`` (the password is kept only as a hash)."""
        target = self.registry(registry)
        if self.replaying:
            password = f"replayed-{hashlib.sha256(name.encode()).hexdigest()}"
        target.accounts.add_user(name, password)
        self.record("hub", name, "sign_up", {"registry": target.host, "user": name})

    def is_replayable_login(self, host: str, user: str) -> bool:
        """Whether replay may restore a recorded login: never for the catalog's own accounts,
        whose passwords nobody knows (a forged log cannot log in as them)."""
        registry = self.find_registry(host)
        return registry is not None and (registry.host, user) not in self._catalog_users

    def client(self, name: str | None = None, *, transport: Transport | None = None) -> Client:
        """A Docker-like client with its own image store and credentials.

        Clients are named (``client-1``, ``client-2``, ... unless named), so that replay
        finds the same client again. ``transport`` is how a new client reaches registries
        (in process on this world's, unless given: an ``HttpTransport`` talks to servers).
        """
        if name is None:
            name = f"client-{len(self._clients) + 1}"
        client = self._clients.get(name)
        if client is None:
            client = self._clients[name] = Client(self, name, transport)
        return client

    @property
    def clients(self) -> dict[str, Client]:
        return dict(self._clients)

    def hub(self, user: str, registry: str = DEFAULT_DOMAIN) -> Hub:
        """Act in the registry's web UI as ``user`` (signed in)."""
        return Hub(self, self.registry(registry), user)

    # -- the event log -------------------------------------------------------------------

    def record(
        self,
        kind: str,
        actor: str,
        action: str,
        args: Mapping[str, Any] | None = None,
        outcome: Mapping[str, Any] | None = None,
    ) -> Event:
        """Append an event (callers never pass secrets)."""
        event = Event(
            seq=len(self._events) + 1,
            time=self.clock.now().isoformat(),
            kind=kind,
            actor=actor,
            action=action,
            args=dict(args or {}),
            outcome=dict(outcome or {}),
        )
        self._events.append(event)
        for listener in list(self.listeners):
            listener(event)
        return event

    @property
    def events(self) -> tuple[Event, ...]:
        return tuple(self._events)

    @classmethod
    def replay(
        cls,
        events: Iterable[Event | Mapping[str, Any]],
        variant: Callable[[World], None] | None = None,
        *,
        seed: int = 0,
        blobs: Callable[[], BlobStore] | None = None,
    ) -> World:
        """A fresh default world, set up by ``variant``, with ``events`` applied in order.

        Replayed docker commands run again; logins are restored from their recorded outcome
        (the log never holds passwords). Raises LabkitError on a malformed event. ``blobs``:
        as for :meth:`default`.
        """
        world = cls.default(clock=Clock.fixed(), seed=seed, blobs=blobs)
        if variant is not None:
            variant(world)
        world.apply(events)
        return world

    def apply(self, events: Iterable[Event | Mapping[str, Any]]) -> list[tuple[Event, Event]]:
        """Apply recorded events to this world; returns (recorded, replayed) pairs."""
        pairs = []
        self.replaying = True
        try:
            for item in events:
                event = item if isinstance(item, Event) else Event.from_json(item)
                self.clock.set(datetime.fromisoformat(event.time))
                before = len(self._events)
                if event.kind == "docker":
                    self.client(event.actor).replay(event)
                else:
                    self._replay_hub(event)
                replayed = self._events[before] if len(self._events) > before else event
                pairs.append((event, replayed))
        finally:
            self.replaying = False
        return pairs

    def _replay_hub(self, event: Event) -> None:
        args = dict(event.args)
        if event.action == "sign_up":
            self.add_user(args["user"], "", registry=args.get("registry", DEFAULT_DOMAIN))
            return
        registry = args.pop("registry", DEFAULT_DOMAIN)
        if event.action not in HUB_ACTIONS:
            raise LabkitError(f"malformed event: unknown Hub action {event.action!r}")
        try:
            hub = self.hub(event.actor, registry)
        except LabkitError:
            return  # no such account here: a log from another world; the action cannot happen
        try:
            getattr(hub, event.action)(**args)
        except (LabkitError, TypeError):
            pass  # a refused action is replayed as refused: it is already in the log

    # -- views ---------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """A JSON-able, deterministic view of every registry and client (no secrets)."""
        return {
            "registries": {host: r.snapshot() for host, r in sorted(self._registries.items())},
            "clients": {name: c.snapshot() for name, c in sorted(self._clients.items())},
        }

    def scan(self, reference: str | Reference) -> ScanReport:
        """A simulated vulnerability report for an image in a registry of this world.

        Raises InvalidReference for a bad name and RegistryError when there is no such image.
        """
        ref = parse_reference(reference) if isinstance(reference, str) else reference
        ref = ref.with_default_tag()
        registry = self.registry(ref.domain)
        repo = registry.repository(ref.path)
        digest = ref.digest or (repo.tags.get(ref.tag or "latest") if repo else None)
        stored = repo.manifests.get(digest) if repo and digest else None
        if stored is None:
            error = RegistryError(
                "MANIFEST_UNKNOWN",
                f"there is no image {ref.familiar!r} on {ref.domain} to scan",
                detail={"reference": str(ref)},
            )
            tags = sorted(repo.tags) if repo is not None else []
            error.hint = (
                f"The tags of {ref.familiar_name!r}: {', '.join(tags)}."
                if tags
                else "Check the repository's name (scans are of images in a registry)."
            )
            raise error
        manifest = parse_manifest(stored.data, stored.media_type)
        findings: list[Finding] = []
        packages: dict[str, str] = {}
        for layer in getattr(manifest, "layers", ()):  # an index has no layers of its own
            findings.extend(self._layer_findings(layer.digest))
            packages.update(self._layer_packages.get(layer.digest, {}))
        order = {s: i for i, s in enumerate(SEVERITIES)}
        findings.sort(key=lambda f: (order[f.severity], f.id))
        return ScanReport(
            ref.familiar, stored.digest, tuple(findings), tuple(sorted(packages.items()))
        )

    def _layer_findings(self, digest: str) -> tuple[Finding, ...]:
        if not self._findings and self._layer_owner:
            self._index_findings()
        return self._findings.get(digest, ())

    def _index_findings(self) -> None:
        inventories, advisories = _scan_model()
        for label, key in self._layer_owner.items():
            image = self._images[key]
            layer = next(layer for layer in image.layers if layer.label == label)
            self._findings[layer.digest] = advisories.get(key, ())
            self._layer_packages[layer.digest] = inventories.get(key, {})


def _family(key: str) -> tuple[str, str]:
    """A catalog key's family (the releases one package line runs through) and its version:
    ``alpine-3.18`` -> (``alpine``, ``3.18``); ``nginx-1.27-alpine`` -> (``nginx-alpine``, ...)."""
    name, _, rest = key.partition("-")
    version, _, suffix = rest.partition("-")
    return (f"{name}-{suffix}" if suffix else name), version


def _version_text(numbers: tuple[int, ...]) -> str:
    return ".".join(str(n) for n in numbers)


@cache
def _scan_model() -> tuple[dict[str, dict[str, str]], dict[str, tuple[Finding, ...]]]:
    """Invented, deterministic inventories and advisories for the catalog's images.

    Each image has an inventory: every package it installs, at one version. Within a family,
    releases are ordered by date and each newer release ships a newer version of every
    package. An advisory applies to a range of one package's versions (``>= introduced,
    < fixed``); an image is affected when its version falls in the range, so a newer tag
    fixes the advisories whose fixed version it ships. The ranges are chosen so that each
    image has exactly the catalog's count of findings per severity.
    """
    images = _catalog()["images"]
    families: dict[str, list[str]] = {}
    for key, spec in images.items():
        if "vulnerabilities" in spec or "packages" in spec:
            families.setdefault(_family(key)[0], []).append(key)
    inventories: dict[str, dict[str, str]] = {}
    advisories: dict[str, list[Finding]] = {}
    for family, keys in sorted(families.items()):
        keys.sort(key=lambda k: (images[k].get("created", ""), k))
        packages = list(
            images[keys[0]].get("packages")
            or ["busybox", "musl", "openssl", "zlib", "ca-certificates"]
        )
        rng = random.Random(f"labkit-scan-{family}")
        start = {p: (rng.randint(1, 3), rng.randint(0, 9), rng.randint(0, 5)) for p in packages}
        steps = {p: rng.choice((1, 1, 2)) for p in packages}
        version: dict[str, list[tuple[int, ...]]] = {p: [] for p in packages}
        for index, key in enumerate(keys):
            inventory = {}
            for package in packages:
                major, minor, patch = start[package]
                numbers = (major, minor + index * steps[package], patch)
                version[package].append(numbers)
                inventory[package] = _version_text(numbers)
            inventories[key] = inventory
            advisories[key] = []
        for severity in SEVERITIES:
            open_ones: list[tuple[str, int, str]] = []  # (package, introduced index, id)
            for index, key in enumerate(keys):
                wanted = images[key].get("vulnerabilities", {}).get(severity, 0)
                while len(open_ones) > wanted:  # this release fixes the oldest ones
                    package, since, ident = open_ones.pop(0)
                    _close(advisories, keys, version, package, since, index, ident, severity)
                while len(open_ones) < wanted:  # new in this release
                    package = rng.choice(packages)
                    ident = f"LABKIT-SIM-{rng.randint(2019, 2026)}-{rng.randint(1000, 9999)}"
                    open_ones.append((package, index, ident))
            for package, since, ident in open_ones:  # no release fixes these yet
                _close(advisories, keys, version, package, since, len(keys), ident, severity)
    return inventories, {key: tuple(found) for key, found in advisories.items()}


def _close(
    advisories: dict[str, list[Finding]],
    keys: list[str],
    version: Mapping[str, list[tuple[int, ...]]],
    package: str,
    since: int,
    until: int,
    ident: str,
    severity: str,
) -> None:
    """Record an advisory on ``package`` for the releases ``keys[since:until]``."""
    introduced = _version_text(version[package][since])
    fixed = _version_text(version[package][until]) if until < len(keys) else ""
    affected = f">= {introduced}, < {fixed}" if fixed else f">= {introduced} (no fix yet)"
    for index in range(since, until):
        advisories[keys[index]].append(
            Finding(
                id=ident,
                package=package,
                installed=_version_text(version[package][index]),
                fixed_in=fixed,
                severity=severity,
                title=f"simulated {severity} issue in {package}",
                affected=affected,
            )
        )


# -- Hub actions --------------------------------------------------------------------------

HUB_ACTIONS = frozenset(
    {
        "create_repository",
        "set_visibility",
        "set_description",
        "set_default_privacy",
        "delete_repository",
        "add_collaborator",
        "remove_collaborator",
        "create_org",
        "add_member",
        "set_role",
        "remove_member",
        "create_team",
        "add_team_member",
        "remove_team_member",
        "delete_team",
        "grant",
        "revoke",
        "create_token",
        "revoke_token",
    }
)


class Hub:
    """What a signed-in user can do in a registry's web UI (Docker Hub's, for docker.io).

    Each action is recorded in the world's event log, refused ones too; a refusal raises
    LabkitError (RegistryError for repository permissions) with a message a student reads.
    """

    def __init__(self, world: World, registry: Registry, user: str) -> None:
        self.world = world
        self.registry = registry
        self.user = user
        self.accounts = registry.accounts
        if user not in self.accounts.users:
            raise LabkitError(f"no user {user!r} on {registry.host}: sign up first")

    def __repr__(self) -> str:
        return f"Hub({self.registry.host!r}, user={self.user!r})"

    @property
    def principal(self) -> Principal:
        return self.accounts.principal_for(self.user)

    def _path(self, repository: str) -> str:
        """``web-app`` means the user's own namespace; ``org/web-app`` is taken as is."""
        return repository if "/" in repository else f"{self.user}/{repository}"

    def _act(self, action: str, args: dict[str, Any], do: Callable[[], Any]) -> Any:
        try:
            try:
                self._check_names(action, args)
                result = do()
            except RegistryError as refusal:
                raise self._explained(action, refusal, args) from None
        except LabkitError as error:
            self.world.record(
                "hub",
                self.user,
                action,
                {"registry": self.registry.host, **args},
                {"ok": False, "error": str(error)},
            )
            raise
        outcome: dict[str, Any] = {"ok": True}
        if action == "create_token":
            outcome["token_id"] = result[0]
        self.world.record(
            "hub", self.user, action, {"registry": self.registry.host, **args}, outcome
        )
        return result

    def _owner_of(self, org: str) -> None:
        decision = self.accounts.can_manage_org(self.principal, org)
        if not decision:
            raise LabkitError(
                f"only owners of the organization {org!r} can do that ({decision.reason})"
            )

    # -- what a student typed, checked before anything happens ---------------------------------

    def _check(self, **args: Any) -> None:
        """Refuse an argument of the wrong type with a message naming it and the fix (nothing
        is recorded: the action was never asked for, as with a Python TypeError)."""
        for name, value in args.items():
            if name == "private":
                if type(value) is not bool:
                    raise _student_error(
                        f"`private` must be True or False, not {value!r}",
                        "True makes the repository private, False makes it public.",
                    )
                continue
            example = {
                "repository": f"{self.user}/hello",
                "org": "myorg",
                "team": "qa",
                "user": self.user,
                "role": "owner",
            }.get(name, "...")
            if not isinstance(value, str) or not value.strip():
                raise _student_error(
                    f"`{name}` must be text, such as {example!r}, not {value!r}",
                    f"Put the {name} in quotes.",
                )

    def _check_names(self, action: str, args: Mapping[str, Any]) -> None:
        """Refuse (recorded, like any refusal) a repository written as an image name, or an
        organization, team, user or role that does not exist, naming what does."""
        repository = args.get("repository")
        if isinstance(repository, str):
            self._check_repository(repository)
        org, team = args.get("org"), args.get("team")
        if isinstance(org, str) and action != "create_org" and org not in self.accounts.orgs:
            mine = sorted(
                name
                for name, organization in self.accounts.orgs.items()
                if self.user in organization.members
            )
            raise _student_error(
                f"there is no organization {org!r} on {self.registry.host}",
                "Your organizations here: "
                + (", ".join(repr(o) for o in mine) if mine else "none")
                + ".",
            )
        if isinstance(team, str) and isinstance(org, str) and action != "create_team":
            teams = self.accounts.orgs[org].teams
            if team not in teams:
                names = ", ".join(repr(t) for t in sorted(teams)) or "none yet"
                raise _student_error(
                    f"organization {org!r} has no team {team!r}",
                    f"Its teams: {names} (team names are case-sensitive).",
                )
        user = args.get("user")
        if isinstance(user, str) and user not in self.accounts.users:
            raise _student_error(
                f"there is no user {user!r} on {self.registry.host}",
                "Check the spelling: Docker IDs are lowercase letters and digits.",
            )
        role = args.get("role")
        if isinstance(role, str) and role not in {r.value for r in Role}:
            roles = ", ".join(repr(r.value) for r in Role)
            raise _student_error(f"unknown role {role!r}", f"Use one of {roles}.")

    def _check_repository(self, text: str) -> None:
        first, slash, rest = text.partition("/")
        if slash and ("." in first or ":" in first or first == "localhost"):
            raise _student_error(
                f"{text!r} starts with a registry ({first!r})",
                f"This Hub is {self.registry.host} already: give the repository alone, {rest!r}.",
            )
        last = text.rsplit("/", 1)[-1]
        if "@" in text or ":" in last:
            bare = text.split("@", 1)[0]
            if ":" in bare.rsplit("/", 1)[-1]:
                bare = bare.rsplit(":", 1)[0]
            raise _student_error(
                f"{text!r} is an image name with a tag or digest, not a repository",
                f"Settings and permissions belong to the whole repository: use {bare!r}.",
            )

    def _explained(
        self, action: str, refusal: RegistryError, args: Mapping[str, Any]
    ) -> RegistryError:
        """A registry's refusal of a Hub action, in the words of the web UI: which
        repository, why, and what to do instead."""
        repository = args.get("repository")
        if not isinstance(repository, str):
            return refusal
        path = self._path(repository)
        host = self.registry.host
        if action == "create_repository":
            if refusal.code not in ("DENIED", "UNAUTHORIZED"):
                return refusal
            explained = RegistryError(
                refusal.code,
                f"you ({self.user!r}) may not create repositories in {path.split('/')[0]!r}",
                refusal.detail,
            )
            explained.hint = (
                f"Create it in your own namespace ({self.user}/...) or in an organization "
                "where you may."
            )
            return explained
        if self.registry.peek(path) is None:
            own = [p for p in self.registry.repository_paths() if p.startswith(f"{self.user}/")]
            message = f"there is no repository {path!r} on {host}"
            hint = "A repository appears with the first push to it. Your repositories here: " + (
                ", ".join(repr(p) for p in own) if own else "none yet"
            )
            explained = RegistryError("NAME_UNKNOWN", message, refusal.detail)
            explained.hint = hint + "."
            return explained
        if refusal.code in ("DENIED", "UNAUTHORIZED"):
            owner = path.split("/", 1)[0]
            message = (
                f"{path!r} belongs to {owner!r}, and you ({self.user!r}) may not change its "
                "settings"
            )
            if refusal.message != ERROR_MESSAGES_DENIED:
                message += f" ({refusal.message})"
            explained = RegistryError(refusal.code, message, refusal.detail)
            explained.hint = (
                f"Change your own repositories ({self.user}/...) or those of an organization "
                "where you are an owner (or your team has Admin)."
            )
            return explained
        return refusal

    # Repositories

    def create_repository(
        self, repository: str, private: bool | None = None, description: str = ""
    ) -> str:
        """Create a repository (``name`` in your namespace, or ``org/name``)."""
        self._check(repository=repository)
        path = self._path(repository)
        existing = self.registry.repository(path)
        if (
            existing is not None
            and (private is None or existing.private == private)
            and (path.split("/", 1)[0] == self.user or self._already_done(path.split("/", 1)[0]))
        ):
            return path  # yours already, as asked: nothing to do (see _already_done)
        args = {"repository": repository, "private": private, "description": description}
        self._act(
            "create_repository",
            args,
            lambda: self.registry.create_repository(
                self.principal, path, private=private, description=description
            ),
        )
        return path

    def set_visibility(self, repository: str, private: bool) -> None:
        """Make a repository private (True) or public (False)."""
        self._check(repository=repository, private=private)
        path = self._path(repository)
        self._act(
            "set_visibility",
            {"repository": repository, "private": private},
            lambda: self.registry.set_visibility(self.principal, path, private),
        )

    def set_description(self, repository: str, description: str) -> None:
        self._check(repository=repository)
        path = self._path(repository)
        self._act(
            "set_description",
            {"repository": repository, "description": description},
            lambda: self.registry.set_description(self.principal, path, description),
        )

    def set_default_privacy(self, private: bool, namespace: str | None = None) -> None:
        """Settings -> Default privacy for your namespace or an organization you own."""
        namespace = namespace or self.user

        def do() -> None:
            if namespace != self.user:
                self._owner_of(namespace)
            self.accounts.set_default_private(namespace, private)

        self._act("set_default_privacy", {"private": private, "namespace": namespace}, do)

    def delete_repository(self, repository: str) -> None:
        self._check(repository=repository)
        path = self._path(repository)
        self._act(
            "delete_repository",
            {"repository": repository},
            lambda: self.registry.delete_repository(self.principal, path),
        )

    def add_collaborator(self, repository: str, user: str) -> None:
        """Give ``user`` push and pull on one of your personal repositories."""
        self._check(repository=repository, user=user)
        path = self._path(repository)
        self._act(
            "add_collaborator",
            {"repository": repository, "user": user},
            lambda: self.registry.add_collaborator(self.principal, path, user),
        )

    def remove_collaborator(self, repository: str, user: str) -> None:
        self._check(repository=repository, user=user)
        path = self._path(repository)
        self._act(
            "remove_collaborator",
            {"repository": repository, "user": user},
            lambda: self.registry.remove_collaborator(self.principal, path, user),
        )

    # Organizations and teams

    def _already_done(self, org: str, team: str | None = None, user: str | None = None) -> bool:
        """Whether what an owner asks for is already so in an organization they own: the
        organization (``team`` None), its ``team``, or ``user`` in that team. Doing it again
        changes nothing and is not refused (a notebook run again, say after a kernel restart
        whose world came back from the record); the same name held by someone else still is."""
        organization = self.accounts.orgs.get(org)
        if organization is None or organization.members.get(self.user) is not Role.OWNER:
            return False
        if team is None:
            return True
        existing = organization.teams.get(team)
        return existing is not None and (user is None or user in existing.members)

    def create_org(self, org: str) -> None:
        """Create an organization; you become its owner (one you own already: nothing to do)."""
        self._check(org=org)
        if self._already_done(org):
            return
        self._act("create_org", {"org": org}, lambda: self.accounts.add_org(org, self.user))

    def _org_action(self, action: str, org: str, args: dict[str, Any], do: Callable[[], Any]):
        def guarded() -> Any:
            self._owner_of(org)
            return do()

        return self._act(action, {"org": org, **args}, guarded)

    def add_member(self, org: str, user: str, role: str = "member") -> None:
        self._check(org=org, user=user, role=role)
        self._org_action(
            "add_member",
            org,
            {"user": user, "role": role},
            lambda: self.accounts.add_member(org, user, Role(role)),
        )

    def set_role(self, org: str, user: str, role: str) -> None:
        self._check(org=org, user=user, role=role)
        self._org_action(
            "set_role",
            org,
            {"user": user, "role": role},
            lambda: self.accounts.set_role(org, user, Role(role)),
        )

    def remove_member(self, org: str, user: str) -> None:
        self._check(org=org, user=user)
        self._org_action(
            "remove_member", org, {"user": user}, lambda: self.accounts.remove_member(org, user)
        )

    def create_team(self, org: str, team: str, description: str = "") -> None:
        self._check(org=org, team=team)
        if self._already_done(org, team):
            return
        self._org_action(
            "create_team",
            org,
            {"team": team, "description": description},
            lambda: self.accounts.create_team(org, team, description),
        )

    def add_team_member(self, org: str, team: str, user: str) -> None:
        self._check(org=org, team=team, user=user)
        if self._already_done(org, team, user):
            return
        self._org_action(
            "add_team_member",
            org,
            {"team": team, "user": user},
            lambda: self.accounts.add_team_member(org, team, user),
        )

    def remove_team_member(self, org: str, team: str, user: str) -> None:
        self._check(org=org, team=team, user=user)
        if self._already_done(org, team) and not self._already_done(org, team, user):
            return  # not in the team (any more): nothing to do (see _already_done)
        self._org_action(
            "remove_team_member",
            org,
            {"team": team, "user": user},
            lambda: self.accounts.remove_team_member(org, team, user),
        )

    def delete_team(self, org: str, team: str) -> None:
        self._check(org=org, team=team)
        self._org_action(
            "delete_team", org, {"team": team}, lambda: self.accounts.delete_team(org, team)
        )

    def grant(self, org: str, team: str, repository: str, permission: str) -> None:
        """Give a team ``"read"`` (Read-only), ``"write"`` (Read & Write) or ``"admin"``
        on one of the organization's repositories (replacing what it had)."""
        self._check(org=org, team=team, repository=repository)
        level = _permission(permission)
        path = repository if "/" in repository else f"{org}/{repository}"
        self._org_action(
            "grant",
            org,
            {"team": team, "repository": repository, "permission": level.name.lower()},
            lambda: self.accounts.grant_team(org, team, path, level),
        )

    def revoke(self, org: str, team: str, repository: str) -> None:
        self._check(org=org, team=team, repository=repository)
        path = repository if "/" in repository else f"{org}/{repository}"
        if self._already_done(org, team):
            grants = self.accounts.orgs[org].teams[team].grants
            if path not in grants and self.registry.repository(path) is not None:
                return  # the team has no permission there (any more): nothing to do
        self._org_action(
            "revoke",
            org,
            {"team": team, "repository": repository},
            lambda: self.accounts.revoke_team(org, team, path),
        )

    # Personal access tokens

    def create_token(self, scope: str = "read", description: str = "") -> str:
        """Create a personal access token and return its secret (shown once, never logged)."""
        try:
            token_scope = TokenScope(scope)
        except ValueError:
            choices = ", ".join(repr(s.value) for s in TokenScope)
            raise _student_error(
                f"unknown token scope {scope!r}", f"Use one of {choices}."
            ) from None
        _, secret = self._act(
            "create_token",
            {"scope": token_scope.value, "description": description},
            lambda: self.accounts.create_token(self.user, token_scope, description),
        )
        return secret

    def revoke_token(self, token_id: str) -> None:
        self._act(
            "revoke_token",
            {"token_id": token_id},
            lambda: self.accounts.revoke_token(self.user, token_id),
        )


ERROR_MESSAGES_DENIED = "requested access to the resource is denied"


def _student_error(message: str, hint: str) -> LabkitError:
    """A LabkitError for a slip with a Hub action: ``str()`` names the mistake, ``hint`` the
    fix (labkit's notebook handler shows both, without a traceback)."""
    error = LabkitError(message)
    error.hint = hint
    return error


def _permission(value: str | Permission) -> Permission:
    if isinstance(value, Permission):
        return value
    names = {
        "read": Permission.READ,
        "read-only": Permission.READ,
        "write": Permission.WRITE,
        "read & write": Permission.WRITE,
        "read-write": Permission.WRITE,
        "admin": Permission.ADMIN,
    }
    try:
        return names[str(value).strip().lower()]
    except KeyError:
        raise _student_error(
            f"unknown permission {value!r}",
            "Use 'read' (Read-only), 'write' (Read & Write) or 'admin' (Admin).",
        ) from None


# -- one lock per world ----------------------------------------------------------------------------

_LOCKS: weakref.WeakKeyDictionary[World, threading.RLock] = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()


def world_lock(world: World) -> threading.RLock:
    """The lock that guards ``world`` against concurrent use by a server and a kernel.

    It lives here, in the core, so that ``%docker`` takes it without importing the server
    (and tornado): in the browser (Pyodide) there is no server and no thread, and the lock is
    simply free.
    """
    with _LOCKS_GUARD:
        lock = _LOCKS.get(world)
        if lock is None:
            lock = _LOCKS[world] = threading.RLock()
        return lock
