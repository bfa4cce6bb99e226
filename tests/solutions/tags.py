"""A full-marks solution of 01-tags, as a student would do it.

``solve_tags(lab)`` works on anything shaped like a ``LabSession`` (``params``, ``client``,
``variant(id)``, ``submit(id, raw)``, ``check(id)``): the model tests pass a small stand-in, the
notebook tests inject this module's source into the kernel and call it with the real ``lab``.
It reads the prompts' parameters and what Docker prints, never the variant's answer.
"""


def _pick(lab, exercise_id, start):
    """The one choice of the exercise that begins with ``start``."""
    choices = lab.variant(exercise_id).params["choices"]
    (choice,) = [c for c in choices if c.startswith(start)]
    return choice


def solve_tags(lab):
    lab.submit("unique-names", _pick(lab, "unique-names", "the namespace"))

    name = lab.variant("pull-default-tag").params["name"]
    printed = lab.client.run(f"docker image pull {name}").stdout.splitlines()
    lab.submit("pull-default-tag", "\n".join(printed[:2]))

    lab.client.run(f"docker image pull {lab.variant('pull-explicit-tag').params['image']}")
    lab.check("pull-explicit-tag")

    lab.submit("shared-id", _pick(lab, "shared-id", "the same IMAGE ID: the two tags"))

    second = lab.variant("tag-same-id").params
    lab.client.run(f"docker pull {second['source']}")
    lab.client.run(f"docker tag {second['source']} {second['target']}")
    lab.check("tag-same-id")

    moved = lab.variant("moved-tag").params
    lab.submit("moved-tag", _pick(lab, "moved-tag", f"`{moved['b']}`"))

    lab.submit("latest-not-newest", _pick(lab, "latest-not-newest", "24.04"))
