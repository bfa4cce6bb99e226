"""Multiple choice tests knowledge: ``labkit lint`` flags a right option that stands out by
length or hedging, and over all labs and many students the right option is the longest (ties
counted as longest) no more often than chance, sum(1/k)/N."""

from __future__ import annotations

from labkit.exercises.model import Variant
from labkit.grading.lint import choice_giveaways, lint_lab
from labkit.labs import find_labs

STUDENTS = tuple(f"analysis-{i:03d}" for i in range(200))


def _variant(answer, *wrong):
    return Variant(seed=0, params={"choices": [answer, *wrong]}, answer=answer)


def test_a_right_option_much_longer_than_the_others_is_flagged():
    long = "the image that the tag `latest` points to, whatever version that happens to be"
    (problem,) = choice_giveaways(_variant(long, "the newest version", "every tag"))
    assert "much longer" in problem
    assert choice_giveaways(_variant("the newest one", "every tag of it", "nothing")) == []


def test_a_right_option_that_alone_hedges_is_flagged():
    (problem,) = choice_giveaways(
        _variant("it may be older", "it is the newest", "it always fails")
    )
    assert "hedges ('may')" in problem
    both = _variant("it may be older", "it may well fail", "it is the newest")
    assert choice_giveaways(both) == []


def test_every_lab_passes_the_choice_rules():
    assert {lab_id: lint_lab(lab) for lab_id, lab in find_labs().items()} == {
        lab_id: [] for lab_id in find_labs()
    }


def test_the_right_option_is_the_longest_no_more_often_than_chance():
    questions = longest = 0
    chance = 0.0
    for lab in find_labs().values():
        for exercise in lab.exercises:
            for student in STUDENTS:
                variant = lab.variant(exercise, student)
                choices = list(variant.params.get("choices", ()))
                if variant.answer not in choices:
                    continue
                questions += 1
                chance += 1 / len(choices)
                longest += len(variant.answer) == max(len(c) for c in choices)
    share, level = longest / questions, chance / questions
    print(
        f"\nmultiple choice over all labs, {len(STUDENTS)} students: {questions} questions; "
        f"right option the longest (ties counted): {share:.3f}; chance sum(1/k)/N: {level:.3f}"
    )
    assert share <= level
