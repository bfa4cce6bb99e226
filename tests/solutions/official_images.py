"""A full-marks solution of 03-official-images, as a student would do it.

``solve_official_images(lab)`` works on anything shaped like a ``LabSession`` (``params``,
``world``, ``client``, ``variant(id)``, ``submit(id, raw)``, ``check(id)``): the model tests
pass a small stand-in, the notebook tests inject this module's source into the kernel and call
it with the real ``lab``. It reasons from the prompts' parameters and from what the simulated
world shows (search output, scans), never from the variant's answer.
"""


def _serious(counts):
    return counts["critical"] + counts["high"]


def solve_official_images(lab):
    short = lab.variant("official-full-name").params["short"]
    lab.submit("official-full-name", f"docker.io/library/{short}")

    choices = lab.variant("what-makes-official").params["choices"]
    lab.submit("what-makes-official", next(c for c in choices if "dedicated team" in c))

    term = lab.variant("search-filter").params["term"]
    lab.submit("search-filter", f"docker search --filter is-official=true {term}")

    term = lab.variant("search-official-rows").params["term"]
    printed = lab.client.run(f"docker search --filter is-official=true {term}").stdout
    names = [line.split()[0] for line in printed.splitlines()[1:] if line.strip()]
    lab.submit("search-official-rows", "\n".join(names))

    image = lab.variant("scan-high-count").params["image"]
    lab.submit("scan-high-count", str(lab.world.scan(image).counts()["high"]))

    params = lab.variant("choose-tag").params
    scored = []
    for choice in params["choices"]:
        if "latest" in choice:
            continue  # `latest` is only a name: never a reason to choose
        counts = lab.world.scan(choice.strip("`")).counts()
        scored.append(((_serious(counts), sum(counts.values())), choice))
    lab.submit("choose-tag", min(scored)[1])

    name = lab.variant("pull-safe-tag").params["name"]
    tags = sorted(lab.world.registry("docker.io").repository(f"library/{name}").tags)
    safe = [
        t for t in tags if t != "latest" and _serious(lab.world.scan(f"{name}:{t}").counts()) == 0
    ]
    lab.client.run(f"docker pull {name}:{safe[-1]}")
    lab.check("pull-safe-tag")
