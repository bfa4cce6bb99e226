"""The exercise data model: kinds, statuses, mistake codes, variants, parts and feedback.

Everything here is plain data and pure functions (no world, no lab): the answer comparisons
(:mod:`labkit.exercises.answers`), the per-kind rules (:mod:`labkit.exercises.kinds`), the
exercise itself (:mod:`labkit.exercises.exercise`) and grading (:mod:`labkit.grading`) build on it.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from labkit.errors import LabkitError

if TYPE_CHECKING:
    from labkit.world import World

__all__ = [
    "HIDDEN_NOTICE",
    "LAB_STATUS_ORDER",
    "MISTAKES",
    "CheckResult",
    "Checker",
    "Example",
    "Feedback",
    "FormatError",
    "Generator",
    "HiddenCheck",
    "HiddenResult",
    "Hint",
    "Kind",
    "Parser",
    "Part",
    "Solver",
    "Status",
    "Variant",
    "canonical_json",
    "plain_value",
    "variant_seed",
]


class Kind(StrEnum):
    """What the student does to answer."""

    SHORT_ANSWER = "short-answer"  # type a value, e.g. a fully qualified name
    MULTIPLE_CHOICE = "multiple-choice"  # pick one of the variant's choices
    NAME_THE_PARTS = "name-the-parts"  # registry, namespace, name and tag of a reference
    PREDICT_OUTPUT = "predict-output"  # what a command prints (choices or lines)
    TASK = "task"  # bring the simulated world into a state; checked on the state
    CODE = "code"  # code passes a JSON-able value with lab.answer(id, value)


class Status(StrEnum):
    """Every status an exercise attempt, a graded exercise or a graded lab can have.

    The values are the words written in feedback, ``grades.csv`` and the reports (a ``StrEnum``
    compares equal to its text and prints as it, so files stay byte-identical).
    """

    # an attempt or a graded exercise
    CORRECT = "correct"
    PARTIAL = "partial"
    WRONG = "wrong"
    UNANSWERED = "unanswered"
    FORMAT_ERROR = "format-error"
    CHECK_ERROR = "check-error"
    RECORDED = "recorded"  # format-only exercises: well-formed, checked at grading
    NO_TRIES_LEFT = "no-tries-left"
    # a graded lab (most serious first, see LAB_STATUS_ORDER)
    ERROR = "error"
    KILLED = "killed"
    TIMED_OUT = "timed-out"
    MEMORY_LIMIT = "memory-limit"
    OUTPUT_LIMIT = "output-limit"
    NOT_A_NOTEBOOK = "not-a-notebook"
    MALFORMED = "malformed"
    UNKNOWN_LAB = "unknown-lab"
    MISSING = "missing"
    NO_SUBMISSION_CELL = "no-submission-cell"
    FORGED = "forged"
    OTHER_STUDENT = "other-student"
    WRONG_LAB = "wrong-lab"
    VARIANT_CHANGED = "variant-changed"
    REPLAY_FAILED = "replay-failed"
    OK = "ok"

    def __repr__(self) -> str:
        # shown as the plain text it always was (`['correct']` in a printed list of statuses)
        return repr(self.value)

    @classmethod
    def of_score(cls, score: float) -> Status:
        """correct (full marks), partial (some) or wrong (none)."""
        return cls.CORRECT if score >= 1.0 else (cls.PARTIAL if score > 0 else cls.WRONG)


# Problem statuses of a lab grade, most serious first: a lab grade shows the first that applies.
LAB_STATUS_ORDER: tuple[Status, ...] = (
    Status.ERROR,
    Status.KILLED,
    Status.TIMED_OUT,
    Status.MEMORY_LIMIT,
    Status.OUTPUT_LIMIT,
    Status.NOT_A_NOTEBOOK,
    Status.MALFORMED,
    Status.UNKNOWN_LAB,
    Status.MISSING,
    Status.NO_SUBMISSION_CELL,
    Status.FORGED,
    Status.OTHER_STUDENT,
    Status.WRONG_LAB,
    Status.VARIANT_CHANGED,
    Status.REPLAY_FAILED,
    Status.OK,
)


# Every mistake code the shared helpers can report, with what it means for a student.
# Labs may add their own codes; each exercise lists the codes it can report in ``mistakes``.
MISTAKES: Mapping[str, str] = {
    "missing-library": "official images live in the `library/` namespace on Docker Hub",
    "missing-registry": "a fully qualified name starts with the registry (`docker.io`)",
    "missing-tag": "without a tag Docker uses `latest`",
    "url-scheme": "image names never start with `https://` or `http://`",
    "latest-is-newest": "`latest` is only a tag's name, not necessarily the newest version",
    "uppercase-repo": "repository names must be lowercase",
    "wrong-registry": "the registry (host) is not the right one",
    "wrong-namespace": "the namespace (user or organization) is not the right one",
    "wrong-name": "the repository name is not the right one",
    "wrong-tag": "the tag is not the right one",
    "wrong-digest": "the digest is not the right one",
    "wrong-choice": "that choice is not the right one",
    "wrong-line": "a line differs from what the command prints",
    "missing-lines": "the command prints more lines than that",
    "extra-lines": "the command prints fewer lines than that",
    "wrong-value": "the value is not the right one",
    "wrong-type": "the value has the wrong type",
    "not-pushed": "the image is not in the registry under that name",
    "not-logged-in": "pushing needs `docker login` to that registry first",
    "repo-private": "the repository is private, so others cannot pull it",
    "team-read-only": "the team has Read-only access; pushing needs Read & Write",
    "no-team-access": "the team has no access to the repository",
    "not-done": "the world is not in the state the task asks for",
    "wrong-image": "the tag points at a different image than the one asked for",
}

HIDDEN_NOTICE = "public checks passed; {n} hidden check{s} run at grading"

# The most an answer showing a mistake earns (a part of it may be right): the mistake an
# exercise exists to catch never earns more than half its points.
MISTAKE_CAP = 0.5

# The one set of rules for tries, format errors and credit, for every lab (the assessment
# included). 00-start-here shows it (labkit.rules()); check_answer and Exercise.check enforce it.
RULES = """\
- **Check** uses up one try with each answer it checks. Some exercises allow only a few tries;
  the assessment allows two or three per question.
