"""One image registry, shaped like the OCI distribution API.

Every operation names who asks (a :class:`~labkit.accounts.Principal`), is authorized by the
registry's :class:`~labkit.accounts.Accounts`, and either succeeds completely or raises a
:class:`~labkit.errors.RegistryError` with the OCI code and changes nothing: no tag ever points at
a missing manifest, no manifest at a missing blob, and no half-uploaded blob is visible.

What a push to a repository that does not exist does is the registry's :class:`Profile`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from labkit.accounts import Accounts, Action, Decision, Principal, RepoFacts
from labkit.blobstore import BlobSource, BlobStore, MemoryBlobStore, Received
from labkit.errors import RegistryError
from labkit.oci import parse_manifest, sha256_digest

__all__ = [
    "PROFILES",
    "Profile",
    "Registry",
    "Repository",
    "StoredManifest",
]

TAG_PATTERN = re.compile(r"[\w][\w.-]{0,127}", re.ASCII)
DIGEST_PATTERN = re.compile(r"sha256:[a-f0-9]{64}")
NAME_PATTERN = re.compile(
    r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*)*"
)
MAX_MANIFEST_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Profile:
    """How a kind of registry behaves where registries differ.

    ``create_on_push``: a push to a missing repository creates it (else NAME_UNKNOWN).
    ``private_on_push``: the visibility of a repository created by a push; None means the
    namespace's default privacy (Docker Hub). ``anonymous_push``: the error code an anonymous
    push gets. ``open_access``: no authentication at all (a local ``registry:2``).
    """

    name: str
    create_on_push: bool = True
    private_on_push: bool | None = None
    anonymous_push: str = "UNAUTHORIZED"
    open_access: bool = False
    description: str = ""


PROFILES: dict[str, Profile] = {
    profile.name: profile
    for profile in (
        Profile(
            "hub",
            anonymous_push="DENIED",
            description="Docker Hub: a push creates the repository with the namespace's "
            "default privacy (public unless set to private).",
        ),
        Profile(
            "private-on-push",
            private_on_push=True,
            description="A push creates the repository, private (registry.acme.com, quay.io, "
            "ghcr.io).",
        ),
        Profile(
            "ecr",
            create_on_push=False,
            description="Like Amazon ECR: the repository must be created before the first push.",
        ),
        Profile(
            "open",
            private_on_push=False,
            open_access=True,
            description="An open local registry (registry:2 on localhost:5000): no login at all.",
        ),
    )
}


@dataclass(frozen=True)
class StoredManifest:
    """A manifest exactly as it was pushed: its bytes, media type and digest."""

    digest: str
    media_type: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class Repository:
    """One repository: tags (mutable pointers), manifests by digest, and linked blobs."""

    path: str
    private: bool = False
    description: str = ""
    stars: int = 0
    official: bool = False
    collaborators: set[str] = field(default_factory=set)
    tags: dict[str, str] = field(default_factory=dict)
    manifests: dict[str, StoredManifest] = field(default_factory=dict)
    blobs: set[str] = field(default_factory=set)

    @property
    def namespace(self) -> str | None:
        """The path without the repository's name, as :attr:`Reference.namespace` (one
        meaning in labkit): ``engineering/team`` for ``engineering/team/web-app``; None for a
        one-part path."""
        head, slash, _ = self.path.rpartition("/")
        return head if slash else None

    @property
    def account(self) -> str | None:
        """The user or organization that owns the repository: the path's first component
        (``engineering`` for ``engineering/team/web-app``); None for a one-part path. On
        Docker Hub, where paths have two parts, it is also the namespace."""
        head, _, rest = self.path.partition("/")
        return head if rest else None

    def snapshot(self) -> dict:
        """A JSON-able, deterministic view of this repository."""
        return {
            "private": self.private,
            "official": self.official,
            "description": self.description,
            "stars": self.stars,
            "collaborators": sorted(self.collaborators),
            "tags": dict(sorted(self.tags.items())),
            "manifests": {
                digest: {"mediaType": m.media_type, "size": m.size}
                for digest, m in sorted(self.manifests.items())
            },
            "blobs": sorted(self.blobs),
        }


@dataclass
class _Upload:
    path: str
    principal: Principal
    chunks: list[bytes] = field(default_factory=list)


# A seeded repository is filled on first use: the loader returns its manifests by tag and
# the blobs they need, so creating a world costs nothing until an image is touched.
Seed = Callable[[], Iterable[tuple[str, str, bytes, dict[str, Callable[[], bytes]]]]]


class Registry:
    """An in-memory registry reachable under ``host`` (and its ``aliases``)."""

    def __init__(
        self,
        host: str,
        profile: Profile | str = "hub",
        *,
        accounts: Accounts | None = None,
        aliases: Iterable[str] = (),
        title: str = "",
        owner: str | None = None,
        blobs: BlobStore | None = None,
    ) -> None:
        self.host = host
        self.profile = PROFILES[profile] if isinstance(profile, str) else profile
        self.accounts = accounts or Accounts(open_access=self.profile.open_access)
        self.aliases = tuple(aliases)
        self.title = title or host
        # Single-tenant registries (an ECR account) belong to one organization: every
        # repository lives in its namespace, whatever its path.
        self.owner = owner
        self._repos: dict[str, Repository] = {}
        self._seeds: dict[str, Seed] = {}
        # Blob bytes by digest, wherever the store keeps them (memory by default).
        self.blobs: BlobStore = blobs if blobs is not None else MemoryBlobStore()
        self._uploads: dict[str, _Upload] = {}
        # Blobs pushed before a repository's first manifest wait here, invisible, so that a
        # failed first push creates nothing.
        self._staging: dict[str, Repository] = {}
        self._upload_ids = itertools.count(1)

    def __repr__(self) -> str:
        return f"Registry({self.host!r}, profile={self.profile.name!r})"

    # -- repositories --------------------------------------------------------------------

    def seed_repository(self, repo: Repository, loader: Seed) -> None:
        """Add ``repo`` whose content ``loader`` provides on first use (official images)."""
        self._repos[repo.path] = repo
        self._seeds[repo.path] = loader

    def _load(self, path: str) -> Repository | None:
        repo = self._repos.get(path)
        loader = self._seeds.pop(path, None)
        if repo is not None and loader is not None:
            for tag, media_type, data, blobs in loader():
                for digest, read in blobs.items():
                    self.blobs.put(digest, read)
                    repo.blobs.add(digest)
                digest = sha256_digest(data)
                repo.manifests[digest] = StoredManifest(digest, media_type, data)
                repo.tags[tag] = digest
        return repo

    def repository(self, path: str) -> Repository | None:
        """The repository at ``path`` (loaded if seeded), or None; no permission check."""
        return self._load(path)

    def repositories(self) -> Iterator[Repository]:
        """Every repository, sorted by path (seeded ones loaded)."""
        for path in sorted(self._repos):
            repo = self._load(path)
            if repo is not None:  # always: every path of _repos has its repository
                yield repo

    def repository_paths(self) -> list[str]:
        """Every repository path, without loading seeded content."""
        return sorted(self._repos)

    def peek(self, path: str) -> Repository | None:
        """The repository's metadata without loading its content (search, catalog)."""
        return self._repos.get(path)

    # -- authorization -------------------------------------------------------------------

    def facts(self, path: str) -> RepoFacts:
        repo = self._repos.get(path)
        account = self.owner if self.owner else (path.partition("/")[0] if "/" in path else None)
        if repo is None:
            return RepoFacts(account=account, path=path, exists=False)
        return RepoFacts(
            account=account,
            path=path,
            exists=True,
            private=repo.private,
            collaborators=frozenset(repo.collaborators),
        )

    def decide(self, principal: Principal, action: Action, path: str) -> Decision:
        """Whether ``principal`` may do ``action`` on the repository at ``path``."""
        return self.accounts.authorize(principal, action, self.facts(path))

    def _require(self, principal: Principal, action: Action, path: str) -> Decision:
        decision = self.decide(principal, action, path)
        if decision:
            return decision
        if action is Action.PULL:
            # A private repository looks exactly like a missing one to those who may not pull.
            raise RegistryError("DENIED", detail={"reason": decision.reason})
        if principal.is_anonymous:
            raise RegistryError(self.profile.anonymous_push, detail={"reason": decision.reason})
        raise RegistryError("DENIED", detail={"reason": decision.reason})

    def _require_push(self, principal: Principal, path: str) -> None:
        """Push needs push rights; a missing repository also needs the profile's consent."""
        self._check_name(path)
        if path in self._repos:
            self._require(principal, Action.PUSH, path)
            return
        if not self.profile.create_on_push:
            if principal.is_anonymous:
                raise RegistryError(self.profile.anonymous_push)
            raise RegistryError("NAME_UNKNOWN", detail={"name": path})
        self._require(principal, Action.PUSH, path)

    def _may_push(self, principal: Principal, path: str) -> bool:
        try:
            self._require_push(principal, path)
        except RegistryError:
            return False
        return True

    @staticmethod
    def _check_name(path: str) -> None:
        if len(path) > 255 or not NAME_PATTERN.fullmatch(path):
            raise RegistryError("NAME_INVALID", detail={"name": path})

    def _pullable(self, principal: Principal, path: str) -> Repository:
        self._check_name(path)
        self._require(principal, Action.PULL, path)
        repo = self._load(path)
        if repo is None:  # authorize never lets a missing repository through; be safe
            raise RegistryError("NAME_UNKNOWN", detail={"name": path})
        return repo

    # -- blobs ---------------------------------------------------------------------------

    def check_blob(self, principal: Principal, path: str, digest: str) -> int:
        """HEAD a blob: its size, or BLOB_UNKNOWN when it is not in this repository.

        During a first push the repository does not exist yet: someone who may push there
        gets BLOB_UNKNOWN (or the size of a blob this push already uploaded), as from a real
        registry; anyone else gets the pull refusal.
        """
        if path not in self._repos and self._may_push(principal, path):
            staged = self._staging.get(path)
            if staged is None or digest not in staged.blobs:
                raise RegistryError("BLOB_UNKNOWN", detail={"digest": digest})
            return self.blobs.size(digest)
        repo = self._pullable(principal, path)
        if digest not in repo.blobs:
            raise RegistryError("BLOB_UNKNOWN", detail={"digest": digest})
        return self.blobs.size(digest)

    def get_blob(self, principal: Principal, path: str, digest: str) -> bytes:
        """GET a blob's bytes."""
        return self.open_blob(principal, path, digest).read(0, self.blobs.size(digest))

    def open_blob(self, principal: Principal, path: str, digest: str) -> BlobSource:
        """A reader of a blob's bytes (a server streams from it without a lock: stored
        bytes never change). Readable as soon as the upload's PUT answered, before any
        manifest: the Location of a finished upload is pullable, as the spec requires."""
        if path not in self._repos and self._may_push(principal, path):
            staged = self._staging.get(path)
            if staged is None or digest not in staged.blobs:
                raise RegistryError("BLOB_UNKNOWN", detail={"digest": digest})
            return self.blobs.open(digest)
        repo = self._pullable(principal, path)
        if digest not in repo.blobs:
            raise RegistryError("BLOB_UNKNOWN", detail={"digest": digest})
        return self.blobs.open(digest)

    def mount_blob(self, principal: Principal, path: str, digest: str, source: str) -> bool:
        """Cross-repository mount: link ``digest`` from ``source`` into ``path``.

        True when mounted (201 Created). False when the registry cannot mount (202: the caller
        uploads instead): the blob is not in ``source``, or the caller may not pull ``source``.
        """
        self._require_push(principal, path)
        if not DIGEST_PATTERN.fullmatch(digest):
            raise RegistryError("DIGEST_INVALID", detail={"digest": digest})
        if not self.decide(principal, Action.PULL, source):
            return False
        source_repo = self._load(source)
        if source_repo is None or digest not in source_repo.blobs:
            return False
        self._link(path, digest)
        return True

    def start_upload(self, principal: Principal, path: str) -> str:
        """POST an upload session; returns its id."""
        self._require_push(principal, path)
        upload_id = f"upload-{next(self._upload_ids)}"
        self._uploads[upload_id] = _Upload(path, principal)
        return upload_id

    def upload_chunk(self, upload_id: str, data: bytes) -> int:
        """PATCH a chunk into an upload session; returns the bytes received so far."""
        upload = self._upload(upload_id)
        upload.chunks.append(bytes(data))
        return sum(map(len, upload.chunks))

    def finish_upload(
        self,
        upload_id: str,
        digest: str | None,
        data: bytes = b"",
        *,
        size: int | None = None,
        received: Received | None = None,
    ) -> str:
        """PUT the last chunk and close the session; the blob becomes visible only now.

        ``size`` is the declared length (Content-Length): a mismatch is SIZE_INVALID. A digest
        that does not match the bytes is DIGEST_INVALID, the session closed and nothing
        stored. A missing or malformed digest is DIGEST_INVALID too but, as in distribution,
        the session stays open for a retry. ``received``: the whole blob as a server spooled
        and hashed it (then ``data`` is empty); committing it is a move, not a copy.
        """
        upload = self._upload(upload_id)
        if not digest or not DIGEST_PATTERN.fullmatch(digest):
            raise RegistryError("DIGEST_INVALID", detail={"digest": digest})
        del self._uploads[upload_id]
        if received is None:
            received = Received.of(b"".join([*upload.chunks, bytes(data)]))
            if size is not None and size != len(data):
                raise RegistryError(
                    "SIZE_INVALID", detail={"declared": size, "received": len(data)}
                )
        if received.digest != digest:
            self.blobs.discard(received)
            raise RegistryError("DIGEST_INVALID", detail={"digest": digest})
        self.blobs.add(received)
        self._link(upload.path, digest)
        return digest

    def cancel_upload(self, upload_id: str) -> None:
        """DELETE an upload session; what it received is dropped."""
        self._upload(upload_id)
        del self._uploads[upload_id]

    def _upload(self, upload_id: str) -> _Upload:
        upload = self._uploads.get(upload_id)
        if upload is None:
            raise RegistryError("BLOB_UPLOAD_UNKNOWN", detail={"upload": upload_id})
        return upload

    def _link(self, path: str, digest: str) -> None:
        repo = self._load(path) or self._staging.setdefault(path, Repository(path))
        repo.blobs.add(digest)

    def _linked(self, path: str) -> set[str]:
        repo = self._load(path)
        staged = self._staging.get(path)
        return (repo.blobs if repo else set()) | (staged.blobs if staged else set())

    # -- manifests -----------------------------------------------------------------------

    def put_manifest(
        self,
        principal: Principal,
        path: str,
        reference: str,
        data: bytes,
        media_type: str | None = None,
    ) -> str:
        """PUT a manifest under a tag or its digest; returns its digest.

        Every blob it references must already be in this repository (MANIFEST_BLOB_UNKNOWN);
        it is stored byte for byte. A repository that does not exist is created as the
        profile says.
        """
        self._require_push(principal, path)
        data = bytes(data)
        if len(data) > MAX_MANIFEST_BYTES:
            raise RegistryError("MANIFEST_INVALID", detail={"reason": "manifest too large"})
        digest = sha256_digest(data)
        is_digest = reference.startswith("sha256:") or ":" in reference
        if is_digest:
            if not DIGEST_PATTERN.fullmatch(reference) or reference != digest:
                raise RegistryError("DIGEST_INVALID", detail={"digest": reference})
        elif not TAG_PATTERN.fullmatch(reference):
            raise RegistryError("TAG_INVALID", detail={"tag": reference})
        try:
            manifest = parse_manifest(data, media_type)
        except RecursionError:  # JSON nested deeper than Python parses: invalid, not a crash
            raise RegistryError(
                "MANIFEST_INVALID", detail={"reason": "JSON nested too deeply"}
            ) from None
        linked = self._linked(path)
        existing = self._load(path)
        known = existing.manifests if existing else {}
        missing = [d for d in manifest.referenced_blobs if d not in linked]
        missing += [d for d in manifest.referenced_manifests if d not in known]
        if missing:
            raise RegistryError("MANIFEST_BLOB_UNKNOWN", detail={"digest": missing[0]})
        stored = StoredManifest(digest, manifest.media_type, data)
        # Every check passed and everything is built: now change state.
        repo = existing or self._create(principal, path)
        staged = self._staging.pop(path, None)
        if staged is not None:
            repo.blobs |= staged.blobs
        repo.manifests[digest] = stored
        if not is_digest:
            repo.tags[reference] = digest
        return digest

    def _create(self, principal: Principal, path: str) -> Repository:
        if self.profile.private_on_push is None:
            account = self.facts(path).account
            private = self.accounts.default_private(account) if account else False
        else:
            private = self.profile.private_on_push
        repo = Repository(path, private=private)
        self._repos[path] = repo
        return repo

    def get_manifest(self, principal: Principal, path: str, reference: str) -> StoredManifest:
        """GET (or HEAD) a manifest by tag or digest. Where the caller may pull but the
        repository does not exist, MANIFEST_UNKNOWN, as distribution answers (it looks the
        reference up without checking the repository; tests/wire/
        test_differential_pull_errors.py)."""
        self._check_name(path)
        self._require(principal, Action.PULL, path)
        if self._load(path) is None:
            raise RegistryError("MANIFEST_UNKNOWN", detail={"reference": reference})
        repo = self._pullable(principal, path)
        digest = reference if reference.startswith("sha256:") else repo.tags.get(reference)
        manifest = repo.manifests.get(digest) if digest else None
        if manifest is None:
            raise RegistryError("MANIFEST_UNKNOWN", detail={"reference": reference})
        return manifest

    def list_tags(
        self, principal: Principal, path: str, n: int | None = None, last: str | None = None
    ) -> list[str]:
        """Tags in lexical order, paginated like the spec (``n``, ``last``)."""
        repo = self._pullable(principal, path)
        return _page(sorted(repo.tags), n, last)

    def catalog(
        self, principal: Principal, n: int | None = None, last: str | None = None
    ) -> list[str]:
        """Repository paths ``principal`` may pull, paginated."""
        paths = [p for p in sorted(self._repos) if self.decide(principal, Action.PULL, p)]
        return _page(paths, n, last)

    def delete_tag(self, principal: Principal, path: str, tag: str) -> None:
        """DELETE a tag: only that tag goes; the manifest stays reachable by digest."""
        self._require(principal, Action.DELETE, path)
        repo = self._pullable(principal, path)
        if tag not in repo.tags:
            raise RegistryError("MANIFEST_UNKNOWN", detail={"tag": tag})
        del repo.tags[tag]

    def delete_manifest(self, principal: Principal, path: str, digest: str) -> None:
        """DELETE a manifest by digest, and every tag pointing at it. A manifest an index
        references may be deleted, as in distribution: the index stays, naming it."""
        self._require(principal, Action.DELETE, path)
        repo = self._pullable(principal, path)
        if digest not in repo.manifests:
            raise RegistryError("MANIFEST_UNKNOWN", detail={"digest": digest})
        del repo.manifests[digest]
        for tag in [t for t, d in repo.tags.items() if d == digest]:
            del repo.tags[tag]

    # -- Hub actions (the web UI's, not the API's) ---------------------------------------

    def create_repository(
        self,
        principal: Principal,
        path: str,
        *,
        private: bool | None = None,
        description: str = "",
    ) -> Repository:
        """Create an empty repository, as Hub's "Create repository" button does."""
        self._check_name(path)
        if path in self._repos:
            raise RegistryError("DENIED", message=f"repository {path} already exists")
        self._require(principal, Action.CREATE, path)
        repo = self._create(principal, path)
        if private is not None:
            repo.private = private
        repo.description = description[:100]
        staged = self._staging.pop(path, None)
        if staged is not None:
            repo.blobs |= staged.blobs
        return repo

    def _existing(self, principal: Principal, action: Action, path: str) -> Repository:
        self._require(principal, action, path)
        repo = self._load(path)
        if repo is None:
            raise RegistryError("NAME_UNKNOWN", detail={"name": path})
        return repo

    def set_visibility(self, principal: Principal, path: str, private: bool) -> None:
        """Make a repository public or private."""
        self._existing(principal, Action.SET_VISIBILITY, path).private = private

    def set_description(self, principal: Principal, path: str, description: str) -> None:
        """Change a repository's short description (at most 100 characters on Hub)."""
        self._existing(principal, Action.SET_VISIBILITY, path).description = description[:100]

    def add_collaborator(self, principal: Principal, path: str, user: str) -> None:
        """Give ``user`` push and pull on a personal repository."""
        repo = self._existing(principal, Action.MANAGE_ACCESS, path)
        if self.accounts.account_kind(repo.account) != "user":
            raise RegistryError(
                "DENIED", message="collaborators can only be added to personal repositories"
            )
        if user not in self.accounts.users:
            raise RegistryError("DENIED", message=f"no such user: {user}")
        repo.collaborators.add(user)

    def remove_collaborator(self, principal: Principal, path: str, user: str) -> None:
        self._existing(principal, Action.MANAGE_ACCESS, path).collaborators.discard(user)

    def delete_repository(self, principal: Principal, path: str) -> None:
        """Delete a repository and everything in it."""
        self._existing(principal, Action.DELETE, path)
        del self._repos[path]

    # -- persistence (labkit serve --data) ------------------------------------------------

    def is_pristine_seed(self, path: str) -> bool:
        """A catalog repository nobody has touched yet (its content comes from the catalog)."""
        return path in self._seeds

    def export_repository(self, path: str) -> dict | None:
        """The repository's whole state as JSON-able data (manifest bytes by digest, kept in
        the blob store by whoever persists), or None when there is none; plus ``staged``,
        the blobs a first push has uploaded before its manifest."""
        staged = sorted(self._staging[path].blobs) if path in self._staging else []
        repo = self._load(path)
        if repo is None:
            return {"exists": False, "staged": staged}
        return {
            "exists": True,
            "staged": staged,
            "private": repo.private,
            "description": repo.description,
            "stars": repo.stars,
            "official": repo.official,
            "collaborators": sorted(repo.collaborators),
            "tags": dict(sorted(repo.tags.items())),
            "manifests": {d: m.media_type for d, m in sorted(repo.manifests.items())},
            "blobs": sorted(repo.blobs),
        }

    def import_repository(self, path: str, state: dict) -> None:
        """Restore what :meth:`export_repository` returned (manifest bytes from the store)."""
        if state["staged"]:
            self._staging[path] = Repository(path, blobs=set(state["staged"]))
        else:
            self._staging.pop(path, None)
        if not state["exists"]:
            self._repos.pop(path, None)
            self._seeds.pop(path, None)
            return
        repo = self._load(path) or Repository(path)  # a seed first registers its blobs
        repo.private = state["private"]
        repo.description = state["description"]
        repo.stars = state["stars"]
        repo.official = state["official"]
        repo.collaborators = set(state["collaborators"])
        repo.tags = dict(state["tags"])
        repo.manifests = {
            digest: StoredManifest(digest, media_type, self.blobs.get(digest))
            for digest, media_type in state["manifests"].items()
        }
        repo.blobs = set(state["blobs"])
        self._repos[path] = repo

    def staged_paths(self) -> list[str]:
        return sorted(self._staging)

    # -- views ---------------------------------------------------------------------------

    def snapshot(self) -> dict:
        """A JSON-able, deterministic view of the registry (no secrets)."""
        return {
            "host": self.host,
            "profile": self.profile.name,
            "repositories": {repo.path: repo.snapshot() for repo in self.repositories()},
            "accounts": self.accounts.snapshot(),
        }

    def invariant_errors(self) -> list[str]:
        """What breaks the registry's invariants (always empty unless there is a bug)."""
        problems = []
        for repo in self.repositories():
            for tag, digest in repo.tags.items():
                if digest not in repo.manifests:
                    problems.append(f"{repo.path}:{tag} points at missing {digest}")
            for digest, stored in repo.manifests.items():
                if sha256_digest(stored.data) != digest:
                    problems.append(f"{repo.path}@{digest} does not match its bytes")
                manifest = parse_manifest(stored.data, stored.media_type)
                # An index's children must exist when it is pushed, but may be deleted later
                # (distribution allows it; the index then names a manifest that is gone,
                # which pulls as MANIFEST_UNKNOWN), so only blobs are an invariant here.
                missing = [d for d in manifest.referenced_blobs if d not in repo.blobs]
                problems += [f"{repo.path}@{digest} needs missing {d}" for d in missing]
            problems += [
                f"{repo.path} links unknown blob {d}" for d in repo.blobs - self.blobs.digests()
            ]
        return problems


def _page(items: list[str], n: int | None, last: str | None) -> list[str]:
    if last is not None:
        items = [item for item in items if item > last]
    if n is not None:
        if n < 0:
            raise RegistryError("PAGINATION_NUMBER_INVALID", detail={"n": n})
        items = items[:n]
    return items
