"""A full-marks solution of 02-image-names, as a student would do it.

``STEPS`` maps each exercise, in notebook order, to what a student does right after its cell;
``solve_image_names(lab)`` takes every step in turn. Both work on anything shaped like a
``LabSession`` (``params``, ``client``, ``variant(id)``, ``submit(id, raw)``, ``check(id)``).
They read the prompts' parameters and what Docker prints, never the answers.
"""

import labkit

STEPS = {}


def step(exercise_id):
    def register(function):
        STEPS[exercise_id] = function
        return function

    return register


PROVIDER_BY_HOST_END = {
    "amazonaws.com": "Amazon",
    "azurecr.io": "Azure",
    "docker.pkg.dev": "Google Artifact",
    "quay.io": "Red Hat",
    "registry.redhat.io": "Red Hat",
    "ghcr.io": "GitHub",
    "jfrog.io": "JFrog",
}


def _parts(text):
    ref = labkit.parse_reference(text)
    return {
        "registry": ref.domain,
        "namespace": ref.namespace or "",
        "name": ref.name,
        "tag": ref.tag or "latest",
    }


@step("parts-hub-name")
def _parts_hub_name(lab):
    lab.submit("parts-hub-name", _parts(lab.variant("parts-hub-name").params["text"]))


@step("parts-other-registry")
def _parts_other_registry(lab):
    lab.submit("parts-other-registry", _parts(lab.variant("parts-other-registry").params["text"]))


@step("fully-qualify")
def _fully_qualify(lab):
    short = lab.variant("fully-qualify").params["short"]
    lab.submit("fully-qualify", str(labkit.parse_reference(short).with_default_tag()))


@step("pull-by-full-name")
def _pull_by_full_name(lab):
    full = lab.variant("pull-by-full-name").params["short"]
    lab.client.run(f"docker pull {labkit.parse_reference(full).with_default_tag()}")
    lab.check("pull-by-full-name")


@step("predict-url-error")
def _predict_url_error(lab):
    printed = lab.client.run(lab.variant("predict-url-error").params["command"])
    lab.submit("predict-url-error", printed.stderr.strip())


@step("fix-url")
def _fix_url(lab):
    lab.submit("fix-url", lab.variant("fix-url").params["url"].removeprefix("https://"))


@step("which-registry")
def _which_registry(lab):
    which = lab.variant("which-registry").params
    host = labkit.parse_reference(which["image"]).domain
    start = next(v for end, v in PROVIDER_BY_HOST_END.items() if host.endswith(end))
    (choice,) = [c for c in which["choices"] if c.startswith(start)]
    lab.submit("which-registry", choice)


@step("your-namespace")
def _your_namespace(lab):
    mine = lab.variant("your-namespace").params
    owner = lab.params["docker_id"] if "personal" in mine["where"] else lab.params["org"]
    lab.submit("your-namespace", f"{owner}/{mine['app']}:{mine['version']}")


def solve_image_names(lab):
    for solve in STEPS.values():
        solve(lab)
