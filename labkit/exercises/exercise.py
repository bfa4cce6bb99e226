"""The exercise: one definition used by the widgets, the notebook tests and the grader.

An :class:`Exercise` is data plus pure functions (PrairieLearn's generate / parse / grade shape):

- ``generate(seed)`` gives a :class:`~labkit.exercises.model.Variant`: the parameters *and* the
  correct answer together; the seed is :func:`~labkit.exercises.model.variant_seed`
  ("lab/exercise/student" through sha256, never ``hash()``).
- ``parse(raw, variant)`` turns what the student typed (or passed with ``lab.answer``) into the
  value the checks compare; a malformed answer raises
  :class:`~labkit.exercises.model.FormatError`, which is explained and costs no try.
- ``check(answer, variant, world)`` returns parts, each with a score in [0, 1], a weight and, when
  wrong, a stable mistake code found by comparing the answer with the key part by part. Hidden
  checks run only at grading and are never shown to students.

:func:`check_answer` is what a widget calls (public checks only, tries and hints applied);
:func:`labkit.grading.record.grade_record` is what the grader and the labs' tests call.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from labkit.errors import LabkitError
from labkit.exercises.kinds import KIND_RULES
from labkit.exercises.model import (
    HIDDEN_NOTICE,
    MISTAKES,
    Checker,
    CheckResult,
    Example,
    Feedback,
    FormatError,
    Generator,
    HiddenCheck,
    HiddenResult,
    Hint,
    Kind,
    Parser,
    Part,
    Solver,
    Status,
    Variant,
    plain_value,
    variant_seed,
)
from labkit.reference import parse_reference

if TYPE_CHECKING:
    from labkit.world import World

__all__ = ["Exercise", "check_answer", "public_message"]


@dataclass(frozen=True)
class Exercise:
    """One exercise, defined once; used by the widgets, the notebook tests and the grader.

    ``generator(rng, world_params)`` returns ``(params, answer)``; ``prompt`` is Markdown with
    ``{param}`` fields. ``parser`` and ``checker`` default to the kind's (see :data:`KIND_RULES`).
    ``max_tries`` None means unlimited; ``feedback`` is ``"immediate"`` or ``"format-only"``.
    ``mistakes`` lists the codes the check can report; ``examples`` reach each of them;
    ``mistake_text`` words the lab's own codes (the shared ones are in :data:`MISTAKES`): a
    wrong part without a message of its own gets that wording. A task's ``solve(world,
    variant)`` brings a fresh world into the state the task asks for (``labkit lint`` checks the
    key with it); ``key_answer(variant)`` overrides the raw key :meth:`key_raw` gives.

    ``options`` is free for a lab's own use. Labs written for labkit 0.1 passed the solver as
    ``options={"solve": ...}`` and the key as ``options={"key_raw": ...}``: both are still read
    (and ``labkit lint`` names the change to make).
    """

    id: str
    title: str
    prompt: str
    kind: Kind
    generator: Generator
    points: float = 1.0
    parser: Parser | None = None
    checker: Checker | None = None
    hints: tuple[Hint, ...] = ()
    hidden: tuple[HiddenCheck, ...] = ()
    max_tries: int | None = None
    feedback: str = "immediate"
    mistakes: tuple[str, ...] = ()
    examples: tuple[Example, ...] = ()
    concepts: tuple[str, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)
    mistake_text: Mapping[str, str] = field(default_factory=dict)
    solve: Solver | None = None
    key_answer: Callable[[Variant], Any] | None = None

    def __post_init__(self) -> None:
        if self.feedback not in ("immediate", "format-only"):
            raise ValueError(f"exercise {self.id}: feedback must be 'immediate' or 'format-only'")
        object.__setattr__(self, "kind", Kind(self.kind))
        # labkit 0.1 spelling (options={"solve": ..., "key_raw": ...}); lint names the change
        if self.solve is None and callable(self.options.get("solve")):
            object.__setattr__(self, "solve", self.options["solve"])
        if self.key_answer is None and callable(self.options.get("key_raw")):
            object.__setattr__(self, "key_answer", self.options["key_raw"])

    def generate(self, seed: int, world_params: Mapping[str, Any] | None = None) -> Variant:
        """The variant for ``seed``: ``random.Random(seed)`` drives the generator."""
        world_params = dict(world_params or {})
        params, answer = self.generator(random.Random(seed), world_params)
        merged = {**world_params, **dict(params)}
        return Variant(seed=seed, params=plain_value(merged), answer=plain_value(answer))

    def variant_for(
        self, lab_id: str, student: str, world_params: Mapping[str, Any] | None = None
    ) -> Variant:
        return self.generate(variant_seed(lab_id, self.id, student), world_params)

    def render_prompt(self, variant: Variant) -> str:
        """The prompt with the variant's parameters filled in."""
        return self.prompt.format(**variant.params)

    def parse(self, raw: Any, variant: Variant) -> Any:
        """The answer the checks compare; FormatError when ``raw`` is malformed."""
        parser = self.parser or KIND_RULES[self.kind][0]
        return parser(raw, variant)

    def check(self, answer: Any, variant: Variant, world: World | None = None) -> CheckResult:
        """The public check: parts with scores and mistake codes."""
        checker = self.checker or KIND_RULES[self.kind][1]
        parts = tuple(self._worded(part) for part in checker(answer, variant, world))
        if not parts:
            raise LabkitError(f"exercise {self.id}: its check compared no parts")
        return CheckResult(parts)

    def mistake_message(self, code: str) -> str:
        """How this exercise words a mistake code."""
        return self.mistake_text.get(code) or MISTAKES.get(code) or MISTAKES["wrong-choice"]

    def _worded(self, part: Part) -> Part:
        if part.ok or part.message or not part.mistake:
            return part
        return replace(part, message=self.mistake_message(part.mistake))

    def run_hidden(self, answer: Any, variant: Variant, world: World | None) -> list[HiddenResult]:
        """Every hidden check (grading only); a crashing check fails, it never raises."""
        results = []
        for hidden in self.hidden:
            try:
                outcome = hidden.check(answer, variant, world)
            except Exception as error:
                results.append(HiddenResult(hidden.name, False, f"check raised {error!r}"))
                continue
            if isinstance(outcome, Part):
                results.append(HiddenResult(hidden.name, outcome.ok, outcome.message))
            else:
                results.append(HiddenResult(hidden.name, bool(outcome)))
        return results

    def hints_unlocked(self, tries_used: int) -> tuple[str, ...]:
        return tuple(h.text for h in self.hints if tries_used >= h.after_tries)

    def key_raw(self, variant: Variant) -> Any:
        """The correct answer as a student would enter it (tasks: None; name-the-parts: a dict
        of parts; ``key_answer(variant)`` overrides)."""
        if self.key_answer is not None:
            return self.key_answer(variant)
        if self.kind is Kind.TASK:
            return None
        if self.kind is Kind.NAME_THE_PARTS and isinstance(variant.answer, str):
            ref = parse_reference(variant.answer)
            return {
                "registry": ref.domain,
                "namespace": ref.namespace or "",
                "name": ref.name,
                "tag": ref.tag or "latest",
            }
        return variant.answer


