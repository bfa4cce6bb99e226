"""Accounts and permissions of one registry, as on Docker Hub.

Users (Docker IDs) with passwords and personal access tokens; organizations whose members have a
role (member, editor, owner) and belong to teams; per-repository team grants (Read-only,
Read & Write, Admin, cumulative); collaborators on personal repositories; each namespace's default
repository privacy. One function, :meth:`Accounts.authorize`, decides every repository operation.

Deliberate choices, where Docker Hub's documentation is silent or the simulation is simpler
(see ``facts/hub.md`` part A1):

- Adding a user to a team makes them an organization member first (role ``member``) when they
  are not one yet; Hub requires membership, and an invitation flow would teach nothing here.
- Removing a member also removes them from every team; an organization keeps at least one owner.
- Collaborators count only on personal repositories (organizations use roles and teams).
- Deleting tags, manifests or the repository needs Admin (namespace user, org owner or editor, or a
  team ``Admin`` grant), as a Docker staff answer describes (``docker/hub-feedback#2508``).
- Personal access tokens never do account or repository administration (create a repository in
  the UI, change visibility, manage access, manage an organization). A push that creates a
  repository is a push: a ``Repo Read & Write`` or ``Repo Read, Write, Delete`` token may do it
  when its user may create repositories in that namespace.
- A revoked token can do nothing, not even pull a public repository: its login is no longer valid.
- Passwords and token secrets are stored only as salted SHA-256 hashes (fast on purpose: this is a
  teaching simulation that replays many logins, not a password vault) and compared in constant
  time. :meth:`Accounts.snapshot` never contains them.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import re
import secrets
import string
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import IntEnum, StrEnum
from types import MappingProxyType
from typing import ClassVar

from labkit.errors import LabkitError

__all__ = [
    "ANONYMOUS",
    "MIN_PASSWORD_LENGTH",
    "REASONS",
    "Accounts",
    "Action",
    "Decision",
    "Organization",
    "Permission",
    "Principal",
    "RepoFacts",
    "Role",
    "Team",
    "Token",
    "TokenScope",
    "User",
    "validate_docker_id",
]

DOCKER_ID_PATTERN = re.compile(r"[a-z0-9]{4,30}")
TEAM_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,49}")
MIN_PASSWORD_LENGTH = 9
TOKEN_PREFIX = "dckr_pat_"
TOKEN_SECRET_LENGTH = 27
_URL_SAFE = string.ascii_letters + string.digits + "-_"


class Permission(IntEnum):
    """A team's permission on one repository; each level includes the ones below it."""

    READ = 1
    WRITE = 2
    ADMIN = 3

    @property
    def label(self) -> str:
        """Docker Hub's name for the level."""
        return _PERMISSION_LABELS[self]


_PERMISSION_LABELS = {
    Permission.READ: "Read-only",
    Permission.WRITE: "Read & Write",
    Permission.ADMIN: "Admin",
}


class Role(StrEnum):
    """A member's role in an organization."""

    MEMBER = "member"
    EDITOR = "editor"
    OWNER = "owner"

    @property
    def label(self) -> str:
        """Docker Hub's name for the role."""
        return self.value.capitalize()


class TokenScope(StrEnum):
    """A personal access token's one permission level."""

    PUBLIC_READ = "public-read"
    READ = "read"
    WRITE = "write"
    DELETE = "delete"

    @property
    def label(self) -> str:
        """Docker Hub's name for the scope."""
        return _SCOPE_LABELS[self]


_SCOPE_LABELS = {
    TokenScope.PUBLIC_READ: "Repo Public Read-only",
    TokenScope.READ: "Repo Read-only",
    TokenScope.WRITE: "Repo Read & Write",
    TokenScope.DELETE: "Repo Read, Write, Delete",
}


class Action(StrEnum):
    """What a principal wants to do to one repository."""

    PULL = "pull"
    PUSH = "push"
    DELETE = "delete"
    CREATE = "create"
    SET_VISIBILITY = "set-visibility"
    MANAGE_ACCESS = "manage-access"


# The permission level each action on an existing repository needs.
REQUIRED_LEVEL: Mapping[Action, Permission] = MappingProxyType(
    {
        Action.PULL: Permission.READ,
        Action.PUSH: Permission.WRITE,
        Action.DELETE: Permission.ADMIN,
        Action.SET_VISIBILITY: Permission.ADMIN,
        Action.MANAGE_ACCESS: Permission.ADMIN,
    }
)

