"""``labkit key LAB --student ID``: one student's variant and its correct answers.

For a task the key is what solves it: the exercise's own ``solve`` is run on a fresh
world for the student, and the docker command lines and Hub actions it records are listed.

A graded lab (``Lab(withheld=True)``, the assessment) ships without its key: its module yields
the parameters a student is shown and format checks only. The instructor's checks folder
(``--checks DIR``) gives the key as ``KEYS = {"<lab>": {"<exercise>": entry}}``, and
:func:`apply_keys` makes the keyed lab from it. An entry holds ``answer(params)`` (the right
answer from the variant's parameters, world ones included), optionally ``params(params)`` (more
parameters the checks read but a student never sees, e.g. ``choice_mistakes``), and any
:class:`~labkit.exercises.Exercise` field to set (``checker``, ``parser``, ``hidden``,
``mistakes``, ``examples``, ``mistake_text``, ``solve``, ``key_answer``). The keyed lab keeps the
shipped lab's fingerprint: records made in a student's kernel grade with it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
from collections.abc import Mapping
from typing import Any

from labkit.errors import LabkitError
from labkit.exercises import Exercise, Kind
from labkit.labs import Lab, get_lab

__all__ = ["answer_key", "apply_key", "apply_keys", "format_key"]

_SETTABLE = frozenset(
    {
        "checker",
        "parser",
        "hidden",
        "mistakes",
        "examples",
        "mistake_text",
        "solve",
        "key_answer",
    }
)


def apply_keys(labs: Mapping[str, Lab], keys: Mapping[str, Mapping[str, Any]]) -> dict[str, Lab]:
    """``labs`` with each lab that ``keys`` names keyed (:func:`apply_key`); LabkitError when a
    key names a lab that is not there."""
    unknown = sorted(set(keys) - set(labs))
    if unknown:
        raise LabkitError(f"--checks: KEYS names labs that are not installed: {', '.join(unknown)}")
    return {
        lab_id: apply_key(lab, keys[lab_id]) if lab_id in keys else lab
        for lab_id, lab in labs.items()
    }


def apply_key(lab: Lab, key: Mapping[str, Mapping[str, Any]]) -> Lab:
    """The keyed copy of the graded ``lab`` (see the module's docstring for ``key``)."""
    known = {e.id for e in lab.exercises}
    unknown = sorted(set(key) - known)
    if unknown:
        raise LabkitError(f"--checks: KEYS[{lab.id!r}] names no exercise of the lab: {unknown}")
    exercises = tuple(
        _keyed_exercise(lab.id, exercise, key[exercise.id]) if exercise.id in key else exercise
        for exercise in lab.exercises
    )
    return dataclasses.replace(lab, exercises=exercises, withheld=False, shipped=lab)


def _keyed_exercise(lab_id: str, exercise: Exercise, entry: Mapping[str, Any]) -> Exercise:
    where = f"--checks: KEYS[{lab_id!r}][{exercise.id!r}]"
    extra = sorted(set(entry) - _SETTABLE - {"answer", "params"})
    if extra:
        raise LabkitError(f"{where}: unknown entries {extra}")
    answer_of = entry.get("answer")
    params_of = entry.get("params")
    shipped = exercise.generator

    def generator(rng: random.Random, world: Mapping[str, Any]) -> tuple[Any, Any]:
        params, answer = shipped(rng, world)
        merged = {**world, **dict(params)}
        if answer_of is not None:
            answer = answer_of(merged)
        hidden = dict(params_of(merged)) if params_of is not None else {}
        choices = merged.get("choices")
        if choices is not None:
            named = ([answer] if isinstance(answer, str) else []) + list(
                hidden.get("choice_mistakes", {})
            )
            stray = [text for text in named if text not in choices]
            if stray:
                raise LabkitError(f"{where}: the key names choices the lab does not show: {stray}")
        return {**dict(params), **hidden}, answer

    fields = {name: entry[name] for name in _SETTABLE if name in entry}
    return dataclasses.replace(exercise, generator=generator, **fields)


def _task_steps(lab: Lab, exercise: Exercise, student: str) -> list[str]:
    solve = exercise.solve
    if solve is None:
        return ["(this task has no scripted solution: see the lab's prompt)"]
    world = lab.new_world(student)
    before = len(world.events)
    solve(world, lab.variant(exercise, student))
    steps = []
    for event in world.events[before:]:
        if event.kind == "docker":
            line = event.action
            if event.args.get("stdin"):
                line += "   (password on standard input)"
            steps.append(line)
        else:
            args = {k: v for k, v in event.args.items() if k != "registry"}
            call = ", ".join(f"{k}={v!r}" for k, v in args.items())
            steps.append(f"lab.hub.{event.action}({call})   (as {event.actor})")
    return steps


def answer_key(
    lab_id: str,
    student: str,
    labs_dir: str | os.PathLike[str] | None = None,
    keys: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The key as JSON-able data: lab, student, fingerprint, world params, and per exercise
    its prompt, parameters, points, correct answer (as a student would enter it) and, for tasks,
    the steps that solve it. A graded lab's key comes from ``keys`` (the checks folder's
    ``KEYS``, :func:`labkit.grading.grade.load_keys`). LabkitError when the lab is unknown, or
    graded and its key is not given."""
    lab = get_lab(lab_id, labs_dir)
    if keys and lab.id in keys:
        lab = apply_key(lab, keys[lab.id])
    if lab.withheld:
        error = LabkitError(f"{lab.id} is a graded lab: labkit does not ship its key")
        error.hint = "The instructor's checks folder has it: labkit key LAB --checks DIR"
        raise error
    exercises = []
    for exercise in lab.exercises:
        variant = lab.variant(exercise, student)
        item: dict[str, Any] = {
            "id": exercise.id,
            "title": exercise.title,
            "kind": str(exercise.kind),
            "points": exercise.points,
            "prompt": exercise.render_prompt(variant),
            "params": variant.to_json()["params"],
            "answer": exercise.key_raw(variant),
            "hidden_checks": [h.name for h in exercise.hidden],
        }
        if exercise.kind is Kind.TASK:
            item["steps"] = _task_steps(lab, exercise, student)
        exercises.append(item)
    return {
        "lab": lab.id,
        "title": lab.title,
        "student": student,
        "fingerprint": lab.fingerprint(student),
        "world": lab.params_for(student),
        "exercises": exercises,
    }


def format_key(key: dict[str, Any]) -> str:
    """The key as text for a terminal."""
    lines = [
        f"Answer key: {key['lab']} ({key['title']})",
        f"student: {key['student']}   variant fingerprint: {key['fingerprint']}",
        "",
        "World:",
    ]
    lines += [f"  {name}: {value}" for name, value in key["world"].items()]
    for number, item in enumerate(key["exercises"], 1):
        lines += [
            "",
            f"{number}. {item['id']}: {item['title']} ({item['kind']}, {item['points']:g} "
            f"point{'' if item['points'] == 1 else 's'})",
        ]
        lines += [f"   {line}" for line in item["prompt"].splitlines()]
        if item["kind"] == str(Kind.TASK):
            lines.append("   Solution:")
            lines += [f"     {step}" for step in item.get("steps", [])]
        else:
            answer = item["answer"]
            text = answer if isinstance(answer, str) else json.dumps(answer, ensure_ascii=False)
            lines += ["   Answer:"] + [f"     {line}" for line in str(text).splitlines()]
        if item["hidden_checks"]:
            lines.append("   Hidden checks: " + "; ".join(item["hidden_checks"]))
    return "\n".join(lines) + "\n"
