"""Exercises: one definition each, per-student variants, checks that name the mistake.

An :class:`Exercise` is data plus pure functions (PrairieLearn's generate / parse / grade shape):

- ``generate(seed)`` gives a :class:`Variant`: the parameters *and* the correct answer together;
  the seed is :func:`variant_seed` ("lab/exercise/student" through sha256, never ``hash()``).
- ``parse(raw, variant)`` turns what the student typed (or passed with ``lab.answer``) into the
  value the checks compare; a malformed answer raises :class:`FormatError`, which is explained
  and costs no try.
- ``check(answer, variant, world)`` returns :class:`Part` results, each with a score in [0, 1],
  a weight and, when wrong, a stable mistake code found by comparing the answer with the key
  part by part. Hidden checks run only at grading and are never shown to students.

:func:`check_answer` is what a widget calls (public checks only, tries and hints applied);
:func:`grade_record` is what the grader and the labs' tests call (every check, on a replayed
world, for the variant re-generated from the student id).
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from labkit.errors import InvalidReference, LabkitError
from labkit.reference import Reference, parse_reference

if TYPE_CHECKING:
    from labkit.labs import Lab
    from labkit.records import Record
    from labkit.world import World

__all__ = [
    "MISTAKES",
    "CheckResult",
    "Example",
    "Exercise",
    "ExerciseResult",
    "Feedback",
    "FormatError",
    "HiddenCheck",
    "Hint",
    "Kind",
    "LabResult",
    "Part",
    "ReferenceAnswer",
    "Variant",
    "can_pull",
    "canonical_json",
    "check_answer",
    "check_pushed",
    "choice_examples",
    "choice_params",
    "choice_with",
    "client_logins",
    "client_tags",
    "compare_lines",
    "compare_reference_parts",
    "compare_references",
    "grade_record",
    "lint_lab",
    "parse_reference_answer",
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
        total = sum(p.weight for p in self.parts)
        return sum(p.score * p.weight for p in self.parts) / total if total else 0.0

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

    status: str
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


# -- the exercise ---------------------------------------------------------------------------------

Generator = Callable[[random.Random, Mapping[str, Any]], tuple[Mapping[str, Any], Any]]
Parser = Callable[[Any, Variant], Any]
Checker = Callable[[Any, Variant, "World | None"], Sequence[Part]]


@dataclass(frozen=True)
class Exercise:
    """One exercise, defined once; used by the widgets, the notebook tests and the grader.

    ``generator(rng, world_params)`` returns ``(params, answer)``; ``prompt`` is Markdown with
    ``{param}`` fields. ``parser`` and ``checker`` default to the kind's (see :data:`KIND_RULES`).
    ``max_tries`` None means unlimited; ``feedback`` is ``"immediate"`` or ``"format-only"``.
    ``mistakes`` lists the codes the check can report; ``examples`` reach each of them;
    ``mistake_text`` words the lab's own codes (the shared ones are in :data:`MISTAKES`): a
    wrong part without a message of its own gets that wording.
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

    def __post_init__(self) -> None:
        if self.feedback not in ("immediate", "format-only"):
            raise ValueError(f"exercise {self.id}: feedback must be 'immediate' or 'format-only'")
        object.__setattr__(self, "kind", Kind(self.kind))

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
        of parts; ``options['key_raw'](variant)`` overrides)."""
        custom = self.options.get("key_raw")
        if custom is not None:
            return custom(variant)
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
            status="no-tries-left",
            message=f"No tries left: you have used all {limit}. Your last answer is kept.",
            hints=exercise.hints_unlocked(tries_used),
            tries_used=tries_used,
            tries_left=0,
        )
    try:
        answer = exercise.parse(raw, variant)
    except FormatError as error:
        message = f"Format error (this did not use a try): {error.message}"
        if error.hint:
            message += f"\n\n{error.hint}"
        return Feedback(
            status="format-error",
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
            status="recorded",
            message="Your answer is well-formed and recorded. It is checked at grading.",
            hints=hints,
            tries_used=used,
            tries_left=left,
            counted=True,
        )
    result = exercise.check(answer, variant, world)
    status = "correct" if result.correct else ("partial" if result.score > 0 else "wrong")
    return Feedback(
        status=status,
        message=_public_message(exercise, result),
        score=result.score,
        mistakes=result.mistakes,
        parts=result.parts,
        hints=hints,
        tries_used=used,
        tries_left=left,
        counted=True,
        hidden_checks=len(exercise.hidden),
    )


def _public_message(exercise: Exercise, result: CheckResult) -> str:
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


# -- references: parsing answers and comparing them part by part ---------------------------------

_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


@dataclass(frozen=True)
class ReferenceAnswer:
    """An image name as the student typed it, and how Docker reads it.

    ``reference`` is None when Docker rejects the name for a reason worth a mistake code
    (a URL scheme, uppercase letters); ``error`` and ``hint`` then say why.
    """

    text: str
    reference: Reference | None
    mistake: str | None = None
    error: str | None = None
    hint: str | None = None


def parse_reference_answer(raw: Any, variant: Variant | None = None) -> ReferenceAnswer:
    """Parse a typed image name. Teachable errors (URL scheme, uppercase) are answers that
    get their mistake code; any other invalid name is a FormatError with Docker's text."""
    if not isinstance(raw, str) or not raw.strip():
        raise FormatError("type an image name, such as `alpine:3.21`")
    text = raw.strip()
    try:
        return ReferenceAnswer(text, parse_reference(text))
    except InvalidReference as error:
        mistake = None
        if _SCHEME_RE.match(text):
            mistake = "url-scheme"
        elif "must be lowercase" in error.message:
            mistake = "uppercase-repo"
        if mistake is None:
            raise FormatError(f"Docker says: {error.message}", error.hint) from None
        return ReferenceAnswer(text, None, mistake, error.message, error.hint)


