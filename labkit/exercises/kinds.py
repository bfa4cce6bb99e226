"""Per-kind rules: how each kind of exercise parses an answer and checks it by default.

:data:`KIND_RULES` maps each :class:`~labkit.exercises.model.Kind` to its ``(parser, checker)``;
an exercise's own ``parser``/``checker`` replace them. Multiple choices (and predict-the-output
with choices) read ``choices``, ``choice_mistakes``, ``choice_feedback`` and ``choice_was`` (the
earlier wordings of reworded choices, so records made before grade as the choice they became) from
the variant's parameters: :func:`labkit.exercises.choices.choice_params` builds them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from labkit.errors import LabkitError
from labkit.exercises.answers import compare_lines, compare_reference_parts
from labkit.exercises.model import (
    MISTAKES,
    Checker,
    FormatError,
    Kind,
    Parser,
    Part,
    Variant,
    canonical_json,
    plain_value,
)

if TYPE_CHECKING:
    from labkit.world import World

__all__ = ["CHOICE_GONE", "KIND_RULES", "PART_NAMES", "choices_of"]


def _parse_text(raw: Any, variant: Variant) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise FormatError("type an answer first")
    return raw.strip()


def _check_text(answer: str, variant: Variant, world: World | None) -> list[Part]:
    if answer == variant.answer:
        return [Part("answer", 1.0)]
    return [Part("answer", 0.0, 1.0, "wrong-value", MISTAKES["wrong-value"])]


def choices_of(variant: Variant) -> list[str]:
    """The variant's choices (empty for a free-text answer)."""
    return list(variant.params.get("choices", ()))


# The format error of a choice that is not offered (nor an earlier wording of one that is).
CHOICE_GONE = "pick one of the choices"


def _parse_choice(raw: Any, variant: Variant) -> str:
    choices = choices_of(variant)
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw < len(choices):
        return choices[raw]
    if isinstance(raw, str) and raw not in choices:
        # a choice as an earlier release worded it (a record made then): the choice it became
        raw = dict(variant.params.get("choice_was", {})).get(raw, raw)
    if not isinstance(raw, str) or raw not in choices:
        raise FormatError(CHOICE_GONE)
    return raw


def _check_choice(answer: str, variant: Variant, world: World | None) -> list[Part]:
    """Right, or the wrong choice's own mistake code (``choice_mistakes``) and, when the
    variant carries one, its own explanation (``choice_feedback``)."""
    if answer == variant.answer:
        return [Part("choice", 1.0)]
    mistake = dict(variant.params.get("choice_mistakes", {})).get(answer, "wrong-choice")
    message = dict(variant.params.get("choice_feedback", {})).get(answer, "")
    return [Part("choice", 0.0, 1.0, mistake, message)]


PART_NAMES = ("registry", "namespace", "name", "tag")


def _parse_parts(raw: Any, variant: Variant) -> dict[str, str]:
    if type(raw) is not dict:
        raise FormatError("give the parts as a dict with registry, namespace, name and tag")
    parsed = {}
    for name in PART_NAMES:
        value = raw.get(name)
        if value is not None and type(value) is not str:
            raise FormatError(f"the {name} must be text")
        parsed[name] = (value or "").strip()
    if not parsed["name"]:
        raise FormatError("fill in at least the name")
    return parsed


def _check_parts(answer: Mapping[str, str], variant: Variant, world: World | None) -> list[Part]:
    return compare_reference_parts(answer, variant.answer)


def _parse_output(raw: Any, variant: Variant) -> str:
    if choices_of(variant):
        return _parse_choice(raw, variant)
    if not isinstance(raw, str) or not raw.strip():
        raise FormatError("type the lines the command prints")
    return raw


def _check_output(answer: str, variant: Variant, world: World | None) -> list[Part]:
    if choices_of(variant):
        return _check_choice(answer, variant, world)
    return compare_lines(answer, variant.answer)


def _parse_task(raw: Any, variant: Variant) -> None:
    return None


def _check_task(answer: Any, variant: Variant, world: World | None) -> list[Part]:
    raise LabkitError("a task exercise needs its own checker (on the world's state)")


def _parse_code(raw: Any, variant: Variant) -> Any:
    return plain_value(raw)


def _check_code(answer: Any, variant: Variant, world: World | None) -> list[Part]:
    key = variant.answer
    if type(answer) is not type(key) and not (
        isinstance(answer, int | float) and isinstance(key, int | float)
    ):
        return [
            Part(
                "value",
                0.0,
                1.0,
                "wrong-type",
                f"expected a {type(key).__name__}, got a {type(answer).__name__}",
            )
        ]
    if canonical_json(answer) == canonical_json(key):
        return [Part("value", 1.0)]
    return [Part("value", 0.0, 1.0, "wrong-value", MISTAKES["wrong-value"])]


KIND_RULES: Mapping[Kind, tuple[Parser, Checker]] = {
    Kind.SHORT_ANSWER: (_parse_text, _check_text),
    Kind.MULTIPLE_CHOICE: (_parse_choice, _check_choice),
    Kind.NAME_THE_PARTS: (_parse_parts, _check_parts),
    Kind.PREDICT_OUTPUT: (_parse_output, _check_output),
    Kind.TASK: (_parse_task, _check_task),
    Kind.CODE: (_parse_code, _check_code),
}
