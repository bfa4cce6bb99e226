"""A full-marks solution of 03-official-images, as a student would do it.

``STEPS`` maps each exercise, in notebook order, to what a student does right after its cell;
``solve_official_images(lab)`` takes every step in turn. Both work on anything shaped like a
``LabSession`` (``params``, ``world``, ``client``, ``variant(id)``, ``submit(id, raw)``,
``check(id)``). They reason from the prompts' parameters and from what the simulated world
shows (search output, scans), never from the variant's answer.
"""

STEPS = {}


def step(exercise_id):
    def register(function):
        STEPS[exercise_id] = function
        return function

    return register


def _serious(counts):
    return counts["critical"] + counts["high"]


@step("official-full-name")
def _official_full_name(lab):
    short = lab.variant("official-full-name").params["short"]
    lab.submit("official-full-name", f"docker.io/library/{short}")


@step("what-makes-official")
def _what_makes_official(lab):
    choices = lab.variant("what-makes-official").params["choices"]
    lab.submit("what-makes-official", next(c for c in choices if "dedicated team" in c))


@step("search-filter")
def _search_filter(lab):
    term = lab.variant("search-filter").params["term"]
    lab.submit("search-filter", f"docker search --filter is-official=true {term}")


@step("search-official-rows")
def _search_official_rows(lab):
    term = lab.variant("search-official-rows").params["term"]
    printed = lab.client.run(f"docker search --filter is-official=true {term}").stdout
    names = [line.split()[0] for line in printed.splitlines()[1:] if line.strip()]
    lab.submit("search-official-rows", "\n".join(names))


@step("scan-high-count")
def _scan_high_count(lab):
    image = lab.variant("scan-high-count").params["image"]
    lab.submit("scan-high-count", str(lab.world.scan(image).counts()["high"]))


@step("choose-tag")
def _choose_tag(lab):
    params = lab.variant("choose-tag").params
    scored = []
    for choice in params["choices"]:
        if "latest" in choice:
            continue  # `latest` is only a name: never a reason to choose
        counts = lab.world.scan(choice.strip("`")).counts()
        scored.append(((_serious(counts), sum(counts.values())), choice))
    lab.submit("choose-tag", min(scored)[1])


@step("pull-safe-tag")
def _pull_safe_tag(lab):
    name = lab.variant("pull-safe-tag").params["name"]
    tags = sorted(lab.world.registry("docker.io").repository(f"library/{name}").tags)
    safe = [
        t for t in tags if t != "latest" and _serious(lab.world.scan(f"{name}:{t}").counts()) == 0
    ]
    lab.client.run(f"docker pull {name}:{safe[-1]}")
    lab.check("pull-safe-tag")


def solve_official_images(lab):
    for solve in STEPS.values():
        solve(lab)
