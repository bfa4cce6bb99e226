"""A full-marks solution of 05-organizations-and-teams, as a student would do it.

``solve(lab)`` works on anything shaped like a ``LabSession`` (``params``, ``world``,
``variant(id)``, ``submit(id, raw)``, ``check(id)``): the model tests pass a small stand-in, the
notebook tests inject this module's source into the kernel and call it with the real ``lab``.
It reasons from the prompt's parameters and the world, never from the variant's answer.
"""

LEVEL_FOR_ACTION = {
    "pull images from": "Read-only",
    "push a new tag to": "Read & Write",
    "make public": "Admin",
    "change the description of": "Admin",
    "delete": "Admin",
}
NEEDED = {"push to": 2, "pull from": 1}


def solve_organizations(lab):
    params = lab.params
    org = params["org"]
    acme = lab.world.hub(params["docker_id"], "registry.acme.com")

    level = lab.variant("smallest-level").params["action"]
    lab.submit("smallest-level", LEVEL_FOR_ACTION[level])

    who = lab.variant("who-can").params
    engineering = lab.world.registry("registry.acme.com").accounts.orgs["engineering"]
    teams = [
        team.name
        for team in engineering.teams.values()
        if team.grants.get(who["repository"]) is not None
        and int(team.grants[who["repository"]]) >= NEEDED[who["action"]]
    ]
    lab.submit("who-can", teams)

    acme.grant(org, "qa", params["web"], "read")
    lab.check("qa-pull-not-push")

    acme.grant(org, "developers", params["api"], "write")
    lab.check("developers-push")

    acme.revoke(org, "interns", params["secret"])
    lab.check("interns-see-nothing")

    denied = lab.variant("predict-denied-pull").params
    line = next(choice for choice in denied["choices"] if "pull access denied" in choice)
    lab.submit("predict-denied-pull", line)

    lab.submit("who-manages-teams", "only an owner of the organization")

    acme.set_role(org, lab.variant("second-owner").params["ops_member"], "owner")
    lab.check("second-owner")
