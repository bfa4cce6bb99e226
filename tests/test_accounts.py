"""Tests for labkit.accounts: Docker IDs, tokens, organizations, teams and authorization."""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labkit.accounts import (
    ANONYMOUS,
    REASONS,
    Accounts,
    Action,
    Decision,
    Permission,
    Principal,
    RepoFacts,
    Role,
    TokenScope,
    validate_docker_id,
)
from labkit.errors import LabkitError

PASSWORD = "s3cret-pass"


def repo(path: str, exists: bool = True, private: bool = False, collaborators=()) -> RepoFacts:
    namespace = path.split("/")[0] if "/" in path else None
    return RepoFacts(namespace, path, exists, private, frozenset(collaborators))


@pytest.fixture
def hub() -> Accounts:
    """fredysa (personal), engineering (owned by olivia) with editor eddie and member mira."""
    accounts = Accounts(rng=random.Random(7))
    for name in ("fredysa", "olivia", "eddie", "mira", "stranger"):
        accounts.add_user(name, PASSWORD)
    accounts.add_org("engineering", "olivia")
    accounts.add_member("engineering", "eddie", Role.EDITOR)
    accounts.add_member("engineering", "mira")
    return accounts


def allowed(accounts: Accounts, who: str | Principal, action: Action, facts: RepoFacts) -> bool:
    principal = who if isinstance(who, Principal) else accounts.principal_for(who)
    return accounts.authorize(principal, action, facts).allowed


# -- names, labels, Docker IDs ------------------------------------------------------------------


def test_labels_are_docker_hubs_words():
    assert [p.label for p in Permission] == ["Read-only", "Read & Write", "Admin"]
    assert [s.label for s in TokenScope] == [
        "Repo Public Read-only",
        "Repo Read-only",
        "Repo Read & Write",
        "Repo Read, Write, Delete",
    ]
    assert [r.label for r in Role] == ["Member", "Editor", "Owner"]
    assert Permission.READ < Permission.WRITE < Permission.ADMIN


@pytest.mark.parametrize("name", ["abcd", "fredysa", "user2024", "0000", "a" * 30])
def test_valid_docker_ids_are_accepted(name):
    assert validate_docker_id(name) == name
    assert Accounts().add_user(name, PASSWORD).name == name


@pytest.mark.parametrize(
    "name", ["abc", "a" * 31, "Fredysa", "fred-ysa", "fred_ysa", "fred.ysa", "", "fréd1", " abcd"]
)
def test_invalid_docker_ids_are_refused_with_the_rule(name):
    with pytest.raises(LabkitError, match=r"4 to 30 characters .* lowercase letters .* digits"):
        Accounts().add_user(name, PASSWORD)


def test_names_are_unique_across_users_and_organizations(hub):
    with pytest.raises(LabkitError, match="already taken"):
        hub.add_user("fredysa", PASSWORD)
    with pytest.raises(LabkitError, match="already taken"):
        hub.add_user("engineering", PASSWORD)
    with pytest.raises(LabkitError, match="already taken"):
        hub.add_org("fredysa", "olivia")
    with pytest.raises(LabkitError, match="invalid organization name"):
        hub.add_org("Eng", "olivia")
    with pytest.raises(LabkitError, match="no user named"):
        hub.add_org("newcorp", "nobody1")


def test_passwords_need_nine_characters():
    with pytest.raises(LabkitError, match="at least 9 characters"):
        Accounts().add_user("fredysa", "12345678")
    Accounts().add_user("fredysa", "123456789")


def test_account_kind_and_default_privacy(hub):
    assert hub.account_kind("fredysa") == "user"
    assert hub.account_kind("engineering") == "org"
    assert hub.account_kind("library") is None
    assert hub.account_kind(None) is None
    assert hub.default_private("fredysa") is False
    hub.set_default_private("fredysa", True)
    hub.set_default_private("engineering", True)
    assert hub.default_private("fredysa") is True
    assert hub.default_private("engineering") is True
    assert hub.default_private("olivia") is False
    with pytest.raises(LabkitError, match="no user or organization"):
        hub.set_default_private("nobody1", True)


def test_read_only_views_cannot_be_changed(hub):
    with pytest.raises(TypeError):
        hub.users["intruder"] = None  # type: ignore[index]
    with pytest.raises(TypeError):
        hub.orgs["engineering"].members["fredysa"] = Role.OWNER  # type: ignore[index]


