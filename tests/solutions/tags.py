"""A full-marks solution of 01-tags, as a student would do it.

``STEPS`` maps each exercise, in notebook order, to what a student does right after its cell;
``solve_tags(lab)`` takes every step in turn. Both work on anything shaped like a
``LabSession`` (``params``, ``client``, ``variant(id)``, ``submit(id, raw)``, ``check(id)``).
They read the prompts' parameters and what Docker prints, never the variant's answer.
"""

STEPS = {}


def step(exercise_id):
    def register(function):
        STEPS[exercise_id] = function
        return function

    return register


def _pick(lab, exercise_id, start):
    """The one choice of the exercise that begins with ``start``."""
    choices = lab.variant(exercise_id).params["choices"]
    (choice,) = [c for c in choices if c.startswith(start)]
    return choice


@step("unique-names")
def _unique_names(lab):
    lab.submit("unique-names", _pick(lab, "unique-names", "the namespace"))


@step("pull-default-tag")
def _pull_default_tag(lab):
    name = lab.variant("pull-default-tag").params["name"]
    printed = lab.client.run(f"docker image pull {name}").stdout.splitlines()
    lab.submit("pull-default-tag", "\n".join(printed[:2]))


@step("pull-explicit-tag")
def _pull_explicit_tag(lab):
    lab.client.run(f"docker image pull {lab.variant('pull-explicit-tag').params['image']}")
    lab.check("pull-explicit-tag")


@step("shared-id")
def _shared_id(lab):
    lab.submit("shared-id", _pick(lab, "shared-id", "the same IMAGE ID: the two tags"))


@step("tag-same-id")
def _tag_same_id(lab):
    second = lab.variant("tag-same-id").params
    lab.client.run(f"docker pull {second['source']}")
    lab.client.run(f"docker tag {second['source']} {second['target']}")
    lab.check("tag-same-id")


@step("moved-tag")
def _moved_tag(lab):
    moved = lab.variant("moved-tag").params
    lab.submit("moved-tag", _pick(lab, "moved-tag", f"`{moved['b']}`"))


@step("latest-not-newest")
def _latest_not_newest(lab):
    lab.submit("latest-not-newest", _pick(lab, "latest-not-newest", "24.04"))


def solve_tags(lab):
    for solve in STEPS.values():
        solve(lab)
