"""Lab 03: official images — the ``library`` namespace, ``docker search`` and its OFFICIAL
column, and choosing a tag with the (simulated) vulnerability scan in mind.

Every advisory in this lab comes from labkit's simulated scan (``world.scan`` / ``lab.scan``):
invented for teaching, it says nothing about the real images.
"""

from __future__ import annotations

import json
import random
import shlex
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from labkit.exercises import (
    Example,
    Exercise,
    FormatError,
    HiddenCheck,
    Hint,
    Kind,
    Part,
    Variant,
    choice_was,
    choice_with,
    compare_lines,
    compare_references,
    normalize_lines,
    parse_reference_answer,
)
from labkit.labs import Lab, lab_password, student_docker_id
from labkit.world import World, _family, _scan_model

LAB_ID = "03-official-images"

# What each mistake code of this lab means (the shared ones are in labkit.exercises.MISTAKES).
MISTAKE_TEXT: Mapping[str, str] = {
    "stars-not-official": "stars measure popularity; they do not make an image official",
    "name-not-official": "a name that mentions the software does not make an image official: "
    "official images have no user or organization namespace of their own (`library/`)",
    "anyone-can-publish": "nobody can push into `library/`: a dedicated team reviews and "
    "publishes every official image",
    "missing-filter": "without a filter `docker search` lists community repositories too",
    "wrong-filter": "the filter that keeps only official images is `is-official=true`",
    "not-search": "the question asks for a `docker search` command",
    "wrong-term": "search for the term the question names",
    "community-row": "a community repository is not official: the filter drops it",
    "library-in-search": "`docker search` prints names in their short form, without `library/`",
    "counted-everything": "count only the findings of the severity asked for",
    "scanned-latest": "that is the count for `latest`; scan the tag the question names",
    "more-findings": "another tag has fewer simulated findings",
    "vulnerable-tag": "the tag you pulled has critical or high findings in the simulated scan",
    "not-pulled": "no image of that repository has been pulled yet",
}

SEVERITIES = ("critical", "high", "medium", "low")


@cache
def _catalog() -> dict[str, Any]:
    text = resources.files("labkit").joinpath("data/catalog.json").read_text("utf-8")
    return json.loads(text)


def official_tags(name: str) -> dict[str, str]:
    """The tags of the official repository ``library/<name>``: tag -> catalog image key."""
    for repo in _catalog()["repositories"]:
        if repo["registry"] == "docker.io" and repo["path"] == f"library/{name}":
            return dict(repo["tags"])
    raise KeyError(name)


@cache
def simulated_counts(name: str, tag: str) -> dict[str, int]:
    """The simulated findings per severity for ``name:tag``: what ``lab.scan`` shows the
    student, read from a scan of the catalog's image (every layer, its base image's
    included), never from the catalog's own per-image counts, which leave the base out."""
    official_tags(name)[tag]  # a KeyError for a name or tag that is not in the catalog
    return _catalog_world().scan(f"{name}:{tag}").counts()


@cache
def _catalog_world() -> World:
    return World.default()


def _total(name: str, tag: str) -> int:
    return sum(simulated_counts(name, tag).values())


def _serious(name: str, tag: str) -> int:
    counts = simulated_counts(name, tag)
    return counts["critical"] + counts["high"]


def _wrong(name: str, code: str, message: str | None = None, weight: float = 1.0) -> Part:
    return Part(name, 0.0, weight, code, message or MISTAKE_TEXT[code])


# -- the lab-level variant ---------------------------------------------------------------------


def world_params(student: str) -> dict[str, Any]:
    """The student's Docker ID and password (the same in every lab)."""
    return {"docker_id": student_docker_id(student), "password": lab_password(student)}


def setup(world: Any, params: Mapping[str, Any]) -> None:
    """Sign the student up on Docker Hub (nothing else is needed here)."""
    world.add_user(params["docker_id"], params["password"])


# -- 1. the full name of an official image -------------------------------------------------------

FULL_NAME_CHOICES = {
    "alpine": ("3.19", "3.20", "3.21"),
    "ubuntu": ("22.04", "24.04"),
    "nginx": ("1.26", "1.27"),
    "python": ("3.12", "3.13"),
    "busybox": ("1.36", "1.37"),
    "debian": ("12", "bookworm"),
}


def _full_name_generate(rng: random.Random, world: Mapping[str, Any]):
    name = rng.choice(sorted(FULL_NAME_CHOICES))
    tag = rng.choice(FULL_NAME_CHOICES[name])
    short = f"{name}:{tag}"
    return {"short": short, "name": name, "tag": tag}, f"docker.io/library/{short}"


