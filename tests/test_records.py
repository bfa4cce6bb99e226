"""The record store: atomic, locked, merged writes; corrupt files kept aside; notebook bundles."""

from __future__ import annotations

import json
import multiprocessing

import pytest

from labkit.errors import LabkitError
from labkit.records import (
    MIME_TYPE,
    CorruptRecord,
    Record,
    RecordStore,
    RecordWarning,
    merge_records,
    record_bundle,
    records_from_notebook,
)

T1, T2, T3 = "2026-11-27T09:00:00+00:00", "2026-11-27T10:00:00+00:00", "2026-11-27T11:00:00+00:00"


def _record(**changes) -> Record:
    base = Record(lab="demo", student="alice", fingerprint="abc123", labkit_version="0.1.0")
    return base if not changes else Record(**{**base.__dict__, **changes})


def test_round_trip_through_disk(tmp_path):
    store = RecordStore(tmp_path)
    record = _record().with_answer("q1", "docker.io/library/alpine:3.21", when=T1)
    record = record.with_events([{"seq": 1, "time": T1, "kind": "hub"}], when=T1)
    assert store.save(record) == record
    assert store.load("demo") == record
    path = tmp_path / "labkit-answers" / "demo.json"
    data = json.loads(path.read_text())
    assert data["schema"] == 1 and "score" not in json.dumps(data)
    assert sorted(p.name for p in path.parent.iterdir()) == ["demo.json", "demo.json.lock"]


def test_format_errors_do_not_count_as_tries():
    record = _record().with_answer("q1", "bad::", counted=False).with_answer("q1", "good")
    entry = record.answers["q1"]
    assert (entry.raw, entry.tries, entry.format_errors) == ("good", 1, 1)


def test_merge_keeps_the_newest_answer_per_exercise_and_the_larger_try_count():
    disk = _record().with_answer("q1", "old", when=T1).with_answer("q2", "disk", when=T3)
    mine = _record().with_answer("q1", "new", when=T2).with_answer("q1", "newer", when=T2)
    merged = merge_records(disk, mine)
    assert merged.answers["q1"].raw == "newer" and merged.answers["q1"].tries == 2
    assert merged.answers["q2"].raw == "disk"


def test_merge_keeps_the_event_log_of_the_world_changed_last():
    older = _record().with_events([{"seq": 1, "action": "a"}], when=T1)
    newer = _record().with_events([{"seq": 1, "action": "b"}, {"seq": 2}], when=T2)
    assert merge_records(older, newer).events == newer.events
    assert merge_records(newer, older).events == newer.events


def test_reset_is_recorded_and_wins_over_older_answers(tmp_path):
    store = RecordStore(tmp_path)
    store.save(_record().with_answer("q1", "x", when=T1).with_events([{"seq": 1}], when=T1))
    stale_kernel = _record().with_answer("q2", "y", when=T1)
    store.save(_record().reset(when=T2))
    merged = store.save(stale_kernel)
    assert merged.answers == {} and merged.events == () and merged.resets == (T2,)
    after = store.save(_record().with_answer("q3", "z", when=T3))
    assert list(after.answers) == ["q3"] and after.resets == (T2,)


def _writer(folder: str, prefix: str, rounds: int) -> None:
    store = RecordStore(folder, timeout=60)
    for i in range(rounds):
        # Each save is a kernel's fresh view: only its own latest answer.
        record = Record(lab="demo", student="alice", fingerprint="abc123")
        store.save(record.with_answer(f"{prefix}-{i % 5}", f"{prefix}-value-{i}"))


def test_two_processes_writing_lose_nothing(tmp_path):
    context = multiprocessing.get_context("spawn")
    rounds = 40
    workers = [context.Process(target=_writer, args=(str(tmp_path), name, rounds)) for name in "ab"]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    record = RecordStore(tmp_path).load("demo")
    assert sorted(record.answers) == [f"{p}-{i}" for p in "ab" for i in range(5)]
    for prefix in "ab":
        for i in range(5):
            last = max(r for r in range(rounds) if r % 5 == i)
            assert record.answers[f"{prefix}-{i}"].raw == f"{prefix}-value-{last}"
    leftovers = [p.name for p in (tmp_path / "labkit-answers").iterdir() if p.suffix == ".tmp"]
    assert leftovers == []


def test_a_corrupt_file_is_reported_and_kept_aside(tmp_path):
    store = RecordStore(tmp_path)
    folder = tmp_path / "labkit-answers"
    folder.mkdir()
    (folder / "demo.json").write_text('{"schema": 1, "lab": "demo", truncated')
    with (
        pytest.warns(RecordWarning, match="could not be read"),
        pytest.raises(CorruptRecord) as caught,
    ):
        store.load("demo")
    aside = caught.value.moved_to
    assert aside.name.startswith("demo.json.corrupt-")
    assert aside.read_text() == '{"schema": 1, "lab": "demo", truncated'
    assert not (folder / "demo.json").exists()
    assert store.problems and aside.name in store.problems[0]


@pytest.mark.parametrize(
    "text",
    ['{"schema": 1, "lab": "demo", "x": ' + "9" * 5000 + "}", "[" * 100_000 + "]" * 100_000],
    ids=["integer-of-5000-digits", "nested-100000-deep"],
)
def test_json_python_cannot_hold_is_kept_aside_not_raised(tmp_path, text):
    """A JSON a grader's hostile class carries: labkit.start keeps it aside with a warning."""
    (tmp_path / "labkit-answers").mkdir()
    (tmp_path / "labkit-answers" / "demo.json").write_text(text)
    with pytest.warns(RecordWarning), pytest.raises(CorruptRecord):
        RecordStore(tmp_path).load("demo")
    assert not (tmp_path / "labkit-answers" / "demo.json").exists()


