"""The concept map: what each lab teaches, by stable id.

Every exercise names the concepts it practises in its ``concepts`` field, using these ids; a test
checks that each concept here is exercised by at least one exercise of some lab
(:func:`uncovered`). The ids are the seed's ideas from issue 6, one per idea.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from labkit.labs import Lab

__all__ = ["CONCEPTS", "Concept", "concept_ids", "concepts_of", "exercised", "uncovered"]


@dataclass(frozen=True)
class Concept:
    """One idea a lab teaches: its id, the lab that introduces it, and a one-line summary."""

    id: str
    lab: str
    summary: str


CONCEPTS: tuple[Concept, ...] = (
    # 01-tags
    Concept("globally-unique-name", "01-tags", "an image needs a name that is unique worldwide"),
    Concept("tag", "01-tags", "a tag names one version of an image in a repository"),
    Concept("default-tag-latest", "01-tags", "with no tag, Docker uses `latest`"),
    Concept("explicit-tag", "01-tags", "`alpine:3.5` asks for one tag explicitly"),
    Concept("tag-is-movable-pointer", "01-tags", "a tag can be moved to another image"),
    Concept("several-tags-one-id", "01-tags", "several tags can name the same image ID"),
    Concept("latest-not-newest", "01-tags", "`latest` is a default name, not a promise of newest"),
    # 02-image-names
    Concept(
        "fully-qualified-name", "02-image-names", "`<registry>/<user or org>/<name>:<tag>` in full"
    ),
    Concept("default-registry-docker-io", "02-image-names", "no registry means Docker Hub"),
    Concept("other-registries", "02-image-names", "other public registries and their host names"),
    Concept("personal-namespace", "02-image-names", "a user's own namespace, their Docker ID"),
    Concept("org-namespace", "02-image-names", "an organization's namespace"),
    Concept("official-images-no-namespace", "02-image-names", "official images need no namespace"),
    Concept("url-scheme-invalid", "02-image-names", "`https://...` is not a valid image name"),
    # 03-official-images
    Concept("library-namespace", "03-official-images", "official images live in `library/`"),
    Concept(
        "official-image-curation",
        "03-official-images",
        "who curates, reviews and publishes official images, and what they are for",
    ),
    Concept("docker-search-official", "03-official-images", "`docker search` and OFFICIAL [OK]"),
    Concept(
        "vulnerability-scanning", "03-official-images", "scan results help choose a tag (simulated)"
    ),
    # 04-pushing
    Concept("why-registries", "04-pushing", "registries share images with test, QA, production"),
    Concept("login-password-stdin", "04-pushing", "`--password-stdin`, and why `-p` is insecure"),
    Concept("access-tokens", "04-pushing", "personal access tokens in place of a password"),
    Concept("config-json-unencrypted", "04-pushing", "config.json keeps credentials unencrypted"),
    Concept("push-output", "04-pushing", "each line of `docker push` output"),
    Concept("mounted-from", "04-pushing", "`Mounted from ...`: a layer mounted, not sent"),
    Concept("layer-already-exists", "04-pushing", "a second push says `Layer already exists`"),
    Concept("digest-and-size", "04-pushing", "the manifest's sha256 digest and its byte size"),
    Concept("repo-created-on-push", "04-pushing", "the first push creates the repository"),
    Concept("public-private", "04-pushing", "public and private repositories"),
    # 05-organizations-and-teams
    Concept("organizations", "05-organizations-and-teams", "organizations own repositories"),
    Concept(
        "teams-permissions",
        "05-organizations-and-teams",
        "teams get Read-only, Read & Write or Admin per repository (cumulative)",
    ),
    Concept("owners", "05-organizations-and-teams", "owners manage members, teams and settings"),
    Concept(
        "private-registry",
        "05-organizations-and-teams",
        "a company's own registry (registry.acme.com) with private repositories",
    ),
)


def concept_ids() -> tuple[str, ...]:
    """Every concept id, in teaching order."""
    return tuple(concept.id for concept in CONCEPTS)


def concepts_of(lab_id: str) -> tuple[str, ...]:
    """The ids of the concepts a lab introduces."""
    return tuple(concept.id for concept in CONCEPTS if concept.lab == lab_id)


def exercised(labs: Mapping[str, Lab] | Iterable[Lab]) -> dict[str, list[str]]:
    """Concept id -> the ``lab/exercise`` ids that exercise it (unknown ids included)."""
    found: dict[str, list[str]] = {}
    for lab in labs.values() if isinstance(labs, Mapping) else labs:
        for exercise in lab.exercises:
            for concept in exercise.concepts:
                found.setdefault(concept, []).append(f"{lab.id}/{exercise.id}")
    return found


def uncovered(labs: Mapping[str, Lab] | Iterable[Lab]) -> list[str]:
    """The concept ids no exercise of ``labs`` exercises, in teaching order."""
    found = exercised(labs)
    return [concept_id for concept_id in concept_ids() if concept_id not in found]
