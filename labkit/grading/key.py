"""``labkit key LAB --student ID``: one student's variant and its correct answers.

For a task the key is what solves it: the exercise's own ``solve`` is run on a fresh
world for the student, and the docker command lines and Hub actions it records are listed.
"""

from __future__ import annotations

import json
import os
from typing import Any

from labkit.exercises import Exercise, Kind
from labkit.labs import Lab, get_lab

__all__ = ["answer_key", "format_key"]


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
    lab_id: str, student: str, labs_dir: str | os.PathLike[str] | None = None
) -> dict[str, Any]:
    """The key as JSON-able data: lab, student, fingerprint, world params, and per exercise
    its prompt, parameters, points, correct answer (as a student would enter it) and, for tasks,
    the steps that solve it. LabkitError when the lab is unknown."""
    lab = get_lab(lab_id, labs_dir)
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
