"""Lab 05: organizations and teams on a private registry.

The student owns an organization on ``registry.acme.com`` with four teams (developers, qa,
operations, interns), teammates in each, and three private repositories. Tasks change who may
pull and push, and are checked on the resulting state: what each team's member may do, asked of
the registry's own authorization rules.

This module is long because the lab has eight exercises, each with its generator, checker, hints
and example wrong answers.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from labkit.accounts import Action, Permission, Principal
from labkit.exercises import (
    Example,
    Exercise,
    FormatError,
    HiddenCheck,
    Hint,
    Kind,
    Part,
    Variant,
    choice_feedback,
    choice_was,
    pick_choice,
    plain_value,
)
from labkit.labs import Lab, lab_password, student_docker_id

LAB_ID = "05-organizations-and-teams"
REGISTRY = "registry.acme.com"

ORG_WORDS = ("bluefin", "redwood", "ironbark", "seagull", "copper", "juniper", "granite", "lumen")
PEOPLE = ("alex", "sam", "jordan", "river", "casey", "morgan", "taylor", "robin", "quinn", "drew")
WEB_APPS = ("storefront", "webshop", "portal", "dashboard", "catalog-web")
APIS = ("orders-api", "billing-api", "search-api", "users-api", "stock-api")
SECRETS = ("payroll", "hr-records", "salaries", "contracts", "audit-logs")
TEAMS = ("developers", "qa", "operations", "interns")

# What each team may do on each repository when the lab starts (Hub's names for the levels).
LEVEL_NAMES = {"read": "Read-only", "write": "Read & Write", "admin": "Admin"}

# Extra mistake codes of this lab (the shared ones are in labkit.exercises.MISTAKES).
LAB_MISTAKES: Mapping[str, str] = {
    "too-much-access": "that gives more access than the task needs",
    "too-little-access": "that level does not allow it",
    "repo-public": "the repository was made public, so anyone can see it",
    "wrong-team": "the change went to another team",
    "team-can-push": "the team can push, and the task says it must not",
    "team-still-reads": "the team still has a permission on the repository",
    "removed-member-only": "a member was taken out of the team, but the team keeps its access",
    "admin-is-per-repo": "Admin is about one repository; teams and members belong to owners",
    "reveals-private": "registries never reveal a private repository to someone without access",
    "missing-admin-team": "Admin includes Read & Write: an Admin team can push too",
    "included-read-only": "a Read-only team can pull, not push",
    "editor-not-owner": "an editor manages repositories, not members and teams",
    "wrong-member": "that is not the member the task names",
}


# -- the lab-level variant ------------------------------------------------------------------------


def world_params(student: str) -> dict[str, Any]:
    """The student's account on registry.acme.com, their organization, teammates, repositories."""
    rng = random.Random(f"{LAB_ID}/world/{student}")
    people = rng.sample(PEOPLE, 4)
    suffix = rng.randint(10, 99)
    members = {team: f"{person}{suffix}" for team, person in zip(TEAMS, people, strict=True)}
    return {
        "docker_id": student_docker_id(student),
        "password": lab_password(student),
        "registry": REGISTRY,
        "org": f"{rng.choice(ORG_WORDS)}{rng.randint(10, 99)}",
        "members": members,
        "web": rng.choice(WEB_APPS),
        "api": rng.choice(APIS),
        "secret": rng.choice(SECRETS),
    }