# What each token scope lets through (on top of what its user may do). Public pulls need no scope.
TOKEN_ACTIONS: Mapping[TokenScope, frozenset[Action]] = MappingProxyType(
    {
        TokenScope.PUBLIC_READ: frozenset(),
        TokenScope.READ: frozenset({Action.PULL}),
        TokenScope.WRITE: frozenset({Action.PULL, Action.PUSH}),
        TokenScope.DELETE: frozenset({Action.PULL, Action.PUSH, Action.DELETE}),
    }
)

# Where access comes from (Decision.reason when allowed) and why it was refused (when denied).
REASONS: Mapping[str, str] = MappingProxyType(
    {
        "open-registry": "this registry needs no login: everyone may do everything",
        "public": "the repository is public: anyone may pull it, even without logging in",
        "owner": "the repository is in your own namespace",
        "org-owner": "you are an owner of the organization",
        "org-editor": "you are an editor of the organization",
        "team-read": "a team you belong to has Read-only access",
        "team-write": "a team you belong to has Read & Write access",
        "team-admin": "a team you belong to has Admin access",
        "collaborator": "you are a collaborator on this personal repository",
        "anonymous": "you are not logged in",
        "no-access": "you have no access to this repository",
        "read-only": "you may only pull from this repository",
        "not-admin": "this needs Admin access to the repository",
        "cannot-create": "only the namespace's user or an organization owner or editor may create "
        "repositories here",
        "token-scope": "the access token you logged in with does not allow this",
        "token-revoked": "the access token you logged in with has been revoked",
        "not-found": "the repository does not exist",
        "not-owner": "only organization owners may manage members and teams",
    }
)

_CREATOR_REASONS = frozenset({"owner", "org-owner", "org-editor"})


def validate_docker_id(name: str, what: str = "Docker ID") -> str:
    """Return ``name`` when it is a valid Docker ID (4 to 30 lowercase letters and digits)."""
    if not isinstance(name, str) or not DOCKER_ID_PATTERN.fullmatch(name):
        raise LabkitError(
            f"invalid {what} {name!r}: it must be 4 to 30 characters long and use only "
            "lowercase letters (a-z) and digits (0-9), no '-', '_' or '.'"
        )
    return name


@dataclass(frozen=True)
class Principal:
    """Who is asking: anonymous, a user logged in with a password, or with a token."""

    user: str | None = None
    token_scope: TokenScope | None = None
    token_id: str | None = None

    ANONYMOUS: ClassVar[Principal]

    @property
    def is_anonymous(self) -> bool:
        """True when nobody is logged in."""
        return self.user is None

    def __str__(self) -> str:
        if self.user is None:
            return "anonymous"
        if self.token_scope is None:
            return self.user
        return f"{self.user} (token {self.token_id}, {self.token_scope.label})"


ANONYMOUS = Principal()
Principal.ANONYMOUS = ANONYMOUS


@dataclass(frozen=True)
class RepoFacts:
    """What authorization needs to know about one repository."""

    account: str | None  # the user or organization owning it (the path's first component)
    path: str
    exists: bool
    private: bool = False
    collaborators: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Decision:
    """Allowed or not, with a short stable reason code (see :data:`REASONS`)."""

    allowed: bool
    reason: str
    via: str | None = None

    def __bool__(self) -> bool:
        return self.allowed

    @property
    def explanation(self) -> str:
        """The reason in plain words, naming the team when a team decided."""
        text = REASONS.get(self.reason, self.reason)
        return f"{text} (team {self.via})" if self.via else text


@dataclass(frozen=True)
class User:
    """A personal account (Docker ID). Secrets are kept by :class:`Accounts`, never here."""

    name: str


@dataclass(frozen=True)
class Token:
    """A personal access token, without its secret (shown once, when created)."""

    token_id: str
    user: str
    scope: TokenScope
    description: str = ""
    active: bool = True


@dataclass(frozen=True)
class Team:
    """A group of an organization's members, with per-repository grants."""

    name: str
    description: str = ""
    members: frozenset[str] = frozenset()
    grants: Mapping[str, Permission] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Organization:
    """An organization: members with roles, and teams."""

    name: str
    members: Mapping[str, Role] = field(default_factory=lambda: MappingProxyType({}))
    teams: Mapping[str, Team] = field(default_factory=lambda: MappingProxyType({}))

    def teams_of(self, user: str) -> list[Team]:
        """The teams ``user`` belongs to, by name."""
        return [team for _, team in sorted(self.teams.items()) if user in team.members]


