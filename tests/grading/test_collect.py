"""Layouts -> submissions, and reading records and notebooks as plain JSON."""

from __future__ import annotations

import json
import os

import pytest

from grading.fixtures import LAB_ID, notebook, record_for, write_submission
from labkit.errors import LabkitError
from labkit.grading.collect import (
    collect,
    lab_of_notebook,
    load_json_file,
    read_notebook,
    read_record_file,
    read_roster,
)


def test_folder_per_student_with_and_without_answers_folder(tmp_path):
    write_submission(tmp_path / "ann", record=record_for("ann"), in_folder=True)
    write_submission(tmp_path / "bob", record=record_for("bob"))
    found = collect(tmp_path)
    assert [s.student for s in found] == ["ann", "bob"]
    ann, bob = found
    assert [p.name for p in ann.record_files] == [f"{LAB_ID}.json"]
    assert [p.name for p in ann.notebooks] == [f"{LAB_ID}.ipynb"]
    assert bob.record_files == () and len(bob.notebooks) == 1
    assert ann.folder == tmp_path / "ann"


def test_nbgrader_layout(tmp_path):
    course = tmp_path / "course"
    write_submission(
        course / "submitted" / "ann" / "lab1", record=record_for("ann"), in_folder=True
    )
    write_submission(course / "submitted" / "bob" / "lab1", record=record_for("bob"))
    found = collect(course)
    assert [(s.student, s.layout) for s in found] == [("ann", "nbgrader"), ("bob", "nbgrader")]
    assert found[0].record_files[0].parent.name == "labkit-answers"


def test_flat_folder_of_student_notebooks(tmp_path):
    for student in ("zoe", "amy"):
        path = tmp_path / f"{student}.ipynb"
        path.write_text(json.dumps(notebook(record_for(student))), encoding="utf-8")
    (tmp_path / "stray.json").write_text("{}", encoding="utf-8")
    found = collect(tmp_path)
    assert [(s.student, s.layout, s.folder) for s in found] == [
        ("amy", "flat", None),
        ("zoe", "flat", None),
    ]


def test_lms_downloads_carry_the_id_in_the_file_name(tmp_path):
    (tmp_path / "smith_1234_5678_demo.ipynb").write_text(json.dumps(notebook(None)))
    (tmp_path / "smith_1234_5679_demo.json").write_text(json.dumps(record_for("smith").to_json()))
    (tmp_path / "jones_99_1_demo.ipynb").write_text(json.dumps(notebook(record_for("jones"))))
    (tmp_path / "README.txt").write_text("not a submission")
    found = collect(tmp_path, id_pattern=r"^(?P<student>[a-z]+)_\d+")
    assert [(s.student, len(s.notebooks), len(s.record_files)) for s in found] == [
        ("jones", 1, 0),
        ("smith", 1, 1),
    ]


def test_id_pattern_needs_a_student_group(tmp_path):
    with pytest.raises(LabkitError, match="named group"):
        collect(tmp_path, id_pattern=r"^(\w+)_")
    with pytest.raises(LabkitError, match="regular expression"):
        collect(tmp_path, id_pattern=r"(")


def test_roster_adds_absent_students_and_notes_unknown_ones(tmp_path):
    write_submission(tmp_path / "subs" / "ann", record=record_for("ann"))
    write_submission(tmp_path / "subs" / "eve", record=record_for("eve"))
    roster = tmp_path / "roster.csv"
    roster.write_text("Name,SIS User ID,Email\nAnn,ann,a@x\nCarl,carl,c@x\n", encoding="utf-8")
    ids = read_roster(roster)
    assert ids == ["ann", "carl"]
    found = {s.student: s for s in collect(tmp_path / "subs", roster=ids)}
    assert sorted(found) == ["ann", "carl", "eve"]
    assert found["carl"].notebooks == () and found["carl"].layout == "roster"
    assert found["eve"].notes == ("'eve' is not on the roster",)


def test_roster_without_a_known_header_uses_the_first_column(tmp_path):
    roster = tmp_path / "r.csv"
    roster.write_text("ann,Ann\nbob,Bob\nann,dup\n", encoding="utf-8")
    assert read_roster(roster) == ["ann", "bob"]


def test_only_one_student(tmp_path):
    write_submission(tmp_path / "ann", record=record_for("ann"))
    write_submission(tmp_path / "bob", record=record_for("bob"))
    assert [s.student for s in collect(tmp_path, only="bob")] == ["bob"]
    assert [(s.student, s.notebooks) for s in collect(tmp_path, only="nobody")] == [("nobody", ())]