def _full_name_check(answer, variant: Variant, world) -> list[Part]:
    return compare_references(answer, variant.answer, fully_qualified=True)


def _names_an_official_image(answer, variant: Variant, world) -> bool:
    ref = answer.reference
    return ref is not None and ref.is_official and ref.name == variant.params["name"]


OFFICIAL_FULL_NAME = Exercise(
    id="official-full-name",
    title="Where an official image really lives",
    prompt=(
        "`docker pull {short}` pulls an official image. Write the same image's **fully "
        "qualified** name, with the registry, the namespace official images live in, the "
        "repository and the tag."
    ),
    kind=Kind.SHORT_ANSWER,
    generator=_full_name_generate,
    parser=parse_reference_answer,
    checker=_full_name_check,
    hints=(
        Hint(1, "Official images sit in one reserved namespace on Docker Hub."),
        Hint(2, "The shape is `docker.io/<namespace>/<name>:<tag>`."),
    ),
    hidden=(HiddenCheck("names the official repository", _names_an_official_image),),
    mistakes=("missing-library", "missing-registry", "wrong-namespace", "missing-tag"),
    examples=(
        Example(lambda v: f"docker.io/{v.params['short']}", "missing-library"),
        Example(lambda v: f"library/{v.params['short']}", "missing-registry"),
        Example(lambda v: f"docker.io/official/{v.params['short']}", "wrong-namespace"),
        Example(lambda v: f"docker.io/library/{v.params['name']}", "missing-tag"),
    ),
    concepts=("library-namespace",),
)


# -- 2. what makes an image official -------------------------------------------------------------

CHOICE_OFFICIAL = "A dedicated team at Docker reviews and publishes it, with the software's makers"
CHOICE_OFFICIAL_WAS = (  # labkit 0.1.0's wording (records made then still grade as it)
    "Its build files are reviewed and its images published by a dedicated team at Docker, "
    "working with the people behind the software, as a base image, language runtime, data "
    "store or service"
)
COMMUNITY = {
    "alpine": ("alpinefans/alpine-git", 240),
    "nginx": ("webtools/nginx-proxy", 1900),
    "python": ("pyteam/python-alpine-tools", 35),
}


def _what_generate(rng: random.Random, world: Mapping[str, Any]):
    software = rng.choice(sorted(COMMUNITY))
    community, stars = COMMUNITY[software]
    stars_choice = f"It has more than {stars // 2} stars on Docker Hub"
    name_choice = f"Its name mentions the software, as `{community}` mentions {software}"
    push_choice = "Anyone may push it into the `library` namespace once their image works"
    choices = [CHOICE_OFFICIAL, stars_choice, name_choice, push_choice]
    mistakes = {
        stars_choice: "stars-not-official",
        name_choice: "name-not-official",
        push_choice: "anyone-can-publish",
    }
    rng.shuffle(choices)
    return {
        "software": software,
        "community": community,
        "choices": choices,
        "choice_mistakes": mistakes,
        **choice_was(choices, {CHOICE_OFFICIAL: CHOICE_OFFICIAL_WAS}),
    }, CHOICE_OFFICIAL


WHAT_MAKES_OFFICIAL = Exercise(
    id="what-makes-official",
    title="What makes an image official",
    prompt=(
        "`docker search {software}` lists `{software}` with `[OK]` in the OFFICIAL column and "
        "`{community}` without. Which statement says what makes an image *official*?"
    ),
    kind=Kind.MULTIPLE_CHOICE,
    generator=_what_generate,
    mistake_text=MISTAKE_TEXT,
    max_tries=3,
    hints=(Hint(1, "Think about *who* checks and publishes the image, not how popular it is."),),
    mistakes=("stars-not-official", "name-not-official", "anyone-can-publish"),
    examples=(
        Example(lambda v: choice_with(v, "stars-not-official"), "stars-not-official"),
        Example(lambda v: choice_with(v, "name-not-official"), "name-not-official"),
        Example(lambda v: choice_with(v, "anyone-can-publish"), "anyone-can-publish"),
    ),
    concepts=("official-image-curation",),
)


# -- 3. the command that lists only official images ----------------------------------------------


def _filter_generate(rng: random.Random, world: Mapping[str, Any]):
    term = rng.choice(sorted(COMMUNITY))
    return {"term": term}, f"docker search --filter is-official=true {term}"


def _filter_parse(raw: Any, variant: Variant) -> list[str]:
    if not isinstance(raw, str) or not raw.strip():
        raise FormatError("type a command, such as `docker search ...`")
    try:
        words = shlex.split(raw.strip().removeprefix("$").removeprefix("%").strip())
    except ValueError as error:
        raise FormatError(f"the command cannot be read: {error}") from None
    return words


