"""The concept map: every concept of issue 6 is exercised by some exercise of some lab."""

from __future__ import annotations

from labkit.labs import find_labs
from labkit.labs.concepts import CONCEPTS, concept_ids, concepts_of, exercised, uncovered

ISSUE_LABS = (
    "01-tags",
    "02-image-names",
    "03-official-images",
    "04-pushing",
    "05-organizations-and-teams",
)


def test_ids_are_unique_and_belong_to_a_lab():
    ids = concept_ids()
    assert len(ids) == len(set(ids))
    assert {concept.lab for concept in CONCEPTS} == set(ISSUE_LABS)
    for lab_id in ISSUE_LABS:
        assert concepts_of(lab_id), lab_id


def test_every_concept_is_exercised():
    labs = find_labs()
    assert uncovered(labs) == [], exercised(labs)


def test_uncovered_names_what_is_missing():
    assert uncovered([]) == list(concept_ids())
    assert "owners" not in uncovered([find_labs()["05-organizations-and-teams"]])


def test_every_concept_is_exercised_in_its_own_lab():
    labs = find_labs()
    missing = [
        (concept.id, concept.lab)
        for concept in CONCEPTS
        if not any(concept.id in exercise.concepts for exercise in labs[concept.lab].exercises)
    ]
    assert missing == []


def test_labs_name_their_concepts_by_id():
    ids = set(concept_ids())
    for lab_id in (*ISSUE_LABS, "00-start-here", "06-assessment"):
        lab = find_labs()[lab_id]
        named = {c for exercise in lab.exercises for c in exercise.concepts} | set(lab.concepts)
        assert named <= ids, (lab_id, sorted(named - ids))