def _typed_parts(text: str) -> tuple[str | None, str]:
    """(domain as typed or None, the rest) following Docker's splitDockerDomain rule."""
    first, slash, rest = text.partition("/")
    if slash and (first == "localhost" or "." in first or ":" in first):
        return first, rest
    return None, text


def compare_references(
    answer: ReferenceAnswer | str, key: Reference | str, *, fully_qualified: bool = False
) -> list[Part]:
    """Compare a typed image name with the key: registry, namespace, name and tag parts.

    With ``fully_qualified`` the name must be written out in full (``docker.io/library/...:tag``):
    Docker's defaults do not count as typed. Mistakes: url-scheme, uppercase-repo,
    missing-registry, missing-library, wrong-registry, wrong-namespace, wrong-name, missing-tag,
    latest-is-newest, wrong-tag, wrong-digest.
    """
    if isinstance(answer, str):
        answer = parse_reference_answer(answer)
    key_ref = parse_reference(key) if isinstance(key, str) else key
    weight = 1.0
    names = ("registry", "namespace", "name", "tag")
    if answer.reference is None:
        message = MISTAKES[answer.mistake or "wrong-name"]
        if answer.hint:
            message = f"{message}. Docker says: {answer.error} ({answer.hint})"
        return [Part(n, 0.0, weight, answer.mistake, message) for n in names]
    ref = answer.reference
    typed_domain, typed_rest = _typed_parts(answer.text)
    parts: list[Part] = []
    # registry
    if ref.domain != key_ref.domain:
        parts.append(
            Part(
                "registry",
                0.0,
                weight,
                "wrong-registry",
                f"the registry is `{ref.domain}`; this image is on `{key_ref.domain}`",
            )
        )
    elif fully_qualified and typed_domain is None:
        parts.append(
            Part(
                "registry",
                0.0,
                weight,
                "missing-registry",
                f"write the registry too: `{key_ref.domain}/` comes first in a fully "
                "qualified name",
            )
        )
    else:
        parts.append(Part("registry", 1.0, weight))
    # namespace
    typed_path = typed_rest.partition("@")[0]
    if ":" in typed_path.rsplit("/", 1)[-1]:
        typed_path = typed_path.rsplit(":", 1)[0]
    if ref.namespace != key_ref.namespace:
        parts.append(
            Part(
                "namespace",
                0.0,
                weight,
                "wrong-namespace",
                f"the namespace is `{ref.namespace or '(none)'}`; it should be "
                f"`{key_ref.namespace or '(none)'}`",
            )
        )
    elif fully_qualified and key_ref.is_official and "/" not in typed_path:
        parts.append(
            Part(
                "namespace",
                0.0,
                weight,
                "missing-library",
                "official images live in `library/`: the full name is "
                f"`{key_ref.domain}/{key_ref.path}`",
            )
        )
    else:
        parts.append(Part("namespace", 1.0, weight))
    # name
    if ref.name != key_ref.name:
        parts.append(
            Part(
                "name",
                0.0,
                weight,
                "wrong-name",
                f"the repository name is `{ref.name}`; it should be `{key_ref.name}`",
            )
        )
    else:
        parts.append(Part("name", 1.0, weight))
    # tag (and digest)
    parts.append(_compare_tag(ref.tag, key_ref.tag, fully_qualified, ref.digest, weight))
    if key_ref.digest is not None and ref.digest != key_ref.digest:
        parts.append(Part("digest", 0.0, weight, "wrong-digest", MISTAKES["wrong-digest"]))
    return parts