def _filter_check(words: list[str], variant: Variant, world) -> list[Part]:
    term = variant.params["term"]
    if words[:1] != ["docker"]:
        words = ["docker", *words]
    rest = words[1:]
    if rest[:2] == ["image", "search"]:  # not a real alias, but harmless to accept
        rest = rest[1:]
    if rest[:1] != ["search"]:
        return [_wrong("command", "not-search")]
    filters: list[str] = []
    terms: list[str] = []
    args = rest[1:]
    index = 0
    while index < len(args):
        word = args[index]
        if word in ("-f", "--filter") and index + 1 < len(args):
            filters.append(args[index + 1])
            index += 2
            continue
        if word.startswith("--filter="):
            filters.append(word.partition("=")[2])
        elif word.startswith("-f") and len(word) > 2:
            filters.append(word[2:])
        elif not word.startswith("-"):
            terms.append(word)
        index += 1
    parts = [Part("command", 1.0)]
    official = [f for f in filters if f.replace(" ", "").lower() in ("is-official=true",)]
    if official:
        parts.append(Part("filter", 1.0))
    elif filters:
        parts.append(_wrong("filter", "wrong-filter"))
    else:
        parts.append(_wrong("filter", "missing-filter"))
    parts.append(Part("term", 1.0) if terms == [term] else _wrong("term", "wrong-term"))
    return parts


SEARCH_FILTER = Exercise(
    id="search-filter",
    title="Only the official images, please",
    prompt=(
        "Write the `docker search` command that looks for `{term}` and lists **only official** "
        "images."
    ),
    kind=Kind.SHORT_ANSWER,
    generator=_filter_generate,
    parser=_filter_parse,
    checker=_filter_check,
    hints=(
        Hint(1, "`docker search` takes `--filter` (or `-f`) with a `key=value` condition."),
        Hint(2, "The key is the name of the column, with `is-` in front."),
    ),
    mistakes=("missing-filter", "wrong-filter", "not-search", "wrong-term"),
    examples=(
        Example(lambda v: f"docker search {v.params['term']}", "missing-filter"),
        Example(lambda v: f"docker search --filter stars=1000 {v.params['term']}", "wrong-filter"),
        Example(lambda v: f"docker pull {v.params['term']}", "not-search"),
        Example("docker search --filter is-official=true ubuntu", "wrong-term"),
    ),
    concepts=("docker-search-official",),
)


# -- 4. predict the filtered search ---------------------------------------------------------------


def _rows_generate(rng: random.Random, world: Mapping[str, Any]):
    term = rng.choice(sorted(COMMUNITY))
    community = sorted(
        path
        for path, repo in _hub_repositories().items()
        if not repo.get("official") and term in path
    )
    return {"term": term, "community": community}, term


def _hub_repositories() -> dict[str, Mapping[str, Any]]:
    return {r["path"]: r for r in _catalog()["repositories"] if r["registry"] == "docker.io"}


def _rows_check(answer: str, variant: Variant, world) -> list[Part]:
    lines = [line.split()[0] for line in normalize_lines(answer) if line]
    if lines and lines[0] == "NAME":
        lines = lines[1:]
    if any(line.startswith("library/") for line in lines):
        return [_wrong("rows", "library-in-search")]
    community = set(variant.params["community"])
    if any(line in community for line in lines):
        return [_wrong("rows", "community-row")]
    return compare_lines("\n".join(lines), variant.answer)


SEARCH_ROWS = Exercise(
    id="search-official-rows",
    title="What the filtered search prints",
    prompt=(
        "Without running it: which names does `docker search --filter is-official=true {term}` "
        "list in its NAME column? Type one name per line (the header is optional)."
    ),
    kind=Kind.PREDICT_OUTPUT,
    generator=_rows_generate,
    checker=_rows_check,
    hints=(
        Hint(1, "Community repositories have a user or organization namespace in their name."),
        Hint(2, "The NAME column shows names the way you would type them in `docker pull`."),
    ),
    mistakes=("library-in-search", "community-row", "missing-lines"),
    examples=(
        Example(lambda v: f"library/{v.answer}", "library-in-search"),
        Example(lambda v: "\n".join([v.answer, *v.params["community"]]), "community-row"),
        Example("NAME", "missing-lines"),
    ),
    concepts=("docker-search-official",),
)


# -- 5. read a simulated scan ---------------------------------------------------------------------

OLD_TAGS = (("alpine", "3.5"), ("alpine", "3.18"), ("ubuntu", "19.04"), ("ubuntu", "20.04"))


