"""The instructor's key of 06-assessment: a checks-folder pack (``labkit grade --checks DIR``,
``labkit key 06-assessment --checks DIR``).

labkit ships the assessment without its key (``labkit/labs/assessment.py`` yields what a student
is shown). This file is what an instructor keeps: for each exercise the right answer from the
variant's parameters, each wrong option's mistake code (``choice_mistakes``), the examples that
reach every code (``labkit lint``), the task checkers, hidden checks and solutions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from labkit.exercises import (
    Example,
    Part,
    Variant,
    check_pushed,
    choice_was,
    compare_reference_parts,
    compare_references,
    pick_choice,
)
from labkit.labs import organizations as org_lab
from labkit.labs.assessment import OFFICIAL_TAGS, SCAN_TAGS
from labkit.labs.common import push_as_student
from labkit.reference import parse_reference
from labkit.world import World

Params = Mapping[str, Any]


def _choice(
    right: Callable[[Params], str],
    wrong: Callable[[Params], Mapping[str, str]],
    was: Callable[[Params], Mapping[str, str]] = lambda p: {},
) -> dict[str, Any]:
    """A multiple choice's key: the right option, each wrong option's mistake code (an option
    the mapping does not name is ``wrong-choice``) and, for options reworded since labkit 0.1.0,
    their earlier wording (today's text -> 0.1.0's), so records made then grade as they did."""

    def mistakes(params: Params) -> dict[str, Any]:
        answer = right(params)
        codes = wrong(params)
        return {
            "choice_mistakes": {
                c: codes.get(c, "wrong-choice") for c in params["choices"] if c != answer
            },
            **choice_was(params["choices"], was(params)),
        }

    return {"answer": right, "params": mistakes}


# The instructor's words for the assessment's own mistake codes: the class report shows them;
# a student's feedback page words each mistake as the shipped lab does (labkit's shared words).
WORDS = {
    "tag-copies": "`docker tag` adds a second name to the same image ID; it copies nothing",
    "tag-renames": "`docker tag` keeps the old name: both names stay",
    "anyone-publishes": "official images are published by Docker's own team, not by any user",
    "no-review": "official images are reviewed by a dedicated team before they are published",
    "stars-not-official": "STARS measure popularity; OFFICIAL [OK] marks an official image",
    "search-shows-familiar": "search results never show `library/`: read the OFFICIAL column",
    "fewest-not-most": "the question asks for the tag with the most findings, not the fewest",
    "password-on-command-line": "`-p` leaves the password in the shell history and `ps`",
    "config-json-encrypted": "config.json keeps credentials base64-encoded, not encrypted",
    "pushed-again": "a layer the registry already holds is not pushed again",
    "size-is-layers": "the size beside a digest is the manifest's, not the layers'",
    "size-on-disk": "the size beside a digest is the manifest's length, not the image on disk",
    "team-can-push": "QA was given Write or Admin: pulling only is Read",
    "wrong-team": "the permission went to a team other than QA",
    "repo-public": "the repository was made public: anyone may pull it now",
    "admin-is-per-repo": "Admin on repositories does not make anyone an owner of the organization",
    "editor-not-owner": "an editor cannot manage the organization: only owners can",
}


def _words(*codes: str) -> dict[str, str]:
    return {code: WORDS[code] for code in codes if code in WORDS}


def _examples(*codes: str) -> dict[str, Any]:
    return {
        "mistakes": codes,
        "examples": tuple(Example(pick_choice(code), code) for code in codes),
        "mistake_text": _words(*codes),
    }


# -- 1, 2: names ------------------------------------------------------------------------------


def _full(text: str) -> str:
    return str(parse_reference(text).with_default_tag())


def _parts(variant: Variant, **changes: str) -> dict[str, str]:
    ref = parse_reference(variant.answer)
    parts = {"registry": ref.domain, "namespace": ref.namespace or "", "name": ref.name}
    parts["tag"] = ref.tag or "latest"
    parts.update(changes)
    return parts


FULL_NAME = {
    "answer": lambda p: _full(p["typed"]),
    "checker": lambda answer, variant, world: compare_references(
        answer, variant.answer, fully_qualified=True
    ),
    "mistakes": ("missing-registry", "missing-library", "missing-tag"),
    "examples": (
        Example(lambda v: v.answer.removeprefix("docker.io/"), "missing-registry"),
        Example(lambda v: v.answer.replace("library/", ""), "missing-library"),
        Example(lambda v: v.answer.rsplit(":", 1)[0], "missing-tag"),
    ),
}

NAME_PARTS = {
    "answer": lambda p: _full(p["text"]),
    "checker": lambda answer, variant, world: compare_reference_parts(answer, variant.answer),
    "mistakes": ("missing-registry", "missing-tag", "wrong-namespace"),
    "examples": (
        Example(lambda v: _parts(v, registry=""), "missing-registry"),
        Example(lambda v: _parts(v, tag=""), "missing-tag"),
        Example(lambda v: _parts(v, namespace="library"), "wrong-namespace"),
    ),
}


# -- 3 to 11, 14: multiple choices --------------------------------------------------------------

LATEST = {
    **_choice(
        lambda p: "whatever image the tag `latest` names, newest or not",
        lambda p: {
            f"always the highest version, `{p['name']}:{OFFICIAL_TAGS[p['name']][-1]}`, as "
            "`latest` is moved on every release": "latest-is-newest",
            "nothing: a name without a tag is an error": "missing-tag",
        },
        lambda p: {
            "whatever image the tag `latest` names, newest or not": (
                "whatever image the tag `latest` names; it may not be the newest version"
            ),
            f"always the highest version, `{p['name']}:{OFFICIAL_TAGS[p['name']][-1]}`, as "
            "`latest` is moved on every release": (
                f"always the highest version, `{p['name']}:{OFFICIAL_TAGS[p['name']][-1]}`"
            ),
        },
    ),
    **_examples("latest-is-newest", "missing-tag"),
}

SEVERAL_TAGS = {
    **_choice(
        lambda p: "both names point to the same image ID: nothing was copied",
        lambda p: {
            "`docker tag` copied the image, so there are now two images": "tag-copies",
            f"`{p['source']}` was renamed and no longer exists locally": "tag-renames",
            "the new name points to the newest version of the image": "latest-is-newest",
        },
    ),
    **_examples("tag-copies", "tag-renames"),
}


def _valid(p: Params) -> str:
    return next(
        c
        for c in p["choices"]
        if c.startswith("registry.acme.com/engineering/web-a") and "/:" not in c
    )


VALID_NAME = {
    **_choice(
        _valid,
        lambda p: {
            c: "url-scheme" if c.startswith("https://") else "uppercase-repo"
            for c in p["choices"]
            if c.startswith("https://") or "/Engineering/" in c
        },
    ),
    **_examples("url-scheme", "uppercase-repo"),
}

OFFICIAL = {
    **_choice(
        lambda p: "a dedicated team reviews and publishes it in `library`",
        lambda p: {
            "any Docker Hub user may publish it: official only means popular": "anyone-publishes",
            "its maintainers push it to their own namespace, with no review by anyone at "
            "Docker": "no-review",
        },
        lambda p: {
            "a dedicated team reviews and publishes it in `library`": (
                "a dedicated team reviews and publishes it, in the `library` namespace, from "
                "definitions kept in the open with the software's maintainers"
            ),
            "its maintainers push it to their own namespace, with no review by anyone at "
            "Docker": "its maintainers push it to their own namespace with no review",
        },
    ),
    **_examples("anyone-publishes", "no-review"),
}

SEARCH = {
    **_choice(
        lambda p: "the row with `[OK]` in the OFFICIAL column",
        lambda p: {
            "the row with the most STARS": "stars-not-official",
            f"the row named `library/{p['term']}`, since only official images live there": (
                "search-shows-familiar"
            ),
        },
        lambda p: {
            f"the row named `library/{p['term']}`, since only official images live there": (
                f"the row named `library/{p['term']}`"
            )
        },
    ),
    **_examples("stars-not-official", "search-shows-familiar"),
}


@cache
def _scan_totals() -> dict[str, int]:
    world = World.default()
    return {tag: len(world.scan(f"alpine:{tag}").findings) for tag in SCAN_TAGS}


def _most(p: Params) -> str:
    return f"alpine:{max(SCAN_TAGS, key=lambda t: _scan_totals()[t])}"


SCAN = {
    **_choice(
        _most,
        lambda p: {f"alpine:{min(SCAN_TAGS, key=lambda t: _scan_totals()[t])}": "fewest-not-most"},
    ),
    **_examples("fewest-not-most", "wrong-choice"),
}

LOGIN = {
    **_choice(
        lambda p: "`--password-stdin`, fed an access token from a secret",
        lambda p: {
            "`docker login -u ID -p PASSWORD`: one line, and Docker hides the password": (
                "password-on-command-line"
            ),
            "any way: `config.json` encrypts whatever you type": "config-json-encrypted",
        },
        lambda p: {
            "`--password-stdin`, fed an access token from a secret": (
                "`docker login -u ID --password-stdin`, reading an access token from a file "
                "or secret"
            ),
            "`docker login -u ID -p PASSWORD`: one line, and Docker hides the password": (
                "`docker login -u ID -p PASSWORD`: it is one line"
            ),
        },
    ),
    **_examples("password-on-command-line", "config-json-encrypted"),
}

PUSH_LINE = {
    **_choice(
        lambda p: (
            "Mounted from library/alpine"
            if p["situation"].startswith("the first push")
            else "Layer already exists"
        ),
        lambda p: {"Pushed": "pushed-again", "Pull complete": "wrong-line"},
    ),
    **_examples("pushed-again", "wrong-line"),
}

DIGEST_SIZE = {
    **_choice(
        lambda p: "the manifest's length in bytes",
        lambda p: {
            "the total size of the image's layers, compressed, in bytes": "size-is-layers",
            "the size of the image in kilobytes, on disk": "size-on-disk",
        },
        lambda p: {
            "the manifest's length in bytes": (
                "the length in bytes of the manifest, whose sha256 is the digest"
            ),
            "the total size of the image's layers, compressed, in bytes": (
                "the total size of the image's layers, in bytes"
            ),
        },
    ),
    **_examples("size-is-layers", "size-on-disk"),
}

OWNERS = {
    **_choice(
        lambda p: "make them an owner of the organization",
        lambda p: {
            "give their team Admin on every repository": "admin-is-per-repo",
            "make them an editor of the organization": "editor-not-owner",
        },
    ),
    **_examples("admin-is-per-repo", "editor-not-owner"),
}


# -- 12, 13: tasks --------------------------------------------------------------------------------


def _push_check(answer: Any, variant: Variant, world: Any) -> list[Part]:
    return check_pushed(world, variant.params["target"], reader=variant.params["classmate"])


def _push_solve(world: Any, variant: Variant) -> None:
    push_as_student(world, variant.params, variant.params["target"])


def _push_logged_out(world: Any, variant: Variant) -> None:
    push_as_student(world, variant.params, variant.params["target"], login=False)


def _push_private(world: Any, variant: Variant) -> None:
    _push_solve(world, variant)
    p = variant.params
    world.hub(p["docker_id"]).set_visibility(p["target"].split(":")[0], True)


def _push_other_tag(world: Any, variant: Variant) -> None:
    p = variant.params
    push_as_student(world, p, p["target"].rsplit(":", 1)[0] + ":latest")


SHARE_IMAGE = {
    "checker": _push_check,
    "solve": _push_solve,
    "mistakes": ("not-logged-in", "repo-private", "wrong-tag"),
    "examples": (
        Example(None, "not-logged-in", act=_push_logged_out),
        Example(None, "repo-private", act=_push_private),
        Example(None, "wrong-tag", act=_push_other_tag),
    ),
}

QA_READ = {
    "checker": org_lab.QA_PULL_ONLY.checker,
    "hidden": org_lab.QA_PULL_ONLY.hidden,
    "mistakes": org_lab.QA_PULL_ONLY.mistakes,
    "examples": org_lab.QA_PULL_ONLY.examples,
    "solve": org_lab.QA_PULL_ONLY.solve,
    "mistake_text": _words(*org_lab.QA_PULL_ONLY.mistakes),
}


KEYS = {
    "06-assessment": {
        "full-name": FULL_NAME,
        "name-parts": NAME_PARTS,
        "latest": LATEST,
        "several-tags": SEVERAL_TAGS,
        "valid-name": VALID_NAME,
        "official-image": OFFICIAL,
        "search-official": SEARCH,
        "scan-most-findings": SCAN,
        "login-safely": LOGIN,
        "push-layer-line": PUSH_LINE,
        "digest-and-size": DIGEST_SIZE,
        "share-image": SHARE_IMAGE,
        "qa-read-only": QA_READ,
        "owners": OWNERS,
    }
}