@dataclass(frozen=True)
class _Access:
    level: Permission
    reason: str
    via: str | None = None


def _frozen(mapping: dict) -> Mapping:
    return MappingProxyType(dict(mapping))


class Accounts:
    """The identities of one registry (docker.io has its own, registry.acme.com its own)."""

    def __init__(self, open_access: bool = False, rng: random.Random | None = None) -> None:
        self.open_access = open_access
        self._rng = rng
        self._users: dict[str, User] = {}
        self._orgs: dict[str, Organization] = {}
        self._passwords: dict[str, tuple[bytes, bytes]] = {}  # user -> (salt, hash)
        self._tokens: dict[str, Token] = {}  # token id -> token
        self._token_hashes: dict[str, tuple[bytes, bytes]] = {}  # token id -> (salt, hash)
        self._default_private: dict[str, bool] = {}

    # -- read-only views ---------------------------------------------------------------------

    @property
    def users(self) -> Mapping[str, User]:
        """Users by name (read-only)."""
        return MappingProxyType(self._users)

    @property
    def orgs(self) -> Mapping[str, Organization]:
        """Organizations by name (read-only)."""
        return MappingProxyType(self._orgs)

    def tokens(self, user: str) -> list[Token]:
        """``user``'s tokens (revoked ones too), in creation order, without secrets."""
        self._user(user)
        return [token for token in self._tokens.values() if token.user == user]

    def account_kind(self, name: str | None) -> str | None:
        """``"user"``, ``"org"`` or None (no such account here)."""
        if name in self._users:
            return "user"
        if name in self._orgs:
            return "org"
        return None

    def default_private(self, account: str) -> bool:
        """The account's Default repository privacy: True when new repositories are private."""
        return self._default_private.get(account, False)

    def set_default_private(self, account: str, private: bool) -> None:
        """Set the account's Default repository privacy (Hub: Settings -> Default privacy)."""
        if self.account_kind(account) is None:
            raise LabkitError(f"no user or organization named {account!r}")
        self._default_private[account] = bool(private)

    # -- users, passwords, tokens ---------------------------------------------------------------

    def add_user(self, name: str, password: str) -> User:
        """Create a Docker ID; the password must have at least 9 characters, as on Docker Hub."""
        validate_docker_id(name)
        if self.account_kind(name) is not None:
            raise LabkitError(f"the name {name!r} is already taken")
        if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
            raise LabkitError(
                f"the password for {name!r} is too short: "
                f"it needs at least {MIN_PASSWORD_LENGTH} characters"
            )
        user = User(name)
        self._users[name] = user
        self._passwords[name] = _hash_secret(password)
        return user

    def create_token(self, user: str, scope: TokenScope, description: str = "") -> tuple[str, str]:
        """Create a personal access token: ``(token_id, secret)``; the secret is shown once."""
        self._user(user)
        scope = TokenScope(scope)
        if self._rng is not None:
            token_id = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
            body = "".join(self._rng.choice(_URL_SAFE) for _ in range(TOKEN_SECRET_LENGTH))
        else:
            token_id = str(uuid.uuid4())
            body = "".join(secrets.choice(_URL_SAFE) for _ in range(TOKEN_SECRET_LENGTH))
        secret = TOKEN_PREFIX + body
        self._tokens[token_id] = Token(token_id, user, scope, description)
        self._token_hashes[token_id] = _hash_secret(secret)
        return token_id, secret

    def revoke_token(self, user: str, token_id: str) -> None:
        """Revoke one of ``user``'s tokens: it no longer logs in nor authorizes anything."""
        token = self._tokens.get(token_id)
        if token is None or token.user != user:
            raise LabkitError(f"user {user!r} has no access token {token_id!r}")
        self._tokens[token_id] = replace(token, active=False)
        self._token_hashes.pop(token_id, None)

    def authenticate(self, name: str, secret: str) -> Principal | None:
        """The principal for a password or token secret, or None when they do not match."""
        if name not in self._users or not isinstance(secret, str):
            return None
        if secret.startswith(TOKEN_PREFIX):
            for token in self.tokens(name):
                stored = self._token_hashes.get(token.token_id)
                if token.active and stored is not None and _matches(secret, stored):
                    return Principal(name, token.scope, token.token_id)
        if _matches(secret, self._passwords[name]):
            return Principal(name)
        return None

    def principal_for(self, name: str, token_id: str | None = None) -> Principal:
        """The principal for a user (and token) without checking a secret; for trusted replay."""
        self._user(name)
        if token_id is None:
            return Principal(name)
        token = self._tokens.get(token_id)
        if token is None or token.user != name:
            raise LabkitError(f"user {name!r} has no access token {token_id!r}")
        return Principal(name, token.scope, token_id)

    # -- organizations and teams ----------------------------------------------------------------

    def add_org(self, name: str, owner: str) -> Organization:
        """Create an organization; ``owner`` (an existing user) becomes its first owner."""
        validate_docker_id(name, "organization name")
        if self.account_kind(name) is not None:
            raise LabkitError(f"the name {name!r} is already taken")
        self._user(owner)
        org = Organization(name, _frozen({owner: Role.OWNER}))
        self._orgs[name] = org
        return org

    def add_member(self, org: str, user: str, role: Role = Role.MEMBER) -> None:
        """Add an existing user to an organization with a role."""
        organization = self._org(org)
        self._user(user)
        if user in organization.members:
            raise LabkitError(f"{user!r} is already a member of {org!r}")
        self._set_members(organization, {**organization.members, user: Role(role)})

    def set_role(self, org: str, user: str, role: Role) -> None:
        """Change a member's role; an organization always keeps at least one owner."""
        organization = self._org(org)
        self._member(organization, user)
        members = {**organization.members, user: Role(role)}
        self._require_an_owner(organization, members)
        self._set_members(organization, members)

    def remove_member(self, org: str, user: str) -> None:
        """Remove a member from the organization and from all its teams."""
        organization = self._org(org)
        self._member(organization, user)
        members = {name: role for name, role in organization.members.items() if name != user}
        self._require_an_owner(organization, members)
        teams = {
            name: replace(team, members=team.members - {user})
            for name, team in organization.teams.items()
        }
        self._orgs[org] = replace(organization, members=_frozen(members), teams=_frozen(teams))

    def create_team(self, org: str, team: str, description: str = "") -> None:
        """Create an empty team in the organization."""
        organization = self._org(org)
        if not isinstance(team, str) or not TEAM_NAME_PATTERN.fullmatch(team):
            raise LabkitError(
                f"invalid team name {team!r}: use 1 to 50 letters, digits, '.', '_' or '-', "
                "starting with a letter or digit"
            )
        if team in organization.teams:
            raise LabkitError(f"organization {org!r} already has a team {team!r}")
        self._set_team(organization, Team(team, description))

    def add_team_member(self, org: str, team: str, user: str) -> None:
        """Add ``user`` to a team; a user who is not yet a member joins the org as a member."""
        organization = self._org(org)
        existing = self._team(organization, team)
        self._user(user)
        if user in existing.members:
            raise LabkitError(f"{user!r} is already in team {team!r} of {org!r}")
        if user not in organization.members:
            self.add_member(org, user, Role.MEMBER)
            organization = self._orgs[org]
        self._set_team(organization, replace(existing, members=existing.members | {user}))

    def remove_team_member(self, org: str, team: str, user: str) -> None:
        """Take ``user`` out of a team (they stay an organization member)."""
        organization = self._org(org)
        existing = self._team(organization, team)
        if user not in existing.members:
            raise LabkitError(f"{user!r} is not in team {team!r} of {org!r}")
        self._set_team(organization, replace(existing, members=existing.members - {user}))

    def grant_team(self, org: str, team: str, repo_path: str, permission: Permission) -> None:
        """Give a team a permission on one of the org's repositories (replacing any earlier one)."""
        organization = self._org(org)
        existing = self._team(organization, team)
        account, _, name = repo_path.partition("/")
        if account != org or not name:
            raise LabkitError(
                f"team {team!r} of {org!r} can only be granted repositories of {org!r} "
                f"({org}/<name>), not {repo_path!r}"
            )
        grants = {**existing.grants, repo_path: Permission(permission)}
        self._set_team(organization, replace(existing, grants=_frozen(grants)))

    def revoke_team(self, org: str, team: str, repo_path: str) -> None:
        """Remove a team's permission on a repository."""
        organization = self._org(org)
        existing = self._team(organization, team)
        if repo_path not in existing.grants:
            raise LabkitError(f"team {team!r} of {org!r} has no permission on {repo_path!r}")
        grants = {path: p for path, p in existing.grants.items() if path != repo_path}
        self._set_team(organization, replace(existing, grants=_frozen(grants)))

    def delete_team(self, org: str, team: str) -> None:
        """Delete a team: the access it gave is gone; no repository is deleted."""
        organization = self._org(org)
        self._team(organization, team)
        teams = {name: t for name, t in organization.teams.items() if name != team}
        self._orgs[org] = replace(organization, teams=_frozen(teams))

    # -- authorization --------------------------------------------------------------------------

    def access(self, user: str | None, repo: RepoFacts) -> _Access | None:
        """The user's effective permission on the repository and where it comes from, or None."""
        if user is None or user not in self._users:
            return None
        account = repo.account
        if account == user:
            return _Access(Permission.ADMIN, "owner")
        organization = self._orgs.get(account) if account is not None else None
        if organization is not None:
            role = organization.members.get(user)
            if role is Role.OWNER:
                return _Access(Permission.ADMIN, "org-owner")
            if role is Role.EDITOR:
                return _Access(Permission.ADMIN, "org-editor")
            best: _Access | None = None
            for team in organization.teams_of(user):
                level = team.grants.get(repo.path)
                if level is not None and (best is None or level > best.level):
                    best = _Access(level, f"team-{level.name.lower()}", team.name)
            return best
        if account in self._users and user in repo.collaborators:
            return _Access(Permission.WRITE, "collaborator")
        return None

    def authorize(self, principal: Principal, action: Action, repo: RepoFacts) -> Decision:
        """Decide whether ``principal`` may do ``action`` to ``repo``, and why."""
        if self.open_access:
            return Decision(True, "open-registry")
        if principal.token_id is not None and not self._token_active(principal):
            return Decision(False, "token-revoked")
        creating = action is Action.CREATE or (action is Action.PUSH and not repo.exists)
        if not creating and not repo.exists:
            return Decision(False, "not-found")
        if action is Action.PULL and not repo.private:
            return Decision(True, "public")
        if principal.is_anonymous:
            return Decision(False, "anonymous")
        access = self.access(principal.user, repo)
        if access is None:
            return Decision(False, "cannot-create" if creating else "no-access")
        if creating and access.reason not in _CREATOR_REASONS:
            return Decision(False, "cannot-create", access.via)
        if not creating and access.level < REQUIRED_LEVEL[action]:
            denial = "read-only" if access.level is Permission.READ else "not-admin"
            return Decision(False, denial, access.via)
        scope = principal.token_scope
        if scope is not None and action not in TOKEN_ACTIONS[scope]:
            return Decision(False, "token-scope", access.via)
        return Decision(True, access.reason, access.via)

    def can_manage_org(self, principal: Principal, org: str) -> Decision:
        """Whether ``principal`` may manage the organization's members and teams (owners only)."""
        if principal.is_anonymous:
            return Decision(False, "anonymous")
        if principal.token_id is not None:
            if not self._token_active(principal):
                return Decision(False, "token-revoked")
            return Decision(False, "token-scope")
        organization = self._orgs.get(org)
        if organization is None:
            return Decision(False, "not-found")
        if principal.user is not None and organization.members.get(principal.user) is Role.OWNER:
            return Decision(True, "org-owner")
        return Decision(False, "not-owner")

    # -- snapshot -------------------------------------------------------------------------------

    def snapshot(self) -> dict:
        """A JSON-able, sorted view of every account; never any password, secret or hash."""
        users = {}
        for name in sorted(self._users):
            users[name] = {
                "default_private": self.default_private(name),
                "tokens": [
                    {
                        "id": token.token_id,
                        "scope": token.scope.value,
                        "description": token.description,
                        "active": token.active,
                    }
                    for token in sorted(self.tokens(name), key=lambda t: t.token_id)
                ],
            }
        orgs = {}
        for name in sorted(self._orgs):
            organization = self._orgs[name]
            orgs[name] = {
                "default_private": self.default_private(name),
                "members": {
                    user: organization.members[user].value for user in sorted(organization.members)
                },
                "teams": {
                    team.name: {
                        "description": team.description,
                        "members": sorted(team.members),
                        "grants": {
                            path: team.grants[path].name.lower() for path in sorted(team.grants)
                        },
                    }
                    for _, team in sorted(organization.teams.items())
                },
            }
        return {"open_access": self.open_access, "users": users, "orgs": orgs}

    # -- persistence (labkit serve --data) --------------------------------------------------------

    def export_state(self) -> dict:
        """Everything, salted hashes included (never a password or secret), as JSON-able data
        that :meth:`import_state` restores; for a registry kept on disk."""
        return {
            "users": sorted(self._users),
            "passwords": {n: [s.hex(), h.hex()] for n, (s, h) in sorted(self._passwords.items())},
            "tokens": [
                {
                    "id": t.token_id,
                    "user": t.user,
                    "scope": t.scope.value,
                    "description": t.description,
                    "active": t.active,
                    "hash": [x.hex() for x in self._token_hashes[t.token_id]]
                    if t.token_id in self._token_hashes
                    else None,
                }
                for t in self._tokens.values()
            ],
            "default_private": dict(sorted(self._default_private.items())),
            "orgs": {
                name: {
                    "members": {u: r.value for u, r in sorted(org.members.items())},
                    "teams": {
                        team.name: {
                            "description": team.description,
                            "members": sorted(team.members),
                            "grants": {p: int(level) for p, level in sorted(team.grants.items())},
                        }
                        for team in org.teams.values()
                    },
                }
                for name, org in sorted(self._orgs.items())
            },
        }

    def import_state(self, state: Mapping) -> None:
        """Replace every account with what :meth:`export_state` wrote."""
        self._users = {name: User(name) for name in state["users"]}
        self._passwords = {
            n: (bytes.fromhex(s), bytes.fromhex(h)) for n, (s, h) in state["passwords"].items()
        }
        self._tokens, self._token_hashes = {}, {}
        for t in state["tokens"]:
            self._tokens[t["id"]] = Token(
                t["id"], t["user"], TokenScope(t["scope"]), t["description"], t["active"]
            )
            if t["hash"] is not None:
                salt, digest = t["hash"]
                self._token_hashes[t["id"]] = (bytes.fromhex(salt), bytes.fromhex(digest))
        self._default_private = {k: bool(v) for k, v in state["default_private"].items()}
        self._orgs = {}
        for name, org in state["orgs"].items():
            teams = {
                team: Team(
                    team,
                    spec["description"],
                    frozenset(spec["members"]),
                    _frozen({p: Permission(level) for p, level in spec["grants"].items()}),
                )
                for team, spec in org["teams"].items()
            }
            self._orgs[name] = Organization(
                name,
                _frozen({u: Role(r) for u, r in org["members"].items()}),
                _frozen(teams),
            )

    # -- helpers --------------------------------------------------------------------------------

    def _user(self, name: str) -> User:
        user = self._users.get(name)
        if user is None:
            raise LabkitError(f"no user named {name!r}")
        return user

    def _org(self, name: str) -> Organization:
        organization = self._orgs.get(name)
        if organization is None:
            raise LabkitError(f"no organization named {name!r}")
        return organization

    @staticmethod
    def _member(organization: Organization, user: str) -> Role:
        role = organization.members.get(user)
        if role is None:
            raise LabkitError(f"{user!r} is not a member of {organization.name!r}")
        return role

    @staticmethod
    def _team(organization: Organization, team: str) -> Team:
        existing = organization.teams.get(team)
        if existing is None:
            raise LabkitError(f"organization {organization.name!r} has no team {team!r}")
        return existing

    @staticmethod
    def _require_an_owner(organization: Organization, members: Mapping[str, Role]) -> None:
        if Role.OWNER not in members.values():
            raise LabkitError(f"organization {organization.name!r} must keep at least one owner")

    def _set_members(self, organization: Organization, members: dict[str, Role]) -> None:
        self._orgs[organization.name] = replace(organization, members=_frozen(members))

    def _set_team(self, organization: Organization, team: Team) -> None:
        teams = {**organization.teams, team.name: team}
        self._orgs[organization.name] = replace(organization, teams=_frozen(teams))

    def _token_active(self, principal: Principal) -> bool:
        token = self._tokens.get(principal.token_id or "")
        return token is not None and token.active and token.user == principal.user


def _hash_secret(secret: str) -> tuple[bytes, bytes]:
    salt = secrets.token_bytes(16)
    return salt, hashlib.sha256(salt + secret.encode()).digest()


def _matches(secret: str, stored: tuple[bytes, bytes]) -> bool:
    salt, digest = stored
    return hmac.compare_digest(hashlib.sha256(salt + secret.encode()).digest(), digest)