def _count_generate(rng: random.Random, world: Mapping[str, Any]):
    name, tag = rng.choice(OLD_TAGS)
    counts = simulated_counts(name, tag)
    return {
        "name": name,
        "tag": tag,
        "image": f"{name}:{tag}",
        "total": sum(counts.values()),
        "latest_high": simulated_counts(name, "latest")["high"],
    }, str(counts["high"])


def _int_parse(raw: Any, variant: Variant) -> int:
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().isdigit():
        return int(raw.strip())
    raise FormatError("type a whole number, such as `4`")


def _count_check(answer: int, variant: Variant, world) -> list[Part]:
    if answer == int(variant.answer):
        return [Part("count", 1.0)]
    if answer == variant.params["total"]:
        return [_wrong("count", "counted-everything")]
    if answer == variant.params["latest_high"]:
        return [_wrong("count", "scanned-latest")]
    return [_wrong("count", "wrong-value", "that is not the number of high findings")]


SCAN_COUNT = Exercise(
    id="scan-high-count",
    title="Read a simulated scan",
    prompt=(
        "Run `lab.scan('{image}')`. How many findings of severity **high** does the "
        "*simulated* report list for `{image}`?"
    ),
    kind=Kind.SHORT_ANSWER,
    generator=_count_generate,
    parser=_int_parse,
    checker=_count_check,
    hints=(Hint(1, "The report counts findings per severity at the top."),),
    mistakes=("counted-everything", "scanned-latest", "wrong-value"),
    examples=(
        Example(lambda v: str(v.params["total"]), "counted-everything"),
        Example(lambda v: str(v.params["latest_high"]), "scanned-latest"),
        Example("999", "wrong-value"),
    ),
    concepts=("vulnerability-scanning",),
)


# -- 6. choose a tag -----------------------------------------------------------------------------

TAG_CHOICES = {
    "alpine": ("3.5", "3.19", "3.21"),
    "ubuntu": ("19.04", "22.04", "24.04"),
    "nginx": ("1.26", "1.27", "1.27-alpine"),
    "python": ("3.12", "3.13", "3.13-alpine"),
}
LATEST_CHOICE = "`latest`: it always points at the newest release, so it is the safest"


def _best_tag(name: str, tags: tuple[str, ...]) -> str:
    return min(tags, key=lambda t: (_serious(name, t), _total(name, t)))


def _why_not(name: str, tag: str, best: str) -> str:
    """Why ``name:tag`` is the worse base: its most serious finding, the version it ships,
    the range the advisory covers, and the version the better tag ships."""
    inventories, advisories = _scan_model()
    tags = official_tags(name)
    found = advisories.get(tags[tag], ())
    if not found:
        return ""
    order = {s: i for i, s in enumerate(SEVERITIES)}
    worst = min(found, key=lambda f: (order[f.severity], f.id))
    better = ""
    if _family(tags[best])[0] == _family(tags[tag])[0] and worst.fixed_in:
        shipped = inventories.get(tags[best], {}).get(worst.package)
        better = f"; `{name}:{best}` ships {worst.package} {shipped}, past the fix"
    return (
        f"`{name}:{tag}` has more findings; the worst, {worst.id} ({worst.severity}), is on "
        f"{worst.package} {worst.installed}, inside the advisory's range "
        f"({worst.affected}){better}"
    )


def _choose_generate(rng: random.Random, world: Mapping[str, Any]):
    name = rng.choice(sorted(TAG_CHOICES))
    tags = TAG_CHOICES[name]
    best = _best_tag(name, tags)
    choices = [f"`{name}:{t}`" for t in tags] + [LATEST_CHOICE]
    mistakes = {f"`{name}:{t}`": "more-findings" for t in tags if t != best}
    mistakes[LATEST_CHOICE] = "latest-is-newest"
    feedback = {f"`{name}:{t}`": _why_not(name, t, best) for t in tags if t != best}
    rng.shuffle(choices)
    return {
        "name": name,
        "tags": list(tags),
        "choices": choices,
        "choice_mistakes": mistakes,
        "choice_feedback": {c: text for c, text in feedback.items() if text},
    }, f"`{name}:{best}`"