def _compare_tag(
    tag: str | None, key_tag: str | None, explicit: bool, digest: str | None, weight: float
) -> Part:
    effective_key = key_tag or "latest"
    if tag is None and digest is not None and key_tag is None:
        return Part("tag", 1.0, weight)
    if tag is None:
        if effective_key == "latest" and not explicit:
            return Part("tag", 1.0, weight)
        if effective_key == "latest":
            return Part(
                "tag", 0.0, weight, "missing-tag", "write the tag too: Docker's default is `latest`"
            )
        return Part(
            "tag",
            0.0,
            weight,
            "missing-tag",
            f"without a tag Docker uses `latest`, not `{effective_key}`",
        )
    if tag == effective_key:
        return Part("tag", 1.0, weight)
    if tag == "latest":
        return Part(
            "tag",
            0.0,
            weight,
            "latest-is-newest",
            f"`latest` is just a tag's name, not a promise of the newest version: the tag "
            f"asked for is `{effective_key}`",
        )
    message = f"the tag is `{tag}`; it should be `{effective_key}`"
    return Part("tag", 0.0, weight, "wrong-tag", message)


# Registry names Docker reads as Docker Hub (distribution/reference normalize.go:
# defaultDomain "docker.io" and legacyDefaultDomain "index.docker.io").
DOCKER_HUB_NAMES = frozenset({"docker.io", "index.docker.io"})


def compare_reference_parts(answer: Mapping[str, str | None], key: Reference | str) -> list[Part]:
    """Compare named parts (registry, namespace, name, tag) with the key's, one Part each.

    Empty parts mean "none typed"; ``docker.io`` and ``index.docker.io`` both name Docker Hub
    (Docker normalizes the legacy name); ``registry-1.docker.io`` is its endpoint, not its name.
    """
    key_ref = parse_reference(key) if isinstance(key, str) else key
    key_tag = key_ref.tag or "latest"
    registry = (answer.get("registry") or "").strip()
    namespace = (answer.get("namespace") or "").strip()
    name = (answer.get("name") or "").strip()
    tag = (answer.get("tag") or "").strip()
    parts = []
    key_registry = key_ref.domain
    if registry == key_registry or (key_registry == "docker.io" and registry in DOCKER_HUB_NAMES):
        parts.append(Part("registry", 1.0))
    elif not registry:
        parts.append(
            Part(
                "registry",
                0.0,
                1.0,
                "missing-registry",
                f"every image has a registry: when none is typed, Docker uses `{key_registry}`",
            )
        )
    else:
        note = ""
        if key_registry == "docker.io" and "docker" in registry:
            note = " (`docker.io` is Docker Hub's name in image references)"
        parts.append(
            Part(
                "registry",
                0.0,
                1.0,
                "wrong-registry",
                f"the registry is `{key_registry}`, not `{registry}`{note}",
            )
        )
    key_namespace = key_ref.namespace or ""
    if namespace == key_namespace:
        parts.append(Part("namespace", 1.0))
    elif not namespace and key_ref.is_official:
        parts.append(
            Part(
                "namespace",
                0.0,
                1.0,
                "missing-library",
                "official images on Docker Hub are in the `library` namespace",
            )
        )
    else:
        parts.append(
            Part(
                "namespace",
                0.0,
                1.0,
                "wrong-namespace",
                f"the namespace is `{key_namespace or '(none)'}`, not `{namespace or '(none)'}`",
            )
        )
    if name == key_ref.name:
        parts.append(Part("name", 1.0))
    elif name.lower() == key_ref.name:
        parts.append(Part("name", 0.0, 1.0, "uppercase-repo", MISTAKES["uppercase-repo"]))
    else:
        parts.append(
            Part("name", 0.0, 1.0, "wrong-name", f"the name is `{key_ref.name}`, not `{name}`")
        )
    if tag == key_tag:
        parts.append(Part("tag", 1.0))
    elif not tag:
        parts.append(
            Part(
                "tag",
                0.0,
                1.0,
                "missing-tag",
                f"an image always has a tag here: the name shows `{key_tag}`"
                + (" (Docker's default when none is typed)" if key_tag == "latest" else ""),
            )
        )
    elif tag == "latest":
        parts.append(Part("tag", 0.0, 1.0, "latest-is-newest", MISTAKES["latest-is-newest"]))
    else:
        parts.append(Part("tag", 0.0, 1.0, "wrong-tag", f"the tag is `{key_tag}`, not `{tag}`"))
    return parts