def check_answer(
    exercise: Exercise,
    variant: Variant,
    raw: Any,
    world: World | None = None,
    *,
    tries_used: int = 0,
) -> Feedback:
    """Check one attempt with the public checks (what a widget shows).

    ``tries_used`` is the count before this attempt. A format error costs no try; once
    ``max_tries`` are used, the attempt is refused. Format-only exercises only say whether the
    answer was well-formed and recorded.
    """
    limit = exercise.max_tries
    if limit is not None and tries_used >= limit:
        return Feedback(
            status=Status.NO_TRIES_LEFT,
            message=f"You have used all {limit} tries. Your last answer is kept.",
            hints=exercise.hints_unlocked(tries_used),
            tries_used=tries_used,
            tries_left=0,
        )
    try:
        answer = exercise.parse(raw, variant)
    except FormatError as error:
        message = f"{error.message} (this did not use a try)"
        if error.hint:
            message += f"\n\n{error.hint}"
        return Feedback(
            status=Status.FORMAT_ERROR,
            message=message,
            hints=exercise.hints_unlocked(tries_used),
            tries_used=tries_used,
            tries_left=None if limit is None else limit - tries_used,
        )
    used = tries_used + 1
    left = None if limit is None else limit - used
    hints = exercise.hints_unlocked(used)
    if exercise.feedback == "format-only":
        return Feedback(
            status=Status.RECORDED,
            message="Your answer is recorded (not checked yet): it is graded with the lab.",
            hints=hints,
            tries_used=used,
            tries_left=left,
            counted=True,
        )
    result = exercise.check(answer, variant, world)
    status = (
        Status.CORRECT if result.correct else (Status.PARTIAL if result.score > 0 else Status.WRONG)
    )
    return Feedback(
        status=status,
        message=public_message(exercise, result),
        score=result.score,
        mistakes=result.mistakes,
        parts=result.parts,
        hints=hints,
        tries_used=used,
        tries_left=left,
        counted=True,
        hidden_checks=len(exercise.hidden),
    )


def public_message(exercise: Exercise, result: CheckResult) -> str:
    """What a student reads after a check: correct (and how many hidden checks wait), or the
    score and one line per mistake."""
    if result.correct:
        n = len(exercise.hidden)
        if n:
            return "Correct: " + HIDDEN_NOTICE.format(n=n, s="" if n == 1 else "s") + "."
        return "Correct: public checks passed."
    wrong = [p for p in result.parts if not p.ok]
    named = [p for p in wrong if p.message or p.mistake]
    # A part that fails only because another one did (nothing pushed, so nobody can pull it)
    # adds nothing: say it only when no part names a mistake.
    lines = [p.message or MISTAKES.get(p.mistake or "", "not right") for p in named or wrong]
    lines = list(dict.fromkeys(lines))
    head = "Partly right" if result.score > 0 else "Not yet"
    return f"{head} ({round(result.score * 100)}%):\n" + "\n".join(f"- {line}" for line in lines)
