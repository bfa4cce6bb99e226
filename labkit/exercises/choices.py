"""Multiple choices, built one way: shuffled choices, each wrong one with its code and feedback.

A lab writes its choices as the right text and a list of wrong ones, each a :class:`Choice`
(text, mistake code and, optionally, the explanation a student reads when picking it), or a plain
``{text: code}`` mapping. :func:`choice_params` turns them into the variant's parameters that the
multiple-choice kind reads (``choices``, ``choice_mistakes``, ``choice_feedback``);
:func:`multiple_choice` builds the whole exercise with one example per mistake code, so
``labkit lint`` reaches each.

**Rewording a choice keeps old records gradable.** A record stores the text of the choice a
student picked, so a choice reworded in a later release would no longer be found among the
variant's choices, and a right answer would grade as a format error. A choice therefore keeps
the wording(s) it had in earlier releases: ``Choice(today, ..., was="earlier wording")`` (the
right one too: ``Choice(right_text, was=...)``), or :func:`choice_was` for choices a generator
builds by hand. They become the variant's ``choice_was`` parameter (earlier wording -> today's),
which the multiple-choice parser reads: an earlier wording is graded as the choice it became,
with today's mistake code. ``tests/test_upgrade.py`` holds every choice every release offered to
this: a rewording without ``was=`` fails it, naming the choice.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from labkit.exercises.exercise import Exercise
from labkit.exercises.model import Example, Generator, Kind, Part, Variant

__all__ = [
    "Choice",
    "choice_examples",
    "choice_feedback",
    "choice_params",
    "choice_was",
    "choice_with",
    "multiple_choice",
    "pick_choice",
]


class Choice(NamedTuple):
    """A choice: its text, its mistake code (empty for the right one), what a student reads on
    picking it, and the wording(s) it had in earlier releases (``was``: one text or several),
    so that records made then still grade as this choice."""

    text: str
    mistake: str = ""
    feedback: str = ""
    was: str | tuple[str, ...] = ()

    def earlier(self) -> tuple[str, ...]:
        """Its earlier wordings, as a tuple."""
        return (self.was,) if isinstance(self.was, str) else tuple(self.was)


def choice_was(
    choices: Sequence[str], was: Mapping[str, str | Sequence[str]]
) -> dict[str, dict[str, str]]:
    """The ``choice_was`` parameter for choices built by hand: ``was`` maps a choice's text
    today to its earlier wording(s); ``{}`` when there are none (so a lab that never reworded a
    choice keeps its parameters, and its variants' fingerprints, as they were).

    ValueError (an authoring mistake, found by ``labkit lint`` and the lab's tests) when ``was``
    names a text that is not a choice, or an earlier wording that is a choice today or that two
    choices claim."""
    earlier: dict[str, str] = {}
    for today, wordings in was.items():
        if today not in choices:
            raise ValueError(f"was=: {today!r} is not one of the choices")
        for old in (wordings,) if isinstance(wordings, str) else wordings:
            if old in choices:
                raise ValueError(f"was=: the earlier wording {old!r} is a choice today")
            if earlier.get(old, today) != today:
                raise ValueError(f"was=: {old!r} is the earlier wording of two choices")
            earlier[old] = today
    return {"choice_was": earlier} if earlier else {}


def choice_params(
    rng: random.Random,
    correct: str | Choice,
    wrong: Mapping[str, str] | Iterable[Choice | tuple[str, ...]],
) -> dict[str, Any]:
    """Params of a multiple choice: the choices shuffled by ``rng`` (the right one first before
    shuffling), each wrong choice's mistake code, when any is given its feedback and, when any
    choice was worded otherwise before, the earlier wordings (``choice_was``).

    ``correct`` is the right text, or a :class:`Choice` with no mistake code (to give ``was``);
    ``wrong`` maps choice text -> code, or lists :class:`Choice` (text, code, feedback, was)
    entries.
    """
    right = correct if isinstance(correct, Choice) else Choice(correct)
    if right.mistake:
        raise ValueError(f"the right choice {right.text!r} has a mistake code {right.mistake!r}")
    if isinstance(wrong, Mapping):
        entries = [Choice(text, code) for text, code in wrong.items()]
        with_feedback = False
    else:
        entries = [Choice(*entry) for entry in wrong]
        with_feedback = True
    choices = [right.text, *(entry.text for entry in entries)]
    rng.shuffle(choices)
    params: dict[str, Any] = {
        "choices": choices,
        "choice_mistakes": {entry.text: entry.mistake for entry in entries},
    }
    if with_feedback:
        params["choice_feedback"] = {entry.text: entry.feedback for entry in entries}
    was = {entry.text: entry.earlier() for entry in (right, *entries) if entry.earlier()}
    params.update(choice_was(choices, was))
    return params


def choice_with(variant: Variant, code: str) -> str:
    """The wrong choice of ``variant`` that carries mistake ``code`` (for examples)."""
    return next(c for c, m in variant.params["choice_mistakes"].items() if m == code)


def pick_choice(code: str) -> Callable[[Variant], str]:
    """A function giving the wrong choice that carries mistake ``code`` (an example's raw)."""

    def pick(variant: Variant) -> str:
        return choice_with(variant, code)

    return pick


def choice_examples(codes: Sequence[str]) -> tuple[Example, ...]:
    """One example a mistake code, each picking the wrong choice that carries it."""
    return tuple(Example(pick_choice(code), code) for code in codes)


ChoiceMessage = str | Callable[[str, Variant], str]


def choice_feedback(
    messages: Mapping[str, ChoiceMessage], default: ChoiceMessage = ""
) -> Callable[[str, Variant, Any], list[Part]]:
    """A multiple choice's checker: right, or the wrong choice's mistake code with its own
    explanation: the variant's ``choice_feedback`` for that choice when it has one, else
    ``messages[code]`` (text, or ``(answer, variant) -> text``), else ``default``."""

    def check(answer: str, variant: Variant, world: Any) -> list[Part]:
        if answer == variant.answer:
            return [Part("choice", 1.0)]
        code = dict(variant.params.get("choice_mistakes", {})).get(answer, "wrong-choice")
        message = dict(variant.params.get("choice_feedback", {})).get(answer)
        if not message:
            chosen = messages.get(code, default)
            message = chosen(answer, variant) if callable(chosen) else chosen
        return [Part("choice", 0.0, 1.0, code, message)]

    return check


def multiple_choice(
    id: str,
    title: str,
    prompt: str,
    generator: Generator,
    mistakes: Sequence[str],
    **fields: Any,
) -> Exercise:
    """A multiple-choice exercise whose ``generator`` returns :func:`choice_params` (plus any
    parameters of its own) and the right text; one example per mistake code is added to
    ``fields.get("examples", ())``. Other ``fields`` are the :class:`Exercise`'s."""
    examples = (*fields.pop("examples", ()), *choice_examples(mistakes))
    return Exercise(
        id=id,
        title=title,
        prompt=prompt,
        kind=Kind.MULTIPLE_CHOICE,
        generator=generator,
        mistakes=tuple(mistakes),
        examples=examples,
        **fields,
    )