def test_saving_over_a_corrupt_file_keeps_it_aside(tmp_path):
    store = RecordStore(tmp_path)
    folder = tmp_path / "labkit-answers"
    folder.mkdir()
    (folder / "demo.json").write_text('{"not": "a record"}')
    with pytest.warns(RecordWarning):
        store.save(_record().with_answer("q1", "x"))
    kept = list(folder.glob("demo.json.corrupt-*"))
    assert len(kept) == 1 and kept[0].read_text() == '{"not": "a record"}'
    assert store.load("demo").answers["q1"].raw == "x"


def test_lab_ids_cannot_escape_the_folder(tmp_path):
    with pytest.raises(Exception, match="not a lab id"):
        RecordStore(tmp_path).path("../x")


def test_bundle_read_back_from_a_saved_notebook_equals_the_record_on_disk(tmp_path):
    store = RecordStore(tmp_path)
    record = _record().with_answer("q1", {"registry": "docker.io", "name": "<b>"}, when=T1)
    record = store.save(record.with_events([{"seq": 1, "time": T1}], when=T1))
    bundle = record_bundle(record)
    assert set(bundle) == {MIME_TYPE, "text/plain", "text/html"}
    assert "&lt;b&gt;" not in bundle["text/plain"] and "q1" in bundle["text/html"]
    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "cells": [
            {"cell_type": "markdown", "source": "# Lab"},
            {
                "cell_type": "code",
                "outputs": [
                    {"output_type": "stream", "name": "stdout", "text": "hi"},
                    {"output_type": "display_data", "data": bundle, "metadata": {}},
                ],
            },
        ],
    }
    saved = json.loads(json.dumps(notebook))
    assert records_from_notebook(saved) == [store.load("demo")]


def test_records_from_notebook_skips_what_is_not_a_record():
    notebook = {
        "cells": [
            {"cell_type": "code", "outputs": [{"data": {MIME_TYPE: {"schema": 99}}}]},
            {"cell_type": "code", "outputs": [{"data": {MIME_TYPE: "not json"}}]},
            "garbage",
        ]
    }
    assert records_from_notebook(notebook) == []


def test_another_students_record_is_kept_aside_never_merged(tmp_path):
    store = RecordStore(tmp_path)
    theirs = Record("demo", "ada", "f1").with_answer("q1", "their answer")
    store.save(theirs)
    mine = Record("demo", "bob", "f2").with_answer("q2", "my answer")
    with pytest.warns(RecordWarning):
        saved = store.save(mine)
    assert saved.student == "bob" and set(saved.answers) == {"q2"}
    assert store.load("demo").answers.keys() == {"q2"}
    kept = list((tmp_path / "labkit-answers").glob("demo.json.other-*"))
    assert len(kept) == 1 and "their answer" in kept[0].read_text()
    assert "student 'ada'" in store.problems[-1]


# -- in the browser (Pyodide): no fcntl.lockf, ``~`` in memory, one user name for all ---------


def test_records_are_saved_where_fcntl_has_no_lockf(tmp_path, monkeypatch):
    import fcntl

    monkeypatch.delattr(fcntl, "lockf")  # as in Pyodide
    store = RecordStore(tmp_path)
    saved = store.save(Record("00-start-here", "s1", "f").with_answer("first-pull", None))
    assert store.load("00-start-here") == saved
    assert not list((tmp_path / "labkit-answers").glob("*.lock"))


def test_records_are_saved_where_the_file_system_has_no_record_locks(tmp_path, monkeypatch):
    import errno
    import fcntl

    def no_locks(fd, operation):
        raise OSError(errno.ENOSYS, "Function not implemented")

    monkeypatch.setattr(fcntl, "lockf", no_locks)
    store = RecordStore(tmp_path)
    saved = store.save(Record("00-start-here", "s1", "f").with_answer("first-pull", None))
    assert store.load("00-start-here") == saved


def test_in_the_browser_the_course_id_is_kept_beside_the_notebook(tmp_path, monkeypatch):
    import sys

    from labkit.records import NO_COURSE_ID, remember_student, resolve_student

    monkeypatch.setattr(sys, "platform", "emscripten")
    for name in ("LABKIT_GRADING", "LABKIT_STUDENT", "JUPYTERHUB_USER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    assert resolve_student() == (NO_COURSE_ID, "no course id saved yet")
    with pytest.raises(LabkitError):
        remember_student(NO_COURSE_ID)
    path = remember_student("s7")
    assert path == tmp_path / "labkit-answers" / "course-id.txt"
    (tmp_path / "home" / ".labkit" / "student-id").unlink()  # a new kernel: ~ is new
    assert resolve_student() == ("s7", "labkit-answers/course-id.txt")


def test_the_downloaded_record_file_is_the_record(tmp_path):
    import base64
    import re

    from labkit.records import record_download_html, record_file_name

    record = Record("04-pushing", "s1", "f").with_answer("why-registry", "b")
    link = record_download_html(record)
    assert record_file_name(record) == "04-pushing.labkit.json"
    assert "download='04-pushing.labkit.json'" in link
    data = re.search(r"href='data:application/json;base64,([^']+)'", link).group(1)
    assert Record.from_json(json.loads(base64.b64decode(data))) == record