def initial_grants(params: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """Team -> repository name -> level, as the lab's setup leaves them."""
    web, api, secret = params["web"], params["api"], params["secret"]
    return {
        "developers": {web: "write"},
        "qa": {},
        "operations": {web: "admin", api: "admin", secret: "admin"},
        "interns": {web: "read", secret: "read"},
    }


def teammate_password(params: Mapping[str, Any], team: str) -> str:
    """The known password of the teammate in ``team`` (so the notebook can log in as them)."""
    return f"{params['password']}-{team}"


def setup(world: Any, params: Mapping[str, Any]) -> None:
    """The student's account and organization on registry.acme.com, four teams with one
    teammate each, three private repositories and the starting grants (06 builds on it)."""
    org = params["org"]
    world.add_user(params["docker_id"], params["password"], registry=REGISTRY)
    for team, user in params["members"].items():
        world.add_user(user, teammate_password(params, team), registry=REGISTRY)
    hub = world.hub(params["docker_id"], REGISTRY)
    hub.create_org(org)
    for team, user in params["members"].items():
        hub.create_team(org, team)
        hub.add_team_member(org, team, user)
    for repo in (params["web"], params["api"], params["secret"]):
        hub.create_repository(f"{org}/{repo}", private=True)
    for team, grants in initial_grants(params).items():
        for repo, level in grants.items():
            hub.grant(org, team, repo, level)


def setup_with_hub(world: Any, params: Mapping[str, Any]) -> None:
    """Lab 05's world: :func:`setup`, then the student and the teammates on Docker Hub, where
    the lab first shows organizations and teams."""
    setup(world, params)
    world.add_user(params["docker_id"], params["password"])
    for team, user in params["members"].items():
        world.add_user(user, teammate_password(params, team))


# -- helpers on the world's state -----------------------------------------------------------------


def _decide(world: Any, user: str | None, action: Action, path: str):
    principal = Principal(user) if user else Principal()
    return world.registry(REGISTRY).decide(principal, action, path)


def team_grant(world: Any, org: str, team: str, repo: str) -> str | None:
    """The team's level on ``org/repo`` now ("read", "write", "admin") or None."""
    organization = world.registry(REGISTRY).accounts.orgs.get(org)
    existing = organization.teams.get(team) if organization else None
    if existing is None:
        return None
    level = existing.grants.get(f"{org}/{repo}")
    return level.name.lower() if level is not None else None


def team_members(world: Any, org: str, team: str) -> frozenset[str]:
    organization = world.registry(REGISTRY).accounts.orgs.get(org)
    existing = organization.teams.get(team) if organization else None
    return existing.members if existing else frozenset()


def is_private(world: Any, path: str) -> bool:
    repo = world.registry(REGISTRY).repository(path)
    return repo is not None and repo.private


def _private_part(world: Any, path: str) -> Part:
    if is_private(world, path):
        return Part("still private", 1.0)
    return Part(
        "still private",
        0.0,
        1.0,
        "repo-public",
        f"`{path}` is public now: anyone, even without logging in, can pull it",
    )


def _other_teams_unchanged(world: Any, params: Mapping[str, Any], repo: str, team: str) -> bool:
    start = initial_grants(params)
    return all(
        team_grant(world, params["org"], other, repo) == start[other].get(repo)
        for other in TEAMS
        if other != team
    )


def _changed_teams(world: Any, params: Mapping[str, Any], repo: str, team: str) -> list[str]:
    start = initial_grants(params)
    return [
        other
        for other in TEAMS
        if other != team and team_grant(world, params["org"], other, repo) != start[other].get(repo)
    ]


def permission_matrix(world: Any, org: str, registry: str = REGISTRY) -> str:
    """The organization's permission matrix as text: one row per team, one column per
    repository, each cell the team's level (Hub's names) or ``-``; then members and roles."""
    accounts = world.registry(registry).accounts
    organization = accounts.orgs.get(org)
    if organization is None:
        return f"no organization {org!r} on {registry}"
    repos = sorted({path for team in organization.teams.values() for path in team.grants})
    repos += sorted(
        path
        for path in world.registry(registry).repository_paths()
        if path.startswith(f"{org}/") and path not in repos
    )
    names = [path.partition("/")[2] for path in repos]
    head = ["team", *names]
    rows = [head]
    for name, team in sorted(organization.teams.items()):
        cells = [team.grants[p].label if p in team.grants else "-" for p in repos]
        rows.append([f"{name} ({', '.join(sorted(team.members)) or 'nobody'})", *cells])
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = [
        "   ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    roles = ", ".join(
        f"{user} ({role.value})" for user, role in sorted(organization.members.items())
    )
    return "\n".join([f"{registry}/{org}", *lines, f"members: {roles}"])


def _hub(world: Any, variant: Variant):
    return world.hub(variant.params["docker_id"], REGISTRY)


def _choice_exercise_mistakes(choices: Mapping[str, str]) -> dict[str, str]:
    return {text: code for text, code in choices.items() if code}


# -- 1. multiple choice: the smallest level for an action -----------------------------------------

LEVEL_CHOICES = (
    "No permission at all: every member of the organization may do it",
    "Read-only",
    "Read & Write",
    "Admin",
    "Only an owner of the organization",
)
ACTIONS = {
    "pull images from": 1,
    "push a new tag to": 2,
    "make public": 3,
    "change the description of": 3,
    "delete": 3,
}


def _level_generate(rng: random.Random, world: Mapping[str, Any]):
    action = rng.choice(sorted(ACTIONS))
    index = ACTIONS[action]
    mistakes = {}
    for i, text in enumerate(LEVEL_CHOICES):
        if i < index:
            mistakes[text] = "too-little-access"
        elif i > index:
            mistakes[text] = "too-much-access"
    repo = f"{world['org']}/{world['api']}"
    params: dict[str, Any] = {"action": action, "repository": repo, "choices": list(LEVEL_CHOICES)}
    params["choice_mistakes"] = mistakes
    return params, LEVEL_CHOICES[index]


_level_check = choice_feedback(
    {
        "too-little-access": lambda answer, v: (
            f"`{answer}` is not enough to {v.params['action']} a repository"
        )
    },
    default=lambda answer, v: (
        f"`{answer}` would work, but it is more than needed: give the smallest level "
        "that allows the action"
    ),
)


def _below(variant: Variant) -> str:
    return LEVEL_CHOICES[LEVEL_CHOICES.index(variant.answer) - 1]


def _above(variant: Variant) -> str:
    return LEVEL_CHOICES[LEVEL_CHOICES.index(variant.answer) + 1]


SMALLEST_LEVEL = Exercise(
    id="smallest-level",
    title="The smallest permission that is enough",
    prompt=(
        "A team of your organization must be able to **{action}** the private repository "
        "`{repository}`. Which is the smallest permission to give the team?"
    ),
    kind=Kind.MULTIPLE_CHOICE,
    generator=_level_generate,
    checker=_level_check,
    max_tries=3,
    hints=(
        Hint(1, "The levels are cumulative: each one includes everything the level below allows."),
        Hint(2, "Pulling needs the lowest level, pushing the middle one; settings need the top."),
    ),
    mistakes=("too-little-access", "too-much-access"),
    examples=(Example(_below, "too-little-access"), Example(_above, "too-much-access")),
    concepts=("teams-permissions", "private-registry"),
)


# -- 2. task: QA may pull but not push ------------------------------------------------------------


def _qa_generate(rng: random.Random, world: Mapping[str, Any]):
    return {
        "repository": f"{world['org']}/{world['web']}",
        "qa_member": world["members"]["qa"],
    }, None


def _qa_check(answer: Any, variant: Variant, world: Any) -> list[Part]:
    p = variant.params
    path, member = p["repository"], p["qa_member"]
    level = team_grant(world, p["org"], "qa", p["web"])
    parts = []
    if level == "read":
        parts.append(Part("qa can pull", 1.0))
    elif level in ("write", "admin"):
        parts.append(
            Part(
                "qa can pull",
                0.5,
                1.0,
                "team-can-push",
                f"team `qa` has {LEVEL_NAMES[level]} on `{path}`: its members can push too; "
                "Read-only is enough to pull",
            )
        )
    else:
        changed = _changed_teams(world, p, p["web"], "qa")
        if changed:
            parts.append(
                Part(
                    "qa can pull",
                    0.0,
                    1.0,
                    "wrong-team",
                    f"the grant went to team `{changed[0]}`; team `qa` still has no access",
                )
            )
        else:
            parts.append(
                Part(
                    "qa can pull",
                    0.0,
                    1.0,
                    "no-team-access",
                    f"team `qa` has no access to `{path}`: `{member}` cannot even see it",
                )
            )
    parts.append(_private_part(world, path))
    return parts


def _qa_solve(world: Any, variant: Variant) -> None:
    p = variant.params
    _hub(world, variant).grant(p["org"], "qa", p["web"], "read")


def _qa_write(world: Any, variant: Variant) -> None:
    p = variant.params
    _hub(world, variant).grant(p["org"], "qa", p["web"], "write")


def _qa_wrong_team(world: Any, variant: Variant) -> None:
    p = variant.params
    _hub(world, variant).grant(p["org"], "developers", p["web"], "read")


def _qa_public(world: Any, variant: Variant) -> None:
    p = variant.params
    _hub(world, variant).set_visibility(p["repository"], False)


def _qa_member_pulls(answer: Any, variant: Variant, world: Any) -> bool:
    p = variant.params
    return bool(_decide(world, p["qa_member"], Action.PULL, p["repository"])) and not bool(
        _decide(world, p["qa_member"], Action.PUSH, p["repository"])
    )


QA_PULL_ONLY = Exercise(
    id="qa-pull-not-push",
    title="Let QA pull but not push",
    prompt=(
        "The QA team tests each release of `{repository}`. With your Hub actions on "
        "registry.acme.com (`acme`), let team `qa` "
        "**pull** from `{repository}` but **not push** to it. The repository stays private."
    ),
    kind=Kind.TASK,
    generator=_qa_generate,
    checker=_qa_check,
    points=2,
    hints=(
        Hint(1, "`acme.grant(org, team, repository, level)`; levels are 'read', 'write', 'admin'."),
        Hint(2, "Which level lets a team pull and nothing more?"),
    ),
    hidden=(HiddenCheck("a QA member may pull and may not push", _qa_member_pulls),),
    mistakes=("team-can-push", "no-team-access", "wrong-team", "repo-public"),
    examples=(
        Example(None, "team-can-push", act=_qa_write),
        Example(None, "no-team-access"),
        Example(None, "wrong-team", act=_qa_wrong_team),
        Example(None, "repo-public", act=_qa_public),
    ),
    concepts=("teams-permissions", "private-registry", "public-private"),
    solve=_qa_solve,
)


# -- 3. task: developers push to the API -----------------------------------------------------------


def _dev_generate(rng: random.Random, world: Mapping[str, Any]):
    return {
        "repository": f"{world['org']}/{world['api']}",
        "dev_member": world["members"]["developers"],
    }, None


def _dev_check(answer: Any, variant: Variant, world: Any) -> list[Part]:
    p = variant.params
    path = p["repository"]
    level = team_grant(world, p["org"], "developers", p["api"])
    parts = []
    if level == "write":
        parts.append(Part("developers can push", 1.0))
    elif level == "admin":
        parts.append(
            Part(
                "developers can push",
                0.5,
                1.0,
                "too-much-access",
                f"Admin lets `developers` push, but also change settings and delete `{path}`: "
                "Read & Write is enough to push",
            )
        )
    elif level == "read":
        parts.append(
            Part(
                "developers can push",
                0.0,
                1.0,
                "team-read-only",
                "team `developers` has Read-only access: pushing needs Read & Write",
            )
        )
    else:
        changed = _changed_teams(world, p, p["api"], "developers")
        code, message = (
            ("wrong-team", f"the grant went to team `{changed[0]}`, not `developers`")
            if changed
            else ("no-team-access", f"team `developers` has no access to `{path}` yet")
        )
        parts.append(Part("developers can push", 0.0, 1.0, code, message))
    parts.append(_private_part(world, path))
    return parts


def _dev_solve(world: Any, variant: Variant) -> None:
    p = variant.params
    _hub(world, variant).grant(p["org"], "developers", p["api"], "write")


def _dev_admin(world: Any, variant: Variant) -> None:
    p = variant.params
    _hub(world, variant).grant(p["org"], "developers", p["api"], "admin")


def _dev_read(world: Any, variant: Variant) -> None:
    p = variant.params
    _hub(world, variant).grant(p["org"], "developers", p["api"], "read")


def _dev_wrong_team(world: Any, variant: Variant) -> None:
    p = variant.params
    _hub(world, variant).grant(p["org"], "qa", p["api"], "write")


def _dev_public(world: Any, variant: Variant) -> None:
    _dev_solve(world, variant)
    _hub(world, variant).set_visibility(variant.params["repository"], False)


def _ops_keep_admin(answer: Any, variant: Variant, world: Any) -> bool:
    p = variant.params
    return _other_teams_unchanged(world, p, p["api"], "developers") and bool(
        _decide(world, p["dev_member"], Action.PUSH, p["repository"])
    )


DEVELOPERS_PUSH = Exercise(
    id="developers-push",
    title="Give the developers push access",
    prompt=(
        "The developers now build `{repository}` too. Give team `developers` what it needs to "
        "**push** new tags to `{repository}`, and no more."
    ),
    kind=Kind.TASK,
    generator=_dev_generate,
    checker=_dev_check,
    points=2,
    hints=(
        Hint(1, "Look at the matrix first: the permission matrix shows each team's level."),
        Hint(2, "Pushing is the middle level. Admin would also let them delete the repository."),
    ),
    hidden=(HiddenCheck("other teams keep their access", _ops_keep_admin),),
    mistakes=("too-much-access", "team-read-only", "no-team-access", "wrong-team", "repo-public"),
    examples=(
        Example(None, "too-much-access", act=_dev_admin),
        Example(None, "team-read-only", act=_dev_read),
        Example(None, "no-team-access"),
        Example(None, "wrong-team", act=_dev_wrong_team),
        Example(None, "repo-public", act=_dev_public),
    ),
    concepts=("teams-permissions", "organizations"),
    solve=_dev_solve,
)


# -- 4. task: the interns see nothing of the secret repository -----------------------------------


def _interns_generate(rng: random.Random, world: Mapping[str, Any]):
    return {
        "repository": f"{world['org']}/{world['secret']}",
        "intern": world["members"]["interns"],
    }, None


def _interns_check(answer: Any, variant: Variant, world: Any) -> list[Part]:
    p = variant.params
    path = p["repository"]
    level = team_grant(world, p["org"], "interns", p["secret"])
    parts = []
    if level is None:
        parts.append(Part("interns have no access", 1.0))
    elif p["intern"] not in team_members(world, p["org"], "interns"):
        parts.append(
            Part(
                "interns have no access",
                0.0,
                1.0,
                "removed-member-only",
                f"`{p['intern']}` is out of the team, but team `interns` still has "
                f"{LEVEL_NAMES[level]} on `{path}`: whoever joins it next can pull",
            )
        )
    else:
        parts.append(
            Part(
                "interns have no access",
                0.0,
                1.0,
                "team-still-reads",
                f"team `interns` still has {LEVEL_NAMES[level]} on `{path}`",
            )
        )
    parts.append(_private_part(world, path))
    return parts


def _interns_solve(world: Any, variant: Variant) -> None:
    p = variant.params
    _hub(world, variant).revoke(p["org"], "interns", p["secret"])


def _interns_remove_member(world: Any, variant: Variant) -> None:
    p = variant.params
    _hub(world, variant).remove_team_member(p["org"], "interns", p["intern"])


def _interns_public(world: Any, variant: Variant) -> None:
    _interns_solve(world, variant)
    _hub(world, variant).set_visibility(variant.params["repository"], False)


def _intern_cannot_pull(answer: Any, variant: Variant, world: Any) -> bool:
    p = variant.params
    return not _decide(world, p["intern"], Action.PULL, p["repository"])


def _interns_others_unchanged(answer: Any, variant: Variant, world: Any) -> bool:
    p = variant.params
    return _other_teams_unchanged(world, p, p["secret"], "interns")


INTERNS_SEE_NOTHING = Exercise(
    id="interns-see-nothing",
    title="Make sure the interns see nothing",
    prompt=(
        "`{repository}` holds confidential data, but team `interns` (with `{intern}` in it) was "
        "once given access to it by mistake. Make sure team `interns` sees nothing of "
        "`{repository}`, without changing what the other teams may do."
    ),
    kind=Kind.TASK,
    generator=_interns_generate,
    checker=_interns_check,
    points=2,
    hints=(
        Hint(1, "Find the team's row in the permission matrix: which level does it hold?"),
        Hint(2, "Access given to a team is taken back from the team, with `acme.revoke`."),
    ),
    hidden=(
        HiddenCheck("the intern cannot pull", _intern_cannot_pull),
        HiddenCheck("the other teams keep their access", _interns_others_unchanged),
    ),
    mistakes=("team-still-reads", "removed-member-only", "repo-public"),
    examples=(
        Example(None, "team-still-reads"),
        Example(None, "removed-member-only", act=_interns_remove_member),
        Example(None, "repo-public", act=_interns_public),
    ),
    concepts=("teams-permissions", "private-registry", "public-private"),
    solve=_interns_solve,
)


# -- 5. predict the output: a pull without access -------------------------------------------------


def _denied_line(path: str) -> str:
    return (
        f"Error response from daemon: pull access denied for {REGISTRY}/{path}, repository does "
        "not exist or may require 'docker login': denied: requested access to the resource is "
        "denied"
    )


def _denied_generate(rng: random.Random, world: Mapping[str, Any]):
    path = f"{world['org']}/{world['secret']}"
    tag = f"{rng.randint(1, 3)}.{rng.randint(0, 9)}"
    user = world["members"]["qa"]
    correct = _denied_line(path)
    reveals = (
        f"Error response from daemon: pull access denied for {REGISTRY}/{path}, your teams "
        "have no permission on it and only members of other teams may pull it: denied: "
        "requested access to the resource is denied"
    )
    choices = {
        correct: "",
        f"{tag}: Pulling from {path}": "repo-private",
        reveals: "reveals-private",
        "Error response from daemon: unauthorized: authentication required": "not-logged-in",
    }
    order = list(choices)
    rng.shuffle(order)
    params = {
        "path": path,
        "tag": tag,
        "user": user,
        "choices": order,
        "choice_mistakes": _choice_exercise_mistakes(choices),
        # labkit 0.1.0's wording (records made then still grade as it)
        **choice_was(
            order,
            {reveals: f"Error response from daemon: {user} is not in a team with access to {path}"},
        ),
    }
    return params, correct


_denied_check = choice_feedback(
    {
        "repo-private": "team `qa` has no grant on this repository, so the pull is refused",
        "reveals-private": LAB_MISTAKES["reveals-private"]
        + ": the error is the same as for a repository that does not exist",
        "not-logged-in": lambda answer, v: (
            f"`{v.params['user']}` is logged in; the refusal is about access"
        ),
    },
    default="that is not what Docker prints",
)


PREDICT_DENIED = Exercise(
    id="predict-denied-pull",
    title="What a teammate without access sees",
    prompt=(
        "`{user}` (team `qa`) is logged in to `registry.acme.com` and runs "
        "`docker pull registry.acme.com/{path}:{tag}`. Team `qa` has no permission on `{path}`. "
        "What does Docker print?"
    ),
    kind=Kind.PREDICT_OUTPUT,
    generator=_denied_generate,
    checker=_denied_check,
    max_tries=2,
    hints=(Hint(1, "Would a registry tell a stranger that a private repository exists?"),),
    mistakes=("repo-private", "reveals-private", "not-logged-in"),
    examples=(
        Example(pick_choice("repo-private"), "repo-private"),
        Example(pick_choice("reveals-private"), "reveals-private"),
        Example(pick_choice("not-logged-in"), "not-logged-in"),
    ),
    concepts=("private-registry", "public-private"),
)


# -- 6. code: who may push, in the engineering organization ---------------------------------------

ENGINEERING = {
    "developers": "write",
    "qa": "read",
    "operations": "admin",
}
ENGINEERING_ACTIONS = {"push to": Permission.WRITE, "pull from": Permission.READ}


def _who_generate(rng: random.Random, world: Mapping[str, Any]):
    repo = rng.choice(("web-app", "web-api"))
    action = rng.choice(sorted(ENGINEERING_ACTIONS))
    need = ENGINEERING_ACTIONS[action]
    teams = sorted(t for t, level in ENGINEERING.items() if Permission[level.upper()] >= need)
    return {"repository": f"engineering/{repo}", "action": action}, teams


def _who_parse(raw: Any, variant: Variant) -> list[str]:
    value = plain_value(raw)
    if type(value) is not list or not all(type(item) is str for item in value):
        raise FormatError("pass a list of team names, e.g. lab.answer('who-can', ['qa'])")
    return sorted({item.strip() for item in value})


def _who_check(answer: list[str], variant: Variant, world: Any) -> list[Part]:
    key = set(variant.answer)
    given = set(answer)
    if given == key:
        return [Part("teams", 1.0)]
    parts = []
    missing, extra = sorted(key - given), sorted(given - key)
    if "operations" in missing:
        parts.append(
            Part(
                "admin team",
                0.0,
                1.0,
                "missing-admin-team",
                LAB_MISTAKES["missing-admin-team"] + " (team `operations` has Admin)",
            )
        )
    if "qa" in extra:
        parts.append(
            Part(
                "read-only team",
                0.0,
                1.0,
                "included-read-only",
                LAB_MISTAKES["included-read-only"] + " (team `qa` has Read-only)",
            )
        )
    others = [t for t in missing + extra if t not in ("operations", "qa")]
    if others or not parts:
        listed = ", ".join(f"`{t}`" for t in others) or "the list"
        parts.append(Part("teams", 0.0, 1.0, "wrong-value", f"check {listed} against the matrix"))
    return parts


def _who_without_admin(variant: Variant) -> list[str]:
    return [t for t in variant.answer if t != "operations"]


def _who_with_qa(variant: Variant) -> list[str]:
    """The Read-only team counted in for a push (for a pull it belongs in the answer, so this
    is no mistake there)."""
    return sorted({*variant.answer, "qa"})


WHO_CAN = Exercise(
    id="who-can",
    title="Read the permission matrix of another organization",
    prompt=(
        "On `registry.acme.com`, the organization `engineering` belongs to someone else. Look "
        "at its permission matrix and pass, with "
        "`lab.answer('who-can', [...])`, the names of the teams whose members may "
        "**{action}** `{repository}`."
    ),
    kind=Kind.CODE,
    generator=_who_generate,
    parser=_who_parse,
    checker=_who_check,
    max_tries=3,
    hints=(Hint(1, "Each level includes the ones below it: Admin can do what Read & Write can."),),
    mistakes=("missing-admin-team", "included-read-only", "wrong-value"),
    examples=(
        Example(_who_without_admin, "missing-admin-team"),
        Example(_who_with_qa, "included-read-only"),
        Example(["interns"], "wrong-value"),
    ),
    concepts=("teams-permissions", "organizations", "private-registry"),
)


# -- 7. multiple choice: who manages teams --------------------------------------------------------


def _owners_generate(rng: random.Random, world: Mapping[str, Any]):
    task = rng.choice(("create a new team", "add a new member", "delete a team"))
    choices = {
        "only an owner of the organization": "",
        "a member of a team with Admin on every repository": "admin-is-per-repo",
        "an editor of the organization": "editor-not-owner",
        "any member of the organization": "wrong-choice",
    }
    order = list(choices)
    rng.shuffle(order)
    params = {"task": task, "choices": order, "choice_mistakes": _choice_exercise_mistakes(choices)}
    return params, "only an owner of the organization"


_owners_check = choice_feedback(
    LAB_MISTAKES, default="members may pull what their teams allow, nothing more"
)


WHO_MANAGES = Exercise(
    id="who-manages-teams",
    title="Owners",
    prompt="In your organization `{org}`, who may **{task}**?",
    kind=Kind.MULTIPLE_CHOICE,
    generator=_owners_generate,
    checker=_owners_check,
    max_tries=2,
    hints=(Hint(1, "Permissions on repositories and roles in the organization are two things."),),
    mistakes=("admin-is-per-repo", "editor-not-owner", "wrong-choice"),
    examples=(
        Example("a member of a team with Admin on every repository", "admin-is-per-repo"),
        Example("an editor of the organization", "editor-not-owner"),
        Example("any member of the organization", "wrong-choice"),
    ),
    concepts=("owners", "organizations"),
)


# -- 8. task: a second owner ----------------------------------------------------------------------


def _owner_generate(rng: random.Random, world: Mapping[str, Any]):
    return {"ops_member": world["members"]["operations"]}, None


def _owner_check(answer: Any, variant: Variant, world: Any) -> list[Part]:
    p = variant.params
    organization = world.registry(REGISTRY).accounts.orgs[p["org"]]
    role = organization.members.get(p["ops_member"])
    if role is not None and role.value == "owner":
        return [Part("second owner", 1.0)]
    if role is not None and role.value == "editor":
        return [
            Part(
                "second owner",
                0.0,
                1.0,
                "editor-not-owner",
                LAB_MISTAKES["editor-not-owner"]
                + f": `{p['ops_member']}` is an editor, not an owner",
            )
        ]
    others = [
        user
        for user, member_role in organization.members.items()
        if member_role.value == "owner" and user != p["docker_id"]
    ]
    if others:
        return [
            Part(
                "second owner",
                0.0,
                1.0,
                "wrong-member",
                f"`{others[0]}` is an owner now; the task names `{p['ops_member']}`",
            )
        ]
    return [Part("second owner", 0.0, 1.0, "not-done", f"`{p['ops_member']}` is still a member")]


def _owner_solve(world: Any, variant: Variant) -> None:
    p = variant.params
    _hub(world, variant).set_role(p["org"], p["ops_member"], "owner")


def _owner_editor(world: Any, variant: Variant) -> None:
    p = variant.params
    _hub(world, variant).set_role(p["org"], p["ops_member"], "editor")


def _owner_wrong(world: Any, variant: Variant) -> None:
    p = variant.params
    _hub(world, variant).set_role(p["org"], p["members"]["interns"], "owner")


def _still_owner(answer: Any, variant: Variant, world: Any) -> bool:
    p = variant.params
    role = world.registry(REGISTRY).accounts.orgs[p["org"]].members.get(p["docker_id"])
    return role is not None and role.value == "owner"


SECOND_OWNER = Exercise(
    id="second-owner",
    title="Never only one owner",
    prompt=(
        "If you were the only owner and left, nobody could manage `{org}` any more. Make "
        "`{ops_member}` (team `operations`) an **owner** of `{org}` too."
    ),
    kind=Kind.TASK,
    generator=_owner_generate,
    checker=_owner_check,
    hints=(Hint(1, "Roles are set with `acme.set_role(org, user, role)`."),),
    hidden=(HiddenCheck("you are still an owner", _still_owner),),
    mistakes=("editor-not-owner", "wrong-member", "not-done"),
    examples=(
        Example(None, "editor-not-owner", act=_owner_editor),
        Example(None, "wrong-member", act=_owner_wrong),
        Example(None, "not-done"),
    ),
    concepts=("owners", "organizations"),
    solve=_owner_solve,
)


LAB = Lab(
    id=LAB_ID,
    title="Organizations and teams",
    version="1",
    exercises=(
        SMALLEST_LEVEL,
        WHO_CAN,
        QA_PULL_ONLY,
        DEVELOPERS_PUSH,
        INTERNS_SEE_NOTHING,
        PREDICT_DENIED,
        WHO_MANAGES,
        SECOND_OWNER,
    ),
    concepts=("organizations", "teams-permissions", "owners", "private-registry"),
    world_params=world_params,
    setup=setup_with_hub,
    description=(
        "An organization of your own on registry.acme.com: teams with Read-only, Read & Write "
        "and Admin, owners, private repositories and the permission matrix."
    ),
)
