"""Multiple choices, built one way: shuffled choices, each wrong one with its code and feedback.

A lab writes its choices as the right text and a list of wrong ones, each a :class:`Choice`
(text, mistake code and, optionally, the explanation a student reads when picking it), or a plain
``{text: code}`` mapping. :func:`choice_params` turns them into the variant's parameters that the
multiple-choice kind reads (``choices``, ``choice_mistakes``, ``choice_feedback``);
:func:`multiple_choice` builds the whole exercise with one example per mistake code, so
``labkit lint`` reaches each.
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
    "choice_with",
    "multiple_choice",
    "pick_choice",
]


class Choice(NamedTuple):
    """A wrong choice: its text, its mistake code and what a student reads on picking it."""

    text: str
    mistake: str
    feedback: str = ""


def choice_params(
    rng: random.Random,
    correct: str,
    wrong: Mapping[str, str] | Iterable[Choice | tuple[str, str, str]],
) -> dict[str, Any]:
    """Params of a multiple choice: the choices shuffled by ``rng`` (the right one first before
    shuffling), each wrong choice's mistake code and, when any is given, its feedback.

    ``wrong`` maps choice text -> code, or lists :class:`Choice` (text, code, feedback) entries.
    """
    if isinstance(wrong, Mapping):
        entries = [Choice(text, code) for text, code in wrong.items()]
        with_feedback = False
    else:
        entries = [Choice(*entry) for entry in wrong]
        with_feedback = True
    choices = [correct, *(entry.text for entry in entries)]
    rng.shuffle(choices)
    params: dict[str, Any] = {
        "choices": choices,
        "choice_mistakes": {entry.text: entry.mistake for entry in entries},
    }
    if with_feedback:
        params["choice_feedback"] = {entry.text: entry.feedback for entry in entries}
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