# -- passwords, tokens, authenticate ------------------------------------------------------------


def test_anonymous_principal():
    assert Principal.ANONYMOUS is ANONYMOUS
    assert ANONYMOUS.is_anonymous
    assert not Principal("fredysa").is_anonymous
    assert str(ANONYMOUS) == "anonymous"


def test_authenticate_with_password(hub):
    assert hub.authenticate("fredysa", PASSWORD) == Principal("fredysa")
    assert hub.authenticate("fredysa", PASSWORD + "x") is None
    assert hub.authenticate("fredysa", "") is None
    assert hub.authenticate("nobody1", PASSWORD) is None
    assert hub.authenticate("engineering", PASSWORD) is None


def test_tokens_look_like_dockers_and_log_in_with_their_scope(hub):
    token_id, secret = hub.create_token("fredysa", TokenScope.WRITE, "laptop")
    assert re.fullmatch(r"dckr_pat_[A-Za-z0-9_-]{27}", secret)
    principal = hub.authenticate("fredysa", secret)
    assert principal == Principal("fredysa", TokenScope.WRITE, token_id)
    assert hub.principal_for("fredysa", token_id) == principal
    assert hub.authenticate("mira", secret) is None  # someone else's token
    assert hub.authenticate("fredysa", secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None
    assert [t.description for t in hub.tokens("fredysa")] == ["laptop"]


def test_seeded_tokens_are_reproducible():
    def make() -> tuple[str, str]:
        accounts = Accounts(rng=random.Random(42))
        accounts.add_user("fredysa", PASSWORD)
        return accounts.create_token("fredysa", TokenScope.READ)

    assert make() == make()
    unseeded = Accounts()
    unseeded.add_user("fredysa", PASSWORD)
    first = unseeded.create_token("fredysa", TokenScope.READ)
    assert first != unseeded.create_token("fredysa", TokenScope.READ)


def test_revoked_token_neither_logs_in_nor_authorizes(hub):
    token_id, secret = hub.create_token("fredysa", TokenScope.DELETE)
    hub.revoke_token("fredysa", token_id)
    assert hub.authenticate("fredysa", secret) is None
    replayed = hub.principal_for("fredysa", token_id)  # replay still knows who it was
    public = repo("fredysa/app")
    assert hub.authorize(replayed, Action.PULL, public) == Decision(False, "token-revoked")
    assert hub.tokens("fredysa")[0].active is False
    with pytest.raises(LabkitError, match="no access token"):
        hub.revoke_token("mira", token_id)
    with pytest.raises(LabkitError, match="no access token"):
        hub.principal_for("mira", token_id)
    with pytest.raises(LabkitError, match="no user named"):
        hub.principal_for("nobody1")


def test_snapshot_is_sorted_json_without_secrets(hub):
    token_id, secret = hub.create_token("mira", TokenScope.READ, "ci")
    hub.create_team("engineering", "devs", "the developers")
    hub.add_team_member("engineering", "devs", "mira")
    hub.grant_team("engineering", "devs", "engineering/web", Permission.WRITE)
    snapshot = hub.snapshot()
    text = json.dumps(snapshot, sort_keys=False)
    assert PASSWORD not in text and secret not in text and secret[len("dckr_pat_") :] not in text
    for salt, digest in [*hub._passwords.values(), *hub._token_hashes.values()]:
        assert salt.hex() not in text and digest.hex() not in text
    assert json.loads(text) == snapshot
    assert list(snapshot["users"]) == sorted(snapshot["users"])
    assert snapshot["users"]["mira"]["tokens"] == [
        {"id": token_id, "scope": "read", "description": "ci", "active": True}
    ]
    assert snapshot["orgs"]["engineering"]["members"] == {
        "eddie": "editor",
        "mira": "member",
        "olivia": "owner",
    }
    assert snapshot["orgs"]["engineering"]["teams"]["devs"] == {
        "description": "the developers",
        "members": ["mira"],
        "grants": {"engineering/web": "write"},
    }


def test_snapshot_does_not_depend_on_salts_or_insertion_order():
    def build(names) -> dict:
        accounts = Accounts(rng=random.Random(1))
        for name in names:
            accounts.add_user(name, PASSWORD)
        return accounts.snapshot()

    assert build(["fredysa", "olivia"]) == build(["olivia", "fredysa"])
    assert json.dumps(build(["fredysa", "olivia"])) == json.dumps(build(["olivia", "fredysa"]))


# -- organizations and teams --------------------------------------------------------------------


def test_team_membership_makes_a_user_a_member(hub):
    hub.create_team("engineering", "devs")
    hub.add_team_member("engineering", "devs", "fredysa")
    org = hub.orgs["engineering"]
    assert org.members["fredysa"] is Role.MEMBER
    assert org.teams["devs"].members == {"fredysa"}
    with pytest.raises(LabkitError, match="already in team"):
        hub.add_team_member("engineering", "devs", "fredysa")
    with pytest.raises(LabkitError, match="already has a team"):
        hub.create_team("engineering", "devs")
    with pytest.raises(LabkitError, match="invalid team name"):
        hub.create_team("engineering", "no spaces")


def test_grants_belong_to_the_teams_organization(hub):
    hub.create_team("engineering", "devs")
    with pytest.raises(LabkitError, match="only be granted repositories of 'engineering'"):
        hub.grant_team("engineering", "devs", "fredysa/app", Permission.READ)
    with pytest.raises(LabkitError, match="only be granted"):
        hub.grant_team("engineering", "devs", "engineering", Permission.READ)
    with pytest.raises(LabkitError, match="no team"):
        hub.grant_team("engineering", "ops", "engineering/web", Permission.READ)
    with pytest.raises(LabkitError, match="has no permission"):
        hub.revoke_team("engineering", "devs", "engineering/web")


def test_an_organization_keeps_an_owner(hub):
    with pytest.raises(LabkitError, match="at least one owner"):
        hub.set_role("engineering", "olivia", Role.MEMBER)
    with pytest.raises(LabkitError, match="at least one owner"):
        hub.remove_member("engineering", "olivia")
    hub.set_role("engineering", "eddie", Role.OWNER)
    hub.remove_member("engineering", "olivia")
    assert "olivia" not in hub.orgs["engineering"].members
    with pytest.raises(LabkitError, match="not a member"):
        hub.set_role("engineering", "olivia", Role.OWNER)
    with pytest.raises(LabkitError, match="already a member"):
        hub.add_member("engineering", "mira")


def test_can_manage_org_is_for_owners_with_a_password(hub):
    token_id, _ = hub.create_token("olivia", TokenScope.DELETE)
    assert hub.can_manage_org(hub.principal_for("olivia"), "engineering") == Decision(
        True, "org-owner"
    )
    for who, reason in [("eddie", "not-owner"), ("mira", "not-owner"), ("fredysa", "not-owner")]:
        assert hub.can_manage_org(hub.principal_for(who), "engineering") == Decision(False, reason)
    assert hub.can_manage_org(ANONYMOUS, "engineering").reason == "anonymous"
    token = hub.principal_for("olivia", token_id)
    assert hub.can_manage_org(token, "engineering").reason == "token-scope"
    assert hub.can_manage_org(hub.principal_for("olivia"), "nowhere").reason == "not-found"


# -- authorization, rule by rule ----------------------------------------------------------------


def test_open_registry_allows_everything():
    local = Accounts(open_access=True)
    for action in Action:
        decision = local.authorize(ANONYMOUS, action, repo("anything/app", exists=False))
        assert decision == Decision(True, "open-registry")


def test_public_repositories_are_pulled_by_anyone(hub):
    public = repo("fredysa/app")
    assert hub.authorize(ANONYMOUS, Action.PULL, public) == Decision(True, "public")
    assert allowed(hub, "stranger", Action.PULL, public)
    for action in (Action.PUSH, Action.DELETE, Action.SET_VISIBILITY, Action.MANAGE_ACCESS):
        assert hub.authorize(ANONYMOUS, action, public) == Decision(False, "anonymous")
        assert hub.authorize(hub.principal_for("stranger"), action, public).reason == "no-access"


def test_private_and_missing_repositories_are_refused_alike(hub):
    private = repo("fredysa/secret", private=True)
    missing = repo("fredysa/nothing", exists=False)
    assert hub.authorize(ANONYMOUS, Action.PULL, private) == Decision(False, "anonymous")
    assert hub.authorize(ANONYMOUS, Action.PULL, missing) == Decision(False, "not-found")
    stranger = hub.principal_for("stranger")
    assert hub.authorize(stranger, Action.PULL, private) == Decision(False, "no-access")
    assert hub.authorize(stranger, Action.PULL, missing) == Decision(False, "not-found")
    owner = hub.principal_for("fredysa")
    assert hub.authorize(owner, Action.PULL, missing) == Decision(False, "not-found")
    for action in (Action.DELETE, Action.SET_VISIBILITY, Action.MANAGE_ACCESS):
        assert hub.authorize(owner, action, missing).reason == "not-found"


def test_namespace_user_may_do_everything_in_their_namespace(hub):
    for private in (False, True):
        for action in Action:
            decision = hub.authorize(
                hub.principal_for("fredysa"), action, repo("fredysa/app", True, private)
            )
            assert decision.allowed and decision.reason in {"owner", "public"}


def test_collaborators_push_and_pull_but_administer_nothing(hub):
    private = repo("fredysa/app", private=True, collaborators={"mira"})
    mia = hub.principal_for("mira")
    assert hub.authorize(mia, Action.PULL, private) == Decision(True, "collaborator")
    assert hub.authorize(mia, Action.PUSH, private) == Decision(True, "collaborator")
    for action in (Action.DELETE, Action.SET_VISIBILITY, Action.MANAGE_ACCESS, Action.CREATE):
        assert not hub.authorize(mia, action, private)
    assert hub.authorize(mia, Action.DELETE, private).reason == "not-admin"
    # Organizations do not use collaborators: the list is ignored there.
    org_repo = repo("engineering/web", private=True, collaborators={"fredysa"})
    assert not allowed(hub, "fredysa", Action.PULL, org_repo)


@pytest.mark.parametrize("who, reason", [("olivia", "org-owner"), ("eddie", "org-editor")])
def test_org_owners_and_editors_administer_every_org_repository(hub, who, reason):
    for facts in (repo("engineering/web", private=True), repo("engineering/new", exists=False)):
        for action in Action:
            if not facts.exists and action is not Action.PUSH and action is not Action.CREATE:
                continue
            assert hub.authorize(hub.principal_for(who), action, facts) == Decision(True, reason)


def test_org_members_need_a_team_grant(hub):
    private = repo("engineering/web", private=True)
    mia = hub.principal_for("mira")
    assert hub.authorize(mia, Action.PULL, private) == Decision(False, "no-access")
    assert allowed(hub, mia, Action.PULL, repo("engineering/web"))  # public


def test_team_grants_are_cumulative_and_the_best_team_wins(hub):
    private = repo("engineering/web", private=True)
    mia = hub.principal_for("mira")
    hub.create_team("engineering", "readers")
    hub.create_team("engineering", "writers")
    hub.add_team_member("engineering", "readers", "mira")
    hub.grant_team("engineering", "readers", "engineering/web", Permission.READ)
    assert hub.authorize(mia, Action.PULL, private) == Decision(True, "team-read", "readers")
    assert hub.authorize(mia, Action.PUSH, private) == Decision(False, "read-only", "readers")
    hub.add_team_member("engineering", "writers", "mira")
    hub.grant_team("engineering", "writers", "engineering/web", Permission.WRITE)
    assert hub.authorize(mia, Action.PUSH, private) == Decision(True, "team-write", "writers")
    assert hub.authorize(mia, Action.DELETE, private) == Decision(False, "not-admin", "writers")
    hub.grant_team("engineering", "readers", "engineering/web", Permission.ADMIN)  # replaces
    assert hub.orgs["engineering"].teams["readers"].grants == {"engineering/web": Permission.ADMIN}
    for action in (Action.DELETE, Action.SET_VISIBILITY, Action.MANAGE_ACCESS):
        assert hub.authorize(mia, action, private) == Decision(True, "team-admin", "readers")
    # A grant is on one repository only, and never lets a member create repositories.
    assert not allowed(hub, mia, Action.PULL, repo("engineering/api", private=True))
    assert hub.authorize(mia, Action.CREATE, private).reason == "cannot-create"


def test_taking_access_away(hub):
    private = repo("engineering/web", private=True)
    hub.create_team("engineering", "devs")
    hub.add_team_member("engineering", "devs", "mira")
    hub.grant_team("engineering", "devs", "engineering/web", Permission.WRITE)
    assert allowed(hub, "mira", Action.PUSH, private)
    hub.revoke_team("engineering", "devs", "engineering/web")
    assert not allowed(hub, "mira", Action.PULL, private)
    hub.grant_team("engineering", "devs", "engineering/web", Permission.WRITE)
    hub.remove_team_member("engineering", "devs", "mira")
    assert not allowed(hub, "mira", Action.PULL, private)
    hub.add_team_member("engineering", "devs", "mira")
    hub.delete_team("engineering", "devs")
    assert not allowed(hub, "mira", Action.PULL, private)
    hub.create_team("engineering", "devs")
    hub.add_team_member("engineering", "devs", "mira")
    hub.grant_team("engineering", "devs", "engineering/web", Permission.WRITE)
    hub.remove_member("engineering", "mira")
    assert "mira" not in hub.orgs["engineering"].teams["devs"].members
    assert not allowed(hub, "mira", Action.PULL, private)


def test_push_to_a_missing_repository_creates_it_only_for_creators(hub):
    hub.create_team("engineering", "devs")
    hub.add_team_member("engineering", "devs", "mira")
    hub.grant_team("engineering", "devs", "engineering/new", Permission.ADMIN)
    new_personal = repo("fredysa/new", exists=False)
    new_org = repo("engineering/new", exists=False)
    assert hub.authorize(hub.principal_for("fredysa"), Action.PUSH, new_personal).allowed
    assert hub.authorize(hub.principal_for("eddie"), Action.PUSH, new_org).allowed
    assert hub.authorize(hub.principal_for("olivia"), Action.PUSH, new_org).allowed
    assert hub.authorize(hub.principal_for("mira"), Action.PUSH, new_org) == Decision(
        False, "cannot-create", "devs"
    )
    assert hub.authorize(hub.principal_for("stranger"), Action.PUSH, new_personal) == Decision(
        False, "cannot-create"
    )
    assert hub.authorize(ANONYMOUS, Action.PUSH, new_personal) == Decision(False, "anonymous")
    # Namespaces nobody owns (library/ on an account-less world, one-part paths) are nobody's.
    assert not allowed(hub, "fredysa", Action.PUSH, repo("library/alpine", exists=False))
    assert not allowed(hub, "fredysa", Action.PUSH, repo("alpine", exists=False))


# What each scope lets its owner do on their own private repository (and on a new one).
TOKEN_TABLE = {
    TokenScope.PUBLIC_READ: set(),
    TokenScope.READ: {Action.PULL},
    TokenScope.WRITE: {Action.PULL, Action.PUSH},
    TokenScope.DELETE: {Action.PULL, Action.PUSH, Action.DELETE},
}


@pytest.mark.parametrize("scope", list(TokenScope))
def test_token_scopes_cap_what_the_user_may_do(hub, scope):
    token_id, secret = hub.create_token("fredysa", scope)
    principal = hub.authenticate("fredysa", secret)
    assert principal is not None and principal.token_id == token_id
    private = repo("fredysa/app", private=True)
    for action in Action:
        decision = hub.authorize(principal, action, private)
        assert decision.allowed == (action in TOKEN_TABLE[scope]), action
        if not decision:
            assert decision.reason == "token-scope"
    # Every scope pulls public repositories.
    assert hub.authorize(principal, Action.PULL, repo("mira/tool")) == Decision(True, "public")
    # Creating a repository by pushing is a push; creating it in the Hub UI is not for tokens.
    new = repo("fredysa/new", exists=False)
    assert hub.authorize(principal, Action.PUSH, new).allowed == (Action.PUSH in TOKEN_TABLE[scope])
    assert hub.authorize(principal, Action.CREATE, new) == Decision(False, "token-scope")


def test_a_token_never_exceeds_its_user(hub):
    _, secret = hub.create_token("mira", TokenScope.DELETE)
    principal = hub.authenticate("mira", secret)
    assert principal is not None
    assert hub.authorize(principal, Action.PUSH, repo("fredysa/app")).reason == "no-access"


def test_decisions_explain_themselves():
    assert not Decision(False, "anonymous")
    assert Decision(True, "public")
    assert Decision(True, "team-write", "devs").explanation.endswith("(team devs)")
    assert "not logged in" in Decision(False, "anonymous").explanation


# -- the property: authorize() equals a plain rule table ----------------------------------------

USER_POOL = ["alice1", "bobby2", "carol3", "dave4", "erin5"]
ORG_POOL = ["acme", "engineering"]
REPO_NAMES = ["web", "api"]

# The oracle, written once and literally: which (relationship, operation) pairs are allowed.
# "push-new" is a push to a repository that does not exist yet (Docker Hub creates it).
RELATION_ALLOWS = {
    *{("namespace-user", op) for op in ("pull", "push", "push-new", "create", "delete")},
    *{("namespace-user", op) for op in ("set-visibility", "manage-access")},
    *{("org-owner", op) for op in ("pull", "push", "push-new", "create", "delete")},
    *{("org-owner", op) for op in ("set-visibility", "manage-access")},
    *{("org-editor", op) for op in ("pull", "push", "push-new", "create", "delete")},
    *{("org-editor", op) for op in ("set-visibility", "manage-access")},
    ("team-admin", "pull"),
    ("team-admin", "push"),
    ("team-admin", "delete"),
    ("team-admin", "set-visibility"),
    ("team-admin", "manage-access"),
    ("team-write", "pull"),
    ("team-write", "push"),
    ("team-read", "pull"),
    ("collaborator", "pull"),
    ("collaborator", "push"),
}
TOKEN_ALLOWS = {
    ("read", "pull"),
    ("write", "pull"),
    ("write", "push"),
    ("write", "push-new"),
    ("delete", "pull"),
    ("delete", "push"),
    ("delete", "push-new"),
    ("delete", "delete"),
}


@dataclass
class WorldSpec:
    """A random world as plain data: what the oracle reads (it never asks Accounts)."""

    users: list[str]
    orgs: dict[str, dict[str, str]]  # org -> user -> role (first owner listed first)
    teams: dict[str, dict[str, tuple[set[str], dict[str, str]]]]  # org -> team -> (members, grants)
    tokens: list[tuple[str, str, bool]]  # (user, scope, revoked)
    repos: list[RepoFacts]


@st.composite
def worlds(draw) -> WorldSpec:
    users = draw(st.lists(st.sampled_from(USER_POOL), min_size=1, max_size=4, unique=True))
    orgs: dict[str, dict[str, str]] = {}
    teams: dict[str, dict[str, tuple[set[str], dict[str, str]]]] = {}
    for org in draw(st.lists(st.sampled_from(ORG_POOL), max_size=2, unique=True)):
        owner = draw(st.sampled_from(users))
        roles = {owner: "owner"}
        for user in users:
            if user != owner:
                role = draw(st.sampled_from([None, "member", "editor", "owner"]))
                if role:
                    roles[user] = role
        orgs[org] = roles
        teams[org] = {}
        for team in draw(st.lists(st.sampled_from(["devs", "ops", "qa"]), max_size=3, unique=True)):
            # Team members may be outside the org: add_team_member makes them members.
            members = set(draw(st.lists(st.sampled_from(users), max_size=3, unique=True)))
            paths = st.sampled_from([f"{org}/{name}" for name in REPO_NAMES])
            levels = st.sampled_from(["read", "write", "admin"])
            grants = draw(st.dictionaries(paths, levels, max_size=2))
            teams[org][team] = (members, grants)
    tokens = draw(
        st.lists(
            st.tuples(
                st.sampled_from(users),
                st.sampled_from([s.value for s in TokenScope]),
                st.booleans(),
            ),
            max_size=4,
        )
    )
    namespaces = [*users, *orgs, "stranger", None]
    repos = []
    for namespace in namespaces:
        for name in REPO_NAMES:
            path = f"{namespace}/{name}" if namespace else name
            exists, private = draw(st.booleans()), draw(st.booleans())
            collaborators = frozenset(draw(st.lists(st.sampled_from(users), max_size=2)))
            repos.append(RepoFacts(namespace, path, exists, private, collaborators))
    return WorldSpec(users, orgs, teams, tokens, repos)


def build(spec: WorldSpec) -> tuple[Accounts, dict[tuple[str, int], str]]:
    """Build the world through the public API; return it and each token's secret."""
    accounts = Accounts(rng=random.Random(0))
    for user in spec.users:
        accounts.add_user(user, f"{user}-password")
    for org, roles in spec.orgs.items():
        first_owner, *others = roles
        accounts.add_org(org, first_owner)
        for user in others:
            accounts.add_member(org, user, Role(roles[user]))
        for team, (members, grants) in spec.teams[org].items():
            accounts.create_team(org, team)
            for user in sorted(members):
                accounts.add_team_member(org, team, user)
            for path, level in grants.items():
                accounts.grant_team(org, team, path, Permission[level.upper()])
    secrets = {}
    for index, (user, scope, revoked) in enumerate(spec.tokens):
        token_id, secret = accounts.create_token(user, TokenScope(scope))
        secrets[(token_id, index)] = secret
        if revoked:
            accounts.revoke_token(user, token_id)
    return accounts, secrets


def relations(spec: WorldSpec, user: str, facts: RepoFacts) -> set[str]:
    """Every way ``user`` is related to the repository, read straight off the world's data."""
    found = set()
    namespace = facts.account
    if namespace is not None and namespace == user:
        found.add("namespace-user")
    if namespace in spec.orgs:
        in_a_team = any(user in members for members, _ in spec.teams[namespace].values())
        role = spec.orgs[namespace].get(user, "member" if in_a_team else None)
        if role == "owner":
            found.add("org-owner")
        if role == "editor":
            found.add("org-editor")
        for members, grants in spec.teams[namespace].values():
            if user in members and facts.path in grants:
                found.add("team-" + grants[facts.path])
    if namespace in spec.users and user in facts.collaborators:
        found.add("collaborator")
    return found


def oracle(spec: WorldSpec, who: tuple[str | None, str | None, bool], action, facts) -> bool:
    """The rule table: may this (user, token scope, revoked) do ``action`` to ``facts``?"""
    user, scope, revoked = who
    if revoked:
        return False
    if action == "pull" and facts.exists and not facts.private:
        return True
    operation = str(action)
    if action == "push" and not facts.exists:
        operation = "push-new"
    elif action != "create" and not facts.exists:
        return False
    if user is None:
        return False
    if not any(
        (relation, operation) in RELATION_ALLOWS for relation in relations(spec, user, facts)
    ):
        return False
    return scope is None or (scope, operation) in TOKEN_ALLOWS


@pytest.mark.slow  # a property test of many examples: `make test`, not test-fast
def test_authorize_agrees_with_the_rule_table_in_random_worlds():
    tally: Counter = Counter()

    @settings(max_examples=500)
    @given(spec=worlds())
    def check(spec: WorldSpec) -> None:
        accounts, secrets = build(spec)
        principals: list[tuple[Principal, tuple[str | None, str | None, bool]]] = [
            (ANONYMOUS, (None, None, False))
        ]
        for user in spec.users:
            principal = accounts.authenticate(user, f"{user}-password")
            assert principal == Principal(user)
            principals.append((principal, (user, None, False)))
        for (token_id, index), secret in secrets.items():
            user, scope, revoked = spec.tokens[index]
            principal = accounts.authenticate(user, secret)
            if revoked:
                assert principal is None
                principal = accounts.principal_for(user, token_id)
            assert principal == Principal(user, TokenScope(scope), token_id)
            principals.append((principal, (user, scope, revoked)))
        tally["worlds"] += 1
        for principal, who in principals:
            for facts in spec.repos:
                for user in [who[0]] if who[0] else []:
                    tally.update(relations(spec, user, facts))
                for action in Action:
                    decision = accounts.authorize(principal, action, facts)
                    expected = oracle(spec, who, action, facts)
                    assert decision.allowed is expected, (principal, action, facts, decision)
                    assert decision.reason in REASONS
                    tally["decisions"] += 1
                    tally[(str(action), expected)] += 1
                    tally[f"scope:{who[1]}"] += 1

    check()
    print(
        f"\nauthorization property: {tally['worlds']} worlds, {tally['decisions']} decisions "
        "checked against the rule table"
    )
    assert tally["worlds"] >= 500
    assert tally["decisions"] >= 100_000
    # The generator reaches every relationship, scope and outcome (else the test proves little).
    for relation in ("namespace-user", "org-owner", "org-editor", "collaborator"):
        assert tally[relation] > 0, relation
    for relation in ("team-read", "team-write", "team-admin"):
        assert tally[relation] > 0, relation
    for scope in [None, *(s.value for s in TokenScope)]:
        assert tally[f"scope:{scope}"] > 0, scope
    for action in Action:
        assert tally[(str(action), True)] > 0 and tally[(str(action), False)] > 0, action