CHOOSE_TAG = Exercise(
    id="choose-tag",
    title="Choose a base image tag",
    prompt=(
        "Your team will build on `{name}`. Scan each candidate with `lab.scan(...)` and pick "
        "the tag whose *simulated* report has the fewest findings (critical and high count "
        "most)."
    ),
    kind=Kind.MULTIPLE_CHOICE,
    generator=_choose_generate,
    mistake_text=MISTAKE_TEXT,
    max_tries=3,
    hints=(
        Hint(1, "Compare the counts at the top of each report, critical and high first."),
        Hint(2, "`latest` is only a name that someone moves; it promises nothing."),
    ),
    mistakes=("more-findings", "latest-is-newest"),
    examples=(
        Example(lambda v: choice_with(v, "more-findings"), "more-findings"),
        Example(LATEST_CHOICE, "latest-is-newest"),
    ),
    concepts=("vulnerability-scanning",),
)


# -- 7. task: pull a pinned tag with no serious findings ----------------------------------------

SAFE_PULL_NAMES = ("alpine", "ubuntu", "nginx")


def _safe_generate(rng: random.Random, world: Mapping[str, Any]):
    name = rng.choice(SAFE_PULL_NAMES)
    tags = official_tags(name)
    good = sorted(t for t in tags if t != "latest" and _serious(name, t) == 0)
    bad = sorted(t for t in tags if _serious(name, t) > 0)
    return {"name": name, "good_tags": good, "bad_tags": bad}, None


def _pulled_tags(world, name: str) -> set[str]:
    prefix = f"docker.io/library/{name}:"
    tags: set[str] = set()
    for client in world.clients.values():
        tags.update(t.removeprefix(prefix) for t in client.store.tags() if t.startswith(prefix))
    return tags


def _safe_check(answer, variant: Variant, world) -> list[Part]:
    p = variant.params
    pulled = _pulled_tags(world, p["name"])
    if pulled & set(p["good_tags"]):
        return [Part("pulled a safe, pinned tag", 1.0)]
    bad = sorted(pulled & set(p["bad_tags"]))
    if bad:
        return [
            _wrong(
                "pulled a safe, pinned tag",
                "vulnerable-tag",
                f"`{p['name']}:{bad[0]}` has critical or high findings in the simulated scan",
            )
        ]
    if "latest" in pulled:
        return [
            _wrong(
                "pulled a safe, pinned tag",
                "latest-is-newest",
                "you pulled `latest`: pin an explicit version tag, since `latest` can move "
                "to another image at any time",
            )
        ]
    return [_wrong("pulled a safe, pinned tag", "not-pulled")]


def _pull(world, line: str) -> None:
    world.client("student").run(line)


def _pull_tag(world, variant: Variant, tag: str) -> None:
    _pull(world, f"docker pull {variant.params['name']}:{tag}")


def _safe_solve(world, variant: Variant) -> None:
    p = variant.params
    _pull(world, f"docker pull {p['name']}:{p['good_tags'][-1]}")


SAFE_PULL = Exercise(
    id="pull-safe-tag",
    title="Pull a pinned tag with no serious findings",
    prompt=(
        "Pull an official `{name}` image by an **explicit version tag** whose *simulated* scan "
        "shows no critical and no high findings. Use `lab.scan(...)` to decide, then "
        "`%docker pull ...`."
    ),
    kind=Kind.TASK,
    generator=_safe_generate,
    checker=_safe_check,
    hints=(
        Hint(1, "`docker search` will not show tags; the scan and the lab's prose list some."),
        Hint(2, "Newer version tags usually have fewer simulated findings."),
    ),
    mistakes=("vulnerable-tag", "latest-is-newest", "not-pulled"),
    examples=(
        Example(
            None,
            "vulnerable-tag",
            act=lambda w, v: _pull(w, f"docker pull {v.params['name']}:{v.params['bad_tags'][0]}"),
        ),
        Example(
            None, "latest-is-newest", act=lambda w, v: _pull(w, f"docker pull {v.params['name']}")
        ),
        Example(None, "not-pulled"),
    ),
    concepts=("vulnerability-scanning", "library-namespace"),
    solve=_safe_solve,
)


LAB = Lab(
    id=LAB_ID,
    title="Official images: the library namespace, search and simulated scans",
    version="1",
    exercises=(
        OFFICIAL_FULL_NAME,
        WHAT_MAKES_OFFICIAL,
        SEARCH_FILTER,
        SEARCH_ROWS,
        SCAN_COUNT,
        CHOOSE_TAG,
        SAFE_PULL,
    ),
    concepts=(
        "library-namespace",
        "official-image-curation",
        "docker-search-official",
        "vulnerability-scanning",
    ),
    world_params=world_params,
    setup=setup,
    description=(
        "Official images live in `library/`; `docker search` marks them [OK]; a simulated "
        "scan helps choose a tag."
    ),
)

__all__ = ["LAB", "MISTAKE_TEXT", "official_tags", "simulated_counts"]