# -- lines (predict the output) ---------------------------------------------------------------


def normalize_lines(text: str) -> list[str]:
    """Lines with runs of whitespace collapsed, ends stripped, blank lines at the ends dropped."""
    lines = [" ".join(line.split()) for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def compare_lines(answer: str, key: str) -> list[Part]:
    """One Part per expected line (whitespace normalized), plus one for extra lines."""
    got, want = normalize_lines(answer), normalize_lines(key)
    parts = []
    for i, line in enumerate(want):
        if i >= len(got):
            parts.append(
                Part(f"line {i + 1}", 0.0, 1.0, "missing-lines", f"line {i + 1} is missing")
            )
        elif got[i] == line:
            parts.append(Part(f"line {i + 1}", 1.0))
        else:
            parts.append(
                Part(f"line {i + 1}", 0.0, 1.0, "wrong-line", f"line {i + 1} differs: `{got[i]}`")
            )
    if len(got) > len(want):
        extra = len(got) - len(want)
        parts.append(
            Part("extra lines", 0.0, 1.0, "extra-lines", f"{extra} line(s) more than printed")
        )
    return parts


# -- default parse and check per kind ------------------------------------------------------------


def _parse_text(raw: Any, variant: Variant) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise FormatError("type an answer first")
    return raw.strip()


def _check_text(answer: str, variant: Variant, world: World | None) -> list[Part]:
    if answer == variant.answer:
        return [Part("answer", 1.0)]
    return [Part("answer", 0.0, 1.0, "wrong-value", MISTAKES["wrong-value"])]


def _choices(variant: Variant) -> list[str]:
    return list(variant.params.get("choices", ()))


def _parse_choice(raw: Any, variant: Variant) -> str:
    choices = _choices(variant)
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw < len(choices):
        return choices[raw]
    if not isinstance(raw, str) or raw not in choices:
        raise FormatError("pick one of the choices")
    return raw


def _check_choice(answer: str, variant: Variant, world: World | None) -> list[Part]:
    """Right, or the wrong choice's own mistake code (``choice_mistakes``) and, when the
    variant carries one, its own explanation (``choice_feedback``)."""
    if answer == variant.answer:
        return [Part("choice", 1.0)]
    mistake = dict(variant.params.get("choice_mistakes", {})).get(answer, "wrong-choice")
    message = dict(variant.params.get("choice_feedback", {})).get(answer, "")
    return [Part("choice", 0.0, 1.0, mistake, message)]


def choice_params(rng: random.Random, correct: str, wrong: Mapping[str, str]) -> dict[str, Any]:
    """Params of a multiple choice: the choices shuffled by ``rng``, and each wrong choice's
    mistake code (``wrong`` maps choice text -> code)."""
    choices = [correct, *wrong]
    rng.shuffle(choices)
    return {"choices": choices, "choice_mistakes": dict(wrong)}


def choice_with(variant: Variant, code: str) -> str:
    """The wrong choice of ``variant`` that carries mistake ``code`` (for examples)."""
    return next(c for c, m in variant.params["choice_mistakes"].items() if m == code)


def choice_examples(codes: Sequence[str]) -> tuple[Example, ...]:
    """One example a mistake code, each picking the wrong choice that carries it."""
    return tuple(Example(lambda v, c=code: choice_with(v, c), code) for code in codes)


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
    if _choices(variant):
        return _parse_choice(raw, variant)
    if not isinstance(raw, str) or not raw.strip():
        raise FormatError("type the lines the command prints")
    return raw


def _check_output(answer: str, variant: Variant, world: World | None) -> list[Part]:
    if _choices(variant):
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


# -- tasks: checking the world's state ------------------------------------------------------------


def client_logins(world: World) -> dict[str, dict[str, str]]:
    """Who each client of ``world`` is logged in as: ``{client: {registry host: user}}``.

    Reads ``client.credentials`` defensively (the client's internals may change).
    """
    logins: dict[str, dict[str, str]] = {}
    for name, client in getattr(world, "clients", {}).items():
        entries: dict[str, str] = {}
        for key, credential in dict(getattr(client, "credentials", {}) or {}).items():
            user = getattr(credential, "username", None)
            host = str(key)
            if "docker.io" in host:  # Docker keeps Hub's login under its legacy index URL
                host = "docker.io"
            host = host.removeprefix("https://").removeprefix("http://").rstrip("/")
            if user:
                entries[host] = str(user)
        logins[name] = entries
    return logins


def client_tags(world: World) -> dict[str, set[str]]:
    """The local tags (``docker.io/library/alpine:3.21`` form) each client holds."""
    return {
        name: set(getattr(client, "tags", {}) or {})
        for name, client in getattr(world, "clients", {}).items()
    }


def can_pull(world: World, user: str | None, ref: Reference) -> bool:
    """Whether ``user`` (None: anonymous) may pull ``ref``'s repository, by the registry's rules."""
    from labkit.accounts import Action, Principal

    registry = world.find_registry(ref.domain)
    if registry is None or registry.peek(ref.path) is None:
        return False
    principal = Principal(user) if user else Principal()
    return bool(registry.decide(principal, Action.PULL, ref.path))


def check_pushed(
    world: World | None,
    key: Reference | str,
    *,
    digest: str | None = None,
    reader: str | None = "",
) -> list[Part]:
    """Parts for "the image is pushed as ``key``" (and, unless ``reader`` is "", "``reader``
    can pull it"; None means anyone, logged out).

    Mistakes: not-logged-in, not-pushed, wrong-namespace, wrong-tag, wrong-image, repo-private.
    """
    if world is None:
        raise LabkitError("a task is checked on a world")
    key_ref = parse_reference(key) if isinstance(key, str) else key
    key_ref = key_ref.with_default_tag()
    registry = world.find_registry(key_ref.domain)
    repo = registry.repository(key_ref.path) if registry else None
    tag = key_ref.tag or "latest"
    parts: list[Part] = []
    if repo is not None and tag in repo.tags:
        if digest is not None and repo.tags[tag] != digest:
            parts.append(Part("pushed", 0.5, 1.0, "wrong-image", MISTAKES["wrong-image"]))
        else:
            parts.append(Part("pushed", 1.0))
    else:
        parts.append(_why_not_pushed(world, key_ref, repo))
    if reader != "":
        if parts[0].score > 0 and not can_pull(world, reader, key_ref):
            who = f"`{reader}`" if reader else "others"
            parts.append(
                Part(
                    "others can pull",
                    0.0,
                    1.0,
                    "repo-private",
                    f"`{key_ref.familiar_name}` is private, so {who} cannot pull it",
                )
            )
        else:
            parts.append(Part("others can pull", 1.0 if parts[0].score > 0 else 0.0))
    return parts


def _why_not_pushed(world: World, key_ref: Reference, repo: Any) -> Part:
    tag = key_ref.tag or "latest"
    if repo is not None and repo.tags:
        tags = ", ".join(f"`{t}`" for t in sorted(repo.tags))
        return Part(
            "pushed",
            0.5,
            1.0,
            "wrong-tag",
            f"`{key_ref.familiar_name}` has the tag(s) {tags} but not `{tag}`",
        )
    registry = world.find_registry(key_ref.domain)
    if registry is not None:
        commands = [e.action for e in world.events if e.kind == "docker"]
        for path in registry.repository_paths():
            if path == key_ref.path or path.rpartition("/")[2] != key_ref.name:
                continue
            if not any(path in line for line in commands):
                continue
            other = registry.repository(path)
            if other is not None and tag in other.tags:
                return Part(
                    "pushed",
                    0.0,
                    1.0,
                    "wrong-namespace",
                    f"you pushed to `{other.path}`; the task asks for `{key_ref.path}`",
                )
    logged_in = any(key_ref.domain in hosts for hosts in client_logins(world).values())
    if not logged_in:
        return Part(
            "pushed",
            0.0,
            1.0,
            "not-logged-in",
            f"nothing is pushed, and no client is logged in to `{key_ref.domain}`: "
            "run `docker login` first",
        )
    return Part(
        "pushed",
        0.0,
        1.0,
        "not-pushed",
        f"`{key_ref.familiar}` is not in the registry yet: tag your image and `docker push` it",
    )


# -- grading a record ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ExerciseResult:
    """One exercise of a graded record. ``feedback`` is the public part; ``hidden`` is not."""

    exercise_id: str
    status: str  # correct, partial, wrong, unanswered, format-error
    score: float  # points earned
    max_points: float
    mistakes: tuple[str, ...] = ()
    feedback: str = ""
    parts: tuple[Part, ...] = ()
    hidden: tuple[HiddenResult, ...] = ()
    tries: int = 0

    def to_json(self, *, include_hidden: bool = False) -> dict[str, Any]:
        data = {
            "exercise": self.exercise_id,
            "status": self.status,
            "score": self.score,
            "max_points": self.max_points,
            "mistakes": list(self.mistakes),
            "feedback": self.feedback,
            "tries": self.tries,
            "hidden_checks": len(self.hidden),
        }
        if include_hidden:
            data["hidden"] = [vars(h).copy() for h in self.hidden]
        return data


@dataclass(frozen=True)
class LabResult:
    """A graded record: per-exercise results and what is off about the record itself.

    ``statuses`` may hold "other-student" (the record names another student),
    "variant-changed" (its fingerprint is not the expected one), "replay-failed",
    "wrong-lab".
    """

    lab_id: str
    student: str
    exercises: tuple[ExerciseResult, ...]
    statuses: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def score(self) -> float:
        return sum(e.score for e in self.exercises)

    @property
    def max_points(self) -> float:
        return sum(e.max_points for e in self.exercises)

    def exercise(self, exercise_id: str) -> ExerciseResult:
        for result in self.exercises:
            if result.exercise_id == exercise_id:
                return result
        raise KeyError(exercise_id)


def grade_record(record: Record | Mapping[str, Any], student: str, lab: Lab) -> LabResult:
    """Grade one record with every check, hidden ones too; pure (no files, no student code).

    The world is the record's event log replayed on a fresh world set up for ``student``;
    each variant is re-generated from ``student`` (never taken from the record).
    """
    from labkit.records import Record

    if not isinstance(record, Record):
        record = Record.from_json(record)
    statuses: list[str] = []
    problems: list[str] = []
    if record.lab != lab.id:
        statuses.append("wrong-lab")
        problems.append(f"the record is for lab {record.lab!r}, not {lab.id!r}")
    if record.student != student:
        statuses.append("other-student")
        problems.append(f"the record names student {record.student!r}, not {student!r}")
    expected = lab.fingerprint(student)
    if record.fingerprint != expected:
        statuses.append("variant-changed")
        problems.append(f"variant fingerprint {record.fingerprint!r}, expected {expected!r}")
    world: World | None
    try:
        world = lab.world_for(student, record.events)
    except Exception as error:
        statuses.append("replay-failed")
        world, skipped = _replay_leniently(lab, student, record.events)
        problems.append(
            f"the event log could not be replayed ({error}); {skipped} event(s) were skipped"
        )
    results = []
    for exercise in lab.exercises:
        variant = lab.variant(exercise, student)
        entry = record.answers.get(exercise.id)
        results.append(_grade_exercise(exercise, variant, entry, world))
    return LabResult(lab.id, student, tuple(results), tuple(statuses), tuple(problems))


def _replay_leniently(lab: Lab, student: str, events: Sequence[Any]) -> tuple[World, int]:
    """The world with every event that can be applied, one at a time; and how many could not."""
    world = lab.world_for(student, ())
    skipped = 0
    for event in events:
        try:
            world.apply([event])
        except Exception:
            skipped += 1
    return world, skipped


def _grade_exercise(exercise: Exercise, variant: Variant, entry: Any, world: World | None):
    tries = entry.tries if entry is not None else 0
    if entry is None and exercise.kind is not Kind.TASK:
        return ExerciseResult(
            exercise.id, "unanswered", 0.0, exercise.points, feedback="not answered", tries=0
        )
    raw = entry.raw if entry is not None else None
    try:
        answer = exercise.parse(raw, variant)
    except FormatError as error:
        return ExerciseResult(
            exercise.id, "format-error", 0.0, exercise.points, feedback=error.message, tries=tries
        )
    try:
        result = exercise.check(answer, variant, world)
    except Exception as error:
        return ExerciseResult(
            exercise.id, "check-error", 0.0, exercise.points, feedback=repr(error), tries=tries
        )
    hidden = tuple(exercise.run_hidden(answer, variant, world))
    score = result.score
    if result.correct and not all(h.passed for h in hidden):
        score = min(score, 1.0 - 0.5 * sum(not h.passed for h in hidden) / len(hidden))
    status = "correct" if score >= 1.0 else ("partial" if score > 0 else "wrong")
    if exercise.kind is Kind.TASK and entry is None and score <= 0:
        status = "unanswered"
    return ExerciseResult(
        exercise.id,
        status,
        round(score * exercise.points, 6),
        exercise.points,
        result.mistakes,
        _public_message(exercise, result),
        result.parts,
        hidden,
        tries,
    )


# -- lint ----------------------------------------------------------------------------------------

LINT_STUDENTS = ("lint-student-1", "lint-student-2", "lint-student-3")


def lint_lab(lab: Lab, students: Sequence[str] = LINT_STUDENTS) -> list[str]:
    """Problems with a lab definition (empty when fine): every exercise generates for a few
    students, parses its own key, scores full marks with it, and reaches each declared mistake
    code through a declared example."""
    problems: list[str] = []
    ids = [e.id for e in lab.exercises]
    for dup in sorted({i for i in ids if ids.count(i) > 1}):
        problems.append(f"exercise id {dup!r} is used twice")
    for exercise in lab.exercises:
        where = f"{lab.id}/{exercise.id}"
        reached: set[str] = set()
        for student in students:
            try:
                variant = lab.variant(exercise, student)
                exercise.render_prompt(variant)
            except Exception as error:
                problems.append(f"{where}: cannot generate for {student!r}: {error!r}")
                continue
            try:
                world = lab.world_for(student, ())
                answer = exercise.parse(exercise.key_raw(variant), variant)
                if exercise.kind is Kind.TASK:
                    _solve_task(exercise, variant, world)
                result = exercise.check(answer, variant, world)
                if not result.correct:
                    problems.append(
                        f"{where}: the key scores {result.score:.2f} for {student!r} "
                        f"({', '.join(result.mistakes)})"
                    )
            except Exception as error:
                problems.append(f"{where}: the key fails for {student!r}: {error!r}")
            for example in exercise.examples:
                try:
                    world = lab.world_for(student, ())
                    if example.act is not None:
                        example.act(world, variant)
                    answer = exercise.parse(example.raw_for(variant), variant)
                    result = exercise.check(answer, variant, world)
                    reached.update(result.mistakes)
                except Exception as error:
                    problems.append(f"{where}: example for {example.mistake!r} fails: {error!r}")
        for code in exercise.mistakes:
            if code not in reached:
                problems.append(f"{where}: mistake {code!r} is not reached by any example")
    return problems


def _solve_task(exercise: Exercise, variant: Variant, world: World) -> None:
    solve = exercise.options.get("solve")
    if solve is None:
        raise LabkitError("a task needs options['solve'](world, variant) so its key can be checked")
    solve(world, variant)