- An answer that is not even an answer of the asked form is a **format error**: it is
  explained and uses **no try**. That is an empty box, text where a number goes, a choice that
  is not offered, or an image name Docker refuses for a reason the question is not about
  (such as a stray `ñ`).
- An image name Docker refuses *because of* a mistake the labs teach (`https://` in front,
  uppercase letters) is a real answer: it is **wrong** and uses a try, like any wrong answer.
- A **partly right** answer (say, the right image but the wrong tag) earns part of the points,
  never more than **half**: the mistake a question is about always costs at least half.
- In the practice labs, Check says at once whether you are right and names your mistake. In the
  assessment it only says that your answer is **recorded** (not whether it is right); the same
  rules decide its score when it is graded."""


class FormatError(LabkitError, ValueError):
    """The answer is malformed (not a wrong answer): explained, and it costs no try."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


# -- variants -----------------------------------------------------------------------------------


def variant_seed(lab_id: str, exercise_id: str, student: str) -> int:
    """The first 8 bytes of sha256("lab/exercise/student"), as a big-endian integer."""
    digest = hashlib.sha256(f"{lab_id}/{exercise_id}/{student}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


@dataclass(frozen=True)
class Variant:
    """One student's version of an exercise: its parameters and its correct answer."""

    seed: int
    params: Mapping[str, Any]
    answer: Any

    def to_json(self) -> dict[str, Any]:
        return {"seed": self.seed, "params": plain_value(self.params), "answer": self.answer}


# -- JSON-able values (the code kind, and records) ------------------------------------------------


def plain_value(value: Any, where: str = "the value") -> Any:
    """``value`` rebuilt from plain JSON types only; FormatError for anything else.

    Only exact ``dict`` (string keys), ``list``/``tuple``, ``str``, ``int``, finite ``float``,
    ``bool`` and ``None`` pass: subclasses and other objects are refused, so a student's object
    (say, one whose ``__eq__`` is always true) never reaches a comparison.
    """
    kind = type(value)
    if value is None or kind in (bool, str, int):
        return value
    if kind is float:
        if not math.isfinite(value):
            raise FormatError(f"{where} is {value!r}, which JSON cannot hold")
        return value
    if kind in (list, tuple):
        return [plain_value(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if kind is dict:
        result = {}
        for key, item in value.items():
            if type(key) is not str:
                raise FormatError(f"{where} has a key {key!r} that is not a string")
            result[key] = plain_value(item, f"{where}[{key!r}]")
        return result
    raise FormatError(
        f"{where} is a {kind.__name__}; answers must be plain JSON values "
        "(str, int, float, bool, None, list, dict)"
    )


def canonical_json(value: Any) -> str:
    """One text per JSON value (sorted keys, no spaces): compare answers with this, never ==."""
    return json.dumps(plain_value(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# -- results and feedback ----------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One compared part of an answer: score in [0, 1], its weight, and the mistake if any."""

    name: str
    score: float
    weight: float = 1.0
    mistake: str | None = None
    message: str = ""

    def __post_init__(self) -> None:
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"part {self.name!r}: score {self.score} is not in [0, 1]")

    @property
    def ok(self) -> bool:
        return self.score >= 1.0


@dataclass(frozen=True)
class CheckResult:
    """The parts a check compared; ``score`` is their weighted mean in [0, 1]."""

    parts: tuple[Part, ...]

    @property
    def score(self) -> float:
        """The parts' weighted mean; an answer with a mistake earns at most
        :data:`MISTAKE_CAP` (see :data:`RULES`)."""
        total = sum(p.weight for p in self.parts)
        mean = sum(p.score * p.weight for p in self.parts) / total if total else 0.0
        if any(p.mistake and not p.ok for p in self.parts):
            return min(mean, MISTAKE_CAP)
        return mean

    @property
    def mistakes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p.mistake for p in self.parts if p.mistake))

    @property
    def correct(self) -> bool:
        return bool(self.parts) and all(p.ok for p in self.parts)


@dataclass(frozen=True)
class HiddenCheck:
    """A check run only at grading; its name and result are never shown to students."""

    name: str
    check: Callable[[Any, Variant, World | None], bool | Part]


@dataclass(frozen=True)
class HiddenResult:
    """What one hidden check gave (shown to instructors only)."""

    name: str
    passed: bool
    message: str = ""


@dataclass(frozen=True)
class Hint:
    """A hint shown once the student has used ``after_tries`` tries."""

    after_tries: int
    text: str


@dataclass(frozen=True)
class Example:
    """A typical wrong answer and the mistake code it must get (``labkit lint`` reaches each).

    For tasks, ``act`` changes a fresh world (after the lab's setup) into the wrong state.
    """

    raw: Any
    mistake: str
    act: Callable[[World, Variant], None] | None = None

    def raw_for(self, variant: Variant) -> Any:
        """The raw answer for ``variant`` (``raw`` may be a function of the variant)."""
        return self.raw(variant) if callable(self.raw) else self.raw


@dataclass(frozen=True)
class Feedback:
    """What a student sees after pressing Check.

    ``status``: correct, partial, wrong, format-error, recorded (format-only exercises), or
    no-tries-left. ``counted`` says whether this attempt used a try.
    """

    status: Status
    message: str
    score: float | None = None
    mistakes: tuple[str, ...] = ()
    parts: tuple[Part, ...] = ()
    hints: tuple[str, ...] = ()
    tries_used: int = 0
    tries_left: int | None = None
    counted: bool = False
    hidden_checks: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "message": self.message,
            "score": self.score,
            "mistakes": list(self.mistakes),
            "parts": [vars(p).copy() for p in self.parts],
            "hints": list(self.hints),
            "tries_used": self.tries_used,
            "tries_left": self.tries_left,
            "counted": self.counted,
            "hidden_checks": self.hidden_checks,
        }


# -- what an exercise is made of ----------------------------------------------------------------

Generator = Callable[[random.Random, Mapping[str, Any]], tuple[Mapping[str, Any], Any]]
Parser = Callable[[Any, Variant], Any]
Checker = Callable[[Any, Variant, "World | None"], Sequence[Part]]
# A task's solver brings a fresh world into the state the task asks for (``labkit lint`` checks
# the key with it; tests and the notebooks' solutions use it).
Solver = Callable[["World", Variant], None]
