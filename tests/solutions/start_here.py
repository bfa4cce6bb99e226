"""A full-marks solution of 00-start-here, as a student would do it.

``solve_start_here(lab)`` works on anything shaped like a ``LabSession`` (``client``,
``variant(id)``, ``submit(id, raw)``, ``check(id)``). It reads the prompts' parameters and what
Docker prints, never the variant's answer.
"""


def solve_start_here(lab):
    lab.client.run(f"docker pull {lab.variant('first-pull').params['image']}")
    lab.check("first-pull")

    choices = lab.variant("default-tag").params["choices"]
    (latest,) = [c for c in choices if c.startswith("`latest`")]
    lab.submit("default-tag", latest)

    name = lab.variant("last-line").params["name"]
    printed = lab.client.run(f"docker pull {name}").stdout.splitlines()
    lab.submit("last-line", printed[-1])
