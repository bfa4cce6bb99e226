"""Make tests/data/upgrade/records.json with labkit as it was before the exercises package.

Run with a checkout of that release (commit 6fedbd9), from anywhere:

    git worktree add /tmp/labkit-0.1 6fedbd9
    .venv/bin/python tests/data/upgrade/make_records.py /tmp/labkit-0.1 6fedbd9 \\
        > tests/data/upgrade/records.json

It uses that release's API (``grade_record`` in ``labkit.exercises``, ``options["solve"]``):
two students a lab, one with every answer right, one with the first typical wrong answer of
every other exercise; each record comes with the grade that release gave it.
"""

import importlib
import json
import sys

STUDENTS = ("upgrade-ada", "upgrade-bo")


def main(checkout: str, commit: str) -> None:
    sys.path.insert(0, checkout)
    labkit = importlib.import_module("labkit")
    assert labkit.__file__.startswith(checkout), labkit.__file__
    exercises = importlib.import_module("labkit.exercises")
    labs = importlib.import_module("labkit.labs")
    records = importlib.import_module("labkit.records")
    out = {"labkit_version": labkit.__version__, "made_at": commit, "labs": {}}
    for lab_id, lab in labs.find_labs().items():
        entries = []
        for student in STUDENTS:
            world = lab.new_world(student)
            record = records.Record(lab.id, student, lab.fingerprint(student), labkit.__version__)
            for index, exercise in enumerate(lab.exercises):
                variant = lab.variant(exercise, student)
                if student == STUDENTS[1] and index % 2 == 1 and exercise.examples:
                    example = exercise.examples[0]
                    if example.act is not None:
                        example.act(world, variant)
                    raw = example.raw_for(variant)
                else:
                    if exercise.kind is exercises.Kind.TASK:
                        exercise.options["solve"](world, variant)
                    raw = exercise.key_raw(variant)
                feedback = exercises.check_answer(exercise, variant, raw, world)
                record = record.with_answer(exercise.id, raw, counted=feedback.counted)
            data = record.with_events(lab.student_events(world, student)).to_json()
            result = exercises.grade_record(data, student, lab)
            grades = {
                e.exercise_id: [e.status, e.score, list(e.mistakes)] for e in result.exercises
            }
            expected = {
                "statuses": list(result.statuses),
                "score": result.score,
                "exercises": grades,
            }
            entries.append({"record": data, "expected": expected})
        out["labs"][lab_id] = entries
    json.dump(out, sys.stdout, indent=1, sort_keys=True, ensure_ascii=False)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