def test_not_a_folder(tmp_path):
    with pytest.raises(LabkitError, match="not a folder"):
        collect(tmp_path / "nope")


def test_a_symlink_out_of_the_folder_is_not_read(tmp_path):
    other = tmp_path / "other.json"
    other.write_text(json.dumps(record_for("ann").to_json()))
    folder = tmp_path / "bob"
    folder.mkdir()
    os.symlink(other, folder / "demo.json")
    value, problem = load_json_file(folder / "demo.json", folder)
    assert value is None and "outside the submission's folder" in problem
    assert read_record_file(folder / "demo.json", tmp_path).record is not None


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"a": 1', "not valid JSON"),
        (b'{"a": "\xff"}', "not UTF-8 text (byte 0xff at offset 7)"),
        (b"[" * 100_000 + b"]" * 100_000, "nests lists or objects too deeply"),
    ],
)
def test_unreadable_json_says_why(tmp_path, content, expected):
    path = tmp_path / "x.json"
    path.write_bytes(content)
    value, problem = load_json_file(path)
    assert value is None
    assert expected in problem


def test_weird_json_values_are_kept_as_data(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"n": ' + "9" * 5000 + ', "nan": NaN, "inf": -Infinity, "ok": 12}')
    value, problem = load_json_file(path)
    assert problem == ""
    assert value == {
        "n": "<an integer with 5000 digits>",
        "nan": "<NaN>",
        "inf": "<-Infinity>",
        "ok": 12,
    }


def test_read_notebook_finds_lab_kernel_and_records(tmp_path):
    record = record_for("ann")
    path = write_submission(tmp_path, record=record)
    info = read_notebook(path)
    assert (info.problem, info.lab, info.kernel, info.nbformat) == ("", LAB_ID, "python3", 4)
    assert [r.record for r in info.records] == [record]
    assert info.records[0].source.startswith(f"{LAB_ID}.ipynb, code cell")


def test_record_stored_as_text_output_and_a_broken_one(tmp_path):
    nb = notebook(None)
    nb["cells"][-1]["outputs"] = [
        {
            "output_type": "display_data",
            "metadata": {},
            "data": {"application/vnd.labkit.record+json": json.dumps(record_for("ann").to_json())},
        },
        {
            "output_type": "display_data",
            "metadata": {},
            "data": {"application/vnd.labkit.record+json": {"lab": "demo"}},
        },
    ]
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps(nb))
    info = read_notebook(path)
    assert info.records[0].record is not None and info.records[0].record.student == "ann"
    assert info.records[1].record is None and "not a labkit record" in info.records[1].problem


def test_nbformat_3_and_non_notebooks(tmp_path):
    v3 = tmp_path / "v3.ipynb"
    v3.write_text(
        json.dumps(
            {
                "nbformat": 3,
                "worksheets": [
                    {
                        "cells": [
                            {"cell_type": "code", "input": ["lab = labkit.start('02-image-names')"]}
                        ]
                    }
                ],
            }
        )
    )
    info = read_notebook(v3)
    assert "nbformat 3 notebook" in info.problem and info.lab == "02-image-names"
    empty = tmp_path / "e.ipynb"
    empty.write_text("[]")
    assert "not a notebook" in read_notebook(empty).problem


def test_lab_of_notebook():
    assert lab_of_notebook(["x = 1", 'lab = labkit.start( "03-tags" )']) == "03-tags"
    assert lab_of_notebook(["labkit.start(lab='demo')"]) == "demo"
    assert lab_of_notebook(["start('demo')"]) is None


def test_record_files_downloaded_from_the_browser_are_handed_in_like_notebooks(tmp_path):
    """``<lab>.labkit.json`` (the submission cell's download link): in a student's folder it
    is that student's record; in a flat folder it names its student inside."""
    import json as _json

    from labkit.grading import collect as _collect
    from labkit.records import Record

    record = Record("04-pushing", "s42", "f").with_answer("why-registry", "b")
    (tmp_path / "s7").mkdir()
    (tmp_path / "s7" / "04-pushing.labkit.json").write_text(_json.dumps(record.to_json()))
    (tmp_path / "04-pushing.labkit.json").write_text(_json.dumps(record.to_json()))
    (tmp_path / "stray.json").write_text("{}")
    found = {s.student: s for s in _collect(tmp_path)}
    assert set(found) == {"s7", "s42"}
    assert [p.name for p in found["s7"].record_files] == ["04-pushing.labkit.json"]
    assert [p.name for p in found["s42"].record_files] == ["04-pushing.labkit.json"]
