"""A full-marks solution of 05-organizations-and-teams, as a student would do it.

``STEPS`` maps each exercise, in notebook order, to what a student does right after its cell;
``solve_organizations(lab)`` takes every step in turn. Both work on anything shaped like a
``LabSession`` (``params``, ``world``, ``variant(id)``, ``submit(id, raw)``, ``check(id)``).
They reason from the prompt's parameters and the world, never from the variant's answer.
"""

STEPS = {}


def step(exercise_id):
    def register(function):
        STEPS[exercise_id] = function
        return function

    return register


LEVEL_FOR_ACTION = {
    "pull images from": "Read-only",
    "push a new tag to": "Read & Write",
    "make public": "Admin",
    "change the description of": "Admin",
    "delete": "Admin",
}
NEEDED = {"push to": 2, "pull from": 1}


def _acme(lab):
    return lab.world.hub(lab.params["docker_id"], "registry.acme.com")


@step("smallest-level")
def _smallest_level(lab):
    level = lab.variant("smallest-level").params["action"]
    lab.submit("smallest-level", LEVEL_FOR_ACTION[level])


@step("who-can")
def _who_can(lab):
    who = lab.variant("who-can").params
    engineering = lab.world.registry("registry.acme.com").accounts.orgs["engineering"]
    teams = [
        team.name
        for team in engineering.teams.values()
        if team.grants.get(who["repository"]) is not None
        and int(team.grants[who["repository"]]) >= NEEDED[who["action"]]
    ]
    lab.submit("who-can", teams)


@step("qa-pull-not-push")
def _qa_pull_not_push(lab):
    _acme(lab).grant(lab.params["org"], "qa", lab.params["web"], "read")
    lab.check("qa-pull-not-push")


@step("developers-push")
def _developers_push(lab):
    _acme(lab).grant(lab.params["org"], "developers", lab.params["api"], "write")
    lab.check("developers-push")


@step("interns-see-nothing")
def _interns_see_nothing(lab):
    _acme(lab).revoke(lab.params["org"], "interns", lab.params["secret"])
    lab.check("interns-see-nothing")


@step("predict-denied-pull")
def _predict_denied_pull(lab):
    denied = lab.variant("predict-denied-pull").params
    line = next(choice for choice in denied["choices"] if "does not exist" in choice)
    lab.submit("predict-denied-pull", line)


@step("who-manages-teams")
def _who_manages_teams(lab):
    lab.submit("who-manages-teams", "only an owner of the organization")


@step("second-owner")
def _second_owner(lab):
    member = lab.variant("second-owner").params["ops_member"]
    _acme(lab).set_role(lab.params["org"], member, "owner")
    lab.check("second-owner")


def solve_organizations(lab):
    for solve in STEPS.values():
        solve(lab)
